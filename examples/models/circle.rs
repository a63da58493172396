// The seed's circle classifier, at the learning rate of TensorFlow's reference run for 64 points.
// Shared by `firmware/src/demo.rs` (whose trained weights, `firmware/src/trained.rs`, are its
// `Variables`), `examples/onnx_export.rs` and `interop/tests/onnx_engine.rs`.
tfcore::graph! {
    /// The seed's circle classifier, at the learning rate of TensorFlow's reference run for 64
    /// points.
    pub mod circle {
        const INPUT_LAYER_SIZE: usize = 2;
        const HIDDEN_LAYER_SIZE: usize = 3;
        const OUTPUT_LAYER_SIZE: usize = 2;
        const LEARNING_RATE: f32 = 0.05;

        let W1 = tf.Variable(tf.random_uniform([INPUT_LAYER_SIZE, HIDDEN_LAYER_SIZE], -1, 1));
        let b1 = tf.Variable(tf.random_uniform([HIDDEN_LAYER_SIZE], -1, 1));
        let W2 = tf.Variable(tf.random_uniform([HIDDEN_LAYER_SIZE, OUTPUT_LAYER_SIZE], -1, 1));
        let b2 = tf.Variable(tf.random_uniform([OUTPUT_LAYER_SIZE], -1, 1));
        let X = tf.placeholder(tf.float32, [None, INPUT_LAYER_SIZE]);
        let Y = tf.placeholder(tf.uint8);
        let onehot_output = tf.one_hot(Y, OUTPUT_LAYER_SIZE);
        let hidden_layer = tf.add(tf.matmul(X, W1), b1);
        let activated_hidden_layer = tf.sigmoid(hidden_layer);
        let output_layer = tf.nn.softmax(tf.add(tf.matmul(activated_hidden_layer, W2), b2));
        let loss = -tf.reduce_sum(onehot_output * tf.log(output_layer));
        let train_step = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss);
    }
}
