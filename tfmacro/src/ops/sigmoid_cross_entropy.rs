//! `tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)` and `tf.math.log_sigmoid(x)`, built
//! from other ops as TensorFlow builds them (`nn_impl.py`, and `log_sigmoid = -softplus(-x)`):
//!
//! ```text
//! relu = where(logits >= 0, logits, 0)
//! neg_abs = where(logits >= 0, -logits, logits)
//! cross_entropy = relu - logits * labels + log(1 + exp(neg_abs))
//! softplus(x) = where(x >= 0, x, 0) + log(1 + exp(where(x >= 0, -x, x)))
//! ```
//!
//! `exp` of a value at most 0 never overflows, and the logarithm is of a value in `(1, 2]`, so the
//! loss stays finite where `tf.log(tf.sigmoid(z))` gives `-inf` (and its gradient NaN) once the
//! sigmoid underflows. The two `where`s split at 0 as TensorFlow's do, so that the derived
//! gradient at `logits = 0` is TensorFlow's (`sigmoid(0) - labels`), which `relu` and `abs`
//! would not give. TensorFlow takes `log1p(exp(neg_abs))`; this takes `log(1 + exp(neg_abs))`,
//! which differs by less than `exp(neg_abs)`'s rounding in `1 + ·` (under 6e-8 absolute), as the
//! README's differences say.
//!
//! `tf.log(tf.sigmoid(z))` is computed as `log_sigmoid(z)`, and `tf.log(1 - tf.sigmoid(z))` as
//! `log_sigmoid(-z)` (their values where the sigmoid does not underflow, finite where it does),
//! so the cross entropy spelt out, `-(y * tf.log(tf.sigmoid(z)) + (1 - y) * tf.log(1 -
//! tf.sigmoid(z)))`, trains as the fused op does.

use super::compare::Compare;
use super::select::Where;
use super::Call;
use crate::ir::{Binary, NodeId, Number, Op, Unary};
use crate::resolve::Resolver;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.sigmoid_cross_entropy_with_logits", "math.log_sigmoid"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let (op, loc) = (call.op(), call.loc);
    match call.name {
        "nn.sigmoid_cross_entropy_with_logits" => {
            // TensorFlow 1's first parameter is a sentinel that makes positional arguments an
            // error: `labels` and `logits` are given by name.
            let Some(b) = r.bind(&op, loc, call.args, &["labels", "logits"], 2) else { return Some(r.poison(loc)) };
            let (labels, logits) = (r.lower_arg(b[0]), r.lower_arg(b[1]));
            let mut nodes = Nodes { r, call };
            Some(nodes.cross_entropy(labels, logits))
        }
        "math.log_sigmoid" | "log_sigmoid" => {
            let Some(b) = r.bind(&op, loc, call.args, &["x"], 1) else { return Some(r.poison(loc)) };
            let x = r.lower_arg(b[0]);
            Some(Nodes { r, call }.log_sigmoid(x))
        }
        _ => None,
    }
}

/// `tf.log(tf.sigmoid(z))` or `tf.log(1 - tf.sigmoid(z))`, given the `tf.log` node `log`: the
/// nodes of `log_sigmoid(z)` or `log_sigmoid(-z)` instead. `None` if `log` reads neither.
pub fn log_of_sigmoid(r: &mut Resolver, call: &Call, log: NodeId) -> Option<NodeId> {
    let x = *r.graph.nodes[log].inputs.first()?;
    let sigmoid_input = |r: &Resolver, id: NodeId| {
        let node = &r.graph.nodes[id];
        matches!(node.op, Op::Unary(Unary::Sigmoid)).then(|| node.inputs[0])
    };
    if let Some(z) = sigmoid_input(r, x) {
        return Some(Nodes { r, call }.log_sigmoid(z));
    }
    // `1 - tf.sigmoid(z)` is `tf.sigmoid(-z)`.
    let node = &r.graph.nodes[x];
    let one =
        |id: NodeId| matches!(r.graph.nodes[id].op, Op::Literal(Number::Int(1)) | Op::Literal(Number::Float(1.0)));
    if !matches!(node.op, Op::Binary(Binary::Sub)) || !one(node.inputs[0]) {
        return None;
    }
    let z = sigmoid_input(r, node.inputs[1])?;
    let mut nodes = Nodes { r, call };
    let minus_z = nodes.node(Op::Unary(Unary::Neg), vec![z], "-logits");
    Some(nodes.log_sigmoid(minus_z))
}

/// Nodes added for one call, each labelled in the graph's words.
struct Nodes<'r, 'c, 'e> {
    r: &'r mut Resolver<'e>,
    call: &'c Call<'c>,
}

impl Nodes<'_, '_, '_> {
    fn node(&mut self, op: Op, inputs: Vec<NodeId>, label: &str) -> NodeId {
        super::part_of(self.r, self.call, op, inputs, label)
    }

    /// `(where(x >= 0, x, 0), where(x >= 0, -x, x))`: `x`'s positive part and `-|x|`, split at 0
    /// as TensorFlow splits them.
    fn split(&mut self, x: NodeId) -> (NodeId, NodeId) {
        let zero = self.node(Op::Literal(Number::Int(0)), Vec::new(), "0");
        let at_least_zero = self.node(Op::Compare(Compare::Ge), vec![x, zero], "logits >= 0");
        let positive = self.node(Op::Where(Where), vec![at_least_zero, x, zero], "where(logits >= 0, logits, 0)");
        let minus_x = self.node(Op::Unary(Unary::Neg), vec![x], "-logits");
        let neg_abs = self.node(Op::Where(Where), vec![at_least_zero, minus_x, x], "-abs(logits)");
        (positive, neg_abs)
    }

    /// `log(1 + exp(neg_abs))`.
    fn log_one_plus_exp(&mut self, neg_abs: NodeId) -> NodeId {
        let exp = self.node(Op::Unary(Unary::Exp), vec![neg_abs], "exp(-abs(logits))");
        let one = self.node(Op::Literal(Number::Int(1)), Vec::new(), "1");
        let sum = self.node(Op::Binary(Binary::Add), vec![one, exp], "1 + exp(-abs(logits))");
        self.node(Op::Unary(Unary::Log), vec![sum], "log(1 + exp(-abs(logits)))")
    }

    fn cross_entropy(&mut self, labels: NodeId, logits: NodeId) -> NodeId {
        let (positive, neg_abs) = self.split(logits);
        let product = self.node(Op::Binary(Binary::Mul), vec![logits, labels], "logits * labels");
        let difference = self.node(Op::Binary(Binary::Sub), vec![positive, product], "relu(logits) - logits * labels");
        let log = self.log_one_plus_exp(neg_abs);
        self.node(Op::Binary(Binary::Add), vec![difference, log], "the sigmoid cross entropy")
    }

    /// `-softplus(-x)`.
    fn log_sigmoid(&mut self, x: NodeId) -> NodeId {
        let minus_x = self.node(Op::Unary(Unary::Neg), vec![x], "-x");
        let (positive, neg_abs) = self.split(minus_x);
        let log = self.log_one_plus_exp(neg_abs);
        let softplus = self.node(Op::Binary(Binary::Add), vec![positive, log], "softplus(-x)");
        self.node(Op::Unary(Unary::Neg), vec![softplus], "log_sigmoid(x)")
    }
}
