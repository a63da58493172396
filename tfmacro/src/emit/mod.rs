//! Phase 6, emit: the Rust module of a checked, differentiated and optimised graph.
//!
//! For `pub mod bond { ... }` it holds the graph's `const` items, `Variables` (a public field per
//! variable), `Session` (the variables, the optimisers' state, the random generator), one fetch
//! type per named node (its public fields are the placeholders the node needs) with the code
//! that runs exactly that node's subgraph, and `GRAPH_DOT`. Generated code reaches `tfcore` only
//! through `::tfcore::__private`, uses no heap, no `std` and no `unsafe`.

pub mod body;
pub mod chunks;
mod dot;
mod onnx;

use crate::ir::{DType, Dim, Graph, NodeId, Op, Storage, TensorType, Type};
use body::{Body, Context};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// The names generated code gives to `None` dimensions, to variables' storage and to the
/// constants' `static`s.
pub struct Names {
    syms: HashMap<usize, Ident>,
    /// The constant tensors some body reads from a `static` ([`Names::use_static`]).
    statics: RefCell<BTreeSet<NodeId>>,
    /// The constant weights stored in panels, each with the axis its products' lines run along
    /// ([`crate::ops::matmul::panelled`]).
    panelled: HashMap<NodeId, usize>,
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
        Names { syms, statics: RefCell::default(), panelled: crate::ops::matmul::panelled(graph) }
    }

    /// The `static` holding constant tensor `id`, which [`Names::statics`] then defines once in
    /// the graph's module for every body that reads it (each fetch defining its own copy wrote
    /// the anomaly detector's 20 weight tensors out as 259 statics, 65 MB of tokens, and as many
    /// copies into a binary that runs several fetches).
    pub fn use_static(&self, id: NodeId) -> Ident {
        self.statics.borrow_mut().insert(id);
        format_ident!("__C{}", id)
    }

    /// The `static` items of every constant [`Names::use_static`] was asked for.
    pub fn statics(&self, graph: &Graph) -> TokenStream {
        let mut out = TokenStream::new();
        for &id in self.statics.borrow().iter() {
            let (Op::Const { data: crate::ir::Data::Dense(values), shape, .. }, Some(t)) =
                (&graph.nodes[id].op, graph.tensor(id))
            else {
                continue;
            };
            let (ty, value) = match (self.panelled(id), &shape[..]) {
                (Some(along), &[rows, cols]) => {
                    let elem = Ident::new(t.dtype.rust(), Span::call_site());
                    let len = Literal::usize_unsuffixed(values.len());
                    (quote!([#elem; #len]), crate::ops::matmul::panels_value(values, rows, cols, along, t.dtype))
                }
                _ => {
                    let ty = self.rust_type(t);
                    let value = crate::values::dense_value(values, shape, t.dtype, &ty);
                    (ty, value)
                }
            };
            let name = format_ident!("__C{}", id);
            out.extend(quote!(#[allow(clippy::all)] static #name: #ty = #value;));
        }
        if self.statics.borrow().iter().any(|&id| self.panelled(id).is_some()) {
            out.extend(crate::ops::matmul::panels_check());
        }
        out
    }

    /// The axis the lines of constant `id` run along, if it is stored in panels (a flat array in
    /// [`tfcore::__private::panel_at`]'s order) rather than as its `SMatrix`.
    pub fn panelled(&self, id: NodeId) -> Option<usize> {
        self.panelled.get(&id).copied()
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
            [r, c] => quote!(::tfcore::__private::SMatrix<#elem, #r, #c>),
            [a, b, c] => quote!(::tfcore::__private::Array3<#elem, #a, #b, #c>),
            [n, h, w, c, ..] => quote!(::tfcore::__private::Array4<#elem, #n, #h, #w, #c>),
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

    /// The Rust type of a tensor computed from feeds of run-time size: with a `None` dimension,
    /// `DVector<f32>` or `DMatrix<f32>`; otherwise as [`Names::rust_type`].
    pub fn dynamic_type(&self, t: &TensorType) -> TokenStream {
        let elem = Ident::new(t.dtype.rust(), Span::call_site());
        match t.shape.len() {
            1 if has_sym(t) => quote!(::tfcore::__private::DVector<#elem>),
            2 if has_sym(t) => quote!(::tfcore::__private::DMatrix<#elem>),
            _ => self.rust_type(t),
        }
    }

    fn dynamic_type_of(&self, ty: &Type) -> TokenStream {
        match ty {
            Type::Tensor(t) => self.dynamic_type(t),
            Type::Unit => quote!(()),
            Type::Tuple(ts) => {
                let parts = ts.iter().map(|t| self.dynamic_type(t));
                quote!((#(#parts,)*))
            }
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

/// Whether a tensor type has a `None` dimension.
fn has_sym(t: &TensorType) -> bool {
    t.shape.iter().any(|d| matches!(d, Dim::Sym(_)))
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
        emitted.entry(f.node).or_insert(done.len());
        done.push(fetched);
    }
    // After every body has named the constants it reads.
    let statics = names.statics(graph);
    let feeds = feeds_module(graph, &names);
    let onnx = onnx::items(graph);
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
        (statements, values, body.uses_rng())
    };
    let (user_init, user_values, uses_rng) = init(&user);
    let (slot_init, slot_values, _) = init(&slots);
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
    // Spanned on the module's name, so that rustc's notes about `run`'s bound point there.
    let run_method = quote_spanned! {module.span()=>
        /// Runs `fetch`: evaluates only the nodes it needs, each once, applies the assignments it
        /// triggers (after every value is computed), and returns its value.
        pub fn run<F: ::tfcore::__private::Fetch<Self>>(&mut self, fetch: F) -> F::Output {
            fetch.run(self)
        }

        /// Runs `fetch` as [`Session::run`] does and writes its value over `out`, which the
        /// caller owns: a result computed element by element (a dense layer, an activation) is
        /// written there directly, so a large result takes its own size of memory once, not
        /// twice (the value `run` returns is built, then moved). For firmware with little RAM.
        pub fn run_into<F: ::tfcore::__private::Fetch<Self>>(&mut self, fetch: F, out: &mut F::Output) {
            fetch.run_into(self, out)
        }
    };
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
    let npz_keys: Vec<String> = user_names.iter().map(|n| n.to_string()).collect();
    let npz_shapes: Vec<TokenStream> = user
        .iter()
        .map(|&v| {
            let dims = graph.tensor(v).map(|t| t.shape.iter().map(|d| names.dim(*d)).collect::<Vec<_>>());
            let dims = dims.unwrap_or_default();
            quote!(&[#(#dims),*])
        })
        .collect();
    let npz_items = quote! {
        ::tfcore::__private::with_std! {
            impl Variables {
                /// Reads the variables from the bytes of a `.npz` archive holding one array per
                /// variable, named as the variable, of its shape and dtype (what `np.savez(f,
                /// W1=..., b1=...)` writes, and [`Variables::to_npz`]).
                pub fn from_npz(bytes: &[u8]) -> ::core::result::Result<Self, ::tfcore::__private::npy::NpyError> {
                    let npz = ::tfcore::__private::npy::Npz::parse(bytes)?;
                    ::core::result::Result::Ok(Variables {
                        #(#user_names: ::tfcore::__private::npy::NpyTensor::read(&npz, #npz_keys, #npz_shapes)?,)*
                    })
                }

                /// [`Variables::from_npz`] of the file at `path`.
                pub fn load_npz(path: impl ::core::convert::AsRef<::tfcore::__private::npy::Path>) -> ::core::result::Result<Self, ::tfcore::__private::npy::NpyError> {
                    Self::from_npz(&::tfcore::__private::npy::read_file(path)?)
                }

                /// The variables as a `.npz` archive, one array per variable named as the
                /// variable, in TensorFlow's layout: what `np.load` reads.
                pub fn to_npz(&self) -> ::tfcore::__private::npy::Bytes {
                    let mut out = ::tfcore::__private::npy::NpzWriter::new();
                    #(::tfcore::__private::npy::NpyTensor::write(&self.#user_names, &mut out, #npz_keys, #npz_shapes);)*
                    out.finish()
                }

                /// Writes [`Variables::to_npz`] to the file at `path`.
                pub fn save_npz(&self, path: impl ::core::convert::AsRef<::tfcore::__private::npy::Path>) -> ::core::result::Result<(), ::tfcore::__private::npy::NpyError> {
                    ::tfcore::__private::npy::write_file(path, &self.to_npz())
                }
            }
        }
    };
    quote! {
        #npz_items
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
            ws: ::tfcore::__private::Workspace,
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
                Session { vars, #slots_new rng, ws: ::tfcore::__private::Workspace::default() }
            }

            /// A session holding `variables` (the optimisers start afresh). Nothing is drawn at
            /// random: firmware that only runs trained weights links no initialisation code.
            pub fn from_variables(variables: Variables) -> Self {
                Session {
                    vars: variables,
                    #slots_new
                    rng: ::tfcore::__private::rng(::tfcore::__private::DEFAULT_SEED),
                    ws: ::tfcore::__private::Workspace::default(),
                }
            }

            /// The variables' current values.
            pub fn variables(&self) -> &Variables {
                &self.vars
            }

            /// The variables, to change them.
            pub fn variables_mut(&mut self) -> &mut Variables {
                &mut self.vars
            }

            #run_method
        }

        impl ::core::default::Default for Session {
            fn default() -> Self {
                Self::new()
            }
        }
    }
}

/// How a placeholder is fed: its type with `None` dimensions named (`&SMatrix<f32, N, 2>`), for
/// messages and docs.
fn feed_type_text(names: &Names, t: &TensorType) -> String {
    let dims: Vec<String> = t.shape.iter().map(|d| names.dim(*d).to_string()).collect();
    let elem = t.dtype.rust();
    match &dims[..] {
        [] => elem.to_string(),
        [n] => format!("&SVector<{elem}, {n}>"),
        [r, c] => format!("&SMatrix<{elem}, {r}, {c}>"),
        dims => format!("&Array{}<{elem}, {}>", dims.len(), dims.join(", ")),
    }
}

/// The Rust type a placeholder is fed as, with `'a` for references.
fn feed_type(names: &Names, t: &TensorType) -> TokenStream {
    let ty = names.rust_type(t);
    if t.shape.is_empty() {
        ty
    } else {
        quote!(&'a #ty)
    }
}

/// The type a placeholder takes in a fetch fed with run-time sizes, and the type parameters it
/// introduces (named after the placeholder, spanned on `span`): a `None` dimension is nalgebra's `Dyn`, so `[None, 2]` takes
/// `&Matrix<f32, Dyn, C, S>` (a `DMatrix`, an `OMatrix<f32, Dyn, Const<2>>`, a view, rows of a
/// bigger matrix) and `[None]` takes `&Matrix<f32, Dyn, U1, S>` (a `DVector`, a view). A
/// placeholder without a `None` dimension takes its static type. The storage's rows are one element
/// apart (nalgebra's `RStride = U1`: every matrix and every view but one with a row step), so that
/// a matrix product reads a column of a feed as a slice. `None` for rank 3 or more with a
/// `None` dimension, which nalgebra's matrices cannot hold.
fn dynamic_feed_type(
    names: &Names,
    t: &TensorType,
    placeholder: &Ident,
    span: Span,
) -> Option<(TokenStream, Vec<TokenStream>)> {
    if !has_sym(t) {
        return Some((feed_type(names, t), Vec::new()));
    }
    let elem = Ident::new(t.dtype.rust(), span);
    let camel = feed_param(placeholder, &mut Vec::new()).to_string();
    let camel = camel.trim_end_matches("Feed");
    let storage = Ident::new(&format!("{camel}Storage"), span);
    let p = quote_spanned!(span=> ::tfcore::__private);
    let (rows, cols, dim) = match t.shape[..] {
        [_] => (quote_spanned!(span=> #p::Dyn), quote_spanned!(span=> #p::U1), None),
        [Dim::Sym(_), _] => {
            let c = Ident::new(&format!("{camel}Cols"), span);
            (quote_spanned!(span=> #p::Dyn), quote!(#c), Some(c))
        }
        [_, _] => {
            let r = Ident::new(&format!("{camel}Rows"), span);
            (quote!(#r), quote_spanned!(span=> #p::Dyn), Some(r))
        }
        _ => return None,
    };
    let mut params: Vec<TokenStream> = dim.iter().map(|d| quote_spanned!(span=> #d: #p::Dim)).collect();
    // Rows one element apart (a `DMatrix`, a view of rows or of a block): each column is a slice.
    params.push(quote_spanned!(span=> #storage: #p::RawStorage<#elem, #rows, #cols, RStride = #p::U1>));
    Some((quote_spanned!(span=> &'a #p::Matrix<#elem, #rows, #cols, #storage>), params))
}

/// [`dynamic_feed_type`] of each of `feeds`, and all their type parameters; `None` if a feed
/// has none or none of them has a `None` dimension.
fn dynamic_feed_types(graph: &Graph, names: &Names, feeds: &[NodeId]) -> Option<(Vec<TokenStream>, Vec<TokenStream>)> {
    let mut types = Vec::new();
    let mut params = Vec::new();
    let mut any = false;
    for &p in feeds {
        let t = graph.tensor(p)?;
        any |= has_sym(t);
        let (ty, ps) = dynamic_feed_type(names, t, graph.nodes[p].name.as_ref()?, graph.nodes[p].op_loc.start)?;
        types.push(ty);
        params.extend(ps);
    }
    any.then_some((types, params))
}

/// `<'a, const N: usize>` for the given lifetime use and const generics, or nothing.
fn impl_generics(lifetime: bool, generics: &[Ident]) -> TokenStream {
    if !lifetime && generics.is_empty() {
        return TokenStream::new();
    }
    let lt = lifetime.then(|| quote!('a,));
    quote!(<#lt #(const #generics: usize),*>)
}

/// The module `feeds`: for each placeholder a trait the values it can be fed implement, whose
/// message names the placeholder, its dtype and its shape when something else is fed; and for
/// each fetch whose placeholders share a `None` dimension, a trait the tuple of its feeds
/// implements when they agree on it.
fn feeds_module(graph: &Graph, names: &Names) -> TokenStream {
    let mut items = Vec::new();
    for node in &graph.nodes {
        let (Op::Placeholder { .. }, Some(name), Some(Type::Tensor(t))) = (&node.op, &node.name, &node.ty) else {
            continue;
        };
        let span = node.op_loc.start;
        let fed_as = feed_type_text(names, t);
        let what = format!("a `{}` tensor of shape {}", t.dtype, crate::ir::ShapeDisplay(&t.shape));
        let dynamic = dynamic_feed_type(names, t, name, span).filter(|_| has_sym(t));
        let or_dynamic = match (dynamic.is_some(), t.shape.len()) {
            (true, 1) => format!(", or `&DVector<{}>` (or a view) with tfcore's `alloc` feature", t.dtype.rust()),
            (true, _) => format!(", or `&DMatrix<{}>` (or a view) with tfcore's `alloc` feature", t.dtype.rust()),
            _ => String::new(),
        };
        let message = format!("placeholder `{name}` takes {what}, fed as `{fed_as}`{or_dynamic}, not `{{Self}}`");
        let label = format!("expected `{fed_as}`");
        let doc = format!(" What placeholder `{name}` can be fed: {what}, as `{fed_as}`.");
        let mut generics = Vec::new();
        names.generics_of(t, &mut generics);
        let params = impl_generics(!t.shape.is_empty(), &generics);
        let ty = feed_type(names, t);
        let dynamic = dynamic.map(|(ty, params)| {
            quote_spanned! {span=>
                ::tfcore::__private::with_alloc! {
                    impl<'a, #(#params),*> #name for #ty {}
                }
            }
        });
        items.push(quote_spanned! {span=>
            #[doc = #doc]
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            pub trait #name {}
            impl #params #name for #ty {}
            #dynamic
        });
    }
    for f in &graph.fetches {
        let feeds = &f.feeds;
        let Some(Agreement { name: trait_name, message, types, generics, borrows }) =
            shared_dims(graph, names, f, feeds)
        else {
            continue;
        };
        let doc = format!(" The feeds of `{}` agree on the `None` dimensions they share.", f.name);
        let params = impl_generics(borrows, &generics);
        let span = f.name.span();
        // Fed with run-time sizes, they are compared when the fetch runs.
        let dynamic = dynamic_feed_types(graph, names, feeds).map(|(types, params)| {
            quote_spanned! {span=>
                ::tfcore::__private::with_alloc! {
                    impl<'a, #(#params),*> #trait_name for (#(#types,)*) {}
                }
            }
        });
        items.push(quote_spanned! {span=>
            #[doc = #doc]
            #[diagnostic::on_unimplemented(message = #message, label = "fed different sizes")]
            pub trait #trait_name {}
            impl #params #trait_name for (#(#types,)*) {}
            #dynamic
        });
    }
    quote! {
        /// What each placeholder can be fed. Fetch types bound their fields by these traits, so
        /// that a feed of the wrong dtype or shape is reported in the graph's terms.
        #[allow(non_camel_case_types)]
        pub mod feeds {
            #(#items)*
        }
    }
}

/// The trait a fetch's feeds implement together when they agree on the `None` dimensions they
/// share.
struct Agreement {
    /// Named after the fetch.
    name: Ident,
    message: String,
    /// The feeds' types, in field order.
    types: Vec<TokenStream>,
    generics: Vec<Ident>,
    borrows: bool,
}

/// The agreement trait of a fetch whose placeholders share a `None` dimension, if they do.
fn shared_dims(graph: &Graph, names: &Names, f: &crate::ir::Fetch, feeds: &[NodeId]) -> Option<Agreement> {
    let mut uses: Vec<(usize, Vec<String>)> = Vec::new();
    for &p in feeds {
        let t = graph.tensor(p)?;
        for (k, d) in t.shape.iter().enumerate() {
            if let crate::ir::Dim::Sym(s) = d {
                let place = format!("`{}`'s dimension {k}", graph.nodes[p].name.as_ref()?);
                match uses.iter_mut().find(|(sym, _)| sym == s) {
                    Some((_, places)) => places.push(place),
                    None => uses.push((*s, vec![place])),
                }
            }
        }
    }
    let shared: Vec<String> =
        uses.iter().filter(|(_, places)| places.len() > 1).map(|(_, places)| places.join(" and ")).collect();
    let crossing = feeds.len() > 1 && !shared.is_empty();
    if !crossing {
        return None;
    }
    let message = format!(
        "the feeds of `{}` disagree on a `None` dimension they share: {} must be equal, but they were fed `{{Self}}`",
        f.name,
        shared.join("; ")
    );
    let mut generics = Vec::new();
    let mut lifetime = false;
    let types = feeds
        .iter()
        .map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            names.generics_of(t, &mut generics);
            lifetime |= !t.shape.is_empty();
            feed_type(names, t)
        })
        .collect();
    Some(Agreement { name: f.name.clone(), message, types, generics, borrows: lifetime })
}

/// The type parameter of a fetch struct for a placeholder's feed: `VTargetFeed` for `v_target`.
fn feed_param(name: &Ident, taken: &mut Vec<String>) -> Ident {
    let text = name.to_string();
    let mut camel: String = text
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect();
    camel.push_str("Feed");
    while taken.contains(&camel) {
        camel.push('_');
    }
    taken.push(camel.clone());
    Ident::new(&camel, name.span())
}

/// A fetch already emitted, which later fetches may call.
struct Emitted {
    name: Ident,
    feeds: Vec<NodeId>,
    /// The feeds its computation reads (after optimisation), and through which nodes.
    reads: Vec<NodeId>,
    through: Vec<(NodeId, Vec<String>)>,
    /// Whether it writes to the session (assigns or re-initialises).
    writes: bool,
    /// Its type's paragraph on memory ([`Body::memory_doc`]).
    memory: Option<String>,
    /// Whether it has an implementation for feeds of run-time size.
    dynamic: bool,
}

/// A fetch's type, and what its implementations need of it.
struct Definition {
    /// The type with its documentation.
    definition: TokenStream,
    /// The type with its parameters (the feeds' types).
    self_type: TokenStream,
    /// The generics of the `Fetch` impl, with their brackets and without.
    params: TokenStream,
    params_inner: TokenStream,
    /// `Fetch::Output`.
    output: TokenStream,
    /// The feeds' fields, named as their placeholders.
    field_names: Vec<Ident>,
}

/// The type of fetch `f`, whose computation reads the feeds `read` through the nodes of
/// `through` ([`needed_through`], by feed).
fn definition(
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
    let mut generics = Vec::new();
    let mut lifetime = false;
    let feed_types: Vec<TokenStream> = feeds
        .iter()
        .map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            names.generics_of(t, &mut generics);
            lifetime |= !t.shape.is_empty();
            feed_type(names, t)
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
        let field_docs = feeds.iter().map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            format!(
                " The value fed to placeholder `{}`: a `{}` tensor of shape {}, as `{}`.{}",
                graph.nodes[p].name.as_ref().expect("named"),
                t.dtype,
                crate::ir::ShapeDisplay(&t.shape),
                feed_type_text(names, t),
                if read.contains(&p) {
                    through_doc(through.iter().find(|(q, _)| *q == p).map_or(&[], |(_, chain)| chain))
                } else {
                    " The graph as written reads it; the computation as optimised does not (a simplification or the gradient made it unneeded), so its value does not matter.".to_string()
                }
            )
        });
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

/// The fetch that fetch `f` can call: one whose node is below `f`'s along a chain of unary
/// elementwise ops (`tf.tanh`, `tf.nn.relu`...) of its dtype and shape, nearest first, that
/// writes nothing and needs only feeds `f` has; with that node.
fn callee<'d>(
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
fn calling_fetch(
    graph: &Graph,
    names: &Names,
    f: &crate::ir::Fetch,
    body: &Body,
    j: NodeId,
    callee: &Emitted,
) -> (TokenStream, Emitted) {
    let (name, root, feeds) = (&f.name, f.node, &f.feeds);
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
    let Definition { definition, self_type, params, output, field_names, .. } =
        definition(graph, names, f, &callee.reads, &through, callee.memory.clone());
    let rank = graph.tensor(root).map_or(2, |t| t.shape.len());
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    let over = body.over(j, root);
    let elem = Ident::new(graph.tensor(root).map_or(DType::Float32, |t| t.dtype).rust(), Span::call_site());
    let (callee_name, callee_fields) = (&callee.name, callee.feeds.iter().map(|&p| &graph.nodes[p].name));
    let callee_locals: Vec<Ident> = callee.feeds.iter().map(|&p| body.local(p)).collect();
    let locals = feeds.iter().map(|&p| {
        let local = body.local(p);
        if callee.feeds.contains(&p) {
            quote!(#local)
        } else {
            quote!(_)
        }
    });
    let bind = quote!(let #name { #(#field_names: #locals),* } = self;);
    let call = quote!(#callee_name { #(#callee_fields: #callee_locals),* });
    let run = run_over_zeros(rank);
    // The chain over the callee's value, through `__private::dispatch` (see `fetch`).
    let over_fn = quote! {
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
    };
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
    let dynamic = dynamic_feed_types(graph, names, feeds).filter(|_| callee.dynamic).map(|(types, params)| {
        let p = quote!(::tfcore::__private);
        let output = graph.nodes[root].ty.as_ref().map(|t| names.dynamic_type_of(t));
        let header = quote_spanned!(span=> impl<'a, #(#params),*> #p::Fetch<Session> for #name<#(#types),*>);
        quote! {
            #p::with_alloc! {
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
        }
    });
    let emitted = Emitted {
        name: name.clone(),
        feeds: feeds.clone(),
        reads: callee.reads.clone(),
        through,
        writes: false,
        memory: callee.memory.clone(),
        dynamic: dynamic.is_some(),
    };
    let code = quote! {
        #definition
        #header {
            type Output = #output;

            #methods
        }
        #dynamic
    };
    (code, emitted)
}

/// `Fetch::run` for a fetch computed by its `run_into`: into zeros of its own.
fn run_over_zeros(rank: usize) -> TokenStream {
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
fn fetch(graph: &Graph, names: &Names, f: &crate::ir::Fetch, body: &Body) -> (TokenStream, Emitted) {
    let name = &f.name;
    let root = f.node;
    let feeds = f.feeds.clone();
    let read = body.feeds();
    let memory = body.memory_doc();
    let through: Vec<(NodeId, Vec<String>)> = read.iter().map(|&p| (p, needed_through(graph, root, p))).collect();
    let Definition { definition, self_type, params, params_inner, output, field_names } =
        definition(graph, names, f, &read, &through, memory.clone());
    let bind = if feeds.is_empty() {
        quote!(let _ = self;)
    } else {
        // A feed the optimised computation does not read is still a field; it binds to `_`.
        let locals = feeds.iter().map(|&p| {
            let local = body.local(p);
            if read.contains(&p) {
                quote!(#local)
            } else {
                quote!(_)
            }
        });
        quote!(let #name { #(#field_names: #locals),* } = self;)
    };
    let has_slots = graph
        .variables()
        .iter()
        .any(|&v| matches!(&graph.nodes[v].op, Op::Variable(var) if var.storage != Storage::User));
    let writes = body.writes_to_session(has_slots);
    let value = body.value(root);
    let session = if body.uses_session() { quote!(__session) } else { quote!(_) };
    let allow = quote!(#[allow(non_snake_case, unused_parens, unused_braces, clippy::all)]);
    // A root written element by element with nothing after it is computed by `run_into`, straight
    // into the caller's `out`; `run` is that over zeros of its own. Any other root is computed by
    // `run`, and `run_into` assigns what it returns (the trait's default).
    // The body is an `#[inline(always)]` method of the fetch's type, which `run` (or `run_into`)
    // calls through `__private::dispatch`: inlined there twice, once compiled for AVX2.
    let (methods, computed) = match body.statements_into(root) {
        Some(into) if writes.is_empty() => {
            let run = run_over_zeros(graph.tensor(root).map_or(2, |t| t.shape.len()));
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
        _ => {
            let statements = body.statements(Context::Run);
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
    let dynamic = dynamic_fetch(graph, names, f, has_slots);
    let emitted = Emitted {
        name: name.clone(),
        feeds: feeds.clone(),
        reads: read,
        through,
        writes: !writes.is_empty(),
        memory,
        dynamic: dynamic.is_some(),
    };
    let code = quote! {
        #definition
        #header #body
        #computed
        #dynamic
    };
    (code, emitted)
}

/// The fetch's implementation for feeds of run-time size (behind tfcore's `alloc` feature), if
/// any of its placeholders has a `None` dimension and its computation has a form for them: the
/// feeds' shapes are checked first (an `Err(FeedError)` names the placeholder and both shapes),
/// every computed tensor of a `None` dimension lives in the session's workspace, and values of a
/// `None` dimension come back as `DMatrix` or `DVector`.
fn dynamic_fetch(graph: &Graph, names: &Names, f: &crate::ir::Fetch, has_slots: bool) -> Option<TokenStream> {
    let name = &f.name;
    let feeds = &f.feeds;
    let (types, params) = dynamic_feed_types(graph, names, feeds)?;
    let body = Body::new_dynamic(graph, names, &[f.node], feeds)?;
    let p = quote!(::tfcore::__private);
    // Bind every feed; then read the `None` dimensions off the first feed having each, and check
    // every other dimension against the placeholder's or the first feed's.
    let field_names: Vec<Ident> = feeds.iter().map(|&p| graph.nodes[p].name.clone()).collect::<Option<_>>()?;
    let locals: Vec<Ident> = feeds.iter().map(|&p| body.local(p)).collect();
    let mut checks = TokenStream::new();
    let mut first: Vec<(usize, String, usize, Ident)> = Vec::new();
    for (&id, local) in feeds.iter().zip(&locals) {
        let t = graph.tensor(id)?;
        if !has_sym(t) {
            continue;
        }
        let placeholder = graph.nodes[id].name.as_ref()?.to_string();
        let expected = crate::ir::ShapeDisplay(&t.shape).to_string();
        let rank = t.shape.len();
        let sizes = [quote!(#local.nrows()), quote!(#local.ncols())];
        let fed = if rank == 1 { quote!([#local.nrows(), 0]) } else { quote!([#local.nrows(), #local.ncols()]) };
        for (k, d) in t.shape.iter().enumerate() {
            let size = &sizes[k];
            match d {
                Dim::Known(n) => checks.extend(quote! {
                    if #size != #n {
                        return ::core::result::Result::Err(#p::FeedError::Shape {
                            placeholder: #placeholder, fed: #fed, rank: #rank, expected: #expected,
                        });
                    }
                }),
                Dim::Sym(s) => match first.iter().find(|f| f.0 == *s) {
                    None => {
                        let n = match names.dim(*d).into_iter().next() {
                            Some(proc_macro2::TokenTree::Ident(n)) => n,
                            _ => return None,
                        };
                        checks.extend(quote!(let #n: usize = #size;));
                        first.push((*s, placeholder.clone(), k, n));
                    }
                    Some((_, by, at, n)) => checks.extend(quote! {
                        if #size != #n {
                            return ::core::result::Result::Err(#p::FeedError::Disagree {
                                placeholder: #placeholder, dim: #k, size: #size,
                                first: #by, first_dim: #at, first_size: #n,
                            });
                        }
                    }),
                },
            }
        }
    }
    let output = graph.nodes[f.node].ty.as_ref().map(|t| names.dynamic_type_of(t)).unwrap_or_else(|| quote!(()));
    let statements = body.statements(Context::Run);
    let value = body.value(f.node);
    let writes = body.writes_to_session(has_slots);
    let span = name.span();
    let header = quote_spanned!(span=> impl<'a, #(#params),*> #p::Fetch<Session> for #name<#(#types),*>);
    Some(quote! {
        #p::with_alloc! {
            #header {
                type Output = ::core::result::Result<#output, #p::FeedError>;

                fn run(self, __session: &mut Session) -> Self::Output {
                    #p::dispatch(self, __session)
                }
            }

            impl<'__s, 'a, #(#params),*> #p::Compute<&'__s mut Session> for #name<#(#types),*> {
                type Output = ::core::result::Result<#output, #p::FeedError>;

                #[inline(always)]
                #[allow(non_snake_case, unused_parens, unused_braces, unused_variables, clippy::all)]
                fn compute(self, __session: &mut Session) -> Self::Output {
                    let #name { #(#field_names: #locals),* } = self;
                    #checks
                    #statements
                    let __result = #value;
                    #writes
                    ::core::result::Result::Ok(__result)
                }
            }
        }
    })
}

/// The named nodes between the fetch's node and a placeholder it needs, nearest the placeholder
/// first, for the field's documentation: " Needed through `a_` → `v_guess`." ([`through_doc`]).
fn needed_through(graph: &Graph, root: NodeId, placeholder: NodeId) -> Vec<String> {
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
fn push_through(chain: &mut Vec<String>, name: &Ident) {
    const SHOWN: usize = 4;
    chain.push(format!("`{name}`"));
    if chain.len() > SHOWN {
        chain.drain(SHOWN - 2..chain.len() - 1);
        chain.insert(SHOWN - 2, "…".into());
    }
}

/// A field's sentence on the nodes that read its placeholder ([`needed_through`]).
fn through_doc(chain: &[String]) -> String {
    if chain.len() <= 1 {
        String::new()
    } else {
        format!(" Needed through {}.", chain.join(" → "))
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
