//! What the firmware runs, written once for both sides: `main.rs` runs it on the Cortex-M and
//! prints over semihosting, `examples/firmware_host.rs` (in the root package) runs it on the host.
//! `check.sh` compares the two outputs line by line. Every number is printed twice: as the
//! shortest decimal that reads back to it, and as its bits.

use core::fmt::{self, Write};
use tfcore::graph;
use tfcore::nalgebra::{self, matrix, SMatrix};

graph! {
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

/// A float as its shortest exact decimal and its bits.
struct Exact(f32);

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:08x})", self.0, self.0.to_bits())
    }
}

/// 1. Inference: the classifier with host-trained weights baked in, on fixed points.
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

/// 3. The bond-yield bisection: 100 steps at a target value of 95.
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
