//! `tf.cast(x, dtype)`: elementwise conversion, with Rust's `as` (truncating toward zero and
//! saturating from floats to integers; NaN becomes 0).

use super::{same_type_input, Call, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{self, Tensor};
use crate::infer::{known, Operand, Pass, Pending, Ty};
use crate::ir::{DType, Graph, NodeId, Op, Scalar, TensorType};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use crate::values::{ident, literal};
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.cast` to `to`. Inputs: `[x]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Cast {
    pub to: DType,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["cast"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "cast" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["x", "dtype"], 2) else { return Some(r.poison(loc)) };
    let x = r.lower_arg(b[0]);
    Some(match b[1].and_then(|e| r.dtype(e)) {
        Some(to) => {
            let node = r.graph.add(Op::Cast(Cast { to }), vec![x], loc, call.op_loc);
            r.used_at(node, &arg_locs(&b))
        }
        None => r.poison(loc),
    })
}

impl Rules for Cast {
    fn name(&self) -> String {
        "tf.cast".into()
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let x = e.input(id, 0);
        Ok(e.node(
            "Cast",
            vec![x],
            vec![crate::onnx::export::int("to", crate::onnx::export::dtype_code(self.to).into())],
        ))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        match p.operand(p.graph.nodes[id].inputs[0], None) {
            Some(Operand::Tensor(t)) => known(self.to, t.shape),
            Some(Operand::Pending(pending)) => Ty::Pending(Pending { dtype: self.to, ..pending }),
            None => Ty::Poison,
        }
    }

    // Gradients flow back through a cast between float dtypes, cast back.
    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        if !tx.dtype.is_float() {
            return None;
        }
        let t = TensorType { dtype: tx.dtype, shape: b.ty(g).shape };
        Some(b.node(Op::Cast(Cast { to: tx.dtype }), vec![g], t))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, _shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(inputs[0].data.iter().map(|x| apply(self.to, *x)).collect())
    }

    // A cast to the same dtype is its input.
    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        same_type_input(graph, id)
    }

    fn cheap(&self) -> bool {
        true
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let from = cx.dtype(cx.graph.nodes[id].inputs[0]);
        let a = cx.input(id, 0, idx);
        let to = self.to;
        if from == to {
            return a;
        }
        if to == DType::Bool {
            let z = literal(Scalar::I(0), from);
            return quote!((#a != #z));
        }
        if from == DType::Bool {
            let (z, o) = (literal(Scalar::I(0), to), literal(Scalar::I(1), to));
            return quote!(if #a { #o } else { #z });
        }
        let t = ident(to.rust());
        quote!((#a as #t))
    }
}

/// `tf.cast` of one element, with Rust's `as` (saturating from floats to integers).
pub fn apply(to: DType, x: Scalar) -> Scalar {
    match to {
        DType::Bool => Scalar::B(match x {
            Scalar::B(b) => b,
            Scalar::F(v) => v != 0.0,
            Scalar::I(i) => i != 0,
        }),
        DType::Float32 => Scalar::F(match x {
            Scalar::F(v) => v as f32 as f64,
            Scalar::I(i) => i as f32 as f64,
            Scalar::B(b) => b as u8 as f64,
        }),
        DType::Float64 => Scalar::F(eval::float(x)),
        DType::Int32 => Scalar::I(match x {
            Scalar::F(v) => v as i32 as i64,
            other => eval::int(other) as i32 as i64,
        }),
        DType::Int64 => Scalar::I(match x {
            Scalar::F(v) => v as i64,
            other => eval::int(other),
        }),
        DType::UInt8 => Scalar::I(match x {
            Scalar::F(v) => v as u8 as i64,
            other => eval::int(other) as u8 as i64,
        }),
        DType::Int8 => Scalar::I(match x {
            Scalar::F(v) => v as i8 as i64,
            other => eval::int(other) as i8 as i64,
        }),
    }
}
