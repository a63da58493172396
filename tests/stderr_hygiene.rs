//! The compile-fail snapshots show users only their own code: no message names generated
//! internals (`__private`) or nalgebra's trait machinery, and every location points into the
//! test's own source, never into tfcore, nalgebra or the macro's output elsewhere.

use std::path::{Path, PathBuf};

/// Every `.stderr` snapshot under `dir`.
fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable test directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(snapshots(&path));
        } else if path.extension().is_some_and(|e| e == "stderr") {
            found.push(path);
        }
    }
    found
}

#[test]
fn snapshots_name_no_generated_internals_and_point_only_at_user_code() {
    let all = snapshots(Path::new("tests/ui"));
    assert!(all.len() >= 30, "expected the whole suite, found {} snapshots", all.len());
    let mut problems = Vec::new();
    for path in &all {
        let text = std::fs::read_to_string(path).expect("readable snapshot");
        for forbidden in ["__private", "DefaultAllocator", "Allocator<", "ShapeConstraint"] {
            if text.contains(forbidden) {
                problems.push(format!("{}: mentions `{forbidden}`", path.display()));
            }
        }
        let own = path.with_extension("rs");
        let own = own.to_string_lossy();
        for line in text.lines().filter_map(|l| l.trim_start().strip_prefix("--> ")) {
            let file = line.split(':').next().unwrap_or_default();
            if !own.ends_with(file) {
                problems.push(format!("{}: points at `{line}`, outside the test's own code", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
