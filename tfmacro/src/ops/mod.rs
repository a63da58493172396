//! The ops, one home each: every math op (or family of ops) of the language is a module here that
//! holds all the compiler knows about it, in the spirit of JAX's `lax` primitives or TensorFlow's
//! registered ops with their gradients:
//!
//! - its spellings and how its arguments bind (`resolve`, called by [`crate::resolve`]);
//! - its dtype and shape rule, with its error messages ([`Rules::infer`], called by
//!   [`crate::infer`]);
//! - its gradient ([`Rules::gradient`], called by [`crate::autodiff`]);
//! - its folding and simplification ([`Rules::fold`], [`Rules::simplify`], called by
//!   [`crate::optimise`]);
//! - its emission ([`Rules::element`] or [`Rules::materialise`], and how it reads its inputs,
//!   called by [`crate::emit`]).
//!
//! The phases know the graph's structure (sources, variables, assignments, groups, gradients and
//! optimisers) and dispatch every math op here through [`crate::ir::Op::rules`]. Adding an
//! elementwise function is a variant and its arms in [`unary::Unary`] (or [`binary::Binary`]);
//! adding another op is a module here, a variant of [`crate::ir::Op`], and its line in
//! [`resolve`] and in `Op::rules`. An op that TensorFlow itself defines from other ops
//! ([`batch_norm`], [`log_softmax`]) is a module that builds those ops' nodes.

pub mod batch_norm;
pub mod bias_add;
pub mod binary;
pub mod cast;
pub mod compare;
pub mod concat;
pub mod conv;
pub mod identity;
pub mod int8;
pub mod log_softmax;
pub mod matmul;
pub mod one_hot;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod reshape;
pub mod select;
pub mod shape;
pub mod sigmoid_cross_entropy;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub mod window;

use crate::ast::Arg;
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::emit::plan::Plan;
use crate::error::Loc;
use crate::eval::Tensor;
use crate::infer::{Pass, Ty};
use crate::ir::{DType, Data, Dim, Graph, NodeId, Op, Scalar};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;

/// What the compiler knows about a math op. The phases call these; each op implements them in
/// its module.
pub trait Rules {
    /// The TensorFlow spelling of the op (`tf.matmul`), for messages and the DOT graph.
    fn name(&self) -> String;

    /// The dtype and shape of node `id` (whose op this is) from its inputs' types, reporting what
    /// does not fit to the pass's errors on the user's tokens.
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty;

    /// Whether gradients flow into input `k`.
    fn differentiable(&self, _k: usize) -> bool {
        true
    }

    /// The adjoint node `id` sends to its input `k`, given its own adjoint `g`, built from ordinary
    /// nodes (following TensorFlow's gradient function for the op); `None` sends nothing.
    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId>;

    /// The elements of the result on constant inputs, computed exactly as the emitted code
    /// computes them (so that folding never changes a bit); `None` leaves it to run time.
    fn fold(&self, _inputs: &[Tensor], _dtype: DType, _shape: &[usize]) -> Option<Vec<Scalar>> {
        None
    }

    /// A node computing exactly the value of `id`, with less work: `x * 1` is `x`.
    fn simplify(&self, _graph: &Graph, _id: NodeId) -> Option<NodeId> {
        None
    }

    /// How the op reads its inputs, which decides what emission may compute inline.
    fn reads(&self) -> Reads {
        Reads::Elementwise
    }

    /// Whether an element costs about as much as reading one (a new index into an input, a cast),
    /// so that the op is computed wherever it is read rather than stored.
    fn cheap(&self) -> bool {
        false
    }

    /// The expression computing the element of node `id` at `idx` (one index per dimension).
    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream;

    /// The expression building node `id`'s whole value, for ops computed whole
    /// ([`Reads::Whole`]).
    fn materialise(&self, _cx: &Lower, _id: NodeId) -> Option<TokenStream> {
        None
    }

    /// Whether node `id` is computed whole at its size, by a kernel writing its storage (a slot
    /// or a buffer of either layout) through [`Rules::materialise`] and
    /// [`Rules::materialise_flat`], though the op reads its inputs element by element at other
    /// sizes: a large matrix product. Its inputs are then stored, never inlined.
    fn blocked(&self, _plan: &Plan, _id: NodeId) -> bool {
        false
    }

    /// Whether node `id` has a form computed whole into a flat slice ([`Rules::materialise_flat`]
    /// gives its code), as feeds of run-time size need of every op computed whole: a planning
    /// question, answered before any code is written.
    fn has_flat_form(&self, _plan: &Plan, _id: NodeId) -> bool {
        false
    }

    /// For ops computed whole, the statement writing node `id`'s elements in row-major order into
    /// `out`, a `&mut [T]` of exactly its size: how a tensor of run-time size is computed into the
    /// session's workspace. `None` if the op has no such form (the fetch then takes only
    /// statically sized feeds).
    fn materialise_flat(&self, _cx: &Lower, _id: NodeId, _out: &TokenStream) -> Option<TokenStream> {
        None
    }

    /// The input (its position in the node's inputs) that blocked node `id`'s kernel can write
    /// its result over, when that input is stored in a buffer, is of the result's size and is
    /// read by nothing after `id` (a convolution of stride 1, row by row: `int8::conv2d_over`).
    /// The planner then gives the result that buffer; [`Rules::materialise_flat`] finds
    /// [`Plan::written_over`] set and writes the kernel call that reads and writes the one buffer.
    ///
    /// [`Plan::written_over`]: crate::emit::plan::Plan::written_over
    fn writes_over_input(&self, _plan: &Plan, _id: NodeId) -> Option<usize> {
        None
    }

    /// Whether blocked node `id`'s kernel can apply elementwise ops to each output as it stores
    /// it ([`Rules::materialise_then`]): the planner then fuses into it the elementwise node its
    /// value flows into (`relu(x + conv(...) + b)`), which takes no buffer of its own.
    fn takes_epilogue(&self, _plan: &Plan, _id: NodeId) -> bool {
        false
    }

    /// For an op that [`Rules::takes_epilogue`], [`Rules::materialise_flat`]'s statement storing
    /// each output through `then`, a closure `|old, value, [i, j, k, l]| ...` of what `out` held
    /// at that index, the op's value there and its index.
    fn materialise_then(
        &self,
        _cx: &Lower,
        _id: NodeId,
        _out: &TokenStream,
        _then: &TokenStream,
    ) -> Option<TokenStream> {
        None
    }

    /// How node `id` follows the rows of its inputs (their first axis, a `None` dimension), which
    /// decides whether a fetch of run-time size runs in chunks of rows ([`crate::emit::chunks`]).
    /// Asked of nodes of a `None` dimension and of nodes reading one; the default, [`ByRows::No`],
    /// runs the fetch over all the rows at once.
    fn by_rows(&self, _graph: &Graph, _id: NodeId) -> ByRows {
        ByRows::No
    }

    /// For a node that [`ByRows::Sums`], the statement adding one chunk's terms of its element at
    /// `idx` to `acc`, a `tfcore::__private::Partial` (the chunk's rows are `0..N`), in the order
    /// [`Rules::element`] sums them: so the total has the bits of the fetch run at once.
    fn accumulate(&self, _cx: &Lower, _id: NodeId, _acc: &TokenStream, _idx: &[TokenStream]) -> Option<TokenStream> {
        None
    }

    /// Writes node `id` as ONNX nodes (opset 17) into `e`, its inputs already written
    /// ([`Export::input`]); the name of its value. `Err` says why it has no ONNX form (the
    /// gradient-only ops, which no inference graph holds).
    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let _ = (e, id);
        Err(format!("`{}` has no ONNX form", self.name()))
    }
}

/// How a node's value follows the rows of its inputs ([`Rules::by_rows`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ByRows {
    /// Its first axis is a `None` dimension, and its row `r` is a function of row `r` of each input
    /// of that dimension (and of inputs of none): an elementwise op, a product by a weight.
    Rows,
    /// It has no `None` dimension and is a sum over the rows of its inputs, whose terms
    /// [`Rules::accumulate`] adds a chunk at a time: a weight's gradient `Xᵀ · dZ`, a bias's.
    Sums,
    /// Neither (a softmax over the rows, a transpose): the fetch runs over all the rows at once.
    No,
}

/// The `None` dimension of a shape whose first axis, and no other, is one.
pub fn rows_of(shape: &[Dim]) -> Option<usize> {
    match shape.split_first() {
        Some((Dim::Sym(s), rest)) if rest.iter().all(|d| matches!(d, Dim::Known(_))) => Some(*s),
        _ => None,
    }
}

/// Whether a shape has a `None` dimension.
pub fn has_rows(shape: &[Dim]) -> bool {
    shape.iter().any(|d| matches!(d, Dim::Sym(_)))
}

/// [`Rules::by_rows`] for an op whose element reads its inputs at the same index (broadcast):
/// [`ByRows::Rows`] if its first axis is its one `None` dimension and each input either has that
/// first axis at its own rank or has no `None` dimension (a weight, a bias, a constant).
pub fn rows_elementwise(graph: &Graph, id: NodeId) -> ByRows {
    let Some(t) = graph.tensor(id) else { return ByRows::No };
    let Some(s) = rows_of(&t.shape) else { return ByRows::No };
    let fits = graph.nodes[id].inputs.iter().all(|&x| {
        graph.tensor(x).is_none_or(|x| !has_rows(&x.shape) || (x.rank() == t.rank() && rows_of(&x.shape) == Some(s)))
    });
    if fits {
        ByRows::Rows
    } else {
        ByRows::No
    }
}

/// How an op reads the elements of its inputs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reads {
    /// Element `i` of the result reads element `i` of each input (broadcast): an input of the
    /// result's shape is read once per element, so it can be computed inline.
    Elementwise,
    /// Every element of the input once, though not at the result's index (a reduction, a
    /// transpose): the input can be computed inline.
    Once,
    /// Elements of its inputs several times (a matrix product): inputs are stored first.
    Repeatedly,
    /// Its inputs whole, in memory; the op itself is computed whole by [`Rules::materialise`].
    Whole,
}

/// A `tf.NAME(...)` call being resolved.
pub struct Call<'a> {
    /// What follows `tf.`: `exp`, `nn.relu`, `math.exp`.
    pub name: &'a str,
    pub args: &'a [Arg],
    /// The whole call.
    pub loc: Loc,
    /// The op's path, `tf.exp`.
    pub op_loc: Loc,
}

impl Call<'_> {
    /// The op as messages name it: `tf.exp` (also for `tf.math.exp`).
    pub fn op(&self) -> String {
        format!("tf.{}", self.name.strip_prefix("math.").unwrap_or(self.name))
    }
}

/// The node of a math op's call, if one of the ops here has that name.
pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    unary::resolve(r, call)
        .or_else(|| identity::resolve(r, call))
        .or_else(|| binary::resolve(r, call))
        .or_else(|| compare::resolve(r, call))
        .or_else(|| matmul::resolve(r, call))
        .or_else(|| transpose::resolve(r, call))
        .or_else(|| select::resolve(r, call))
        .or_else(|| reduce::resolve(r, call))
        .or_else(|| one_hot::resolve(r, call))
        .or_else(|| softmax::resolve(r, call))
        .or_else(|| cast::resolve(r, call))
        .or_else(|| conv::resolve(r, call))
        .or_else(|| pool::resolve(r, call))
        .or_else(|| bias_add::resolve(r, call))
        .or_else(|| reshape::resolve(r, call))
        .or_else(|| concat::resolve(r, call))
        .or_else(|| pad::resolve(r, call))
        .or_else(|| batch_norm::resolve(r, call))
        .or_else(|| log_softmax::resolve(r, call))
        .or_else(|| sigmoid_cross_entropy::resolve(r, call))
}

/// The names of the ops here, for "did you mean" suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    [
        unary::NAMES,
        binary::NAMES,
        compare::NAMES,
        identity::NAMES,
        matmul::NAMES,
        transpose::NAMES,
        select::NAMES,
        reduce::NAMES,
        one_hot::NAMES,
        softmax::NAMES,
        cast::NAMES,
        conv::NAMES,
        pool::NAMES,
        bias_add::NAMES,
        reshape::NAMES,
        concat::NAMES,
        pad::NAMES,
        batch_norm::NAMES,
        log_softmax::NAMES,
        sigmoid_cross_entropy::NAMES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// A node of an op built from others (`tf.nn.log_softmax`, the sigmoid cross entropy), made for
/// `call`: messages name it as the call was written, with `label` saying which part it is.
pub fn part_of(r: &mut Resolver, call: &Call, op: Op, inputs: Vec<NodeId>, label: &str) -> NodeId {
    let id = r.graph.add(op, inputs, call.loc, call.op_loc);
    r.graph.nodes[id].written = call.op();
    r.graph.nodes[id].label = Some(label.into());
    id
}

/// A call of an op of one tensor argument named `param`: `tf.exp(x)`.
pub fn one_argument(r: &mut Resolver, call: &Call, op: Op, param: &str) -> NodeId {
    let Some(b) = r.bind(&call.op(), call.loc, call.args, &[param], 1) else { return r.poison(call.loc) };
    let x = r.lower_arg(b[0]);
    let node = r.graph.add(op, vec![x], call.loc, call.op_loc);
    r.used_at(node, &arg_locs(&b))
}

/// Whether node `other` has exactly the type of node `id`.
pub fn same_type(graph: &Graph, id: NodeId, other: NodeId) -> bool {
    graph.nodes[other].ty == graph.nodes[id].ty
}

/// Node `id`'s input, when it has exactly the type of `id` (a cast to the same dtype, a broadcast
/// to the same shape, an identity): the simplification of ops that then do nothing.
pub fn same_type_input(graph: &Graph, id: NodeId) -> Option<NodeId> {
    let x = graph.nodes[id].inputs[0];
    same_type(graph, id, x).then_some(x)
}

/// The value of a constant node whose elements are all equal.
pub fn splat(graph: &Graph, id: NodeId) -> Option<Scalar> {
    match &graph.nodes[id].op {
        Op::Const { data: Data::Splat(s), .. } => Some(*s),
        _ => None,
    }
}
