//! `tf.one_hot(indices, depth, on_value = 1, off_value = 0, dtype = None)`: a new last axis of
//! `depth`, `on_value` at each index and `off_value` elsewhere.
//!
//! `on_value` and `off_value` are numbers or scalar tensors. The dtype is TensorFlow's: `dtype` if
//! given, else that of `on_value`, else that of `off_value`, else `float32`; numbers take it, and
//! tensors must have it.

use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::error::with_help;
use crate::eval::{indices, Tensor};
use crate::infer::{known, Operand, Pass, Step, Ty};
use crate::ir::{DType, Dim, DimSpec, NodeId, Number, Op, Scalar, Type};
use crate::onnx::export::Export;
use crate::resolve::{default_dtype, rank_error, Resolver};
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.one_hot`. Inputs: `[indices, on_value, off_value]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct OneHot {
    pub depth: usize,
    /// The `dtype` argument, if given.
    pub dtype: Option<DType>,
    /// Whether `on_value` and `off_value` were given (rather than the default 1 and 0).
    pub given: [bool; 2],
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["one_hot"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "one_hot" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let params = ["indices", "depth", "on_value", "off_value", "axis", "dtype"];
    let Some(b) = r.bind(&op, loc, call.args, &params, 2) else { return Some(r.poison(loc)) };
    let indices = r.lower_arg(b[0]);
    let depth = b[1].and_then(|e| r.dim(e, false));
    let mut value = |arg: Option<&crate::ast::Expr>, default: i128| match arg {
        Some(e) => r.lower(e),
        None => r.graph.add(Op::Literal(Number::Int(default)), Vec::new(), loc, loc),
    };
    let (on, off) = (value(b[2], 1), value(b[3], 0));
    let given = [b[2].is_some(), b[3].is_some()];
    if let Some(axis) = b[4] {
        if !matches!(r.literal(axis), Some(Number::Int(-1))) {
            r.errors.at(axis.loc, "only `axis = -1` (the default) is supported");
        }
    }
    let dtype = match b[5] {
        Some(e) => r.dtype(e).map(Some),
        None => Some(None),
    };
    Some(match (depth, dtype) {
        (Some(DimSpec::Known(depth)), Some(dtype)) => {
            let node =
                r.graph.add(Op::OneHot(OneHot { depth, dtype, given }), vec![indices, on, off], loc, call.op_loc);
            let at = |k: usize| b[k].map_or(loc, |e| e.loc);
            r.used_at(node, &[at(0), at(2), at(3)])
        }
        _ => r.poison(loc),
    })
}

impl Rules for OneHot {
    fn name(&self) -> String {
        "tf.one_hot".into()
    }

    // The depth is a new last axis: row `r` is the one-hot of index `r`.
    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        let x = graph.nodes[id].inputs[0];
        let rows = |n: NodeId| graph.tensor(n).and_then(|t| super::rows_of(&t.shape));
        if rows(id).is_some() && rows(x) == rows(id) {
            super::ByRows::Rows
        } else {
            super::ByRows::No
        }
    }

    // As `indices[..., None] == range(depth)`, chosen between the two values: an index out of
    // range (negative, or `depth` and above) gives a row of `off_value`, as in TensorFlow (ONNX's
    // `OneHot` counts negative indices from the end, and engines disagree on the rest).
    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let (indices, on, off) = (e.input(id, 0), e.input(id, 1), e.input(id, 2));
        let index_dtype = e.ty(e.graph.nodes[id].inputs[0])?.dtype;
        let range: Vec<Scalar> = (0..self.depth as i64).map(Scalar::I).collect();
        let range = e.constant(index_dtype, &[self.depth], &range);
        let last = e.ints(&[-1]);
        let column = e.node("Unsqueeze", vec![indices, last], vec![]);
        let hot = e.node("Equal", vec![column, range], vec![]);
        Ok(e.node("Where", vec![hot, on, off], vec![]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let indices = p.graph.nodes[id].inputs[0];
        let Some(dtype) = self.check_values(p, id) else { return Ty::Poison };
        match p.operand(indices, None) {
            Some(Operand::Tensor(t)) => {
                if !check_indices(p, id, indices, t.dtype) {
                    return Ty::Poison;
                }
                let mut shape = t.shape;
                shape.push(Dim::Known(self.depth));
                if shape.len() > crate::resolve::MAX_RANK {
                    p.errors.at(
                        p.op_loc(id),
                        format_args!("{} of {}", rank_error(shape.len()), p.shape_text(&shape[..shape.len() - 1])),
                    );
                    return Ty::Poison;
                }
                known(dtype, shape)
            }
            Some(Operand::Pending(mut pending)) => {
                if !check_indices(p, id, indices, pending.dtype) {
                    return Ty::Poison;
                }
                pending.chain.push(Step::OneHot(self.depth));
                pending.dtype = dtype;
                Ty::Pending(pending)
            }
            None => Ty::Poison,
        }
    }

    fn differentiable(&self, _k: usize) -> bool {
        false
    }

    fn gradient(&self, _b: &mut Builder, _id: NodeId, _k: usize, _g: NodeId) -> Option<NodeId> {
        None
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let (on, off) = (*inputs[1].data.first()?, *inputs[2].data.first()?);
        let rank = shape.len();
        Some(
            indices(shape)
                .iter()
                .map(|i| {
                    let index = match inputs[0].at(&inputs[0].shape, &i[..rank - 1]) {
                        Scalar::I(v) => v,
                        _ => return off,
                    };
                    if index == i[rank - 1] as i64 {
                        on
                    } else {
                        off
                    }
                })
                .collect(),
        )
    }

    fn reads(&self) -> Reads {
        Reads::Repeatedly
    }

    fn cheap(&self) -> bool {
        true
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let inputs = &cx.graph.nodes[id].inputs;
        let (last, rest) = idx.split_last().expect("one_hot has rank 1 or more");
        let index = cx.elem(inputs[0], rest);
        let (on, off) = (cx.elem(inputs[1], &[]), cx.elem(inputs[2], &[]));
        quote!(if (#index) as i64 == #last as i64 { #on } else { #off })
    }
}

impl OneHot {
    // The dtype is `dtype`, else `on_value`'s, else `off_value`'s, else `float32`; a number takes
    // it, a tensor must have it, and both values are scalars.
    //   tf.one_hot(i, 3, on_value = 5, off_value = 0.5)  // error: `0.5` cannot be `int32`
    //   tf.one_hot(i, 3, on_value = tf.constant(2.0), dtype = tf.float64)  // error: `float32`
    fn check_values(&self, p: &mut Pass, id: NodeId) -> Option<DType> {
        let values = [p.graph.nodes[id].inputs[1], p.graph.nodes[id].inputs[2]];
        let dtype_of = |p: &Pass, v: NodeId| match &p.tys[v] {
            Ty::Known(Type::Tensor(t)) => Some(t.dtype),
            Ty::Weak(n) => default_dtype(*n),
            _ => None,
        };
        let from_values = (0..2).filter(|&k| self.given[k]).find_map(|k| Some((k, dtype_of(p, values[k])?)));
        let (dtype, source) = match (self.dtype, from_values) {
            (Some(dtype), _) => (dtype, "the `dtype` argument"),
            (None, Some((k, dtype))) => (dtype, ["`on_value`", "`off_value`"][k]),
            (None, None) => (DType::Float32, "the default"),
        };
        for (k, &v) in values.iter().enumerate() {
            let role = ["on_value", "off_value"][k];
            if let Ty::Weak(_) = p.tys[v] {
                if !p.coerce(v, dtype, || format!("the dtype of this `tf.one_hot`, which {source} sets")) {
                    return None;
                }
            }
            let t = p.graph.tensor(v).cloned().or_else(|| match &p.tys[v] {
                Ty::Known(Type::Tensor(t)) => Some(t.clone()),
                _ => None,
            })?;
            if t.dtype != dtype {
                p.errors.at(
                    p.use_loc(id, k + 1),
                    format_args!(
                        "`{role}` of `tf.one_hot` is `{}`, but the result is `{dtype}`, which {source} sets",
                        t.dtype
                    ),
                );
                return None;
            }
            if t.rank() != 0 {
                p.errors.at(
                    p.use_loc(id, k + 1),
                    format_args!(
                        "`{role}` of `tf.one_hot` is a scalar, but {} has shape {}",
                        p.describe(v),
                        p.shape_text(&t.shape)
                    ),
                );
                return None;
            }
        }
        Some(dtype)
    }
}

// `tf.one_hot` takes integer indices.
//   tf.one_hot(tf.constant([0.0, 1.0]), 2)  // error: found `float32`
fn check_indices(p: &mut Pass, id: NodeId, indices: NodeId, dtype: DType) -> bool {
    if dtype.is_integer() {
        return true;
    }
    let message = with_help(
        format_args!("`tf.one_hot` needs integer indices, but {} is `{dtype}`", p.describe(indices)),
        Some("indices are `uint8`, `int32` or `int64`; convert with `tf.cast(x, tf.int32)`".into()),
    );
    p.errors.at(p.use_loc(id, 0), message);
    false
}
