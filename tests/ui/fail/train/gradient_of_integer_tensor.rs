use tfcore::graph;

graph! {
    pub mod counts {
        let w = tf.Variable(tf.ones([2]));
        let labels = tf.placeholder(tf.int32, [2]);
        let loss = tf.reduce_sum(w * tf.cast(labels, tf.float32));
        let grads = tf.gradients(loss, [w, labels]);
    }
}

fn main() {}
