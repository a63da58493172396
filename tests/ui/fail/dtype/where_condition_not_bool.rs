use tfcore::graph;

graph! {
    pub mod bond {
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        let y = (a + b) / 2;
        let a_ = tf.where(y, y, a);
    }
}

fn main() {}
