// The seed's bond-yield bisection, shared by the tests that run it.
tfcore::graph! {
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
        let init = tf.global_variables_initializer();
    }
}
