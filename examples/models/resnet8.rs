// The graph of `../shared/models/resnet8/README.md`, written from its table line for line, with the
// trained weights read from `tests/data/models/resnet8/weights.npz` (a copy of the model's) when the
// crate compiles. Shared by `examples/resnet8.rs` and `tests/mlperf.rs`.
tfcore::graph! {
    /// MLPerf Tiny's image classifier (ResNet-8, CIFAR-10): a 32 × 32 RGB image in, the
    /// probabilities of 10 classes out (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck).
    pub mod resnet8 {
        let x = tf.placeholder(tf.float32, [None, 32, 32, 3]);
        let w = np.load("tests/data/models/resnet8/weights.npz");
        let conv0_filter = w["conv0/filter"];
        let conv0_bias = w["conv0/bias"];
        let conv1_filter = w["conv1/filter"];
        let conv1_bias = w["conv1/bias"];
        let conv2_filter = w["conv2/filter"];
        let conv2_bias = w["conv2/bias"];
        let conv3_filter = w["conv3/filter"];
        let conv3_bias = w["conv3/bias"];
        let conv4_filter = w["conv4/filter"];
        let conv4_bias = w["conv4/bias"];
        let conv5_filter = w["conv5/filter"];
        let conv5_bias = w["conv5/bias"];
        let conv6_filter = w["conv6/filter"];
        let conv6_bias = w["conv6/bias"];
        let conv7_filter = w["conv7/filter"];
        let conv7_bias = w["conv7/bias"];
        let conv8_filter = w["conv8/filter"];
        let conv8_bias = w["conv8/bias"];
        let fc0_kernel = w["fc0/kernel"];
        let fc0_bias = w["fc0/bias"];
        let conv0 = tf.nn.relu(tf.nn.conv2d(x, conv0_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv0_bias);
        let conv1 = tf.nn.relu(tf.nn.conv2d(conv0, conv1_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv1_bias);
        let conv2 = tf.nn.conv2d(conv1, conv2_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv2_bias;
        let add0 = tf.nn.relu(conv0 + conv2);
        let conv3 = tf.nn.relu(tf.nn.conv2d(add0, conv3_filter, strides = [1, 2, 2, 1], padding = "SAME") + conv3_bias);
        let conv4 = tf.nn.conv2d(conv3, conv4_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv4_bias;
        let conv5 = tf.nn.conv2d(add0, conv5_filter, strides = [1, 2, 2, 1], padding = "SAME") + conv5_bias;
        let add1 = tf.nn.relu(conv5 + conv4);
        let conv6 = tf.nn.relu(tf.nn.conv2d(add1, conv6_filter, strides = [1, 2, 2, 1], padding = "SAME") + conv6_bias);
        let conv7 = tf.nn.conv2d(conv6, conv7_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv7_bias;
        let conv8 = tf.nn.conv2d(add1, conv8_filter, strides = [1, 2, 2, 1], padding = "SAME") + conv8_bias;
        let add2 = tf.nn.relu(conv8 + conv7);
        let pool0 = tf.nn.avg_pool(add2, ksize = [1, 8, 8, 1], strides = [1, 8, 8, 1], padding = "VALID");
        let flat0 = tf.reshape(pool0, [-1, 64]);
        let fc0 = tf.matmul(flat0, fc0_kernel) + fc0_bias;
        let probs = tf.nn.softmax(fc0);
    }
}
