//! Trained weights out of a session: as Rust source (`Variables::to_rust_const`), and through serde
//! (`tfcore`'s `serde` feature) for checkpoints.

include!("shared/layer.rs");

#[test]
fn rust_source_is_what_the_committed_file_holds() {
    // `tests/ui/pass/exported_const.rs` compiles `tests/data/exported_layer.rs` and checks every
    // value reads back to the same bits; this checks that file is what `to_rust_const` writes.
    let written = layer::Session::new().variables().to_rust_const("TRAINED").to_string();
    let committed = include_str!("data/exported_layer.rs");
    let body = committed.lines().filter(|line| !line.starts_with("//")).collect::<Vec<_>>().join("\n") + "\n";
    assert_eq!(written, body, "regenerate tests/data/exported_layer.rs from this output");
}

#[test]
fn checkpoints_round_trip_through_serde() {
    let mut sess = layer::Session::new();
    sess.variables_mut().W[(0, 0)] = f32::from_bits(0x3eaaaaab);
    let json = serde_json::to_string(sess.variables()).expect("serialises");
    let back: layer::Variables = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(&back, sess.variables());
    assert_eq!(back.W[(0, 0)].to_bits(), 0x3eaaaaab);
    let resumed = layer::Session::from_variables(back);
    assert_eq!(resumed.variables().pixels, sess.variables().pixels);
}
