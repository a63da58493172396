// Nothing combines `x` with a tensor of known shape, so its shape cannot be inferred.
use tfcore::graph;

graph! {
    pub mod unshaped {
        let x = tf.placeholder(tf.float32);
        let e = tf.exp(x);
    }
}

fn main() {}
