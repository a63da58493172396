//! A 784-128-10 multilayer perceptron (ReLU, softmax, mean cross entropy) trained by Adam at
//! batch 64: one `graph!`-generated training step beside the same step written by hand with
//! nalgebra's `DMatrix` (its products go through `matrixmultiply`'s gemm, which picks AVX2 and
//! FMA kernels at run time), in one criterion group, so that the ratio comes from one run on one
//! machine.
//!
//! ```text
//! cargo bench --bench mlp
//! ```
//!
//! Beside them, the generated step fed the batch at run time: as a `DMatrix` and as an ndarray
//! `Array2`.
//!
//! The hand-written step is what an nalgebra user would write: `*` and `tr_mul` for the
//! products, the simplified softmax-cross-entropy gradient `(p - y) / batch`, TensorFlow's Adam
//! update (`ApplyAdam`) in place. Every iteration of each starts from the same weights and optimiser
//! state, put back outside the timing ([`timed`]), as JAX's step in `tools/jax_steps.py` starts
//! from the same ones without copying them.

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use tfcore::nalgebra::SMatrix;

include!("../examples/models/mlp.rs");

// The same network with its loss as the seed spells it: `uint8` labels, `one_hot`, and the log of
// the softmax, which the macro computes as `log_softmax` (issue 30's rewrites).
tfcore::graph! {
    pub mod mlp_seed {
        const LEARNING_RATE: f32 = 0.001;
        let W1 = tf.Variable(tf.random_uniform([784, 128], -0.0815, 0.0815));
        let b1 = tf.Variable(tf.zeros([128]));
        let W2 = tf.Variable(tf.random_uniform([128, 10], -0.2085, 0.2085));
        let b2 = tf.Variable(tf.zeros([10]));
        let X = tf.placeholder(tf.float32, [None, 784]);
        let Y = tf.placeholder(tf.uint8, [None]);
        let hidden = tf.nn.relu(tf.matmul(X, W1) + b1);
        let logits = tf.matmul(hidden, W2) + b2;
        let loss = -tf.reduce_mean(tf.reduce_sum(tf.one_hot(Y, 10) * tf.log(tf.nn.softmax(logits)), axis = 1));
        let train_step = tf.train.AdamOptimizer(LEARNING_RATE).minimize(loss);
    }
}

const BATCH: usize = 64;

/// Times `step` on `state` alone: before each step, `reset` (outside the timing) puts the state
/// back where every step starts, so that no contender's time includes copying its weights and
/// optimiser state back (a `memcpy` of 1.2 MB, a tenth of the generated step's time).
fn timed<S>(b: &mut criterion::Bencher<'_>, state: &mut S, reset: impl Fn(&mut S), step: impl Fn(&mut S)) {
    b.iter_custom(|iterations| {
        let mut total = std::time::Duration::ZERO;
        for _ in 0..iterations {
            reset(state);
            let start = std::time::Instant::now();
            step(state);
            total += start.elapsed();
        }
        total
    })
}
const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// One parameter and its Adam moments, by hand.
#[derive(Clone)]
struct Param {
    value: DMatrix<f32>,
    m: DMatrix<f32>,
    v: DMatrix<f32>,
}

impl Param {
    fn new(value: DMatrix<f32>) -> Param {
        let zeros = DMatrix::zeros(value.nrows(), value.ncols());
        Param { value, m: zeros.clone(), v: zeros }
    }

    /// TensorFlow's `ApplyAdam` at step `t` (from 1), `grad` in the value's (column-major) order.
    fn adam(&mut self, grad: &[f32], t: i32) {
        let lr = mlp::LEARNING_RATE * (1.0 - BETA2.powi(t)).sqrt() / (1.0 - BETA1.powi(t));
        for (((w, m), v), &g) in self.value.iter_mut().zip(self.m.iter_mut()).zip(self.v.iter_mut()).zip(grad) {
            *m += (g - *m) * (1.0 - BETA1);
            *v += (g * g - *v) * (1.0 - BETA2);
            *w -= lr * *m / (v.sqrt() + EPSILON);
        }
    }
}

/// The network and its optimiser's state, by hand.
#[derive(Clone)]
struct Net {
    w1: Param,
    b1: Param,
    w2: Param,
    b2: Param,
    t: i32,
}

/// `m` with row vector `b` added to each row.
fn add_row(mut m: DMatrix<f32>, b: &DMatrix<f32>) -> DMatrix<f32> {
    for mut row in m.row_iter_mut() {
        row += b;
    }
    m
}

/// One Adam step by hand: forward, backward, update.
fn train_step(net: &mut Net, x: &DMatrix<f32>, y: &DMatrix<f32>) {
    let z1 = add_row(x * &net.w1.value, &net.b1.value);
    let hidden = z1.map(|z| z.max(0.0));
    let mut p = add_row(&hidden * &net.w2.value, &net.b2.value);
    for mut row in p.row_iter_mut() {
        let max = row.max();
        row.apply(|z| *z = (*z - max).exp());
        let total = row.sum();
        row /= total;
    }
    let d_logits = (p - y) / BATCH as f32;
    let d_w2 = hidden.tr_mul(&d_logits);
    let d_b2 = d_logits.row_sum();
    let d_z1 = (&d_logits * net.w2.value.transpose()).zip_map(&z1, |d, z| if z > 0.0 { d } else { 0.0 });
    let d_w1 = x.tr_mul(&d_z1);
    let d_b1 = d_z1.row_sum();
    net.t += 1;
    net.w1.adam(d_w1.as_slice(), net.t);
    net.b1.adam(d_b1.as_slice(), net.t);
    net.w2.adam(d_w2.as_slice(), net.t);
    net.b2.adam(d_b2.as_slice(), net.t);
}

/// A batch of inputs in [0, 1) and one-hot labels.
#[allow(clippy::type_complexity)]
fn data() -> (Box<SMatrix<f32, BATCH, 784>>, Box<SMatrix<f32, BATCH, 10>>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let x = Box::new(SMatrix::<f32, BATCH, 784>::from_fn(|_, _| rng.random::<f32>()));
    let labels: Vec<usize> = (0..BATCH).map(|_| rng.random_range(0..10)).collect();
    let y = Box::new(SMatrix::<f32, BATCH, 10>::from_fn(|i, j| f32::from(labels[i] == j)));
    (x, y)
}

fn dynamic<const R: usize, const C: usize>(m: &SMatrix<f32, R, C>) -> DMatrix<f32> {
    DMatrix::from_column_slice(R, C, m.as_slice())
}

fn benches(c: &mut Criterion) {
    let (x, y) = data();
    let (x, y) = (&*x, &*y);
    let start = Box::new(mlp::Session::new());
    let v = start.variables();
    let net = Net {
        w1: Param::new(dynamic(&v.W1)),
        b1: Param::new(DMatrix::from_row_slice(1, 128, v.b1.as_slice())),
        w2: Param::new(dynamic(&v.W2)),
        b2: Param::new(DMatrix::from_row_slice(1, 10, v.b2.as_slice())),
        t: 0,
    };
    let (dx, dy) = (dynamic(x), dynamic(y));

    // The contenders agree: one step of each from the same weights lands on the same weights (Adam
    // divides each gradient by its own magnitude, so a tiny gradient rounded differently moves its
    // weight by a few millionths).
    let mut sess = start.clone();
    sess.run(mlp::train_step { X: x, Y: y });
    let mut by_hand = net.clone();
    train_step(&mut by_hand, &dx, &dy);
    let generated = sess.variables();
    let gap =
        (dynamic(&generated.W1) - &by_hand.w1.value).amax().max((dynamic(&generated.W2) - &by_hand.w2.value).amax());
    assert!(gap < 1e-5, "the generated and hand-written steps disagree by {gap}");

    let mut group = c.benchmark_group("mlp_adam_step");
    let mut sess = start.clone();
    group.bench_function("generated", |b| {
        timed(
            b,
            &mut sess,
            |s| s.clone_from(&start),
            |s| {
                s.run(mlp::train_step { X: black_box(x), Y: black_box(y) });
            },
        )
    });
    // The seed's spelling, from the same weights, with the labels as `uint8` indices.
    let labels = Box::new(tfcore::nalgebra::SVector::<u8, BATCH>::from_fn(|i, _| {
        (0..10).find(|&j| y[(i, j)] == 1.0).unwrap_or(0) as u8
    }));
    let seed_start =
        Box::new(mlp_seed::Session::from_variables(mlp_seed::Variables { W1: v.W1, b1: v.b1, W2: v.W2, b2: v.b2 }));
    let mut seed_sess = seed_start.clone();
    seed_sess.run(mlp_seed::train_step { X: x, Y: &*labels });
    let seed_gap = (dynamic(&seed_sess.variables().W1) - dynamic(&generated.W1)).amax();
    assert!(seed_gap < 1e-5, "the seed's spelling and the fused loss disagree by {seed_gap}");
    group.bench_function("generated, the seed's spelling of the loss", |b| {
        timed(
            b,
            &mut seed_sess,
            |s| s.clone_from(&seed_start),
            |s| {
                s.run(mlp_seed::train_step { X: black_box(x), Y: black_box(&*labels) });
            },
        )
    });
    // The same batch of run-time size: nalgebra's `DMatrix` (column-major) and ndarray's `Array2`
    // (row-major, a matrix product reads a row of it as a slice), each checked against the
    // static step's weights.
    let (nx, ny) = (
        ndarray::Array2::from_shape_fn((BATCH, 784), |(i, j)| x[(i, j)]),
        ndarray::Array2::from_shape_fn((BATCH, 10), |(i, j)| y[(i, j)]),
    );
    for (what, mut s) in [("DMatrix", start.clone()), ("Array2", start.clone())] {
        match what {
            "DMatrix" => s.run(mlp::train_step { X: &dx, Y: &dy }).expect("the batch's shapes"),
            _ => s.run(mlp::train_step { X: &nx, Y: &ny }).expect("the batch's shapes"),
        }
        assert_eq!(s.variables(), generated, "fed as {what}");
    }
    let mut sess = start.clone();
    group.bench_function("generated, fed a DMatrix", |b| {
        timed(
            b,
            &mut sess,
            |s| s.clone_from(&start),
            |s| {
                s.run(mlp::train_step { X: black_box(&dx), Y: black_box(&dy) }).unwrap();
            },
        )
    });
    let mut sess = start.clone();
    group.bench_function("generated, fed an ndarray Array2", |b| {
        timed(
            b,
            &mut sess,
            |s| s.clone_from(&start),
            |s| {
                s.run(mlp::train_step { X: black_box(&nx), Y: black_box(&ny) }).unwrap();
            },
        )
    });
    let mut n = net.clone();
    group.bench_function("hand_written_dmatrix", |b| {
        timed(
            b,
            &mut n,
            |s| s.clone_from(&net),
            |s| {
                train_step(s, black_box(&dx), black_box(&dy));
                black_box(&s.w1.value);
            },
        )
    });
    group.finish();
}

criterion_group!(mlp_step, benches);
criterion_main!(mlp_step);
