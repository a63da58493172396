use tfcore::graph;

graph! {
    let a = tf.constant(1.0);
}

fn main() {}
