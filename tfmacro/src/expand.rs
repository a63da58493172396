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
    check_typed(&graph, &mut errors);
    if !errors.is_empty() {
        let mut out = errors.to_compile_errors();
        out.extend(fallback::stubs(&graph));
        return out;
    }
    // A fetch's feeds are fixed by the graph as written, before anything is rewritten.
    let feeds: Vec<Vec<usize>> = graph.fetches.iter().map(|f| graph.placeholders(f.node)).collect();
    for (fetch, feeds) in graph.fetches.iter_mut().zip(feeds) {
        fetch.feeds = feeds;
    }
    autodiff::differentiate(&mut graph);
    optimise::optimise(&mut graph);
    emit::emit(&graph)
}

// Every node a fetch reaches has a type once inference reports no error. The phases after it
// rely on that; if a gap in the checks ever let an untyped node through, it is reported here as
// an error on that node's tokens rather than becoming a panic later.
fn check_typed(graph: &crate::ir::Graph, errors: &mut Errors) {
    if !errors.is_empty() {
        return;
    }
    let roots: Vec<usize> = graph.fetches.iter().map(|f| f.node).collect();
    let mut all = graph.topo_order(&roots);
    for node in &graph.nodes {
        if let crate::ir::Op::Variable(v) = &node.op {
            all.extend(graph.topo_order(&[v.init]));
        }
    }
    if let Some(&id) = all.iter().find(|&&id| graph.nodes[id].ty.is_none()) {
        let message = format!("cannot work out the dtype and shape of {}", graph.describe(id));
        errors.at(graph.nodes[id].loc, message);
    }
}
