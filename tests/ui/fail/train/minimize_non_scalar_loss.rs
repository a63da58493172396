use tfcore::graph;

graph! {
    pub mod circle {
        let W = tf.Variable(tf.ones([2, 2]));
        let X = tf.placeholder(tf.float32, [None, 2]);
        let output_layer = tf.nn.softmax(tf.matmul(X, W));
        let train_step = tf.train.GradientDescentOptimizer(0.1).minimize(output_layer);
    }
}

fn main() {}
