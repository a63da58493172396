//! The code computing some nodes of a graph: the body of one fetch's `run`, or the initial
//! values of the variables.
//!
//! Only the nodes the roots read are computed (TensorFlow's pruning), each once, in an order where
//! each follows its inputs. A node is either materialised as a local (`let __hidden_layer = ...;`)
//! or *inlined* into the element expression of the node that reads it, when that node reads each
//! of its elements once (an elementwise op of the same shape, a reduction) or when computing it
//! is as cheap as reading it (a transpose, a broadcast, a one-hot of a local). So
//! `sigmoid(X W1 + b1)` is one loop whose body is a dot product, an add and a sigmoid, with no
//! temporary matrix in between. Materialised tensors are built with nalgebra's `from_fn`; sums use
//! `tfcore::__private::sum` (or, under 8 terms, the same sum written out).

use super::chunks::Phase;
use super::Names;
use crate::ir::{AssignKind, Binary, DType, Data, Dim, Graph, NodeId, Op, Scalar, Type};
use crate::ops::Reads;
use crate::values::{convert_number, dense_value, ident, literal};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use std::cell::Cell;
use std::collections::HashSet;

/// How a node's value is reached in the generated code.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Form {
    /// Not computed: nothing reads its value.
    Unused,
    /// Computed inside the expression of the node that reads it.
    Inline,
    /// A local variable holding the value.
    Local,
    /// A placeholder: a field of the fetch, bound to a local (a value, or a reference for tensors).
    Feed,
    /// A variable's value in the session, bound to a local (a value, or a reference for tensors).
    Variable,
}

/// Where the values of variables and random draws come from.
#[derive(Clone, Copy, PartialEq)]
pub enum Context {
    /// A fetch's `run`: variables are read from `__session`.
    Run,
    /// The initial values: random draws come from `__rng`.
    Init,
}

pub struct Body<'g> {
    pub graph: &'g Graph,
    pub names: &'g Names,
    order: Vec<NodeId>,
    roots: Vec<NodeId>,
    form: Vec<Form>,
    /// The storage of each computed tensor local: its slot, shared over time (see `plan_slots`).
    slot: Vec<Option<usize>>,
    /// Whether each slot is assigned more than once (so it is declared `mut`).
    reused: Vec<bool>,
    /// The shared buffer of each tensor stored flat (row-major) in one (see `plan_slots`).
    flat: Vec<Option<usize>>,
    /// The type each buffer is declared with: that of its largest tensor.
    buffers: Vec<crate::ir::TensorType>,
    /// For a tensor written over the input it replaces in its buffer (an activation, a residual
    /// add), that input.
    in_place: Vec<Option<NodeId>>,
    /// While a tensor is written over its input, that input, whose element is then `__out[__at]`.
    overwriting: Cell<Option<NodeId>>,
    /// For a tensor that an assignment stores in a variable, computed straight into the
    /// variable's storage in the session (see [`Body::plan_in_session`]), that variable.
    into_variable: Vec<Option<NodeId>>,
    /// The assignments whose tensor (the value of an `assign`, an `assign_sub` itself) is computed
    /// in the variable's storage: nothing is left to write at the end.
    assigned_in_place: Vec<bool>,
    /// A matrix product computed whole into the caller's value, which the root (an elementwise
    /// chain over it, `relu(x W + b)`) is then written over in place: no storage of its own.
    into_out: Option<NodeId>,
    /// The blocked products stored column-major in a static plan ([`Body::column_major`]).
    by_columns: Vec<bool>,
    /// The position (in `order`) of the last computed local whose code reads each node.
    last_read: Vec<usize>,
    /// The nodes of `order` that take each node as an input, each once, in `order`'s order.
    readers: Vec<Vec<NodeId>>,
    fresh: Cell<usize>,
    /// Whether `None` dimensions are run-time sizes (feeds of run-time size): then every computed
    /// tensor of such a shape is stored flat in the session's workspace, and the `None`
    /// dimensions are locals rather than const generics.
    dynamic: bool,
    /// For a fetch of run-time size that runs in chunks of rows, the phase of every node.
    chunks: Option<super::chunks::Chunks>,
}

impl<'g> Body<'g> {
    /// Plans the computation of `roots`, each of which is returned materialised.
    pub fn new(graph: &'g Graph, names: &'g Names, roots: &[NodeId]) -> Body<'g> {
        Body::planned(graph, names, roots, &[], false)
    }

    /// Plans the nodes from `root` down to `input` (not those below it), whose value is
    /// computed elsewhere: for [`Body::over`].
    pub fn until(graph: &'g Graph, names: &'g Names, root: NodeId, input: NodeId) -> Body<'g> {
        Body::planned(graph, names, &[root], &[input], false)
    }

    /// Plans the computation of `roots` for feeds of run-time size: every computed tensor with a
    /// `None` dimension is stored flat in the workspace. `None` if the computation holds something
    /// that has no such form (a random tensor of run-time shape, a result of rank 3 or more with a
    /// `None` dimension), or a `None` dimension no feed gives.
    pub fn new_dynamic(graph: &'g Graph, names: &'g Names, roots: &[NodeId], feeds: &[NodeId]) -> Option<Body<'g>> {
        let body = Body::planned(graph, names, roots, &[], true);
        let mut given = Vec::new();
        for &p in feeds {
            given.extend(body.shape(p).iter().filter_map(|d| match d {
                Dim::Sym(s) => Some(*s),
                Dim::Known(_) => None,
            }));
        }
        for &id in &body.order {
            let shape = body.shape(id);
            if shape.iter().any(|d| matches!(d, Dim::Sym(s) if !given.contains(s))) {
                return None;
            }
            let sym = shape.iter().any(|d| matches!(d, Dim::Sym(_)));
            if !sym {
                continue;
            }
            let flat_form = body.by_element(id)
                || body.graph.nodes[id]
                    .op
                    .rules()
                    .is_some_and(|r| r.materialise_flat(&body, id, &quote!(__out)).is_some());
            let stored = body.is_computed_local(id) && body.flat[id].is_some() && flat_form;
            let ok = match body.form[id] {
                Form::Feed => shape.len() <= 2,
                Form::Inline | Form::Unused => true,
                Form::Local if stored => shape.len() <= 2 || !body.roots.contains(&id),
                _ => false,
            };
            if !ok {
                return None;
            }
        }
        Some(body)
    }

    fn planned(graph: &'g Graph, names: &'g Names, roots: &[NodeId], stop: &[NodeId], dynamic: bool) -> Body<'g> {
        let mut order = graph.topo_order_until(roots, stop);
        // Run in chunks of rows: the nodes computed once before the chunks first, then those of
        // every chunk, then those after the last (still inputs first), so that the plans below
        // follow the order the code runs in.
        let chunks = if dynamic { super::chunks::plan(graph, &order, roots) } else { None };
        if let Some(c) = &chunks {
            order.sort_by_key(|&id| match c.phase[id] {
                Phase::Before => 0,
                Phase::Rows | Phase::Sums => 1,
                Phase::After => 2,
            });
        }
        let n = graph.nodes.len();
        let mut uses = vec![0usize; n];
        let mut consumers: Vec<Vec<(NodeId, usize)>> = vec![Vec::new(); n];
        let mut readers: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for &id in &order {
            for &input in &graph.nodes[id].inputs {
                if readers[input].last() != Some(&id) {
                    readers[input].push(id);
                }
            }
            for (k, &input) in graph.nodes[id].inputs.iter().enumerate() {
                if reads_value(&graph.nodes[id].op, k) {
                    uses[input] += 1;
                    consumers[input].push((id, k));
                }
            }
        }
        let mut body = Body {
            graph,
            names,
            order,
            roots: roots.to_vec(),
            form: vec![Form::Unused; n],
            slot: vec![None; n],
            reused: Vec::new(),
            flat: vec![None; n],
            buffers: Vec::new(),
            in_place: vec![None; n],
            overwriting: Cell::new(None),
            into_variable: vec![None; n],
            assigned_in_place: vec![false; n],
            into_out: None,
            by_columns: vec![false; n],
            last_read: Vec::new(),
            readers,
            fresh: Cell::new(0),
            dynamic,
            chunks,
        };
        for i in 0..body.order.len() {
            let id = body.order[i];
            let root = roots.contains(&id);
            body.form[id] =
                if stop.contains(&id) { Form::Local } else { body.plan(id, root, uses[id], &consumers[id]) };
        }
        body.into_out = body.order.iter().copied().find(|&id| body.blocked(id) && body.is_written_over_in_out(id));
        body.plan_slots();
        body.plan_columns();
        body
    }

    /// The form of node `id`, given its inputs' forms.
    fn plan(&self, id: NodeId, root: bool, uses: usize, consumers: &[(NodeId, usize)]) -> Form {
        let node = &self.graph.nodes[id];
        match &node.op {
            Op::Placeholder { .. } => return Form::Feed,
            Op::Variable(_) => return if uses > 0 || root { Form::Variable } else { Form::Unused },
            Op::Group | Op::Init => return Form::Unused,
            Op::Const { data: Data::Splat(_), .. } => return if root { Form::Local } else { Form::Inline },
            Op::Const { .. } | Op::RandomUniform { .. } | Op::Tuple | Op::Assign(_) => return Form::Local,
            op => match op.rules() {
                Some(rules) if rules.reads() == Reads::Whole || rules.blocked(self, id) => return Form::Local,
                // An op of no inputs whose element is as cheap as a literal (a count).
                Some(rules) if node.inputs.is_empty() && rules.cheap() => {
                    return if root { Form::Local } else { Form::Inline }
                }
                _ => {}
            },
        }
        if root || (uses > 0 && self.phase(id) == Some(Phase::Sums)) {
            return Form::Local;
        }
        if uses == 0 {
            return Form::Unused;
        }
        let whole = |op: &Op| matches!(op, Op::Tuple) || op.rules().is_some_and(|r| r.reads() == Reads::Whole);
        if consumers.iter().any(|(c, _)| whole(&self.graph.nodes[*c].op)) {
            return Form::Local;
        }
        if self.cheap(id) {
            return Form::Inline;
        }
        if let [(consumer, _)] = consumers {
            if self.streams(*consumer, id) {
                return Form::Inline;
            }
        }
        Form::Local
    }

    /// Whether computing an element of `id` costs about as much as reading one.
    fn cheap(&self, id: NodeId) -> bool {
        let node = &self.graph.nodes[id];
        let input_is_place = || {
            node.inputs.iter().all(|&i| {
                matches!(self.form[i], Form::Local | Form::Feed | Form::Variable) || self.is_scalar_literal(i)
            })
        };
        node.op.rules().is_some_and(|rules| rules.cheap()) && input_is_place()
    }

    fn is_scalar_literal(&self, id: NodeId) -> bool {
        self.form[id] == Form::Inline && self.graph.nodes[id].inputs.is_empty()
    }

    /// Whether `consumer` reads each element of `producer` once, so that `producer` can be
    /// computed inside it without computing anything twice.
    fn streams(&self, consumer: NodeId, producer: NodeId) -> bool {
        let (c, p) = (self.shape(consumer), self.shape(producer));
        match &self.graph.nodes[consumer].op {
            Op::Assign(_) => c == p,
            op => match op.rules().map(|r| r.reads()) {
                Some(Reads::Once) => true,
                Some(Reads::Elementwise) => c == p,
                _ => false,
            },
        }
    }

    /// Whether node `id` is a constant tensor kept in a `static`, its local a reference to it.
    fn is_static(&self, id: NodeId) -> bool {
        self.form[id] == Form::Local
            && matches!(&self.graph.nodes[id].op, Op::Const { data: Data::Dense(_), shape, .. } if !shape.is_empty())
    }

    /// The axis the lines of constant `id` run along, if its `static` is stored in panels
    /// ([`crate::ops::matmul::panelled`]), with its number of lines and their length.
    pub fn panels(&self, id: NodeId) -> Option<(usize, TokenStream, TokenStream)> {
        let along = self.names.panelled(id).filter(|_| self.is_static(id))?;
        let shape = self.shape(id);
        Some((along, self.names.dim(shape[1 - along]), self.names.dim(shape[along])))
    }

    /// The shape of node `id`.
    pub fn shape(&self, id: NodeId) -> Vec<Dim> {
        self.graph.tensor(id).map(|t| t.shape.clone()).unwrap_or_default()
    }

    /// The dtype of node `id`.
    pub fn dtype(&self, id: NodeId) -> DType {
        self.graph.tensor(id).map_or(DType::Float32, |t| t.dtype)
    }

    /// The local a node's value is bound to.
    pub fn local(&self, id: NodeId) -> Ident {
        match self.slot[id] {
            Some(k) if self.reused[k] => format_ident!("__s{}", k),
            _ => local_name(self.graph, id),
        }
    }

    fn fresh(&self, prefix: &str) -> Ident {
        let n = self.fresh.get();
        self.fresh.set(n + 1);
        format_ident!("__{}{}", prefix, n)
    }

    /// The placeholders the roots need, in graph order.
    pub fn feeds(&self) -> Vec<NodeId> {
        let mut feeds: Vec<NodeId> = self.order.iter().copied().filter(|&id| self.form[id] == Form::Feed).collect();
        feeds.sort_unstable();
        feeds
    }

    /// Whether the computation writes to the session (it assigns or re-initialises).
    pub fn writes(&self) -> bool {
        self.order.iter().any(|&id| matches!(self.graph.nodes[id].op, Op::Assign(_) | Op::Init))
    }

    /// Whether running it touches the session: reads a variable, draws at random, or writes.
    pub fn uses_session(&self) -> bool {
        self.writes() || self.uses_rng() || self.order.iter().any(|&id| self.form[id] == Form::Variable)
    }

    /// Whether it draws random numbers.
    pub fn uses_rng(&self) -> bool {
        self.order.iter().any(|&id| matches!(self.graph.nodes[id].op, Op::RandomUniform { .. }))
    }

    /// The statements computing every materialised node: variable reads, then locals in order.
    pub fn statements(&self, context: Context) -> TokenStream {
        self.statements_writing(context, None)
    }

    /// The statements of a `run_into` that writes root `root` element by element over `__out`
    /// (a `&mut` of its type), if it is a single computed root that can be: `None` for a root
    /// computed whole (a convolution, a matrix product on its own), stored flat, or a scalar.
    pub fn statements_into(&self, root: NodeId) -> Option<TokenStream> {
        let single = self.roots == [root] && self.is_computed_local(root) && self.flat[root].is_none();
        let rank = self.shape(root).len();
        (single && rank > 0 && self.fill(root).is_some()).then(|| self.statements_writing(Context::Run, Some(root)))
    }

    /// The statements computing every materialised node, `into` (if any) written element by
    /// element over `__out`.
    fn statements_writing(&self, context: Context, into: Option<NodeId>) -> TokenStream {
        let computed = self.computed_statements(context, into);
        // A variable computed over in place may be read only there, as `__out[__at]`: it is
        // bound only if the statements name it.
        let overwritten: Vec<NodeId> = self.into_variable.iter().flatten().copied().collect();
        let named = if overwritten.is_empty() { HashSet::new() } else { idents_of(&computed) };
        let mut out = TokenStream::new();
        for &id in &self.order {
            if self.form[id] == Form::Variable && context == Context::Run {
                let local = self.local(id);
                if overwritten.contains(&id) && !named.contains(&local.to_string()) {
                    continue;
                }
                let place = self.names.storage(self.graph, id);
                out.extend(if self.shape(id).is_empty() {
                    quote!(let #local = __session.#place;)
                } else {
                    quote!(let #local = &__session.#place;)
                });
            }
        }
        out.extend(computed);
        out
    }

    /// [`Body::statements_writing`] but for the variables' bindings.
    fn computed_statements(&self, context: Context, into: Option<NodeId>) -> TokenStream {
        let mut out = TokenStream::new();
        for &id in &self.order {
            if self.is_static(id) {
                // A constant tensor is a `static` of the graph's module, one for every fetch that
                // reads it ([`Names::use_static`]), read in place (from flash on a
                // microcontroller): no copy of it is made on the stack.
                let local = self.local(id);
                let name = self.names.use_static(id);
                out.extend(quote!(let #local = &#name;));
            }
        }
        let mut declared = vec![false; self.reused.len()];
        // The buffers first, as large as their largest tensor: `[[0.0; N]; 65536]`, the `None`
        // dimensions innermost, so that the repeat expression zeroes it in place (repeating a
        // large inner array would build it first, a temporary of its size).
        if let Some(chunks) = &self.chunks {
            // The workspace is split for each range of rows (`chunked_statements`).
            let n = self.names.dim(Dim::Sym(chunks.rows));
            out.extend(quote!(let __rows = #n;));
        } else if self.dynamic {
            out.extend(self.workspace_buffers(&quote!(__session.ws)));
        }
        for (k, t) in self.buffers.iter().enumerate().filter(|_| !self.dynamic) {
            let buffer = format_ident!("__f{}", k);
            let mut zeros = literal(Scalar::I(0), t.dtype);
            for d in t.shape.iter().filter(|d| matches!(d, Dim::Sym(_))) {
                let d = self.names.dim(*d);
                zeros = quote!([#zeros; #d]);
            }
            let known = size_of(&t.shape).1;
            out.extend(quote!(let mut #buffer = [#zeros; #known];));
        }
        if let Some(chunks) = &self.chunks {
            out.extend(self.chunked_statements(chunks, context, &mut declared));
            return out;
        }
        for &id in &self.order {
            out.extend(self.statement(id, context, into, &mut declared));
        }
        out
    }

    /// The statement computing node `id`, if it is a computed local: over `__out` if it is `into`,
    /// into its slot (`declared` says which slots are declared so far), buffer or variable.
    fn statement(&self, id: NodeId, context: Context, into: Option<NodeId>, declared: &mut [bool]) -> TokenStream {
        if !self.is_computed_local(id) {
            return TokenStream::new();
        }
        if let Some(v) = self.into_variable[id] {
            return self.fill_variable(id, v);
        }
        if self.assigned_in_place[id] || (self.into_out == Some(id) && into.is_some()) {
            // Nothing left to compute, or computed with the root (below).
            return TokenStream::new();
        }
        if let Some(k) = self.flat[id] {
            return self.fill_buffer_in_place(id, k);
        }
        let local = self.local(id);
        if into == Some(id) {
            return match self.into_out {
                Some(product) => self.over_product_in_out(id, product),
                None => {
                    let fill = self.fill(id).unwrap_or_default();
                    quote!(let mut #local = __out; #fill)
                }
            };
        }
        if let (Some(k), Some(fill)) = (self.slot[id], self.fill(id)) {
            if self.reused[k] {
                // A shared slot starts as zeros built in place, and each tensor it holds is
                // written over it element by element: no temporary of its size.
                if declared[k] {
                    return fill;
                }
                declared[k] = true;
                let zeros = format_ident!("zeros{}", self.shape(id).len().max(2));
                let ty = self.graph.tensor(id).map(|t| self.names.rust_type(t));
                return quote!(let mut #local: #ty = ::tfcore::__private::#zeros(); #fill);
            }
        }
        let value = self.materialise(id, context);
        match (self.slot[id], self.graph.tensor(id)) {
            (Some(k), _) if declared[k] => quote!(#local = #value;),
            (Some(k), _) => {
                declared[k] = true;
                if self.reused[k] {
                    quote!(let mut #local = #value;)
                } else {
                    quote!(let #local = #value;)
                }
            }
            (None, Some(t)) if t.shape.is_empty() => {
                let elem = ident(t.dtype.rust());
                quote!(let #local: #elem = #value;)
            }
            _ => quote!(let #local = #value;),
        }
    }

    /// [`Body::computed_statements`] after the statics, for a fetch run in chunks of rows: the
    /// nodes computed before the chunks; then, through `tfcore::__private::sums_over_rows` (which
    /// may split the rows into ranges on threads), for each chunk of rows `__first..__first + N`
    /// of a range, the feeds cut to it (`N` is then the chunk's length), its tensors in a
    /// workspace one chunk long, and the sums' terms added to `__acc`; then the nodes computed
    /// from the sums' totals, `__sums`.
    fn chunked_statements(
        &self,
        chunks: &super::chunks::Chunks,
        context: Context,
        declared: &mut [bool],
    ) -> TokenStream {
        let n = self.names.dim(Dim::Sym(chunks.rows));
        let p = quote!(::tfcore::__private);
        let in_phase = |phase: Phase| self.order.iter().copied().filter(move |&id| chunks.phase[id] == phase);
        let mut before = TokenStream::new();
        for id in in_phase(Phase::Before) {
            before.extend(self.statement(id, context, None, declared));
        }
        // Feeds as views: shared by the ranges' threads whatever storage they were fed in.
        let mut views = TokenStream::new();
        let mut chunk = TokenStream::new();
        for &id in &self.order {
            match chunks.phase[id] {
                Phase::Rows if self.form[id] == Form::Feed => {
                    let local = self.local(id);
                    views.extend(quote!(let #local = #local.rows(0, __rows);));
                    chunk.extend(quote!(let #local = #local.rows(__first, #n);));
                }
                Phase::Rows => chunk.extend(self.statement(id, context, None, declared)),
                Phase::Sums if self.form[id] == Form::Local => chunk.extend(self.accumulate(id)),
                _ => {}
            }
        }
        let mut after = TokenStream::new();
        let sums = in_phase(Phase::Sums).filter(|&id| self.form[id] == Form::Local);
        for id in sums.chain(in_phase(Phase::After)) {
            after.extend(self.statement(id, context, None, declared));
        }
        let buffers = self.workspace_buffers(&quote!(__ws));
        let (elem, count) = (ident(chunks.dtype.rust()), self.sums_offset(None));
        quote! {
            #before
            #views
            let __sums = #p::sums_over_rows::<#elem, #count, _>(
                __rows,
                &mut __session.ws,
                |__begin: usize, __end: usize, __ws: &mut #p::Workspace, __acc: &mut [#p::Partial<#elem>; #count]| {
                    let #n = ::core::cmp::min(__end - __begin, #p::CHUNK_ROWS);
                    #buffers
                    let mut __first = __begin;
                    while __first < __end {
                        let #n = ::core::cmp::min(#p::CHUNK_ROWS, __end - __first);
                        #chunk
                        __first += #n;
                    }
                },
            );
            let #n = __rows;
            #after
        }
    }

    /// Where the elements of sum `id` start among the partial sums of a fetch run in chunks of
    /// rows (the sums one after another, each row-major, in order); with `None`, how many there
    /// are in all.
    fn sums_offset(&self, id: Option<NodeId>) -> usize {
        let chunks = self.chunks.as_ref();
        let sums = self
            .order
            .iter()
            .copied()
            .filter(|&s| chunks.is_some_and(|c| c.phase[s] == Phase::Sums) && self.form[s] == Form::Local);
        let count =
            |s: NodeId| self.shape(s).iter().map(|d| if let Dim::Known(n) = d { *n } else { 1 }).product::<usize>();
        sums.take_while(|&s| Some(s) != id).map(count).sum()
    }

    /// The statement adding the current chunk's terms of every element of sum `id` to its
    /// partial sums in `__acc` ([`Body::sums_offset`]).
    fn accumulate(&self, id: NodeId) -> TokenStream {
        let shape = self.shape(id);
        let idx: Vec<Ident> = (0..shape.len()).map(|k| format_ident!("__o{}", k)).collect();
        let idx_code: Vec<TokenStream> = idx.iter().map(|i| quote!(#i)).collect();
        let (offset, flat) = (self.sums_offset(Some(id)), self.flat_index(&shape, &idx_code));
        let rules = self.graph.nodes[id].op.rules();
        let Some(add) = rules.and_then(|r| r.accumulate(self, id, &quote!(__acc[#offset + #flat]), &idx_code)) else {
            return quote!(::core::unreachable!(););
        };
        let mut code = add;
        for (i, d) in idx.iter().zip(&shape).rev() {
            let d = self.names.dim(*d);
            code = quote!(for #i in 0..#d { #code });
        }
        code
    }

    /// The row-major position of `idx` in a tensor of `shape`.
    fn flat_index(&self, shape: &[Dim], idx: &[TokenStream]) -> TokenStream {
        let mut flat = idx.first().cloned().unwrap_or_else(|| quote!(0usize));
        for (i, d) in idx.iter().zip(shape).skip(1) {
            let d = self.names.dim(*d);
            flat = quote!((#flat) * #d + #i);
        }
        flat
    }

    /// The phase of node `id` in a fetch run in chunks of rows.
    fn phase(&self, id: NodeId) -> Option<Phase> {
        self.chunks.as_ref().map(|c| c.phase[id])
    }

    /// The statements of root `root` written into the caller's `out` over `product`: the product
    /// computed whole into `out`, then the root's elements written over it in place, in the
    /// matrix's column-major order, reading the product as `__out[__at]`.
    fn over_product_in_out(&self, root: NodeId, product: NodeId) -> TokenStream {
        let local = self.local(root);
        let rules = self.graph.nodes[product].op.rules();
        let compute = rules.and_then(|r| r.materialise_flat(self, product, &quote!(#local.as_mut_slice())));
        self.overwriting.set(Some(product));
        let (idx, e) = self.element_code(root, 2);
        self.overwriting.set(None);
        let shape = self.shape(root);
        let (rows, cols) = (self.names.dim(shape[0]), self.names.dim(shape[1]));
        let (i, j) = (&idx[0], &idx[1]);
        quote! {
            let mut #local = __out;
            #compute
            {
                let __out = #local.as_mut_slice();
                let mut __at = 0usize;
                for #j in 0..#cols { for #i in 0..#rows { __out[__at] = #e; __at += 1; } }
            }
        }
    }

    /// The materialised nodes that are locals (not statics, not tuples, which `value` builds).
    fn is_computed_local(&self, id: NodeId) -> bool {
        self.form[id] == Form::Local && !self.is_static(id) && !matches!(self.graph.nodes[id].op, Op::Tuple)
    }

    /// Plans the storage of the computed tensors, as TensorFlow Lite Micro plans its arena: a
    /// tensor takes the slot (a local variable) of an earlier tensor of the same type once every
    /// node reading that one has been computed, so a chain `conv0 -> conv1 -> conv2` of one shape
    /// lives in two slots, not three. Roots, and what the session's writes and the returned
    /// value read, keep their slots to the end.
    fn plan_slots(&mut self) {
        let n = self.graph.nodes.len();
        // When each node is last read by the code of a computed local, looking through inlined
        // nodes (whose code is part of their readers'); `usize::MAX` if read at the end.
        let mut last_read = vec![0usize; n];
        let mut position = vec![0usize; n];
        for (pos, &id) in self.order.iter().enumerate() {
            position[id] = pos;
        }
        for &id in self.order.iter().rev() {
            // A tuple is built, and an assignment written to the session, after the last
            // statement; a root computed as a local reads its inputs where it is computed (only its
            // own storage is kept to the end), any other root where the value is returned.
            let read_at = if matches!(self.graph.nodes[id].op, Op::Tuple | Op::Assign(_)) {
                usize::MAX
            } else if self.is_computed_local(id) {
                position[id]
            } else if self.roots.contains(&id) {
                usize::MAX
            } else if self.form[id] == Form::Inline {
                last_read[id]
            } else {
                continue;
            };
            for (k, &input) in self.graph.nodes[id].inputs.iter().enumerate() {
                if reads_value(&self.graph.nodes[id].op, k) {
                    last_read[input] = last_read[input].max(read_at);
                }
            }
        }
        self.last_read = last_read.clone();
        self.plan_in_session(&position);
        self.plan_buffers(&last_read);
        let mut slots: Vec<(crate::ir::TensorType, Option<NodeId>)> = Vec::new();
        for (pos, &id) in self.order.iter().enumerate() {
            if !self.is_computed_local(id)
                || self.flat[id].is_some()
                || self.into_out == Some(id)
                || self.into_variable[id].is_some()
                || self.assigned_in_place[id]
            {
                continue;
            }
            let Some(t) = self.graph.tensor(id).filter(|t| !t.shape.is_empty()).cloned() else { continue };
            let keep = self.roots.contains(&id) || matches!(self.graph.nodes[id].op, Op::Assign(_));
            // A slot is free when its tensor's last reader came before this node.
            let free = slots.iter().position(|(ty, occupant)| {
                *ty == t && occupant.is_some_and(|o| last_read[o] < pos && last_read[o] != usize::MAX)
            });
            let k = match free {
                Some(k) => {
                    self.reused[k] = true;
                    k
                }
                None => {
                    slots.push((t, None));
                    self.reused.push(false);
                    slots.len() - 1
                }
            };
            // A kept tensor has no occupant to outlive: its slot is never free again.
            slots[k].1 = if keep { None } else { Some(id) };
            self.slot[id] = Some(k);
        }
    }

    /// Finds the assignments `tf.assign(v, x)` whose value `x` (for `assign_add` and
    /// `assign_sub`, the sum or difference itself) can be computed straight into `v`'s storage in
    /// the session, as an optimiser updates its weights in place: Adam's step then writes each
    /// weight and moment once, where it computed each into a local of its size, copied the
    /// moments into the assignments' locals and moved all three into the session (for the MLP's
    /// first layer, eight passes over 401 KB tensors and 2 MB of stack).
    ///
    /// Only where nothing can tell the difference: `x` is computed element by element, of `v`'s
    /// type and of rank 1 or 2 (an `SMatrix`, whose storage `x` is written in), is not returned,
    /// and is read otherwise only element by element (as `v`'s storage, afterwards); no node
    /// computed after `x` reads `v`'s old value, and `x` reads it only at the index it writes
    /// (`m + (g - m) * 0.1`); `v` is assigned once, the assignment's own value is not read, and
    /// nothing is re-initialised.
    fn plan_in_session(&mut self, position: &[usize]) {
        let graph = self.graph;
        if self.order.iter().any(|&id| matches!(graph.nodes[id].op, Op::Init)) {
            return;
        }
        let assigns_of = |v: NodeId| {
            self.order
                .iter()
                .filter(|&&a| matches!(graph.nodes[a].op, Op::Assign(_)) && graph.nodes[a].inputs[0] == v)
                .count()
        };
        let mut planned = Vec::new();
        for &a in &self.order {
            let Op::Assign(kind) = graph.nodes[a].op else { continue };
            let (v, value) = (graph.nodes[a].inputs[0], graph.nodes[a].inputs[1]);
            // `assign(v, x)` stores `x`; `assign_sub(v, d)` is itself the tensor `v - d` stored.
            let set = matches!(kind, AssignKind::Set);
            let x = if set { value } else { a };
            let elementwise = if set { self.by_element(x) } else { self.shape(value) == self.shape(v) };
            let ok = assigns_of(v) == 1
                && !self.roots.contains(&a)
                && !self.roots.contains(&x)
                && self.value_readers(a).next().is_none()
                && (1..=2).contains(&self.shape(x).len())
                && graph.tensor(x).is_some()
                && graph.tensor(x) == graph.tensor(v)
                && self.form[x] == Form::Local
                && !self.is_static(x)
                && elementwise
                && !planned.contains(&x)
                && self.value_readers(x).all(|c| c == a || (self.by_element(c) && !self.roots.contains(&c)))
                && !self.roots.contains(&v)
                && !self.value_readers(v).any(|c| c != x && self.read_at(c, position) > position[x])
                && self.reads_only_at_own_index(v, x);
            if ok {
                planned.push(x);
                self.into_variable[x] = Some(v);
                self.assigned_in_place[a] = true;
            }
        }
    }

    /// The nodes of `order` that read `id`'s value (not a group's or an assignment's target).
    fn value_readers(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.readers[id].iter().copied().filter(move |&c| {
            let node = &self.graph.nodes[c];
            node.inputs.iter().enumerate().any(|(k, &i)| i == id && reads_value(&node.op, k))
        })
    }

    /// When node `c`'s code reads its inputs: where it is computed, for an inlined node where its
    /// last reader is, at the end for a root, a tuple or an assignment.
    fn read_at(&self, c: NodeId, position: &[usize]) -> usize {
        if self.roots.contains(&c) || matches!(self.graph.nodes[c].op, Op::Tuple | Op::Assign(_)) {
            usize::MAX
        } else if self.form[c] == Form::Inline {
            self.last_read[c]
        } else {
            position[c]
        }
    }

    /// Whether `x`'s code (it and the inlined nodes it computes) reads `v` only at the index it
    /// writes: every path up from `v` runs through inlined elementwise ops of `v`'s shape. Unlike
    /// [`Body::reads_at_own_index`], which follows a single chain up from its input (as a buffer
    /// written over needs), any number of paths: `m + (g - m) * 0.1` reads `m` twice.
    fn reads_only_at_own_index(&self, v: NodeId, x: NodeId) -> bool {
        let shape = self.shape(v);
        let reaches = |from: NodeId| {
            let mut stack = vec![from];
            while let Some(n) = stack.pop() {
                if n == v {
                    return true;
                }
                if self.form[n] == Form::Inline {
                    stack.extend(&self.graph.nodes[n].inputs);
                }
            }
            false
        };
        let mut stack = vec![x];
        while let Some(c) = stack.pop() {
            let node = &self.graph.nodes[c];
            let elementwise = matches!(node.op, Op::Assign(AssignKind::Add | AssignKind::Sub))
                || node.op.rules().is_some_and(|r| r.reads() == Reads::Elementwise);
            let passes = elementwise && self.shape(c) == shape;
            for (k, &i) in node.inputs.iter().enumerate() {
                if !reads_value(&node.op, k) || !reaches(i) {
                    continue;
                }
                if !passes || self.shape(i) != shape {
                    return false;
                }
                if i != v {
                    stack.push(i);
                }
            }
        }
        true
    }

    /// The statements computing `x` in the storage of variable `v` in the session
    /// ([`Body::plan_in_session`]), in its column-major order, reading `v`'s old element as
    /// `__out[__at]`; then `x`'s local is that storage.
    fn fill_variable(&self, x: NodeId, v: NodeId) -> TokenStream {
        let place = self.names.storage(self.graph, v);
        let local = self.local(x);
        self.overwriting.set(Some(v));
        let (idx, e) = self.element_code(x, self.shape(x).len());
        self.overwriting.set(None);
        let dims: Vec<TokenStream> = self.shape(x).iter().map(|d| self.names.dim(*d)).collect();
        let loops = match (&idx[..], &dims[..]) {
            ([i], [n]) => quote!(for #i in 0..#n { __out[__at] = #e; __at += 1; }),
            ([i, j], [rows, cols]) => {
                quote!(for #j in 0..#cols { for #i in 0..#rows { __out[__at] = #e; __at += 1; } })
            }
            _ => quote!(::core::unreachable!()),
        };
        // Bound only if a later node reads it (not the assignment, which has nothing left to do).
        let read = self.value_readers(x).any(|c| !matches!(self.graph.nodes[c].op, Op::Assign(_)));
        let bind = read.then(|| quote!(let #local = &__session.#place;));
        quote! {
            {
                let __out = __session.#place.as_mut_slice();
                let mut __at = 0usize;
                #loops
            }
            #bind
        }
    }

    /// Tensors of any shape share buffers: a tensor computed element by element, read only
    /// element by element and not returned is stored flat, in row-major order, at the start of a
    /// buffer (a local of the type of its largest tensor) that no live tensor holds. So the three
    /// shapes of a residual network take turns in the same few buffers, as tensors of any shape
    /// share TensorFlow Lite Micro's arena. Buffers hold one dtype, and tensors whose sizes share
    /// the same `None` dimensions (sizes compare only then).
    fn plan_buffers(&mut self, last_read: &[usize]) {
        let n = self.graph.nodes.len();
        let mut read_whole = vec![false; n];
        for &id in &self.order {
            if self.graph.nodes[id].op.rules().is_some_and(|r| r.reads() == Reads::Whole) {
                for &input in &self.graph.nodes[id].inputs {
                    read_whole[input] = true;
                }
            }
        }
        // (declared type, its size as (symbols, constant factor), current tensor)
        let mut buffers: Vec<(crate::ir::TensorType, (Vec<usize>, usize), NodeId)> = Vec::new();
        // With feeds of run-time size, every computed tensor of a `None` dimension is stored
        // flat, whoever reads it; a root's buffer is kept to the end.
        let end = |id: NodeId| if self.roots.contains(&id) { usize::MAX } else { last_read[id] };
        for (pos, &id) in self.order.iter().enumerate() {
            let sym = self.shape(id).iter().any(|d| matches!(d, Dim::Sym(_)));
            // Run in chunks of rows, the workspace holds a chunk's tensors; the others, computed
            // once, are locals.
            let once = self.phase(id).is_some_and(|p| p != Phase::Rows);
            let eligible = if self.into_variable[id].is_some() || self.assigned_in_place[id] || once {
                false
            } else if self.dynamic && sym {
                self.is_computed_local(id)
            } else {
                self.is_computed_local(id)
                    && self.into_out != Some(id)
                    && !read_whole[id]
                    && last_read[id] != usize::MAX
                    && !self.roots.contains(&id)
                    && (self.by_element(id) || self.blocked(id))
            };
            let Some(t) = self.graph.tensor(id).filter(|t| eligible && !t.shape.is_empty()).cloned() else { continue };
            let size = size_of(&t.shape);
            // In place: over an input that dies here and that this node reads at its own index.
            let over = buffers.iter().position(|b| {
                b.0.dtype == t.dtype
                    && b.1 == size
                    && end(b.2) == pos
                    && self.reads_at_own_index(b.2, id, last_read[b.2])
            });
            if let Some(k) = over {
                self.in_place[id] = Some(buffers[k].2);
                buffers[k].2 = id;
                self.flat[id] = Some(k);
                continue;
            }
            let free = |b: &(crate::ir::TensorType, (Vec<usize>, usize), NodeId)| {
                b.0.dtype == t.dtype && b.1 .0 == size.0 && end(b.2) < pos
            };
            // The smallest free buffer that holds it, else the largest free one, grown.
            let fits = (0..buffers.len()).filter(|&k| free(&buffers[k]) && buffers[k].1 .1 >= size.1);
            let k = match fits.min_by_key(|&k| buffers[k].1 .1) {
                Some(k) => k,
                None => match (0..buffers.len()).filter(|&k| free(&buffers[k])).max_by_key(|&k| buffers[k].1 .1) {
                    Some(k) => {
                        buffers[k].0 = t.clone();
                        buffers[k].1 = size.clone();
                        k
                    }
                    None => {
                        buffers.push((t.clone(), size.clone(), id));
                        buffers.len() - 1
                    }
                },
            };
            buffers[k].2 = id;
            self.flat[id] = Some(k);
        }
        self.buffers = buffers.into_iter().map(|b| b.0).collect();
    }

    /// Whether `id` (computed at position `pos`) reads each element of `x` only at the index it
    /// writes, through elementwise ops of one shape (`relu(x + y)`): then `id` can be written
    /// over `x`. Readers of `x` computed before `id` do not matter; inlined nodes are part of
    /// `id`'s code when `id` is their last reader.
    fn reads_at_own_index(&self, x: NodeId, id: NodeId, pos: usize) -> bool {
        let shape = self.shape(x);
        let mut at = x;
        loop {
            let mut consumers = self.order.iter().copied().filter(|&c| {
                let in_id = c == id || (self.form[c] == Form::Inline && self.last_read[c] == pos);
                in_id
                    && self.graph.nodes[c]
                        .inputs
                        .iter()
                        .enumerate()
                        .any(|(k, &i)| i == at && reads_value(&self.graph.nodes[c].op, k))
            });
            let (Some(next), None) = (consumers.next(), consumers.next()) else { return false };
            let elementwise = self.graph.nodes[next].op.rules().is_some_and(|r| r.reads() == Reads::Elementwise);
            if !elementwise || self.shape(next) != shape {
                return false;
            }
            if next == id {
                return true;
            }
            if self.form[next] != Form::Inline {
                return false;
            }
            at = next;
        }
    }

    /// A line of documentation on the memory of this computation: the lower bound (the most bytes
    /// of tensors it computes that must be alive at once, if no op wrote over its input) and what
    /// its plan holds (buffers and slots), as multiples of the `None` dimension when there is one.
    /// `None` when tensors of different `None` dimensions make the sizes incomparable.
    pub fn memory_doc(&self) -> Option<String> {
        let bytes = |t: &crate::ir::TensorType| {
            let (syms, known) = size_of(&t.shape);
            let width = match t.dtype {
                DType::Float64 | DType::Int64 => 8,
                DType::Float32 | DType::Int32 => 4,
                DType::UInt8 | DType::Bool => 1,
            };
            (syms, known * width)
        };
        let mut unit: Option<Vec<usize>> = None;
        let mut same_unit = |syms: &Vec<usize>| unit.get_or_insert_with(|| syms.clone()) == syms;
        let computed: Vec<(usize, NodeId, usize)> = self
            .order
            .iter()
            .enumerate()
            // A product computed into the caller's value and the root written over it are one
            // tensor, from the product on.
            .filter(|&(_, &id)| self.is_computed_local(id) && !(self.into_out.is_some() && self.roots == [id]))
            .filter_map(|(pos, &id)| {
                let t = self.graph.tensor(id).filter(|t| !t.shape.is_empty())?;
                Some((pos, id, bytes(t)))
            })
            .map(|(pos, id, (syms, b))| if same_unit(&syms) { Some((pos, id, b)) } else { None })
            .collect::<Option<_>>()?;
        if computed.is_empty() {
            return None;
        }
        let end = |id: NodeId| {
            if self.roots.contains(&id) || self.into_out == Some(id) {
                usize::MAX
            } else {
                self.last_read[id]
            }
        };
        let bound = (0..self.order.len())
            .map(|pos| {
                computed.iter().filter(|&&(def, id, _)| def <= pos && pos <= end(id)).map(|x| x.2).sum::<usize>()
            })
            .max()?;
        let mut planned: usize = self.buffers.iter().map(|t| bytes(t).1).sum();
        let mut slots_seen = std::collections::HashSet::new();
        for &(_, id, b) in &computed {
            if self.into_variable[id].is_some() || self.assigned_in_place[id] {
                // Computed in the variable's storage in the session.
                continue;
            }
            match (self.flat[id], self.slot[id]) {
                (Some(_), _) => {}
                (None, Some(k)) if self.reused[k] => {
                    if slots_seen.insert(k) {
                        planned += b;
                    }
                }
                _ => planned += b,
            }
        }
        let times = match unit.as_deref() {
            Some([s]) => format!(" × `{}`", self.names.dim(Dim::Sym(*s))),
            _ => String::new(),
        };
        if unit.as_ref().is_some_and(|u| u.len() > 1) {
            return None;
        }
        Some(format!(
            " Memory: the tensors it computes (intermediates and result) need at least {bound}{times} bytes alive at once when no op writes over its input; its plan, computed with the graph, holds {planned}{times} bytes (shared buffers, written in place where an activation, a residual add or an assignment allows, and slots). Its inputs are the caller's; its constants are `static`s."
        ))
    }

    /// Whether node `id` is computed element by element (the `from_fn` of
    /// [`Body::materialise`]).
    fn by_element(&self, id: NodeId) -> bool {
        self.graph.nodes[id]
            .op
            .rules()
            .is_some_and(|r| r.reads() != Reads::Whole && !r.blocked(self, id) && r.materialise(self, id).is_none())
    }

    /// Whether node `id` is computed whole by a kernel at its size ([`crate::ops::Rules::blocked`]).
    fn blocked(&self, id: NodeId) -> bool {
        self.graph.nodes[id].op.rules().is_some_and(|r| r.blocked(self, id))
    }

    /// Whether node `id`'s value is held in memory (a local, a feed, a variable, a `static`)
    /// rather than computed where it is read.
    pub fn is_stored(&self, id: NodeId) -> bool {
        matches!(self.form[id], Form::Local | Form::Feed | Form::Variable)
    }

    /// Whether a root reads node `id`, directly or through a chain of elementwise ops of its shape
    /// each read once (`relu(x + b)`), so that the root could be computed over it in the caller's
    /// value.
    pub fn is_read_by_root(&self, id: NodeId) -> bool {
        let (end, last) = self.chain_from(id);
        end.is_some() || self.roots.iter().any(|&r| self.graph.nodes[r].inputs.contains(&last))
    }

    /// Whether node `id`, a matrix, can be computed into the caller's value and the fetch's one
    /// root written over it there (`run_into`): the root is an elementwise chain over it of one
    /// shape, and the fetch writes nothing to the session.
    pub fn is_written_over_in_out(&self, id: NodeId) -> bool {
        let (end, _) = self.chain_from(id);
        end.is_some_and(|root| self.roots == [root]) && self.shape(id).len() == 2 && !self.dynamic && !self.writes()
    }

    /// The root that reads `id` through single readers that are elementwise ops of `id`'s shape
    /// (or `None`), and the last node of that chain.
    fn chain_from(&self, id: NodeId) -> (Option<NodeId>, NodeId) {
        let mut at = id;
        loop {
            let [next] = self.readers[at][..] else { return (None, at) };
            let elementwise = self.graph.nodes[next].op.rules().is_some_and(|r| r.reads() == Reads::Elementwise);
            if !elementwise || self.shape(next) != self.shape(at) {
                return (None, at);
            }
            if self.roots.contains(&next) {
                return (Some(next), at);
            }
            at = next;
        }
    }

    /// Whether `None` dimensions are run-time sizes in this computation.
    pub fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    /// The statements computing node `id` into its buffer, element by element in row-major
    /// order.
    fn fill_buffer(&self, id: NodeId, k: usize) -> TokenStream {
        let buffer = format_ident!("__f{}", k);
        let shape = self.shape(id);
        let count = self.names.count(&shape);
        let flatten = self.flattens(k).map(|_| quote!(.as_flattened_mut()));
        if !self.by_element(id) {
            let out = quote!(&mut #buffer #(#flatten)* [..#count]);
            let rules = self.graph.nodes[id].op.rules();
            if let Some(code) = rules.and_then(|r| r.materialise_flat(self, id, &out)) {
                return code;
            }
        }
        let (idx, e) = self.element_code(id, shape.len());
        let mut body = quote!(__out[__at] = #e; __at += 1;);
        // Innermost the last axis, or for a column-major matrix the first.
        let mut axes: Vec<usize> = (0..shape.len()).collect();
        if self.column_major(id) {
            axes.reverse();
        }
        for &k in axes.iter().rev() {
            let (i, d) = (&idx[k], self.names.dim(shape[k]));
            body = quote!(for #i in 0..#d { #body });
        }
        let flatten = self.flattens(k).map(|_| quote!(.as_flattened_mut()));
        quote!({ let __out = &mut #buffer #(#flatten)* [..#count]; let mut __at = 0usize; #body })
    }

    /// Whether stored tensor `id` is a column-major matrix: with feeds of run-time size, a
    /// matrix in the workspace is stored as nalgebra stores one, so that a layer is computed a
    /// column at a time (eight rows per vector instruction where the static `from_fn` would be) and
    /// a fetched `DMatrix` is a copy of it; and a product the kernel writes into a buffer that only
    /// `SMatrix`es read (a weight's gradient, read by its optimiser's update), so that they read
    /// it in their own order. Every other stored tensor is row-major.
    fn column_major(&self, id: NodeId) -> bool {
        self.flat[id].is_some() && self.shape(id).len() == 2 && (self.dynamic || self.by_columns[id])
    }

    /// Which blocked products [`Body::column_major`] stores column-major in static plans: those no
    /// tensor is written over in place (which would follow the product's layout) and that no
    /// tensor in a buffer (row-major, filled row by row) reads.
    fn plan_columns(&mut self) {
        for &id in &self.order {
            if self.dynamic || self.flat[id].is_none() || !self.blocked(id) || self.shape(id).len() != 2 {
                continue;
            }
            let written_over = self.order.iter().any(|&x| self.in_place[x] == Some(id));
            let read_by_buffer =
                self.order.iter().any(|&x| self.flat[x].is_some() && self.graph.nodes[x].inputs.contains(&id));
            self.by_columns[id] = !written_over && !read_by_buffer;
        }
    }

    /// The steps between consecutive elements of stored tensor `id` along its second-to-last
    /// and last axes, `(row step, column step)`: `(1, rows)` column-major, `(columns, 1)` otherwise.
    pub fn flat_steps(&self, id: NodeId) -> (TokenStream, TokenStream) {
        let shape = self.shape(id);
        match shape[..] {
            [rows, _] if self.column_major(id) || self.into_out == Some(id) => (quote!(1usize), self.names.dim(rows)),
            [.., last] => (self.names.dim(last), quote!(1usize)),
            [] => (quote!(1usize), quote!(1usize)),
        }
    }

    /// How many times buffer `k` is flattened to be a slice: once per `None` dimension of its
    /// nested arrays, none for a workspace slice.
    fn flattens(&self, k: usize) -> impl Iterator<Item = usize> {
        let nested = if self.dynamic { 0 } else { size_of(&self.buffers[k].shape).0.len() };
        0..nested
    }

    /// The buffers of a computation fed with run-time sizes, as slices of the session's workspace,
    /// one split per element type: `let [__f0, __f2] = split(&mut __session.ws.f32, [N * 3, N * 2]);`.
    fn workspace_buffers(&self, ws: &TokenStream) -> TokenStream {
        let mut out = TokenStream::new();
        for dtype in [DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt8, DType::Bool] {
            let ks: Vec<usize> = (0..self.buffers.len()).filter(|&k| self.buffers[k].dtype == dtype).collect();
            if ks.is_empty() {
                continue;
            }
            let names = ks.iter().map(|k| format_ident!("__f{}", k));
            let sizes = ks.iter().map(|&k| self.names.count(&self.buffers[k].shape));
            let pool = ident(dtype.rust());
            out.extend(quote!(let [#(#names),*] = ::tfcore::__private::split(&mut #ws.#pool, [#(#sizes),*]);));
        }
        out
    }

    /// [`Body::fill_buffer`], reading the input `id` is written over as `__out[__at]`.
    fn fill_buffer_in_place(&self, id: NodeId, k: usize) -> TokenStream {
        self.overwriting.set(self.in_place[id]);
        let code = self.fill_buffer(id, k);
        self.overwriting.set(None);
        code
    }

    /// The writes to the session, after every value has been computed: re-initialisation first,
    /// then assignments in graph order (but those computed in place, [`Body::plan_in_session`]).
    pub fn writes_to_session(&self, has_slots: bool) -> TokenStream {
        let mut out = TokenStream::new();
        if self.order.iter().any(|&id| matches!(self.graph.nodes[id].op, Op::Init)) {
            out.extend(quote!(__session.vars = __initial_variables(&mut __session.rng);));
            if has_slots {
                out.extend(quote!(__session.slots = __initial_slots();));
            }
        }
        for &id in &self.order {
            if let (Op::Assign(_), false) = (&self.graph.nodes[id].op, self.assigned_in_place[id]) {
                let var = self.graph.nodes[id].inputs[0];
                let place = self.names.storage(self.graph, var);
                let local = self.local(id);
                out.extend(quote!(__session.#place = #local;));
            }
        }
        out
    }

    /// An owned value of node `id`, of the type a fetch returns.
    pub fn value(&self, id: NodeId) -> TokenStream {
        let local = self.local(id);
        let shape = self.shape(id);
        if self.dynamic && shape.iter().any(|d| matches!(d, Dim::Sym(_))) {
            // Of run-time size: a `DMatrix` or `DVector` built from the workspace or the feed.
            let dims: Vec<TokenStream> = shape.iter().map(|d| self.names.dim(*d)).collect();
            return match (self.flat[id], &dims[..]) {
                (Some(k), [n]) => {
                    let buffer = format_ident!("__f{}", k);
                    quote!(::tfcore::__private::dynamic_vector(#n, &#buffer[..]))
                }
                (Some(k), [r, c]) => {
                    let buffer = format_ident!("__f{}", k);
                    quote!(::tfcore::__private::dynamic_matrix(#r, #c, &#buffer[..]))
                }
                (_, [n]) => quote!(::tfcore::__private::DVector::from_fn(#n, |__i, _| #local[__i])),
                (_, [r, c]) => quote!(::tfcore::__private::DMatrix::from_fn(#r, #c, |__i, __j| #local[(__i, __j)])),
                _ => quote!(::core::unreachable!()),
            };
        }
        match (self.form[id], &self.graph.nodes[id].ty) {
            (_, Some(Type::Unit)) => quote!(()),
            (_, Some(Type::Tuple(_))) => {
                let parts = self.graph.nodes[id].inputs.iter().map(|&i| self.value(i));
                quote!((#(#parts,)*))
            }
            (Form::Feed | Form::Variable, _) if !self.shape(id).is_empty() => quote!(*#local),
            _ if self.panels(id).is_some() => {
                // Its `SMatrix` unpacked from the panels.
                let e = self.elem(id, &[quote!(__i), quote!(__j)]);
                let ty = self.graph.tensor(id).map(|t| self.names.rust_type(t));
                quote!(<#ty>::from_fn(|__i, __j| #e))
            }
            _ if self.is_static(id) => quote!(*#local),
            (Form::Local | Form::Feed | Form::Variable, _) => quote!(#local),
            _ => self.materialise(id, Context::Run),
        }
    }

    /// The expression building node `id`'s whole value.
    fn materialise(&self, id: NodeId, context: Context) -> TokenStream {
        let node = &self.graph.nodes[id];
        let Some(t) = self.graph.tensor(id) else { return quote!(()) };
        let elem = ident(t.dtype.rust());
        let ty = self.names.rust_type(t);
        match &node.op {
            Op::Const { data: Data::Dense(values), shape, .. } => dense_value(values, shape, t.dtype, &ty),
            Op::RandomUniform { lo, hi, .. } => {
                let rng = if context == Context::Init { quote!(__rng) } else { quote!(&mut __session.rng) };
                let lo = literal(convert_number(*lo, t.dtype).unwrap_or(Scalar::I(0)), t.dtype);
                let hi = literal(convert_number(*hi, t.dtype).unwrap_or(Scalar::I(1)), t.dtype);
                let dims: Vec<TokenStream> = t.shape.iter().map(|d| self.names.dim(*d)).collect();
                match &dims[..] {
                    [] => quote!(::tfcore::__private::random_uniform_scalar::<#elem>(#rng, #lo, #hi)),
                    [n] => quote!(::tfcore::__private::random_uniform::<#elem, #n, 1>(#rng, #lo, #hi)),
                    [r, c] => quote!(::tfcore::__private::random_uniform::<#elem, #r, #c>(#rng, #lo, #hi)),
                    dims => {
                        // Drawn in row-major order, as the matrices are.
                        let ignored = dims.iter().map(|_| quote!(_));
                        let rng = if context == Context::Init { quote!(__rng) } else { quote!(__session.rng) };
                        let rng = if context == Context::Init { rng } else { quote!(&mut #rng) };
                        quote!(<#ty>::from_fn(|#(#ignored),*| ::tfcore::__private::random_uniform_scalar::<#elem>(#rng, #lo, #hi)))
                    }
                }
            }
            op => {
                if let Some(whole) = op.rules().and_then(|rules| rules.materialise(self, id)) {
                    return whole;
                }
                let (idx, e) = self.element_code(id, t.shape.len());
                match t.shape.len() {
                    0 => e,
                    // A vector is an `n × 1` matrix: its `from_fn` takes a column index too.
                    1 => quote!(<#ty>::from_fn(|#(#idx),*, _| #e)),
                    _ => quote!(<#ty>::from_fn(|#(#idx),*| #e)),
                }
            }
        }
    }

    /// The element of `root` where that of `input`, a node below it along a chain of unary
    /// elementwise ops ([`Body::until`]), is `__out[__at]`: the expression that writes `root`
    /// over `input` in place.
    pub fn over(&self, input: NodeId, root: NodeId) -> TokenStream {
        self.overwriting.set(Some(input));
        let (_, e) = self.element_code(root, self.shape(root).len());
        self.overwriting.set(None);
        e
    }

    /// The index variables of a tensor of rank `rank` (`__i`, `__j`, `__k`, `__l`) and the code of
    /// node `id`'s element at them.
    fn element_code(&self, id: NodeId, rank: usize) -> (Vec<Ident>, TokenStream) {
        let names = ["__i", "__j", "__k", "__l"];
        let idx: Vec<Ident> = names[..rank.min(names.len())].iter().map(|n| format_ident!("{}", n)).collect();
        let e = self.compute(id, &idx.iter().map(|i| quote!(#i)).collect::<Vec<_>>());
        (idx, e)
    }

    /// The statement writing node `id`'s tensor over its slot in place, for a node computed
    /// element by element (the `from_fn` of [`Body::materialise`]).
    fn fill(&self, id: NodeId) -> Option<TokenStream> {
        let t = self.graph.tensor(id)?;
        if !self.by_element(id) {
            return None;
        }
        let local = self.local(id);
        let (idx, e) = self.element_code(id, t.shape.len());
        Some(match t.shape.len() {
            1 => quote!(::tfcore::__private::fill2(&mut #local, |#(#idx),*, _| #e);),
            2 => quote!(::tfcore::__private::fill2(&mut #local, |#(#idx),*| #e);),
            3 => quote!(::tfcore::__private::fill3(&mut #local, |#(#idx),*| #e);),
            4 => quote!(::tfcore::__private::fill4(&mut #local, |#(#idx),*| #e);),
            _ => return None,
        })
    }

    /// A reference to a materialised tensor.
    pub fn place(&self, id: NodeId) -> TokenStream {
        let local = self.local(id);
        match self.form[id] {
            Form::Feed | Form::Variable => quote!(#local),
            _ if self.is_static(id) => quote!(#local),
            _ => quote!(&#local),
        }
    }

    /// The line of rank-2 tensor `id` along axis `along` at index `fixed` of the other axis, as
    /// its storage holds it: `(slice, start, step)`, element `k` of the line at
    /// `slice[start + k * step]`. A buffer is row-major, an `SMatrix` column-major. `None` for a
    /// tensor that is not stored (computed inline) or not of rank 2.
    pub fn line(
        &self,
        id: NodeId,
        fixed: &TokenStream,
        along: usize,
    ) -> Option<(TokenStream, TokenStream, TokenStream)> {
        if let Some((panelled, n, k)) = self.panels(id) {
            let local = self.local(id);
            return (along == panelled).then(|| {
                let start = quote!(::tfcore::__private::panel_at(#n, #k, #fixed, 0));
                (quote!(&#local[..]), start, quote!(::tfcore::__private::panel_step(#n, #fixed)))
            });
        }
        let Some(lines) = self.lines(id, along) else {
            // A feed of run-time size: its columns are slices (rows one element apart).
            let fed = self.dynamic && self.form[id] == Form::Feed && self.shape(id).len() == 2;
            let local = self.local(id);
            return (fed && along == 0)
                .then(|| (quote!(#local.column(#fixed).as_slice()), quote!(0usize), quote!(1usize)));
        };
        let start = match lines.line_step {
            Some(d) => {
                let d = self.names.dim(d);
                quote!((#fixed) * #d)
            }
            None => quote!(#fixed),
        };
        let step = lines.step.map_or_else(|| quote!(1usize), |d| self.names.dim(d));
        Some((lines.slice, start, step))
    }

    /// Every line of rank-2 tensor `id` along axis `along` (each fixing the other axis) as its
    /// storage holds them, for [`Body::line`] and the matrix kernel. `None` where `line` says, and
    /// for a feed of run-time size (whose storage has no one slice).
    pub fn lines(&self, id: NodeId, along: usize) -> Option<Lines> {
        let shape = self.shape(id);
        if shape.len() != 2 || self.overwriting.get() == Some(id) || self.panels(id).is_some() {
            return None;
        }
        let (rows, cols) = (shape[0], shape[1]);
        let lines =
            |slice: TokenStream, line_step: Option<Dim>, step: Option<Dim>| Some(Lines { slice, line_step, step });
        if let Some(k) = self.flat[id] {
            let buffer = format_ident!("__f{}", k);
            let flatten = self.flattens(k).map(|_| quote!(.as_flattened()));
            let slice = quote!(&#buffer #(#flatten)* [..]);
            return match (along, self.column_major(id)) {
                (0, false) => lines(slice, None, Some(cols)),
                (_, false) => lines(slice, Some(cols), None),
                (0, true) => lines(slice, Some(rows), None),
                (_, true) => lines(slice, None, Some(rows)),
            };
        }
        if self.form[id] == Form::Inline || (self.dynamic && shape.iter().any(|d| matches!(d, Dim::Sym(_)))) {
            return None;
        }
        let local = self.local(id);
        let slice = quote!(#local.as_slice());
        match along {
            0 => lines(slice, Some(rows), None),
            _ => lines(slice, None, Some(rows)),
        }
    }

    /// The element of `id` at `idx` (one index per dimension).
    pub fn elem(&self, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        if self.overwriting.get() == Some(id) {
            return quote!(__out[__at]);
        }
        if let Some(k) = self.flat[id] {
            // Row-major in its buffer: ((i * d1 + j) * d2 + k) * d3 + l.
            let buffer = format_ident!("__f{}", k);
            let shape = self.shape(id);
            let flatten = self.flattens(k).map(|_| quote!(.as_flattened()));
            if let ([i, j], true) = (idx, self.column_major(id)) {
                let rows = self.names.dim(shape[0]);
                return quote!(#buffer #(#flatten)* [(#j) * #rows + #i]);
            }
            let flat = self.flat_index(&shape, idx);
            return quote!(#buffer #(#flatten)* [#flat]);
        }
        if let (Some((along, n, k)), [_, _]) = (self.panels(id), idx) {
            let (line, term) = (&idx[1 - along], &idx[along]);
            let local = self.local(id);
            return quote!(#local[::tfcore::__private::panel_at(#n, #k, #line, #term)]);
        }
        match self.form[id] {
            Form::Inline => self.compute(id, idx),
            _ => {
                let local = self.local(id);
                match idx {
                    [] => quote!(#local),
                    [i] => quote!(#local[#i]),
                    idx => quote!(#local[(#(#idx),*)]),
                }
            }
        }
    }

    /// The element of input `input` of a node of shape `out` at `idx`, broadcast.
    fn operand(&self, input: NodeId, out: &[Dim], idx: &[TokenStream]) -> TokenStream {
        let shape = self.shape(input);
        let offset = out.len() - shape.len();
        let mapped: Vec<TokenStream> = shape
            .iter()
            .enumerate()
            .map(|(k, d)| {
                if *d == Dim::Known(1) && out[k + offset] != Dim::Known(1) {
                    quote!(0usize)
                } else {
                    idx[k + offset].clone()
                }
            })
            .collect();
        self.elem(input, &mapped)
    }

    /// The element of input `k` of node `id` at the node's index `idx`, broadcast.
    pub fn input(&self, id: NodeId, k: usize, idx: &[TokenStream]) -> TokenStream {
        self.operand(self.graph.nodes[id].inputs[k], &self.shape(id), idx)
    }

    /// The expression computing the element of `id` at `idx` from its inputs.
    fn compute(&self, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let node = &self.graph.nodes[id];
        let shape = self.shape(id);
        let dtype = self.dtype(id);
        let arg = |k: usize| self.operand(node.inputs[k], &shape, idx);
        if self.phase(id) == Some(Phase::Sums) {
            // After the last chunk: the total of its partial sums.
            let (offset, flat) = (self.sums_offset(Some(id)), self.flat_index(&shape, idx));
            return quote!(__sums[#offset + #flat]);
        }
        match &node.op {
            Op::Const { data: Data::Splat(s), .. } => literal(*s, dtype),
            Op::Assign(kind) => match kind {
                AssignKind::Set => arg(1),
                AssignKind::Add => Binary::Add.emit(dtype, arg(0), arg(1)),
                AssignKind::Sub => Binary::Sub.emit(dtype, arg(0), arg(1)),
            },
            op => match op.rules() {
                Some(rules) => rules.element(self, id, idx),
                None => quote!(::core::unreachable!()),
            },
        }
    }

    /// `term(0) + term(1) + ... + term(n - 1)` in the order of `tfcore::__private::sum`: written
    /// out for fewer than 8 terms, a call to `sum` otherwise.
    pub fn sum(&self, dtype: DType, n: Dim, term: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
        match n {
            Dim::Known(n) if n < 8 => {
                let mut total = term(quote!(0usize));
                for k in 1..n {
                    let k = Literal::usize_suffixed(k);
                    total = Binary::Add.emit(dtype, total, term(quote!(#k)));
                }
                total
            }
            _ => {
                let k = self.fresh("k");
                let count = self.names.dim(n);
                let body = term(quote!(#k));
                quote!(::tfcore::__private::sum(#count, |#k| #body))
            }
        }
    }
}

/// The lines of a stored rank-2 tensor ([`Body::lines`]): line `i`'s term `t` at
/// `slice[i * line_step + t * step]`, a step of `None` being 1.
pub struct Lines {
    pub slice: TokenStream,
    pub line_step: Option<Dim>,
    pub step: Option<Dim>,
}

impl Lines {
    /// Whether each line's terms are one element apart.
    pub fn contiguous(&self) -> bool {
        matches!(self.step, None | Some(Dim::Known(1)))
    }
}

/// Whether a node reads the *value* of its input `k` (an assignment's target is written, and
/// `tf.group` only runs its inputs).
fn reads_value(op: &Op, k: usize) -> bool {
    match op {
        Op::Assign(AssignKind::Set) => k == 1,
        Op::Group => false,
        _ => true,
    }
}

/// Every identifier in `tokens`, groups included.
fn idents_of(tokens: &TokenStream) -> HashSet<String> {
    let mut idents = HashSet::new();
    let mut stack = vec![tokens.clone()];
    while let Some(tokens) = stack.pop() {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(i) => {
                    idents.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => stack.push(g.stream()),
                _ => {}
            }
        }
    }
    idents
}

/// A tensor's number of elements as the sorted `None` dimensions it is a multiple of and the
/// product of its known dimensions.
fn size_of(shape: &[Dim]) -> (Vec<usize>, usize) {
    let mut syms = Vec::new();
    let mut known = 1usize;
    for d in shape {
        match d {
            Dim::Known(n) => known = known.saturating_mul(*n),
            Dim::Sym(s) => syms.push(*s),
        }
    }
    syms.sort_unstable();
    (syms, known)
}

/// The local a node's value is bound to: `__v_name` for a named node, `__t7` otherwise. No other
/// name in generated code starts with `__v_` or `__t` and a digit, so these never collide.
pub fn local_name(graph: &Graph, id: NodeId) -> Ident {
    match &graph.nodes[id].name {
        Some(name) => format_ident!("__v_{}", name.to_string().trim_start_matches("r#")),
        None => format_ident!("__t{}", id),
    }
}
