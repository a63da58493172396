use tfcore::graph;

graph! {
    pub mod twice {
        let a = tf.constant(1.0);
        let a = tf.constant(2.0);
    }
}

fn main() {}
