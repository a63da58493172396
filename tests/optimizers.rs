//! The optimisers against TensorFlow's documented update rules, steps computed by hand.
//!
//! The variables are float64, and, as in TensorFlow, every hyper-parameter given as a Python
//! number is a float32 tensor cast to the variable's dtype (so the learning rate `0.1` is
//! float32's 0.1), and Adam's beta powers are float32 variables.
//!
//! Each graph minimises `reduce_sum(square(w - target))` over `w = [1, -2]` with target
//! `[0.5, 0.5]`, so the gradient is `2 (w - target)`: `[1, -5]` at the start.

use tfcore::graph;
use tfcore::nalgebra::{vector, SVector};

graph! {
    pub mod descent {
        let w = tf.Variable(tf.constant([1.0, -2.0], dtype = tf.float64));
        let frozen = tf.Variable(tf.constant([1.0, -2.0], dtype = tf.float64), trainable = false);
        let other = tf.Variable(tf.constant([1.0, -2.0], dtype = tf.float64));
        let target = tf.constant([0.5, 0.5], dtype = tf.float64);
        let loss = tf.reduce_sum(tf.square(w - target) + tf.square(frozen - target) + tf.square(other - target));
        let step = tf.train.GradientDescentOptimizer(0.1).minimize(loss);
        let step_w_only = tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list = [w]);
    }
}

graph! {
    pub mod momentum {
        let w = tf.Variable(tf.constant([1.0, -2.0], dtype = tf.float64));
        let loss = tf.reduce_sum(tf.square(w - tf.constant([0.5, 0.5], dtype = tf.float64)));
        let step = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss);
        let init = tf.global_variables_initializer();
    }
}

graph! {
    pub mod adam {
        let w = tf.Variable(tf.constant([1.0, -2.0], dtype = tf.float64));
        let loss = tf.reduce_sum(tf.square(w - tf.constant([0.5, 0.5], dtype = tf.float64)));
        let step = tf.train.AdamOptimizer(0.1).minimize(loss);
    }
}

fn gradient(w: SVector<f64, 2>) -> SVector<f64, 2> {
    (w - vector![0.5, 0.5]) * 2.0
}

/// A Python number as TensorFlow's optimisers hold it: float32.
fn single(x: f64) -> f64 {
    x as f32 as f64
}

fn close(got: SVector<f64, 2>, want: SVector<f64, 2>) {
    assert!((got - want).amax() <= 1e-12 * want.amax(), "got {got}, want {want}");
}

#[test]
fn gradient_descent_trains_what_it_is_given() {
    let mut sess = descent::Session::new();
    sess.run(descent::step);
    // var -= lr * grad, for every trainable variable the loss reads.
    let lr = single(0.1);
    close(sess.variables().w, vector![1.0 - lr * 1.0, -2.0 + lr * 5.0]);
    close(sess.variables().other, vector![1.0 - lr * 1.0, -2.0 + lr * 5.0]);
    assert_eq!(sess.variables().frozen, vector![1.0, -2.0], "`trainable = false` is left alone");

    let mut sess = descent::Session::new();
    sess.run(descent::step_w_only);
    close(sess.variables().w, vector![1.0 - lr * 1.0, -2.0 + lr * 5.0]);
    assert_eq!(sess.variables().other, vector![1.0, -2.0], "`var_list` leaves the others alone");
}

#[test]
fn momentum_follows_tensorflows_rule() {
    // accumulation = momentum * accumulation + gradient; variable -= learning_rate * accumulation
    let (lr, mu) = (single(0.1), single(0.9));
    let mut w = vector![1.0, -2.0];
    let mut accumulation = SVector::<f64, 2>::zeros();
    let mut sess = momentum::Session::new();
    for _ in 0..2 {
        accumulation = accumulation * mu + gradient(w);
        w -= accumulation * lr;
        sess.run(momentum::step);
        close(sess.variables().w, w);
    }
    assert!((w - vector![0.73, -0.65]).amax() < 1e-7);
    // The initializer resets the velocity too: the next step is a first step again.
    sess.run(momentum::init);
    sess.run(momentum::step);
    close(sess.variables().w, vector![1.0 - lr * 1.0, -2.0 + lr * 5.0]);
}

#[test]
fn adam_follows_tensorflows_rule() {
    // lr_t <- lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    // m <- m + (g - m) (1 - beta1); v <- v + (g^2 - v) (1 - beta2)
    // variable <- variable - lr_t m / (sqrt(v) + epsilon)
    // with beta1^t and beta2^t kept in float32, multiplied by float32's betas after each step.
    let (lr, beta1, beta2, epsilon) = (single(0.1), single(0.9), single(0.999), single(1e-8));
    let (mut beta1_power, mut beta2_power) = (0.9f32, 0.999f32);
    let mut w = vector![1.0, -2.0];
    let (mut m, mut v) = (SVector::<f64, 2>::zeros(), SVector::<f64, 2>::zeros());
    let mut sess = adam::Session::new();
    for _ in 1..=2 {
        let g = gradient(w);
        let lr_t = lr * (1.0 - beta2_power as f64).sqrt() / (1.0 - beta1_power as f64);
        m += (g - m) * (1.0 - beta1);
        v += (g.component_mul(&g) - v) * (1.0 - beta2);
        w -= m.zip_map(&v, |m, v| lr_t * m / (v.sqrt() + epsilon));
        (beta1_power, beta2_power) = (beta1_power * 0.9, beta2_power * 0.999);
        sess.run(adam::step);
        close(sess.variables().w, w);
    }
    // The first step moves each weight by about the learning rate, whatever its gradient.
    assert!((w[0] - 1.0 + 0.1 + 0.1).abs() < 0.05);
}
