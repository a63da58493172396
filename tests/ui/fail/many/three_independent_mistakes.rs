// Three independent mistakes: three errors, each on its own token, and nothing else. The code
// using the module below compiles against the stub items the macro emits beside its errors.
use tfcore::graph;

graph! {
    pub mod bond {
        let C = tf.constant(5.0);
        let P = tf.constant(100);
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        let v_target = tf.placeholder("float");
        let y = (a + b) / 2;
        let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + (C + P) * tf.exp(-2 * y);
        let a_ = tf.where(v_guess > v_target, y, a);
        let b_ = tf.where(v_gess < v_target, y, b);
        let step = tf.group(a.assign(a_), b.assign(b_), C.assign(1.0));
    }
}

fn main() {
    let mut sess = bond::Session::new();
    assert_eq!(sess.run(bond::a_ { v_target: 100.0 }), 0.0);
    for _ in 0..100 {
        sess.run(bond::step { v_target: 95.0 });
    }
    println!("{:.6}", sess.run(bond::y));
    let bounds = (sess.variables().a, sess.variables_mut().b);
    let guess = sess.run(bond::v_guess) * 2.0 + 1.0;
    println!("{bounds:?} {guess}");
}
