use tfcore::graph;

graph! {
    pub mod bond {
        let C = tf.constant(5.0);
        let reset = C.assign(3.0);
    }
}

fn main() {}
