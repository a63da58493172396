//! `tf.nn.softmax(logits)` along the last axis, as TensorFlow computes it:
//! `e = exp(x - max(x))`, then `e * (1 / sum(e))`, by a `tfcore` kernel on the whole tensor.

use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::emit::plan::Plan;
use crate::eval::{sum, Tensor};
use crate::infer::{Operand, Pass, Ty};
use crate::ir::{Binary, Compare, DType, NodeId, Number, Op, Scalar, TensorType, Type, Unary};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.nn.softmax`, along the last axis. Inputs: `[x]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Softmax;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.softmax"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "nn.softmax" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["logits", "axis"], 1) else { return Some(r.poison(loc)) };
    if let Some(axis) = b[1] {
        if !matches!(r.literal(axis), Some(Number::Int(-1))) {
            r.errors.at(axis.loc, "only the last axis is supported: `axis = -1`");
        }
    }
    let x = r.lower_arg(b[0]);
    let node = r.graph.add(Op::Softmax(Softmax), vec![x], loc, call.op_loc);
    Some(r.used_at(node, &arg_locs(&b)))
}

impl Rules for Softmax {
    fn name(&self) -> String {
        "tf.nn.softmax".into()
    }

    // Over the last axis: a row at a time, unless the rows are that axis (a vector).
    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        match graph.tensor(id) {
            Some(t) if t.rank() >= 2 => super::rows_elementwise(graph, id),
            _ => super::ByRows::No,
        }
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let x = e.input(id, 0);
        Ok(e.node("Softmax", vec![x], vec![crate::onnx::export::int("axis", -1)]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let x = p.graph.nodes[id].inputs[0];
        match p.operand(x, None) {
            Some(Operand::Tensor(t)) => {
                if p.check_float(id, x, t.dtype) && check_rank(p, id, &t) {
                    Ty::Known(Type::Tensor(t))
                } else {
                    Ty::Poison
                }
            }
            Some(Operand::Pending(pending)) => Ty::Pending(pending),
            None => Ty::Poison,
        }
    }

    // TensorFlow's SoftmaxGrad: (dy - sum(dy * y, last axis)) * y.
    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        let gy = b.mul(g, id);
        let last = tx.shape.len() as i64 - 1;
        let total = b.sum_keep(gy, vec![last]);
        let diff = b.sub(g, total);
        Some(b.mul(diff, id))
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let x = &inputs[0];
        let cols = *shape.last()?;
        let rows = x.data.len() / cols;
        let mut out = Vec::with_capacity(x.data.len());
        for r in 0..rows {
            let row = &x.data[r * cols..(r + 1) * cols];
            let mut max = row[0];
            for v in &row[1..] {
                if Compare::Gt.apply(dtype, *v, max) {
                    max = *v;
                }
            }
            let e: Vec<Scalar> =
                row.iter().map(|v| Unary::Exp.apply(dtype, Binary::Sub.apply(dtype, *v, max))).collect();
            let total = sum(dtype, cols, |j| e[j]);
            let scale = Binary::Div.apply(dtype, Scalar::F(1.0), total);
            out.extend(e.iter().map(|v| Binary::Mul.apply(dtype, *v, scale)));
        }
        Some(out)
    }

    fn reads(&self) -> Reads {
        Reads::Whole
    }

    fn element(&self, _cx: &Lower, _id: NodeId, _idx: &[TokenStream]) -> TokenStream {
        quote!(::core::unreachable!())
    }

    fn materialise(&self, cx: &Lower, id: NodeId) -> Option<TokenStream> {
        let place = cx.place(cx.graph.nodes[id].inputs[0]);
        Some(match cx.shape(id).len() {
            1 => quote!(::tfcore::__private::softmax_vector(#place)),
            2 => quote!(::tfcore::__private::softmax_rows(#place)),
            3 => quote!(::tfcore::__private::softmax3(#place)),
            _ => quote!(::tfcore::__private::softmax4(#place)),
        })
    }

    fn has_flat_form(&self, plan: &Plan, id: NodeId) -> bool {
        !plan.shape(id).is_empty()
    }

    fn materialise_flat(&self, cx: &Lower, id: NodeId, out: &TokenStream) -> Option<TokenStream> {
        // Row `__r` of the rows along the last axis, at index `__c` of it: the input's element at
        // the leading indices `__r` unravels to.
        let shape = cx.shape(id);
        let (last, leading) = shape.split_last()?;
        let mut idx = Vec::new();
        let mut rest = quote!(__r);
        for d in leading.iter().skip(1).rev() {
            let d = cx.names.dim(*d);
            idx.push(quote!((#rest % #d)));
            rest = quote!((#rest / #d));
        }
        if !leading.is_empty() {
            idx.push(rest);
        }
        idx.reverse();
        idx.push(quote!(__c));
        let x = cx.elem(cx.graph.nodes[id].inputs[0], &idx);
        let c = cx.names.dim(*last);
        let (row_step, column_step) = cx.flat_steps(id);
        Some(quote!(::tfcore::__private::softmax_by(#c, |__r, __c| #x, #out, #row_step, #column_step);))
    }
}

// `tf.nn.softmax` normalises along the last axis, which a scalar lacks.
//   tf.nn.softmax(tf.constant(1.0))  // error
fn check_rank(p: &mut Pass, id: NodeId, t: &TensorType) -> bool {
    if t.rank() >= 1 {
        return true;
    }
    p.errors.at(p.op_loc(id), "`tf.nn.softmax` needs a tensor of rank 1 or more, not a scalar");
    false
}
