//! The README's "Errors" section shows exactly what the compiler says: each block marked
//! `<!-- stderr: PATH -->` must equal the snapshot at PATH.

#[test]
fn readme_error_blocks_match_their_snapshots() {
    let readme = include_str!("../README.md");
    let mut blocks = 0;
    let mut rest = readme;
    while let Some(start) = rest.find("<!-- stderr: ") {
        let after = &rest[start + "<!-- stderr: ".len()..];
        let path = &after[..after.find(" -->").expect("a closed marker")];
        let body = &after[after.find("```text\n").expect("a text block after the marker") + "```text\n".len()..];
        let shown = &body[..body.find("\n```").expect("a closed block")];
        let snapshot = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(shown, snapshot.trim_end_matches('\n'), "README block for {path} is out of date");
        blocks += 1;
        rest = body;
    }
    assert_eq!(blocks, 5, "the README shows the five most common mistakes");
}
