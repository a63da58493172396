// `Y` has no shape; its only use asks `one_hot(Y, 2)` to match a `[None, 3]` tensor, which no
// shape of `Y` can do.
use tfcore::graph;

graph! {
    pub mod circle {
        let X = tf.placeholder(tf.float32, [None, 3]);
        let Y = tf.placeholder(tf.uint8);
        let loss = -tf.reduce_sum(tf.one_hot(Y, 2) * tf.log(X));
    }
}

fn main() {}
