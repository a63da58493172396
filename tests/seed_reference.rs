//! The seed's first graph and bond bisection against TensorFlow 2.21's own numbers
//! (`tests/data/seed_programs_tf.json`, copied from the project's reference data).

use serde_json::Value;
use tfcore::graph;

graph! {
    pub mod first {
        let a = tf.constant([2.5, 2]);
        let b = tf.constant([3, 6], dtype = tf.float32);
        let total = tf.add(a, b);
    }
}

include!("shared/bond.rs");

fn reference() -> Value {
    serde_json::from_str(include_str!("data/seed_programs_tf.json")).expect("valid JSON")
}

#[test]
fn first_total_is_tensorflows() {
    let expected: Vec<f64> = serde_json::from_value(reference()["total"].clone()).unwrap();
    let total = first::Session::new().run(first::total);
    assert_eq!(total.iter().map(|x| *x as f64).collect::<Vec<_>>(), expected);
}

#[test]
fn a_for_two_targets_is_tensorflows() {
    let reference = reference();
    let mut sess = bond::Session::new();
    assert_eq!(sess.run(bond::a_ { v_target: 100.0 }) as f64, reference["a_for_v_target_100"].as_f64().unwrap());
    assert_eq!(sess.run(bond::a_ { v_target: 130.0 }) as f64, reference["a_for_v_target_130"].as_f64().unwrap());
}

#[test]
fn bisection_follows_tensorflow_step_by_step() {
    let expected: Vec<f64> = serde_json::from_value(reference()["y_after_each_step_v_target_95"].clone()).unwrap();
    assert_eq!(expected.len(), 100);
    let mut sess = bond::Session::new();
    for (step, want) in expected.iter().enumerate() {
        sess.run(bond::step { v_target: 95.0 });
        let y = sess.run(bond::y) as f64;
        assert!((y - want).abs() <= 1e-6, "after step {}: y = {y}, TensorFlow {want}", step + 1);
    }
    assert_eq!(format!("{:.6}", sess.run(bond::y)), "0.125163");
}
