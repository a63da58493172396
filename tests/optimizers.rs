//! The optimisers against TensorFlow's documented update rules, steps computed by hand.
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

fn close(got: SVector<f64, 2>, want: SVector<f64, 2>) {
    assert!((got - want).amax() <= 1e-12 * want.amax(), "got {got}, want {want}");
}

#[test]
fn gradient_descent_trains_what_it_is_given() {
    let mut sess = descent::Session::new();
    sess.run(descent::step);
    // var -= lr * grad, for every trainable variable the loss reads.
    close(sess.variables().w, vector![1.0 - 0.1 * 1.0, -2.0 + 0.1 * 5.0]);
    close(sess.variables().other, vector![0.9, -1.5]);
    assert_eq!(sess.variables().frozen, vector![1.0, -2.0], "`trainable = false` is left alone");

    let mut sess = descent::Session::new();
    sess.run(descent::step_w_only);
    close(sess.variables().w, vector![0.9, -1.5]);
    assert_eq!(sess.variables().other, vector![1.0, -2.0], "`var_list` leaves the others alone");
}

#[test]
fn momentum_follows_tensorflows_rule() {
    // accumulation = momentum * accumulation + gradient; variable -= learning_rate * accumulation
    let (lr, mu) = (0.1, 0.9);
    let mut w = vector![1.0, -2.0];
    let mut accumulation = SVector::<f64, 2>::zeros();
    let mut sess = momentum::Session::new();
    for _ in 0..2 {
        accumulation = accumulation * mu + gradient(w);
        w -= accumulation * lr;
        sess.run(momentum::step);
        close(sess.variables().w, w);
    }
    close(w, vector![0.73, -0.65]);
    // The initializer resets the velocity too: the next step is a first step again.
    sess.run(momentum::init);
    sess.run(momentum::step);
    close(sess.variables().w, vector![0.9, -1.5]);
}

#[test]
fn adam_follows_tensorflows_rule() {
    // t <- t + 1; lr_t <- lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    // m <- beta1 m + (1 - beta1) g; v <- beta2 v + (1 - beta2) g^2
    // variable <- variable - lr_t m / (sqrt(v) + epsilon)
    let (lr, beta1, beta2, epsilon) = (0.1f64, 0.9f64, 0.999f64, 1e-8);
    let mut w = vector![1.0, -2.0];
    let (mut m, mut v) = (SVector::<f64, 2>::zeros(), SVector::<f64, 2>::zeros());
    let mut sess = adam::Session::new();
    for t in 1..=2 {
        let g = gradient(w);
        let lr_t = lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t));
        m = m * beta1 + g * (1.0 - beta1);
        v = v * beta2 + g.component_mul(&g) * (1.0 - beta2);
        w -= m.zip_map(&v, |m, v| lr_t * m / (v.sqrt() + epsilon));
        sess.run(adam::step);
        close(sess.variables().w, w);
    }
    // The first step moves each weight by about the learning rate, whatever its gradient.
    assert!((w[0] - 1.0 + 0.1 + 0.1).abs() < 0.05);
}
