use tfcore::graph;

graph! {
    pub mod labels {
        let Y = tf.placeholder(tf.uint8, [None]);
        let onehot = tf.one_hot(Y, 2);
    }
}

fn main() {
    let mut sess = labels::Session::new();
    let y = tfcore::nalgebra::vector![0.0f32, 1.0];
    sess.run(labels::onehot { Y: &y });
}
