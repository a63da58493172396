//! int8 TensorFlow Lite models imported with `tflite.load`, against TensorFlow Lite Micro's
//! reference kernels, with no difference allowed:
//!
//! - the MLPerf Tiny int8 models, as the benchmark publishes them, on their eight quantised inputs
//!   (`expected_int8.npy`);
//! - the differential suite: `tools/int8_fixtures.py`'s small random models, quantised by
//!   TensorFlow's converter and run by TFLite Micro's interpreter (`tests/data/int8/`).

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

fn array<T: tfcore::npy::Element>(bytes: &[u8], what: &str) -> (Vec<T>, Vec<usize>) {
    let npy = Npy::parse(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    (npy.to_vec::<T>().unwrap_or_else(|e| panic!("{what}: {e}")), npy.shape().to_vec())
}

include!("../examples/models/int8.rs");

/// Compares `got(input)`, the model's output on each input, with TFLite Micro's, bit for bit.
fn check<T, U>(model: &str, inputs: &[u8], expected: &[u8], got: &mut dyn FnMut(&[T]) -> Vec<U>)
where
    T: tfcore::npy::Element,
    U: tfcore::npy::Element + PartialEq + std::fmt::Debug,
{
    let (inputs, shape) = array::<T>(inputs, "inputs");
    let (expected, out_shape) = array::<U>(expected, "expected outputs");
    let (n, size, out) = (shape[0], inputs.len() / shape[0], expected.len() / out_shape[0]);
    let mut differences = 0;
    for k in 0..n {
        let got = got(&inputs[k * size..(k + 1) * size]);
        let want = &expected[k * out..(k + 1) * out];
        assert_eq!(got.len(), want.len(), "{model}");
        differences += got.iter().zip(want).filter(|(g, w)| g != w).count();
        if got != want || k == 0 {
            println!(
                "{model}, input {k}: {:?}\n  TFLite Micro: {:?}",
                &got[..got.len().min(12)],
                &want[..want.len().min(12)]
            );
        }
    }
    assert_eq!(differences, 0, "{model}: {differences} of {} outputs differ from TFLite Micro's", expected.len());
}

/// A row's elements, from nalgebra's `SMatrix`.
fn row<T: tfcore::nalgebra::Scalar + Copy, const C: usize>(m: &SMatrix<T, 1, C>) -> Vec<T> {
    m.iter().copied().collect()
}

#[test]
fn keyword_spotting_int8_is_tflite_micro_bit_for_bit() {
    let mut sess = kws_int8::Session::new();
    check(
        "keyword spotting",
        include_bytes!("data/models/kws/inputs_int8.npy"),
        include_bytes!("data/models/kws/expected_int8.npy"),
        &mut |x| {
            let x: Array4<i8, 1, 49, 10, 1> = Array4::from_slice(x).expect("[1, 49, 10, 1]");
            row(&sess.run(kws_int8::probs { x: &x }))
        },
    );
}

#[test]
fn resnet8_int8_is_tflite_micro_bit_for_bit() {
    let mut sess = resnet8_int8::Session::new();
    check(
        "ResNet-8",
        include_bytes!("data/models/resnet8/inputs_int8.npy"),
        include_bytes!("data/models/resnet8/expected_int8.npy"),
        &mut |x| {
            let x: Array4<i8, 1, 32, 32, 3> = Array4::from_slice(x).expect("[1, 32, 32, 3]");
            row(&sess.run(resnet8_int8::probs { x: &x }))
        },
    );
}

#[test]
fn autoencoder_int8_is_tflite_micro_bit_for_bit() {
    let mut sess = autoencoder_int8::Session::new();
    check(
        "autoencoder",
        include_bytes!("data/models/autoencoder/inputs_int8.npy"),
        include_bytes!("data/models/autoencoder/expected_int8.npy"),
        &mut |x| {
            let x = SMatrix::<i8, 1, 640>::from_row_slice(x);
            row(&sess.run(autoencoder_int8::decoded { input_1: &x }))
        },
    );
}

// The differential suite: each model's input is fed by its name (`serving_default_x:0`, made an
// identifier).

tfcore::graph! {
    /// Conv (stride 2, SAME, ReLU), depthwise (multiplier 2, VALID, ReLU6), average and max
    /// pools, dense, softmax.
    pub mod conv_stack {
        let x = tf.placeholder(tf.int8, [1, 11, 9, 3]);
        let y = tflite.load("tests/data/int8/conv_stack.tflite", serving_default_x_0 = x);
    }
}

tfcore::graph! {
    /// Two branches added with a fused ReLU, a dilated convolution, a 1 × 1 of stride 2.
    pub mod residual {
        let x = tf.placeholder(tf.int8, [1, 8, 8, 4]);
        let y = tflite.load("tests/data/int8/residual.tflite", serving_default_x_0 = x);
    }
}

tfcore::graph! {
    /// Dense layers on inputs that are all positive (zero point -128).
    pub mod dense_positive {
        let x = tf.placeholder(tf.int8, [1, 37]);
        let y = tflite.load("tests/data/int8/dense_positive.tflite", serving_default_x_0 = x);
    }
}

tfcore::graph! {
    /// Float in and out: `QUANTIZE` first and `DEQUANTIZE` last.
    pub mod float_io {
        let x = tf.placeholder(tf.float32, [1, 6, 5, 2]);
        let y = tflite.load("tests/data/int8/float_io.tflite", serving_default_x_0 = x);
    }
}

tfcore::graph! {
    /// One scale per tensor for the convolutions too.
    pub mod per_tensor {
        let x = tf.placeholder(tf.int8, [1, 7, 7, 2]);
        let y = tflite.load("tests/data/int8/per_tensor.tflite", serving_default_x_0 = x);
    }
}

tfcore::graph! {
    /// Inputs that are all negative, a 5 × 5 depthwise window, a max pool with SAME padding.
    pub mod negative {
        let x = tf.placeholder(tf.int8, [1, 10, 10, 8]);
        let y = tflite.load("tests/data/int8/negative.tflite", serving_default_x_0 = x);
    }
}

/// `check` of a differential case whose rank-4 input is `[1, H, W, C]`.
macro_rules! image_case {
    ($test:ident, $module:ident, $elem:ty, $h:literal, $w:literal, $c:literal) => {
        #[test]
        fn $test() {
            let mut sess = $module::Session::new();
            check(
                stringify!($module),
                include_bytes!(concat!("data/int8/", stringify!($module), "_inputs.npy")),
                include_bytes!(concat!("data/int8/", stringify!($module), "_expected.npy")),
                &mut |x: &[$elem]| {
                    let x: Array4<$elem, 1, $h, $w, $c> = Array4::from_slice(x).expect("the input's shape");
                    row(&sess.run($module::y { x: &x }))
                },
            );
        }
    };
}

image_case!(convolutions_pools_dense_and_softmax_are_tflite_micro_bit_for_bit, conv_stack, i8, 11, 9, 3);
image_case!(residual_adds_and_dilations_are_tflite_micro_bit_for_bit, residual, i8, 8, 8, 4);
image_case!(quantize_and_dequantize_are_tflite_micro_bit_for_bit, float_io, f32, 6, 5, 2);
image_case!(per_tensor_scales_are_tflite_micro_bit_for_bit, per_tensor, i8, 7, 7, 2);
image_case!(negative_inputs_and_max_pools_are_tflite_micro_bit_for_bit, negative, i8, 10, 10, 8);

#[test]
fn dense_layers_with_an_extreme_zero_point_are_tflite_micro_bit_for_bit() {
    let mut sess = dense_positive::Session::new();
    check(
        "dense_positive",
        include_bytes!("data/int8/dense_positive_inputs.npy"),
        include_bytes!("data/int8/dense_positive_expected.npy"),
        &mut |x: &[i8]| row(&sess.run(dense_positive::y { x: &SMatrix::<i8, 1, 37>::from_row_slice(x) })),
    );
}

tfcore::graph! {
    /// An int8 model's output read on as a graph's value: dequantised by hand, and its largest.
    pub mod composed {
        let x = tf.placeholder(tf.int8, [1, 49, 10, 1]);
        let q = tflite.load("tests/data/models/kws/model_int8.tflite", input_1 = x);
        let probabilities = (tf.cast(q, tf.float32) + 128.0) * 0.00390625;
        let best = tf.reduce_max(probabilities);
    }
}

#[test]
fn an_int8_output_composes_with_the_rest_of_the_graph() {
    let (inputs, _) = array::<i8>(include_bytes!("data/models/kws/inputs_int8.npy"), "inputs");
    let x: Array4<i8, 1, 49, 10, 1> = Array4::from_slice(&inputs[..490]).expect("[1, 49, 10, 1]");
    let mut sess = composed::Session::new();
    let q = sess.run(composed::q { x: &x });
    let p = sess.run(composed::probabilities { x: &x });
    for (q, p) in q.iter().zip(p.iter()) {
        assert_eq!(*p, (f32::from(*q) + 128.0) / 256.0);
    }
    // The benchmark's sample is the word "On", class 5, at 127: (127 + 128) / 256.
    assert_eq!(p[5], 255.0 / 256.0);
    assert_eq!(sess.run(composed::best { x: &x }), 255.0 / 256.0);
}
