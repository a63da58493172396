//! The seed's bond-yield bisection: a placeholder, `tf.where` and two variables refined in place.
//!
//! ```text
//! cargo run --release --example bond_yield
//! ```

use tfcore::graph;

graph! {
    /// Yield to maturity of a bond, by bisection.
    pub mod bond {
        // Specify the values our constant ops will output
        let C = tf.constant(5.0);
        let P = tf.constant(100.0);
        // We specify the initial values that our lower and upper bounds will be when initialised.
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        // We expect a floating number to be inserted into the graph
        let v_target = tf.placeholder("float");
        let y = (a + b) / 2;
        let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y);
        // Operations to set temporary values (a_ and b_) intended to be the next values of a and b.
        let a_ = tf.where(v_guess > v_target, y, a);
        let b_ = tf.where(v_guess < v_target, y, b);
        // The last stage of our graph is to assign the two temporary vals to our variables
        let step = tf.group(a.assign(a_), b.assign(b_));
    }
}

fn main() {
    let mut sess = bond::Session::new();
    println!("a_ for v_target = 100: {}", sess.run(bond::a_ { v_target: 100.0 }));
    println!("a_ for v_target = 130: {}", sess.run(bond::a_ { v_target: 130.0 }));

    // Run the step operation (and therefore whole graph) 100 times
    for _ in 0..100 {
        sess.run(bond::step { v_target: 95.0 });
    }
    println!("y after 100 steps at v_target = 95: {:.6}", sess.run(bond::y));
}
