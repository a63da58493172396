//! Phase 6, emit: the Rust module of a checked, differentiated and optimised graph, in three
//! steps.
//!
//! 1. **Plan** (`plan.rs`, and `chunks.rs` for fetches run in chunks of rows): for each fetch,
//!    and for the variables' initial values, an immutable [`plan::Plan`] of how every node it
//!    needs is computed and where each stored tensor lives.
//! 2. **Lower** (`lower.rs`): the statements computing a plan's nodes, written from the plan
//!    alone; each op writes its elements or kernel calls through a narrow context
//!    ([`lower::Lower`]).
//! 3. **Assemble**, one file per kind of item: `session.rs` (`Variables`, `Session`, the initial
//!    values), `feeds.rs` (what each placeholder takes), `fetch.rs` (a fetch's type and its
//!    fixed-size body), `dynamic.rs` (its body for feeds of run-time size), `calling.rs` (a fetch
//!    written over another's value), `onnx.rs` and `dot.rs` (the graph as ONNX and as DOT),
//!    `names.rs` (the names and Rust types all of them use). This file drives them.
//!
//! For `pub mod bond { ... }` the module holds the graph's `const` items, `Variables` (a public
//! field per variable), `Session` (the variables, the optimisers' state, the random generator),
//! one fetch type per named node (its public fields are the placeholders the node needs) with the
//! code that runs exactly that node's subgraph, and `GRAPH_DOT`. Generated code reaches `tfcore`
//! only through `::tfcore::__private`, uses no heap, no `std` and no `unsafe`.

pub mod chunks;
pub mod lower;
pub mod plan;

mod calling;
mod dot;
mod dynamic;
mod feeds;
mod fetch;
mod names;
mod onnx;
mod session;

pub use names::Names;

use crate::ir::{DType, Dim, Graph, NodeId, Op, Storage, TensorType, Type};
use lower::{Body, Context};
use plan::Fed;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::{BTreeSet, HashMap};

use calling::*;
use dynamic::*;
use feeds::*;
use fetch::*;
use names::has_sym;
use session::*;

/// The module for a graph that passed every check.
pub fn emit(graph: &Graph) -> TokenStream {
    let names = Names::new(graph);
    let (vis, name, attrs) = (&graph.vis, &graph.name, &graph.attrs);
    let consts = graph.consts.iter().map(|c| {
        let (attrs, name, ty, value) = (&c.attrs, &c.name, &c.ty, &c.value_tokens);
        quote!(#(#attrs)* pub const #name: #ty = #value;)
    });
    // The constant tensors some plan reads, each a `static` of the module.
    let mut statics = BTreeSet::new();
    let state = state(graph, &names, &mut statics);
    let mut done: Vec<Emitted> = Vec::new();
    // Where each node's first fetch is in `done`.
    let mut emitted: HashMap<NodeId, usize> = HashMap::new();
    let mut fetches: Vec<TokenStream> = Vec::new();
    for f in &graph.fetches {
        // Planned one at a time: a plan's tables are as long as the graph. A fetch that calls
        // another plans only the nodes above it.
        let (code, fetched) = match callee(graph, f, &done, &emitted) {
            Some((j, callee)) => calling_fetch(graph, &names, f, &Body::until(graph, &names, f.node, j), j, callee),
            None => fetch(graph, &names, f, &Body::new(graph, &names, &[f.node])),
        };
        fetches.push(code);
        statics.extend(fetched.statics.iter().copied());
        emitted.entry(f.node).or_insert(done.len());
        done.push(fetched);
    }
    let statics = names.statics(graph, &statics);
    let feeds = feeds_module(graph, &names);
    let onnx = onnx::items(graph, &names);
    let dot = dot::graph_dot(graph);
    let dot_doc = format!(
        " The graph `{name}` in Graphviz DOT, for `dot -Tsvg`: every node its fetches can run, named as in the graph."
    );
    // The NumPy files the graph read: naming them makes the crate rebuild when one changes.
    let files = graph.files.iter().filter_map(|p| p.to_str()).map(|p| {
        quote!(
            const _: &[u8] = include_bytes!(#p);
        )
    });
    quote! {
        #(#attrs)*
        #vis mod #name {
            #(#files)*
            #(#consts)*
            #state
            #statics
            #onnx
            #feeds
            #(#fetches)*
            #[doc = #dot_doc]
            pub const GRAPH_DOT: &str = #dot;
        }
    }
}
