// Reshapes that cannot hold the elements, each reported on its op with both shapes.
use tfcore::graph;

graph! {
    pub mod flat {
        let images = tf.placeholder(tf.float32, [None, 28, 28, 1]);
        let rows = tf.reshape(images, [-1, 27, 27]);
        let fixed = tf.zeros([2, 3]);
        let wrong = tf.reshape(fixed, [4, 2]);
        let squeezed = tf.squeeze(fixed, axis = [0]);
    }
}

fn main() {}
