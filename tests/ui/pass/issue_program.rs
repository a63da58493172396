// The program of the `graph!` compiler issue, verbatim: it must compile and its asserts hold.
use tfcore::graph;

graph! {
    /// The seed's first graph.
    pub mod first {
        let a = tf.constant([2.5, 2]);
        let b = tf.constant([3, 6], dtype = tf.float32);
        let total = tf.add(a, b);
    }
}

graph! {
    /// Two sessions over one graph keep separate variable values.
    pub mod counter {
        let some_var = tf.Variable(1);
        let init_op = tf.global_variables_initializer();
        let assign_op = some_var.assign(3);
    }
}

graph! {
    /// Yield to maturity of a bond, by bisection.
    pub mod bond {
        let C = tf.constant(5.0);
        let P = tf.constant(100.0);
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        let v_target = tf.placeholder("float");
        let y = (a + b) / 2;
        let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y);
        let a_ = tf.where(v_guess > v_target, y, a);
        let b_ = tf.where(v_guess < v_target, y, b);
        let step = tf.group(a.assign(a_), b.assign(b_));
    }
}

fn main() {
    let mut sess = first::Session::new();
    assert_eq!(sess.run(first::total), nalgebra::vector![5.5, 8.0]);

    let (mut s1, mut s2) = (counter::Session::new(), counter::Session::new());
    s1.run(counter::init_op);
    s2.run(counter::init_op);
    s1.run(counter::assign_op);
    assert_eq!((s1.run(counter::some_var), s2.run(counter::some_var)), (3, 1));

    let mut sess = bond::Session::new();
    assert_eq!(sess.run(bond::a_ { v_target: 100.0 }), 0.0);
    assert_eq!(sess.run(bond::a_ { v_target: 130.0 }), -10.0);
    for _ in 0..100 {
        sess.run(bond::step { v_target: 95.0 });
    }
    println!("{}", sess.run(bond::y)); // 0.125163, as the seed prints
}
