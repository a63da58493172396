// `y` needs no placeholder: feeding one is an unknown field.
use tfcore::graph;

graph! {
    pub mod bond {
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        let v_target = tf.placeholder("float");
        let y = (a + b) / 2;
        let a_ = tf.where(y > v_target, y, a);
    }
}

fn main() {
    let mut sess = bond::Session::new();
    sess.run(bond::y { v_target: 95.0 });
}
