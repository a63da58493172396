//! Phase 6, emit: the Rust module of a checked, differentiated and optimised graph.
//!
//! For `pub mod bond { ... }` it holds the graph's `const` items, `Variables` (a public field per
//! variable), `Session` (the variables, the optimisers' state, the random generator), one fetch
//! type per named node (its public fields are the placeholders the node needs) with the code
//! that runs exactly that node's subgraph, and `GRAPH_DOT`. Generated code reaches `tfcore` only
//! through `::tfcore::__private`, uses no heap, no `std` and no `unsafe`.

mod body;
mod dot;

use crate::ir::{Dim, Graph, NodeId, Op, Storage, TensorType, Type};
use body::{Body, Context};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;

/// The names generated code gives to `None` dimensions and to variables' storage.
pub struct Names {
    syms: HashMap<usize, Ident>,
}

impl Names {
    pub fn new(graph: &Graph) -> Names {
        let mut order = Vec::new();
        for node in &graph.nodes {
            let shapes: Vec<&TensorType> = match &node.ty {
                Some(Type::Tensor(t)) => vec![t],
                Some(Type::Tuple(ts)) => ts.iter().collect(),
                _ => Vec::new(),
            };
            for t in shapes {
                for d in &t.shape {
                    if let Dim::Sym(s) = d {
                        if !order.contains(s) {
                            order.push(*s);
                        }
                    }
                }
            }
        }
        let taken: Vec<String> = graph.consts.iter().map(|c| c.name.to_string()).collect();
        let mut syms = HashMap::new();
        for (k, s) in order.iter().enumerate() {
            let mut name = if order.len() == 1 { "N".to_string() } else { format!("N{k}") };
            while taken.contains(&name) {
                name.insert(0, '_');
            }
            syms.insert(*s, Ident::new(&name, Span::call_site()));
        }
        Names { syms }
    }

    /// A dimension as a `usize` expression: a literal, or the fetch's const generic.
    pub fn dim(&self, d: Dim) -> TokenStream {
        match d {
            Dim::Known(n) => {
                let n = Literal::usize_unsuffixed(n);
                quote!(#n)
            }
            Dim::Sym(s) => {
                let name = &self.syms[&s];
                quote!(#name)
            }
        }
    }

    /// The const generic parameters a type mentions.
    pub fn generics_of(&self, t: &TensorType, into: &mut Vec<Ident>) {
        for d in &t.shape {
            if let Dim::Sym(s) = d {
                let name = self.syms[s].clone();
                if !into.contains(&name) {
                    into.push(name);
                }
            }
        }
    }

    /// The number of elements of `dims`, as a `usize` expression.
    pub fn count(&self, dims: &[Dim]) -> TokenStream {
        let parts = dims.iter().map(|d| self.dim(*d));
        quote!((1usize #(* #parts)*))
    }

    /// The Rust type of a tensor: `f32`, `SVector<f32, 3>`, `SMatrix<f32, N, 2>`.
    pub fn rust_type(&self, t: &TensorType) -> TokenStream {
        let elem = Ident::new(t.dtype.rust(), Span::call_site());
        let dims: Vec<TokenStream> = t.shape.iter().map(|d| self.dim(*d)).collect();
        match &dims[..] {
            [] => quote!(#elem),
            [n] => quote!(::tfcore::__private::SVector<#elem, #n>),
            [r, c, ..] => quote!(::tfcore::__private::SMatrix<#elem, #r, #c>),
        }
    }

    /// Where a variable lives in the session: `vars.W1`, or `slots.W1_momentum_1`.
    pub fn storage(&self, graph: &Graph, var: NodeId) -> TokenStream {
        match &graph.nodes[var].op {
            Op::Variable(v) => match &v.storage {
                Storage::User => {
                    let name = graph.nodes[var].name.clone().unwrap_or_else(|| format_ident!("__{}", var));
                    quote!(vars.#name)
                }
                Storage::Slot(slot) => {
                    let name = Ident::new(slot, Span::call_site());
                    quote!(slots.#name)
                }
            },
            _ => quote!(vars),
        }
    }

    fn type_of(&self, ty: &Type) -> TokenStream {
        match ty {
            Type::Tensor(t) => self.rust_type(t),
            Type::Unit => quote!(()),
            Type::Tuple(ts) => {
                let parts = ts.iter().map(|t| self.rust_type(t));
                quote!((#(#parts,)*))
            }
        }
    }
}

/// The module for a graph that passed every check.
pub fn emit(graph: &Graph) -> TokenStream {
    let names = Names::new(graph);
    let (vis, name, attrs) = (&graph.vis, &graph.name, &graph.attrs);
    let consts = graph.consts.iter().map(|c| {
        let (attrs, name, ty, value) = (&c.attrs, &c.name, &c.ty, &c.value_tokens);
        quote!(#(#attrs)* pub const #name: #ty = #value;)
    });
    let state = state(graph, &names);
    let fetches = graph.fetches.iter().map(|f| fetch(graph, &names, f));
    let dot = dot::graph_dot(graph);
    let dot_doc = format!(
        " The graph `{name}` in Graphviz DOT, for `dot -Tsvg`: every node its fetches can run, named as in the graph."
    );
    quote! {
        #(#attrs)*
        #vis mod #name {
            #(#consts)*
            #state
            #(#fetches)*
            #[doc = #dot_doc]
            pub const GRAPH_DOT: &str = #dot;
        }
    }
}

/// `Variables`, the optimisers' state, `Session` and the functions computing initial values.
fn state(graph: &Graph, names: &Names) -> TokenStream {
    let module = &graph.name;
    let all = graph.variables();
    let (user, slots): (Vec<NodeId>, Vec<NodeId>) =
        all.iter().partition(|&&v| matches!(&graph.nodes[v].op, Op::Variable(var) if var.storage == Storage::User));
    let field = |v: NodeId| {
        let place = names.storage(graph, v);
        let name = place.into_iter().last().expect("a field name");
        let ty = graph.tensor(v).map(|t| names.rust_type(t)).unwrap_or_else(|| quote!(()));
        (name, ty)
    };
    let user_fields: Vec<(proc_macro2::TokenTree, TokenStream)> = user.iter().map(|&v| field(v)).collect();
    let slot_fields: Vec<(proc_macro2::TokenTree, TokenStream)> = slots.iter().map(|&v| field(v)).collect();
    let var_docs = user.iter().map(|&v| {
        let t = graph
            .tensor(v)
            .map(|t| format!(" `{}` of shape {}", t.dtype, crate::ir::ShapeDisplay(&t.shape)))
            .unwrap_or_default();
        format!(" The variable `{}`:{t}.", graph.nodes[v].name.as_ref().map(ToString::to_string).unwrap_or_default())
    });
    let user_names: Vec<_> = user_fields.iter().map(|(n, _)| n).collect();
    let user_types = user_fields.iter().map(|(_, t)| t);
    let slot_names: Vec<_> = slot_fields.iter().map(|(n, _)| n).collect();
    let slot_types = slot_fields.iter().map(|(_, t)| t);

    let init = |vars: &[NodeId]| {
        let roots: Vec<NodeId> = vars
            .iter()
            .map(|&v| match &graph.nodes[v].op {
                Op::Variable(var) => var.init,
                _ => v,
            })
            .collect();
        let body = Body::new(graph, names, &roots);
        let statements = body.statements(Context::Init);
        let values: Vec<TokenStream> = roots.iter().map(|&r| body.value(r)).collect();
        (statements, values)
    };
    let (user_init, user_values) = init(&user);
    let (slot_init, slot_values) = init(&slots);
    let has_slots = !slots.is_empty();
    let slots_items = has_slots.then(|| {
        quote! {
            /// The optimisers' state: velocities, moments and step counts.
            #[derive(Clone, Copy, Debug, PartialEq)]
            #[allow(non_snake_case)]
            struct __Slots {
                #(#slot_names: #slot_types,)*
            }

            #[allow(non_snake_case, clippy::all)]
            fn __initial_slots() -> __Slots {
                #slot_init
                __Slots { #(#slot_names: #slot_values,)* }
            }
        }
    });
    let slots_field = has_slots.then(|| quote!(slots: __Slots,));
    let slots_new = has_slots.then(|| quote!(slots: __initial_slots(),));
    let variables_doc = format!(
        " The variables of graph `{module}`, one public field per `tf.Variable`, named as in the graph.\n\n A plain value: copy it out of a `Session` with `variables()`, change it with `variables_mut()`, start a session from one with `Session::from_variables`, or write one as a `const` to bake trained weights into a program."
    );
    let uses_rng = user_init.to_string().contains("__rng");
    let rng_param = if uses_rng { quote!(__rng) } else { quote!(_) };
    let type_path = format!("{module}::Variables");
    let rust_fields = user_names.iter().enumerate().map(|(k, name)| {
        let prefix = format!("{}    {}: ", if k == 0 { " {\n" } else { ",\n" }, name);
        quote! {
            f.write_str(#prefix)?;
            ::tfcore::__private::ToRust::fmt_rust(&self.#name, f)?;
        }
    });
    let rust_close = if user_names.is_empty() { " {}" } else { ",\n}" };
    let to_rust_doc = format!(
        " These values as a Rust item, `pub const NAME: {type_path} = {type_path} {{ ... }};`, to write to a file another program `include!`s where the graph's module `{module}` is in scope (firmware baking in trained weights, say). Floats read back to the same bits."
    );
    quote! {
        ::tfcore::__private::with_serde! {
            #[doc = #variables_doc]
            #[derive(Clone, Copy, Debug, PartialEq)]
            #[allow(non_snake_case)]
            pub struct Variables {
                #(#[doc = #var_docs] pub #user_names: #user_types,)*
            }
        }

        impl Variables {
            #[doc = #to_rust_doc]
            pub fn to_rust_const<'a>(&'a self, name: &'a str) -> ::tfcore::__private::RustConst<'a, Self> {
                ::tfcore::__private::RustConst::new(name, self)
            }
        }

        impl ::tfcore::__private::ToRust for Variables {
            fn fmt_rust(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#type_path)?;
                #(#rust_fields)*
                f.write_str(#rust_close)
            }

            fn fmt_rust_type(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#type_path)
            }
        }

        #slots_items

        #[allow(non_snake_case, unused_variables, clippy::all)]
        fn __initial_variables(#rng_param: &mut ::tfcore::__private::Rng) -> Variables {
            #user_init
            Variables { #(#user_names: #user_values,)* }
        }

        /// A session of the graph: it owns the variables (and the optimisers' state) and runs
        /// fetches.
        ///
        /// Every variable is initialised when the session starts, so a session can never read an
        /// uninitialised variable; running the graph's `tf.global_variables_initializer()` node
        /// initialises them again. Two sessions keep separate values.
        #[derive(Clone, Debug)]
        pub struct Session {
            vars: Variables,
            #slots_field
            rng: ::tfcore::__private::Rng,
        }

        impl Session {
            /// A session whose variables hold their initial values, random ones drawn from
            /// `tfcore::DEFAULT_SEED`, so that runs repeat.
            pub fn new() -> Self {
                Self::with_seed(::tfcore::__private::DEFAULT_SEED)
            }

            /// A session whose random initial values are drawn from `seed`.
            pub fn with_seed(seed: u64) -> Self {
                let mut rng = ::tfcore::__private::rng(seed);
                let vars = __initial_variables(&mut rng);
                Session { vars, #slots_new rng }
            }

            /// A session holding `variables` (the optimisers start afresh). Nothing is drawn at
            /// random: firmware that only runs trained weights links no initialisation code.
            pub fn from_variables(variables: Variables) -> Self {
                Session { vars: variables, #slots_new rng: ::tfcore::__private::rng(::tfcore::__private::DEFAULT_SEED) }
            }

            /// The variables' current values.
            pub fn variables(&self) -> &Variables {
                &self.vars
            }

            /// The variables, to change them.
            pub fn variables_mut(&mut self) -> &mut Variables {
                &mut self.vars
            }

            /// Runs `fetch`: evaluates only the nodes it needs, each once, applies the
            /// assignments it triggers (after every value is computed), and returns its value.
            pub fn run<F: ::tfcore::__private::Fetch<Self>>(&mut self, fetch: F) -> F::Output {
                fetch.run(self)
            }
        }

        impl ::core::default::Default for Session {
            fn default() -> Self {
                Self::new()
            }
        }
    }
}

/// The fetch type of a named node, and the code running it.
fn fetch(graph: &Graph, names: &Names, f: &crate::ir::Fetch) -> TokenStream {
    let name = &f.name;
    let root = f.node;
    let body = Body::new(graph, names, &[root]);
    let feeds = body.feeds();
    let mut generics = Vec::new();
    let mut lifetime = false;
    let fields: Vec<(Ident, TokenStream)> = feeds
        .iter()
        .map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            names.generics_of(t, &mut generics);
            let ty = names.rust_type(t);
            let field = graph.nodes[p].name.clone().expect("placeholders are named");
            if t.shape.is_empty() {
                (field, ty)
            } else {
                lifetime = true;
                (field, quote!(&'a #ty))
            }
        })
        .collect();
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
    let (params, args) = if lifetime || !generics.is_empty() {
        let lt = lifetime.then(|| quote!('a,));
        (quote!(<#lt #(const #generics: usize),*>), quote!(<#lt #(#generics),*>))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let doc = fetch_doc(graph, f, &feeds);
    let user_docs = &f.attrs;
    let definition = if fields.is_empty() {
        quote! {
            #(#user_docs)*
            #[doc = #doc]
            #[derive(Clone, Copy, Debug, Default)]
            #[allow(non_camel_case_types)]
            pub struct #name;
        }
    } else {
        let field_names = fields.iter().map(|(n, _)| n);
        let field_types = fields.iter().map(|(_, t)| t);
        let field_docs = feeds.iter().map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            format!(
                " The value fed to placeholder `{}` (`{}` of shape {}).",
                graph.nodes[p].name.as_ref().expect("named"),
                t.dtype,
                crate::ir::ShapeDisplay(&t.shape)
            )
        });
        quote! {
            #(#user_docs)*
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            #[allow(non_camel_case_types, non_snake_case)]
            pub struct #name #params {
                #(#[doc = #field_docs] pub #field_names: #field_types,)*
            }
        }
    };
    let bind = if fields.is_empty() {
        quote!(let _ = self;)
    } else {
        let pairs = feeds.iter().map(|&p| {
            let field = graph.nodes[p].name.clone().expect("placeholders are named");
            let local = body.local(p);
            quote!(#field: #local)
        });
        quote!(let #name { #(#pairs),* } = self;)
    };
    let statements = body.statements(Context::Run);
    let has_slots = graph
        .variables()
        .iter()
        .any(|&v| matches!(&graph.nodes[v].op, Op::Variable(var) if var.storage != Storage::User));
    let writes = body.writes_to_session(has_slots);
    let value = body.value(root);
    let session =
        if body.writes() || statements.to_string().contains("__session") { quote!(__session) } else { quote!(_) };
    quote! {
        #definition

        impl #params ::tfcore::__private::Fetch<Session> for #name #args {
            type Output = #output;

            #[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]
            fn run(self, #session: &mut Session) -> Self::Output {
                #bind
                #statements
                let __result = #value;
                #writes
                __result
            }
        }
    }
}

/// The generated part of a fetch type's documentation.
fn fetch_doc(graph: &Graph, f: &crate::ir::Fetch, feeds: &[NodeId]) -> String {
    let node = &graph.nodes[f.node];
    let what = match &node.ty {
        Some(Type::Tensor(t)) => format!("a `{}` tensor of shape {}", t.dtype, crate::ir::ShapeDisplay(&t.shape)),
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
