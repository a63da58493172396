//! Snapshots of the macro's output, to show that a change to the compiler leaves the generated
//! code as it was (or to see exactly what it changed).
//!
//! The test expands every `graph! { ... }` written in the repository's Rust files (examples,
//! tests, benchmarks, doc comments aside) and a fixed fuzz corpus of generated and mutated graphs
//! (the generator of [`super::fuzz`], from a fixed seed), and writes each expansion's text to a
//! folder, one file per graph. Run it before and after a change and compare the folders:
//!
//! ```text
//! TFGRAPH_SNAPSHOT=/tmp/before cargo test --release -p tfmacro --lib snapshot -- --ignored
//! # ... change the compiler ...
//! TFGRAPH_SNAPSHOT=/tmp/after cargo test --release -p tfmacro --lib snapshot -- --ignored
//! diff -r /tmp/before /tmp/after && echo byte-identical
//! ```
//!
//! `TFGRAPH_SNAPSHOT_CASES` sets how many fuzz graphs are written (3,000 by default). It is
//! `#[ignore]`d: it writes files, and it only means something beside another run.

use super::fuzz::{corpus_tokens, random_case, Rng};
use crate::expand::expand;
use proc_macro2::{TokenStream, TokenTree};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The `graph!` invocations in a token stream (at any depth: inside functions, modules and
/// `macro_rules!` bodies), as the tokens inside their braces.
fn invocations(tokens: TokenStream, out: &mut Vec<TokenStream>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (k, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident == "graph" => {
                if let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(group))) =
                    (tokens.get(k + 1), tokens.get(k + 2))
                {
                    if bang.as_char() == '!' {
                        out.push(group.stream());
                    }
                }
            }
            TokenTree::Group(group) => invocations(group.stream(), out),
            _ => {}
        }
    }
}

/// The Rust files under `dir`, in a fixed order, leaving out build output and the firmware's
/// vendored copies.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The folder holding the nearest `Cargo.toml` above `file`: where its `np.load` paths start.
fn crate_root(file: &Path) -> PathBuf {
    let mut dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    while !dir.join("Cargo.toml").exists() {
        match dir.parent() {
            Some(up) => dir = up.to_path_buf(),
            None => break,
        }
    }
    dir
}

#[test]
#[ignore = "writes the expansions to $TFGRAPH_SNAPSHOT, to compare two runs"]
fn snapshot() {
    let Some(folder) = std::env::var_os("TFGRAPH_SNAPSHOT").map(PathBuf::from) else {
        panic!("set TFGRAPH_SNAPSHOT to the folder to write the expansions to");
    };
    std::fs::create_dir_all(&folder).expect("the snapshot folder");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf();
    let mut files = Vec::new();
    rust_files(&repo, &mut files);
    let mut written = 0;
    for file in &files {
        if file.starts_with(repo.join("tfmacro/src/tests")) {
            continue; // these tests' own graphs are strings, and this file's text mentions `graph!`
        }
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let Ok(tokens) = TokenStream::from_str(&text) else { continue };
        let mut found = Vec::new();
        invocations(tokens, &mut found);
        // `np.load` paths are relative to the crate the graph is in.
        std::env::set_var("TFGRAPH_NPY_ROOT", crate_root(file));
        let stem = file.strip_prefix(&repo).unwrap_or(file).to_string_lossy().replace('/', "__");
        for (k, graph) in found.into_iter().enumerate() {
            let expansion = expand(graph).to_string();
            std::fs::write(folder.join(format!("{stem}.{k}.txt")), expansion).expect("a snapshot file");
            written += 1;
        }
    }
    std::env::remove_var("TFGRAPH_NPY_ROOT");
    let cases = super::fuzz::env_number("TFGRAPH_SNAPSHOT_CASES", 3_000);
    let corpus = corpus_tokens();
    let mut rng = Rng(0x5eed_5a9e);
    for k in 0..cases {
        let input = random_case(k, &mut rng, &corpus);
        let Ok(tokens) = TokenStream::from_str(&input) else { continue };
        let expansion = expand(tokens).to_string();
        std::fs::write(folder.join(format!("fuzz.{k}.txt")), format!("{input}\n=====\n{expansion}"))
            .expect("a snapshot file");
    }
    println!("snapshot: {written} graphs of the repository and {cases} fuzz cases written to {}", folder.display());
    assert!(written > 50, "the repository's graphs were found ({written})");
}
