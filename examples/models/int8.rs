// The MLPerf Tiny models as the benchmark ships them, fully quantised to int8, imported from their
// `.tflite` files (copies of `../shared/models/*/model_int8.tflite`) when the crate compiles.
// Their arithmetic is TensorFlow Lite Micro's reference kernels', bit for bit. Shared by
// `tests/int8.rs` and `benches/int8.rs`.

tfcore::graph! {
    /// Keyword spotting (DS-CNN), int8: quantised MFCC features in (scale 0.5847, zero point 83),
    /// the 12 words' probabilities out (scale 1/256, zero point -128).
    pub mod kws_int8 {
        let x = tf.placeholder(tf.int8, [1, 49, 10, 1]);
        let probs = tflite.load("tests/data/models/kws/model_int8.tflite", input_1 = x);
    }
}

tfcore::graph! {
    /// ResNet-8, int8: a quantised 32 × 32 RGB image in (scale 1, zero point -128), the 10 classes'
    /// probabilities out (scale 1/256, zero point -128).
    pub mod resnet8_int8 {
        let x = tf.placeholder(tf.int8, [1, 32, 32, 3]);
        let probs = tflite.load("tests/data/models/resnet8/model_int8.tflite", input_1_int8 = x);
    }
}

tfcore::graph! {
    /// The anomaly detector (a dense autoencoder), int8: 640 quantised log-mel values in and out.
    /// Its input is left to the placeholder the import makes, named after the model's (`input_1`).
    pub mod autoencoder_int8 {
        let decoded = tflite.load("tests/data/models/autoencoder/model_int8.tflite");
    }
}
