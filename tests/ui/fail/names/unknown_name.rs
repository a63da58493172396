use tfcore::graph;

graph! {
    pub mod layers {
        let hidden_layer = tf.constant([1.0, 2.0]);
        let output = tf.sigmoid(hiden_layer);
    }
}

fn main() {}
