use tfcore::graph;

graph! {
    pub mod opt {
        let w = tf.Variable(tf.ones([2]));
        let loss = tf.reduce_sum(tf.square(w));
        let step = tf.train.AdamOptimiser(0.01).minimize(loss);
    }
}

fn main() {}
