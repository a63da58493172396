// `X` and `Y` share their `None` dimension (the graph multiplies them elementwise), so they must
// be fed the same number of rows.
use tfcore::graph;
use tfcore::nalgebra::{SMatrix, SVector};

graph! {
    pub mod circle {
        let X = tf.placeholder(tf.float32, [None, 2]);
        let Y = tf.placeholder(tf.uint8, [None]);
        let loss = -tf.reduce_sum(tf.one_hot(Y, 2) * X);
    }
}

fn main() {
    let mut sess = circle::Session::new();
    let x = SMatrix::<f32, 4, 2>::zeros();
    let y = SVector::<u8, 3>::zeros();
    sess.run(circle::loss { X: &x, Y: &y });
}
