//! Planning, the first half of emission: for the nodes some roots need, every decision about
//! how the code computes them, made before any code is written, and held in an immutable
//! [`Plan`] that lowering ([`super::body`]) then only reads.
//!
//! What a plan decides, in this order:
//! - each node's [`Form`]: not computed, inlined into its reader's expression, stored in a local,
//!   or read from a feed or a variable. One pass over the nodes inputs first, so that each
//!   decision reads only its inputs' forms (a product is computed whole by a kernel only if its
//!   operands are stored, [`crate::ops::Rules::blocked`]);
//! - for a fetch of run-time size, whether it runs in chunks of rows ([`super::chunks`]);
//! - where each stored tensor lives: a slot (a local reused over time), a flat buffer shared by
//!   tensors of any shape, the storage of the input it is written over, the variable an
//!   assignment stores it in, or the caller's value (`plan_slots`, `plan_in_session`,
//!   `plan_buffers`);
//! - which products the kernel writes column-major (`plan_columns`).
//!
//! The ops answer the planning questions with data ([`crate::ops::Rules::reads`], `cheap`,
//! `blocked`, `has_flat_form`, `by_rows`), never by writing code.

use super::chunks::Phase;
use super::Names;
use crate::ir::{AssignKind, DType, Data, Dim, Graph, NodeId, Op};
use crate::ops::Reads;
use proc_macro2::TokenStream;

/// How a node's value is reached in the generated code.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Form {
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

pub struct Plan<'g> {
    pub graph: &'g Graph,
    pub names: &'g Names,
    pub(super) order: Vec<NodeId>,
    pub(super) roots: Vec<NodeId>,
    pub(super) form: Vec<Form>,
    /// The storage of each computed tensor local: its slot, shared over time (see `plan_slots`).
    pub(super) slot: Vec<Option<usize>>,
    /// Whether each slot is assigned more than once (so it is declared `mut`).
    pub(super) reused: Vec<bool>,
    /// The shared buffer of each tensor stored flat (row-major) in one (see `plan_slots`).
    pub(super) flat: Vec<Option<usize>>,
    /// The type each buffer is declared with: that of its largest tensor.
    pub(super) buffers: Vec<crate::ir::TensorType>,
    /// For a tensor written over the input it replaces in its buffer (an activation, a residual
    /// add), that input.
    pub(super) in_place: Vec<Option<NodeId>>,
    /// For a tensor that an assignment stores in a variable, computed straight into the
    /// variable's storage in the session (see [`Plan::plan_in_session`]), that variable.
    pub(super) into_variable: Vec<Option<NodeId>>,
    /// The assignments whose tensor (the value of an `assign`, an `assign_sub` itself) is computed
    /// in the variable's storage: nothing is left to write at the end.
    pub(super) assigned_in_place: Vec<bool>,
    /// A matrix product computed whole into the caller's value, which the root (an elementwise
    /// chain over it, `relu(x W + b)`) is then written over in place: no storage of its own.
    pub(super) into_out: Option<NodeId>,
    /// The blocked products stored column-major in a static plan ([`Plan::column_major`]).
    pub(super) by_columns: Vec<bool>,
    /// The position (in `order`) of the last computed local whose code reads each node.
    pub(super) last_read: Vec<usize>,
    /// The nodes of `order` that take each node as an input, each once, in `order`'s order.
    pub(super) readers: Vec<Vec<NodeId>>,
    /// Whether `None` dimensions are run-time sizes (feeds of run-time size): then every computed
    /// tensor of such a shape is stored flat in the session's workspace, and the `None`
    /// dimensions are locals rather than const generics.
    pub(super) dynamic: bool,
    /// Whether the feeds of rank 1 and 2 with a `None` dimension are row-major
    /// `DArrayView`s (an `ndarray` array or view fed, or a nalgebra matrix `copied`), rather than
    /// nalgebra's column-major matrices: their rows are then slices.
    pub(super) rows_fed: bool,
    /// The feeds of rank 2 with a `None` dimension, fed nalgebra matrices, that the computation
    /// copies row-major into the workspace first ([`Fed::Copied`]).
    pub(super) copied: Vec<NodeId>,
    /// For a fetch of run-time size that runs in chunks of rows, the phase of every node.
    pub(super) chunks: Option<super::chunks::Chunks>,
    /// The kernel each elementwise node is computed by, if fused into it ([`Plan::plan_fusion`]):
    /// the node's element is what the kernel stores for each of its outputs.
    pub(super) fused: Vec<Option<NodeId>>,
    /// The inverse of `fused`: the elementwise node a kernel's value flows into, computed by it.
    pub(super) fused_into: Vec<Option<NodeId>>,
}

impl<'g> Plan<'g> {
    /// Plans the computation of `roots`, each of which is returned materialised.
    pub fn new(graph: &'g Graph, names: &'g Names, roots: &[NodeId]) -> Plan<'g> {
        Plan::planned(graph, names, roots, &[], (false, false))
    }

    /// Plans the nodes from `root` down to `input` (not those below it), whose value is
    /// computed elsewhere: for [`Plan::over`].
    pub fn until(graph: &'g Graph, names: &'g Names, root: NodeId, input: NodeId) -> Plan<'g> {
        Plan::planned(graph, names, &[root], &[input], (false, false))
    }

    /// Plans the computation of `roots` for feeds of run-time size: every computed tensor with a
    /// `None` dimension is stored flat in the workspace. `None` if the computation holds something
    /// that has no such form (a random tensor of run-time shape, a result of rank 3 or more with a
    /// `None` dimension), or a `None` dimension no feed gives. `fed` says how its feeds of rank 2
    /// with a `None` dimension are read.
    pub fn new_dynamic(
        graph: &'g Graph,
        names: &'g Names,
        roots: &[NodeId],
        feeds: &[NodeId],
        fed: Fed,
    ) -> Option<Plan<'g>> {
        if fed == Fed::Copied {
            // Copied only where that lets a blocked product read them, and not in chunks of rows.
            let mut body = Plan::new_dynamic(graph, names, roots, feeds, Fed::Ndarray)?;
            let read_by_kernel = |p: NodeId| {
                body.order.iter().any(|&id| {
                    let node = &body.graph.nodes[id];
                    node.inputs.contains(&p) && node.op.rules().is_some_and(|r| r.blocked(&body, id))
                })
            };
            let copied: Vec<NodeId> = feeds
                .iter()
                .copied()
                .filter(|&p| body.shape(p).len() == 2 && body.shape(p).iter().any(|d| matches!(d, Dim::Sym(_))))
                .collect();
            if body.chunks.is_some() || !copied.iter().any(|&p| read_by_kernel(p)) {
                return Plan::new_dynamic(graph, names, roots, feeds, Fed::Nalgebra);
            }
            body.copied = copied;
            return Some(body);
        }
        let body = Plan::planned(graph, names, roots, &[], (true, fed == Fed::Ndarray));
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
            let flat_form =
                body.by_element(id) || body.graph.nodes[id].op.rules().is_some_and(|r| r.has_flat_form(&body, id));
            let stored = body.is_computed_local(id) && body.flat[id].is_some() && flat_form;
            let ok = match body.form[id] {
                Form::Feed => shape.len() <= 2 || (shape.len() <= 4 && one_batch_dim(&shape)),
                Form::Inline | Form::Unused => true,
                Form::Local if stored => shape.len() <= 2 || !body.roots.contains(&id) || one_batch_dim(&shape),
                _ => false,
            };
            if !ok {
                return None;
            }
        }
        Some(body)
    }

    /// The plan of `roots` down to (not below) `stop`; `dynamic` and `rows_fed` as
    /// [`Plan::new_dynamic`] says.
    pub(super) fn planned(
        graph: &'g Graph,
        names: &'g Names,
        roots: &[NodeId],
        stop: &[NodeId],
        (dynamic, rows_fed): (bool, bool),
    ) -> Plan<'g> {
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
        let mut body = Plan {
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
            into_variable: vec![None; n],
            assigned_in_place: vec![false; n],
            into_out: None,
            by_columns: vec![false; n],
            last_read: Vec::new(),
            readers,
            dynamic,
            rows_fed,
            copied: Vec::new(),
            chunks,
            fused: vec![None; n],
            fused_into: vec![None; n],
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
    pub(super) fn plan(&self, id: NodeId, root: bool, uses: usize, consumers: &[(NodeId, usize)]) -> Form {
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
        if self.cheap(id) && !self.reshapes_a_kernels_output_for_a_product(id, consumers) {
            return Form::Inline;
        }
        if let [(consumer, _)] = consumers {
            if self.streams(*consumer, id) {
                return Form::Inline;
            }
        }
        Form::Local
    }

    /// Whether `id` is a reshape of a tensor a kernel computed (a pooling's, `[N, 4, 4, 16]`),
    /// read by a matrix product (`[N, 256]` by a weight): stored, it is a copy of the kernel's
    /// buffer that the product's own kernel reads a line at a time; inlined, the product would
    /// find each element's index in the kernel's buffer by divisions, element by element (with
    /// its 2 × 2 pooling through the kernel, the digits CNN classified a batch of 32 in 185 µs
    /// so, against 98).
    fn reshapes_a_kernels_output_for_a_product(&self, id: NodeId, consumers: &[(NodeId, usize)]) -> bool {
        let node = &self.graph.nodes[id];
        matches!(node.op, Op::ReshapeTo(_))
            && node.inputs.iter().all(|&i| self.form[i] == Form::Local && self.blocked(i))
            && consumers.iter().any(|(c, _)| matches!(self.graph.nodes[*c].op, Op::MatMul(_)))
    }

    /// Whether computing an element of `id` costs about as much as reading one.
    pub(super) fn cheap(&self, id: NodeId) -> bool {
        let node = &self.graph.nodes[id];
        let input_is_place = || {
            node.inputs.iter().all(|&i| {
                matches!(self.form[i], Form::Local | Form::Feed | Form::Variable) || self.is_scalar_literal(i)
            })
        };
        node.op.rules().is_some_and(|rules| rules.cheap()) && input_is_place()
    }

    pub(super) fn is_scalar_literal(&self, id: NodeId) -> bool {
        self.form[id] == Form::Inline && self.graph.nodes[id].inputs.is_empty()
    }

    /// Whether `consumer` reads each element of `producer` once, so that `producer` can be
    /// computed inside it without computing anything twice.
    pub(super) fn streams(&self, consumer: NodeId, producer: NodeId) -> bool {
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
    pub(super) fn is_static(&self, id: NodeId) -> bool {
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

    /// The constant tensors this computation reads from the module's `static`s, each once
    /// ([`Names::statics`] defines them).
    pub fn statics(&self) -> Vec<NodeId> {
        self.order.iter().copied().filter(|&id| self.is_static(id)).collect()
    }

    /// The shape of node `id`.
    pub fn shape(&self, id: NodeId) -> Vec<Dim> {
        self.graph.tensor(id).map(|t| t.shape.clone()).unwrap_or_default()
    }

    /// The dtype of node `id`.
    pub fn dtype(&self, id: NodeId) -> DType {
        self.graph.tensor(id).map_or(DType::Float32, |t| t.dtype)
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

    /// Whether the computation writes variable `v`: assigns it, or initialises every variable.
    pub fn writes_variable(&self, v: NodeId) -> bool {
        self.graph.writes_variable(&self.order, v)
    }

    /// The local holding the panels of variable `id`'s copy in the session, lines along axis
    /// `along` (an `Option<&[T]>`: `None` without tfcore's `std`), if its products read that copy:
    /// it has one ([`crate::ops::matmul::copied`]) and this computation does not write the
    /// variable (whose products then read the variable's own lines, and which marks the copy
    /// stale: [`super::lower::Lower::held_panels`]).
    pub fn held(&self, id: NodeId, along: usize) -> Option<proc_macro2::Ident> {
        self.names.copy_field(id, along)?;
        (self.form[id] == Form::Variable && !self.writes_variable(id))
            .then(|| quote::format_ident!("__held_{}_{}", id, along))
    }

    /// Whether running it touches the session: reads a variable, draws at random, or writes.
    pub fn uses_session(&self) -> bool {
        self.writes() || self.uses_rng() || self.order.iter().any(|&id| self.form[id] == Form::Variable)
    }

    /// Whether it draws random numbers.
    pub fn uses_rng(&self) -> bool {
        self.order.iter().any(|&id| matches!(self.graph.nodes[id].op, Op::RandomUniform { .. }))
    }

    /// The phase of node `id` in a fetch run in chunks of rows.
    pub(super) fn phase(&self, id: NodeId) -> Option<Phase> {
        self.chunks.as_ref().map(|c| c.phase[id])
    }

    /// The materialised nodes that are locals (not statics, not tuples, which `value` builds).
    pub(super) fn is_computed_local(&self, id: NodeId) -> bool {
        self.form[id] == Form::Local && !self.is_static(id) && !matches!(self.graph.nodes[id].op, Op::Tuple)
    }

    /// Whether node `id`'s value is held in memory (a local, a feed, a variable, a `static`)
    /// rather than computed where it is read.
    pub fn is_stored(&self, id: NodeId) -> bool {
        matches!(self.form[id], Form::Local | Form::Feed | Form::Variable)
    }

    /// Whether `None` dimensions are run-time sizes in this computation.
    /// The input node `id` is written over in its buffer, if any: an elementwise op over an
    /// input it reads at its own index, or a kernel over the input
    /// [`crate::ops::Rules::writes_over_input`] names.
    pub fn written_over(&self, id: NodeId) -> Option<NodeId> {
        self.in_place[id]
    }

    pub fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    /// Whether the computation runs in chunks of rows ([`super::chunks`]).
    pub fn is_chunked(&self) -> bool {
        self.chunks.is_some()
    }

    /// For a computation of run-time sizes, the `None` dimensions that blocked products of each
    /// element type sum over (a weight's gradient, over the rows of a batch): the workspace holds
    /// a scratch of `PACKED_LINES` lines of their sum of terms for them, `__scratch_f32`, where
    /// the kernel packs strided lines (a fixed-size array on the stack cannot).
    pub(super) fn scratch_terms(&self) -> Vec<(DType, Vec<Dim>)> {
        let mut out: Vec<(DType, Vec<Dim>)> = Vec::new();
        for &id in &self.order {
            let node = &self.graph.nodes[id];
            let Op::MatMul(m) = &node.op else { continue };
            let inner = self.shape(node.inputs[0]).get(usize::from(!m.transpose_a)).copied();
            let blocked = self.dynamic && node.op.rules().is_some_and(|r| r.blocked(self, id));
            let (Some(inner @ Dim::Sym(_)), true) = (inner, blocked) else { continue };
            let dtype = self.dtype(id);
            match out.iter_mut().find(|(d, _)| *d == dtype) {
                Some((_, dims)) if !dims.contains(&inner) => dims.push(inner),
                Some(_) => {}
                None => out.push((dtype, vec![inner])),
            }
        }
        out
    }

    /// Whether feed `id` is read as a row-major `DArrayView`: a batch of rank 3 or 4 of run-time
    /// size, or with [`Plan::rows_fed`] a matrix of run-time size.
    pub fn is_row_major_view(&self, id: NodeId) -> bool {
        let shape = self.shape(id);
        let sym = shape.iter().any(|d| matches!(d, Dim::Sym(_)));
        self.dynamic
            && self.form[id] == Form::Feed
            && sym
            && (matches!(shape.len(), 3 | 4) || (shape.len() == 2 && self.rows_fed))
    }

    /// Whether stored tensor `id` lies in one slice, its lines read by [`Lower::lines`]: all but
    /// a nalgebra matrix fed with a run-time size, whose columns are slices of their own.
    pub fn is_one_slice(&self, id: NodeId) -> bool {
        let fed_matrix = self.dynamic && self.form[id] == Form::Feed && !self.rows_fed;
        !(fed_matrix && self.shape(id).iter().any(|d| matches!(d, Dim::Sym(_))))
    }

    /// Whether node `id` is computed element by element (the `from_fn` of
    /// [`Plan::materialise`]).
    pub(super) fn by_element(&self, id: NodeId) -> bool {
        self.graph.nodes[id].op.rules().is_some_and(|r| r.reads() != Reads::Whole && !r.blocked(self, id))
    }

    /// Whether node `id` is computed whole by a kernel at its size ([`crate::ops::Rules::blocked`]).
    pub(super) fn blocked(&self, id: NodeId) -> bool {
        self.graph.nodes[id].op.rules().is_some_and(|r| r.blocked(self, id))
    }

    /// Whether a root reads node `id`, directly or through a chain of elementwise ops of its shape
    /// each read once (`relu(x + b)`), so that the root could be computed over it in the caller's
    /// value.
    pub fn is_read_by_root(&self, id: NodeId) -> bool {
        let (end, last) = self.chain_from(id);
        end.is_some() || self.roots.iter().any(|&r| self.graph.nodes[r].inputs.contains(&last))
    }

    /// Whether node `id`, a matrix or a float tensor of rank 4 (a window kernel's), can be
    /// computed into the caller's value and the fetch's one root written over it there
    /// (`run_into`): the root is an elementwise chain over it of one shape, and the fetch writes
    /// nothing to the session.
    pub fn is_written_over_in_out(&self, id: NodeId) -> bool {
        let (end, _) = self.chain_from(id);
        let stored_as_out = match self.shape(id).len() {
            2 => true,
            4 => self.dtype(id).is_float(),
            _ => false,
        };
        end.is_some_and(|root| self.roots == [root]) && stored_as_out && !self.dynamic && !self.writes()
    }

    /// The root that reads `id` through single readers that are elementwise ops of `id`'s shape
    /// (or `None`), and the last node of that chain.
    pub(super) fn chain_from(&self, id: NodeId) -> (Option<NodeId>, NodeId) {
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

    /// Plans the storage of the computed tensors, as TensorFlow Lite Micro plans its arena: a
    /// tensor takes the slot (a local variable) of an earlier tensor of the same type once every
    /// node reading that one has been computed, so a chain `conv0 -> conv1 -> conv2` of one shape
    /// lives in two slots, not three. Roots, and what the session's writes and the returned
    /// value read, keep their slots to the end.
    pub(super) fn plan_slots(&mut self) {
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
        self.plan_fusion(&position, &mut last_read);
        self.last_read = last_read.clone();
        self.plan_buffers(&last_read);
        let mut slots: Vec<(crate::ir::TensorType, Option<NodeId>)> = Vec::new();
        for (pos, &id) in self.order.iter().enumerate() {
            if !self.is_computed_local(id)
                || self.fused_into[id].is_some()
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
    pub(super) fn plan_in_session(&mut self, position: &[usize]) {
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
    pub(super) fn value_readers(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.readers[id].iter().copied().filter(move |&c| {
            let node = &self.graph.nodes[c];
            node.inputs.iter().enumerate().any(|(k, &i)| i == id && reads_value(&node.op, k))
        })
    }

    /// When node `c`'s code reads its inputs: where it is computed, for an inlined node where its
    /// last reader is, at the end for a root, a tuple or an assignment.
    pub(super) fn read_at(&self, c: NodeId, position: &[usize]) -> usize {
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
    /// [`Plan::reads_at_own_index`], which follows a single chain up from its input (as a buffer
    /// written over needs), any number of paths: `m + (g - m) * 0.1` reads `m` twice.
    pub(super) fn reads_only_at_own_index(&self, v: NodeId, x: NodeId) -> bool {
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

    /// Tensors of any shape share buffers: a tensor computed element by element, read only
    /// element by element and not returned is stored flat, in row-major order, at the start of a
    /// buffer (a local of the type of its largest tensor) that no live tensor holds. So the three
    /// shapes of a residual network take turns in the same few buffers, as tensors of any shape
    /// share TensorFlow Lite Micro's arena. Buffers hold one dtype, and tensors whose sizes share
    /// the same `None` dimensions (sizes compare only then).
    pub(super) fn plan_buffers(&mut self, last_read: &[usize]) {
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
                self.stored_flat(id, last_read) && self.fused_into[id].is_none()
            };
            let Some(t) = self.graph.tensor(id).filter(|t| eligible && !t.shape.is_empty()).cloned() else { continue };
            let size = size_of(&t.shape);
            // In place: over an input that dies here and that this node reads at its own index,
            // at the start of a buffer that holds this node's size.
            // (Not over an input of the kernel it is fused into, which reads it as it writes.)
            let read_by_kernel = |x: NodeId| self.fused[id].is_some_and(|c| self.graph.nodes[c].inputs.contains(&x));
            let over = buffers.iter().position(|b| {
                b.0.dtype == t.dtype
                    && b.1 .0 == size.0
                    && b.1 .1 >= size.1
                    && end(b.2) == pos
                    && !read_by_kernel(b.2)
                    && self.reads_at_own_index(b.2, id, last_read[b.2])
            });
            // Or a kernel over the input it says it can write over (a convolution of stride 1),
            // which dies here, at the start of a buffer that holds this node's size.
            let over = over.or_else(|| {
                let rules = self.graph.nodes[id].op.rules()?;
                let x = *self.graph.nodes[id].inputs.get(rules.writes_over_input(self, id)?)?;
                buffers.iter().position(|b| {
                    b.2 == x && b.0.dtype == t.dtype && b.1 .0 == size.0 && b.1 .1 >= size.1 && end(x) == pos
                })
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

    /// Whether computed local `id` of a static plan is stored flat in a buffer (see
    /// [`Plan::plan_buffers`]): computed element by element or by a kernel, not returned, not
    /// read whole, not written into the caller's value.
    fn stored_flat(&self, id: NodeId, last_read: &[usize]) -> bool {
        let read_whole = self.order.iter().any(|&c| {
            self.graph.nodes[c].inputs.contains(&id)
                && self.graph.nodes[c].op.rules().is_some_and(|r| r.reads() == Reads::Whole)
        });
        self.is_computed_local(id)
            && self.into_out != Some(id)
            && !read_whole
            && last_read[id] != usize::MAX
            && !self.roots.contains(&id)
            && (self.by_element(id) || self.blocked(id))
    }

    /// Fuses into a kernel that stores each output through a closure ([`Rules::takes_epilogue`],
    /// a convolution's) the node its value flows into, when that node is computed element by
    /// element into a buffer and reads the kernel's value only through elementwise ops of its
    /// shape, each the only reader of the one before (`relu(conv0 + (conv(x) + b))`): the kernel
    /// is then called where that node is computed, with its element as the closure, and takes no
    /// buffer of its own (a residual block of ResNet-8 needed a third 64 KiB buffer without).
    /// Only where nothing is computed between the two; the kernel's inputs stay alive until
    /// then. Not with run-time sizes.
    ///
    /// [`Rules::takes_epilogue`]: crate::ops::Rules::takes_epilogue
    pub(super) fn plan_fusion(&mut self, position: &[usize], last_read: &mut [usize]) {
        if self.dynamic || self.chunks.is_some() {
            return;
        }
        for i in 0..self.order.len() {
            let c = self.order[i];
            let takes = self.graph.nodes[c].op.rules().is_some_and(|r| r.takes_epilogue(self, c));
            if !takes || !self.stored_flat(c, last_read) || self.into_variable[c].is_some() || self.assigned_in_place[c]
            {
                continue;
            }
            let Some(x) = self.flows_into(c) else { continue };
            // Nothing is computed between the two, so that the kernel, moved to where `x` is
            // computed, reads what it read where it was.
            let between = &self.order[position[c] + 1..position[x]];
            if between.iter().any(|&b| self.is_computed_local(b)) {
                continue;
            }
            let plain = self.into_variable[x].is_none() && !self.assigned_in_place[x] && self.fused[x].is_none();
            if !(plain && self.by_element(x) && self.stored_flat(x, last_read)) {
                continue;
            }
            self.fused[x] = Some(c);
            self.fused_into[c] = Some(x);
            for &input in &self.graph.nodes[c].inputs {
                last_read[input] = last_read[input].max(position[x]);
            }
        }
    }

    /// The computed node that node `c`'s value flows into through inlined elementwise ops of its
    /// shape, each read once, by the next: the node whose element reads `c`'s at its own index.
    fn flows_into(&self, c: NodeId) -> Option<NodeId> {
        let shape = self.shape(c);
        let mut at = c;
        loop {
            let mut reads = self.order.iter().flat_map(|&r| {
                let node = &self.graph.nodes[r];
                node.inputs
                    .iter()
                    .enumerate()
                    .filter(move |&(k, &i)| i == at && reads_value(&node.op, k))
                    .map(move |_| r)
            });
            let (Some(next), None) = (reads.next(), reads.next()) else { return None };
            let elementwise = self.graph.nodes[next].op.rules().is_some_and(|r| r.reads() == Reads::Elementwise);
            if !elementwise || self.shape(next) != shape || self.roots.contains(&at) && at != c {
                return None;
            }
            match self.form[next] {
                Form::Inline => at = next,
                _ if self.is_computed_local(next) => return Some(next),
                _ => return None,
            }
        }
    }

    /// Whether `id` (computed at position `pos`) reads each element of `x` only at the index it
    /// writes, through elementwise ops of one shape (`relu(x + y)`): then `id` can be written
    /// over `x`. Readers of `x` computed before `id` do not matter; inlined nodes are part of
    /// `id`'s code when `id` is their last reader.
    pub(super) fn reads_at_own_index(&self, x: NodeId, id: NodeId, pos: usize) -> bool {
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

    /// Which blocked products [`Plan::column_major`] stores column-major in static plans: those no
    /// tensor is written over in place (which would follow the product's layout) and that no
    /// tensor in a buffer (row-major, filled row by row) reads.
    pub(super) fn plan_columns(&mut self) {
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

    /// Whether stored tensor `id` is a column-major matrix: with feeds of run-time size, a
    /// matrix in the workspace is stored as nalgebra stores one, so that a layer is computed a
    /// column at a time (eight rows per vector instruction where the static `from_fn` would be) and
    /// a fetched `DMatrix` is a copy of it; and a product the kernel writes into a buffer that only
    /// `SMatrix`es read (a weight's gradient, read by its optimiser's update), so that they read
    /// it in their own order. Every other stored tensor is row-major.
    pub(super) fn column_major(&self, id: NodeId) -> bool {
        self.flat[id].is_some() && self.shape(id).len() == 2 && (self.dynamic || self.by_columns[id])
    }

    /// How many times buffer `k` is flattened to be a slice: once per `None` dimension of its
    /// nested arrays, none for a workspace slice.
    pub(super) fn flattens(&self, k: usize) -> impl Iterator<Item = usize> {
        let nested = if self.dynamic { 0 } else { size_of(&self.buffers[k].shape).0.len() };
        0..nested
    }

    /// Where the elements of sum `id` start among the partial sums of a fetch run in chunks of
    /// rows (the sums one after another, each row-major, in order); with `None`, how many there
    /// are in all.
    pub(super) fn sums_offset(&self, id: Option<NodeId>) -> usize {
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
                DType::UInt8 | DType::Int8 | DType::Bool => 1,
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
            // A kernel fused into its reader is never stored.
            .filter(|&(_, &id)| {
                self.is_computed_local(id)
                    && self.fused_into[id].is_none()
                    && !(self.into_out.is_some() && self.roots == [id])
            })
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
}

/// Whether a node reads the *value* of its input `k` (an assignment's target is written, and
/// `tf.group` only runs its inputs).
pub(super) fn reads_value(op: &Op, k: usize) -> bool {
    match op {
        Op::Assign(AssignKind::Set) => k == 1,
        Op::Group => false,
        _ => true,
    }
}

/// A tensor's number of elements as the sorted `None` dimensions it is a multiple of and the
/// product of its known dimensions.
pub(super) fn size_of(shape: &[Dim]) -> (Vec<usize>, usize) {
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

/// How a computation of run-time sizes reads its feeds of rank 1 and 2 with a `None` dimension.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fed {
    /// nalgebra's matrices and vectors, read in place: a column of a matrix is a slice.
    Nalgebra,
    /// ndarray's arrays, read in place as row-major `DArrayView`s: a row is a slice.
    Ndarray,
    /// nalgebra's, but the matrices a blocked product reads copied row-major into the workspace
    /// first, then read as ndarray's are (one pass over each, where the product would otherwise
    /// compute a dot product per element); as [`Fed::Nalgebra`] if none is, or in chunks of rows.
    Copied,
}

/// Whether a shape's only `None` dimension is its first (a batch of run-time size): the shapes of
/// rank 3 and 4 a fetch fed with run-time sizes takes and returns (`DArray`, row-major).
fn one_batch_dim(shape: &[Dim]) -> bool {
    matches!(shape.first(), Some(Dim::Sym(_))) && shape[1..].iter().all(|d| matches!(d, Dim::Known(_)))
}
