use tfcore::graph;

graph! {
    pub mod ops {
        let x = tf.constant([1.0, 2.0]);
        let y = tf.sigmod(x);
    }
}

fn main() {}
