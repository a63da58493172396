// The graph of `../shared/models/autoencoder/README.md`, written from its table line for line, with the
// trained weights read from `tests/data/models/autoencoder/weights.npz` (a copy of the model's) when the
// crate compiles. Shared by `examples/autoencoder.rs` and `tests/mlperf.rs`.
tfcore::graph! {
    /// MLPerf Tiny's anomaly detector (a dense autoencoder): 640 log-mel values in (five frames of
    /// 128), their reconstruction out; the anomaly score is the mean squared error between the two.
    pub mod autoencoder {
        let x = tf.placeholder(tf.float32, [None, 640]);
        let fc0_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc0/kernel"];
        let fc0_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc0/bias"];
        let fc1_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc1/kernel"];
        let fc1_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc1/bias"];
        let fc2_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc2/kernel"];
        let fc2_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc2/bias"];
        let fc3_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc3/kernel"];
        let fc3_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc3/bias"];
        let fc4_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc4/kernel"];
        let fc4_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc4/bias"];
        let fc5_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc5/kernel"];
        let fc5_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc5/bias"];
        let fc6_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc6/kernel"];
        let fc6_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc6/bias"];
        let fc7_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc7/kernel"];
        let fc7_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc7/bias"];
        let fc8_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc8/kernel"];
        let fc8_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc8/bias"];
        let fc9_kernel = np.load("tests/data/models/autoencoder/weights.npz")["fc9/kernel"];
        let fc9_bias = np.load("tests/data/models/autoencoder/weights.npz")["fc9/bias"];
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
