//! `tf.nn.log_softmax(logits)` and `tf.nn.softmax_cross_entropy_with_logits(labels, logits)`
//! (also `_v2`), along the last axis, built from other ops as TensorFlow's kernels compute them:
//!
//! ```text
//! shifted = logits - stop_gradient(reduce_max(logits, axis = -1, keepdims = true))
//! log_softmax = shifted - log(reduce_sum(exp(shifted), axis = -1, keepdims = true))
//! cross_entropy = -reduce_sum(labels * log_softmax, axis = -1)
//! ```
//!
//! Shifting by the maximum keeps `exp` from overflowing, and the logarithm is taken of a sum that
//! is at least 1, so the loss stays finite where `tf.log(tf.nn.softmax(x))` gives `-inf` (and
//! its gradient NaN) once a probability underflows. The maximum passes no gradient (it cancels
//! out of the value), so the derived gradient is TensorFlow's: `g - softmax * sum(g)` for
//! `log_softmax`, `(softmax - labels) * g` for the cross entropy. As in TensorFlow, the labels of
//! `softmax_cross_entropy_with_logits` take no gradient and those of `_v2` do.

use super::identity::Identity;
use super::reduce::Reduce;
use super::Call;
use crate::ir::{Binary, NodeId, Op, Unary};
use crate::resolve::Resolver;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.log_softmax", "nn.softmax_cross_entropy_with_logits_v2"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let (op, loc) = (call.op(), call.loc);
    let (labels, logits, stop_labels) = match call.name {
        "nn.log_softmax" | "math.log_softmax" => {
            let b = r.bind(&op, loc, call.args, &["logits", "axis"], 1);
            let Some(b) = b.filter(|b| check_last_axis(r, b[1])) else { return Some(r.poison(loc)) };
            (None, r.lower_arg(b[0]), false)
        }
        "nn.softmax_cross_entropy_with_logits" | "nn.softmax_cross_entropy_with_logits_v2" => {
            let b = r.bind(&op, loc, call.args, &["labels", "logits", "axis", "dim"], 2);
            let Some(b) = b.filter(|b| check_last_axis(r, b[2].or(b[3]))) else { return Some(r.poison(loc)) };
            let stop = !call.name.ends_with("_v2");
            (Some(r.lower_arg(b[0])), r.lower_arg(b[1]), stop)
        }
        _ => return None,
    };
    Some(build(r, call, labels, logits, stop_labels))
}

/// `tf.log(tf.nn.softmax(z))`, the seed's spelling of log-probabilities (and, multiplied by
/// `tf.one_hot(y)` and summed over the classes, of its loss), given the `tf.log` node `log`:
/// the nodes of `tf.nn.log_softmax(z)` instead, the same value where `softmax` does not
/// underflow, with the same gradient, computed as the fused cross entropy is. Where a probability
/// underflows to 0, TensorFlow's literal `log` gives `-inf` (and a NaN gradient); this gives the
/// finite log-probability (the README's differences say so). `None` if `log` does not read a
/// softmax.
pub fn log_of_softmax(r: &mut Resolver, call: &Call, log: NodeId) -> Option<NodeId> {
    let x = *r.graph.nodes[log].inputs.first()?;
    if !matches!(r.graph.nodes[x].op, Op::Softmax(_)) {
        return None;
    }
    let z = r.graph.nodes[x].inputs[0];
    Some(build(r, call, None, z, false))
}

/// The nodes of `log_softmax(logits)`, and of the cross entropy with `labels` if given.
fn build(r: &mut Resolver, call: &Call, labels: Option<NodeId>, logits: NodeId, stop_labels: bool) -> NodeId {
    let mut node = |op: Op, inputs: Vec<NodeId>, label: &str| super::part_of(r, call, op, inputs, label);
    let last = |max: bool| Op::Reduce(Reduce { mean: false, max, axes: Some(vec![-1]), keepdims: true });
    let max = node(last(true), vec![logits], "reduce_max(logits)");
    let max = node(Op::Identity(Identity { stop_gradient: true }), vec![max], "reduce_max(logits)");
    let shifted = node(Op::Binary(Binary::Sub), vec![logits, max], "logits - reduce_max(logits)");
    let exp = node(Op::Unary(Unary::Exp), vec![shifted], "exp(shifted)");
    let total = node(last(false), vec![exp], "reduce_sum(exp(shifted))");
    let log = node(Op::Unary(Unary::Log), vec![total], "log(reduce_sum(exp(shifted)))");
    let log_softmax = node(Op::Binary(Binary::Sub), vec![shifted, log], "log_softmax(logits)");
    let Some(mut labels) = labels else { return log_softmax };
    if stop_labels {
        labels = node(Op::Identity(Identity { stop_gradient: true }), vec![labels], "labels");
    }
    let product = node(Op::Binary(Binary::Mul), vec![labels, log_softmax], "labels * log_softmax(logits)");
    let sum = Op::Reduce(Reduce { mean: false, max: false, axes: Some(vec![-1]), keepdims: false });
    let sum = node(sum, vec![product], "reduce_sum(labels * log_softmax(logits))");
    node(Op::Unary(Unary::Neg), vec![sum], "the cross entropy")
}

// Only the last axis, TensorFlow's default (`axis = -1`).
//   tf.nn.log_softmax(x, axis = 0)  // error
fn check_last_axis(r: &mut Resolver, axis: Option<&crate::ast::Expr>) -> bool {
    let Some(e) = axis else { return true };
    if matches!(r.literal(e), Some(crate::ir::Number::Int(-1))) {
        return true;
    }
    r.errors.at(e.loc, "only `axis = -1` (the default, the last axis) is supported");
    false
}
