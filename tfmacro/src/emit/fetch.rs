//! A fetch's type (its fields, its documentation) and its `Fetch` implementation for feeds of
//! fixed size.

use super::*;

/// A fetch already emitted, which later fetches may call.
pub(super) struct Emitted {
    pub(super) name: Ident,
    pub(super) feeds: Vec<NodeId>,
    /// The feeds its computation reads (after optimisation), and through which nodes.
    pub(super) reads: Vec<NodeId>,
    pub(super) through: Vec<(NodeId, Vec<String>)>,
    /// Whether it writes to the session (assigns or re-initialises).
    pub(super) writes: bool,
    /// Its type's paragraph on memory ([`Body::memory_doc`]).
    pub(super) memory: Option<String>,
    /// Whether it has an implementation for feeds of run-time size.
    pub(super) dynamic: bool,
    /// The constants its computations read from `static`s ([`super::plan::Plan::statics`]).
    pub(super) statics: Vec<NodeId>,
}

/// A fetch's type, and what its implementations need of it.
pub(super) struct Definition {
    /// The type with its documentation.
    pub(super) definition: TokenStream,
    /// The type with its parameters (the feeds' types).
    pub(super) self_type: TokenStream,
    /// The generics of the `Fetch` impl, with their brackets and without.
    pub(super) params: TokenStream,
    pub(super) params_inner: TokenStream,
    /// `Fetch::Output`.
    pub(super) output: TokenStream,
    /// The feeds' fields, named as their placeholders.
    pub(super) field_names: Vec<Ident>,
}

/// The type of fetch `f`, whose computation reads the feeds `read` through the nodes of
/// `through` ([`needed_through`], by feed).
pub(super) fn definition(
    graph: &Graph,
    names: &Names,
    f: &crate::ir::Fetch,
    read: &[NodeId],
    through: &[(NodeId, Vec<String>)],
    memory: Option<String>,
) -> Definition {
    let name = &f.name;
    let root = f.node;
    let feeds = &f.feeds;
    let (feed_types, mut generics, lifetime) = feed_types(graph, names, feeds);
    let output = graph.nodes[root].ty.as_ref().map(|t| names.type_of(t)).unwrap_or_else(|| quote!(()));
    if let Some(t) = &graph.nodes[root].ty {
        let ts: Vec<&TensorType> = match t {
            Type::Tensor(t) => vec![t],
            Type::Tuple(ts) => ts.iter().collect(),
            Type::Unit => Vec::new(),
        };
        for t in ts {
            names.generics_of(t, &mut generics);
        }
    }
    let params = impl_generics(lifetime, &generics);
    let lt = lifetime.then(|| quote!('a,));
    let params_inner = quote!(#lt #(const #generics: usize,)*);
    let doc = fetch_doc(graph, f, feeds);
    let memory = memory.map(|m| quote!(#[doc = ""] #[doc = #m]));
    let user_docs = &f.attrs;
    let field_names: Vec<Ident> =
        feeds.iter().map(|&p| graph.nodes[p].name.clone().expect("placeholders are named")).collect();
    let (definition, self_type) = if feeds.is_empty() {
        let definition = quote! {
            #(#user_docs)*
            #[doc = #doc]
            #memory
            #[derive(Clone, Copy, Debug, Default)]
            #[allow(non_camel_case_types)]
            pub struct #name;
        };
        (definition, quote!(#name))
    } else {
        let mut taken = Vec::new();
        let type_params: Vec<Ident> = field_names.iter().map(|n| feed_param(n, &mut taken)).collect();
        let bounds = feeds.iter().zip(&type_params).map(|(&p, param)| {
            let placeholder = &field_names[feeds.iter().position(|&q| q == p).expect("a feed")];
            let span = graph.nodes[p].op_loc.start;
            quote_spanned!(span=> #param: feeds::#placeholder)
        });
        let agreement = shared_dims(graph, names, f, feeds).map(|agreement| {
            let (span, trait_name) = (name.span(), agreement.name);
            quote_spanned!(span=> where (#(#type_params,)*): feeds::#trait_name)
        });
        let field_docs = field_docs(graph, names, feeds, read, through);
        let definition = quote! {
            #(#user_docs)*
            #[doc = #doc]
            #memory
            #[derive(Clone, Copy, Debug)]
            #[allow(non_camel_case_types, non_snake_case)]
            pub struct #name<#(#bounds),*> #agreement {
                #(#[doc = #field_docs] pub #field_names: #type_params,)*
            }
        };
        (definition, quote!(#name<#(#feed_types),*>))
    };
    Definition { definition, self_type, params, params_inner, output, field_names }
}

/// `Fetch::run` for a fetch computed by its `run_into`: into zeros of its own.
pub(super) fn run_over_zeros(rank: usize) -> TokenStream {
    let zeros = format_ident!("zeros{}", rank.max(2));
    quote! {
        #[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]
        fn run(self, __session: &mut Session) -> Self::Output {
            let mut __out: Self::Output = ::tfcore::__private::#zeros();
            ::tfcore::__private::Fetch::run_into(self, __session, &mut __out);
            __out
        }
    }
}

/// Fetch `f`'s type and its implementations, computed by `body`.
pub(super) fn fetch(graph: &Graph, names: &Names, f: &crate::ir::Fetch, body: &Body) -> (TokenStream, Emitted) {
    let name = &f.name;
    let root = f.node;
    let feeds = f.feeds.clone();
    let read = body.feeds();
    let memory = body.memory_doc();
    let mut statics = body.statics();
    let through: Vec<(NodeId, Vec<String>)> = read.iter().map(|&p| (p, needed_through(graph, root, p))).collect();
    let Definition { definition, self_type, params, params_inner, output, field_names } =
        definition(graph, names, f, &read, &through, memory.clone());
    let bind = bind_feeds(name, &feeds, &read, &field_names, body);
    let has_slots = graph
        .variables()
        .iter()
        .any(|&v| matches!(&graph.nodes[v].op, Op::Variable(var) if var.storage != Storage::User));
    let writes = body.lower().writes_to_session(has_slots);
    // Lowered in this order (the value, then the statements), as the names of temporaries count up.
    let value = body.lower().value(root);
    let parts = Parts {
        self_type: &self_type,
        params_inner: &params_inner,
        output: &output,
        bind: &bind,
        session: if body.uses_session() { quote!(__session) } else { quote!(_) },
    };
    // A root written element by element with nothing after it is computed by `run_into`, straight
    // into the caller's `out`; `run` is that over zeros of its own. Any other root is computed by
    // `run`, and `run_into` assigns what it returns (the trait's default).
    let (methods, computed) = match body.lower().statements_into(root) {
        Some(into) if writes.is_empty() => {
            computed_into_out(&parts, graph.tensor(root).map_or(2, |t| t.shape.len()), into)
        }
        _ => computed_returned(&parts, body.lower().statements(Context::Run), value, &writes),
    };
    // The impl's header and its braces are spanned on the node's name, so that rustc's notes about
    // the impl point at the `let`. Only those: the tokens inside keep the call site's hygiene, so
    // that `self` in the body is the `self` parameter even when the graph comes out of a
    // `macro_rules!` macro.
    let span = name.span();
    let header = quote_spanned!(span=> impl #params ::tfcore::__private::Fetch<Session> for #self_type);
    let mut body = proc_macro2::Group::new(
        proc_macro2::Delimiter::Brace,
        quote! {
            type Output = #output;

            #methods
        },
    );
    body.set_span(span);
    let dynamic = dynamic_fetch(graph, names, f, has_slots).map(|(code, read)| {
        statics.extend(read);
        code
    });
    let emitted = Emitted {
        name: name.clone(),
        feeds: feeds.clone(),
        reads: read,
        through,
        writes: !writes.is_empty(),
        memory,
        dynamic: dynamic.is_some(),
        statics,
    };
    let code = quote! {
        #definition
        #header #body
        #computed
        #dynamic
    };
    (code, emitted)
}

/// The documentation of each field of a fetch type: its placeholder's dtype, shape and feed type,
/// and through which nodes the computation reads it ([`needed_through`]), or that it does not.
fn field_docs(
    graph: &Graph,
    names: &Names,
    feeds: &[NodeId],
    read: &[NodeId],
    through: &[(NodeId, Vec<String>)],
) -> Vec<String> {
    feeds
        .iter()
        .map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            format!(
                " The value fed to placeholder `{}`: a `{}` tensor of shape {}, as `{}`.{}",
                graph.nodes[p].name.as_ref().expect("named"),
                t.dtype,
                crate::ir::ShapeDoc(&t.shape),
                feed_type_text(names, t),
                if read.contains(&p) {
                    through_doc(through.iter().find(|(q, _)| *q == p).map_or(&[], |(_, chain)| chain))
                } else {
                    " The graph as written reads it; the computation as optimised does not (a simplification or the gradient made it unneeded), so its value does not matter.".to_string()
                }
            )
        })
        .collect()
}

/// What the two forms of a fetch's fixed-size body share.
struct Parts<'a> {
    self_type: &'a TokenStream,
    params_inner: &'a TokenStream,
    output: &'a TokenStream,
    /// The statement binding the fetch's fields to the locals its code reads.
    bind: &'a TokenStream,
    /// The session parameter: `__session`, or `_` if the body does not touch it.
    session: TokenStream,
}

/// The statement binding fetch `name`'s fields to locals: a feed the optimised computation does
/// not read is still a field, bound to `_`.
fn bind_feeds(name: &Ident, feeds: &[NodeId], read: &[NodeId], field_names: &[Ident], body: &Body) -> TokenStream {
    if feeds.is_empty() {
        return quote!(let _ = self;);
    }
    let locals = feeds.iter().map(|&p| {
        let local = body.lower().local(p);
        if read.contains(&p) {
            quote!(#local)
        } else {
            quote!(_)
        }
    });
    quote!(let #name { #(#field_names: #locals),* } = self;)
}

/// `Fetch`'s methods and the `Compute` impl of a fetch computed by `run_into`, straight into the
/// caller's `out` (a root of rank `rank` written element by element by `into`). The body is an
/// `#[inline(always)]` method of the fetch's type, which `run_into` calls through
/// `__private::dispatch`: inlined there twice, once compiled for AVX2.
fn computed_into_out(parts: &Parts, rank: usize, into: TokenStream) -> (TokenStream, TokenStream) {
    let Parts { self_type, params_inner, output, bind, session } = parts;
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    let run = run_over_zeros(rank);
    let methods = quote! {
        #run

        #allow
        fn run_into(self, __session: &mut Session, __out: &mut Self::Output) {
            ::tfcore::__private::dispatch(self, (__session, __out))
        }
    };
    let computed = quote! {
        type Output = ();

        #[inline(always)]
        #allow
        fn compute(self, (#session, __out): (&mut Session, &mut #output)) {
            #bind
            #into
        }
    };
    let computed = quote! {
        impl<'__s, #params_inner> ::tfcore::__private::Compute<(&'__s mut Session, &'__s mut #output)> for #self_type {
            #computed
        }
    };
    (methods, computed)
}

/// `Fetch::run` and the `Compute` impl of a fetch whose `run` returns its value (`run_into`
/// assigns it, the trait's default): `statements`, then `value`, then the session's `writes`.
fn computed_returned(
    parts: &Parts,
    statements: TokenStream,
    value: TokenStream,
    writes: &TokenStream,
) -> (TokenStream, TokenStream) {
    let Parts { self_type, params_inner, output, bind, session } = parts;
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    let methods = quote! {
        #allow
        fn run(self, __session: &mut Session) -> Self::Output {
            ::tfcore::__private::dispatch(self, __session)
        }
    };
    let computed = quote! {
        type Output = #output;

        #[inline(always)]
        #allow
        fn compute(self, #session: &mut Session) -> #output {
            #bind
            #statements
            let __result = #value;
            #writes
            __result
        }
    };
    let computed = quote! {
        impl<'__s, #params_inner> ::tfcore::__private::Compute<&'__s mut Session> for #self_type {
            #computed
        }
    };
    (methods, computed)
}

/// The named nodes between the fetch's node and a placeholder it needs, nearest the placeholder
/// first, for the field's documentation: " Needed through `a_` → `v_guess`." ([`through_doc`]).
pub(super) fn needed_through(graph: &Graph, root: NodeId, placeholder: NodeId) -> Vec<String> {
    // The shortest path from the root down to the placeholder, by breadth-first search.
    let mut parent: HashMap<NodeId, NodeId> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(id) = queue.pop_front() {
        if id == placeholder {
            break;
        }
        for &input in &graph.nodes[id].inputs {
            if input != root && !parent.contains_key(&input) {
                parent.insert(input, id);
                queue.push_back(input);
            }
        }
    }
    let mut chain = Vec::new();
    let mut at = placeholder;
    while let Some(&up) = parent.get(&at) {
        if let Some(name) = &graph.nodes[up].name {
            push_through(&mut chain, name);
        }
        at = up;
    }
    chain
}

/// Adds the name of the next node up to a [`needed_through`] chain. A long chain is shortened
/// to its ends, so that a deep graph's documentation does not grow with the square of its depth.
pub(super) fn push_through(chain: &mut Vec<String>, name: &Ident) {
    const SHOWN: usize = 4;
    chain.push(format!("`{name}`"));
    if chain.len() > SHOWN {
        chain.drain(SHOWN - 2..chain.len() - 1);
        chain.insert(SHOWN - 2, "…".into());
    }
}

/// A field's sentence on the nodes that read its placeholder ([`needed_through`]).
pub(super) fn through_doc(chain: &[String]) -> String {
    if chain.len() <= 1 {
        String::new()
    } else {
        format!(" Needed through {}.", chain.join(" → "))
    }
}

/// The generated part of a fetch type's documentation.
pub(super) fn fetch_doc(graph: &Graph, f: &crate::ir::Fetch, feeds: &[NodeId]) -> String {
    let node = &graph.nodes[f.node];
    let what = match &node.ty {
        Some(Type::Tensor(t)) => format!("a `{}` tensor of shape {}", t.dtype, crate::ir::ShapeDoc(&t.shape)),
        Some(Type::Tuple(ts)) => format!("a tuple of {} tensors", ts.len()),
        _ => "nothing: it runs for its effect".to_string(),
    };
    let feeds = if feeds.is_empty() {
        "It needs no feed.".to_string()
    } else {
        let names: Vec<String> =
            feeds.iter().map(|&p| format!("`{}`", graph.nodes[p].name.as_ref().expect("named"))).collect();
        format!("Its fields are the placeholders it needs: {}.", names.join(", "))
    };
    format!(" Fetches `{}`: `Session::run` returns {what}. {feeds}", f.name)
}
