//! The places where `graph!` once differed from TensorFlow (issue 13), each pinned to what
//! TensorFlow 2.21 gives (`tf.compat.v1`, checked on this project's machine). Inputs are built
//! twice where folding could hide a difference: as constants (folded at compile time) and as
//! placeholders (run).

use tfcore::graph;
use tfcore::nalgebra::{matrix, vector};

graph! {
    pub mod means {
        let u = tf.placeholder(tf.uint8, [4]);
        let u_mean = tf.reduce_mean(u);
        let folded_u = tf.reduce_mean(tf.constant([200, 100], dtype = tf.uint8));
        let i = tf.placeholder(tf.int32, [2, 2]);
        let i_mean = tf.reduce_mean(i);
        let i_mean_rows = tf.reduce_mean(i, axis = 0);
        let folded_i = tf.reduce_mean(tf.constant([2147483647, 3]));
        let folded_negative = tf.reduce_mean(tf.constant([-3, 0]));
        let l = tf.placeholder(tf.int64, [2]);
        let l_mean = tf.reduce_mean(l);
    }
}

#[test]
fn integer_means_accumulate_wider_and_truncate() {
    let mut sess = means::Session::new();
    assert_eq!(sess.run(means::u_mean { u: &vector![200, 200, 200, 200] }), 200);
    assert_eq!(sess.run(means::u_mean { u: &vector![97, 243, 11, 190] }), 135);
    assert_eq!(sess.run(means::folded_u), 150);
    let i = matrix![2147483647, 5; 2147483647, 7];
    assert_eq!(sess.run(means::i_mean { i: &i }), 1073741826);
    assert_eq!(sess.run(means::i_mean_rows { i: &i }), vector![2147483647, 6]);
    assert_eq!(sess.run(means::folded_i), 1073741825);
    assert_eq!(sess.run(means::folded_negative), -1);
    // `int64` accumulates in `int64` in TensorFlow too, and wraps.
    assert_eq!(sess.run(means::l_mean { l: &vector![i64::MAX, 1] }), -4611686018427387904);
}

graph! {
    pub mod relus {
        let x = tf.placeholder(tf.float32, [3]);
        let v = tf.Variable(tf.ones([3]));
        let r = tf.nn.relu(x);
        let loss = tf.reduce_sum(tf.nn.relu(v * x));
        let folded = tf.nn.relu(tf.constant([-0.0, -2.0, 3.0]));
    }
}

#[test]
fn relu_keeps_nan_and_negative_zero() {
    let mut sess = relus::Session::new();
    let r = sess.run(relus::r { x: &vector![f32::NAN, -0.0, -1.0] });
    assert!(r[0].is_nan());
    assert!(r[1] == 0.0 && r[1].is_sign_negative(), "relu(-0) is -0 in TensorFlow");
    assert_eq!(r[2], 0.0);
    // A NaN reaches the loss, as in TensorFlow, instead of a healthy-looking 0.
    assert!(sess.run(relus::loss { x: &vector![f32::NAN, 2.0, 1.0] }).is_nan());
    let folded = sess.run(relus::folded);
    assert!(folded[0].is_sign_negative() && folded[0] == 0.0);
    assert_eq!(folded.as_slice()[1..], [0.0, 3.0]);
}

graph! {
    pub mod hots {
        let i = tf.placeholder(tf.int32, [2]);
        let ints = tf.one_hot(i, 3, on_value = 5, off_value = 1);
        let off_only = tf.one_hot(i, 3, off_value = -1);
        let wide = tf.one_hot(i, 3, on_value = tf.constant(2.0, dtype = tf.float64));
        let given = tf.one_hot(i, 3, on_value = 5, dtype = tf.float32);
        let flags = tf.one_hot(i, 2, on_value = true, off_value = false);
        let on = tf.Variable(7);
        let from_variable = tf.one_hot(i, 3, on_value = on, off_value = 0);
    }
}

#[test]
fn one_hot_takes_the_dtype_of_its_values() {
    let mut sess = hots::Session::new();
    let i = vector![0, 2];
    let ints: tfcore::nalgebra::SMatrix<i32, 2, 3> = sess.run(hots::ints { i: &i });
    assert_eq!(ints, matrix![5, 1, 1; 1, 1, 5]);
    let off_only: tfcore::nalgebra::SMatrix<i32, 2, 3> = sess.run(hots::off_only { i: &i });
    assert_eq!(off_only, matrix![1, -1, -1; -1, -1, 1]);
    let wide: tfcore::nalgebra::SMatrix<f64, 2, 3> = sess.run(hots::wide { i: &i });
    assert_eq!(wide, matrix![2.0, 0.0, 0.0; 0.0, 0.0, 2.0]);
    let given: tfcore::nalgebra::SMatrix<f32, 2, 3> = sess.run(hots::given { i: &i });
    assert_eq!(given, matrix![5.0, 0.0, 0.0; 0.0, 0.0, 5.0]);
    let flags: tfcore::nalgebra::SMatrix<bool, 2, 2> = sess.run(hots::flags { i: &vector![1, 0] });
    assert_eq!(flags, matrix![false, true; true, false]);
    let from_variable: tfcore::nalgebra::SMatrix<i32, 2, 3> = sess.run(hots::from_variable { i: &i });
    assert_eq!(from_variable, matrix![7, 0, 0; 0, 0, 7]);
}

graph! {
    pub mod zeros {
        let x = tf.placeholder(tf.float32, []);
        let plus_zero = x + 0;
        let zero_plus = 0.0 + x;
        let minus_zero = x - 0;
        let times_one = x * 1;
        let plus_negative_zero = x + -0.0;
    }
}

#[test]
fn simplifications_keep_signed_zeros() {
    let mut sess = zeros::Session::new();
    let z = -0.0f32;
    // -0 + 0 is +0 in IEEE arithmetic, and in TensorFlow: not simplified away.
    assert!(sess.run(zeros::plus_zero { x: z }).is_sign_positive());
    assert!(sess.run(zeros::zero_plus { x: z }).is_sign_positive());
    // These are exact for every x, so they stay simplified and keep the sign.
    assert!(sess.run(zeros::minus_zero { x: z }).is_sign_negative());
    assert!(sess.run(zeros::times_one { x: z }).is_sign_negative());
    assert!(sess.run(zeros::plus_negative_zero { x: z }).is_sign_negative());
    assert!(sess.run(zeros::plus_zero { x: f32::NAN }).is_nan());
}

graph! {
    pub mod kernels {
        let x = tf.placeholder(tf.float32, [2]);
        let v = tf.Variable(tf.constant([-1.0, 1.0]));
        let relu_grads = tf.gradients(tf.reduce_sum(tf.nn.relu(v) * x), [v]);
        let w = tf.Variable(tf.constant([-1.15, 0.0, 4.0]));
        let sqrt_grads = tf.gradients(tf.reduce_sum(tf.nn.relu(tf.sqrt(w))), [w]);
    }
}

#[test]
fn gradient_kernels_treat_nan_and_zero_as_tensorflow_does() {
    let mut sess = kernels::Session::new();
    // ReluGrad is `dy * (x > 0)`, a product: a NaN gradient stays NaN where x <= 0.
    let (dv,) = sess.run(kernels::relu_grads { x: &vector![f32::NAN, 2.0] });
    assert!(dv[0].is_nan(), "TensorFlow gives NaN, not 0");
    assert_eq!(dv[1], 2.0);
    // SqrtGrad is 0 where dy is 0. ReluGrad passes no gradient to sqrt(-1.15) = NaN nor to
    // sqrt(0) = 0, so neither becomes NaN (0 * 0.5 / NaN, 0 * 0.5 / 0). TensorFlow: [0, 0, 0.25].
    let (dw,) = sess.run(kernels::sqrt_grads);
    assert_eq!(dw[0], 0.0);
    assert_eq!(dw[1], 0.0);
    assert_eq!(dw[2], 0.25);
}

graph! {
    pub mod maxima {
        let x = tf.placeholder(tf.float32, [4]);
        let largest = tf.reduce_max(x);
        let v = tf.Variable(tf.constant([1.0, 3.0, 3.0, 2.0]));
        let ties = tf.gradients(tf.reduce_max(v), [v]);
    }
}

#[test]
fn reduce_max_propagates_nan_and_splits_ties() {
    let mut sess = maxima::Session::new();
    // TensorFlow: -inf, NaN wherever it stands, and the gradient shared by the tied maxima.
    let lowest = tfcore::nalgebra::SVector::<f32, 4>::from_element(f32::NEG_INFINITY);
    assert_eq!(sess.run(maxima::largest { x: &lowest }), f32::NEG_INFINITY);
    assert!(sess.run(maxima::largest { x: &vector![f32::NAN, 1.0, 2.0, 3.0] }).is_nan());
    assert!(sess.run(maxima::largest { x: &vector![1.0, f32::NAN, 2.0, 0.0] }).is_nan());
    let (dv,) = sess.run(maxima::ties);
    assert_eq!(dv, vector![0.0, 0.5, 0.5, 0.0]);
}
