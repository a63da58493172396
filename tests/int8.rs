//! The MLPerf Tiny int8 models, as the benchmark publishes them, imported with `tflite.load`: on
//! each model's eight quantised inputs, every output equals TensorFlow Lite Micro's
//! (`expected_int8.npy`, made by its reference kernels), with no difference at all.

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

fn int8s(bytes: &[u8], what: &str) -> (Vec<i8>, Vec<usize>) {
    let npy = Npy::parse(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    (npy.to_vec::<i8>().unwrap_or_else(|e| panic!("{what}: {e}")), npy.shape().to_vec())
}

tfcore::graph! {
    /// Keyword spotting (DS-CNN), int8.
    pub mod kws {
        let x = tf.placeholder(tf.int8, [1, 49, 10, 1]);
        let probs = tflite.load("tests/data/models/kws/model_int8.tflite", input_1 = x);
    }
}

tfcore::graph! {
    /// ResNet-8, int8.
    pub mod resnet8 {
        let x = tf.placeholder(tf.int8, [1, 32, 32, 3]);
        let probs = tflite.load("tests/data/models/resnet8/model_int8.tflite", input_1_int8 = x);
    }
}

tfcore::graph! {
    /// The anomaly detector (a dense autoencoder), int8, its input left to a placeholder the
    /// import makes (`input_1`).
    pub mod autoencoder {
        let decoded = tflite.load("tests/data/models/autoencoder/model_int8.tflite");
    }
}

/// Compares `got(k)`, the model's output on input `k`, with TFLite Micro's.
fn check(model: &str, inputs: &[u8], expected: &[u8], got: &mut dyn FnMut(&[i8]) -> Vec<i8>) {
    let (inputs, shape) = int8s(inputs, "inputs_int8.npy");
    let (expected, out_shape) = int8s(expected, "expected_int8.npy");
    let (n, size, out) = (shape[0], inputs.len() / shape[0], expected.len() / out_shape[0]);
    let mut differences = 0;
    for k in 0..n {
        let got = got(&inputs[k * size..(k + 1) * size]);
        let want = &expected[k * out..(k + 1) * out];
        assert_eq!(got.len(), want.len(), "{model}");
        differences += got.iter().zip(want).filter(|(g, w)| g != w).count();
        if got != want || k == 0 {
            println!(
                "{model}, input {k}: {:?}\n  TFLite Micro: {:?}",
                &got[..got.len().min(12)],
                &want[..want.len().min(12)]
            );
        }
    }
    assert_eq!(differences, 0, "{model}: {differences} of {} outputs differ from TFLite Micro's", expected.len());
}

/// A row's elements, row-major, from nalgebra's column-major `SMatrix`.
fn row<const C: usize>(m: &SMatrix<i8, 1, C>) -> Vec<i8> {
    m.iter().copied().collect()
}

#[test]
fn keyword_spotting_int8_is_tflite_micro_bit_for_bit() {
    let mut sess = kws::Session::new();
    check(
        "keyword spotting",
        include_bytes!("data/models/kws/inputs_int8.npy"),
        include_bytes!("data/models/kws/expected_int8.npy"),
        &mut |x| {
            let x: Array4<i8, 1, 49, 10, 1> = Array4::from_slice(x).expect("[1, 49, 10, 1]");
            row(&sess.run(kws::probs { x: &x }))
        },
    );
}

#[test]
fn resnet8_int8_is_tflite_micro_bit_for_bit() {
    let mut sess = resnet8::Session::new();
    check(
        "ResNet-8",
        include_bytes!("data/models/resnet8/inputs_int8.npy"),
        include_bytes!("data/models/resnet8/expected_int8.npy"),
        &mut |x| {
            let x: Array4<i8, 1, 32, 32, 3> = Array4::from_slice(x).expect("[1, 32, 32, 3]");
            row(&sess.run(resnet8::probs { x: &x }))
        },
    );
}

#[test]
fn autoencoder_int8_is_tflite_micro_bit_for_bit() {
    let mut sess = autoencoder::Session::new();
    check(
        "autoencoder",
        include_bytes!("data/models/autoencoder/inputs_int8.npy"),
        include_bytes!("data/models/autoencoder/expected_int8.npy"),
        &mut |x| {
            let x = SMatrix::<i8, 1, 640>::from_row_slice(x);
            row(&sess.run(autoencoder::decoded { input_1: &x }))
        },
    );
}
