//! The driver: one phase after another, each handing a checked value to the next.

use crate::error::Errors;
use crate::{autodiff, emit, fallback, infer, optimise, parse, resolve};
use proc_macro2::TokenStream;

/// Expands the tokens of a `graph!` invocation: the generated module, or one compile error per
/// mistake found (with stub items, so that nothing else fails because of them).
pub fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let Some(def) = parse::parse(input, &mut errors) else {
        return errors.to_compile_errors();
    };
    let mut graph = resolve::resolve(def, &mut errors);
    infer::infer(&mut graph, &mut errors);
    if !errors.is_empty() {
        let mut out = errors.to_compile_errors();
        out.extend(fallback::stubs(&graph));
        return out;
    }
    autodiff::differentiate(&mut graph);
    optimise::optimise(&mut graph);
    emit::emit(&graph)
}
