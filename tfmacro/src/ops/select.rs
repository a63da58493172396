//! `tf.where(condition, x, y)`: `x` where the condition holds, else `y`, the three broadcast.

use super::{same_type, splat, Call, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::error::with_help;
use crate::eval::{indices, Tensor};
use crate::infer::{with_shape, Pass, Ty};
use crate::ir::{DType, Graph, NodeId, Number, Op, Scalar, Type};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, default_dtype, Resolver};
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.where(cond, x, y)`. Inputs: `[cond, x, y]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Where;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["where"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if !matches!(call.name, "where" | "where_v2") {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["condition", "x", "y"], 1) else { return Some(r.poison(loc)) };
    if b[1].is_none() || b[2].is_none() {
        return Some(r.error(loc, "`tf.where` with only a condition returns the indices of its true elements, whose shape is not known at compile time; pass `x` and `y`"));
    }
    let inputs = b.iter().map(|e| r.lower_arg(*e)).collect();
    let node = r.graph.add(Op::Where(Where), inputs, loc, call.op_loc);
    Some(r.used_at(node, &arg_locs(&b)))
}

impl Rules for Where {
    fn name(&self) -> String {
        "tf.where".into()
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let inputs = (0..3).map(|k| e.input(id, k)).collect();
        Ok(e.node("Where", inputs, vec![]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let inputs = p.graph.nodes[id].inputs.clone();
        if !check_condition(p, id, inputs[0]) {
            return Ty::Poison;
        }
        let Some(dtype) = p.check_same_dtype(id, &inputs[1..]) else { return Ty::Poison };
        let shape = p.check_broadcast(id, &inputs);
        with_shape(dtype, shape)
    }

    fn differentiable(&self, k: usize) -> bool {
        k > 0
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let cond = b.graph.nodes[id].inputs[0];
        let tx = b.ty(b.graph.nodes[id].inputs[k]);
        let zero = b.number(0.0, tx.dtype);
        let t = b.ty(g);
        let picked = if k == 1 { vec![cond, g, zero] } else { vec![cond, zero, g] };
        let part = b.node(Op::Where(Where), picked, t);
        Some(b.unbroadcast(part, &tx))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(
            indices(shape)
                .iter()
                .map(|i| match inputs[0].at(shape, i) {
                    Scalar::B(true) => inputs[1].at(shape, i),
                    _ => inputs[2].at(shape, i),
                })
                .collect(),
        )
    }

    // A constant condition picks one side.
    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        let inputs = &graph.nodes[id].inputs;
        match splat(graph, inputs[0]) {
            Some(Scalar::B(true)) if same_type(graph, id, inputs[1]) => Some(inputs[1]),
            Some(Scalar::B(false)) if same_type(graph, id, inputs[2]) => Some(inputs[2]),
            _ => None,
        }
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let (c, x, y) = (cx.input(id, 0, idx), cx.input(id, 1, idx), cx.input(id, 2, idx));
        quote!(if #c { #x } else { #y })
    }
}

// `tf.where(cond, x, y)` takes a bool condition.
//   tf.where(v_guess, y, a)  // error: the condition is `float32`
fn check_condition(p: &mut Pass, id: NodeId, cond: NodeId) -> bool {
    let dtype = match &p.tys[cond] {
        Ty::Known(Type::Tensor(t)) => t.dtype,
        Ty::Pending(pending) => pending.dtype,
        Ty::Weak(Number::Bool(_)) => DType::Bool,
        Ty::Weak(n) => default_dtype(*n).unwrap_or(DType::Int32),
        _ => return false,
    };
    if dtype == DType::Bool {
        return true;
    }
    let message = with_help(
        format_args!("the condition of {} must be `bool`, but {} is `{dtype}`", p.op(id), p.describe(cond)),
        Some("compare to get a condition, as in `tf.where(x > 0, x, y)`".into()),
    );
    p.errors.at(p.use_loc(id, 0), message);
    false
}
