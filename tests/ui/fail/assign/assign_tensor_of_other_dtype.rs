use tfcore::graph;

graph! {
    pub mod layer {
        let b1 = tf.Variable(tf.zeros([3]));
        let reset = b1.assign(tf.constant([1, 2, 3]));
    }
}

fn main() {}
