// The graph of `../shared/models/kws/README.md`, written from its table line for line, with the
// trained weights read from `tests/data/models/kws/weights.npz` (a copy of the model's) when the
// crate compiles. Shared by `examples/kws.rs` and `tests/mlperf.rs`.
tfcore::graph! {
    /// MLPerf Tiny's keyword spotting model (DS-CNN): 49 × 10 MFCC features in, the probabilities of
    /// 12 words out (Down, Go, Left, No, Off, On, Right, Stop, Up, Yes, Silence, Unknown).
    pub mod keyword_spotting {
        let x = tf.placeholder(tf.float32, [None, 49, 10, 1]);
        let w = np.load("tests/data/models/kws/weights.npz");
        let conv0_filter = w["conv0/filter"];
        let conv0_bias = w["conv0/bias"];
        let dw0_filter = w["dw0/filter"];
        let dw0_bias = w["dw0/bias"];
        let conv1_filter = w["conv1/filter"];
        let conv1_bias = w["conv1/bias"];
        let dw1_filter = w["dw1/filter"];
        let dw1_bias = w["dw1/bias"];
        let conv2_filter = w["conv2/filter"];
        let conv2_bias = w["conv2/bias"];
        let dw2_filter = w["dw2/filter"];
        let dw2_bias = w["dw2/bias"];
        let conv3_filter = w["conv3/filter"];
        let conv3_bias = w["conv3/bias"];
        let dw3_filter = w["dw3/filter"];
        let dw3_bias = w["dw3/bias"];
        let conv4_filter = w["conv4/filter"];
        let conv4_bias = w["conv4/bias"];
        let fc0_kernel = w["fc0/kernel"];
        let fc0_bias = w["fc0/bias"];
        let conv0 = tf.nn.relu(tf.nn.conv2d(x, conv0_filter, strides = [1, 2, 2, 1], padding = "SAME") + conv0_bias);
        let dw0 = tf.nn.relu(tf.nn.depthwise_conv2d(conv0, dw0_filter, strides = [1, 1, 1, 1], padding = "SAME") + dw0_bias);
        let conv1 = tf.nn.relu(tf.nn.conv2d(dw0, conv1_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv1_bias);
        let dw1 = tf.nn.relu(tf.nn.depthwise_conv2d(conv1, dw1_filter, strides = [1, 1, 1, 1], padding = "SAME") + dw1_bias);
        let conv2 = tf.nn.relu(tf.nn.conv2d(dw1, conv2_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv2_bias);
        let dw2 = tf.nn.relu(tf.nn.depthwise_conv2d(conv2, dw2_filter, strides = [1, 1, 1, 1], padding = "SAME") + dw2_bias);
        let conv3 = tf.nn.relu(tf.nn.conv2d(dw2, conv3_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv3_bias);
        let dw3 = tf.nn.relu(tf.nn.depthwise_conv2d(conv3, dw3_filter, strides = [1, 1, 1, 1], padding = "SAME") + dw3_bias);
        let conv4 = tf.nn.relu(tf.nn.conv2d(dw3, conv4_filter, strides = [1, 1, 1, 1], padding = "SAME") + conv4_bias);
        let pool0 = tf.nn.avg_pool(conv4, ksize = [1, 25, 5, 1], strides = [1, 25, 5, 1], padding = "VALID");
        let flat0 = tf.reshape(pool0, [-1, 64]);
        let fc0 = tf.matmul(flat0, fc0_kernel) + fc0_bias;
        let probs = tf.nn.softmax(fc0);
    }
}
