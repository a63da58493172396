// The digits CNN, shared by `examples/digits/main.rs` and `tests/digits_parity.rs`
// (`tools/tf_digits.py` builds the same graph in TensorFlow).
tfcore::graph! {
    /// A small convolutional network for scikit-learn's 8 × 8 handwritten digits: one 3 × 3
    /// convolution of 16 channels with ReLU, 2 × 2 max pooling, a dense layer of 32 with ReLU, ten
    /// logits; trained with Adam on the mean softmax cross entropy.
    pub mod digits {
        const CLASSES: usize = 10;
        const LEARNING_RATE: f32 = 0.01;

        // Glorot-uniform initial weights: limits sqrt(6 / (fan_in + fan_out)).
        let K1 = tf.Variable(tf.random_uniform([3, 3, 1, 16], -0.198, 0.198));
        let c1 = tf.Variable(tf.zeros([16]));
        let W1 = tf.Variable(tf.random_uniform([256, 32], -0.144, 0.144));
        let b1 = tf.Variable(tf.zeros([32]));
        let W2 = tf.Variable(tf.random_uniform([32, CLASSES], -0.378, 0.378));
        let b2 = tf.Variable(tf.zeros([CLASSES]));

        // A batch of images, pixels scaled to [0, 1], and their digits.
        let X = tf.placeholder(tf.float32, [None, 8, 8, 1]);
        let Y = tf.placeholder(tf.uint8, [None]);

        let conv = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(X, K1, strides = [1, 1, 1, 1], padding = "SAME"), c1));
        let pooled = tf.nn.max_pool(conv, ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "SAME");
        let flat = tf.reshape(pooled, [-1, 256]);
        let hidden = tf.nn.relu(tf.matmul(flat, W1) + b1);
        let logits = tf.matmul(hidden, W2) + b2;
        let loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels = tf.one_hot(Y, CLASSES), logits = logits));
        let train_step = tf.train.AdamOptimizer(LEARNING_RATE).minimize(loss);
    }
}
