//! Lowering: the code computing the nodes of a [`Plan`], the body of one fetch's `run` or the
//! initial values of the variables, written from the plan alone.
//!
//! Only the nodes the roots read are computed (TensorFlow's pruning), each once, in an order where
//! each follows its inputs. A node the plan stores is a local (`let __hidden_layer = ...;`), a
//! flat buffer or a variable's storage; a node it *inlines* is computed inside the element
//! expression of the node that reads it, when that node reads each of its elements once (an
//! elementwise op of the same shape, a reduction) or when computing it is as cheap as reading it
//! (a transpose, a broadcast, a one-hot of a local). So `sigmoid(X W1 + b1)` is one loop whose
//! body is a dot product, an add and a sigmoid, with no temporary matrix in between. Sums use
//! `tfcore::__private::sum` (or, under 8 terms, the same sum written out).

use super::chunks::Phase;
use super::plan::{size_of, Fed, Form, Plan};
use super::Names;
use crate::ir::{AssignKind, Binary, DType, Data, Dim, Graph, NodeId, Op, Scalar, Type};
use crate::values::{convert_number, dense_value, ident, literal};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use std::cell::Cell;
use std::collections::HashSet;

/// Where the values of variables and random draws come from.
#[derive(Clone, Copy, PartialEq)]
pub enum Context {
    /// A fetch's `run`: variables are read from `__session`.
    Run,
    /// The initial values: random draws come from `__rng`.
    Init,
}

/// A planned computation, ready to be lowered: its [`Plan`], and the counter that names its
/// temporaries. The phases that assemble the module build one per fetch (and one for the initial
/// values) and ask it for the code, through [`Body::lower`].
pub struct Body<'g> {
    plan: Plan<'g>,
    fresh: Cell<usize>,
}

impl<'g> std::ops::Deref for Body<'g> {
    type Target = Plan<'g>;

    fn deref(&self) -> &Plan<'g> {
        &self.plan
    }
}

impl<'g> Body<'g> {
    /// Plans the computation of `roots`, each of which is returned materialised.
    pub fn new(graph: &'g Graph, names: &'g Names, roots: &[NodeId]) -> Body<'g> {
        Body::lowering(Plan::new(graph, names, roots))
    }

    /// Plans the nodes from `root` down to `input` (not those below it), whose value is
    /// computed elsewhere: for [`Lower::over`].
    pub fn until(graph: &'g Graph, names: &'g Names, root: NodeId, input: NodeId) -> Body<'g> {
        Body::lowering(Plan::until(graph, names, root, input))
    }

    /// Plans the computation of `roots` for feeds of run-time size ([`Plan::new_dynamic`]).
    pub fn new_dynamic(
        graph: &'g Graph,
        names: &'g Names,
        roots: &[NodeId],
        feeds: &[NodeId],
        fed: Fed,
    ) -> Option<Body<'g>> {
        Plan::new_dynamic(graph, names, roots, feeds, fed).map(Body::lowering)
    }

    fn lowering(plan: Plan<'g>) -> Body<'g> {
        Body { plan, fresh: Cell::new(0) }
    }

    /// The lowering context of this computation.
    pub fn lower(&self) -> Lower<'_, 'g> {
        Lower { plan: &self.plan, fresh: &self.fresh, overwriting: None, acc: None }
    }
}

/// Lowering, the second half of emission: writes the code computing the nodes of a [`Plan`],
/// which it only reads. The ops write their elements and kernel calls through it
/// ([`crate::ops::Rules::element`], [`crate::ops::Rules::materialise`]): the element of an input
/// ([`Lower::elem`], [`Lower::input`]), a sum in tfgraph's order ([`Lower::sum`]), a stored
/// operand's lines for a kernel ([`Lower::line`], [`Lower::lines`]), and the plan's answers
/// (through `Deref`: shapes, dtypes, names, what is stored).
///
/// A value, copied into a new context where a tensor is written over its input in place
/// ([`Lower::over_input`]): no state changes behind a caller's back.
#[derive(Clone, Copy)]
pub struct Lower<'b, 'g> {
    plan: &'b Plan<'g>,
    fresh: &'b Cell<usize>,
    /// Where a tensor is written over its input, that input, whose element is then `__out[__at]`
    /// (`__old` in a kernel's store).
    overwriting: Option<NodeId>,
    /// In a kernel's store ([`crate::ops::Rules::materialise_then`]), the kernel, whose element is
    /// then the value it stores, `__acc`.
    acc: Option<NodeId>,
}

impl<'g> std::ops::Deref for Lower<'_, 'g> {
    type Target = Plan<'g>;

    fn deref(&self) -> &Plan<'g> {
        self.plan
    }
}

impl<'b, 'g> Lower<'b, 'g> {
    /// This context, where the tensor being written is written over `input` (or over nothing).
    fn over_input(self, input: Option<NodeId>) -> Lower<'b, 'g> {
        Lower { overwriting: input, ..self }
    }

    /// The local a node's value is bound to.
    pub fn local(&self, id: NodeId) -> Ident {
        match self.slot[id] {
            Some(k) if self.reused[k] => format_ident!("__s{}", k),
            _ => local_name(self.graph, id),
        }
    }

    pub fn fresh(&self, prefix: &str) -> Ident {
        let n = self.fresh.get();
        self.fresh.set(n + 1);
        format_ident!("__{}{}", prefix, n)
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
        if context == Context::Run {
            out.extend(self.held_panels());
        }
        out.extend(computed);
        out
    }

    /// The statements marking stale the session's copies in panels of the variables this
    /// computation writes, then binding the copies its blocked products read
    /// ([`Plan::held`]), each made first if it is stale.
    pub fn held_panels(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (id, field) in self.names.copy_fields() {
            if self.writes_variable(id) {
                out.extend(quote!(__session.panels.#field.stale();));
            }
        }
        let mut bound = Vec::new();
        for &id in &self.order {
            let node = &self.graph.nodes[id];
            let (Op::MatMul(m), [_, b]) = (&node.op, &node.inputs[..]) else { continue };
            let along = usize::from(m.transpose_b);
            let (Some(held), Some(field)) = (self.held(*b, along), self.names.copy_field(*b, along)) else {
                continue;
            };
            if self.form[id] == Form::Unused || !self.blocked(id) || bound.contains(&held) {
                continue;
            }
            let Some(lines) = self.lines(*b, along) else { continue };
            let shape = self.shape(*b);
            let (n, k) = (self.names.dim(shape[1 - along]), self.names.dim(shape[along]));
            let lines = crate::ops::matmul::lines_operand(self, lines);
            out.extend(quote!(let #held = __session.panels.#field.panels(#n, #k, #lines);));
            bound.push(held);
        }
        out
    }

    /// [`Body::statements_writing`] but for the variables' bindings.
    fn computed_statements(&self, context: Context, into: Option<NodeId>) -> TokenStream {
        let mut out = TokenStream::new();
        for &id in &self.order {
            if self.is_static(id) {
                // A constant tensor is a `static` of the graph's module, one for every fetch that
                // reads it ([`Plan::statics`], [`Names::statics`]), read in place (from flash on a
                // microcontroller): no copy of it is made on the stack.
                let local = self.local(id);
                let name = Names::static_name(id);
                out.extend(quote!(let #local = &#name.0;));
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
            // On a cache line, so that the kernels' vector loads of a row do not straddle two.
            out.extend(
                quote!(let mut #buffer = ::tfcore::__private::Aligned([#zeros; #known]); let #buffer = &mut #buffer.0;),
            );
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
        // A kernel fused into the node its value flows into is computed there.
        if !self.is_computed_local(id) || self.fused_into[id].is_some() {
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

    /// The statements of root `root` written into the caller's `out` over `product`: the product
    /// computed whole into `out`, then the root's elements written over it in place, in the
    /// order `out` stores them: a matrix's column-major, reading the product as `__out[__at]`; a
    /// rank-4 array's row-major, row by row ([`Lower::over_rows`]).
    fn over_product_in_out(&self, root: NodeId, product: NodeId) -> TokenStream {
        let local = self.local(root);
        let rules = self.graph.nodes[product].op.rules();
        let compute = rules.and_then(|r| r.materialise_flat(self, product, &quote!(#local.as_mut_slice())));
        let shape = self.shape(root);
        if let [_, _] = shape[..] {
            // Column-major, as nalgebra stores a matrix.
            let (idx, e) = self.over_input(Some(product)).element_code(root, 2);
            let (rows, cols) = (self.names.dim(shape[0]), self.names.dim(shape[1]));
            let (i, j) = (&idx[0], &idx[1]);
            return quote! {
                let mut #local = __out;
                #compute
                {
                    let __out = #local.as_mut_slice();
                    let mut __at = 0usize;
                    for #j in 0..#cols { for #i in 0..#rows { __out[__at] = #e; __at += 1; } }
                }
            };
        }
        // A rank-4 array, row-major.
        let (idx, e) = Lower { acc: Some(product), ..*self }.element_code(root, shape.len());
        let rows = self.over_rows(&quote!(#local.as_mut_slice()), &idx, &shape, &e);
        quote! {
            let mut #local = __out;
            #compute
            { #rows }
        }
    }

    /// The statements computing `x` in the storage of variable `v` in the session
    /// ([`Body::plan_in_session`]), in its column-major order, reading `v`'s old element as
    /// `__out[__at]`; then `x`'s local is that storage.
    fn fill_variable(&self, x: NodeId, v: NodeId) -> TokenStream {
        let place = self.names.storage(self.graph, v);
        let local = self.local(x);
        let (idx, e) = self.over_input(Some(v)).element_code(x, self.shape(x).len());
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

    /// `e` written over `out` (a buffer of shape `shape`, stored along `axes`, outermost first) a
    /// line of the innermost axis at a time, its index bounded by the line's length, so that a
    /// bias read at it needs no check and the line vectorises; `e` reads the element it replaces
    /// as `__acc`. `idx`: `e`'s index variables.
    fn over_lines(
        &self,
        out: &TokenStream,
        idx: &[Ident],
        shape: &[Dim],
        axes: &[usize],
        e: &TokenStream,
    ) -> Option<TokenStream> {
        let (&inner, outer) = axes.split_last()?;
        let old = idents_of(e).contains("__acc").then(|| quote!(let __acc = *__slot;));
        let (i, width) = (&idx[inner], self.names.dim(shape[inner]));
        let mut body = quote! {
            if let ::core::option::Option::Some(__line) = __lines.next() {
                for (#i, __slot) in __line.iter_mut().enumerate() {
                    #old
                    *__slot = #e;
                }
            }
        };
        for &k in outer.iter().rev() {
            let (i, d) = (&idx[k], self.names.dim(shape[k]));
            body = quote!(for #i in 0..#d { #body });
        }
        // (A line of no elements, an empty batch's column: no lines to write, but not chunks of 0.)
        Some(quote!(let mut __lines = (#out).chunks_exact_mut(::core::cmp::max(#width, 1usize)); #body))
    }

    /// [`Lower::over_lines`] of a row-major buffer: row by row of its last axis.
    fn over_rows(&self, out: &TokenStream, idx: &[Ident], shape: &[Dim], e: &TokenStream) -> Option<TokenStream> {
        let axes: Vec<usize> = (0..shape.len()).collect();
        self.over_lines(out, idx, shape, &axes, e)
    }

    /// The statements computing node `id` into its buffer, element by element in row-major
    /// order.
    fn fill_buffer(&self, id: NodeId, k: usize) -> TokenStream {
        let buffer = format_ident!("__f{}", k);
        let shape = self.shape(id);
        let count = self.names.count(&shape);
        let flatten: Vec<TokenStream> = self.flattens(k).map(|_| quote!(.as_flattened_mut())).collect();
        if let Some(kernel) = self.fused[id] {
            // Computed by the kernel it is fused into, its element the kernel's store.
            let out = quote!(&mut #buffer #(#flatten)* [..#count]);
            let (idx, e) = Lower { acc: Some(kernel), ..*self }.element_code(id, shape.len());
            let rules = self.graph.nodes[kernel].op.rules();
            // An element that reads only the kernel's value (a bias, an activation, not a
            // residual add over what the buffer holds): the kernel stores its outputs as they
            // are, and a loop of its own computes the element over each, in place, which
            // vectorises where a closure called output by output does not
            // (docs/internals/speed.md). The same expression on the same values: the same bits.
            if !idents_of(&e).contains("__old") {
                let code = rules.and_then(|r| r.materialise_flat(self, kernel, &out));
                if let (Some(code), Some(rows)) = (code, self.over_rows(&out, &idx, &shape, &e)) {
                    return quote!({ #code #rows });
                }
            }
            let elem = self.graph.tensor(id).map(|t| ident(t.dtype.rust()));
            let rank = idx.len();
            let then = quote!(|__old: #elem, __acc: #elem, [#(#idx),*]: [usize; #rank]| #e);
            if let Some(code) = rules.and_then(|r| r.materialise_then(self, kernel, &out, &then)) {
                return code;
            }
        }
        if !self.by_element(id) {
            let out = quote!(&mut #buffer #(#flatten)* [..#count]);
            let rules = self.graph.nodes[id].op.rules();
            if let Some(code) = rules.and_then(|r| r.materialise_flat(self, id, &out)) {
                return code;
            }
        }
        // Innermost the last axis, or for a column-major matrix the first.
        let mut axes: Vec<usize> = (0..shape.len()).collect();
        if self.column_major(id) {
            axes.reverse();
        }
        if shape.is_empty() || !self.dynamic {
            // Of sizes known when the graph compiles, LLVM bounds `__at` itself.
            let (idx, e) = self.element_code(id, shape.len());
            let mut body = quote!(__out[__at] = #e; __at += 1;);
            for &k in axes.iter().rev() {
                let (i, d) = (&idx[k], self.names.dim(shape[k]));
                body = quote!(for #i in 0..#d { #body });
            }
            return quote!({ let __out = &mut #buffer #(#flatten)* [..#count]; let mut __at = 0usize; #body });
        }
        // Of a run-time size, a line of the buffer at a time (indexed element by element, each
        // index checked, the loops stayed scalar); the input written over (if any) read as the
        // element it replaces.
        let (idx, e) = Lower { acc: self.overwriting, overwriting: None, ..*self }.element_code(id, shape.len());
        let out = quote!(&mut #buffer #(#flatten)* [..#count]);
        let lines = self.over_lines(&out, &idx, &shape, &axes, &e);
        quote!({ #lines })
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

    /// The buffers of a computation fed with run-time sizes, as slices of the session's workspace,
    /// one split per element type: `let [__f0, __f2] = split(&mut __session.ws.f32, [N * 3, N * 2]);`.
    fn workspace_buffers(&self, ws: &TokenStream) -> TokenStream {
        let mut out = TokenStream::new();
        let scratch = self.scratch_terms();
        for dtype in DType::ALL {
            let ks: Vec<usize> = (0..self.buffers.len()).filter(|&k| self.buffers[k].dtype == dtype).collect();
            let mut names: Vec<Ident> = ks.iter().map(|k| format_ident!("__f{}", k)).collect();
            let mut sizes: Vec<TokenStream> = ks.iter().map(|&k| self.names.count(&self.buffers[k].shape)).collect();
            // The nalgebra matrices fed that are read as row-major copies.
            let copies: Vec<NodeId> = self.copied.iter().copied().filter(|&p| self.dtype(p) == dtype).collect();
            names.extend(copies.iter().map(|p| format_ident!("__fed{}", p)));
            sizes.extend(copies.iter().map(|&p| self.names.count(&self.shape(p))));
            if let Some((_, dims)) = scratch.iter().find(|(d, _)| *d == dtype) {
                // The blocked products' scratch, for lines of a run-time number of terms.
                let dims = dims.iter().map(|d| self.names.dim(*d));
                names.push(format_ident!("__scratch_{}", dtype.rust()));
                sizes.push(quote!(::tfcore::__private::PACKED_LINES * (0usize #(+ #dims)*)));
            }
            if names.is_empty() {
                continue;
            }
            let pool = ident(dtype.rust());
            out.extend(quote!(let [#(#names),*] = ::tfcore::__private::split(&mut #ws.#pool, [#(#sizes),*]);));
            for p in copies {
                let (local, buffer) = (self.local(p), format_ident!("__fed{}", p));
                out.extend(quote!(let #local = ::tfcore::__private::rows_of(#local, #buffer);));
            }
        }
        out
    }

    /// [`Body::fill_buffer`], reading the input `id` is written over as `__out[__at]`.
    fn fill_buffer_in_place(&self, id: NodeId, k: usize) -> TokenStream {
        self.over_input(self.in_place[id]).fill_buffer(id, k)
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
                (Some(k), dims) => {
                    let buffer = format_ident!("__f{}", k);
                    quote!(::tfcore::__private::dynamic_array([#(#dims),*], &#buffer[..]))
                }
                (_, [n]) => quote!(::tfcore::__private::DVector::from_fn(#n, |__i, _| #local[__i])),
                (_, [r, c]) => quote!(::tfcore::__private::DMatrix::from_fn(#r, #c, |__i, __j| #local[(__i, __j)])),
                // A fed batch of rank 3 or 4, a row-major view: copied.
                _ if self.form[id] == Form::Feed => quote!(#local.to_owned()),
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
        let (_, e) = self.over_input(Some(input)).element_code(root, self.shape(root).len());
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
            // A nalgebra matrix fed with a run-time size: its columns are slices (rows one element
            // apart).
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

    /// The slice holding stored tensor `id` of rank 3 or 4 in row-major order (a buffer, of the
    /// stack or of the session's workspace, an `Array3`/`Array4` local, feed, variable or
    /// `static`, a batch fed as a `DArrayView`), for the kernels that read tensors as stored
    /// (the convolutions', int8 layers'). `None` for a tensor computed inline, or being
    /// written over.
    pub fn row_major(&self, id: NodeId) -> Option<TokenStream> {
        let shape = self.shape(id);
        if !(3..=4).contains(&shape.len()) || self.overwriting == Some(id) {
            return None;
        }
        if let Some(k) = self.flat[id] {
            let buffer = format_ident!("__f{}", k);
            let flatten = self.flattens(k).map(|_| quote!(.as_flattened()));
            return Some(quote!(&#buffer #(#flatten)* [..]));
        }
        let local = self.local(id);
        self.is_stored(id).then(|| quote!(#local.as_slice()))
    }

    /// The whole of the buffer tensor `id` is stored flat in, writable: for a kernel that
    /// computes `id` over the input it replaces there ([`crate::ops::Rules::writes_over_input`]),
    /// which reads beyond `id`'s own size.
    pub fn whole_buffer(&self, id: NodeId) -> Option<TokenStream> {
        let k = self.flat[id]?;
        let buffer = format_ident!("__f{}", k);
        let flatten = self.flattens(k).map(|_| quote!(.as_flattened_mut()));
        Some(quote!(&mut #buffer #(#flatten)* [..]))
    }

    /// Every line of rank-2 tensor `id` along axis `along` (each fixing the other axis) as its
    /// storage holds them, for [`Body::line`] and the matrix kernel. `None` where `line` says, and
    /// for a nalgebra matrix fed with a run-time size (whose storage has no one slice); an ndarray
    /// matrix fed ([`Plan::rows_fed`]) is one row-major slice.
    pub fn lines(&self, id: NodeId, along: usize) -> Option<Lines> {
        let shape = self.shape(id);
        if shape.len() != 2 || self.overwriting == Some(id) || self.panels(id).is_some() {
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
        if self.is_row_major_view(id) {
            // A row-major `DArrayView` (an `ndarray` matrix fed, or a copied one): its rows are
            // slices.
            let local = self.local(id);
            let slice = quote!(#local.as_slice());
            return match along {
                0 => lines(slice, None, Some(cols)),
                _ => lines(slice, Some(cols), None),
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
        if self.acc == Some(id) {
            return quote!(__acc);
        }
        if self.overwriting == Some(id) {
            return if self.acc.is_some() { quote!(__old) } else { quote!(__out[__at]) };
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
        if self.is_row_major_view(id) {
            // A batch or an ndarray matrix fed: its slice at the row-major index written out, so
            // that the sizes known when the graph compiles are constants of the arithmetic.
            let local = self.local(id);
            let flat = self.flat_index(&self.shape(id), idx);
            return quote!(#local.as_slice()[#flat]);
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
        self.sum_as(dtype, n, term, quote!(sum))
    }

    /// The sum of the products `a × b` of the terms `term(k)`, each an expression of a pair
    /// `(a, b)`, in the order of `tfcore::__private::sum_products`: written out for fewer than 8
    /// terms, the first as `product` and each next through `add_product` (which tfcore's `fma`
    /// feature fuses), a call to `sum_products` otherwise. Integers' products wrap, as ever.
    pub fn sum_products(&self, dtype: DType, n: Dim, term: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
        self.sum_products_as(dtype, n, term, [quote!(sum_products), quote!(sum)])
    }

    /// [`Lower::sum_products`] strictly left to right (`tfcore::__private::in_order_products`, the
    /// order of a convolution's window).
    pub fn sum_products_in_order(
        &self,
        dtype: DType,
        n: Dim,
        term: &dyn Fn(TokenStream) -> TokenStream,
    ) -> TokenStream {
        self.sum_products_as(dtype, n, term, [quote!(in_order_products), quote!(in_order)])
    }

    /// A sum of products through `tfcore::__private`'s `products` (for floats), or as a sum of
    /// integer products through its `plain` counterpart.
    fn sum_products_as(
        &self,
        dtype: DType,
        n: Dim,
        term: &dyn Fn(TokenStream) -> TokenStream,
        [products, plain]: [TokenStream; 2],
    ) -> TokenStream {
        if !dtype.is_float() {
            // `a × b` as the integer dtype multiplies, in the plain sum's order.
            let product = |k: TokenStream| {
                let pair = term(k);
                let mul = Binary::Mul.emit(dtype, quote!(__a), quote!(__b));
                quote!({ let (__a, __b) = #pair; #mul })
            };
            return self.sum_as(dtype, n, &product, plain);
        }
        match n {
            Dim::Known(n) if n < 8 => {
                let first = term(quote!(0usize));
                let mut total = quote!(::tfcore::__private::product(#first));
                for k in 1..n {
                    let k = Literal::usize_suffixed(k);
                    let pair = term(quote!(#k));
                    total = quote!(::tfcore::__private::add_product(#total, #pair));
                }
                total
            }
            _ => {
                let k = self.fresh("k");
                let count = self.names.dim(n);
                let body = term(quote!(#k));
                quote!(::tfcore::__private::#products(#count, |#k| #body))
            }
        }
    }

    /// A sum of `n` terms: inline left to right under 8 terms, else through `tfcore::__private`'s
    /// function `order`.
    fn sum_as(
        &self,
        dtype: DType,
        n: Dim,
        term: &dyn Fn(TokenStream) -> TokenStream,
        order: TokenStream,
    ) -> TokenStream {
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
                quote!(::tfcore::__private::#order(#count, |#k| #body))
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

/// The local a node's value is bound to: `__v_name` for a named node, `__t7` otherwise. No other
/// name in generated code starts with `__v_` or `__t` and a digit, so these never collide.
pub fn local_name(graph: &Graph, id: NodeId) -> Ident {
    match &graph.nodes[id].name {
        Some(name) => format_ident!("__v_{}", name.to_string().trim_start_matches("r#")),
        None => format_ident!("__t{}", id),
    }
}
