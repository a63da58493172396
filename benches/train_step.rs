//! The seed's circle classifier at N = 1000 points: the `graph!`-generated step (forward,
//! backward, update) and inference beside the same computations written by hand with nalgebra,
//! in one criterion group each, so that the ratios come from one run on one machine.
//!
//! ```text
//! cargo bench --bench train_step
//! ```
//!
//! The hand-written step is what an nalgebra user would write: matrix products with `*` and
//! `tr_mul`, the simplified softmax-cross-entropy gradient `output - onehot` (fewer operations
//! than the gradient the macro derives), and the update in place. It comes twice: with `std`'s
//! math (`f32::exp`, what a user writes) and with `libm` (the functions tfgraph uses, so that the
//! comparison is of code generation alone). Every iteration of every contender starts from the
//! same weights, so that training's own spikes and denormals do not differ between them.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use tfcore::graph;
use tfcore::nalgebra::{SMatrix, SVector};

graph! {
    pub mod circle {
        const INPUT_LAYER_SIZE: usize = 2;
        const HIDDEN_LAYER_SIZE: usize = 3;
        const OUTPUT_LAYER_SIZE: usize = 2;
        const LEARNING_RATE: f32 = 0.002;

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

const N: usize = 1000;

/// The network's parameters, for the hand-written versions.
#[derive(Clone, Copy)]
struct Net {
    w1: SMatrix<f32, 2, 3>,
    b1: SVector<f32, 3>,
    w2: SMatrix<f32, 3, 2>,
    b2: SVector<f32, 2>,
}

/// The elementwise functions a hand-written version uses.
trait Math {
    fn exp(x: f32) -> f32;
}

struct Std;
struct Libm;

impl Math for Std {
    #[inline]
    fn exp(x: f32) -> f32 {
        x.exp()
    }
}

impl Math for Libm {
    #[inline]
    fn exp(x: f32) -> f32 {
        libm::expf(x)
    }
}

fn sigmoid<M: Math>(x: f32) -> f32 {
    1.0 / (1.0 + M::exp(-x))
}

/// The hidden activations and the output of the network, by hand.
#[allow(clippy::type_complexity)]
fn forward<M: Math>(net: &Net, x: &SMatrix<f32, N, 2>) -> (Box<SMatrix<f32, N, 3>>, Box<SMatrix<f32, N, 2>>) {
    let hidden = Box::new((x * net.w1).map_with_location(|_, j, z| sigmoid::<M>(z + net.b1[j])));
    let mut output = Box::new((*hidden * net.w2).map_with_location(|_, j, z| z + net.b2[j]));
    for mut row in output.row_iter_mut() {
        let max = row.max();
        row.apply(|z| *z = M::exp(*z - max));
        let total = row.sum();
        row /= total;
    }
    (hidden, output)
}

/// One gradient-descent step by hand: forward, backward, update.
fn train_step<M: Math>(net: &mut Net, x: &SMatrix<f32, N, 2>, y: &SVector<u8, N>, learning_rate: f32) {
    let (hidden, output) = forward::<M>(net, x);
    // d loss / d logits of softmax cross-entropy: output - onehot.
    let d_logits = Box::new(output.map_with_location(|i, j, p| p - f32::from(y[i] as usize == j)));
    let d_w2 = hidden.tr_mul(&*d_logits);
    let d_b2 = d_logits.row_sum().transpose();
    let d_hidden = Box::new((*d_logits * net.w2.transpose()).zip_map(&*hidden, |d, s| d * s * (1.0 - s)));
    let d_w1 = x.tr_mul(&*d_hidden);
    let d_b1 = d_hidden.row_sum().transpose();
    net.w1 -= d_w1 * learning_rate;
    net.b1 -= d_b1 * learning_rate;
    net.w2 -= d_w2 * learning_rate;
    net.b2 -= d_b2 * learning_rate;
}

fn data() -> (Box<SMatrix<f32, N, 2>>, Box<SVector<u8, N>>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let x = Box::new(SMatrix::<f32, N, 2>::from_fn(|_, _| rng.random::<f32>() * 2.0 - 1.0));
    let y = Box::new(SVector::<u8, N>::from_fn(|i, _| u8::from(x[(i, 0)].powi(2) + x[(i, 1)].powi(2) < 0.5)));
    (x, y)
}

fn benches(c: &mut Criterion) {
    let (x, y) = data();
    let (x, y) = (&*x, &*y);
    let start = *circle::Session::new().variables();
    let net = Net { w1: start.W1, b1: start.b1, w2: start.W2, b2: start.b2 };

    // The contenders agree: one step of each from the same weights lands on the same weights.
    let mut sess = circle::Session::from_variables(start);
    sess.run(circle::train_step { X: x, Y: y });
    let mut by_hand = net;
    train_step::<Libm>(&mut by_hand, x, y, circle::LEARNING_RATE);
    let generated = sess.variables();
    let gap = (generated.W1 - by_hand.w1).amax().max((generated.W2 - by_hand.w2).amax());
    assert!(gap < 1e-4, "the generated and hand-written steps disagree by {gap}");

    let mut group = c.benchmark_group("train_step");
    let mut sess = circle::Session::from_variables(start);
    group.bench_function("generated", |b| {
        b.iter(|| {
            *sess.variables_mut() = start;
            sess.run(circle::train_step { X: black_box(x), Y: black_box(y) });
        })
    });
    group.bench_function("hand_written_std", |b| {
        b.iter(|| {
            let mut n = net;
            train_step::<Std>(&mut n, black_box(x), black_box(y), circle::LEARNING_RATE);
            black_box(n.w1);
        })
    });
    group.bench_function("hand_written_libm", |b| {
        b.iter(|| {
            let mut n = net;
            train_step::<Libm>(&mut n, black_box(x), black_box(y), circle::LEARNING_RATE);
            black_box(n.w1);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("output_layer");
    let mut sess = circle::Session::from_variables(start);
    group.bench_function("generated", |b| b.iter(|| black_box(sess.run(circle::output_layer { X: black_box(x) }))));
    group.bench_function("hand_written_std", |b| b.iter(|| black_box(forward::<Std>(&net, black_box(x)).1)));
    group.bench_function("hand_written_libm", |b| b.iter(|| black_box(forward::<Libm>(&net, black_box(x)).1)));
    group.finish();

    // Where the forward pass's time goes: its 5000 exponentials (3000 sigmoids, 2000 in the
    // softmax), alone, through each implementation, each result stored as the generated loops
    // store them.
    let arguments: Vec<f32> = (0..5000).map(|k| (k as f32 / 250.0) - 10.0).collect();
    let mut results = vec![0.0f32; arguments.len()];
    let mut group = c.benchmark_group("exp_5000");
    fn time(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        arguments: &[f32],
        results: &mut [f32],
        exp: impl Fn(f32) -> f32,
    ) {
        group.bench_function(name, |b| {
            b.iter(|| {
                for (out, &a) in results.iter_mut().zip(black_box(arguments)) {
                    *out = exp(a);
                }
                black_box(&*results);
            })
        });
    }
    time(&mut group, "tfcore", &arguments, &mut results, tfcore::math::expf);
    time(&mut group, "std", &arguments, &mut results, f32::exp);
    time(&mut group, "libm", &arguments, &mut results, libm::expf);
    group.finish();
    // The same loop over `tanh` (the generated code's `tf.tanh` is tfcore's).
    let mut group = c.benchmark_group("tanh_5000");
    time(&mut group, "tfcore", &arguments, &mut results, tfcore::math::tanhf);
    time(&mut group, "std", &arguments, &mut results, f32::tanh);
    time(&mut group, "libm", &arguments, &mut results, libm::tanhf);
    group.finish();
    // And over `log` (the circle's loss, cross-entropies), on 5000 positive values from 0.01 to 100.
    let arguments: Vec<f32> = (0..5000).map(|k| (k as f32 + 0.5) / 50.0).collect();
    let mut group = c.benchmark_group("log_5000");
    time(&mut group, "tfcore", &arguments, &mut results, tfcore::math::logf);
    time(&mut group, "std", &arguments, &mut results, f32::ln);
    time(&mut group, "libm", &arguments, &mut results, libm::logf);
    group.finish();
}

criterion_group!(train, benches);
criterion_main!(train);
