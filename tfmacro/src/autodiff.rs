//! Phase 4, differentiate: `tf.gradients` and `minimize` become plain nodes.
//!
//! Reverse mode, worked out on the IR at expansion time: from the loss back to the variables,
//! each node's adjoint is the sum of what its consumers send it, and each op's rule builds the
//! adjoints of its inputs out of ordinary nodes (the rules follow TensorFlow's gradient functions
//! and kernels, so the arithmetic matches theirs). The rules read the forward nodes they need
//! (`exp` reuses its own output), so after [`crate::optimise`] merges what the forward and
//! backward passes share, every value is computed once, and emission prunes each fetch to what it
//! needs. Nothing of this exists at run time: no tape, no heap.
//!
//! `minimize` becomes a `tf.group` of assignments: every gradient is computed from one forward
//! pass, then every variable is updated, as TensorFlow's `apply_gradients` does. The optimisers'
//! state (velocities, moments, the powers of Adam's betas) are variables of their own, kept in the
//! session.

use crate::error::Loc;
use crate::ir::{
    AssignKind, Binary, DType, Data, Dim, Graph, NodeId, Number, Op, OptimizerKind, Scalar, Storage, TensorType, Type,
    Unary, Variable,
};
use crate::ops::cast::Cast;
use crate::ops::reduce::Reduce;
use crate::ops::shape::{BroadcastTo, Reshape};
use crate::values::convert_number;
use std::collections::HashMap;

/// Replaces every `tf.gradients` and `minimize` node of a checked graph.
pub fn differentiate(graph: &mut Graph) {
    for id in 0..graph.nodes.len() {
        match graph.nodes[id].op.clone() {
            Op::Gradients => {
                let inputs = graph.nodes[id].inputs.clone();
                let mut builder = Builder { graph: &mut *graph, loc: Loc::span(proc_macro2::Span::call_site()) };
                builder.loc = builder.graph.nodes[id].loc;
                let grads = builder.gradients(inputs[0], &inputs[1..]);
                graph.nodes[id].op = Op::Tuple;
                graph.nodes[id].inputs = grads;
            }
            Op::Minimize { optimizer, hyper, var_list } => {
                let inputs = graph.nodes[id].inputs.clone();
                let (loss, hyper) = (inputs[0], inputs[1..1 + hyper].to_vec());
                let loc = graph.nodes[id].loc;
                let mut builder = Builder { graph: &mut *graph, loc };
                let variables = if var_list { inputs[1 + hyper.len()..].to_vec() } else { builder.trainable(loss) };
                let reachable = builder.reachable(loss, &variables);
                let variables: Vec<NodeId> = variables.into_iter().filter(|v| reachable.contains(v)).collect();
                let grads = builder.gradients(loss, &variables);
                let updates = builder.apply(&optimizer.kind, optimizer.id, &hyper, &variables, &grads);
                graph.nodes[id].op = Op::Group;
                graph.nodes[id].inputs = updates;
            }
            _ => {}
        }
    }
}

/// Adds typed nodes to the graph; the ops' gradient rules build with it.
pub struct Builder<'g> {
    pub graph: &'g mut Graph,
    /// Where the `tf.gradients` or `minimize` came from: the new nodes' location.
    loc: Loc,
}

impl Builder<'_> {
    pub fn ty(&self, id: NodeId) -> TensorType {
        self.graph.tensor(id).cloned().expect("differentiated nodes are typed tensors")
    }

    pub fn node(&mut self, op: Op, inputs: Vec<NodeId>, ty: TensorType) -> NodeId {
        let id = self.graph.add(op, inputs, self.loc, self.loc);
        self.graph.nodes[id].ty = Some(Type::Tensor(ty));
        id
    }

    /// A scalar constant.
    pub fn number(&mut self, value: f64, dtype: DType) -> NodeId {
        let scalar = match convert_number(Number::Float(value), dtype) {
            Ok(s) => s,
            Err(_) => Scalar::I(value as i64),
        };
        self.node(
            Op::Const { dtype, shape: Vec::new(), data: Data::Splat(scalar) },
            Vec::new(),
            TensorType::scalar(dtype),
        )
    }

    /// `value` everywhere in `shape`.
    pub fn fill(&mut self, value: f64, ty: &TensorType) -> NodeId {
        let scalar = self.number(value, ty.dtype);
        self.broadcast_to(scalar, ty)
    }

    pub fn broadcast_to(&mut self, x: NodeId, ty: &TensorType) -> NodeId {
        if self.ty(x) == *ty {
            return x;
        }
        self.node(Op::BroadcastTo(BroadcastTo), vec![x], ty.clone())
    }

    /// A binary op; the result has the broadcast shape of the operands.
    pub fn binary(&mut self, b: Binary, x: NodeId, y: NodeId) -> NodeId {
        let (tx, ty) = (self.ty(x), self.ty(y));
        let shape = broadcast_shape(&tx.shape, &ty.shape);
        self.node(Op::Binary(b), vec![x, y], TensorType { dtype: tx.dtype, shape })
    }

    pub fn mul(&mut self, x: NodeId, y: NodeId) -> NodeId {
        self.binary(Binary::Mul, x, y)
    }

    pub fn div(&mut self, x: NodeId, y: NodeId) -> NodeId {
        self.binary(Binary::Div, x, y)
    }

    pub fn add(&mut self, x: NodeId, y: NodeId) -> NodeId {
        self.binary(Binary::Add, x, y)
    }

    pub fn sub(&mut self, x: NodeId, y: NodeId) -> NodeId {
        self.binary(Binary::Sub, x, y)
    }

    pub fn unary(&mut self, u: Unary, x: NodeId) -> NodeId {
        let t = self.ty(x);
        self.node(Op::Unary(u), vec![x], t)
    }

    /// A scalar `c` combined with `x`.
    pub fn with_number(&mut self, b: Binary, c: f64, x: NodeId) -> NodeId {
        let n = self.number(c, self.ty(x).dtype);
        self.binary(b, n, x)
    }

    /// The sum of `x` over `axes`, keeping them as size 1.
    pub fn sum_keep(&mut self, x: NodeId, axes: Vec<i64>) -> NodeId {
        let mut t = self.ty(x);
        for &a in &axes {
            t.shape[a as usize] = Dim::Known(1);
        }
        self.node(Op::Reduce(Reduce { mean: false, max: false, axes: Some(axes), keepdims: true }), vec![x], t)
    }

    pub fn reshape(&mut self, x: NodeId, shape: Vec<Dim>) -> NodeId {
        let t = self.ty(x);
        if t.shape == shape {
            return x;
        }
        self.node(Op::Reshape(Reshape), vec![x], TensorType { dtype: t.dtype, shape })
    }

    /// `g`, of a broadcast result's shape, summed back to the shape `to` of an operand (over the
    /// axes broadcasting added or stretched).
    pub fn unbroadcast(&mut self, g: NodeId, to: &TensorType) -> NodeId {
        let from = self.ty(g).shape;
        if from == to.shape {
            return g;
        }
        let offset = from.len() - to.shape.len();
        let axes: Vec<i64> = (0..from.len())
            .filter(|&k| k < offset || (to.shape[k - offset] == Dim::Known(1) && from[k] != Dim::Known(1)))
            .map(|k| k as i64)
            .collect();
        let summed = if axes.is_empty() { g } else { self.sum_keep(g, axes) };
        self.reshape(summed, to.shape.clone())
    }

    /// Every trainable float variable `loss` depends on, in declaration order.
    fn trainable(&self, loss: NodeId) -> Vec<NodeId> {
        let mut found: Vec<NodeId> = self
            .graph
            .topo_order(&[loss])
            .into_iter()
            .filter(|&id| match &self.graph.nodes[id].op {
                Op::Variable(v) => v.trainable && v.storage == Storage::User && self.ty(id).dtype.is_float(),
                _ => false,
            })
            .collect();
        found.sort_unstable();
        found
    }

    /// Which of `xs` `y` depends on through differentiable paths.
    fn reachable(&self, y: NodeId, xs: &[NodeId]) -> Vec<NodeId> {
        let depends = self.depends(y, xs);
        xs.iter().copied().filter(|x| depends.get(x).copied().unwrap_or(false)).collect()
    }

    /// For each node `y` reads: whether it depends on one of `xs` through differentiable inputs.
    fn depends(&self, y: NodeId, xs: &[NodeId]) -> HashMap<NodeId, bool> {
        let mut depends = HashMap::new();
        for id in self.graph.topo_order(&[y]) {
            let node = &self.graph.nodes[id];
            let float = self.graph.tensor(id).is_some_and(|t| t.dtype.is_float());
            let d = xs.contains(&id)
                || (float
                    && node.inputs.iter().enumerate().any(|(k, input)| {
                        differentiable_input(&node.op, k) && depends.get(input).copied().unwrap_or(false)
                    }));
            depends.insert(id, d);
        }
        depends
    }

    /// The gradient of `y` (summed, if not a scalar) with respect to each of `xs`; zeros where
    /// `y` does not depend on an `x`.
    fn gradients(&mut self, y: NodeId, xs: &[NodeId]) -> Vec<NodeId> {
        let depends = self.depends(y, xs);
        let order = self.graph.topo_order(&[y]);
        let mut adjoints: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        let seed = self.fill(1.0, &self.ty(y));
        adjoints.insert(y, vec![seed]);
        let mut done: HashMap<NodeId, NodeId> = HashMap::new();
        for &id in order.iter().rev() {
            if !depends.get(&id).copied().unwrap_or(false) {
                continue;
            }
            let Some(parts) = adjoints.remove(&id) else { continue };
            let mut g = parts[0];
            for &part in &parts[1..] {
                g = self.add(g, part);
            }
            done.insert(id, g);
            let inputs = self.graph.nodes[id].inputs.clone();
            for (k, &input) in inputs.iter().enumerate() {
                if !differentiable_input(&self.graph.nodes[id].op, k) || !depends.get(&input).copied().unwrap_or(false)
                {
                    continue;
                }
                if let Some(part) = self.rule(id, k, g) {
                    adjoints.entry(input).or_default().push(part);
                }
            }
        }
        xs.iter()
            .map(|&x| match done.get(&x) {
                Some(&g) => g,
                None => self.fill(0.0, &self.ty(x)),
            })
            .collect()
    }

    /// The adjoint node `id` sends to its input `k`, given its own adjoint `g`: the op's rule, in
    /// its home in [`crate::ops`].
    fn rule(&mut self, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let op = self.graph.nodes[id].op.clone();
        op.rules()?.gradient(self, id, k, g)
    }

    /// The assignments one step of an optimiser makes.
    fn apply(
        &mut self,
        kind: &OptimizerKind,
        opt: usize,
        hyper: &[NodeId],
        vars: &[NodeId],
        grads: &[NodeId],
    ) -> Vec<NodeId> {
        // As TensorFlow's optimisers do: the hyper-parameters are tensors (a Python number becomes
        // a float32 one), Adam's beta powers are float32 variables, and each is cast to a
        // variable's dtype where that variable is updated (`_apply_dense`). So a float64 variable
        // trained at `0.1` steps by float32's 0.1.
        let mut updates = Vec::new();
        if vars.is_empty() {
            return updates;
        }
        let powers = match kind {
            OptimizerKind::Adam { beta1, beta2, .. } => {
                let b1p = self.slot(&format!("beta1_power_{opt}"), *beta1, &TensorType::scalar(DType::Float32));
                let b2p = self.slot(&format!("beta2_power_{opt}"), *beta2, &TensorType::scalar(DType::Float32));
                Some((b1p, b2p))
            }
            _ => None,
        };
        for (&var, &g) in vars.iter().zip(grads) {
            let tv = self.ty(var);
            let hyper: Vec<NodeId> = hyper.iter().map(|&h| self.cast_scalar(h, tv.dtype)).collect();
            let lr = hyper[0];
            let name = self.graph.nodes[var].name.as_ref().map_or_else(|| format!("v{var}"), ToString::to_string);
            match kind {
                // ApplyGradientDescent: var -= lr * grad.
                OptimizerKind::GradientDescent => {
                    let step = self.mul(lr, g);
                    updates.push(self.assign(AssignKind::Sub, var, step));
                }
                // ApplyMomentum: accum = accum * momentum + grad; var -= lr * accum
                // (Nesterov: var -= grad * lr + accum * momentum * lr).
                OptimizerKind::Momentum { use_nesterov } => {
                    let momentum = hyper[1];
                    let accum = self.slot(&format!("{name}_momentum_{opt}"), 0.0, &tv);
                    let decayed = self.mul(accum, momentum);
                    let accum_new = self.add(decayed, g);
                    updates.push(self.assign(AssignKind::Set, accum, accum_new));
                    let step = if *use_nesterov {
                        let a = self.mul(g, lr);
                        let b = self.mul(accum_new, momentum);
                        let b = self.mul(b, lr);
                        self.add(a, b)
                    } else {
                        self.mul(lr, accum_new)
                    };
                    updates.push(self.assign(AssignKind::Sub, var, step));
                }
                // ApplyAdam: alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
                // m += (g - m) * (1 - beta1); v += (g^2 - v) * (1 - beta2);
                // var -= m * alpha / (sqrt(v) + epsilon).
                OptimizerKind::Adam { beta1, beta2, epsilon } => {
                    let (b1p, b2p) = powers.expect("Adam has beta powers");
                    let (b1p, b2p) = (self.cast_scalar(b1p, tv.dtype), self.cast_scalar(b2p, tv.dtype));
                    let one_minus_b2p = self.with_number(Binary::Sub, 1.0, b2p);
                    let root = self.unary(Unary::Sqrt, one_minus_b2p);
                    let one_minus_b1p = self.with_number(Binary::Sub, 1.0, b1p);
                    let alpha = self.mul(lr, root);
                    let alpha = self.div(alpha, one_minus_b1p);
                    let m = self.slot(&format!("{name}_adam_m_{opt}"), 0.0, &tv);
                    let v = self.slot(&format!("{name}_adam_v_{opt}"), 0.0, &tv);
                    let gm = self.sub(g, m);
                    let beta1_t = self.python_float(*beta1, tv.dtype);
                    let c1 = self.with_number(Binary::Sub, 1.0, beta1_t);
                    let dm = self.mul(gm, c1);
                    let m_new = self.add(m, dm);
                    let g2 = self.unary(Unary::Square, g);
                    let gv = self.sub(g2, v);
                    let beta2_t = self.python_float(*beta2, tv.dtype);
                    let c2 = self.with_number(Binary::Sub, 1.0, beta2_t);
                    let dv = self.mul(gv, c2);
                    let v_new = self.add(v, dv);
                    updates.push(self.assign(AssignKind::Set, m, m_new));
                    updates.push(self.assign(AssignKind::Set, v, v_new));
                    let ma = self.mul(m_new, alpha);
                    let root_v = self.unary(Unary::Sqrt, v_new);
                    let eps = self.python_float(*epsilon, tv.dtype);
                    let denominator = self.add(root_v, eps);
                    let step = self.div(ma, denominator);
                    updates.push(self.assign(AssignKind::Sub, var, step));
                }
            }
        }
        if let (OptimizerKind::Adam { beta1, beta2, .. }, Some((b1p, b2p))) = (kind, powers) {
            let c1 = self.number(*beta1, DType::Float32);
            let next1 = self.mul(b1p, c1);
            let c2 = self.number(*beta2, DType::Float32);
            let next2 = self.mul(b2p, c2);
            updates.push(self.assign(AssignKind::Set, b1p, next1));
            updates.push(self.assign(AssignKind::Set, b2p, next2));
        }
        updates
    }

    fn assign(&mut self, kind: AssignKind, var: NodeId, value: NodeId) -> NodeId {
        let t = self.ty(var);
        self.node(Op::Assign(kind), vec![var, value], t)
    }

    /// A Python float as TensorFlow's optimisers hold it: a float32 tensor, cast to `dtype`.
    fn python_float(&mut self, value: f64, dtype: DType) -> NodeId {
        let single = self.number(value, DType::Float32);
        self.cast_scalar(single, dtype)
    }

    /// A scalar hyper-parameter in `dtype`.
    fn cast_scalar(&mut self, h: NodeId, dtype: DType) -> NodeId {
        if self.ty(h).dtype == dtype {
            return h;
        }
        self.node(Op::Cast(Cast { to: dtype }), vec![h], TensorType::scalar(dtype))
    }

    /// A new optimiser state variable, starting at `initial` everywhere.
    fn slot(&mut self, name: &str, initial: f64, ty: &TensorType) -> NodeId {
        let shape: Vec<usize> = ty.shape.iter().map(|d| if let Dim::Known(n) = d { *n } else { 1 }).collect();
        let value = convert_number(Number::Float(initial), ty.dtype).unwrap_or(Scalar::F(initial));
        let init = self.node(Op::Const { dtype: ty.dtype, shape, data: Data::Splat(value) }, Vec::new(), ty.clone());
        let variable = Variable { init, trainable: false, storage: Storage::Slot(name.to_string()) };
        self.node(Op::Variable(variable), Vec::new(), ty.clone())
    }
}

/// Whether gradients flow from a node with op `op` into its input `k`.
fn differentiable_input(op: &Op, k: usize) -> bool {
    match op {
        Op::Assign(_) | Op::Group | Op::Tuple | Op::Init | Op::Gradients | Op::Minimize { .. } => false,
        op => op.rules().is_none_or(|rules| rules.differentiable(k)),
    }
}

/// The broadcast of two shapes already checked by inference (so every pair is equal or 1).
fn broadcast_shape(a: &[Dim], b: &[Dim]) -> Vec<Dim> {
    let rank = a.len().max(b.len());
    let at = |s: &[Dim], k: usize| if k + s.len() >= rank { s[k + s.len() - rank] } else { Dim::Known(1) };
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (Dim::Known(1), d) => d,
            (d, _) => d,
        })
        .collect()
}
