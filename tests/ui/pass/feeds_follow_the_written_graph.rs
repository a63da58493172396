// A fetch's fields are the placeholders its node reads in the graph as written, whatever the
// optimiser later finds unneeded: here the gradient with respect to `v` does not depend on `p`,
// and `x * 0`-style rewrites could drop more, but the fetch still takes `p`, as TensorFlow would.
use tfcore::graph;
use tfcore::nalgebra::vector;

graph! {
    pub mod g {
        let v = tf.Variable(tf.constant([1.0, 2.0]));
        let p = tf.placeholder(tf.float32, [2]);
        let c = tf.constant([3.0, 4.0]);
        let loss = tf.reduce_mean((v - v + p) * c);
        let grads = tf.gradients(loss, [v]);
        let step = tf.train.GradientDescentOptimizer(0.5).minimize(loss);
    }
}

fn main() {
    let mut sess = g::Session::new();
    let p = vector![10.0, 20.0];
    // d loss / d v is ((1 - 1) * c) / 2 = 0, which does not read `p`; `p` is still a field.
    let (dv,) = sess.run(g::grads { p: &p });
    assert_eq!(dv, vector![0.0, 0.0]);
    sess.run(g::step { p: &p });
    assert_eq!(sess.variables().v, vector![1.0, 2.0]);
    assert_eq!(sess.run(g::loss { p: &p }), (10.0 * 3.0 + 20.0 * 4.0) / 2.0);
}
