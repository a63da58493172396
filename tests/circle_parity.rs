//! The seed's circle classifier against TensorFlow 2.21 (`tests/data/circle_tf_n64.json`, copied
//! from the project's reference data), from TensorFlow's initial variables and 64 points:
//!
//! - the output and every gradient within 1e-5 (relative);
//! - the loss within 1e-3 (relative) of TensorFlow's at every recorded step up to 1300, the first
//!   42 of the 59 (in fact within 5e-5);
//! - from step 1300 to 2000, within 10%.
//!
//! Why not 1e-3 to the end: between steps 1300 and 1600 this training goes through an unstable
//! stretch (the loss climbs from 7.42 to 7.61 and falls back) that multiplies any rounding
//! difference about a hundredfold every 50 steps. TensorFlow 2.21 itself, replaying its own
//! reference with its Eigen kernels instead of oneDNN's (`TF_ENABLE_ONEDNN_OPTS=0 python3
//! tools/tf_circle_drift.py`, the same math summed in another order), is 4.8e-2 away at step 1350.
//! Which side of the stretch a run comes out on is decided by last-bit rounding: with `libm`'s
//! `expf` this graph came out within 1e-5 of the reference, with tfgraph's own `expf` (1 ULP,
//! Cephes-style like Eigen's) it tracks TensorFlow's Eigen run to 1e-4 at step 1350 and ends 1.7e-2
//! behind the reference. A bound that depends on that draw would pass or fail at random.

use serde_json::Value;
use tfcore::graph;
use tfcore::nalgebra::{SMatrix, SVector};

graph! {
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
        let grads = tf.gradients(loss, [W1, b1, W2, b2]);
    }
}

const N: usize = 64;

struct Reference {
    json: Value,
}

impl Reference {
    fn load() -> Reference {
        Reference { json: serde_json::from_str(include_str!("data/circle_tf_n64.json")).expect("valid JSON") }
    }

    fn matrix<const R: usize, const C: usize>(&self, value: &Value) -> SMatrix<f32, R, C> {
        let rows = value.as_array().expect("rows");
        assert_eq!(rows.len(), R);
        SMatrix::from_fn(|i, j| match &rows[i] {
            Value::Array(row) => row[j].as_f64().expect("number") as f32,
            number => number.as_f64().expect("number") as f32,
        })
    }

    fn variables(&self, key: &str) -> circle::Variables {
        let v = &self.json[key];
        circle::Variables {
            W1: self.matrix(&v["W1"]),
            b1: self.matrix(&v["b1"]),
            W2: self.matrix(&v["W2"]),
            b2: self.matrix(&v["b2"]),
        }
    }

    fn data(&self) -> (SMatrix<f32, N, 2>, SVector<u8, N>) {
        let x = self.matrix(&self.json["X"]);
        let y = SVector::from_fn(|i, _| self.json["Y"][i].as_u64().expect("label") as u8);
        (x, y)
    }
}

/// The largest relative difference between `got` and `want`, each element measured against the
/// larger of its magnitude and `floor` (so that values near zero are compared absolutely).
fn relative<const R: usize, const C: usize>(got: &SMatrix<f32, R, C>, want: &SMatrix<f32, R, C>, floor: f32) -> f32 {
    got.iter().zip(want.iter()).map(|(g, w)| (g - w).abs() / w.abs().max(floor)).fold(0.0, f32::max)
}

#[test]
fn output_and_gradients_match_tensorflow_at_the_initial_variables() {
    let reference = Reference::load();
    let (x, y) = reference.data();
    let mut sess = circle::Session::from_variables(reference.variables("initial"));

    let output = sess.run(circle::output_layer { X: &x });
    let want: SMatrix<f32, N, 2> = reference.matrix(&reference.json["output_at_initial"]);
    assert!(relative(&output, &want, 1e-3) <= 1e-5, "output: {}", relative(&output, &want, 1e-3));

    let (w1, b1, w2, b2) = sess.run(circle::grads { X: &x, Y: &y });
    let want = reference.variables("gradients_at_initial");
    for (name, error) in [
        ("W1", relative(&w1, &want.W1, 1e-3)),
        ("b1", relative(&b1, &want.b1, 1e-3)),
        ("W2", relative(&w2, &want.W2, 1e-3)),
        ("b2", relative(&b2, &want.b2, 1e-3)),
    ] {
        assert!(error <= 1e-5, "gradient of {name}: relative error {error}");
    }
}

/// The last recorded step before the unstable stretch; up to it the loss stays within 1e-3.
const STABLE_UNTIL: usize = 1300;

/// The tolerance at a recorded step (see the module's documentation).
fn tolerance(step: usize) -> f64 {
    if step <= STABLE_UNTIL {
        1e-3
    } else {
        1e-1
    }
}

#[test]
fn two_thousand_steps_follow_tensorflows_loss() {
    let reference = Reference::load();
    let (x, y) = reference.data();
    let mut sess = circle::Session::from_variables(reference.variables("initial"));
    let losses: Vec<(usize, f64)> = reference.json["losses"]
        .as_array()
        .expect("losses")
        .iter()
        .map(|pair| (pair[0].as_u64().unwrap() as usize, pair[1].as_f64().unwrap()))
        .collect();
    assert_eq!(losses.len(), 59);
    let mut worst: (f64, usize) = (0.0, 0);
    let mut worst_stable = 0.0f64;
    let mut failures = Vec::new();
    let mut next = losses.iter().peekable();
    for step in 0..2000 {
        if let Some(&&(at, want)) = next.peek() {
            if at == step {
                let got = sess.run(circle::loss { X: &x, Y: &y }) as f64;
                let error = (got - want).abs() / want.abs();
                println!("step {step}: loss {got:.6}, TensorFlow {want:.6}, relative difference {error:.2e}");
                if error > worst.0 {
                    worst = (error, step);
                }
                if step <= STABLE_UNTIL {
                    worst_stable = worst_stable.max(error);
                }
                if error > tolerance(step) {
                    failures.push(format!("step {step}: {error:.2e} > {:.2e}", tolerance(step)));
                }
                next.next();
            }
        }
        sess.run(circle::train_step { X: &x, Y: &y });
    }
    println!("up to step {STABLE_UNTIL}: largest relative loss difference from TensorFlow {worst_stable:.2e}");
    println!(
        "over 2000 steps: largest relative loss difference from TensorFlow {:.2e} (before step {})",
        worst.0, worst.1
    );
    assert!(failures.is_empty(), "loss drifted from TensorFlow's:\n{}", failures.join("\n"));

    let trained = sess.variables();
    let want = reference.variables("final_variables");
    println!(
        "final variables, largest relative difference: W1 {:.1e}, b1 {:.1e}, W2 {:.1e}, b2 {:.1e}",
        relative(&trained.W1, &want.W1, 1e-3),
        relative(&trained.b1, &want.b1, 1e-3),
        relative(&trained.W2, &want.W2, 1e-3),
        relative(&trained.b2, &want.b2, 1e-3)
    );
}
