//! The names generated code gives to `None` dimensions, to variables' storage and to the
//! constants' `static`s, and the Rust types of tensors.

use super::*;

/// The names generated code gives to `None` dimensions, to variables' storage and to the
/// constants' `static`s.
pub struct Names {
    syms: HashMap<usize, Ident>,
    /// The constant weights stored in panels, each with the axis its products' lines run along
    /// ([`crate::ops::matmul::panelled`]).
    panelled: HashMap<NodeId, usize>,
    /// The variables the session holds a copy of in panels, each with the axis of its lines
    /// ([`crate::ops::matmul::copied`]).
    copied: Vec<(NodeId, usize)>,
    /// The names of the graph's nodes: each `let` is a fetch type of the module, and one with no
    /// feed a unit struct, which a binding of the same name would match as a pattern.
    taken: std::collections::HashSet<String>,
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
        let taken = graph.nodes.iter().filter_map(|n| n.name.as_ref().map(ToString::to_string)).collect();
        let (panelled, copied) = (crate::ops::matmul::panelled(graph), crate::ops::matmul::copied(graph));
        Names { syms, panelled, copied, taken }
    }

    /// The identifier generated code binds a parameter or local named `name` to: `name` itself,
    /// as the docs show it, unless a node of the graph has that name (a fetch type, which as a
    /// unit struct a binding of its name would match as a pattern), then `__name`.
    pub fn binding(&self, name: &str) -> Ident {
        let name = if self.taken.contains(name) { format!("__{name}") } else { name.to_string() };
        Ident::new(&name, Span::call_site())
    }

    /// The `static` holding constant tensor `id`, which [`Names::statics`] defines once in the
    /// graph's module for every body that reads it (each fetch defining its own copy wrote the
    /// anomaly detector's 20 weight tensors out as 259 statics, 65 MB of tokens, and as many
    /// copies into a binary that runs several fetches).
    pub fn static_name(id: NodeId) -> Ident {
        format_ident!("__C{}", id)
    }

    /// The `static` items of the constants `statics` (what the module's plans read,
    /// [`super::plan::Plan::statics`]).
    pub fn statics(&self, graph: &Graph, statics: &BTreeSet<NodeId>) -> TokenStream {
        let mut out = TokenStream::new();
        for &id in statics {
            let (Op::Const { data: crate::ir::Data::Dense(values), shape, .. }, Some(t)) =
                (&graph.nodes[id].op, graph.tensor(id))
            else {
                continue;
            };
            let elem = Ident::new(t.dtype.rust(), Span::call_site());
            let len = Literal::usize_unsuffixed(values.len());
            let (ty, value) = match (self.panelled(id), &shape[..]) {
                (Some(along), &[rows, cols]) => {
                    (quote!([#elem; #len]), crate::ops::matmul::panels_value(values, rows, cols, along, t.dtype))
                }
                _ => {
                    let ty = self.rust_type(t);
                    let value = crate::values::dense_value(values, shape, t.dtype, &ty);
                    (ty, value)
                }
            };
            // On a cache line, as the buffers are ([`tfcore::__private::Aligned`]): otherwise where
            // the linker happens to put a weight decides whether each vector load of it straddles
            // two lines, and so how fast a build of the graph is.
            let name = format_ident!("__C{}", id);
            out.extend(quote! {
                #[allow(clippy::all)]
                static #name: ::tfcore::__private::Aligned<#ty> = ::tfcore::__private::Aligned(#value);
            });
        }
        if statics.iter().any(|&id| self.panelled(id).is_some()) {
            out.extend(crate::ops::matmul::panels_check());
        }
        out
    }

    /// The axis the lines of constant `id` run along, if it is stored in panels (a flat array in
    /// [`tfcore::__private::panel_at`]'s order) rather than as its `SMatrix`.
    pub fn panelled(&self, id: NodeId) -> Option<usize> {
        self.panelled.get(&id).copied()
    }

    /// The field of the session's `__Panels` holding variable `id`'s copy in panels, lines along
    /// axis `along`, if it has one ([`crate::ops::matmul::copied`]).
    pub fn copy_field(&self, id: NodeId, along: usize) -> Option<Ident> {
        self.copied.contains(&(id, along)).then(|| format_ident!("v{}_{}", id, along))
    }

    /// Every field of the session's `__Panels`, in order, each with its variable.
    pub fn copy_fields(&self) -> Vec<(NodeId, Ident)> {
        self.copied.iter().filter_map(|&(id, along)| Some((id, self.copy_field(id, along)?))).collect()
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
            rank @ (3 | 4) if has_sym(t) => quote!(::tfcore::__private::DArray<#elem, #rank>),
            _ => self.rust_type(t),
        }
    }

    /// The Rust type of a node's value ([`Names::dynamic_type`] for each tensor): a tensor's, `()`,
    /// or a tuple's.
    pub fn dynamic_type_of(&self, ty: &Type) -> TokenStream {
        Names::of_type(ty, |t| self.dynamic_type(t))
    }

    /// The Rust type of a node's value ([`Names::rust_type`] for each tensor).
    pub fn type_of(&self, ty: &Type) -> TokenStream {
        Names::of_type(ty, |t| self.rust_type(t))
    }

    fn of_type(ty: &Type, tensor: impl Fn(&TensorType) -> TokenStream) -> TokenStream {
        match ty {
            Type::Tensor(t) => tensor(t),
            Type::Unit => quote!(()),
            Type::Tuple(ts) => {
                let parts = ts.iter().map(tensor);
                quote!((#(#parts,)*))
            }
        }
    }
}

/// Whether a tensor type has a `None` dimension.
pub(super) fn has_sym(t: &TensorType) -> bool {
    t.shape.iter().any(|d| matches!(d, Dim::Sym(_)))
}
