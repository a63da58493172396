//! The graph IR: what [`crate::resolve`] builds from the syntax tree and every later phase reads
//! and rewrites (inference fills in types, autodiff adds nodes, optimisation folds and merges
//! them, emission prints them). Nodes live in one vector and refer to each other by index.

use crate::error::Loc;
use crate::ops::{self, Rules};
use proc_macro2::Ident;
use std::fmt;
use syn::{Attribute, Visibility};

/// A node's index in [`Graph::nodes`].
pub type NodeId = usize;

/// The element types a graph supports, as TensorFlow names them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DType {
    Float32,
    Float64,
    Int32,
    Int64,
    UInt8,
    Int8,
    Bool,
}

impl DType {
    pub const ALL: [DType; 7] =
        [DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt8, DType::Int8, DType::Bool];

    /// TensorFlow's name: `float32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::UInt8 => "uint8",
            DType::Int8 => "int8",
            DType::Bool => "bool",
        }
    }

    /// The Rust element type: `f32`.
    pub fn rust(self) -> &'static str {
        match self {
            DType::Float32 => "f32",
            DType::Float64 => "f64",
            DType::Int32 => "i32",
            DType::Int64 => "i64",
            DType::UInt8 => "u8",
            DType::Int8 => "i8",
            DType::Bool => "bool",
        }
    }

    /// The dtype TensorFlow means by `tf.NAME` or by the string `"NAME"`.
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "float32" | "float" => DType::Float32,
            "float64" | "double" => DType::Float64,
            "int32" => DType::Int32,
            "int64" => DType::Int64,
            "uint8" => DType::UInt8,
            "int8" => DType::Int8,
            "bool" => DType::Bool,
            _ => return None,
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    pub fn is_integer(self) -> bool {
        matches!(self, DType::Int32 | DType::Int64 | DType::UInt8 | DType::Int8)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One dimension of a shape: a number, or a `None` dimension (a symbol, shared by every
/// dimension inference proved equal to it), which becomes a const generic of the fetch types.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Dim {
    Known(usize),
    Sym(usize),
}

/// A shape of rank 0, 1 or 2, outermost dimension first (TensorFlow's order).
pub type Shape = Vec<Dim>;

/// The type of a tensor-valued node.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TensorType {
    pub dtype: DType,
    pub shape: Shape,
}

impl TensorType {
    pub fn scalar(dtype: DType) -> TensorType {
        TensorType { dtype, shape: Vec::new() }
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }
}

/// The type of a node's value.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Type {
    Tensor(TensorType),
    /// `tf.group`, the initializer, an optimiser's step: run for their effect, returning `()`.
    Unit,
    /// `tf.gradients`: one tensor per `x`.
    Tuple(Vec<TensorType>),
}

impl Type {
    pub fn tensor(&self) -> Option<&TensorType> {
        match self {
            Type::Tensor(t) => Some(t),
            _ => None,
        }
    }
}

/// A number as Python holds it before TensorFlow converts it: weakly typed until it meets a
/// tensor.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Number {
    Int(i128),
    Float(f64),
    Bool(bool),
}

/// One element of a constant of known dtype: floats as `f64` (a `float32` element holds a value
/// `f32` represents exactly), integers as `i64`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Scalar {
    F(f64),
    I(i64),
    B(bool),
}

/// The elements of a constant, row-major.
#[derive(Clone, PartialEq, Debug)]
pub enum Data {
    /// Every element equal: `tf.zeros`, `tf.ones`, a scalar.
    Splat(Scalar),
    Dense(Vec<Scalar>),
}

/// A dimension as a placeholder declares it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DimSpec {
    Known(usize),
    None,
}

pub use crate::ops::binary::Binary;
pub use crate::ops::compare::Compare;
pub use crate::ops::unary::Unary;

/// What an assignment does to its variable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AssignKind {
    Set,
    Add,
    Sub,
}

/// Where a variable lives in the session.
#[derive(Clone, PartialEq, Debug)]
pub enum Storage {
    /// A variable of the graph: a public field of `Variables`, named as in the graph.
    User,
    /// An optimiser's state (a velocity, a moment, a step count): a private field of the session.
    Slot(String),
}

/// A `tf.Variable`.
#[derive(Clone, PartialEq, Debug)]
pub struct Variable {
    /// The node computing the initial value, which needs no placeholder and no variable.
    pub init: NodeId,
    pub trainable: bool,
    pub storage: Storage,
}

/// The optimisers of `tf.train`, with their hyper-parameters other than the learning rate.
#[derive(Clone, PartialEq, Debug)]
pub enum OptimizerKind {
    GradientDescent,
    Momentum { use_nesterov: bool },
    Adam { beta1: f64, beta2: f64, epsilon: f64 },
}

/// `tf.train.XOptimizer(...)`: one value per call, so that two `minimize` of one optimiser share
/// its state as in TensorFlow.
#[derive(Clone, PartialEq, Debug)]
pub struct Optimizer {
    pub id: usize,
    pub kind: OptimizerKind,
}

/// What a node computes. The inputs are in [`Node::inputs`], in the order each variant states.
#[derive(Clone, PartialEq, Debug)]
pub enum Op {
    /// An expression that failed to resolve; an error was reported. Its type stays unknown and
    /// nothing that uses it reports again.
    Poison,
    /// A Python number inside an expression; it takes the dtype of the tensor it meets.
    Literal(Number),
    /// `tf.constant`, `tf.zeros`, `tf.ones`, and what folding computed.
    Const {
        dtype: DType,
        shape: Vec<usize>,
        data: Data,
    },
    /// `tf.placeholder`: a feed. `shape` is `None` when the graph leaves it to inference.
    Placeholder {
        dtype: DType,
        shape: Option<Vec<DimSpec>>,
    },
    /// `tf.Variable`. No inputs: the initial value is in [`Variable::init`].
    Variable(Variable),
    /// `tf.random_uniform`, only as (part of) a variable's initial value.
    RandomUniform {
        dtype: DType,
        shape: Vec<usize>,
        lo: Number,
        hi: Number,
    },
    /// An elementwise function. Inputs: `[x]`.
    Unary(Unary),
    /// Elementwise arithmetic, broadcasting. Inputs: `[x, y]`.
    Binary(Binary),
    /// An elementwise comparison, broadcasting. Inputs: `[x, y]`.
    Compare(Compare),
    Where(ops::select::Where),
    Cast(ops::cast::Cast),
    MatMul(ops::matmul::MatMul),
    Transpose(ops::transpose::Transpose),
    Reduce(ops::reduce::Reduce),
    OneHot(ops::one_hot::OneHot),
    Softmax(ops::softmax::Softmax),
    /// Made by autodiff.
    BroadcastTo(ops::shape::BroadcastTo),
    /// Made by autodiff.
    Reshape(ops::shape::Reshape),
    /// Made by autodiff.
    Count(ops::shape::Count),
    /// `tf.identity` and `tf.stop_gradient`.
    Identity(ops::identity::Identity),
    /// `tf.nn.conv2d`, `tf.nn.depthwise_conv2d` and their gradients.
    Conv(ops::conv::Conv),
    /// `tf.nn.max_pool`, `tf.nn.avg_pool` and their gradients.
    Pool(ops::pool::Pool),
    /// `tf.nn.bias_add`.
    BiasAdd(ops::bias_add::BiasAdd),
    /// `tf.reshape`, `tf.squeeze`, `tf.expand_dims`.
    ReshapeTo(ops::reshape::ReshapeTo),
    /// `tf.concat`, and the pieces of its gradient.
    Concat(ops::concat::Concat),
    /// `tf.pad`, and the slice of its gradient.
    Pad(ops::pad::Pad),
    /// A layer of a quantised TensorFlow Lite model (`tflite.load`).
    Int8(Box<ops::int8::Int8>),
    /// `var.assign(value)` and friends. Inputs: `[variable, value]`.
    Assign(AssignKind),
    /// `tf.group(...)`. Inputs: what it groups.
    Group,
    /// `tf.global_variables_initializer()`. No inputs: it re-initialises every variable.
    Init,
    /// `tf.gradients(ys, [xs])`; autodiff replaces it with a [`Op::Tuple`]. Inputs: `[ys, xs...]`.
    Gradients,
    /// `opt.minimize(loss)`; autodiff replaces it with a group of assignments. Inputs:
    /// `[loss, learning_rate, momentum?, variables...]` (the variables given by `var_list`, or
    /// none for every trainable float variable `loss` depends on).
    Minimize {
        optimizer: Optimizer,
        hyper: usize,
        var_list: bool,
    },
    /// The value of several tensors at once. Inputs: the tensors.
    Tuple,
}

impl Op {
    /// The TensorFlow spelling of the op, for messages and the DOT graph.
    pub fn name(&self) -> String {
        match self {
            Op::Poison => "?".into(),
            Op::Literal(_) => "literal".into(),
            Op::Const { .. } => "tf.constant".into(),
            Op::Placeholder { .. } => "tf.placeholder".into(),
            Op::Variable(_) => "tf.Variable".into(),
            Op::RandomUniform { .. } => "tf.random_uniform".into(),
            Op::Assign(AssignKind::Set) => "assign".into(),
            Op::Assign(AssignKind::Add) => "assign_add".into(),
            Op::Assign(AssignKind::Sub) => "assign_sub".into(),
            Op::Group => "tf.group".into(),
            Op::Init => "tf.global_variables_initializer".into(),
            Op::Gradients => "tf.gradients".into(),
            Op::Minimize { .. } => "minimize".into(),
            Op::Tuple => "tuple".into(),
            op => op.rules().map_or_else(|| "?".into(), |rules| rules.name()),
        }
    }

    /// The rules of a math op, in its home in [`crate::ops`]; `None` for the graph's structure
    /// (sources, variables, assignments, groups, gradients, optimisers).
    pub fn rules(&self) -> Option<&dyn Rules> {
        Some(match self {
            Op::Unary(op) => op,
            Op::Binary(op) => op,
            Op::Compare(op) => op,
            Op::Where(op) => op,
            Op::Cast(op) => op,
            Op::MatMul(op) => op,
            Op::Transpose(op) => op,
            Op::Reduce(op) => op,
            Op::OneHot(op) => op,
            Op::Softmax(op) => op,
            Op::BroadcastTo(op) => op,
            Op::Reshape(op) => op,
            Op::Count(op) => op,
            Op::Identity(op) => op,
            Op::Conv(op) => op,
            Op::Pool(op) => op,
            Op::BiasAdd(op) => op,
            Op::ReshapeTo(op) => op,
            Op::Concat(op) => op,
            Op::Pad(op) => op,
            Op::Int8(op) => &**op,
            _ => return None,
        })
    }

    /// Whether two nodes with this op and the same inputs compute the same value, so that one
    /// can stand for both.
    pub fn is_pure(&self) -> bool {
        !matches!(
            self,
            Op::Poison
                | Op::Placeholder { .. }
                | Op::Variable(_)
                | Op::RandomUniform { .. }
                | Op::Assign(_)
                | Op::Group
                | Op::Init
                | Op::Gradients
                | Op::Minimize { .. }
        )
    }
}

/// One node of the graph.
#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<NodeId>,
    /// Where each input is used in this node's expression (`Y` in `tf.one_hot(Y, 2)`), for errors
    /// about an operand.
    pub input_locs: Vec<Loc>,
    /// The whole expression the node came from.
    pub loc: Loc,
    /// The op's own tokens: `tf.add`, `+`.
    pub op_loc: Loc,
    /// The op as the user wrote it (`+`, `tf.add`, `tf.math.exp`), for messages.
    pub written: String,
    /// The `let` name bound to this node, if any.
    pub name: Option<Ident>,
    /// How messages describe the node when it has no name, if not by its op: a part of an op that
    /// is built from others, such as `rsqrt(variance + variance_epsilon)`.
    pub label: Option<String>,
    /// Filled by inference; `None` when an error made it unknown.
    pub ty: Option<Type>,
}

/// A `const` item of the block.
pub struct ConstItem {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub ty: syn::Type,
    pub value_tokens: syn::Expr,
    pub kind: ConstKind,
    pub value: Number,
}

/// The Rust type of a `const` item.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConstKind {
    /// `usize`: a dimension, or a weakly typed integer in an expression.
    Usize,
    /// `f32`, `i32`...: a scalar tensor of that dtype.
    Typed(DType),
}

/// A named node: it gets a fetch type.
pub struct Fetch {
    pub name: Ident,
    pub node: NodeId,
    pub attrs: Vec<Attribute>,
    /// The placeholders the node reads in the graph as written (before gradients and
    /// optimisation), in graph order: the fields of its fetch type, so that what a user feeds
    /// depends on their graph alone, not on what the optimiser finds. Set after inference.
    pub feeds: Vec<NodeId>,
}

/// The union-find of `None` dimensions: inference merges two when it proves them equal and
/// binds one to a number when it meets one.
#[derive(Default)]
pub struct Syms {
    parent: Vec<usize>,
    value: Vec<Option<usize>>,
}

impl Syms {
    pub fn fresh(&mut self) -> Dim {
        self.parent.push(self.parent.len());
        self.value.push(None);
        Dim::Sym(self.parent.len() - 1)
    }

    fn root(&self, mut s: usize) -> usize {
        while self.parent[s] != s {
            s = self.parent[s];
        }
        s
    }

    /// The dimension as it is now known: a number, or the representative of its symbol.
    pub fn get(&self, d: Dim) -> Dim {
        match d {
            Dim::Known(_) => d,
            Dim::Sym(s) => {
                let r = self.root(s);
                match self.value[r] {
                    Some(n) => Dim::Known(n),
                    None => Dim::Sym(r),
                }
            }
        }
    }

    pub fn shape(&self, shape: &[Dim]) -> Shape {
        shape.iter().map(|d| self.get(*d)).collect()
    }

    /// Records that `a` and `b` are equal; `Err` with both as known if they cannot be.
    pub fn unify(&mut self, a: Dim, b: Dim) -> Result<Dim, (Dim, Dim)> {
        match (self.get(a), self.get(b)) {
            (Dim::Known(x), Dim::Known(y)) if x == y => Ok(Dim::Known(x)),
            (Dim::Known(_), Dim::Known(_)) => Err((self.get(a), self.get(b))),
            (Dim::Known(x), Dim::Sym(s)) | (Dim::Sym(s), Dim::Known(x)) => {
                self.value[s] = Some(x);
                Ok(Dim::Known(x))
            }
            (Dim::Sym(s), Dim::Sym(t)) => {
                if s != t {
                    self.parent[t] = s;
                }
                Ok(Dim::Sym(s))
            }
        }
    }
}

/// The whole graph of one `graph!` block.
pub struct Graph {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub consts: Vec<ConstItem>,
    pub nodes: Vec<Node>,
    pub fetches: Vec<Fetch>,
    pub syms: Syms,
    /// The files the graph read its arrays from (`np.load`), absolute.
    pub files: Vec<std::path::PathBuf>,
}

impl Graph {
    /// Whether computing `nodes` writes variable `v`: one of them assigns it, or initialises
    /// every variable.
    pub fn writes_variable(&self, nodes: &[NodeId], v: NodeId) -> bool {
        nodes.iter().any(|&id| match self.nodes[id].op {
            Op::Assign(_) => self.nodes[id].inputs[0] == v,
            Op::Init => true,
            _ => false,
        })
    }

    /// Appends a node and returns its id.
    pub fn add(&mut self, op: Op, inputs: Vec<NodeId>, loc: Loc, op_loc: Loc) -> NodeId {
        let written = op.name();
        let input_locs = inputs.iter().map(|&i| self.nodes[i].loc).collect();
        self.nodes.push(Node { op, inputs, input_locs, loc, op_loc, written, name: None, label: None, ty: None });
        self.nodes.len() - 1
    }

    /// The tensor type of a node that has one.
    pub fn tensor(&self, id: NodeId) -> Option<&TensorType> {
        self.nodes[id].ty.as_ref().and_then(Type::tensor)
    }

    /// A short description of a node for messages: `` `hidden_layer` `` or `` `tf.add` ``.
    pub fn describe(&self, id: NodeId) -> String {
        let node = &self.nodes[id];
        match (&node.name, &node.label) {
            (Some(name), _) => format!("`{name}`"),
            (None, Some(label)) => format!("`{label}`"),
            (None, None) => format!("`{}`", node.op.name()),
        }
    }

    /// Every variable node, user variables first in declaration order, then optimiser slots.
    pub fn variables(&self) -> Vec<NodeId> {
        let mut user = Vec::new();
        let mut slots = Vec::new();
        for (id, node) in self.nodes.iter().enumerate() {
            if let Op::Variable(v) = &node.op {
                match v.storage {
                    Storage::User => user.push(id),
                    Storage::Slot(_) => slots.push(id),
                }
            }
        }
        user.extend(slots);
        user
    }

    /// The named placeholders `root` reads, in graph order.
    pub fn placeholders(&self, root: NodeId) -> Vec<NodeId> {
        let mut found: Vec<NodeId> = self
            .topo_order(&[root])
            .into_iter()
            .filter(|&id| matches!(self.nodes[id].op, Op::Placeholder { .. }) && self.nodes[id].name.is_some())
            .collect();
        found.sort_unstable();
        found
    }

    /// The ids of every node `roots` reads, transitively, in an order where each node follows
    /// its inputs. A variable's initial value is not read by reading the variable.
    pub fn topo_order(&self, roots: &[NodeId]) -> Vec<NodeId> {
        self.topo_order_until(roots, &[])
    }

    /// [`Graph::topo_order`], with the nodes of `stop` in it but not their inputs.
    pub fn topo_order_until(&self, roots: &[NodeId], stop: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut order = Vec::new();
        for &root in roots {
            let mut stack = vec![(root, 0usize)];
            if seen[root] {
                continue;
            }
            seen[root] = true;
            while let Some((id, next)) = stack.pop() {
                let inputs: &[NodeId] = if stop.contains(&id) { &[] } else { &self.nodes[id].inputs };
                if let Some(&input) = inputs.get(next) {
                    stack.push((id, next + 1));
                    if !seen[input] {
                        seen[input] = true;
                        stack.push((input, 0));
                    }
                } else {
                    order.push(id);
                }
            }
        }
        order
    }
}

/// Shapes print as TensorFlow's Python prints them, a `None` dimension as `None`.
pub struct ShapeDisplay<'a>(pub &'a [Dim]);

/// A shape in generated documentation: as [`ShapeDisplay`] prints it, in code quotes, so that
/// rustdoc does not read `[None]` as a link to `Option::None`.
pub struct ShapeDoc<'a>(pub &'a [Dim]);

impl fmt::Display for ShapeDoc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "`{}`", ShapeDisplay(self.0))
    }
}

impl fmt::Display for ShapeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match d {
                Dim::Known(n) => write!(f, "{n}")?,
                Dim::Sym(_) => f.write_str("None")?,
            }
        }
        f.write_str("]")
    }
}
