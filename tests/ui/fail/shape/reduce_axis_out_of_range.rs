use tfcore::graph;

graph! {
    pub mod sums {
        let x = tf.constant([[1.0, 2.0], [3.0, 4.0]]);
        let s = tf.reduce_sum(x, axis = 2);
    }
}

fn main() {}
