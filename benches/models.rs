//! The MLPerf Tiny models: keyword spotting (`examples/models/kws.rs`, a depthwise-separable CNN)
//! and ResNet-8 (`examples/models/resnet8.rs`) at batch 1 and 32, the graphs alone, fed as an
//! `Array4` and as a `DArrayView4` of run-time size; and the anomaly
//! detector (`examples/models/autoencoder.rs`: ten dense layers, 265,864 weights) at batch 1 and
//! batch 64: the `graph!`-generated inference (its weights constants, and again in variables) beside the same layers
//! written by hand with nalgebra (`DMatrix` products, which go through `matrixmultiply`'s gemm;
//! at batch 1 also as matrix-vector products `Wᵀ x`, nalgebra's gemv), in one criterion group per
//! batch size, so that the ratios come from one run on one machine.
//!
//! ```text
//! cargo bench --bench models
//! python3 tools/tflite_autoencoder.py   # TFLite's interpreter on the same model, right after
//! ```

use criterion::{criterion_group, Criterion};
use nalgebra::{DMatrix, DVector, SMatrix};
use std::hint::black_box;
use tfcore::npy::{Npy, Npz};
use tfcore::DArrayView4;

include!("../examples/models/autoencoder.rs");
include!("../examples/models/kws.rs");
include!("../examples/models/resnet8.rs");

tfcore::graph! {
    /// The anomaly detector with its weights in variables, initialised from the same file: what a
    /// user holds who trains and then predicts in one session.
    pub mod autoencoder_variables {
        let x = tf.placeholder(tf.float32, [None, 640]);
        let w = np.load("tests/data/models/autoencoder/weights.npz");
        let fc0_kernel = tf.Variable(w["fc0/kernel"]);
        let fc0_bias = tf.Variable(w["fc0/bias"]);
        let fc1_kernel = tf.Variable(w["fc1/kernel"]);
        let fc1_bias = tf.Variable(w["fc1/bias"]);
        let fc2_kernel = tf.Variable(w["fc2/kernel"]);
        let fc2_bias = tf.Variable(w["fc2/bias"]);
        let fc3_kernel = tf.Variable(w["fc3/kernel"]);
        let fc3_bias = tf.Variable(w["fc3/bias"]);
        let fc4_kernel = tf.Variable(w["fc4/kernel"]);
        let fc4_bias = tf.Variable(w["fc4/bias"]);
        let fc5_kernel = tf.Variable(w["fc5/kernel"]);
        let fc5_bias = tf.Variable(w["fc5/bias"]);
        let fc6_kernel = tf.Variable(w["fc6/kernel"]);
        let fc6_bias = tf.Variable(w["fc6/bias"]);
        let fc7_kernel = tf.Variable(w["fc7/kernel"]);
        let fc7_bias = tf.Variable(w["fc7/bias"]);
        let fc8_kernel = tf.Variable(w["fc8/kernel"]);
        let fc8_bias = tf.Variable(w["fc8/bias"]);
        let fc9_kernel = tf.Variable(w["fc9/kernel"]);
        let fc9_bias = tf.Variable(w["fc9/bias"]);
        let fc0 = tf.nn.relu(tf.matmul(x, fc0_kernel) + fc0_bias);
        let fc1 = tf.nn.relu(tf.matmul(fc0, fc1_kernel) + fc1_bias);
        let fc2 = tf.nn.relu(tf.matmul(fc1, fc2_kernel) + fc2_bias);
        let fc3 = tf.nn.relu(tf.matmul(fc2, fc3_kernel) + fc3_bias);
        let fc4 = tf.nn.relu(tf.matmul(fc3, fc4_kernel) + fc4_bias);
        let fc5 = tf.nn.relu(tf.matmul(fc4, fc5_kernel) + fc5_bias);
        let fc6 = tf.nn.relu(tf.matmul(fc5, fc6_kernel) + fc6_bias);
        let fc7 = tf.nn.relu(tf.matmul(fc6, fc7_kernel) + fc7_bias);
        let fc8 = tf.nn.relu(tf.matmul(fc7, fc8_kernel) + fc8_bias);
        let fc9 = tf.matmul(fc8, fc9_kernel) + fc9_bias;
    }
}

/// The anomaly detector's layers as `DMatrix` weights and bias rows, read from the same file,
/// and each weight transposed with its bias as a column, for one input as a column vector.
struct Layers(Vec<(DMatrix<f32>, DMatrix<f32>)>, Vec<(DMatrix<f32>, DVector<f32>)>);

impl Layers {
    fn load() -> Layers {
        let npz = Npz::parse(include_bytes!("../tests/data/models/autoencoder/weights.npz")).expect("weights.npz");
        let array = |key: &str| -> (Vec<usize>, Vec<f32>) {
            let a: &Npy = npz.get(key).expect("a weight");
            (a.shape().to_vec(), a.to_vec::<f32>().expect("float32"))
        };
        let rows: Vec<(DMatrix<f32>, DMatrix<f32>)> = (0..10)
            .map(|l| {
                let (shape, w) = array(&format!("fc{l}/kernel"));
                let (_, b) = array(&format!("fc{l}/bias"));
                (DMatrix::from_row_slice(shape[0], shape[1], &w), DMatrix::from_row_slice(1, b.len(), &b))
            })
            .collect();
        let columns = rows.iter().map(|(w, b)| (w.transpose(), DVector::from_row_slice(b.as_slice()))).collect();
        Layers(rows, columns)
    }

    /// One input as a column: `Wᵀ x + b` (matrix-vector products), then relu.
    fn run_vector(&self, x: &DVector<f32>) -> DVector<f32> {
        let mut h = x.clone();
        for (l, (wt, b)) in self.1.iter().enumerate() {
            h = wt * &h + b;
            if l < 9 {
                h.apply(|v| *v = v.max(0.0));
            }
        }
        h
    }

    /// What a user writes with nalgebra: `x * W + b` row by row, then relu (not after the last).
    fn run(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut h = x.clone();
        for (l, (w, b)) in self.0.iter().enumerate() {
            h = &h * w;
            for mut row in h.row_iter_mut() {
                row += b;
            }
            if l < 9 {
                h.apply(|v| *v = v.max(0.0));
            }
        }
        h
    }
}

fn inputs<const N: usize>() -> SMatrix<f32, N, 640> {
    let x = Npy::parse(include_bytes!("../tests/data/models/autoencoder/inputs.npy")).expect("inputs.npy");
    let x = x.to_vec::<f32>().expect("float32");
    SMatrix::from_fn(|i, j| x[(i % 8) * 640 + j])
}

fn batch<const N: usize>(c: &mut Criterion, name: &str) {
    let layers = Layers::load();
    let x = inputs::<N>();
    let dx = DMatrix::from_fn(N, 640, |i, j| x[(i, j)]);
    let mut sess = autoencoder::Session::new();
    let (generated, by_hand) = (sess.run(autoencoder::fc9 { x: &x }), layers.run(&dx));
    let worst = generated.iter().zip(by_hand.iter()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "the two disagree by {worst}");
    let mut group = c.benchmark_group(name);
    group.bench_function("generated", |b| b.iter(|| sess.run(autoencoder::fc9 { x: black_box(&x) })));
    // The same batch as a `DMatrix`: a fetch of run-time size, its tensors in the session's
    // workspace.
    let fed = sess.run(autoencoder::fc9 { x: &dx }).expect("the batch's shape");
    assert!(fed.iter().zip(generated.iter()).all(|(a, b)| a.to_bits() == b.to_bits()), "fed a DMatrix");
    group.bench_function("generated, run-time batch", |b| {
        b.iter(|| sess.run(autoencoder::fc9 { x: black_box(&dx) }).unwrap())
    });
    let mut variables = autoencoder_variables::Session::new();
    let held = variables.run(autoencoder_variables::fc9 { x: &x });
    assert_eq!(generated, held, "variables and constants disagree");
    group.bench_function("generated, weights in variables", |b| {
        b.iter(|| variables.run(autoencoder_variables::fc9 { x: black_box(&x) }))
    });
    group.bench_function("nalgebra DMatrix", |b| b.iter(|| layers.run(black_box(&dx))));
    if N == 1 {
        let column = DVector::from_fn(640, |i, _| x[(0, i)]);
        let by_hand = layers.run_vector(&column);
        let worst = generated.iter().zip(by_hand.iter()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "the matrix-vector form disagrees by {worst}");
        group.bench_function("nalgebra DVector", |b| b.iter(|| layers.run_vector(black_box(&column))));
    }
    group.finish();
}

/// A batch of `N` of a model's eight inputs (`inputs.npy`, NHWC), the eight in turn. Boxed: a
/// batch of 32 images is 393 KB.
fn batch_of<const N: usize, const H: usize, const W: usize, const C: usize>(
    npy: &[u8],
) -> Box<tfcore::Array4<f32, N, H, W, C>> {
    let x = Npy::parse(npy).expect("inputs.npy").to_vec::<f32>().expect("float32");
    Box::new(tfcore::Array4::from_fn(|n, i, j, k| x[(((n % 8) * H + i) * W + j) * C + k]))
}

/// Keyword spotting and ResNet-8 on batches of `N`, in group `name`.
fn convolutional<const N: usize>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);
    let kws: Box<tfcore::Array4<f32, N, 49, 10, 1>> = batch_of(include_bytes!("../tests/data/models/kws/inputs.npy"));
    let mut sess = keyword_spotting::Session::new();
    group.bench_function("keyword spotting", |b| b.iter(|| sess.run(keyword_spotting::probs { x: black_box(&*kws) })));
    // The same batch fed as a `DArrayView4`, of run-time size.
    let view = DArrayView4::from_slice([N, 49, 10, 1], kws.as_slice()).expect("the batch's elements");
    group.bench_function("keyword spotting, run-time batch", |b| {
        b.iter(|| sess.run(keyword_spotting::probs { x: black_box(view) }).expect("fits"))
    });
    let images: Box<tfcore::Array4<f32, N, 32, 32, 3>> =
        batch_of(include_bytes!("../tests/data/models/resnet8/inputs.npy"));
    let mut sess = resnet8::Session::new();
    group.bench_function("ResNet-8", |b| b.iter(|| sess.run(resnet8::probs { x: black_box(&*images) })));
    let view = DArrayView4::from_slice([N, 32, 32, 3], images.as_slice()).expect("the batch's elements");
    group.bench_function("ResNet-8, run-time batch", |b| {
        b.iter(|| sess.run(resnet8::probs { x: black_box(view) }).expect("fits"))
    });
    group.finish();
}

fn convolutional_batch_1(c: &mut Criterion) {
    convolutional::<1>(c, "convolutional, batch 1");
}

fn convolutional_batch_32(c: &mut Criterion) {
    convolutional::<32>(c, "convolutional, batch 32");
}

fn autoencoder_batch_1(c: &mut Criterion) {
    batch::<1>(c, "autoencoder, batch 1");
}

fn autoencoder_batch_64(c: &mut Criterion) {
    batch::<64>(c, "autoencoder, batch 64");
}

criterion_group!(benches, convolutional_batch_1, convolutional_batch_32, autoencoder_batch_1, autoencoder_batch_64);
// `criterion_main!`'s `main` on a thread with a 256 MB stack: a batch of 32 plans its tensors on
// the stack (ResNet-8's first activations are 2 MB each).
fn main() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            benches();
            Criterion::default().configure_from_args().final_summary();
        })
        .expect("a benchmark thread")
        .join()
        .expect("the benchmarks");
}
