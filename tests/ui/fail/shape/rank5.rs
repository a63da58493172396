// Tensors have rank 0 to 4 (NHWC images and their filters); a rank-5 shape says so.
use tfcore::graph;

graph! {
    pub mod videos {
        let clips = tf.placeholder(tf.float32, [None, 16, 28, 28, 3]);
    }
}

fn main() {}
