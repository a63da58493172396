//! `tf.one_hot(indices, depth, on_value = 1, off_value = 0, dtype = tf.float32)`: a new last axis
//! of `depth`, `on_value` at each index and `off_value` elsewhere.

use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::body::{literal, Body};
use crate::error::with_help;
use crate::eval::{indices, Tensor};
use crate::infer::{known, Operand, Pass, Step, Ty};
use crate::ir::{DType, Dim, DimSpec, NodeId, Number, Op, Scalar};
use crate::resolve::{arg_locs, convert_number, rank_error, Resolver};
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.one_hot`. Inputs: `[indices]`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct OneHot {
    pub depth: usize,
    pub dtype: DType,
    pub on: Number,
    pub off: Number,
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
    let on = r.number_arg(b[2], Number::Int(1));
    let off = r.number_arg(b[3], Number::Int(0));
    if let Some(axis) = b[4] {
        if !matches!(r.literal(axis), Some(Number::Int(-1))) {
            r.errors.at(axis.loc, "only `axis = -1` (the default) is supported");
        }
    }
    let dtype = match b[5] {
        Some(e) => r.dtype(e),
        None => Some(DType::Float32),
    };
    Some(match (depth, on, off, dtype) {
        (Some(DimSpec::Known(depth)), Some(on), Some(off), Some(dtype)) => {
            let node = r.graph.add(Op::OneHot(OneHot { depth, dtype, on, off }), vec![indices], loc, call.op_loc);
            r.used_at(node, &arg_locs(&b))
        }
        _ => r.poison(loc),
    })
}

impl Rules for OneHot {
    fn name(&self) -> String {
        "tf.one_hot".into()
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let indices = p.graph.nodes[id].inputs[0];
        for value in [self.on, self.off] {
            if let Err(message) = convert_number(value, self.dtype) {
                p.errors.at(p.loc(id), message);
                return Ty::Poison;
            }
        }
        match p.operand(indices, None) {
            Some(Operand::Tensor(t)) => {
                if !check_indices(p, id, indices, t.dtype) {
                    return Ty::Poison;
                }
                let mut shape = t.shape;
                shape.push(Dim::Known(self.depth));
                if shape.len() > 2 {
                    p.errors.at(
                        p.op_loc(id),
                        format_args!("{} of {}", rank_error(shape.len()), p.shape_text(&shape[..shape.len() - 1])),
                    );
                    return Ty::Poison;
                }
                known(self.dtype, shape)
            }
            Some(Operand::Pending(mut pending)) => {
                if !check_indices(p, id, indices, pending.dtype) {
                    return Ty::Poison;
                }
                pending.chain.push(Step::OneHot(self.depth));
                pending.dtype = self.dtype;
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

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let on = convert_number(self.on, dtype).ok()?;
        let off = convert_number(self.off, dtype).ok()?;
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

    fn element(&self, body: &Body, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let dtype = body.dtype(id);
        let (last, rest) = idx.split_last().expect("one_hot has rank 1 or 2");
        let index = body.elem(body.graph.nodes[id].inputs[0], rest);
        let on = literal(convert_number(self.on, dtype).unwrap_or(Scalar::I(1)), dtype);
        let off = literal(convert_number(self.off, dtype).unwrap_or(Scalar::I(0)), dtype);
        quote!(if (#index) as i64 == #last as i64 { #on } else { #off })
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
