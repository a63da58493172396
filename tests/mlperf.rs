//! The three MLPerf Tiny models of `examples/models/`, with their trained weights read from
//! `tests/data/models/*/weights.npz` at compile time, and the same models imported from their ONNX
//! files (`tests/data/models/*/model.onnx`, which tf2onnx made from the published `.tflite`) and
//! from the published `.tflite` files themselves (`tflite.load`), against TensorFlow's outputs (`expected.npy`) on all eight inputs (`inputs.npy`), copied from
//! `../shared/models/`: every output within 1e-4 of TensorFlow's, relative to the largest output
//! of its input.

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

include!("../examples/models/kws.rs");
include!("../examples/models/resnet8.rs");
include!("../examples/models/autoencoder.rs");

tfcore::graph! {
    /// Keyword spotting, from ONNX: its weights are int8 with float scales (`DequantizeLinear`),
    /// folded to float32 when the graph compiles.
    /// Its input, not fed, is the module's placeholder `input_1` ([None, 49, 10, 1]), named and
    /// shaped as the model declares it.
    pub mod kws_onnx {
        let probs = onnx.load("tests/data/models/kws/model.onnx");
    }
}

tfcore::graph! {
    /// ResNet-8, from ONNX: NCHW convolutions run as NHWC, with no transpose.
    pub mod resnet8_onnx {
        let image = tf.placeholder(tf.float32, [None, 32, 32, 3]);
        let probs = onnx.load("tests/data/models/resnet8/model.onnx", input_1 = image)["Identity"];
    }
}

tfcore::graph! {
    /// The anomaly-detection autoencoder, from ONNX, with its error computed beside it.
    pub mod autoencoder_onnx {
        let x = tf.placeholder(tf.float32, [None, 640]);
        let decoded = onnx.load("tests/data/models/autoencoder/model.onnx", input_1 = x);
        let error = tf.reduce_mean(tf.square(decoded - x), axis = 1);
    }
}

fn floats(bytes: &[u8], what: &str) -> Vec<f32> {
    Npy::parse(bytes).and_then(|a| a.to_vec::<f32>()).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Checks each of the eight outputs `run` gives against `expected`, and returns the largest
/// relative difference.
fn check(model: &str, inputs: &[u8], expected: &[u8], mut run: impl FnMut(&[f32]) -> Vec<f32>) -> f32 {
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
    worst
}

tfcore::graph! {
    /// Keyword spotting, from the published float `.tflite` (int8 weights of float layers,
    /// dequantised when the graph compiles).
    pub mod kws_tflite {
        let x = tf.placeholder(tf.float32, [1, 49, 10, 1]);
        let probs = tflite.load("tests/data/models/kws/model.tflite", input_1 = x);
    }
}

tfcore::graph! {
    /// ResNet-8, from the published float `.tflite`.
    pub mod resnet8_tflite {
        let x = tf.placeholder(tf.float32, [1, 32, 32, 3]);
        let probs = tflite.load("tests/data/models/resnet8/model.tflite", input_1 = x);
    }
}

tfcore::graph! {
    /// The anomaly detector, from the published float `.tflite`.
    pub mod autoencoder_tflite {
        let x = tf.placeholder(tf.float32, [1, 640]);
        let decoded = tflite.load("tests/data/models/autoencoder/model.tflite", input_1 = x);
    }
}

// Each model three times: written by hand, imported from its `model.onnx` and from its
// `model.tflite`.

#[test]
fn keyword_spotting_matches_tensorflow() {
    let (inputs, expected) =
        (include_bytes!("data/models/kws/inputs.npy"), include_bytes!("data/models/kws/expected.npy"));
    let image = |x: &[f32]| Array4::<f32, 1, 49, 10, 1>::from_slice(x).expect("[1, 49, 10, 1]");
    let mut sess = keyword_spotting::Session::new();
    check("kws", inputs, expected, |x| sess.run(keyword_spotting::probs { x: &image(x) }).iter().copied().collect());
    let mut sess = kws_onnx::Session::new();
    check("kws from ONNX", inputs, expected, |x| {
        sess.run(kws_onnx::probs { input_1: &image(x) }).iter().copied().collect()
    });
    let mut sess = kws_tflite::Session::new();
    check("kws from TFLite", inputs, expected, |x| {
        sess.run(kws_tflite::probs { x: &image(x) }).iter().copied().collect()
    });
}

#[test]
fn resnet8_matches_tensorflow() {
    let (inputs, expected) =
        (include_bytes!("data/models/resnet8/inputs.npy"), include_bytes!("data/models/resnet8/expected.npy"));
    let image = |x: &[f32]| Array4::<f32, 1, 32, 32, 3>::from_slice(x).expect("[1, 32, 32, 3]");
    let mut sess = resnet8::Session::new();
    check("resnet8", inputs, expected, |x| sess.run(resnet8::probs { x: &image(x) }).iter().copied().collect());
    let mut sess = resnet8_onnx::Session::new();
    check("resnet8 from ONNX", inputs, expected, |x| {
        sess.run(resnet8_onnx::probs { image: &image(x) }).iter().copied().collect()
    });
    let mut sess = resnet8_tflite::Session::new();
    check("resnet8 from TFLite", inputs, expected, |x| {
        sess.run(resnet8_tflite::probs { x: &image(x) }).iter().copied().collect()
    });
}

#[test]
fn autoencoder_matches_tensorflow() {
    let (inputs, expected) =
        (include_bytes!("data/models/autoencoder/inputs.npy"), include_bytes!("data/models/autoencoder/expected.npy"));
    let row = SMatrix::<f32, 1, 640>::from_row_slice;
    let mut sess = autoencoder::Session::new();
    check("autoencoder", inputs, expected, |x| sess.run(autoencoder::fc9 { x: &row(x) }).iter().copied().collect());
    let mut sess = autoencoder_onnx::Session::new();
    check("autoencoder from ONNX", inputs, expected, |x| {
        sess.run(autoencoder_onnx::decoded { x: &row(x) }).iter().copied().collect()
    });
    let mut sess = autoencoder_tflite::Session::new();
    check("autoencoder from TFLite", inputs, expected, |x| {
        sess.run(autoencoder_tflite::decoded { x: &row(x) }).iter().copied().collect()
    });
}

/// Whether two outputs are the same floats, bit for bit.
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
}

/// The ONNX and TFLite imports compute what the hand-written graphs compute, bit for bit: the
/// same ops in the same order (the ONNX import's NCHW bookkeeping and the TFLite import's
/// rearranged filters add no arithmetic).
#[test]
fn imports_give_the_hand_written_graphs_bits() {
    let kws_in = floats(include_bytes!("data/models/kws/inputs.npy"), "kws");
    let resnet_in = floats(include_bytes!("data/models/resnet8/inputs.npy"), "resnet8");
    let auto_in = floats(include_bytes!("data/models/autoencoder/inputs.npy"), "autoencoder");
    let (mut kws, mut kws_imported) = (keyword_spotting::Session::new(), kws_onnx::Session::new());
    let (mut resnet, mut resnet_imported) = (resnet8::Session::new(), resnet8_onnx::Session::new());
    let (mut auto, mut auto_imported) = (autoencoder::Session::new(), autoencoder_onnx::Session::new());
    let (mut kws_tflite, mut resnet_tflite) = (kws_tflite::Session::new(), resnet8_tflite::Session::new());
    let mut auto_tflite = autoencoder_tflite::Session::new();
    for n in 0..8 {
        let x: Array4<f32, 1, 49, 10, 1> = Array4::from_slice(&kws_in[n * 490..(n + 1) * 490]).unwrap();
        let a = kws.run(keyword_spotting::probs { x: &x });
        let b = kws_imported.run(kws_onnx::probs { input_1: &x });
        assert!(same_bits(a.as_slice(), b.as_slice()), "kws, input {n}");
        let b = kws_tflite.run(kws_tflite::probs { x: &x });
        assert!(same_bits(a.as_slice(), b.as_slice()), "kws from TFLite, input {n}");
        let x: Array4<f32, 1, 32, 32, 3> = Array4::from_slice(&resnet_in[n * 3072..(n + 1) * 3072]).unwrap();
        let a = resnet.run(resnet8::probs { x: &x });
        let b = resnet_imported.run(resnet8_onnx::probs { image: &x });
        assert!(same_bits(a.as_slice(), b.as_slice()), "resnet8, input {n}");
        let b = resnet_tflite.run(resnet8_tflite::probs { x: &x });
        assert!(same_bits(a.as_slice(), b.as_slice()), "resnet8 from TFLite, input {n}");
        let x = SMatrix::<f32, 1, 640>::from_row_slice(&auto_in[n * 640..(n + 1) * 640]);
        let a = auto.run(autoencoder::fc9 { x: &x });
        let b = auto_imported.run(autoencoder_onnx::decoded { x: &x });
        assert!(same_bits(a.as_slice(), b.as_slice()), "autoencoder, input {n}");
        let b = auto_tflite.run(autoencoder_tflite::decoded { x: &x });
        assert!(same_bits(a.as_slice(), b.as_slice()), "autoencoder from TFLite, input {n}");
    }
}

/// `run_into` writes what `run` returns over the caller's value: the anomaly detector's last
/// layer element by element, ResNet-8's softmax (computed whole) by assignment.
#[test]
fn run_into_writes_what_run_returns() {
    let auto_in = floats(include_bytes!("data/models/autoencoder/inputs.npy"), "autoencoder");
    let resnet_in = floats(include_bytes!("data/models/resnet8/inputs.npy"), "resnet8");
    let (mut auto, mut resnet) = (autoencoder::Session::new(), resnet8::Session::new());
    let mut y = SMatrix::<f32, 1, 640>::from_element(f32::NAN);
    let mut probs = SMatrix::<f32, 1, 10>::from_element(f32::NAN);
    for n in 0..2 {
        let x = SMatrix::<f32, 1, 640>::from_row_slice(&auto_in[n * 640..(n + 1) * 640]);
        auto.run_into(autoencoder::fc9 { x: &x }, &mut y);
        assert!(same_bits(y.as_slice(), auto.run(autoencoder::fc9 { x: &x }).as_slice()), "autoencoder, input {n}");
        let x: Array4<f32, 1, 32, 32, 3> = Array4::from_slice(&resnet_in[n * 3072..(n + 1) * 3072]).unwrap();
        resnet.run_into(resnet8::probs { x: &x }, &mut probs);
        assert!(same_bits(probs.as_slice(), resnet.run(resnet8::probs { x: &x }).as_slice()), "resnet8, input {n}");
    }
}
