// `tf.one_hot` takes its dtype from `on_value` when no `dtype` is given, as TensorFlow does; here
// `on_value` is an int32 and `off_value` a float that int32 cannot hold, and a tensor `on_value`
// disagrees with the `dtype` argument.
use tfcore::graph;

graph! {
    pub mod hot {
        let i = tf.placeholder(tf.int32, [2]);
        let mixed = tf.one_hot(i, 3, on_value = 5, off_value = 0.5);
        let wide = tf.one_hot(i, 3, on_value = tf.constant(2.0), dtype = tf.float64);
        let row = tf.one_hot(i, 3, on_value = tf.constant([1.0, 2.0]));
    }
}

fn main() {}
