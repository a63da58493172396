// Placeholders with `None` dimensions, `const` dims, and shapes settled by their uses.
use tfcore::graph;
use tfcore::nalgebra::{matrix, vector, SMatrix, SVector};

graph! {
    pub mod net {
        const INPUTS: usize = 2;
        const OUTPUTS: usize = 3;
        const SCALE: f32 = 0.5;

        let W = tf.Variable(tf.ones([INPUTS, OUTPUTS]));
        let X = tf.placeholder(tf.float32, [None, INPUTS]);
        let labels = tf.placeholder(tf.int32);
        let logits = tf.matmul(X, W) * SCALE;
        let hits = tf.one_hot(labels, OUTPUTS) * logits;
        let total = tf.reduce_sum(hits);
        let per_row = tf.reduce_sum(logits, axis = 1);
    }
}

fn main() {
    assert_eq!(net::INPUTS, 2);
    let mut sess = net::Session::new();
    let x: SMatrix<f32, 2, 2> = matrix![1.0, 2.0; 3.0, 4.0];
    // Only `X` is needed: pruning leaves `labels` out of the fetch type.
    let rows: SVector<f32, 2> = sess.run(net::per_row { X: &x });
    assert_eq!(rows, vector![4.5, 10.5]);
    let total: f32 = sess.run(net::total { X: &x, labels: &vector![0, 2] });
    assert_eq!(total, 1.5 + 3.5);
}
