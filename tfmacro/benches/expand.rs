//! How long `graph!` takes to expand a graph of 10, 100 and 1,000 nodes: a chain of activations
//! after a product with a variable, each `let` a fetch (so each fetch's code, its memory plan and
//! its ONNX model are built), ending in a loss and a gradient-descent step over the chain; and the
//! graphs of `examples/models/` (the MLPerf Tiny models with their weights).
//!
//! ```text
//! cargo bench -p tfmacro --bench expand
//! ```
//!
//! A proc-macro crate exports only its macros, so this bench compiles the macro's modules itself,
//! from the same files as `src/lib.rs`, and calls the expansion on a `proc_macro2` token stream.

// The modules' own unit tests come along (cfg(test) is on in benches) and are never run here.
#![allow(dead_code, unused_imports)]

#[path = "../src/ast.rs"]
mod ast;
#[path = "../src/autodiff.rs"]
mod autodiff;
#[path = "../src/emit/mod.rs"]
mod emit;
#[path = "../src/error.rs"]
mod error;
#[path = "../src/eval.rs"]
mod eval;
#[path = "../src/expand.rs"]
mod expand;
#[path = "../src/fallback.rs"]
mod fallback;
#[path = "../src/files.rs"]
mod files;
#[path = "../src/infer.rs"]
mod infer;
#[path = "../src/ir.rs"]
mod ir;
#[path = "../../tfcore/src/math.rs"]
mod math;
#[path = "../../tfcore/src/npy.rs"]
#[allow(unused_imports)]
mod npy;
#[path = "../src/onnx/mod.rs"]
mod onnx;
#[path = "../src/ops/mod.rs"]
mod ops;
#[path = "../src/optimise.rs"]
mod optimise;
#[path = "../src/parse.rs"]
mod parse;
#[path = "../src/resolve/mod.rs"]
mod resolve;
#[path = "../src/tflite/mod.rs"]
mod tflite;
#[path = "../src/values.rs"]
mod values;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use proc_macro2::TokenStream;
use std::hint::black_box;

/// A graph of `nodes` nodes: a placeholder, a variable and their product, a chain of sigmoids and
/// tanhs, a summed loss and a gradient-descent step (the step's gradient nodes not counted).
fn graph(nodes: usize) -> TokenStream {
    let chain = nodes.saturating_sub(5);
    let mut text = String::from(
        "pub mod chain {\n let x = tf.placeholder(tf.float32, [None, 4]);\n let W = tf.Variable(tf.ones([4, 4]));\n let h0 = tf.matmul(x, W);\n",
    );
    for k in 1..=chain {
        let f = if k % 2 == 0 { "tf.tanh" } else { "tf.sigmoid" };
        text.push_str(&format!(" let h{k} = {f}(h{});\n", k - 1));
    }
    text.push_str(&format!(
        " let loss = tf.reduce_sum(h{chain});\n let step = tf.train.GradientDescentOptimizer(0.1).minimize(loss);\n}}\n"
    ));
    text.parse().expect("the graph's tokens")
}

fn expansion(c: &mut Criterion) {
    let mut group = c.benchmark_group("expand");
    group.sample_size(10);
    for nodes in [10, 100, 1000] {
        let tokens = graph(nodes);
        let out = expand::expand(tokens.clone()).to_string();
        assert!(!out.contains("compile_error"), "the graph of {nodes} nodes does not compile");
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &tokens, |b, tokens| {
            b.iter(|| expand::expand(black_box(tokens.clone())))
        });
    }
    group.finish();
}

/// The graphs the root package runs (`examples/models/`), as `graph!` receives them: the MLPerf
/// Tiny models read their weights from `tests/data/models/` when they expand.
fn models(c: &mut Criterion) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    // Where `np.load` paths start (see `files.rs`), set before anything expands.
    std::env::set_var("TFGRAPH_NPY_ROOT", root);
    let mut group = c.benchmark_group("expand model");
    group.sample_size(10);
    for model in ["mlp", "kws", "resnet8", "autoencoder"] {
        let text = std::fs::read_to_string(format!("{root}/examples/models/{model}.rs")).expect("the model's file");
        let start = text.find("graph! {").expect("a graph! block") + "graph! {".len();
        let end = text.rfind('}').expect("its closing brace");
        let tokens: TokenStream = text[start..end].parse().expect("the graph's tokens");
        let out = expand::expand(tokens.clone()).to_string();
        assert!(!out.contains("compile_error"), "{model} does not compile");
        group.bench_with_input(BenchmarkId::from_parameter(model), &tokens, |b, tokens| {
            b.iter(|| expand::expand(black_box(tokens.clone())))
        });
    }
    group.finish();
}

criterion_group!(benches, expansion, models);
criterion_main!(benches);
