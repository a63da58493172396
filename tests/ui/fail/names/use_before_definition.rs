use tfcore::graph;

graph! {
    pub mod order {
        let y = x * 2;
        let x = tf.constant(1.0);
    }
}

fn main() {}
