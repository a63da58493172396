use tfcore::graph;

graph! {
    pub mod layer {
        let b1 = tf.Variable(tf.zeros([3]));
        let reset = b1.assign(tf.zeros([2]));
    }
}

fn main() {}
