//! tfcore's convolution kernels alone, on the layers of the MLPerf Tiny models (ResNet-8's and
//! keyword spotting's shapes, batch 1), so that a change to a kernel is timed where it matters:
//! the time of each layer, and its multiply-adds per nanosecond. And one layer as a graph fetches
//! it, bias and ReLU included (`fetched layer`), the kernel's output being the fetched value.
//!
//! ```text
//! cargo bench --bench convolutions
//! ```

use conv_layers::{Operands, LAYERS};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tfcore::{graph, Array4, DArrayView4};

graph! {
    /// ResNet-8's 3 × 3 × 16 layer, fetched by itself: its value is the kernel's output, the bias
    /// and ReLU written over it.
    mod layer {
        let x = tf.placeholder(tf.float32, [None, 32, 32, 16]);
        let f = tf.Variable(tf.random_uniform([3, 3, 16, 16], -0.5, 0.5));
        let b = tf.Variable(tf.random_uniform([16], -0.5, 0.5));
        let y = tf.nn.relu(tf.nn.conv2d(x, f, strides = [1, 1, 1, 1], padding = "SAME") + b);
    }
}

mod conv_layers {
    include!("shared/conv_layers.rs");
}

fn layers(c: &mut Criterion) {
    let mut group = c.benchmark_group("convolution layers, batch 1");
    for layer in LAYERS {
        let mut operands = Operands::new(layer);
        group.throughput(Throughput::Elements(operands.multiply_adds()));
        group.bench_function(layer.name, |b| b.iter(|| operands.run()));
    }
    group.finish();
}

fn fetched(c: &mut Criterion) {
    let mut group = c.benchmark_group("fetched layer, batch 1");
    let x = Array4::<f32, 1, 32, 32, 16>::from_fn(|_, h, w, c| ((h * 7 + w * 3 + c) % 11) as f32 * 0.1 - 0.5);
    let mut sess = layer::Session::with_seed(1);
    group.bench_function("ResNet-8 relu(conv1 + b)", |b| b.iter(|| sess.run(layer::y { x: black_box(&x) })));
    let batch = DArrayView4::from_slice([1, 32, 32, 16], x.as_slice()).unwrap();
    group.bench_function("ResNet-8 relu(conv1 + b), run-time batch", |b| {
        b.iter(|| sess.run(layer::y { x: black_box(batch) }).unwrap())
    });
    group.finish();
}

criterion_group!(benches, layers, fetched);
criterion_main!(benches);
