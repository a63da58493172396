// `a_` needs `v_target`: running it without one is a missing field.
use tfcore::graph;

graph! {
    pub mod bond {
        let a = tf.Variable(-10.0);
        let v_target = tf.placeholder("float");
        let a_ = tf.where(a > v_target, a, a);
    }
}

fn main() {
    let mut sess = bond::Session::new();
    sess.run(bond::a_ {});
}
