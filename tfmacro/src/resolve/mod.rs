//! Phase 2, resolve: the syntax tree to the graph IR.
//!
//! Names are looked up (an unknown name, a name defined twice and a use before the definition are
//! reported here), `tf.` calls are matched to ops and their arguments bound as Python binds them
//! (positional or by keyword), constants' values and dimensions are read, and arithmetic between
//! Python numbers is folded as Python folds it before TensorFlow sees it (`-0.5`, `2 * 3`). What a
//! node's dtype and shape are is left to [`crate::infer`]. An expression that cannot be resolved
//! becomes an [`Op::Poison`] node, so that the rest of the block is still checked.

use crate::ast::{self, Arg, BinOp, Expr, ExprKind, GraphDef, Item};
use crate::error::{nearest, with_help, Errors, Loc};
use crate::files::{Files, LoadError};
use crate::ir::{
    AssignKind, Binary, Compare, ConstItem, ConstKind, DType, Data, DimSpec, Fetch, Graph, NodeId, Number, Op,
    Optimizer, OptimizerKind, Scalar, Storage, Syms, Unary, Variable,
};
use crate::ops::{self, cast::Cast, identity::Identity};
use crate::values::convert_number;
use proc_macro2::Ident;
use std::collections::HashMap;

mod args;
mod files;
mod numbers;
mod optimisers;
mod sources;

pub use args::arg_locs;
use args::*;
use files::*;
use numbers::*;
pub use numbers::{default_constant, default_dtype};
use sources::*;

/// Builds the graph of `def`, reporting what cannot be resolved to `errors`.
pub fn resolve(def: GraphDef, errors: &mut Errors) -> Graph {
    let graph = Graph {
        attrs: def.attrs,
        vis: def.vis,
        name: def.name,
        consts: Vec::new(),
        nodes: Vec::new(),
        fetches: Vec::new(),
        syms: Syms::default(),
        files: Vec::new(),
    };
    let mut declared = HashMap::new();
    let broken = def.broken;
    for (index, item) in def.items.iter().enumerate() {
        let name = match item {
            Item::Const(c) => &c.name,
            Item::Let(l) => &l.name,
        };
        declared.entry(name.to_string()).or_insert(index);
    }
    let mut resolver = Resolver {
        graph,
        scope: HashMap::new(),
        declared,
        statement: 0,
        errors,
        optimizers: 0,
        in_init: false,
        must_be_named: Vec::new(),
        files: Files::default(),
    };
    for name in broken {
        let loc = Loc::span(name.span());
        let poison = resolver.poison(loc);
        resolver.scope.entry(name.to_string()).or_insert(Binding::Node(poison));
    }
    for (index, item) in def.items.into_iter().enumerate() {
        resolver.statement = index;
        match item {
            Item::Const(item) => resolver.const_item(*item),
            Item::Let(item) => resolver.let_item(item),
        }
    }
    resolver.graph.files = resolver.files.paths();
    resolver.graph
}

/// Names the generated module defines itself, which a graph cannot also define.
pub const RESERVED: &[&str] = &["tf", "Session", "Variables", "GRAPH_DOT", "feeds", "None", "True", "False"];

/// What a name in scope stands for.
#[derive(Clone)]
enum Binding {
    Node(NodeId),
    Const(usize),
    Optimizer(OptimizerValue),
    /// `let w = np.load("weights.npz");`: a NumPy archive, whose arrays `w["key"]` reads.
    Archive(Archive),
}

/// A NumPy archive bound to a name: its path, as written, and where.
#[derive(Clone)]
struct Archive {
    file: String,
    loc: Loc,
}

/// An optimiser and the nodes of its hyper-parameters (learning rate, then momentum if any).
#[derive(Clone)]
struct OptimizerValue {
    optimizer: Optimizer,
    hyper: Vec<NodeId>,
}

/// The resolver's state; the ops' `resolve` functions build their nodes through it.
pub struct Resolver<'e> {
    pub graph: Graph,
    scope: HashMap<String, Binding>,
    /// Where each name of the block is first defined, to tell "used before its definition" from
    /// "unknown".
    declared: HashMap<String, usize>,
    statement: usize,
    pub errors: &'e mut Errors,
    optimizers: usize,
    /// Lowering a variable's initial value, where `tf.random_uniform` is allowed.
    in_init: bool,
    /// Variables and placeholders made by the current statement: each must be its `let`'s value.
    must_be_named: Vec<NodeId>,
    /// The NumPy files and ONNX models read so far.
    pub files: Files,
}

/// The arguments of a call, bound to its parameters.
pub type Bound<'a> = Vec<Option<&'a Expr>>;

/// A constant's shape and its elements, row-major, each with where it was written.
type ConstantValue = (Vec<usize>, Vec<(Number, Loc)>);

impl Resolver<'_> {
    /// Records where `node`'s inputs are used: `locs[k]` for input `k`.
    pub fn used_at(&mut self, node: NodeId, locs: &[Loc]) -> NodeId {
        let inputs = &mut self.graph.nodes[node].input_locs;
        for (slot, loc) in inputs.iter_mut().zip(locs) {
            *slot = *loc;
        }
        node
    }

    pub fn poison(&mut self, loc: Loc) -> NodeId {
        self.graph.add(Op::Poison, Vec::new(), loc, loc)
    }

    pub fn error(&mut self, loc: Loc, message: impl std::fmt::Display) -> NodeId {
        self.errors.at(loc, message);
        self.poison(loc)
    }

    // A name is defined once, and not as one of the names the generated module uses.
    //   let Session = ...;  // error: `Session` is reserved
    //   let a = 1; let a = 2;  // error: `a` is defined twice
    /// Names node `id` `name` in the graph and its scope: what an import makes (an ONNX model's
    /// placeholder or variable) that the block can then use by name.
    pub fn define(&mut self, name: Ident, id: NodeId) {
        self.scope.insert(name.to_string(), Binding::Node(id));
        self.graph.nodes[id].name = Some(name);
    }

    fn check_new_name(&mut self, name: &Ident) -> bool {
        let text = name.to_string();
        if RESERVED.contains(&text.as_str()) || text.starts_with("__") {
            self.errors.at(
                Loc::span(name.span()),
                format_args!("`{text}` is reserved: the generated module uses it; pick another name"),
            );
            return false;
        }
        if self.scope.contains_key(&text) || self.declared.get(&text).is_some_and(|&first| first < self.statement) {
            self.errors.at(Loc::span(name.span()), format_args!("`{text}` is defined twice in this graph"));
            return false;
        }
        true
    }

    fn let_item(&mut self, item: ast::LetItem) {
        for attr in &item.attrs {
            if !attr.path().is_ident("doc") {
                self.errors.at(Loc::of(attr), "only doc comments can be put on a graph's `let`");
            }
        }
        if let Some(optimizer) = self.try_optimizer(&item.value) {
            if let Some(optimizer) = optimizer {
                if self.check_new_name(&item.name) {
                    self.scope.insert(item.name.to_string(), Binding::Optimizer(optimizer));
                }
            }
            return;
        }
        if let Some(archive) = self.archive(&item.value) {
            if self.check_new_name(&item.name) {
                self.scope.insert(item.name.to_string(), Binding::Archive(archive));
            }
            return;
        }
        let reused = matches!(item.value.kind, ExprKind::Name(_));
        let mut node = self.lower(&item.value);
        for made in std::mem::take(&mut self.must_be_named) {
            if made != node {
                let what = self.graph.nodes[made].op.name();
                self.errors.at(
                    self.graph.nodes[made].op_loc,
                    format_args!("a `{what}` must be the whole value of a `let`, as in `let w = {what}(...)`, so that it has a name"),
                );
            }
        }
        if let Op::Literal(number) = self.graph.nodes[node].op {
            // `let two = 2;` is `tf.constant(2)`: a named number is a tensor of TensorFlow's
            // default dtype for it.
            let loc = self.graph.nodes[node].loc;
            self.graph.nodes[node].op = match default_constant(number) {
                Some(op) => op,
                None => {
                    self.errors.at(loc, "integer literal out of range for `int64`");
                    Op::Poison
                }
            };
        } else if reused || self.graph.nodes[node].name.is_some() {
            let loc = self.graph.nodes[node].loc;
            node = self.graph.add(Op::Identity(Identity { stop_gradient: false }), vec![node], loc, loc);
        }
        if !self.check_new_name(&item.name) {
            return;
        }
        self.graph.nodes[node].name = Some(item.name.clone());
        self.scope.insert(item.name.to_string(), Binding::Node(node));
        self.graph.fetches.push(Fetch { name: item.name, node, attrs: item.attrs, feeds: Vec::new() });
    }

    // A name refers to a node or const defined earlier in the block.
    //   let y = x + 1;  // error: cannot find `x`
    fn lookup(&mut self, name: &Ident) -> Option<Binding> {
        let text = name.to_string();
        if let Some(binding) = self.scope.get(&text) {
            return Some(binding.clone());
        }
        let loc = Loc::span(name.span());
        match self.declared.get(&text) {
            Some(&defined) if defined >= self.statement => {
                self.errors.at(
                    loc,
                    format_args!("`{text}` is used before its definition: a graph's nodes are defined in order"),
                );
            }
            _ => {
                // In the order of definition, so that of two names equally near, the first defined
                // is suggested (the scope's own order changes from one compile to the next).
                let mut names: Vec<&str> = self.scope.keys().map(String::as_str).collect();
                names.sort_by_key(|n| (self.declared.get(*n).copied().unwrap_or(usize::MAX), *n));
                let help = nearest(&text, names).map(|n| format!("did you mean `{n}`?"));
                let message = with_help(format_args!("cannot find `{text}` in this graph"), help);
                self.errors.at(loc, message);
            }
        }
        None
    }

    /// The node computing `expr`.
    pub fn lower(&mut self, expr: &Expr) -> NodeId {
        let loc = expr.loc;
        match &expr.kind {
            ExprKind::Name(name) => match name.to_string().as_str() {
                "None" => self.error(loc, "`None` only stands for an unknown dimension in a placeholder's shape"),
                "True" => self.graph.add(bool_const(true), Vec::new(), loc, loc),
                "False" => self.graph.add(bool_const(false), Vec::new(), loc, loc),
                _ => match self.lookup(name) {
                    Some(Binding::Node(id)) => id,
                    Some(Binding::Const(k)) => self.const_node(k, loc),
                    Some(Binding::Optimizer(_)) => self.error(
                        loc,
                        format_args!("`{name}` is an optimiser, not a tensor: run `{name}.minimize(loss)`"),
                    ),
                    Some(Binding::Archive(_)) => self.error(
                        loc,
                        format_args!("`{name}` is a NumPy archive, not a tensor: read one of its arrays, as in `{name}[\"key\"]`"),
                    ),
                    None => self.poison(loc),
                },
            },
            ExprKind::Path(path) => {
                let text = ast::path_string(path);
                if path.len() == 2 && path[0] == "tf" && DType::from_name(&path[1].to_string()).is_some() {
                    self.error(loc, format_args!("`{text}` is a dtype, not a tensor"))
                } else {
                    self.error(loc, format_args!("`{text}` is not a tensor: call an op, as in `tf.exp(x)`"))
                }
            }
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => self.literal_node(expr),
            ExprKind::Str(_) => self.error(loc, "a string is not a tensor"),
            ExprKind::List(_) => self.error(loc, "a list is not a tensor here: write `tf.constant([...])`"),
            ExprKind::Neg { .. } | ExprKind::Binary { .. } if self.literal(expr).is_some() => self.literal_node(expr),
            ExprKind::Neg { op, expr } => {
                let x = self.lower(expr);
                let node = self.graph.add(Op::Unary(Unary::Neg), vec![x], loc, *op);
                self.used_at(node, &[expr.loc]);
                self.graph.nodes[node].written = "-".into();
                node
            }
            ExprKind::Binary { op, op_loc, lhs, rhs } => {
                let a = self.lower(lhs);
                let b = self.lower(rhs);
                let node = self.graph.add(binary_op(*op), vec![a, b], loc, *op_loc);
                self.used_at(node, &[lhs.loc, rhs.loc]);
                self.graph.nodes[node].written = op.symbol().into();
                node
            }
            ExprKind::Call { .. } if np_load(expr).is_some() => self.load(expr, None, loc),
            ExprKind::Call { .. } if onnx_load(expr).is_some() => crate::onnx::import::load(self, expr, None, loc),
            ExprKind::Call { .. } if tflite_load(expr).is_some() => crate::tflite::import::load(self, expr, None, loc),
            ExprKind::Call { path, path_loc, args } => {
                if path.len() >= 2 && path[0] == "tf" {
                    let name = ast::path_string(&path[1..]);
                    let before = self.graph.nodes.len();
                    let node = self.tf_call(&name, args, loc, *path_loc);
                    if node >= before {
                        self.graph.nodes[node].written = format!("tf.{name}");
                    }
                    return node;
                }
                if path.len() == 2 {
                    return match self.lookup(&path[0]) {
                        Some(Binding::Node(id)) => self.node_method(id, &path[0], &path[1], args, loc, *path_loc),
                        Some(Binding::Optimizer(opt)) => self.optimizer_method(opt, &path[1], args, loc),
                        Some(Binding::Const(_)) => self.error(
                            *path_loc,
                            format_args!("`{}` is a `const`, which has no method `{}`", path[0], path[1]),
                        ),
                        Some(Binding::Archive(_)) => self.error(
                            *path_loc,
                            format_args!("`{}` is a NumPy archive, which has no method `{}`: read one of its arrays, as in `{}[\"key\"]`", path[0], path[1], path[0]),
                        ),
                        None => self.poison(loc),
                    };
                }
                let text = ast::path_string(path);
                self.error(*path_loc, format_args!("cannot find function `{text}`: a graph calls `tf.` ops"))
            }
            ExprKind::Index { base, index, .. } if self.archive_named(base).is_some() => {
                match self.archive_named(base).and_then(|name| self.lookup(name)) {
                    Some(Binding::Archive(archive)) => self.load_array(&archive.file, archive.loc, Some(index), loc),
                    _ => self.poison(loc),
                }
            }
            ExprKind::Index { base, index, bracket } => match (np_load(base), onnx_load(base), tflite_load(base)) {
                (Some(file), _, _) => self.load(file, Some(index), loc),
                (_, Some(model), _) => crate::onnx::import::load(self, model, Some(index), loc),
                (_, _, Some(model)) => crate::tflite::import::load(self, model, Some(index), loc),
                _ => self.error(*bracket, "indexing is not supported in a graph, except a NumPy archive's array (`w[\"key\"]` after `let w = np.load(\"weights.npz\")`, or `np.load(\"weights.npz\")[\"key\"]`) and a model's value (`onnx.load(\"model.onnx\", x = x)[\"output\"]`, `tflite.load(...)[\"name\"]`)"),
            },
            ExprKind::Method { receiver, method, args } => match self.try_optimizer(receiver) {
                Some(Some(opt)) => self.optimizer_method(opt, method, args, loc),
                Some(None) => self.poison(loc),
                None => {
                    let node = self.lower(receiver);
                    self.node_method(node, method, method, args, loc, Loc::span(method.span()))
                }
            },
        }
    }
}

/// The largest rank a tensor may have: 4, for NHWC images and convolution filters.
pub const MAX_RANK: usize = 4;

pub fn rank_error(rank: usize) -> String {
    format!("rank-{rank} shapes are not supported: a graph's tensors have rank 0 to {MAX_RANK}")
}

fn binary_op(op: BinOp) -> Op {
    match op {
        BinOp::Add => Op::Binary(Binary::Add),
        BinOp::Sub => Op::Binary(Binary::Sub),
        BinOp::Mul => Op::Binary(Binary::Mul),
        BinOp::Div => Op::Binary(Binary::Div),
        BinOp::Gt => Op::Compare(Compare::Gt),
        BinOp::Lt => Op::Compare(Compare::Lt),
        BinOp::Ge => Op::Compare(Compare::Ge),
        BinOp::Le => Op::Compare(Compare::Le),
        BinOp::Eq => Op::Compare(Compare::Eq),
        BinOp::Ne => Op::Compare(Compare::Ne),
    }
}
