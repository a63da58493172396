// Independent mistakes with the other layers of a convolutional network, each reported on its
// layer in the graph's words: a pooling of a rank-2 tensor, a bias of the wrong length, tensors
// that `tf.concat` cannot join, `tf.pad` with one pair for a rank-4 tensor, a mode that is not
// supported, and a batch normalization whose mean has the wrong number of channels.
use tfcore::graph;

graph! {
    pub mod net {
        let x = tf.placeholder(tf.float32, [None, 8, 8, 3]);
        let flat = tf.placeholder(tf.float32, [None, 64]);
        let pooled = tf.nn.max_pool(flat, ksize = 2, strides = 2, padding = "SAME");
        let biased = tf.nn.bias_add(x, tf.zeros([4]));
        let joined = tf.concat([x, flat], axis = 1);
        let padded = tf.pad(x, [[1, 1]]);
        let mirrored = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode = "REFLECT");
        let normal = tf.nn.batch_normalization(x, tf.zeros([4]), tf.ones([3]), None, None, 0.001);
    }
}

fn main() {}
