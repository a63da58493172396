//! The compile-time suite: graphs that must compile (and run), and mistakes that must not, each
//! with the message reviewed in its `.stderr` snapshot.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*/*.rs");
}
