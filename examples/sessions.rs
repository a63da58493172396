//! The seed's two sessions over one graph: each keeps its own value of the variable.
//!
//! ```text
//! cargo run --release --example sessions
//! ```

use tfcore::graph;

graph! {
    /// Two sessions over one graph keep separate variable values.
    pub mod counter {
        // Create a variable with an initial value of 1
        let some_var = tf.Variable(1);
        // Create op to run variable initializers
        let init_op = tf.global_variables_initializer();
        // Create an op to replace the value held by some_var to 3
        let assign_op = some_var.assign(3);
    }
}

fn main() {
    // Set up two instances of a session
    let mut sess1 = counter::Session::new();
    let mut sess2 = counter::Session::new();

    // Initialize variables in both sessions
    sess1.run(counter::init_op);
    sess2.run(counter::init_op);
    println!("{}", sess1.run(counter::some_var)); // Outputs 1
    println!("{}", sess2.run(counter::some_var)); // Outputs 1

    // Change some_var in session1
    sess1.run(counter::assign_op);
    println!("{}", sess1.run(counter::some_var)); // Outputs 3
    println!("{}", sess2.run(counter::some_var)); // Outputs 1
}
