use tfcore::graph;

graph! {
    pub mod labels {
        let Y = tf.placeholder(tf.float32, [None]);
        let onehot = tf.one_hot(Y, 2);
    }
}

fn main() {}
