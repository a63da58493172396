//! What the firmware runs, written once for both sides: `main.rs` runs it on the Cortex-M and
//! prints over semihosting, `examples/firmware_host.rs` (in the root package) runs it on the host.
//! `check.sh` compares the two outputs line by line. Every number is printed twice: as the
//! shortest decimal that reads back to it, and as its bits.

use core::fmt::{self, Write};
use tfcore::graph;
use tfcore::nalgebra::{self, matrix, SMatrix};

// The seed's circle classifier (its trained weights are `trained.rs`).
include!("../../examples/models/circle.rs");

graph! {
    /// The seed's bond-yield bisection.
    pub mod bond {
        let C = tf.constant(5.0);
        let P = tf.constant(100.0);
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        let v_target = tf.placeholder("float");
        let y = (a + b) / 2;
        let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y);
        let a_ = tf.where(v_guess > v_target, y, a);
        let b_ = tf.where(v_guess < v_target, y, b);
        let step = tf.group(a.assign(a_), b.assign(b_));
    }
}

// MLPerf Tiny's keyword spotting and ResNet-8, with their trained weights (`np.load`, read when
// the crate compiles; the firmware sets `TFGRAPH_NPY_ROOT` so that the paths mean the same here).
include!("../../examples/models/kws.rs");
include!("../../examples/models/resnet8.rs");
include!("../../examples/models/autoencoder.rs");
// The same three models as MLPerf Tiny ships them, int8, imported from their `.tflite` files.
include!("../../examples/models/int8.rs");

tfcore::graph! {
    /// Keyword spotting again, imported from the ONNX file tf2onnx made of the published model
    /// (int8 weights with float scales, folded to float32 when the crate compiles).
    pub mod kws_onnx {
        let input_1 = tf.placeholder(tf.float32, [None, 49, 10, 1]);
        let probs = onnx.load("tests/data/models/kws/model.onnx", input_1 = input_1);
    }
}

/// Weights trained on the host by `cargo run --release --example circle -- --export-weights
/// firmware/src/trained.rs`.
mod trained {
    use super::circle;
    include!("trained.rs");
}

/// TensorFlow's 64 points and initial variables.
#[path = "reference.rs"]
mod reference;

/// The points the firmware classifies with the host-trained weights.
const PROBES: SMatrix<f32, 8, 2> = matrix![
    1.0, 1.0;
    0.0, 0.0;
    0.5, 0.5;
    -0.7, 0.1;
    0.2, -0.6;
    0.9, -0.9;
    -0.3, -0.3;
    0.71, 0.0;
];

/// Gradient-descent steps the device trains for.
pub const TRAINING_STEPS: usize = 300;

/// The test data the demo runs the models on, each file a named `static`, so that `check.sh` can
/// tell it apart from the model when it measures flash (`nm` lists `demo::data::*`).
mod data {
    /// `static $name: [u8; _]`, the bytes of `tests/data/models/$file`.
    macro_rules! data {
        ($name:ident, $file:literal) => {
            pub static $name: [u8; include_bytes!(concat!("../../tests/data/models/", $file)).len()] =
                *include_bytes!(concat!("../../tests/data/models/", $file));
        };
    }
    data!(KWS_INPUTS, "kws/inputs.npy");
    data!(RESNET8_INPUTS, "resnet8/inputs.npy");
    data!(AUTOENCODER_INPUTS, "autoencoder/inputs.npy");
    data!(KWS_INPUTS_INT8, "kws/inputs_int8.npy");
    data!(KWS_EXPECTED_INT8, "kws/expected_int8.npy");
    data!(RESNET8_INPUTS_INT8, "resnet8/inputs_int8.npy");
    data!(RESNET8_EXPECTED_INT8, "resnet8/expected_int8.npy");
    data!(AUTOENCODER_INPUTS_INT8, "autoencoder/inputs_int8.npy");
    data!(AUTOENCODER_EXPECTED_INT8, "autoencoder/expected_int8.npy");
}

/// A float as its shortest exact decimal and its bits.
struct Exact(f32);

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:08x})", self.0, self.0.to_bits())
    }
}

/// 1. Inference: the classifier with host-trained weights baked in, on fixed points.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn inference(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "inference: the circle classifier with host-trained weights")?;
    let mut sess = circle::Session::from_variables(trained::TRAINED);
    let output = sess.run(circle::output_layer { X: &PROBES });
    for i in 0..PROBES.nrows() {
        let inside = if output[(i, 0)] <= 0.5 { "inside" } else { "outside" };
        writeln!(
            out,
            "  [{:?}, {:?}] -> [{}, {}] {inside}",
            PROBES[(i, 0)],
            PROBES[(i, 1)],
            Exact(output[(i, 0)]),
            Exact(output[(i, 1)])
        )?;
    }
    Ok(())
}

/// 2. Training on the device: gradient descent from TensorFlow's initial variables on its 64
///    points, held in RAM.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn training(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "training: {TRAINING_STEPS} gradient-descent steps on 64 points")?;
    let points = reference::POINTS;
    let labels = reference::LABELS;
    let mut sess = circle::Session::from_variables(reference::INITIAL);
    let before = sess.run(circle::loss { X: &points, Y: &labels });
    for _ in 0..TRAINING_STEPS {
        sess.run(circle::train_step { X: &points, Y: &labels });
    }
    let after = sess.run(circle::loss { X: &points, Y: &labels });
    writeln!(out, "  loss before: {}", Exact(before))?;
    writeln!(out, "  loss after: {} (TensorFlow: {:?})", Exact(after), reference::TENSORFLOW_LOSS_AT_300)?;
    let w = sess.variables();
    writeln!(out, "  W1[0][0] after: {}, b2[1] after: {}", Exact(w.W1[(0, 0)]), Exact(w.b2[1]))?;
    Ok(())
}

/// The elements of a `.npy` file of float32 (format 1.0, as `np.save` writes), without `std`.
fn npy_floats(file: &[u8]) -> impl Iterator<Item = f32> + '_ {
    let header = 10 + usize::from(u16::from_le_bytes([file[8], file[9]]));
    file[header..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The index and value of the largest element.
fn top(values: impl Iterator<Item = f32>) -> (usize, f32) {
    values.enumerate().fold((0, f32::NEG_INFINITY), |best, (i, v)| if v > best.1 { (i, v) } else { best })
}

/// 4. Keyword spotting on the eight inputs of `tests/data/models/kws/inputs.npy`.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn kws(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "kws: MLPerf Tiny's keyword spotting (DS-CNN) on 8 inputs")?;
    let mut sess = keyword_spotting::Session::new();
    kws_inputs(out, |x| sess.run(keyword_spotting::probs { x }))
}

/// 4b. The same, imported from ONNX: it prints what `kws` prints, bit for bit.
#[inline(never)]
pub fn kws_onnx(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "kws_onnx: the same model imported from tests/data/models/kws/model.onnx")?;
    let mut sess = kws_onnx::Session::new();
    kws_inputs(out, |x| sess.run(kws_onnx::probs { input_1: x }))
}

/// Runs a keyword spotter on the eight inputs and prints its answers.
fn kws_inputs(
    out: &mut impl Write,
    mut run: impl FnMut(&tfcore::Array4<f32, 1, 49, 10, 1>) -> tfcore::nalgebra::SMatrix<f32, 1, 12>,
) -> fmt::Result {
    let inputs: &[u8] = &data::KWS_INPUTS;
    let mut values = npy_floats(inputs);
    for n in 0..8 {
        let x = tfcore::Array4::<f32, 1, 49, 10, 1>::from_fn(|_, _, _, _| values.next().unwrap_or(f32::NAN));
        inference_start();
        let probs = run(&x);
        inference_end();
        let (class, p) = top(probs.iter().copied());
        writeln!(out, "  input {n}: class {class}, probability {}, sum {}", Exact(p), Exact(probs.sum()))?;
    }
    Ok(())
}

/// 5. ResNet-8 on the eight images of `tests/data/models/resnet8/inputs.npy`.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn resnet8(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "resnet8: MLPerf Tiny's ResNet-8 (CIFAR-10) on 8 images")?;
    let inputs: &[u8] = &data::RESNET8_INPUTS;
    let mut values = npy_floats(inputs);
    let mut sess = resnet8::Session::new();
    for n in 0..8 {
        let x = tfcore::Array4::<f32, 1, 32, 32, 3>::from_fn(|_, _, _, _| values.next().unwrap_or(f32::NAN));
        inference_start();
        let probs = sess.run(resnet8::probs { x: &x });
        inference_end();
        let (class, p) = top(probs.iter().copied());
        writeln!(out, "  input {n}: class {class}, probability {}, sum {}", Exact(p), Exact(probs.sum()))?;
    }
    Ok(())
}

/// 6. The anomaly detector on the eight inputs of `tests/data/models/autoencoder/inputs.npy`: the
///    anomaly score (mean squared error of the reconstruction) and one reconstructed value.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn autoencoder(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "autoencoder: MLPerf Tiny's anomaly detector on 8 inputs")?;
    let inputs: &[u8] = &data::AUTOENCODER_INPUTS;
    let mut values = npy_floats(inputs);
    let mut sess = autoencoder::Session::new();
    // The input and the reconstruction, each filled in place (`from_fn` and `run` build their
    // value in a temporary and move it, 2,560 bytes more of stack).
    let (mut x, mut y) = (SMatrix::<f32, 1, 640>::zeros(), SMatrix::<f32, 1, 640>::zeros());
    for n in 0..8 {
        x.iter_mut().for_each(|v| *v = values.next().unwrap_or(f32::NAN));
        inference_start();
        sess.run_into(autoencoder::fc9 { x: &x }, &mut y);
        inference_end();
        let score = (0..640).map(|i| (y[i] - x[i]) * (y[i] - x[i])).sum::<f32>() / 640.0;
        writeln!(out, "  input {n}: anomaly score {}, first value {}", Exact(score), Exact(y[0]))?;
    }
    Ok(())
}

/// Where one inference starts, for `check.sh`'s instruction count: its QEMU plugin
/// (`firmware/count/count.c`) counts the instructions executed from a call of this function to
/// the next call of [`inference_end`]. Does nothing (but is never inlined, so that it is there to
/// watch).
#[inline(never)]
pub fn inference_start() {
    core::hint::black_box(1u32);
}

/// Where one inference ends (see [`inference_start`]).
#[inline(never)]
pub fn inference_end() {
    core::hint::black_box(2u32);
}

/// The elements of a `.npy` file of int8 (`|i1`, format 1.0), without `std`.
fn npy_int8(file: &[u8]) -> impl Iterator<Item = i8> + '_ {
    let header = 10 + usize::from(u16::from_le_bytes([file[8], file[9]]));
    file[header..].iter().map(|&b| b as i8)
}

/// Prints one int8 output: its length, the sum and first values, and whether it is TensorFlow
/// Lite Micro's (`expected`, the same length), element for element.
fn int8_answer(out: &mut impl Write, n: usize, got: &[i8], expected: &mut impl Iterator<Item = i8>) -> fmt::Result {
    let differ = got.iter().filter(|&&g| expected.next() != Some(g)).count();
    let sum: i32 = got.iter().map(|&v| i32::from(v)).sum();
    write!(out, "  input {n}: {} values, sum {sum}, first", got.len())?;
    for v in &got[..got.len().min(12)] {
        write!(out, " {v}")?;
    }
    match differ {
        0 => writeln!(out, "; TFLite Micro's, bit for bit"),
        _ => writeln!(out, "; {differ} differ from TFLite Micro's"),
    }
}

/// 7. Keyword spotting, int8, on the eight inputs of `inputs_int8.npy`, against TensorFlow Lite
///    Micro's outputs (`expected_int8.npy`).
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn kws_int8(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "kws_int8: keyword spotting, int8 (model_int8.tflite), on 8 inputs")?;
    let mut inputs = npy_int8(&data::KWS_INPUTS_INT8);
    let mut expected = npy_int8(&data::KWS_EXPECTED_INT8);
    let mut sess = kws_int8::Session::new();
    for n in 0..8 {
        let x = tfcore::Array4::<i8, 1, 49, 10, 1>::from_fn(|_, _, _, _| inputs.next().unwrap_or(0));
        inference_start();
        let probs = sess.run(kws_int8::probs { x: &x });
        inference_end();
        int8_answer(out, n, probs.as_slice(), &mut expected)?;
    }
    Ok(())
}

/// 8. ResNet-8, int8, on the eight images of `inputs_int8.npy`.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn resnet8_int8(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "resnet8_int8: ResNet-8, int8 (model_int8.tflite), on 8 images")?;
    let mut inputs = npy_int8(&data::RESNET8_INPUTS_INT8);
    let mut expected = npy_int8(&data::RESNET8_EXPECTED_INT8);
    let mut sess = resnet8_int8::Session::new();
    for n in 0..8 {
        let x = tfcore::Array4::<i8, 1, 32, 32, 3>::from_fn(|_, _, _, _| inputs.next().unwrap_or(0));
        inference_start();
        let probs = sess.run(resnet8_int8::probs { x: &x });
        inference_end();
        int8_answer(out, n, probs.as_slice(), &mut expected)?;
    }
    Ok(())
}

/// 9. The anomaly detector, int8, on the eight inputs of `inputs_int8.npy`.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn autoencoder_int8(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "autoencoder_int8: the anomaly detector, int8 (model_int8.tflite), on 8 inputs")?;
    let mut inputs = npy_int8(&data::AUTOENCODER_INPUTS_INT8);
    let mut expected = npy_int8(&data::AUTOENCODER_EXPECTED_INT8);
    let mut sess = autoencoder_int8::Session::new();
    let (mut x, mut y) = (SMatrix::<i8, 1, 640>::zeros(), SMatrix::<i8, 1, 640>::zeros());
    for n in 0..8 {
        x.iter_mut().for_each(|v| *v = inputs.next().unwrap_or(0));
        inference_start();
        sess.run_into(autoencoder_int8::decoded { input_1: &x }, &mut y);
        inference_end();
        int8_answer(out, n, y.as_slice(), &mut expected)?;
    }
    Ok(())
}

/// 3. The bond-yield bisection: 100 steps at a target value of 95.
// Never inlined into `main`, so that its frame is below the stack `main.rs` measures.
#[inline(never)]
pub fn bond(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "bond: the bisection for a bond worth 95")?;
    let mut sess = bond::Session::new();
    for _ in 0..100 {
        sess.run(bond::step { v_target: 95.0 });
    }
    let y = sess.run(bond::y);
    writeln!(out, "  y = {y:.6} {}", Exact(y))?;
    Ok(())
}
