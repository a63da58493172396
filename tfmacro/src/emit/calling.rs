//! Fetches that call another fetch: a chain of unary elementwise ops over a node another fetch
//! already computes, written over that fetch's value in place.

use super::*;

/// The fetch that fetch `f` can call: one whose node is below `f`'s along a chain of unary
/// elementwise ops (`tf.tanh`, `tf.nn.relu`...) of its dtype and shape, nearest first, that
/// writes nothing and needs only feeds `f` has; with that node.
pub(super) fn callee<'d>(
    graph: &Graph,
    f: &crate::ir::Fetch,
    done: &'d [Emitted],
    emitted: &HashMap<NodeId, usize>,
) -> Option<(NodeId, &'d Emitted)> {
    let ty = graph.tensor(f.node)?;
    if !(1..=2).contains(&ty.shape.len()) {
        return None;
    }
    let mut at = f.node;
    while let (Op::Unary(_), [input]) = (&graph.nodes[at].op, &graph.nodes[at].inputs[..]) {
        if graph.tensor(*input) != Some(ty) {
            return None;
        }
        let callee = emitted.get(input).map(|&k| &done[k]);
        if let Some(callee) = callee.filter(|c| !c.writes && c.feeds.iter().all(|p| f.feeds.contains(p))) {
            return Some((*input, callee));
        }
        at = *input;
    }
    None
}

/// Fetch `f`, whose node is a chain of unary elementwise ops over node `j`, fetched by `callee`
/// ([`callee`]): it calls that fetch into the caller's value and writes the chain over it in
/// place. The same operations in the same order, so the same bits as computing the whole
/// subgraph again, and code whose size does not grow with the depth of the chain (a thousand
/// such `let`s otherwise write out half a million nodes' code). `body` plans the nodes above `j`.
pub(super) fn calling_fetch(
    graph: &Graph,
    names: &Names,
    f: &crate::ir::Fetch,
    body: &Body,
    j: NodeId,
    callee: &Emitted,
) -> (TokenStream, Emitted) {
    let (name, root, feeds) = (&f.name, f.node, &f.feeds);
    let through = through_chain(graph, root, j, callee);
    let Definition { definition, self_type, params, output, field_names, .. } =
        definition(graph, names, f, &callee.reads, &through, callee.memory.clone());
    let rank = graph.tensor(root).map_or(2, |t| t.shape.len());
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    let over = body.lower().over(j, root);
    let elem = Ident::new(graph.tensor(root).map_or(DType::Float32, |t| t.dtype).rust(), Span::call_site());
    let (callee_name, callee_fields) = (&callee.name, callee.feeds.iter().map(|&p| &graph.nodes[p].name));
    let callee_locals: Vec<Ident> = callee.feeds.iter().map(|&p| body.lower().local(p)).collect();
    let locals = feeds.iter().map(|&p| {
        let local = body.lower().local(p);
        if callee.feeds.contains(&p) {
            quote!(#local)
        } else {
            quote!(_)
        }
    });
    let bind = quote!(let #name { #(#field_names: #locals),* } = self;);
    let call = quote!(#callee_name { #(#callee_fields: #callee_locals),* });
    let run = run_over_zeros(rank);
    let over_fn = over_item(&elem, &over);
    let methods = quote! {
        #run

        #allow
        fn run_into(self, __session: &mut Session, __out: &mut Self::Output) {
            #bind
            ::tfcore::__private::Fetch::run_into(#call, __session, __out);
            #over_fn
            ::tfcore::__private::dispatch(__Over, __out.as_mut_slice())
        }
    };
    let span = name.span();
    let header = quote_spanned!(span=> impl #params ::tfcore::__private::Fetch<Session> for #self_type);
    let dynamic = callee.dynamic.then(|| dynamic_calling(graph, names, f, &bind, &call, &over_fn, false)).flatten();
    let ndarray = callee.dynamic.then(|| dynamic_calling(graph, names, f, &bind, &call, &over_fn, true)).flatten();
    let emitted = Emitted {
        name: name.clone(),
        feeds: feeds.clone(),
        reads: callee.reads.clone(),
        through,
        writes: false,
        memory: callee.memory.clone(),
        dynamic: dynamic.is_some(),
        // The chain above the callee's node reads no constant tensor: the callee reads them.
        statics: Vec::new(),
    };
    let code = quote! {
        #definition
        #header {
            type Output = #output;

            #methods
        }
        #dynamic
        #ndarray
    };
    (code, emitted)
}

/// The callee's documentation chains ([`needed_through`]) continued up the chain of unary ops from
/// node `j` to `root`.
fn through_chain(graph: &Graph, root: NodeId, j: NodeId, callee: &Emitted) -> Vec<(NodeId, Vec<String>)> {
    // The nodes above `j` are the chain, which reads nothing else.
    let mut above = Vec::new();
    let mut at = root;
    while at != j {
        above.push(at);
        match graph.nodes[at].inputs.first() {
            Some(&input) => at = input,
            None => break,
        }
    }
    let mut through = callee.through.clone();
    for (_, chain) in &mut through {
        for &id in above.iter().rev() {
            if let Some(name) = &graph.nodes[id].name {
                push_through(chain, name);
            }
        }
    }
    through
}

/// `__Over`: the chain over the callee's value, element `__out[__at]` by element, run through
/// `__private::dispatch` (see `fetch`).
fn over_item(elem: &Ident, over: &TokenStream) -> TokenStream {
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    quote! {
        struct __Over;

        impl ::tfcore::__private::Compute<&mut [#elem]> for __Over {
            type Output = ();

            #[inline(always)]
            #allow
            fn compute(self, __out: &mut [#elem]) {
                for __at in 0..__out.len() {
                    __out[__at] = #over;
                }
            }
        }
    }
}

/// The calling fetch's implementation for feeds of run-time size, where its callee has one: the
/// callee's value, then the chain over it. With `ndarray`, the implementation for ndarray's
/// matrices and vectors ([`rows_fed_types`]), if the fetch has such a feed.
fn dynamic_calling(
    graph: &Graph,
    names: &Names,
    f: &crate::ir::Fetch,
    bind: &TokenStream,
    call: &TokenStream,
    over_fn: &TokenStream,
    ndarray: bool,
) -> Option<TokenStream> {
    let (name, root, span) = (&f.name, f.node, f.name.span());
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    let (types, params, gate) = dynamic_variant(graph, names, &f.feeds, ndarray)?;
    let p = quote!(::tfcore::__private);
    let output = graph.nodes[root].ty.as_ref().map(|t| names.dynamic_type_of(t));
    let header = quote_spanned!(span=> impl<'a, #(#params),*> #p::Fetch<Session> for #name<#(#types),*>);
    Some(quote! {
        #p::#gate! {
            #header {
                type Output = ::core::result::Result<#output, #p::FeedError>;

                #allow
                fn run(self, __session: &mut Session) -> Self::Output {
                    #bind
                    let mut __value = #p::Fetch::run(#call, __session)?;
                    #over_fn
                    #p::dispatch(__Over, __value.as_mut_slice());
                    ::core::result::Result::Ok(__value)
                }
            }
        }
    })
}
