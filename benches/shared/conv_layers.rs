// The convolution layers of the MLPerf Tiny models (ResNet-8's and keyword spotting's shapes,
// batch 1), each with its operands and the kernel `graph!` calls for it. Included by `cargo
// bench --bench convolutions` and by `tools/ab_conv`, which times two revisions of tfcore side by
// side: there `tfcore` names the revision being timed.

use std::hint::black_box;
use tfcore::__private::{conv2d_plain, conv2d_rows_plain, depthwise_conv2d_plain, pointwise_conv2d_plain, Window};

/// A layer: `[h, w, channels]` in, `kernel`, `strides`, output channels (0 for depthwise).
pub struct Layer {
    pub name: &'static str,
    input: [usize; 3],
    kernel: [usize; 2],
    strides: [usize; 2],
    outputs: usize,
}

impl Layer {
    /// A layer moved by `stride` both ways.
    const fn new(name: &'static str, input: [usize; 3], kernel: [usize; 2], stride: usize, outputs: usize) -> Self {
        Layer { name, input, kernel, strides: [stride, stride], outputs }
    }

    /// Its output channels: a depthwise layer's are its input's.
    fn outputs(&self) -> usize {
        if self.outputs == 0 {
            self.input[2]
        } else {
            self.outputs
        }
    }
}

pub const LAYERS: &[Layer] = &[
    Layer::new("ResNet-8 conv0 (3 x 3 x 3, 16)", [32, 32, 3], [3, 3], 1, 16),
    Layer::new("ResNet-8 conv1 (3 x 3 x 16, 16)", [32, 32, 16], [3, 3], 1, 16),
    Layer::new("ResNet-8 conv3 (3 x 3 x 16, 32, stride 2)", [32, 32, 16], [3, 3], 2, 32),
    Layer::new("ResNet-8 conv4 (3 x 3 x 32, 32)", [16, 16, 32], [3, 3], 1, 32),
    Layer::new("ResNet-8 conv6 (3 x 3 x 32, 64, stride 2)", [16, 16, 32], [3, 3], 2, 64),
    Layer::new("ResNet-8 conv7 (3 x 3 x 64, 64)", [8, 8, 64], [3, 3], 1, 64),
    Layer::new("ResNet-8 shortcut (1 x 1 x 32, 64, stride 2)", [16, 16, 32], [1, 1], 2, 64),
    Layer::new("KWS conv0 (10 x 4 x 1, 64, stride 2)", [49, 10, 1], [10, 4], 2, 64),
    Layer::new("KWS depthwise (3 x 3 x 64)", [25, 5, 64], [3, 3], 1, 0),
    Layer::new("KWS pointwise (1 x 1 x 64, 64)", [25, 5, 64], [1, 1], 1, 64),
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

/// One layer's operands, each starting a cache line, and its output.
pub struct Operands {
    layer: &'static Layer,
    window: Window,
    x: (Vec<f32>, usize),
    filter: (Vec<f32>, usize),
    zeros: Vec<f32>,
    out: (Vec<f32>, usize),
}

impl Operands {
    pub fn new(layer: &'static Layer) -> Self {
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
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| ((i * 7919 + seed) % 1000) as f32 * 1e-3 - 0.5).collect()
        };
        // TensorFlow's layout, which `graph!` gives every filter of a window kernel.
        let filter = layer.kernel[0] * layer.kernel[1] * cin * layer.outputs.max(1);
        let cout = layer.outputs();
        Operands {
            layer,
            window,
            x: on_a_line(values(h * w * cin, 1)),
            filter: on_a_line(values(filter, 2)),
            zeros: vec![0.0f32; cin],
            out: on_a_line(vec![0.0f32; oh * ow * cout]),
        }
    }

    /// The output channels.
    fn outputs(&self) -> usize {
        self.layer.outputs()
    }

    /// The layer's multiply-adds.
    pub fn multiply_adds(&self) -> u64 {
        let w = &self.window;
        let terms = w.kernel[0] * w.kernel[1] * if self.layer.outputs == 0 { 1 } else { w.channels };
        (w.output[0] * w.output[1] * self.outputs() * terms) as u64
    }

    /// The layer's output, as the last [`Operands::run`] left it (`tools/ab_conv` compares two
    /// revisions' bits).
    #[allow(dead_code)]
    pub fn output(&self) -> &[f32] {
        let w = &self.window;
        &self.out.0[self.out.1..][..w.output[0] * w.output[1] * self.outputs()]
    }

    /// The layer, through the kernel `graph!` calls for it.
    pub fn run(&mut self) {
        let (window, cout) = (&self.window, self.outputs());
        let x = &self.x.0[self.x.1..][..window.input[0] * window.input[1] * window.channels];
        let filter = &self.filter.0[self.filter.1..];
        let out = &mut self.out.0[self.out.1..][..window.output[0] * window.output[1] * cout];
        let zeros = &self.zeros;
        if self.layer.outputs == 0 {
            depthwise_conv2d_plain(window, black_box(x), filter, zeros, out)
        } else if window.kernel == [1, 1] && window.strides == [1, 1] {
            // A 1 × 1 window moved by one reads each output pixel's own input pixel.
            pointwise_conv2d_plain(window, cout, black_box(x), filter, out)
        } else if window.channels == 1 {
            // A first layer of one channel: the kernel compiled for its window's width, its
            // output channels and its rows, as `graph!` calls it (`ops/conv.rs`).
            conv2d_rows_plain::<f32, 4, 1, 32, 5>(window, cout, black_box(x), filter, zeros, out)
        } else {
            conv2d_plain(window, cout, black_box(x), filter, zeros, out)
        }
    }
}
