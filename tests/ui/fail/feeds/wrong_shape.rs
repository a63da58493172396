use tfcore::graph;

graph! {
    pub mod layer {
        let X = tf.placeholder(tf.float32, [None, 2]);
        let W = tf.Variable(tf.ones([2, 3]));
        let h = tf.matmul(X, W);
    }
}

fn main() {
    let mut sess = layer::Session::new();
    let x = tfcore::nalgebra::matrix![1.0f32, 2.0, 3.0];
    sess.run(layer::h { X: &x });
}
