use tfcore::graph;

graph! {
    pub mod counter {
        let some_var = tf.Variable(1);
        let assign_op = some_var.assign(3.5);
    }
}

fn main() {}
