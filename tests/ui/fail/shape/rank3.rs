use tfcore::graph;

graph! {
    pub mod images {
        let batch = tf.placeholder(tf.float32, [None, 28, 28]);
    }
}

fn main() {}
