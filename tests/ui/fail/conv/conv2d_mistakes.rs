// Three independent mistakes with `tf.nn.conv2d`, each reported on its layer in the graph's words:
// the filter's input channels (the issue's own example), an input that is not NHWC, and a VALID
// window larger than the image.
use tfcore::graph;

graph! {
    pub mod net {
        let x = tf.placeholder(tf.float32, [None, 32, 32, 3]);
        let w = tf.Variable(tf.zeros([3, 3, 16, 32]));
        let conv = tf.nn.conv2d(x, w, strides = [1, 1, 1, 1], padding = "SAME");
        let flat = tf.placeholder(tf.float32, [None, 784]);
        let k = tf.Variable(tf.zeros([5, 5, 1, 8]));
        let wrong_rank = tf.nn.conv2d(flat, k, strides = 1, padding = "SAME");
        let tiny = tf.placeholder(tf.float32, [None, 4, 4, 1]);
        let too_big = tf.nn.conv2d(tiny, k, strides = 1, padding = "VALID");
    }
}

fn main() {}
