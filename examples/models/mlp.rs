// A 784-128-10 multilayer perceptron (ReLU, softmax, mean cross entropy) trained by Adam: the
// graph `benches/mlp.rs` times and `tfmacro`'s expansion tests read.
tfcore::graph! {
    pub mod mlp {
        const LEARNING_RATE: f32 = 0.001;

        // Glorot-uniform initial weights: limits sqrt(6 / (fan_in + fan_out)).
        let W1 = tf.Variable(tf.random_uniform([784, 128], -0.0815, 0.0815));
        let b1 = tf.Variable(tf.zeros([128]));
        let W2 = tf.Variable(tf.random_uniform([128, 10], -0.2085, 0.2085));
        let b2 = tf.Variable(tf.zeros([10]));
        let X = tf.placeholder(tf.float32, [None, 784]);
        let Y = tf.placeholder(tf.float32, [None, 10]);
        let hidden = tf.nn.relu(tf.matmul(X, W1) + b1);
        let logits = tf.matmul(hidden, W2) + b2;
        let loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels = Y, logits = logits));
        let train_step = tf.train.AdamOptimizer(LEARNING_RATE).minimize(loss);
    }
}
