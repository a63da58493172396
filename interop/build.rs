// The graphs these tests include (`examples/models/*.rs`) name their files relative to the
// workspace's root, as the root package sees them: the macro reads them from there.
fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    println!("cargo:rustc-env=TFGRAPH_NPY_ROOT={}", root.display());
    println!("cargo:rerun-if-changed=build.rs");
}
