//! Tensors of rank 3 and 4 (NHWC), through every op that is defined for any rank: elementwise
//! functions and arithmetic with broadcasting, reductions over any axes, `tf.where`, casts,
//! `tf.one_hot`, softmax along the last axis, transposes, variables, constants and gradients.
//! Each graph is built on constants (folded at compile time) and on placeholders (run); both must
//! give the hand-computed values, bit for bit the same.

use tfcore::nalgebra::{vector, SMatrix};
use tfcore::{graph, Array3, Array4, DArrayView4};

macro_rules! twin_graphs {
    ($($name:ident = { $($tok:tt)+ })*) => {
        graph! {
            pub mod folded {
                let x = tf.constant([[[[1.0, -2.0], [3.0, 0.5]], [[-1.5, 4.0], [2.0, -0.25]]]]);
                let b = tf.constant([0.5, -1.0]);
                let t = tf.constant([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]);
                $(let $name = $($tok)+;)*
            }
        }
        graph! {
            pub mod fed {
                let x = tf.placeholder(tf.float32, [None, 2, 2, 2]);
                let b = tf.placeholder(tf.float32, [2]);
                let t = tf.placeholder(tf.int32, [2, 2, 3]);
                $(let $name = $($tok)+;)*
            }
        }
    };
}

twin_graphs! {
    bias = { x + b }
    scaled = { tf.sigmoid(x * 2) }
    channel_sum = { tf.reduce_sum(x, axis = 3) }
    spatial_mean = { tf.reduce_mean(x, axis = [1, 2]) }
    spatial_mean_kept = { tf.reduce_mean(x, axis = [1, 2], keepdims = true) }
    total = { tf.reduce_sum(x) }
    positive = { tf.where(x > 0, x, tf.zeros([1, 2, 2, 2])) }
    probabilities = { tf.nn.softmax(x) }
    int_sum = { tf.reduce_sum(t, axis = [0, 2]) }
    int_mean = { tf.reduce_mean(t, axis = -1) }
    hot = { tf.one_hot(t, 13) }
    as_float = { tf.cast(t, tf.float32) * 0.5 }
    reversed = { tf.transpose(t) }
    padded = { tf.pad(x, [[0, 0], [1, 0], [0, 1], [0, 0]], constant_values = 9.0) }
    normalised = { tf.nn.batch_normalization(x, b, b * b, None, b + 1, 0.75) }
}

const X: Array4<f32, 1, 2, 2, 2> = Array4([[[[1.0, -2.0], [3.0, 0.5]], [[-1.5, 4.0], [2.0, -0.25]]]]);
const T: Array3<i32, 2, 2, 3> = Array3([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]);

/// Runs `$name` in both graphs, checks they agree to the bit, and returns the value.
macro_rules! both {
    ($name:ident { $($feed:ident: $value:expr),* }) => {{
        let folded = folded::Session::new().run(folded::$name);
        let fed = fed::Session::new().run(fed::$name { $($feed: $value),* });
        assert_eq!(format!("{folded:?}"), format!("{fed:?}"), "`{}` folded and run differ", stringify!($name));
        fed
    }};
}

#[test]
fn elementwise_with_broadcasting() {
    let bias: Array4<f32, 1, 2, 2, 2> = both!(bias { x: &X, b: &vector![0.5, -1.0] });
    assert_eq!(bias.as_slice(), &[1.5, -3.0, 3.5, -0.5, -1.0, 3.0, 2.5, -1.25]);
    let scaled = both!(scaled { x: &X });
    assert!((scaled[(0, 0, 1, 0)] - 1.0 / (1.0 + (-6.0f32).exp())).abs() < 1e-6);
    let positive = both!(positive { x: &X });
    assert_eq!(positive.as_slice(), &[1.0, 0.0, 3.0, 0.5, 0.0, 4.0, 2.0, 0.0]);
    let as_float: Array3<f32, 2, 2, 3> = both!(as_float { t: &T });
    assert_eq!(as_float[(1, 1, 2)], 6.0);
}

#[test]
fn reductions_over_any_axes() {
    let channel_sum: Array3<f32, 1, 2, 2> = both!(channel_sum { x: &X });
    assert_eq!(channel_sum.as_slice(), &[-1.0, 3.5, 2.5, 1.75]);
    let spatial_mean: SMatrix<f32, 1, 2> = both!(spatial_mean { x: &X });
    assert_eq!(spatial_mean, SMatrix::<f32, 1, 2>::new(1.125, 0.5625));
    let kept: Array4<f32, 1, 1, 1, 2> = both!(spatial_mean_kept { x: &X });
    assert_eq!(kept.as_slice(), &[1.125, 0.5625]);
    assert_eq!(both!(total { x: &X }), 6.75);
    let int_sum = both!(int_sum { t: &T });
    assert_eq!(int_sum, vector![1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12]);
    let int_mean: SMatrix<i32, 2, 2> = both!(int_mean { t: &T });
    assert_eq!(int_mean, SMatrix::<i32, 2, 2>::new(2, 5, 8, 11));
}

#[test]
fn softmax_one_hot_and_transpose() {
    let p = both!(probabilities { x: &X });
    let (a, b) = (p[(0, 0, 0, 0)], p[(0, 0, 0, 1)]);
    assert!((a + b - 1.0).abs() < 1e-6 && a > b);
    let hot: Array4<f32, 2, 2, 3, 13> = both!(hot { t: &T });
    assert_eq!(hot[(1, 0, 2, 9)], 1.0);
    assert_eq!(hot.iter().sum::<f32>(), 12.0);
    let reversed: Array3<i32, 3, 2, 2> = both!(reversed { t: &T });
    assert_eq!(reversed[(2, 0, 1)], T[(1, 0, 2)]);
}

#[test]
fn pad_and_batch_normalization() {
    // `[None, 2, 2, 2]` padded to `[None, 3, 3, 2]`: a row of 9 above, a column of 9 on the right.
    let padded: Array4<f32, 1, 3, 3, 2> = both!(padded { x: &X });
    let nines = [9.0; 6];
    assert_eq!(&padded.as_slice()[..6], &nines);
    assert_eq!(&padded.as_slice()[6..12], &[1.0, -2.0, 3.0, 0.5, 9.0, 9.0]);
    assert_eq!(&padded.as_slice()[12..], &[-1.5, 4.0, 2.0, -0.25, 9.0, 9.0]);
    // Channel 0: mean 0.5, variance 0.25 + 0.75, scale 1.5, so x * 1.5 - 0.75.
    let b = vector![0.5, -1.0];
    let normalised: Array4<f32, 1, 2, 2, 2> = both!(normalised { x: &X, b: &b });
    assert_eq!(normalised[(0, 0, 0, 0)], 1.0 * 1.5 - 0.5 * 1.5);
    assert_eq!(normalised[(0, 1, 1, 0)], 2.0 * 1.5 - 0.5 * 1.5);
    // Channel 1: mean -1, variance 1 + 0.75, scale 0.
    assert_eq!(normalised[(0, 0, 1, 1)], 0.0);
}

graph! {
    pub mod conv_weights {
        let w = tf.Variable(tf.random_uniform([3, 3, 1, 4], -1, 1));
        let images = tf.placeholder(tf.float32, [None, 3, 3, 1]);
        let response = tf.reduce_sum(images * tf.reduce_mean(w, axis = 3), axis = [1, 2, 3]);
        let loss = tf.reduce_sum(tf.square(response));
        let grads = tf.gradients(loss, [w]);
        let step = tf.train.GradientDescentOptimizer(0.1).minimize(loss);
    }
}

#[test]
fn rank4_variables_train() {
    let mut sess = conv_weights::Session::new();
    let w: Array4<f32, 3, 3, 1, 4> = sess.variables().w;
    assert!(w.iter().all(|v| (-1.0..1.0).contains(v)));
    let images = Array4::<f32, 2, 3, 3, 1>::from_fn(|n, h, w, _| (n + h * 3 + w) as f32 / 10.0);
    // d loss / d w[h, w, 0, k] = sum over images of 2 response * image[h, w] / 4.
    let response = sess.run(conv_weights::response { images: &images });
    let (grads,) = sess.run(conv_weights::grads { images: &images });
    let want = |h: usize, x: usize| (0..2).map(|n| 2.0 * response[n] * images[(n, h, x, 0)] / 4.0).sum::<f32>();
    for h in 0..3 {
        for x in 0..3 {
            for k in 0..4 {
                assert!((grads[(h, x, 0, k)] - want(h, x)).abs() < 1e-5, "at {h} {x} {k}");
            }
        }
    }
    let before = sess.run(conv_weights::loss { images: &images });
    sess.run(conv_weights::step { images: &images });
    assert!(sess.run(conv_weights::loss { images: &images }) < before);
    // The trained weights print and export as any other tensor.
    assert!(tfcore::display(&w).to_string().starts_with("[[[["));
    let exported = sess.variables().to_rust_const("TRAINED").to_string();
    assert!(exported.contains("w: ::tfcore::Array4([[[["), "{exported}");
}

// A 1 × 1 convolution of stride 1 with enough channels goes through the matrix kernel
// (`tfcore::__private::matmul`); folded at compile time it is a sum in `sum`'s order. The two must
// agree to the bit, on values whose sums round differently in different orders, with 13 input
// channels (a run of 8 and a tail of 5), a batch of 2, `SAME` and `VALID`, and a convolution
// whose bias and ReLU are written over it in place before a pool reads it.
graph! {
    pub mod pointwise_folded {
        let x = tf.constant(np.load("tests/data/pointwise.npz")["x"]);
        let f = tf.constant(np.load("tests/data/pointwise.npz")["f"]);
        let y = tf.nn.conv2d(x, f, strides = [1, 1, 1, 1], padding = "SAME");
        let pooled = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, f, strides = 1, padding = "VALID") + 0.5), ksize = [1, 3, 1, 1], strides = [1, 3, 1, 1], padding = "VALID");
        let relu = tf.reduce_sum(pooled, axis = 3);
    }
}

graph! {
    pub mod pointwise_fed {
        let x = tf.placeholder(tf.float32, [None, 3, 5, 13]);
        let f = tf.Variable(np.load("tests/data/pointwise.npz")["f"]);
        let y = tf.nn.conv2d(x, f, strides = [1, 1, 1, 1], padding = "SAME");
        let pooled = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, f, strides = 1, padding = "VALID") + 0.5), ksize = [1, 3, 1, 1], strides = [1, 3, 1, 1], padding = "VALID");
        let relu = tf.reduce_sum(pooled, axis = 3);
    }
}

#[test]
fn pointwise_convolutions_through_the_kernel_have_the_folded_bits() {
    let npz = tfcore::npy::Npz::parse(&std::fs::read("tests/data/pointwise.npz").unwrap()).unwrap();
    let x: Array4<f32, 2, 3, 5, 13> = tfcore::npy::NpyTensor::read(&npz, "x", &[2, 3, 5, 13]).unwrap();
    let mut fed = pointwise_fed::Session::new();
    let (y, relu) = (fed.run(pointwise_fed::y { x: &x }), fed.run(pointwise_fed::relu { x: &x }));
    let mut folded = pointwise_folded::Session::new();
    let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    assert_eq!(bits(y.as_slice()), bits(folded.run(pointwise_folded::y).as_slice()));
    assert_eq!(bits(relu.as_slice()), bits(folded.run(pointwise_folded::relu).as_slice()));
    // And the sum each output is: the first pixel's first output channel, left to right in eight
    // lanes then the tail, as `tfcore::__private::sum` adds.
    let f: Array4<f32, 1, 1, 13, 7> = tfcore::npy::NpyTensor::read(&npz, "f", &[1, 1, 13, 7]).unwrap();
    let term = |c: usize| x[(0, 0, 0, c)] * f[(0, 0, c, 0)];
    let lanes: Vec<f32> = (0..8).map(term).collect();
    let combined = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    let expected = (8..13).fold(combined, |total, c| total + term(c));
    assert_eq!(y[(0, 0, 0, 0)].to_bits(), expected.to_bits());
}

// Other forward convolutions with output channels a multiple of 8 go through tfcore's window
// kernels (`tfcore::__private::conv2d` and `depthwise_conv2d`); folded at compile time they are
// the nested sums of `tf.nn.conv2d`'s definition. The two must agree to the bit: strides,
// dilations, SAME's zeros, 13 input channels (a run of 8 and a tail of 5), a window nine taps
// high (where `sum` pairs eight partial sums), biases and activations after a convolution, and
// residual adds after one, of a tensor read by the convolution too or of one plus its bias, done
// in its store. Likewise the poolings of tfcore's pooling kernels (`avg_pool2d`, `max_pool2d`)
// and the element-by-element sums and maxima folded.
graph! {
    pub mod windows_folded {
        let x = tf.constant(np.load("tests/data/windows.npz")["x"]);
        let f = tf.constant(np.load("tests/data/windows.npz")["f"]);
        let tall = tf.constant(np.load("tests/data/windows.npz")["tall"]);
        let dw = tf.constant(np.load("tests/data/windows.npz")["depthwise"]);
        let same = tf.nn.conv2d(x, f, strides = [1, 1, 1, 1], padding = "SAME");
        let strided = tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME");
        let dilated = tf.nn.conv2d(x, f, strides = 1, padding = "VALID", dilations = [1, 2, 2, 1]);
        let long = tf.nn.conv2d(x, tall, strides = [1, 2, 1, 1], padding = "SAME");
        let depthwise = tf.nn.relu(tf.nn.depthwise_conv2d(same, dw, strides = [1, 2, 2, 1], padding = "SAME") + 0.5);
        let block = tf.nn.relu(tf.nn.relu(same) + (tf.nn.depthwise_conv2d(same, dw, strides = 1, padding = "SAME") - 2.0));
        let residual = tf.reduce_sum(tf.nn.max_pool(block, ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let average = tf.nn.avg_pool(same, ksize = [1, 3, 3, 1], strides = [1, 2, 1, 1], padding = "SAME");
        let tall_average = tf.nn.avg_pool(x, ksize = [1, 9, 2, 1], strides = 1, padding = "SAME");
        let largest = tf.nn.max_pool(tf.nn.relu(same) - 1.0, ksize = 3, strides = 2, padding = "SAME");
        let b = tf.constant([0.5, -1.25, 3.0, -0.0, 2.75, -7.5, 1000.0, -1000.0, 0.125, 6.5, -2.0, 4.25, -0.375, 9.0, -5.5, 0.0]);
        let capped = tf.reduce_sum(tf.nn.max_pool(tf.nn.relu6(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b), ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let biased = tf.reduce_sum(tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME"), b)), ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let shortcut = tf.reduce_sum(tf.nn.max_pool(tf.nn.relu((tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b) + tf.nn.bias_add(tf.nn.conv2d(x * 0.5, f, strides = [1, 2, 2, 1], padding = "SAME"), b)), ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let activated = tf.nn.relu6(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b);
        let pooled = tf.nn.relu(tf.nn.avg_pool(same, ksize = [1, 3, 3, 1], strides = [1, 2, 1, 1], padding = "SAME") - 0.25);
        let pooled_layer = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b), ksize = [1, 2, 2, 1], strides = 2, padding = "SAME");
    }
}

graph! {
    pub mod windows_fed {
        let x = tf.placeholder(tf.float32, [None, 10, 6, 13]);
        let f = tf.Variable(np.load("tests/data/windows.npz")["f"]);
        let tall = tf.Variable(np.load("tests/data/windows.npz")["tall"]);
        let dw = tf.Variable(np.load("tests/data/windows.npz")["depthwise"]);
        let same = tf.nn.conv2d(x, f, strides = [1, 1, 1, 1], padding = "SAME");
        let strided = tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME");
        let dilated = tf.nn.conv2d(x, f, strides = 1, padding = "VALID", dilations = [1, 2, 2, 1]);
        let long = tf.nn.conv2d(x, tall, strides = [1, 2, 1, 1], padding = "SAME");
        let depthwise = tf.nn.relu(tf.nn.depthwise_conv2d(same, dw, strides = [1, 2, 2, 1], padding = "SAME") + 0.5);
        let block = tf.nn.relu(tf.nn.relu(same) + (tf.nn.depthwise_conv2d(same, dw, strides = 1, padding = "SAME") - 2.0));
        let residual = tf.reduce_sum(tf.nn.max_pool(block, ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let average = tf.nn.avg_pool(same, ksize = [1, 3, 3, 1], strides = [1, 2, 1, 1], padding = "SAME");
        let tall_average = tf.nn.avg_pool(x, ksize = [1, 9, 2, 1], strides = 1, padding = "SAME");
        let largest = tf.nn.max_pool(tf.nn.relu(same) - 1.0, ksize = 3, strides = 2, padding = "SAME");
        let b = tf.constant([0.5, -1.25, 3.0, -0.0, 2.75, -7.5, 1000.0, -1000.0, 0.125, 6.5, -2.0, 4.25, -0.375, 9.0, -5.5, 0.0]);
        let capped = tf.reduce_sum(tf.nn.max_pool(tf.nn.relu6(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b), ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let biased = tf.reduce_sum(tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME"), b)), ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let shortcut = tf.reduce_sum(tf.nn.max_pool(tf.nn.relu((tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b) + tf.nn.bias_add(tf.nn.conv2d(x * 0.5, f, strides = [1, 2, 2, 1], padding = "SAME"), b)), ksize = [1, 2, 2, 1], strides = 1, padding = "SAME"), axis = 3);
        let activated = tf.nn.relu6(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b);
        let pooled = tf.nn.relu(tf.nn.avg_pool(same, ksize = [1, 3, 3, 1], strides = [1, 2, 1, 1], padding = "SAME") - 0.25);
        let pooled_layer = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, f, strides = [1, 2, 2, 1], padding = "SAME") + b), ksize = [1, 2, 2, 1], strides = 2, padding = "SAME");
    }
}

#[test]
fn window_kernels_have_the_folded_bits() {
    let npz = tfcore::npy::Npz::parse(&std::fs::read("tests/data/windows.npz").unwrap()).unwrap();
    let x: Array4<f32, 2, 10, 6, 13> = tfcore::npy::NpyTensor::read(&npz, "x", &[2, 10, 6, 13]).unwrap();
    let (mut fed, mut folded) = (windows_fed::Session::new(), windows_folded::Session::new());
    let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let same = fed.run(windows_fed::same { x: &x });
    assert_eq!(bits(same.as_slice()), bits(folded.run(windows_folded::same).as_slice()));
    let strided = fed.run(windows_fed::strided { x: &x });
    assert_eq!(bits(strided.as_slice()), bits(folded.run(windows_folded::strided).as_slice()));
    let dilated = fed.run(windows_fed::dilated { x: &x });
    assert_eq!(bits(dilated.as_slice()), bits(folded.run(windows_folded::dilated).as_slice()));
    let long = fed.run(windows_fed::long { x: &x });
    assert_eq!(bits(long.as_slice()), bits(folded.run(windows_folded::long).as_slice()));
    let depthwise = fed.run(windows_fed::depthwise { x: &x });
    assert_eq!(bits(depthwise.as_slice()), bits(folded.run(windows_folded::depthwise).as_slice()));
    // A residual add and its ReLU after the depthwise kernel, reading `relu(same)`.
    let residual = fed.run(windows_fed::residual { x: &x });
    assert_eq!(bits(residual.as_slice()), bits(folded.run(windows_folded::residual).as_slice()));
    // Poolings through tfcore's pooling kernels: a window of fewer than eight taps a row, one
    // nine high (where `sum` pairs eight partial sums) over 13 channels, a maximum over SAME's
    // padding of values some of which are below zero.
    let average = fed.run(windows_fed::average { x: &x });
    assert_eq!(bits(average.as_slice()), bits(folded.run(windows_folded::average).as_slice()));
    let tall = fed.run(windows_fed::tall_average { x: &x });
    assert_eq!(bits(tall.as_slice()), bits(folded.run(windows_folded::tall_average).as_slice()));
    let largest = fed.run(windows_fed::largest { x: &x });
    assert_eq!(bits(largest.as_slice()), bits(folded.run(windows_folded::largest).as_slice()));
    // A bias (`tf.nn.bias_add`, `+`) and a ReLU or ReLU6 computed over the kernel's stored
    // outputs, and a residual add of a tensor plus its bias, done in the kernel's store over
    // that tensor's buffer (each behind a max pooling: not the fetched value's chain).
    let biased = fed.run(windows_fed::biased { x: &x });
    assert_eq!(bits(biased.as_slice()), bits(folded.run(windows_folded::biased).as_slice()));
    let shortcut = fed.run(windows_fed::shortcut { x: &x });
    assert_eq!(bits(shortcut.as_slice()), bits(folded.run(windows_folded::shortcut).as_slice()));
    let capped = fed.run(windows_fed::capped { x: &x });
    assert_eq!(bits(capped.as_slice()), bits(folded.run(windows_folded::capped).as_slice()));
    // The fetched value a chain of elementwise ops over a kernel's output: the kernel writes
    // into the returned array, the chain written over it there.
    let activated = fed.run(windows_fed::activated { x: &x });
    assert_eq!(bits(activated.as_slice()), bits(folded.run(windows_folded::activated).as_slice()));
    let pooled = fed.run(windows_fed::pooled { x: &x });
    assert_eq!(bits(pooled.as_slice()), bits(folded.run(windows_folded::pooled).as_slice()));
    // The fetched value a pooling of such a chain: the kernel's output read from a buffer.
    let pooled_layer = fed.run(windows_fed::pooled_layer { x: &x });
    assert_eq!(bits(pooled_layer.as_slice()), bits(folded.run(windows_folded::pooled_layer).as_slice()));
    // Fed a batch of run-time size: the kernel's output in the session's workspace, the chain
    // written over it there, then returned.
    let batch = DArrayView4::from_slice([2, 10, 6, 13], x.as_slice()).unwrap();
    let activated = fed.run(windows_fed::activated { x: batch }).unwrap();
    assert_eq!(bits(activated.as_slice()), bits(folded.run(windows_folded::activated).as_slice()));
    let pooled = fed.run(windows_fed::pooled { x: batch }).unwrap();
    assert_eq!(bits(pooled.as_slice()), bits(folded.run(windows_folded::pooled).as_slice()));
}
