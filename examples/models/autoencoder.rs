// The graph of `../shared/models/autoencoder/README.md`, written from its table line for line, with the
// trained weights read from `tests/data/models/autoencoder/weights.npz` (a copy of the model's) when the
// crate compiles. Shared by `examples/autoencoder.rs` and `tests/mlperf.rs`.
tfcore::graph! {
    /// MLPerf Tiny's anomaly detector (a dense autoencoder): 640 log-mel values in (five frames of
    /// 128), their reconstruction out; the anomaly score is the mean squared error between the two.
    pub mod autoencoder {
        let x = tf.placeholder(tf.float32, [None, 640]);
        let w = np.load("tests/data/models/autoencoder/weights.npz");
        let fc0_kernel = w["fc0/kernel"];
        let fc0_bias = w["fc0/bias"];
        let fc1_kernel = w["fc1/kernel"];
        let fc1_bias = w["fc1/bias"];
        let fc2_kernel = w["fc2/kernel"];
        let fc2_bias = w["fc2/bias"];
        let fc3_kernel = w["fc3/kernel"];
        let fc3_bias = w["fc3/bias"];
        let fc4_kernel = w["fc4/kernel"];
        let fc4_bias = w["fc4/bias"];
        let fc5_kernel = w["fc5/kernel"];
        let fc5_bias = w["fc5/bias"];
        let fc6_kernel = w["fc6/kernel"];
        let fc6_bias = w["fc6/bias"];
        let fc7_kernel = w["fc7/kernel"];
        let fc7_bias = w["fc7/bias"];
        let fc8_kernel = w["fc8/kernel"];
        let fc8_bias = w["fc8/bias"];
        let fc9_kernel = w["fc9/kernel"];
        let fc9_bias = w["fc9/bias"];
        let fc0 = tf.nn.relu(tf.matmul(x, fc0_kernel) + fc0_bias);
        let fc1 = tf.nn.relu(tf.matmul(fc0, fc1_kernel) + fc1_bias);
        let fc2 = tf.nn.relu(tf.matmul(fc1, fc2_kernel) + fc2_bias);
        let fc3 = tf.nn.relu(tf.matmul(fc2, fc3_kernel) + fc3_bias);
        let fc4 = tf.nn.relu(tf.matmul(fc3, fc4_kernel) + fc4_bias);
        let fc5 = tf.nn.relu(tf.matmul(fc4, fc5_kernel) + fc5_bias);
        let fc6 = tf.nn.relu(tf.matmul(fc5, fc6_kernel) + fc6_bias);
        let fc7 = tf.nn.relu(tf.matmul(fc6, fc7_kernel) + fc7_bias);
        let fc8 = tf.nn.relu(tf.matmul(fc7, fc8_kernel) + fc8_bias);
        let fc9 = tf.matmul(fc8, fc9_kernel) + fc9_bias;
    }
}
