//! tfcore's convolution kernels alone, on the layers of the MLPerf Tiny models (ResNet-8's and
//! keyword spotting's shapes, batch 1), so that a change to a kernel is timed where it matters:
//! the time of each layer, and its multiply-adds per nanosecond. And one layer as a graph fetches
//! it, bias and ReLU included (`fetched layer`), the kernel's output being the fetched value.
//!
//! ```text
//! cargo bench --bench convolutions
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tfcore::__private::{conv2d_plain, conv2d_rows_plain, depthwise_conv2d_plain, pointwise_conv2d_plain, Window};
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

/// A layer: `[h, w, channels]` in, `kernel`, `strides`, output channels (0 for depthwise).
struct Layer {
    name: &'static str,
    input: [usize; 3],
    kernel: [usize; 2],
    strides: [usize; 2],
    outputs: usize,
}

const LAYERS: &[Layer] = &[
    Layer { name: "ResNet-8 conv0 (3 x 3 x 3, 16)", input: [32, 32, 3], kernel: [3, 3], strides: [1, 1], outputs: 16 },
    Layer {
        name: "ResNet-8 conv1 (3 x 3 x 16, 16)",
        input: [32, 32, 16],
        kernel: [3, 3],
        strides: [1, 1],
        outputs: 16,
    },
    Layer {
        name: "ResNet-8 conv3 (3 x 3 x 16, 32, stride 2)",
        input: [32, 32, 16],
        kernel: [3, 3],
        strides: [2, 2],
        outputs: 32,
    },
    Layer {
        name: "ResNet-8 conv4 (3 x 3 x 32, 32)",
        input: [16, 16, 32],
        kernel: [3, 3],
        strides: [1, 1],
        outputs: 32,
    },
    Layer { name: "ResNet-8 conv7 (3 x 3 x 64, 64)", input: [8, 8, 64], kernel: [3, 3], strides: [1, 1], outputs: 64 },
    Layer {
        name: "KWS conv0 (10 x 4 x 1, 64, stride 2)",
        input: [49, 10, 1],
        kernel: [10, 4],
        strides: [2, 2],
        outputs: 64,
    },
    Layer { name: "KWS depthwise (3 x 3 x 64)", input: [25, 5, 64], kernel: [3, 3], strides: [1, 1], outputs: 0 },
    Layer { name: "KWS pointwise (1 x 1 x 64, 64)", input: [25, 5, 64], kernel: [1, 1], strides: [1, 1], outputs: 64 },
];

/// TensorFlow's `SAME` along one axis: `(output, before)`.
fn same(input: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let output = input.div_ceil(stride);
    (output, ((output - 1) * stride + kernel).saturating_sub(input) / 2)
}

/// `v` in a vector where it starts a cache line, as the generated code's buffers and constants
/// do (`tfcore::__private::Aligned`), and where it starts.
fn on_a_line(v: Vec<f32>) -> (Vec<f32>, usize) {
    let mut held = vec![0.0f32; v.len() + 16];
    let at = (held.as_ptr() as usize).wrapping_neg() % 64 / 4;
    held[at..][..v.len()].copy_from_slice(&v);
    (held, at)
}

fn layers(c: &mut Criterion) {
    let mut group = c.benchmark_group("convolution layers, batch 1");
    for layer in LAYERS {
        let [h, w, cin] = layer.input;
        let ((oh, bh), (ow, bw)) =
            (same(h, layer.kernel[0], layer.strides[0]), same(w, layer.kernel[1], layer.strides[1]));
        let window = Window {
            batch: 1,
            input: [h, w],
            channels: cin,
            kernel: layer.kernel,
            strides: layer.strides,
            dilations: [1, 1],
            before: [bh, bw],
            output: [oh, ow],
        };
        let taps = layer.kernel[0] * layer.kernel[1];
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| ((i * 7919 + seed) % 1000) as f32 * 1e-3 - 0.5).collect()
        };
        let (xv, xo) = on_a_line(values(h * w * cin, 1));
        let x = &xv[xo..][..h * w * cin];
        let zeros = vec![0.0f32; cin];
        let cout = if layer.outputs == 0 { cin } else { layer.outputs };
        let (mut outv, oo) = on_a_line(vec![0.0f32; oh * ow * cout]);
        let out = &mut outv[oo..][..oh * ow * cout];
        group.throughput(Throughput::Elements(
            (oh * ow * cout * taps * if layer.outputs == 0 { 1 } else { cin }) as u64,
        ));
        if layer.outputs == 0 {
            let (fv, fo) = on_a_line(values(taps * cin, 2));
            let filter = &fv[fo..][..taps * cin];
            group.bench_function(layer.name, |b| {
                b.iter(|| depthwise_conv2d_plain(&window, black_box(x), filter, &zeros, out))
            });
        } else {
            // TensorFlow's layout, which `graph!` gives every filter of a window kernel.
            let (fv, fo) = on_a_line(values(taps * cin * cout, 2));
            let filter = &fv[fo..][..taps * cin * cout];
            // The kernel `graph!` calls: a 1 × 1 window moved by one reads each output pixel's
            // own input pixel.
            if layer.kernel == [1, 1] && layer.strides == [1, 1] {
                group.bench_function(layer.name, |b| {
                    b.iter(|| pointwise_conv2d_plain(&window, cout, black_box(x), filter, out))
                });
            } else if cin == 1 {
                // A first layer of one channel: the kernel compiled for its window's width, its
                // output channels and its rows, as `graph!` calls it (`ops/conv.rs`).
                group.bench_function(layer.name, |b| {
                    b.iter(|| conv2d_rows_plain::<f32, 4, 1, 32, 5>(&window, cout, black_box(x), filter, &zeros, out))
                });
            } else {
                group.bench_function(layer.name, |b| {
                    b.iter(|| conv2d_plain(&window, cout, black_box(x), filter, &zeros, out))
                });
            }
        }
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
