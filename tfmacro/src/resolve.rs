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
use proc_macro2::Ident;
use std::collections::HashMap;

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

    fn const_item(&mut self, item: ast::ConstItem) {
        let Some(kind) = const_kind(&item.ty) else {
            self.errors.at(
                Loc::of(&item.ty),
                "a graph `const` has type `usize` (a dimension), `f32`, `f64`, `i32`, `i64`, `u8` or `bool`",
            );
            return;
        };
        let Some(value) = self.const_value(&item.value, kind) else { return };
        if !self.check_new_name(&item.name) {
            return;
        }
        self.scope.insert(item.name.to_string(), Binding::Const(self.graph.consts.len()));
        self.graph.consts.push(ConstItem {
            attrs: item.attrs,
            name: item.name,
            ty: item.ty,
            value_tokens: item.value_tokens,
            kind,
            value,
        });
    }

    /// The value of a `const` item's expression, computed as Rust computes it for its type.
    fn const_value(&mut self, expr: &Expr, kind: ConstKind) -> Option<Number> {
        let value = match &expr.kind {
            ExprKind::Int(n) => match kind {
                ConstKind::Typed(d) if d.is_float() || d == DType::Bool => None,
                _ => Some(Number::Int(*n as i128)),
            },
            ExprKind::Float(x) => match kind {
                ConstKind::Typed(DType::Float32) => Some(Number::Float(*x as f32 as f64)),
                ConstKind::Typed(DType::Float64) => Some(Number::Float(*x)),
                _ => None,
            },
            ExprKind::Bool(b) => (kind == ConstKind::Typed(DType::Bool)).then_some(Number::Bool(*b)),
            ExprKind::Name(name) => match self.scope.get(&name.to_string()) {
                Some(Binding::Const(k)) if self.graph.consts[*k].kind == kind => Some(self.graph.consts[*k].value),
                _ => {
                    let message = format!("expected a number or an earlier `const` of the same type, found `{name}`");
                    self.errors.at(expr.loc, message);
                    return None;
                }
            },
            ExprKind::Neg { expr: inner, .. } => match self.const_value(inner, kind)? {
                Number::Int(n) if matches!(kind, ConstKind::Typed(DType::Int32 | DType::Int64)) => {
                    Some(Number::Int(-n))
                }
                Number::Float(x) => Some(Number::Float(-x)),
                _ => None,
            },
            ExprKind::Binary { op, op_loc, lhs, rhs } => {
                let a = self.const_value(lhs, kind)?;
                let b = self.const_value(rhs, kind)?;
                let result = match (a, b) {
                    (Number::Int(a), Number::Int(b)) => match op {
                        BinOp::Add => a.checked_add(b),
                        BinOp::Sub => a.checked_sub(b),
                        BinOp::Mul => a.checked_mul(b),
                        BinOp::Div => a.checked_div(b),
                        _ => None,
                    }
                    .map(Number::Int),
                    (Number::Float(a), Number::Float(b)) => {
                        let single = kind == ConstKind::Typed(DType::Float32);
                        let r = match (op, single) {
                            (BinOp::Add, true) => (a as f32 + b as f32) as f64,
                            (BinOp::Sub, true) => (a as f32 - b as f32) as f64,
                            (BinOp::Mul, true) => (a as f32 * b as f32) as f64,
                            (BinOp::Div, true) => (a as f32 / b as f32) as f64,
                            (BinOp::Add, false) => a + b,
                            (BinOp::Sub, false) => a - b,
                            (BinOp::Mul, false) => a * b,
                            (BinOp::Div, false) => a / b,
                            _ => f64::NAN,
                        };
                        r.is_finite().then_some(Number::Float(r))
                    }
                    _ => None,
                };
                if result.is_none() {
                    self.errors.at(*op_loc, format_args!("cannot compute `{}` in this `const`", op.symbol()));
                    return None;
                }
                result
            }
            _ => None,
        };
        let value = match value {
            Some(Number::Int(n)) if !const_fits(n, kind) => None,
            other => other,
        };
        if value.is_none() {
            let ty = match kind {
                ConstKind::Usize => "usize",
                ConstKind::Typed(d) => d.rust(),
            };
            self.errors.at(expr.loc, format_args!("expected a `{ty}` value"));
        }
        value
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
                        None => self.poison(loc),
                    };
                }
                let text = ast::path_string(path);
                self.error(*path_loc, format_args!("cannot find function `{text}`: a graph calls `tf.` ops"))
            }
            ExprKind::Index { base, index, bracket } => match (np_load(base), onnx_load(base)) {
                (Some(file), _) => self.load(file, Some(index), loc),
                (_, Some(model)) => crate::onnx::import::load(self, model, Some(index), loc),
                _ => self.error(*bracket, "indexing is not supported in a graph, except a NumPy archive's array (`np.load(\"weights.npz\")[\"key\"]`) and an ONNX model's value (`onnx.load(\"model.onnx\", x = x)[\"output\"]`)"),
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

    // `tf.constant(np.load(...)[...], dtype = ..., shape = ...)`: the array has that dtype and
    // shape (TensorFlow would convert and reshape; here a mismatch is more likely a mistake).
    //   tf.constant(np.load("w.npz")["fc0/kernel"], shape = [12, 64])  // error if it is [64, 12]
    fn loaded_constant(&mut self, value: &Expr, dtype: Option<(DType, Option<&Expr>)>, shape: Option<&Expr>) -> NodeId {
        let node = self.lower(value);
        let Op::Const { dtype: found, shape: found_shape, .. } = &self.graph.nodes[node].op else { return node };
        let (found, found_shape) = (*found, found_shape.clone());
        let what = self.graph.describe(node);
        if let Some((want, Some(at))) = dtype {
            if want != found {
                return self
                    .error(at.loc, format_args!("{what} is `{found}`, not `{want}`: convert it with `tf.cast`"));
            }
        }
        if let Some(given) = shape {
            let Some(dims) = self.shape(given, false) else { return self.poison(given.loc) };
            let dims: Vec<usize> = dims.iter().map(|d| if let DimSpec::Known(n) = d { *n } else { 0 }).collect();
            if dims != found_shape {
                let message = format!("{what} has shape {found_shape:?}, not {dims:?}: reshape it with `tf.reshape`");
                return self.error(given.loc, message);
            }
        }
        node
    }

    /// `np.load("file.npy")` (`key` `None`) or `np.load("file.npz")["key"]`: the file's array as a
    /// constant, read now. `call` is the `np.load(...)` call.
    fn load(&mut self, call: &Expr, key: Option<&Expr>, loc: Loc) -> NodeId {
        let ExprKind::Call { args, path_loc, .. } = &call.kind else { return self.poison(loc) };
        let Some(b) = self.bind("np.load", call.loc, args, &["file"], 1) else { return self.poison(loc) };
        let Some(Expr { kind: ExprKind::Str(file), loc: file_loc }) = b[0] else {
            let at = b[0].map_or(*path_loc, |e| e.loc);
            return self.error(at, "`np.load` takes the file's path as a string, relative to the crate's `Cargo.toml`");
        };
        let key = match key {
            None => None,
            Some(Expr { kind: ExprKind::Str(k), loc }) => Some((k.as_str(), *loc)),
            Some(other) => {
                return self.error(other.loc, "an archive's array is named by a string: `[\"conv0/filter\"]`")
            }
        };
        match self.files.load(file, key.map(|(k, _)| k)) {
            Ok(array) => {
                let op = Op::Const { dtype: array.dtype, shape: array.shape, data: array.data };
                let node = self.graph.add(op, Vec::new(), loc, loc);
                self.graph.nodes[node].label = Some(match key {
                    Some((k, _)) => format!("np.load(\"{file}\")[\"{k}\"]"),
                    None => format!("np.load(\"{file}\")"),
                });
                node
            }
            Err(LoadError::File(message)) => self.error(*file_loc, message),
            Err(LoadError::Key(message)) => self.error(key.map_or(*file_loc, |(_, at)| at), message),
            Err(LoadError::Reported) => self.poison(loc),
        }
    }

    /// The node of an expression made of Python numbers only, folded as Python folds it.
    fn literal_node(&mut self, expr: &Expr) -> NodeId {
        let loc = expr.loc;
        match self.fold_literal(expr) {
            Some(Number::Bool(b)) => self.graph.add(bool_const(b), Vec::new(), loc, loc),
            Some(number) => self.graph.add(Op::Literal(number), Vec::new(), loc, loc),
            None => self.poison(loc),
        }
    }

    /// A `const` item used in an expression: a `usize` is a Python integer, any other a scalar
    /// tensor of its type.
    fn const_node(&mut self, k: usize, loc: Loc) -> NodeId {
        let item = &self.graph.consts[k];
        let op = match item.kind {
            ConstKind::Usize => Op::Literal(item.value),
            ConstKind::Typed(dtype) => Op::Const {
                dtype,
                shape: Vec::new(),
                data: Data::Splat(match convert_number(item.value, dtype) {
                    Ok(scalar) => scalar,
                    Err(_) => return self.poison(loc),
                }),
            },
        };
        self.graph.add(op, Vec::new(), loc, loc)
    }

    /// The Python value of an expression made of numbers only, without reporting anything.
    pub fn literal(&self, expr: &Expr) -> Option<Number> {
        match &expr.kind {
            ExprKind::Int(n) => Some(Number::Int(*n as i128)),
            ExprKind::Float(x) => Some(Number::Float(*x)),
            ExprKind::Bool(b) => Some(Number::Bool(*b)),
            ExprKind::Name(name) => match name.to_string().as_str() {
                "True" => Some(Number::Bool(true)),
                "False" => Some(Number::Bool(false)),
                text => match self.scope.get(text) {
                    Some(Binding::Const(k)) if self.graph.consts[*k].kind == ConstKind::Usize => {
                        Some(self.graph.consts[*k].value)
                    }
                    _ => None,
                },
            },
            ExprKind::Neg { expr, .. } => match self.literal(expr)? {
                Number::Int(n) => Some(Number::Int(-n)),
                Number::Float(x) => Some(Number::Float(-x)),
                Number::Bool(_) => None,
            },
            ExprKind::Binary { op, lhs, rhs, .. } => python_binary(*op, self.literal(lhs)?, self.literal(rhs)?).ok(),
            _ => None,
        }
    }

    /// [`Resolver::literal`] for an expression known to be made of numbers, reporting what Python
    /// would raise (a division by zero).
    fn fold_literal(&mut self, expr: &Expr) -> Option<Number> {
        if let ExprKind::Binary { op, op_loc, lhs, rhs } = &expr.kind {
            let (a, b) = (self.fold_literal(lhs)?, self.fold_literal(rhs)?);
            return match python_binary(*op, a, b) {
                Ok(n) => Some(n),
                Err(message) => {
                    self.errors.at(*op_loc, message);
                    None
                }
            };
        }
        self.literal(expr)
    }

    /// Binds a call's arguments to `params` as Python does; `required` of them must be given.
    /// Every op also takes `name = "..."`, which is ignored.
    pub fn bind<'a>(
        &mut self,
        op: &str,
        loc: Loc,
        args: &'a [Arg],
        params: &[&str],
        required: usize,
    ) -> Option<Bound<'a>> {
        let mut bound: Bound<'a> = vec![None; params.len()];
        let mut ok = true;
        let mut positional = 0;
        for arg in args {
            match &arg.keyword {
                None => {
                    if positional >= params.len() {
                        let message = format!("`{op}` takes at most {} argument{}", params.len(), plural(params.len()));
                        self.errors.at(arg.loc, message);
                        ok = false;
                    } else {
                        bound[positional] = Some(&arg.value);
                    }
                    positional += 1;
                }
                Some(keyword) => {
                    let text = keyword.to_string();
                    if text == "name" {
                        if !matches!(arg.value.kind, ExprKind::Str(_)) {
                            self.errors.at(arg.value.loc, "expected a string");
                            ok = false;
                        }
                        continue;
                    }
                    match params.iter().position(|p| *p == text) {
                        Some(i) if bound[i].is_some() => {
                            self.errors.at(arg.loc, format_args!("`{op}` got `{text}` twice"));
                            ok = false;
                        }
                        Some(i) => bound[i] = Some(&arg.value),
                        None => {
                            let help = nearest(&text, params.iter().copied()).map(|n| format!("did you mean `{n}`?"));
                            let supported = params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
                            let message = with_help(
                                format_args!("`{op}` has no argument `{text}` here (it takes {supported})"),
                                help,
                            );
                            self.errors.at(Loc::span(keyword.span()), message);
                            ok = false;
                        }
                    }
                }
            }
        }
        for (i, param) in params.iter().enumerate().take(required) {
            if bound[i].is_none() && ok {
                self.errors.at(loc, format_args!("`{op}` needs the argument `{param}`"));
                ok = false;
            }
        }
        ok.then_some(bound)
    }

    /// `tf.NAME(args)`: a math op of [`crate::ops`], or one of the graph's structure.
    fn tf_call(&mut self, name: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        if let Some(node) = ops::resolve(self, &ops::Call { name, args, loc, op_loc }) {
            return node;
        }
        let op = format!("tf.{name}");
        match name {
            "constant" => self.constant(&op, args, loc, op_loc),
            "placeholder" => self.placeholder(&op, args, loc, op_loc),
            "Variable" => self.variable(&op, args, loc, op_loc),
            "zeros" | "ones" => self.fill(&op, name == "ones", args, loc, op_loc),
            "random_uniform" | "random.uniform" => self.random_uniform(&op, args, loc, op_loc),
            "group" => {
                let mut inputs = Vec::new();
                let mut locs = Vec::new();
                for arg in args {
                    match &arg.keyword {
                        Some(k) if k == "name" => {}
                        Some(k) => {
                            self.errors.at(Loc::span(k.span()), format_args!("`tf.group` has no argument `{k}`"));
                        }
                        None => {
                            inputs.push(self.lower(&arg.value));
                            locs.push(arg.value.loc);
                        }
                    }
                }
                let node = self.graph.add(Op::Group, inputs, loc, op_loc);
                self.used_at(node, &locs)
            }
            "global_variables_initializer" | "initialize_all_variables" => {
                if self.bind(&op, loc, args, &[], 0).is_none() {
                    return self.poison(loc);
                }
                self.graph.add(Op::Init, Vec::new(), loc, op_loc)
            }
            "gradients" => {
                let Some(b) = self.bind(&op, loc, args, &["ys", "xs"], 2) else { return self.poison(loc) };
                let ys = self.lower_arg(b[0]);
                let mut inputs = vec![ys];
                let mut locs = arg_locs(&b[..1]);
                match b[1] {
                    Some(Expr { kind: ExprKind::List(xs), .. }) => {
                        inputs.extend(xs.iter().map(|x| self.lower(x)));
                        locs.extend(xs.iter().map(|x| x.loc));
                    }
                    other => {
                        inputs.push(self.lower_arg(other));
                        locs.extend(arg_locs(&[other]));
                    }
                }
                let node = self.graph.add(Op::Gradients, inputs, loc, op_loc);
                self.used_at(node, &locs)
            }
            _ if name.starts_with("train.") && name.ends_with("Optimizer") => {
                self.error(loc, format_args!("`{op}(...)` is an optimiser, not a tensor: call `.minimize(loss)` on it"))
            }
            _ => {
                let known = ops::names().chain(STRUCTURE.iter().copied());
                let help = nearest(name, known).map(|n| format!("did you mean `tf.{n}`?"));
                let message = with_help(format_args!("`{op}` is not supported by `graph!`"), help);
                self.error(op_loc, message)
            }
        }
    }

    pub fn lower_arg(&mut self, arg: Option<&Expr>) -> NodeId {
        match arg {
            Some(expr) => self.lower(expr),
            None => self.poison(Loc::span(proc_macro2::Span::call_site())),
        }
    }

    /// `tf.constant(value, dtype = None, shape = None)`.
    fn constant(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["value", "dtype", "shape"], 1) else { return self.poison(loc) };
        let value = b[0].expect("required");
        let dtype = match b[1] {
            Some(e) => match self.dtype(e) {
                Some(d) => Some(d),
                None => return self.poison(loc),
            },
            None => None,
        };
        let loaded = match &value.kind {
            ExprKind::Index { base, .. } => np_load(base).is_some(),
            _ => np_load(value).is_some(),
        };
        if loaded {
            return self.loaded_constant(value, dtype.map(|d| (d, b[1])), b[2]);
        }
        let Some((mut shape, elements)) = self.constant_value(value) else { return self.poison(loc) };
        if let Some(given) = b[2] {
            let Some(dims) = self.shape(given, false) else { return self.poison(loc) };
            let dims: Vec<usize> = dims.iter().map(|d| if let DimSpec::Known(n) = d { *n } else { 0 }).collect();
            let count: usize = dims.iter().product();
            if elements.len() != 1 && elements.len() != count {
                return self.error(
                    given.loc,
                    format_args!("`tf.constant` has {} values, which cannot fill shape {:?}", elements.len(), dims),
                );
            }
            shape = dims;
        }
        if shape.len() > MAX_RANK {
            return self.error(value.loc, rank_error(shape.len()));
        }
        let dtype = match dtype {
            Some(d) => d,
            None => match infer_constant_dtype(&elements) {
                Ok(d) => d,
                Err((message, at)) => return self.error(at, message),
            },
        };
        let mut data = Vec::with_capacity(elements.len());
        for (number, at) in &elements {
            match convert_number(*number, dtype) {
                Ok(s) => data.push(s),
                Err(message) => return self.error(*at, message),
            }
        }
        let count: usize = shape.iter().product();
        let data =
            if data.len() == 1 && count != 1 || shape.is_empty() { Data::Splat(data[0]) } else { Data::Dense(data) };
        self.graph.add(Op::Const { dtype, shape, data }, Vec::new(), loc, op_loc)
    }

    /// The shape and row-major elements of a (nested) list of numbers.
    fn constant_value(&mut self, expr: &Expr) -> Option<ConstantValue> {
        if let ExprKind::List(items) = &expr.kind {
            let mut shape = None;
            let mut elements = Vec::new();
            for item in items {
                let (sub, values) = self.constant_value(item)?;
                match &shape {
                    None => shape = Some(sub),
                    Some(first) if *first != sub => {
                        self.errors.at(
                            item.loc,
                            format_args!("this element has shape {sub:?} but the first has shape {first:?}: a constant's rows all have the same length"),
                        );
                        return None;
                    }
                    Some(_) => {}
                }
                elements.extend(values);
            }
            let Some(mut shape) = shape else {
                self.errors.at(expr.loc, "an empty constant has no use in a graph");
                return None;
            };
            shape.insert(0, items.len());
            return Some((shape, elements));
        }
        if let ExprKind::Name(name) = &expr.kind {
            if let Some(Binding::Const(k)) = self.scope.get(&name.to_string()) {
                return Some((Vec::new(), vec![(self.graph.consts[*k].value, expr.loc)]));
            }
        }
        match self.literal(expr) {
            Some(_) => Some((Vec::new(), vec![(self.fold_literal(expr)?, expr.loc)])),
            None => {
                self.errors.at(expr.loc, "expected a number, a bool or a list of them");
                None
            }
        }
    }

    /// `tf.placeholder(dtype, shape = None)`.
    fn placeholder(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["dtype", "shape"], 1) else { return self.poison(loc) };
        let dtype = b[0].and_then(|e| self.dtype(e));
        let shape = match b[1] {
            None => Some(None),
            Some(Expr { kind: ExprKind::Name(n), .. }) if n == "None" => Some(None),
            Some(e) => self.shape(e, true).map(Some),
        };
        let (Some(dtype), Some(shape)) = (dtype, shape) else { return self.poison(loc) };
        let node = self.graph.add(Op::Placeholder { dtype, shape }, Vec::new(), loc, op_loc);
        self.must_be_named.push(node);
        node
    }

    /// `tf.Variable(initial_value, trainable = True, dtype = None)`.
    fn variable(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["initial_value", "trainable", "dtype"], 1) else {
            return self.poison(loc);
        };
        let outer = std::mem::replace(&mut self.in_init, true);
        let mut init = self.lower_arg(b[0]);
        self.in_init = outer;
        let trainable = self.bool_arg(b[1], true);
        let dtype = match b[2] {
            Some(e) => match self.dtype(e) {
                Some(d) => Some(d),
                None => return self.poison(loc),
            },
            None => None,
        };
        let Some(trainable) = trainable else { return self.poison(loc) };
        if let Op::Literal(number) = self.graph.nodes[init].op {
            let op = match dtype {
                Some(dtype) => match convert_number(number, dtype) {
                    Ok(scalar) => Op::Const { dtype, shape: Vec::new(), data: Data::Splat(scalar) },
                    Err(message) => return self.error(self.graph.nodes[init].loc, message),
                },
                None => default_constant(number).unwrap_or(Op::Poison),
            };
            self.graph.nodes[init].op = op;
        } else if let Some(dtype) = dtype {
            let at = self.graph.nodes[init].loc;
            init = self.graph.add(Op::Cast(Cast { to: dtype }), vec![init], at, at);
        }
        self.check_constant_init(init);
        let variable = Variable { init, trainable, storage: Storage::User };
        let node = self.graph.add(Op::Variable(variable), Vec::new(), loc, op_loc);
        self.must_be_named.push(node);
        node
    }

    // A variable's initial value is computed when the session starts, before any feed or
    // variable exists: it cannot read either.
    //   let w = tf.Variable(x * 2);  // error if `x` is a placeholder
    fn check_constant_init(&mut self, init: NodeId) {
        for id in self.graph.topo_order(&[init]) {
            let what = match self.graph.nodes[id].op {
                Op::Placeholder { .. } => "placeholder",
                Op::Variable(_) => "variable",
                _ => continue,
            };
            let name = self.graph.describe(id);
            self.errors.at(
                self.graph.nodes[init].loc,
                format_args!(
                    "a variable's initial value cannot read {what} {name}: it is computed when the session starts"
                ),
            );
            return;
        }
    }

    /// `tf.zeros(shape, dtype = tf.float32)` and `tf.ones`.
    fn fill(&mut self, op: &str, one: bool, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["shape", "dtype"], 1) else { return self.poison(loc) };
        let shape = b[0].and_then(|e| self.shape(e, false));
        let dtype = match b[1] {
            Some(e) => self.dtype(e),
            None => Some(DType::Float32),
        };
        let (Some(shape), Some(dtype)) = (shape, dtype) else { return self.poison(loc) };
        let shape = known_dims(&shape);
        let value = convert_number(Number::Int(one as i128), dtype).unwrap_or(Scalar::B(one));
        self.graph.add(Op::Const { dtype, shape, data: Data::Splat(value) }, Vec::new(), loc, op_loc)
    }

    /// `tf.random_uniform(shape, minval = 0, maxval = None, dtype = tf.float32)`.
    fn random_uniform(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["shape", "minval", "maxval", "dtype", "seed"], 1) else {
            return self.poison(loc);
        };
        if let Some(seed) = b[4] {
            return self.error(
                seed.loc,
                "op seeds are not supported: seed the session instead, with `Session::with_seed(seed)`",
            );
        }
        if !self.in_init {
            return self.error(
                op_loc,
                "`tf.random_uniform` is only supported in a variable's initial value, where it draws from the session's seed",
            );
        }
        let shape = b[0].and_then(|e| self.shape(e, false));
        let dtype = match b[3] {
            Some(e) => self.dtype(e),
            None => Some(DType::Float32),
        };
        let lo = self.number_arg(b[1], Number::Int(0));
        let hi = match b[2] {
            Some(e) => self.number_arg(Some(e), Number::Int(1)),
            None if dtype.is_some_and(DType::is_integer) => {
                return self.error(loc, "`tf.random_uniform` of integers needs `maxval`");
            }
            None => Some(Number::Int(1)),
        };
        let (Some(shape), Some(dtype), Some(lo), Some(hi)) = (shape, dtype, lo, hi) else { return self.poison(loc) };
        if !matches!(dtype, DType::Float32 | DType::Float64 | DType::Int32 | DType::Int64) {
            return self
                .error(loc, format_args!("`tf.random_uniform` draws float32, float64, int32 or int64, not {dtype}"));
        }
        for (bound, expr) in [(lo, b[1]), (hi, b[2])] {
            if let Err(message) = convert_number(bound, dtype) {
                return self.error(expr.map_or(loc, |e| e.loc), message);
            }
        }
        let shape = known_dims(&shape);
        self.graph.add(Op::RandomUniform { dtype, shape, lo, hi }, Vec::new(), loc, op_loc)
    }

    /// `var.assign(value)` and the other methods of a node.
    fn node_method(
        &mut self,
        node: NodeId,
        receiver: &Ident,
        method: &Ident,
        args: &[Arg],
        loc: Loc,
        op_loc: Loc,
    ) -> NodeId {
        let kind = match method.to_string().as_str() {
            "assign" => AssignKind::Set,
            "assign_add" => AssignKind::Add,
            "assign_sub" => AssignKind::Sub,
            other => {
                let help =
                    nearest(other, ["assign", "assign_add", "assign_sub"]).map(|n| format!("did you mean `{n}`?"));
                let hint = if other == "eval" { " (run it with `Session::run`)" } else { "" };
                let message = with_help(
                    format_args!(
                        "a node has no method `{other}`{hint}; nodes have `assign`, `assign_add` and `assign_sub`"
                    ),
                    help,
                );
                return self.error(Loc::span(method.span()), message);
            }
        };
        let param = if kind == AssignKind::Set { "value" } else { "delta" };
        let Some(b) = self.bind(&format!("{method}"), loc, args, &[param], 1) else { return self.poison(loc) };
        let value = self.lower_arg(b[0]);
        if !self.check_assign_target(node, receiver, method) {
            return self.poison(loc);
        }
        let node = self.graph.add(Op::Assign(kind), vec![node, value], loc, op_loc);
        let value_loc = b[0].map_or(loc, |e| e.loc);
        self.used_at(node, &[Loc::span(receiver.span()), value_loc])
    }

    // Only a variable can be assigned to.
    //   let C = tf.constant(5.0); let c2 = C.assign(3.0);  // error: `C` is a `tf.constant`
    fn check_assign_target(&mut self, node: NodeId, receiver: &Ident, method: &Ident) -> bool {
        match &self.graph.nodes[node].op {
            Op::Variable(_) | Op::Poison => true,
            op => {
                let what = op.name();
                let at = if self.graph.nodes[node].name.is_some() {
                    Loc::span(receiver.span())
                } else {
                    self.graph.nodes[node].loc
                };
                self.errors.at(
                    at,
                    format_args!("`{method}` needs a variable, but {} is a `{what}`", self.graph.describe(node)),
                );
                false
            }
        }
    }

    /// `Some(Some(optimiser))` if `expr` is an optimiser, `Some(None)` if it is a broken one,
    /// `None` if it is not one.
    fn try_optimizer(&mut self, expr: &Expr) -> Option<Option<OptimizerValue>> {
        match &expr.kind {
            ExprKind::Name(name) => match self.scope.get(&name.to_string()) {
                Some(Binding::Optimizer(opt)) => Some(Some(opt.clone())),
                _ => None,
            },
            ExprKind::Call { path, path_loc, args } if path.len() == 3 && path[0] == "tf" && path[1] == "train" => {
                let name = path[2].to_string();
                let op = format!("tf.train.{name}");
                let loc = expr.loc;
                let (params, required): (&[&str], usize) = match name.as_str() {
                    "GradientDescentOptimizer" => (&["learning_rate"], 1),
                    "MomentumOptimizer" => (&["learning_rate", "momentum", "use_nesterov"], 2),
                    "AdamOptimizer" => (&["learning_rate", "beta1", "beta2", "epsilon"], 0),
                    _ => {
                        let help = nearest(&name, ["GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer"])
                            .map(|n| format!("did you mean `tf.train.{n}`?"));
                        let message = with_help(
                            format_args!("`{op}` is not supported: the optimisers are `GradientDescentOptimizer`, `MomentumOptimizer` and `AdamOptimizer`"),
                            help,
                        );
                        self.errors.at(*path_loc, message);
                        return Some(None);
                    }
                };
                let b = self.bind(&op, loc, args, params, required)?;
                let lr = match b[0] {
                    Some(e) => self.lower(e),
                    None => self.graph.add(Op::Literal(Number::Float(0.001)), Vec::new(), loc, loc),
                };
                let mut hyper = vec![lr];
                let kind = match name.as_str() {
                    "GradientDescentOptimizer" => OptimizerKind::GradientDescent,
                    "MomentumOptimizer" => {
                        hyper.push(self.lower_arg(b[1]));
                        OptimizerKind::Momentum { use_nesterov: self.bool_arg(b[2], false)? }
                    }
                    _ => {
                        let mut number =
                            |e: Option<&Expr>, default: f64| match self.number_arg(e, Number::Float(default)) {
                                Some(Number::Float(x)) => Some(x),
                                Some(Number::Int(n)) => Some(n as f64),
                                _ => None,
                            };
                        let (beta1, beta2, epsilon) = (number(b[1], 0.9), number(b[2], 0.999), number(b[3], 1e-8));
                        OptimizerKind::Adam { beta1: beta1?, beta2: beta2?, epsilon: epsilon? }
                    }
                };
                self.optimizers += 1;
                Some(Some(OptimizerValue { optimizer: Optimizer { id: self.optimizers, kind }, hyper }))
            }
            _ => None,
        }
    }

    /// `optimizer.minimize(loss, var_list = None)`.
    fn optimizer_method(&mut self, opt: OptimizerValue, method: &Ident, args: &[Arg], loc: Loc) -> NodeId {
        if method != "minimize" {
            return self.error(
                Loc::span(method.span()),
                format_args!("an optimiser has no method `{method}` here; call `minimize(loss)`"),
            );
        }
        let Some(b) = self.bind("minimize", loc, args, &["loss", "var_list"], 1) else { return self.poison(loc) };
        let loss = self.lower_arg(b[0]);
        let mut inputs = vec![loss];
        inputs.extend(&opt.hyper);
        let var_list = b[1].is_some();
        if let Some(list) = b[1] {
            let items: Vec<&Expr> = match &list.kind {
                ExprKind::List(items) => items.iter().collect(),
                _ => vec![list],
            };
            for item in items {
                let var = self.lower(item);
                match self.graph.nodes[var].op {
                    Op::Variable(_) | Op::Poison => inputs.push(var),
                    _ => {
                        let name = self.graph.describe(var);
                        self.errors.at(item.loc, format_args!("`var_list` holds variables, and {name} is not one"));
                    }
                }
            }
        }
        let op = Op::Minimize { optimizer: opt.optimizer, hyper: opt.hyper.len(), var_list };
        let node = self.graph.add(op, inputs, loc, Loc::span(method.span()));
        self.used_at(node, &arg_locs(&b[..1]))
    }

    /// A dtype: `tf.float32` or `"float"`.
    pub fn dtype(&mut self, expr: &Expr) -> Option<DType> {
        let (name, shown) = match &expr.kind {
            ExprKind::Path(path) if path.len() == 2 && path[0] == "tf" => (path[1].to_string(), ast::path_string(path)),
            ExprKind::Str(s) => (s.clone(), format!("\"{s}\"")),
            _ => {
                self.errors.at(expr.loc, "expected a dtype, such as `tf.float32` or `\"float\"`");
                return None;
            }
        };
        let dtype = DType::from_name(&name);
        if dtype.is_none() {
            let names = DType::ALL.map(DType::name);
            let help = nearest(&name, names).map(|n| format!("did you mean `tf.{n}`?"));
            let message = with_help(
                format_args!("`{shown}` is not a supported dtype: a graph's dtypes are float32, float64, int32, int64, uint8 and bool"),
                help,
            );
            self.errors.at(expr.loc, message);
        }
        dtype
    }

    /// A shape: `[None, 2]`, `[N]`, `[]` or a single dimension.
    fn shape(&mut self, expr: &Expr, allow_none: bool) -> Option<Vec<DimSpec>> {
        let ExprKind::List(items) = &expr.kind else {
            return self.dim(expr, allow_none).map(|d| vec![d]);
        };
        if items.len() > MAX_RANK {
            self.errors.at(expr.loc, rank_error(items.len()));
            return None;
        }
        let dims: Vec<Option<DimSpec>> = items.iter().map(|item| self.dim(item, allow_none)).collect();
        dims.into_iter().collect()
    }

    /// A dimension: a positive integer, a `usize` const, or `None` where allowed.
    pub fn dim(&mut self, expr: &Expr, allow_none: bool) -> Option<DimSpec> {
        if let ExprKind::Name(name) = &expr.kind {
            if name == "None" {
                if allow_none {
                    return Some(DimSpec::None);
                }
                self.errors.at(expr.loc, "`None` dimensions are only allowed in a placeholder's shape");
                return None;
            }
        }
        match self.literal(expr) {
            Some(Number::Int(n)) if n >= 1 && n <= MAX_DIM as i128 => Some(DimSpec::Known(n as usize)),
            Some(Number::Int(_)) => {
                self.errors.at(expr.loc, format_args!("a dimension is between 1 and {MAX_DIM}"));
                None
            }
            _ => {
                self.errors.at(expr.loc, "expected a dimension: an integer, a `usize` const or `None`");
                None
            }
        }
    }

    /// `axis = 1`, `axis = -1` or `axis = [0, 1]`.
    pub fn axes(&mut self, expr: &Expr) -> Option<Vec<i64>> {
        let items: Vec<&Expr> = match &expr.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![expr],
        };
        let mut axes = Vec::new();
        for item in items {
            match self.literal(item) {
                Some(Number::Int(n)) if n.abs() < 8 => axes.push(n as i64),
                _ => {
                    self.errors.at(item.loc, "expected an axis: an integer such as `0`, `1` or `-1`");
                    return None;
                }
            }
        }
        Some(axes)
    }

    /// `true`, `false`, `True` or `False`; `default` when absent.
    pub fn bool_arg(&mut self, expr: Option<&Expr>, default: bool) -> Option<bool> {
        let Some(expr) = expr else { return Some(default) };
        match self.literal(expr) {
            Some(Number::Bool(b)) => Some(b),
            _ => {
                self.errors.at(expr.loc, "expected `true` or `false`");
                None
            }
        }
    }

    /// A number; `default` when absent.
    pub fn number_arg(&mut self, expr: Option<&Expr>, default: Number) -> Option<Number> {
        let Some(expr) = expr else { return Some(default) };
        match self.literal(expr) {
            Some(n @ (Number::Int(_) | Number::Float(_))) => self.fold_literal(expr).or(Some(n)),
            _ => {
                self.errors.at(expr.loc, "expected a number");
                None
            }
        }
    }
}

/// The `np.load(...)` call `expr` is, if it is one.
fn np_load(expr: &Expr) -> Option<&Expr> {
    match &expr.kind {
        ExprKind::Call { path, .. } if path.len() == 2 && path[0] == "np" && path[1] == "load" => Some(expr),
        _ => None,
    }
}

/// The `onnx.load(...)` call `expr` is, if it is one.
fn onnx_load(expr: &Expr) -> Option<&Expr> {
    match &expr.kind {
        ExprKind::Call { path, .. } if path.len() == 2 && path[0] == "onnx" && path[1] == "load" => Some(expr),
        _ => None,
    }
}

/// Where each bound argument was written (absent ones are skipped).
pub fn arg_locs(bound: &[Option<&Expr>]) -> Vec<Loc> {
    bound.iter().flatten().map(|e| e.loc).collect()
}

/// The largest dimension a shape may have.
const MAX_DIM: usize = 1 << 24;

/// The `tf.` names of the graph's structure the resolver knows itself; suggestions draw from
/// these and from the names of [`crate::ops`].
#[rustfmt::skip]
const STRUCTURE: &[&str] = &[
    "constant", "placeholder", "Variable", "zeros", "ones", "random_uniform", "group",
    "global_variables_initializer", "gradients", "train.GradientDescentOptimizer", "train.MomentumOptimizer",
    "train.AdamOptimizer",
];

/// The largest rank a tensor may have: 4, for NHWC images and convolution filters.
pub const MAX_RANK: usize = 4;

pub fn rank_error(rank: usize) -> String {
    format!("rank-{rank} shapes are not supported: a graph's tensors have rank 0 to {MAX_RANK}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Dims of a shape written without `None`.
fn known_dims(dims: &[DimSpec]) -> Vec<usize> {
    dims.iter().map(|d| if let DimSpec::Known(n) = d { *n } else { 1 }).collect()
}

fn bool_const(b: bool) -> Op {
    Op::Const { dtype: DType::Bool, shape: Vec::new(), data: Data::Splat(Scalar::B(b)) }
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

/// The Rust type of a `const` item, if a graph supports it.
fn const_kind(ty: &syn::Type) -> Option<ConstKind> {
    let syn::Type::Path(path) = ty else { return None };
    let ident = path.path.get_ident()?.to_string();
    if ident == "usize" {
        return Some(ConstKind::Usize);
    }
    let dtype = DType::ALL.into_iter().find(|d| d.rust() == ident)?;
    Some(ConstKind::Typed(dtype))
}

fn const_fits(n: i128, kind: ConstKind) -> bool {
    match kind {
        ConstKind::Usize => n >= 0 && n <= u32::MAX as i128,
        ConstKind::Typed(DType::Int32) => i32::try_from(n).is_ok(),
        ConstKind::Typed(DType::Int64) => i64::try_from(n).is_ok(),
        ConstKind::Typed(DType::UInt8) => u8::try_from(n).is_ok(),
        ConstKind::Typed(_) => true,
    }
}

/// Python's arithmetic on two numbers: `int / int` is a float, anything with a float is a float.
fn python_binary(op: BinOp, a: Number, b: Number) -> Result<Number, String> {
    use Number::{Float, Int};
    let float = |n: Number| match n {
        Int(i) => Some(i as f64),
        Float(x) => Some(x),
        Number::Bool(_) => None,
    };
    if let (Int(x), Int(y)) = (a, b) {
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            _ => None,
        };
        if let Some(r) = r {
            return Ok(Int(r));
        }
    }
    let (Some(x), Some(y)) = (float(a), float(b)) else {
        return Err(format!("`{}` of a bool has no meaning here", op.symbol()));
    };
    Ok(match op {
        BinOp::Add => Float(x + y),
        BinOp::Sub => Float(x - y),
        BinOp::Mul => Float(x * y),
        BinOp::Div if y == 0.0 => return Err("division by zero".into()),
        BinOp::Div => Float(x / y),
        BinOp::Gt => Number::Bool(x > y),
        BinOp::Lt => Number::Bool(x < y),
        BinOp::Ge => Number::Bool(x >= y),
        BinOp::Le => Number::Bool(x <= y),
        BinOp::Eq => Number::Bool(x == y),
        BinOp::Ne => Number::Bool(x != y),
    })
}

/// TensorFlow's dtype for a list of Python values: bool if they are bools, float32 if any is a
/// float, int32 if every integer fits, else int64.
fn infer_constant_dtype(elements: &[(Number, Loc)]) -> Result<DType, (String, Loc)> {
    let bools = elements.iter().filter(|(n, _)| matches!(n, Number::Bool(_))).count();
    if bools > 0 && bools < elements.len() {
        let at = elements.iter().find(|(n, _)| !matches!(n, Number::Bool(_))).map(|(_, l)| *l);
        return Err(("a constant mixes bools and numbers".into(), at.unwrap_or(elements[0].1)));
    }
    if bools > 0 {
        return Ok(DType::Bool);
    }
    if elements.iter().any(|(n, _)| matches!(n, Number::Float(_))) {
        return Ok(DType::Float32);
    }
    let fits = elements.iter().all(|(n, _)| matches!(n, Number::Int(i) if i32::try_from(*i).is_ok()));
    Ok(if fits { DType::Int32 } else { DType::Int64 })
}

/// The constant TensorFlow makes of a lone Python number.
pub fn default_constant(number: Number) -> Option<Op> {
    let dtype = default_dtype(number)?;
    let scalar = convert_number(number, dtype).ok()?;
    Some(Op::Const { dtype, shape: Vec::new(), data: Data::Splat(scalar) })
}

/// TensorFlow's dtype for a lone Python number.
pub fn default_dtype(number: Number) -> Option<DType> {
    Some(match number {
        Number::Bool(_) => DType::Bool,
        Number::Float(_) => DType::Float32,
        Number::Int(i) if i32::try_from(i).is_ok() => DType::Int32,
        Number::Int(i) if i64::try_from(i).is_ok() => DType::Int64,
        Number::Int(_) => return None,
    })
}

/// A Python number as an element of `dtype`, or why it cannot be one (as TensorFlow refuses to
/// convert `0.5` to `int32`).
pub fn convert_number(number: Number, dtype: DType) -> Result<Scalar, String> {
    let refuse = |shown: String| Err(format!("`{shown}` cannot be converted to `{dtype}`"));
    match (number, dtype) {
        (Number::Bool(b), DType::Bool) => Ok(Scalar::B(b)),
        (Number::Bool(b), _) => refuse(if b { "true".into() } else { "false".into() }),
        (n, DType::Bool) => refuse(number_text(n)),
        (Number::Float(x), DType::Float32) => Ok(Scalar::F(x as f32 as f64)),
        (Number::Float(x), DType::Float64) => Ok(Scalar::F(x)),
        (Number::Int(i), DType::Float32) => Ok(Scalar::F(i as f32 as f64)),
        (Number::Int(i), DType::Float64) => Ok(Scalar::F(i as f64)),
        (Number::Float(x), _) => refuse(number_text(Number::Float(x))),
        (Number::Int(i), DType::Int32) if i32::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), DType::Int64) if i64::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), DType::UInt8) if u8::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), _) => refuse(i.to_string()),
    }
}

/// A number as Python would print it.
pub fn number_text(number: Number) -> String {
    match number {
        Number::Int(i) => i.to_string(),
        Number::Float(x) if x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.1}"),
        Number::Float(x) => x.to_string(),
        Number::Bool(b) => b.to_string(),
    }
}
