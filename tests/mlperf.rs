//! The three MLPerf Tiny models of `examples/models/`, with their trained weights read from
//! `tests/data/models/*/weights.npz` at compile time, against TensorFlow's outputs
//! (`expected.npy`) on all eight inputs (`inputs.npy`), copied from `../shared/models/`: every
//! output within 1e-4 of TensorFlow's, relative to the largest output of its input.

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

include!("../examples/models/kws.rs");
include!("../examples/models/resnet8.rs");
include!("../examples/models/autoencoder.rs");

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

#[test]
fn keyword_spotting_matches_tensorflow() {
    let mut sess = keyword_spotting::Session::new();
    check("kws", include_bytes!("data/models/kws/inputs.npy"), include_bytes!("data/models/kws/expected.npy"), |x| {
        let x: Array4<f32, 1, 49, 10, 1> = Array4::from_slice(x).expect("[1, 49, 10, 1]");
        sess.run(keyword_spotting::probs { x: &x }).iter().copied().collect()
    });
}

#[test]
fn resnet8_matches_tensorflow() {
    let mut sess = resnet8::Session::new();
    check(
        "resnet8",
        include_bytes!("data/models/resnet8/inputs.npy"),
        include_bytes!("data/models/resnet8/expected.npy"),
        |x| {
            let x: Array4<f32, 1, 32, 32, 3> = Array4::from_slice(x).expect("[1, 32, 32, 3]");
            sess.run(resnet8::probs { x: &x }).iter().copied().collect()
        },
    );
}

#[test]
fn autoencoder_matches_tensorflow() {
    let mut sess = autoencoder::Session::new();
    check(
        "autoencoder",
        include_bytes!("data/models/autoencoder/inputs.npy"),
        include_bytes!("data/models/autoencoder/expected.npy"),
        |x| {
            let x = SMatrix::<f32, 1, 640>::from_row_slice(x);
            sess.run(autoencoder::fc9 { x: &x }).iter().copied().collect()
        },
    );
}
