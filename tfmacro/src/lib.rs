//! The `graph!` compiler behind [`tfcore`](https://docs.rs/tfcore). Depend on `tfcore`, which
//! re-exports the macro; this crate is an implementation detail.
//!
//! The compiler is a pipeline, one module per phase, each handing the next a checked value:
//! `parse` (tokens to a syntax tree), `resolve` (names and ops: the graph IR of `ir`), `infer`
//! (dtypes and shapes, and the checks that need them), `autodiff` (gradients and optimisers as
//! plain nodes), `optimise` (folding, simplification, shared subexpressions) and `emit` (the Rust
//! module). `expand` drives them; errors go to one collector (`error::Errors`), so that a compile
//! reports every independent mistake.
//!
//! The phases know the graph's structure; each math op has one home in `ops`, which holds every
//! rule the phases need of it (spellings, dtype and shape, gradient, folding, emission).
//!
//! No `unsafe` but in `tflite/schema.rs`, the flatbuffers reader `flatc` generated, whose
//! accessors rely on the verifier that `root_as_model` runs first.
#![deny(unsafe_code)]

mod ast;
mod autodiff;
mod emit;
mod error;
mod eval;
mod expand;
mod fallback;
mod files;
mod infer;
mod ir;
/// The float32 functions whose bits tfgraph defines itself, shared with `tfcore`'s run time so that
/// folding gives the bits running gives. `shared/` holds symbolic links to tfcore's files (as cxx
/// shares its syntax module): `cargo package` copies the files they point to into the crate.
#[path = "shared/math.rs"]
mod math;
/// NumPy's file formats, shared with `tfcore`'s run time.
#[path = "shared/npy.rs"]
#[allow(dead_code, unused_imports)]
mod npy;
mod onnx;
mod ops;
mod optimise;
mod parse;
mod resolve;
mod tflite;
mod values;

#[cfg(test)]
mod tests;

/// Declares a TensorFlow-1-style dataflow graph, checked and compiled at build time.
///
/// ```
/// use tfcore::graph;
///
/// graph! {
///     /// Yield to maturity of a bond, by bisection.
///     pub mod bond {
///         let C = tf.constant(5.0);
///         let P = tf.constant(100.0);
///         let a = tf.Variable(-10.0);
///         let b = tf.Variable(10.0);
///         let v_target = tf.placeholder("float");
///         let y = (a + b) / 2;
///         let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y);
///         let a_ = tf.where(v_guess > v_target, y, a);
///         let b_ = tf.where(v_guess < v_target, y, b);
///         let step = tf.group(a.assign(a_), b.assign(b_));
///     }
/// }
///
/// let mut sess = bond::Session::new();
/// assert_eq!(sess.run(bond::a_ { v_target: 100.0 }), 0.0);
/// for _ in 0..100 {
///     sess.run(bond::step { v_target: 95.0 });
/// }
/// assert!((sess.run(bond::y) - 0.125163).abs() < 1e-6);
/// ```
///
/// The block holds one `mod` of `let` nodes and `const` items. It generates that module with a
/// `Session`, a `Variables` struct, one fetch type per `let` (whose fields are the placeholders
/// it needs) and `GRAPH_DOT`. The README lists the supported ops and every difference from
/// TensorFlow.
#[proc_macro]
pub fn graph(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::expand(input.into()).into()
}
