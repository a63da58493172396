use tfcore::graph;

graph! {
    pub mod bias {
        let x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let b = tf.constant([1.0, 2.0]);
        let y = x + b;
    }
}

fn main() {}
