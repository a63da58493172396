//! Phase 3, infer: every node's dtype and shape, and every check that needs them.
//!
//! Nodes are visited in order (each after its inputs). Python numbers take the dtype of the
//! tensor they meet; tensors must agree. Shapes broadcast as TensorFlow broadcasts them, and a
//! `None` dimension is a symbol that inference merges with the dimensions it is proved equal to
//! (a union-find in [`crate::ir::Syms`]).
//!
//! A placeholder written without a shape is *pending*: the nodes computed from it carry the
//! placeholder and the steps from it (`one_hot`, `transpose`) instead of a shape. At the first op
//! that combines such a node with a tensor of known shape, the placeholder takes the shape that
//! makes the two match exactly, so that nothing computed from it is broadcast (the seed's `Y`
//! becomes `[None]` through `tf.one_hot(Y, 2) * tf.log(output_layer)`), and inference starts
//! over. A placeholder whose uses never settle its shape is an error asking for one.
//!
//! After an error a node's type is unknown ([`Ty::Poison`]) and nothing computed from it reports
//! again, so each mistake is reported once.

use crate::error::{with_help, Errors, Loc};
use crate::ir::{AssignKind, DType, Dim, DimSpec, Graph, NodeId, Number, Op, Shape, ShapeDisplay, TensorType, Type};
use crate::resolve::default_dtype;
use crate::values::convert_number;
use std::collections::{HashMap, HashSet};

/// Fills in `node.ty` for every node of `graph`, reporting mistakes to `errors`.
pub fn infer(graph: &mut Graph, errors: &mut Errors) {
    let mut shapes: HashMap<NodeId, Shape> = HashMap::new();
    for id in 0..graph.nodes.len() {
        if let Op::Placeholder { shape: Some(spec), .. } = &graph.nodes[id].op {
            let spec = spec.clone();
            let shape = spec
                .iter()
                .map(|d| match d {
                    DimSpec::Known(n) => Dim::Known(*n),
                    DimSpec::None => graph.syms.fresh(),
                })
                .collect();
            shapes.insert(id, shape);
        }
    }
    let mut reported = HashSet::new();
    let earlier_errors = !errors.is_empty();
    // Each start-over settles one more placeholder's shape, so this ends.
    loop {
        let mut pass = Pass {
            tys: vec![Ty::Poison; graph.nodes.len()],
            graph: &mut *graph,
            errors: Errors::default(),
            shapes: &mut shapes,
            reported: &mut reported,
            restart: false,
            earlier_errors,
        };
        for id in 0..pass.graph.nodes.len() {
            let ty = pass.node(id);
            pass.tys[id] = ty;
            if pass.restart {
                break;
            }
        }
        if pass.restart {
            continue;
        }
        pass.finish();
        errors.append(pass.errors);
        return;
    }
}

/// A node's type while inference runs.
#[derive(Clone, Debug)]
pub enum Ty {
    Known(Type),
    /// A Python number not yet converted to a tensor.
    Weak(Number),
    /// Computed from a placeholder whose shape is not settled yet.
    Pending(Pending),
    /// Unknown after an error (or waiting for a start-over): reports nothing more.
    Poison,
}

/// A value computed from an unshaped placeholder: its shape is the placeholder's, put through
/// `chain`.
#[derive(Clone, PartialEq, Debug)]
pub struct Pending {
    pub placeholder: NodeId,
    pub dtype: DType,
    pub chain: Vec<Step>,
}

/// A step from an unshaped placeholder to a value computed from it, undone to settle its shape.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Step {
    OneHot(usize),
    Transpose,
}

/// What an operand is, once weak numbers have a dtype.
pub enum Operand {
    Tensor(TensorType),
    Pending(Pending),
}

/// A shape computed from operands: known, pending, or stopped (after an error, or to start over).
pub enum ShapeOut {
    Known(Shape),
    Pending(Pending),
    Stop,
}

/// One pass of inference over the graph; the ops' rules read and report through it.
pub struct Pass<'a> {
    pub graph: &'a mut Graph,
    pub tys: Vec<Ty>,
    pub errors: Errors,
    /// The shape of every placeholder whose shape is known: declared, or settled by its uses.
    shapes: &'a mut HashMap<NodeId, Shape>,
    /// Placeholders already reported as impossible to shape.
    reported: &'a mut HashSet<NodeId>,
    restart: bool,
    /// Whether an earlier phase reported an error.
    earlier_errors: bool,
}

impl Pass<'_> {
    pub fn loc(&self, id: NodeId) -> Loc {
        self.graph.nodes[id].loc
    }

    pub fn op_loc(&self, id: NodeId) -> Loc {
        self.graph.nodes[id].op_loc
    }

    /// Where node `id` uses its input `k`.
    pub fn use_loc(&self, id: NodeId, k: usize) -> Loc {
        self.graph.nodes[id].input_locs.get(k).copied().unwrap_or(self.graph.nodes[id].loc)
    }

    /// `` `tf.add` `` or `` `+` ``: the op of node `id` as the user wrote it.
    pub fn op(&self, id: NodeId) -> String {
        format!("`{}`", self.graph.nodes[id].written)
    }

    pub fn describe(&self, id: NodeId) -> String {
        self.graph.describe(id)
    }

    pub fn shape_text(&self, shape: &[Dim]) -> String {
        ShapeDisplay(&self.graph.syms.shape(shape)).to_string()
    }

    fn node(&mut self, id: NodeId) -> Ty {
        let op = self.graph.nodes[id].op.clone();
        let inputs = self.graph.nodes[id].inputs.clone();
        if inputs.iter().any(|&i| matches!(self.tys[i], Ty::Poison)) {
            return Ty::Poison;
        }
        match op {
            Op::Poison | Op::Tuple => Ty::Poison,
            Op::Literal(n) => Ty::Weak(n),
            Op::Const { dtype, shape, .. } => known(dtype, shape.iter().map(|n| Dim::Known(*n)).collect()),
            Op::RandomUniform { dtype, shape, .. } => known(dtype, shape.iter().map(|n| Dim::Known(*n)).collect()),
            Op::Placeholder { dtype, .. } => match self.shapes.get(&id) {
                Some(shape) => known(dtype, shape.clone()),
                None => Ty::Pending(Pending { placeholder: id, dtype, chain: Vec::new() }),
            },
            Op::Variable(v) => match &self.tys[v.init] {
                Ty::Known(Type::Tensor(t)) => Ty::Known(Type::Tensor(t.clone())),
                _ => Ty::Poison,
            },
            Op::Assign(kind) => self.assign(id, kind, inputs[0], inputs[1]),
            Op::Group => {
                for &input in &inputs {
                    self.operand_or_unit(input);
                }
                Ty::Known(Type::Unit)
            }
            Op::Init => Ty::Known(Type::Unit),
            Op::Gradients => self.gradients(id, &inputs),
            Op::Minimize { hyper, var_list, .. } => self.minimize(id, &inputs, hyper, var_list),
            op => match op.rules() {
                Some(rules) => rules.infer(self, id),
                None => Ty::Poison,
            },
        }
    }

    /// Settles a weak number's dtype.
    pub fn coerce(&mut self, id: NodeId, dtype: DType, context: impl FnOnce() -> String) -> bool {
        let Ty::Weak(number) = self.tys[id] else { return true };
        match convert_number(number, dtype) {
            Ok(_) => {
                self.tys[id] = known(dtype, Vec::new());
                true
            }
            Err(message) => {
                self.errors.at(self.loc(id), format_args!("{message}, {}", context()));
                false
            }
        }
    }

    /// Node `id` as an operand: a weak number takes `dtype` (or TensorFlow's default for it).
    /// `None` after an error, reported here if the operand is not a tensor.
    pub fn operand(&mut self, id: NodeId, dtype: Option<DType>) -> Option<Operand> {
        if let Ty::Weak(number) = self.tys[id] {
            let Some(dtype) = dtype.or_else(|| default_dtype(number)) else {
                self.errors.at(self.loc(id), "integer literal out of range for `int64`");
                return None;
            };
            if !self.coerce(id, dtype, || "the dtype of the tensor it meets".to_string()) {
                return None;
            }
        }
        match &self.tys[id] {
            Ty::Known(Type::Tensor(t)) => Some(Operand::Tensor(t.clone())),
            Ty::Pending(p) => Some(Operand::Pending(p.clone())),
            Ty::Known(_) => {
                let what = self.graph.nodes[id].op.name();
                self.errors.at(
                    self.loc(id),
                    format_args!(
                        "{} is a `{what}`, which runs for its effect and has no value to compute with",
                        self.describe(id)
                    ),
                );
                None
            }
            Ty::Weak(_) | Ty::Poison => None,
        }
    }

    /// An operand of `tf.group`: anything runnable.
    fn operand_or_unit(&mut self, id: NodeId) {
        if let Ty::Weak(n) = self.tys[id] {
            if let Some(dtype) = default_dtype(n) {
                self.coerce(id, dtype, String::new);
            }
        }
    }

    // The operands of an elementwise op share one dtype; a Python number takes theirs.
    //   tf.add(tf.constant([2.5, 2]), tf.constant([3, 6]))  // error: `float32` and `int32`
    pub fn check_same_dtype(&mut self, id: NodeId, operands: &[NodeId]) -> Option<DType> {
        let mut first: Option<(NodeId, DType)> = None;
        for &o in operands {
            let dtype = match &self.tys[o] {
                Ty::Known(Type::Tensor(t)) => t.dtype,
                Ty::Pending(p) => p.dtype,
                Ty::Known(_) => {
                    self.operand(o, None);
                    return None;
                }
                Ty::Weak(_) => continue,
                Ty::Poison => return None,
            };
            match first {
                None => first = Some((o, dtype)),
                Some((f, first_dtype)) if first_dtype != dtype => {
                    let help = self.dtype_help(f, first_dtype, o, dtype);
                    let message = with_help(
                        format_args!(
                            "operands of {} have different dtypes: `{first_dtype}` and `{dtype}` ({} is `{first_dtype}`, {} is `{dtype}`)",
                            self.op(id),
                            self.describe(f),
                            self.describe(o)
                        ),
                        help,
                    );
                    self.errors.at(self.op_loc(id), message);
                    return None;
                }
                Some(_) => {}
            }
        }
        let dtype = match first {
            Some((_, d)) => d,
            None => {
                let Ty::Weak(n) = self.tys[operands[0]] else { return None };
                let Some(dtype) = default_dtype(n) else {
                    self.errors.at(self.loc(operands[0]), "integer literal out of range for `int64`");
                    return None;
                };
                dtype
            }
        };
        for &o in operands {
            let op = self.op(id);
            if !self.coerce(o, dtype, || format!("the dtype of the other operand of {op}")) {
                return None;
            }
        }
        Some(dtype)
    }

    /// How to mend two operands of different dtypes.
    fn dtype_help(&self, a: NodeId, a_dtype: DType, b: NodeId, b_dtype: DType) -> Option<String> {
        let (int, float_dtype) = match (a_dtype.is_float(), b_dtype.is_float()) {
            (true, false) => (b, a_dtype),
            (false, true) => (a, b_dtype),
            _ => return Some(format!("convert one side with `tf.cast`, as in `tf.cast(x, tf.{a_dtype})`")),
        };
        if matches!(self.graph.nodes[int].op, Op::Const { .. }) && self.graph.nodes[int].written == "tf.constant" {
            Some(format!(
                "make {} a `{float_dtype}` constant: pass `dtype = tf.{float_dtype}` to `tf.constant`, or write its numbers with a decimal point (`3.0`)",
                self.describe(int)
            ))
        } else {
            Some(format!(
                "convert {} with `tf.cast({}, tf.{float_dtype})`",
                self.describe(int),
                self.graph.nodes[int].name.as_ref().map_or("x".into(), |n| n.to_string())
            ))
        }
    }

    // Shapes broadcast as in TensorFlow: aligned on the right, each dimension equal or 1.
    //   tf.constant([1, 2, 3]) + tf.constant([1, 2])  // error: [3] and [2]
    pub fn check_broadcast(&mut self, id: NodeId, operands: &[NodeId]) -> ShapeOut {
        let mut shape: Option<(NodeId, Shape)> = None;
        let mut pending: Vec<(NodeId, Pending)> = Vec::new();
        for &o in operands {
            match &self.tys[o] {
                Ty::Known(Type::Tensor(t)) => {
                    let (at, current) = match shape.take() {
                        None => (o, t.shape.clone()),
                        Some((first, s)) => match broadcast(&mut self.graph.syms, &s, &t.shape) {
                            Ok(b) => (first, b),
                            Err((x, y)) => {
                                let message = format!(
                                    "shapes of {} operands cannot be broadcast together: {} is {} and {} is {} ({} against {})",
                                    self.op(id),
                                    self.describe(first),
                                    self.shape_text(&s),
                                    self.describe(o),
                                    self.shape_text(&t.shape),
                                    dim_text(x),
                                    dim_text(y),
                                );
                                let help = broadcast_help(&self.graph.syms.shape(&s), &self.graph.syms.shape(&t.shape));
                                self.errors.at(self.op_loc(id), with_help(message, help));
                                return ShapeOut::Stop;
                            }
                        },
                    };
                    shape = Some((at, current));
                }
                Ty::Pending(p) => pending.push((o, p.clone())),
                _ => {}
            }
        }
        match (shape, pending.first()) {
            (Some((_, shape)), None) => ShapeOut::Known(shape),
            (None, None) => ShapeOut::Known(Vec::new()),
            (Some((_, shape)), Some((_, p))) => {
                let p = p.clone();
                self.settle(id, &p, shape);
                ShapeOut::Stop
            }
            (None, Some((_, p))) => {
                if pending.iter().all(|(_, q)| q.placeholder == p.placeholder && q.chain == p.chain) {
                    ShapeOut::Pending(p.clone())
                } else {
                    ShapeOut::Stop
                }
            }
        }
    }

    /// Gives a pending placeholder the shape that makes `p` exactly `target`, and starts over.
    pub fn settle(&mut self, id: NodeId, p: &Pending, target: Shape) {
        let mut shape = self.graph.syms.shape(&target);
        for step in p.chain.iter().rev() {
            match step {
                Step::Transpose => shape.reverse(),
                Step::OneHot(depth) => match shape.pop() {
                    Some(last) if self.graph.syms.unify(last, Dim::Known(*depth)).is_ok() => {}
                    _ => {
                        if self.reported.insert(p.placeholder) {
                            let name = self.describe(p.placeholder);
                            let message = with_help(
                                format_args!(
                                    "cannot infer the shape of placeholder {name}: no shape of it makes its `tf.one_hot({}, {depth})` fit {} in {}",
                                    name.trim_matches('`'),
                                    self.shape_text(&target),
                                    self.op(id)
                                ),
                                Some("give the placeholder a shape, as in `tf.placeholder(tf.uint8, [None])`".into()),
                            );
                            self.errors.at(self.op_loc(id), message);
                        }
                        return;
                    }
                },
            }
        }
        self.shapes.insert(p.placeholder, shape);
        self.restart = true;
    }

    /// The dtype and shape of an elementwise op's result.
    pub fn elementwise(&mut self, id: NodeId, operands: &[NodeId]) -> Option<(DType, ShapeOut)> {
        let dtype = self.check_same_dtype(id, operands)?;
        Some((dtype, self.check_broadcast(id, operands)))
    }

    // Transcendental functions and softmax take floats.
    //   tf.sigmoid(tf.constant([1, 2]))  // error: found `int32`
    pub fn check_float(&mut self, id: NodeId, x: NodeId, dtype: DType) -> bool {
        if dtype.is_float() {
            return true;
        }
        let help = format!("convert it first: `{}(tf.cast(x, tf.float32))`", self.graph.nodes[id].written);
        let message = with_help(
            format_args!("{} needs a float tensor, but {} is `{dtype}`", self.op(id), self.describe(x)),
            Some(help),
        );
        self.errors.at(self.op_loc(id), message);
        false
    }

    fn assign(&mut self, id: NodeId, kind: AssignKind, var: NodeId, value: NodeId) -> Ty {
        let Ty::Known(Type::Tensor(var_ty)) = self.tys[var].clone() else { return Ty::Poison };
        let name = self.describe(var);
        let method = self.graph.nodes[id].written.clone();
        if !self.coerce(value, var_ty.dtype, || format!("the dtype of variable {name}")) {
            return Ty::Poison;
        }
        match self.operand(value, Some(var_ty.dtype)) {
            Some(Operand::Tensor(t)) => {
                if !self.check_assign_value(id, var, &var_ty, &t) {
                    return Ty::Poison;
                }
                if kind != AssignKind::Set && var_ty.dtype == DType::Bool {
                    self.errors.at(self.op_loc(id), format_args!("`{method}` is not defined for `bool` variables"));
                    return Ty::Poison;
                }
                Ty::Known(Type::Tensor(var_ty))
            }
            Some(Operand::Pending(p)) => {
                self.settle(id, &p, var_ty.shape);
                Ty::Poison
            }
            None => Ty::Poison,
        }
    }

    // An assignment keeps the variable's dtype and shape.
    //   let b1 = tf.Variable(tf.zeros([3])); let s = b1.assign(tf.zeros([2]));  // error
    fn check_assign_value(&mut self, id: NodeId, var: NodeId, var_ty: &TensorType, t: &TensorType) -> bool {
        let method = self.op(id);
        if t.dtype != var_ty.dtype {
            self.errors.at(
                self.use_loc(id, 1),
                format_args!(
                    "dtypes of {method} differ: variable {} is `{}` and the value is `{}`",
                    self.describe(var),
                    var_ty.dtype,
                    t.dtype
                ),
            );
            return false;
        }
        let same_rank = t.rank() == var_ty.rank();
        if same_rank && t.shape.iter().zip(&var_ty.shape).all(|(a, b)| self.graph.syms.unify(*a, *b).is_ok()) {
            return true;
        }
        self.errors.at(
            self.use_loc(id, 1),
            format_args!(
                "shapes of {method} differ: variable {} has shape {} and the value has shape {}",
                self.describe(var),
                self.shape_text(&var_ty.shape),
                self.shape_text(&t.shape)
            ),
        );
        false
    }

    fn gradients(&mut self, id: NodeId, inputs: &[NodeId]) -> Ty {
        let mut ok = true;
        let mut types = Vec::new();
        for (k, &input) in inputs.iter().enumerate() {
            match self.operand(input, None) {
                Some(Operand::Tensor(t)) => {
                    ok &= self.check_differentiable(id, input, &t, if k == 0 { "ys" } else { "xs" });
                    if k > 0 {
                        types.push(t);
                    }
                }
                _ => ok = false,
            }
        }
        if ok {
            Ty::Known(Type::Tuple(types))
        } else {
            Ty::Poison
        }
    }

    // Gradients are of float tensors, with respect to float tensors.
    //   tf.gradients(tf.constant(3), [w])  // error: `ys` is `int32`
    fn check_differentiable(&mut self, id: NodeId, x: NodeId, t: &TensorType, role: &str) -> bool {
        if t.dtype.is_float() {
            return true;
        }
        let what = if role == "ys" { "differentiates float tensors" } else { "is taken with respect to float tensors" };
        let k = self.graph.nodes[id].inputs.iter().position(|&i| i == x).unwrap_or(0);
        self.errors.at(
            self.use_loc(id, k),
            format_args!("{} {what}, but {} (in `{role}`) is `{}`", self.op(id), self.describe(x), t.dtype),
        );
        false
    }

    fn minimize(&mut self, id: NodeId, inputs: &[NodeId], hyper: usize, var_list: bool) -> Ty {
        let loss = inputs[0];
        let Some(Operand::Tensor(t)) = self.operand(loss, None) else { return Ty::Poison };
        if !self.check_loss(id, loss, &t) {
            return Ty::Poison;
        }
        // A number is a float32 tensor, as TensorFlow's optimisers convert it; `autodiff` casts each
        // hyper-parameter to the dtype of the variable it updates.
        for &h in &inputs[1..1 + hyper] {
            match self.operand(h, Some(DType::Float32)) {
                Some(Operand::Tensor(ht)) if ht.dtype.is_float() && ht.rank() == 0 => {}
                Some(_) => {
                    self.errors.at(self.loc(h), "an optimiser's hyper-parameters are float scalars");
                    return Ty::Poison;
                }
                None => return Ty::Poison,
            }
        }
        let listed = &inputs[1 + hyper..];
        if var_list && !self.check_var_list(listed) {
            return Ty::Poison;
        }
        if !self.check_trainable_reachable(id, loss, var_list.then_some(listed)) {
            return Ty::Poison;
        }
        Ty::Known(Type::Unit)
    }

    // `minimize` takes a float scalar loss.
    //   opt.minimize(output_layer)  // error: shape [None, 2]
    fn check_loss(&mut self, id: NodeId, loss: NodeId, t: &TensorType) -> bool {
        let problem = if !t.dtype.is_float() {
            format!("is `{}`", t.dtype)
        } else if t.rank() != 0 {
            format!("has shape {}", self.shape_text(&t.shape))
        } else {
            return true;
        };
        let message = with_help(
            format_args!("{} needs a float scalar loss, but {} {problem}", self.op(id), self.describe(loss)),
            (t.rank() != 0).then(|| "reduce it to a scalar first, as in `tf.reduce_sum(...)`".to_string()),
        );
        self.errors.at(self.use_loc(id, 0), message);
        false
    }

    // `var_list` holds trainable float variables.
    //   opt.minimize(loss, var_list = [step_count])  // error if `step_count` is int32
    fn check_var_list(&mut self, listed: &[NodeId]) -> bool {
        for &v in listed {
            let dtype = self.graph.tensor(v).map(|t| t.dtype).or(match &self.tys[v] {
                Ty::Known(Type::Tensor(t)) => Some(t.dtype),
                _ => None,
            });
            if let Some(dtype) = dtype.filter(|d| !d.is_float()) {
                self.errors.at(
                    self.loc(v),
                    format_args!("`minimize` trains float variables, but {} is `{dtype}`", self.describe(v)),
                );
                return false;
            }
        }
        true
    }

    // `minimize` needs a trainable float variable that the loss depends on.
    //   let loss = tf.reduce_sum(X); let step = opt.minimize(loss);  // error: nothing to train
    fn check_trainable_reachable(&mut self, id: NodeId, loss: NodeId, listed: Option<&[NodeId]>) -> bool {
        let reachable = differentiable_variables(self.graph, &self.tys, loss);
        let found = match listed {
            Some(listed) => listed.iter().any(|v| reachable.contains(v)),
            None => reachable.iter().any(|&v| match &self.graph.nodes[v].op {
                Op::Variable(var) => var.trainable,
                _ => false,
            }),
        };
        if found {
            return true;
        }
        let which =
            if listed.is_some() { "none of the variables in `var_list`" } else { "no trainable float variable" };
        let message = with_help(
            format_args!("{} has nothing to train: {which} is reachable from {}", self.op(id), self.describe(loss)),
            Some("a variable is trainable unless made with `trainable = false`; `tf.stop_gradient` and integer tensors cut the path".into()),
        );
        self.errors.at(self.op_loc(id), message);
        false
    }

    /// The end of the last pass: leftover numbers get TensorFlow's default dtype, unshaped
    /// placeholders are reported, and the types are written into the graph.
    fn finish(&mut self) {
        for id in 0..self.tys.len() {
            if let Ty::Weak(n) = self.tys[id] {
                if let Some(dtype) = default_dtype(n) {
                    self.tys[id] = known(dtype, Vec::new());
                }
            }
        }
        for id in 0..self.graph.nodes.len() {
            if let Op::Placeholder { dtype, shape: None } = self.graph.nodes[id].op {
                // A use that an earlier error made unknown might have settled the shape: after an
                // error, say nothing more about it.
                let blocked = (self.earlier_errors || !self.errors.is_empty())
                    && (0..self.graph.nodes.len())
                        .any(|n| self.graph.nodes[n].inputs.contains(&id) && matches!(self.tys[n], Ty::Poison));
                if !blocked && !self.shapes.contains_key(&id) && self.reported.insert(id) {
                    let name = self.describe(id);
                    let message = with_help(
                        format_args!("cannot infer the shape of placeholder {name}: no use of it settles one"),
                        Some(format!("give it a shape, as in `tf.placeholder(tf.{dtype}, [None])`")),
                    );
                    self.errors.at(self.op_loc(id), message);
                }
            }
        }
        for (id, ty) in self.tys.iter().enumerate() {
            self.graph.nodes[id].ty = match ty {
                Ty::Known(Type::Tensor(t)) => {
                    Some(Type::Tensor(TensorType { dtype: t.dtype, shape: self.graph.syms.shape(&t.shape) }))
                }
                Ty::Known(Type::Tuple(ts)) => Some(Type::Tuple(
                    ts.iter().map(|t| TensorType { dtype: t.dtype, shape: self.graph.syms.shape(&t.shape) }).collect(),
                )),
                Ty::Known(Type::Unit) => Some(Type::Unit),
                _ => None,
            };
        }
        for id in 0..self.graph.nodes.len() {
            self.graph.nodes[id].ty = self.graph.nodes[id].ty.take().map(|ty| canonical(&self.graph.syms, ty));
        }
    }
}

/// Every float variable `root` depends on through differentiable paths (not through
/// `tf.stop_gradient`, nor through integer or bool tensors).
fn differentiable_variables(graph: &Graph, tys: &[Ty], root: NodeId) -> Vec<NodeId> {
    let is_float = |id: NodeId| matches!(&tys[id], Ty::Known(Type::Tensor(t)) if t.dtype.is_float());
    let mut seen = vec![false; graph.nodes.len()];
    let mut stack = vec![root];
    let mut found = Vec::new();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id], true) || !is_float(id) {
            continue;
        }
        let node = &graph.nodes[id];
        match node.op.rules() {
            _ if matches!(node.op, Op::Variable(_)) => found.push(id),
            Some(rules) => {
                stack.extend(node.inputs.iter().enumerate().filter(|(k, _)| rules.differentiable(*k)).map(|(_, i)| i))
            }
            None => stack.extend(&node.inputs),
        }
    }
    found
}

fn canonical(syms: &crate::ir::Syms, ty: Type) -> Type {
    match ty {
        Type::Tensor(t) => Type::Tensor(TensorType { shape: syms.shape(&t.shape), ..t }),
        Type::Tuple(ts) => {
            Type::Tuple(ts.into_iter().map(|t| TensorType { shape: syms.shape(&t.shape), ..t }).collect())
        }
        Type::Unit => Type::Unit,
    }
}

pub fn known(dtype: DType, shape: Shape) -> Ty {
    Ty::Known(Type::Tensor(TensorType { dtype, shape }))
}

pub fn with_shape(dtype: DType, shape: ShapeOut) -> Ty {
    match shape {
        ShapeOut::Known(shape) => known(dtype, shape),
        ShapeOut::Pending(p) => Ty::Pending(Pending { dtype, ..p }),
        ShapeOut::Stop => Ty::Poison,
    }
}

/// How to mend two shapes that do not broadcast, when a common mistake explains it.
fn broadcast_help(a: &[Dim], b: &[Dim]) -> Option<String> {
    let (matrix, vector) = match (a.len(), b.len()) {
        (2, 1) => (a, b),
        (1, 2) => (b, a),
        _ => return None,
    };
    (vector[0] == matrix[0]).then(|| {
        "a `[n]` vector broadcasts over the rows of an `[m, n]` matrix, matching its last dimension; to add one value per row, give it shape `[m, 1]`".to_string()
    })
}

pub fn dim_text(d: Dim) -> String {
    match d {
        Dim::Known(n) => n.to_string(),
        Dim::Sym(_) => "None".into(),
    }
}

/// The broadcast of two shapes, or the first two dimensions that cannot broadcast.
pub fn broadcast(syms: &mut crate::ir::Syms, a: &[Dim], b: &[Dim]) -> Result<Shape, (Dim, Dim)> {
    let rank = a.len().max(b.len());
    let at = |s: &[Dim], k: usize| if k + s.len() >= rank { s[k + s.len() - rank] } else { Dim::Known(1) };
    (0..rank)
        .map(|k| {
            let (x, y) = (syms.get(at(a, k)), syms.get(at(b, k)));
            match (x, y) {
                (Dim::Known(1), d) | (d, Dim::Known(1)) => Ok(d),
                _ => syms.unify(x, y).map_err(|_| (x, y)),
            }
        })
        .collect()
}
