use tfcore::graph;

graph! {
    pub mod broken {
        let a = tf.constant(1.0)
        let b = a * 2;
    }
}

fn main() {}
