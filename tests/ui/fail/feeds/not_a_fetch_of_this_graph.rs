use tfcore::graph;

graph! {
    pub mod first {
        let total = tf.constant(1.0);
    }
}

graph! {
    pub mod second {
        let total = tf.constant(2.0);
    }
}

fn main() {
    let mut sess = first::Session::new();
    sess.run(second::total);
}
