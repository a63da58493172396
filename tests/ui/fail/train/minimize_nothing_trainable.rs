use tfcore::graph;

graph! {
    pub mod fixed {
        let w = tf.Variable(tf.ones([2]), trainable = false);
        let X = tf.placeholder(tf.float32, [None, 2]);
        let loss = tf.reduce_sum(X * w);
        let train_step = tf.train.AdamOptimizer(0.01).minimize(loss);
    }
}

fn main() {}
