// The graph of `../shared/models/resnet8/README.md`, written from its table line for line, with the
// trained weights read from `tests/data/models/resnet8/weights.npz` (a copy of the model's) when the
// crate compiles. Shared by `examples/resnet8.rs` and `tests/mlperf.rs`.
tfcore::graph! {
    /// MLPerf Tiny's image classifier (ResNet-8, CIFAR-10): a 32 × 32 RGB image in, the
    /// probabilities of 10 classes out (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck).
    pub mod resnet8 {
        let x = tf.placeholder(tf.float32, [None, 32, 32, 3]);
        let conv0_filter = np.load("tests/data/models/resnet8/weights.npz")["conv0/filter"];
        let conv0_bias = np.load("tests/data/models/resnet8/weights.npz")["conv0/bias"];
        let conv1_filter = np.load("tests/data/models/resnet8/weights.npz")["conv1/filter"];
        let conv1_bias = np.load("tests/data/models/resnet8/weights.npz")["conv1/bias"];
        let conv2_filter = np.load("tests/data/models/resnet8/weights.npz")["conv2/filter"];
        let conv2_bias = np.load("tests/data/models/resnet8/weights.npz")["conv2/bias"];
        let conv3_filter = np.load("tests/data/models/resnet8/weights.npz")["conv3/filter"];
        let conv3_bias = np.load("tests/data/models/resnet8/weights.npz")["conv3/bias"];
        let conv4_filter = np.load("tests/data/models/resnet8/weights.npz")["conv4/filter"];
        let conv4_bias = np.load("tests/data/models/resnet8/weights.npz")["conv4/bias"];
        let conv5_filter = np.load("tests/data/models/resnet8/weights.npz")["conv5/filter"];
        let conv5_bias = np.load("tests/data/models/resnet8/weights.npz")["conv5/bias"];
        let conv6_filter = np.load("tests/data/models/resnet8/weights.npz")["conv6/filter"];
        let conv6_bias = np.load("tests/data/models/resnet8/weights.npz")["conv6/bias"];
        let conv7_filter = np.load("tests/data/models/resnet8/weights.npz")["conv7/filter"];
        let conv7_bias = np.load("tests/data/models/resnet8/weights.npz")["conv7/bias"];
        let conv8_filter = np.load("tests/data/models/resnet8/weights.npz")["conv8/filter"];
        let conv8_bias = np.load("tests/data/models/resnet8/weights.npz")["conv8/bias"];
        let fc0_kernel = np.load("tests/data/models/resnet8/weights.npz")["fc0/kernel"];
        let fc0_bias = np.load("tests/data/models/resnet8/weights.npz")["fc0/bias"];
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
