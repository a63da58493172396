// The Rust source `Variables::to_rust_const` writes compiles as a `const`, and every value in it
// reads back to the same bits as in the session that wrote it.
include!("../../shared/layer.rs");
include!("../../data/exported_layer.rs");

fn main() {
    let original = *layer::Session::new().variables();
    let baked = TRAINED;
    let bits = |v: &layer::Variables| (v.W.map(f32::to_bits), v.b.map(f64::to_bits));
    assert_eq!(bits(&baked), bits(&original));
    assert_eq!(baked, original);
    let mut sess = layer::Session::from_variables(TRAINED);
    assert_eq!(sess.variables().count, -7);
    let _ = &mut sess;
}
