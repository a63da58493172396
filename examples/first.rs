//! The seed's first graph: two constants and their sum.
//!
//! ```text
//! cargo run --release --example first
//! ```

use tfcore::graph;

graph! {
    /// The seed's first graph.
    pub mod first {
        let a = tf.constant([2.5, 2]);
        let b = tf.constant([3, 6], dtype = tf.float32);
        let total = tf.add(a, b);
    }
}

fn main() {
    let mut sess = first::Session::new();
    println!("{}", tfcore::display(&sess.run(first::total)));
}
