//! The MLPerf Tiny float models as the benchmark publishes them (`model.tflite`), imported with
//! `tflite.load`: on each model's eight inputs, every output within 1e-4 of TensorFlow's
//! (`expected.npy`), relative to the largest output, as the graphs written out and the ONNX
//! imports are (`tests/mlperf.rs`).

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

tfcore::graph! {
    /// Keyword spotting, float.
    pub mod kws {
        let x = tf.placeholder(tf.float32, [1, 49, 10, 1]);
        let probs = tflite.load("tests/data/models/kws/model.tflite", input_1 = x);
    }
}

tfcore::graph! {
    /// ResNet-8, float.
    pub mod resnet8 {
        let x = tf.placeholder(tf.float32, [1, 32, 32, 3]);
        let probs = tflite.load("tests/data/models/resnet8/model.tflite", input_1 = x);
    }
}

tfcore::graph! {
    /// The anomaly detector, float.
    pub mod autoencoder {
        let x = tf.placeholder(tf.float32, [1, 640]);
        let decoded = tflite.load("tests/data/models/autoencoder/model.tflite", input_1 = x);
    }
}

fn floats(bytes: &[u8], what: &str) -> Vec<f32> {
    Npy::parse(bytes).and_then(|a| a.to_vec::<f32>()).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Checks each of the eight outputs `run` gives against `expected` (relative to the largest).
fn check(model: &str, inputs: &[u8], expected: &[u8], mut run: impl FnMut(&[f32]) -> Vec<f32>) {
    let inputs = floats(inputs, "inputs.npy");
    let expected = floats(expected, "expected.npy");
    let (size, outputs) = (inputs.len() / 8, expected.len() / 8);
    let mut worst = 0.0f32;
    for n in 0..8 {
        let got = run(&inputs[n * size..(n + 1) * size]);
        let want = &expected[n * outputs..(n + 1) * outputs];
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let d = got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max) / scale;
        assert!(d <= 1e-4, "{model}, input {n}: {d:e} from TensorFlow's output (relative to its largest)");
        worst = worst.max(d);
    }
    println!("{model}: {worst:e}");
}

#[test]
fn keyword_spotting_tflite_matches_tensorflow() {
    let mut sess = kws::Session::new();
    check(
        "keyword spotting",
        include_bytes!("data/models/kws/inputs.npy"),
        include_bytes!("data/models/kws/expected.npy"),
        |x| {
            let x: Array4<f32, 1, 49, 10, 1> = Array4::from_slice(x).expect("[1, 49, 10, 1]");
            sess.run(kws::probs { x: &x }).iter().copied().collect()
        },
    );
}

#[test]
fn resnet8_tflite_matches_tensorflow() {
    let mut sess = resnet8::Session::new();
    check(
        "ResNet-8",
        include_bytes!("data/models/resnet8/inputs.npy"),
        include_bytes!("data/models/resnet8/expected.npy"),
        |x| {
            let x: Array4<f32, 1, 32, 32, 3> = Array4::from_slice(x).expect("[1, 32, 32, 3]");
            sess.run(resnet8::probs { x: &x }).iter().copied().collect()
        },
    );
}

#[test]
fn autoencoder_tflite_matches_tensorflow() {
    let mut sess = autoencoder::Session::new();
    check(
        "autoencoder",
        include_bytes!("data/models/autoencoder/inputs.npy"),
        include_bytes!("data/models/autoencoder/expected.npy"),
        |x| sess.run(autoencoder::decoded { x: &SMatrix::<f32, 1, 640>::from_row_slice(x) }).iter().copied().collect(),
    );
}
