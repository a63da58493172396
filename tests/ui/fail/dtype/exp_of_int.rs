use tfcore::graph;

graph! {
    pub mod ints {
        let n = tf.constant([1, 2, 3]);
        let e = tf.exp(n);
    }
}

fn main() {}
