//! The digits CNN of `examples/digits/` against TensorFlow 2.21 (`tests/data/digits_tf.npz`, made
//! by `tools/tf_digits.py`), from the same initial weights:
//!
//! - the logits of the first batch, within 1e-5 (relative to the largest);
//! - the loss of each of the first 20 Adam steps, within 1e-5 (relative);
//! - every weight after those 20 steps, within 1e-4 (relative to the largest of its tensor).
//!
//! Both sides compute in float32 and sum in different orders, so they part in the last bits from
//! the first product on; Adam's division by `sqrt(v) + epsilon` magnifies those differences where
//! `v` is tiny, which is why the weights' bound is wider than the losses'. Measured: logits 3.4e-7,
//! losses 1.3e-7, weights 6.6e-6 (`W1`) and at most 7.4e-7 for the others (`cargo test --test
//! digits_parity -- --nocapture` prints them).

use tfcore::nalgebra::{SMatrix, SVector};
use tfcore::npy::Npz;
use tfcore::Array4;

include!("../examples/digits/net.rs");

const BATCH: usize = 32;
const STEPS: usize = 20;

fn reference() -> Npz {
    Npz::parse(include_bytes!("data/digits_tf.npz")).expect("tests/data/digits_tf.npz reads")
}

fn floats(npz: &Npz, key: &str) -> Vec<f32> {
    npz.get(key).and_then(|a| a.to_vec::<f32>()).unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn variables(npz: &Npz, prefix: &str) -> digits::Variables {
    let get = |name: &str| floats(npz, &format!("{prefix}/{name}"));
    digits::Variables {
        K1: Array4::from_slice(&get("K1")).expect("K1 is [3, 3, 1, 16]"),
        c1: SVector::from_column_slice(&get("c1")),
        W1: SMatrix::from_row_slice(&get("W1")),
        b1: SVector::from_column_slice(&get("b1")),
        W2: SMatrix::from_row_slice(&get("W2")),
        b2: SVector::from_column_slice(&get("b2")),
    }
}

/// The training images (every index not 4 modulo 5) of batch `step`, as `tools/tf_digits.py`
/// takes them.
fn batch(step: usize) -> (Array4<f32, BATCH, 8, 8, 1>, SVector<u8, BATCH>) {
    let data = Npz::parse(include_bytes!("data/digits.npz")).expect("tests/data/digits.npz reads");
    let pixels = data.get("images").and_then(|a| a.to_vec::<u8>()).expect("images");
    let labels = data.get("labels").and_then(|a| a.to_vec::<u8>()).expect("labels");
    let train: Vec<usize> = (0..labels.len()).filter(|i| i % 5 != 4).skip(step * BATCH).take(BATCH).collect();
    let x = Array4::from_fn(|n, h, w, _| f32::from(pixels[train[n] * 64 + h * 8 + w]) / 16.0);
    let y = SVector::from_fn(|n, _| labels[train[n]]);
    (x, y)
}

/// The largest difference between `got` and `want`, relative to the largest magnitude in `want`.
fn relative_difference(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f32, |m, w| m.max(w.abs())).max(f32::MIN_POSITIVE);
    got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max) / scale
}

#[test]
fn first_steps_match_tensorflow() {
    let tf = reference();
    let mut sess = digits::Session::from_variables(variables(&tf, "init"));

    let (x, _) = batch(0);
    let logits = sess.run(digits::logits { X: &x });
    let logits: Vec<f32> = logits.transpose().iter().copied().collect(); // row-major
    let d = relative_difference(&logits, &floats(&tf, "logits0"));
    assert!(d < 1e-5, "logits of the first batch differ from TensorFlow's by {d:e}");

    println!("logits: {d:e}");
    let losses = floats(&tf, "losses");
    assert_eq!(losses.len(), STEPS);
    let mut worst = 0.0f32;
    for (step, want) in losses.iter().enumerate() {
        let (x, y) = batch(step);
        let loss = sess.run(digits::loss { X: &x, Y: &y });
        let d = (loss - want).abs() / want.abs();
        assert!(d < 1e-5, "step {step}: loss {loss}, TensorFlow's {want} (relative difference {d:e})");
        worst = worst.max(d);
        sess.run(digits::train_step { X: &x, Y: &y });
    }

    println!("losses: {worst:e}");
    let want = variables(&tf, "final");
    let got = sess.variables();
    for (name, got, want) in [
        ("K1", got.K1.as_slice(), want.K1.as_slice()),
        ("c1", got.c1.as_slice(), want.c1.as_slice()),
        ("W1", got.W1.as_slice(), want.W1.as_slice()),
        ("b1", got.b1.as_slice(), want.b1.as_slice()),
        ("W2", got.W2.as_slice(), want.W2.as_slice()),
        ("b2", got.b2.as_slice(), want.b2.as_slice()),
    ] {
        let d = relative_difference(got, want);
        assert!(d < 1e-4, "`{name}` after {STEPS} steps differs from TensorFlow's by {d:e}");
        println!("{name}: {d:e}");
    }
}
