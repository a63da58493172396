// A Python number takes the dtype of the tensor it meets, and 0.5 is no int32.
use tfcore::graph;

graph! {
    pub mod counter {
        let some_var = tf.Variable(1);
        let half = some_var * 0.5;
    }
}

fn main() {}
