// The seed's own warning: `tf.constant([3, 6])` without a dtype is int32.
use tfcore::graph;

graph! {
    pub mod first {
        let a = tf.constant([2.5, 2]);
        let b = tf.constant([3, 6]);
        let total = tf.add(a, b);
    }
}

fn main() {}
