use tfcore::graph;

graph! {
    pub mod images {
        let X = tf.placeholder(tf.float32, [None, 4, 4, 1]);
        let doubled = X * 2.0;
    }
}

fn main() {
    let mut sess = images::Session::new();
    let pixels = vec![0.0f32; 2 * 4 * 4 * 1];
    // Three channels, where the graph has one.
    let x = tfcore::Array4::<f32, 2, 4, 4, 3>::from_fn(|_, _, _, _| 0.0);
    let _ = sess.run(images::doubled { X: &x });
    // A slice, not a view of it.
    let _ = sess.run(images::doubled { X: &pixels[..] });
}
