//! `tf.nn.batch_normalization(x, mean, variance, offset, scale, variance_epsilon)`: TensorFlow
//! defines it in Python from other ops, and so does this module, node for node as
//! `nn_impl.batch_normalization` builds it:
//!
//! ```text
//! inv = rsqrt(variance + variance_epsilon)
//! inv = inv * scale                  (when scale is not None)
//! x * inv + (offset - mean * inv)    (or x * inv + -(mean * inv) when offset is None)
//! ```
//!
//! Its gradient, its folding (a constant `mean`, `variance`, `offset` and `scale` become one
//! multiplier and one offset per channel at compile time) and its emission are those of the ops
//! it is made of. Messages name each node it makes by its place in that formula, as part of
//! `tf.nn.batch_normalization`.

use super::Call;
use crate::ast::{Expr, ExprKind};
use crate::ir::{Binary, NodeId, Number, Op, Unary};
use crate::resolve::Resolver;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.batch_normalization"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "nn.batch_normalization" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let params = ["x", "mean", "variance", "offset", "scale", "variance_epsilon"];
    let Some(b) = r.bind(&op, loc, call.args, &params, 6) else { return Some(r.poison(loc)) };
    let epsilon = match b[5].map(|e| r.literal(e)) {
        Some(Some(n @ (Number::Float(_) | Number::Int(_)))) => n,
        _ => {
            let at = b[5].map_or(loc, |e| e.loc);
            return Some(r.error(at, "`variance_epsilon` is a number, such as `0.001`"));
        }
    };
    let x = r.lower_arg(b[0]);
    let mean = r.lower_arg(b[1]);
    let variance = r.lower_arg(b[2]);
    let offset = optional(r, b[3]);
    let scale = optional(r, b[4]);
    let mut node = |op: Op, inputs: Vec<NodeId>, label: &str| {
        let id = r.graph.add(op, inputs, loc, call.op_loc);
        r.graph.nodes[id].written = "tf.nn.batch_normalization".into();
        r.graph.nodes[id].label = Some(label.into());
        id
    };
    let epsilon = node(Op::Literal(epsilon), Vec::new(), "variance_epsilon");
    let shifted = node(Op::Binary(Binary::Add), vec![variance, epsilon], "variance + variance_epsilon");
    let mut inv = node(Op::Unary(Unary::Rsqrt), vec![shifted], "rsqrt(variance + variance_epsilon)");
    if let Some(scale) = scale {
        inv = node(Op::Binary(Binary::Mul), vec![inv, scale], "rsqrt(variance + variance_epsilon) * scale");
    }
    let scaled = node(Op::Binary(Binary::Mul), vec![x, inv], "x * inv");
    let mean_inv = node(Op::Binary(Binary::Mul), vec![mean, inv], "mean * inv");
    let shift = match offset {
        Some(offset) => node(Op::Binary(Binary::Sub), vec![offset, mean_inv], "offset - mean * inv"),
        None => node(Op::Unary(Unary::Neg), vec![mean_inv], "-mean * inv"),
    };
    Some(node(Op::Binary(Binary::Add), vec![scaled, shift], "tf.nn.batch_normalization"))
}

/// A tensor argument that may be `None`.
fn optional(r: &mut Resolver, arg: Option<&Expr>) -> Option<NodeId> {
    match arg {
        Some(Expr { kind: ExprKind::Name(name), .. }) if name == "None" => None,
        other => Some(r.lower_arg(other)),
    }
}
