use tfcore::graph;

graph! {
    pub mod layer {
        let X = tf.placeholder(tf.float32, [None, 2]);
        let W = tf.Variable(tf.zeros([3, 4]));
        let h = tf.matmul(X, W);
    }
}

fn main() {}
