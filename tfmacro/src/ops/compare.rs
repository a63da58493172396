//! Elementwise comparisons, broadcasting, with `bool` results: `tf.greater`, `tf.less`,
//! `tf.greater_equal`, `tf.less_equal`, `tf.equal`, `tf.not_equal` (and `> < >= <= == !=`).

use super::{Call, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{self, indices, Tensor};
use crate::infer::{with_shape, Pass, Ty};
use crate::ir::{DType, NodeId, Op, Scalar};
use crate::onnx::export::Export;
use crate::resolve::Resolver;
use proc_macro2::TokenStream;
use quote::quote;

/// Elementwise comparisons; the result is `bool`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Compare {
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
    Ne,
}

impl Compare {
    const ALL: [Compare; 6] = [Compare::Gt, Compare::Lt, Compare::Ge, Compare::Le, Compare::Eq, Compare::Ne];

    /// What `tf.` accepts for it; the first is its name.
    fn spellings(self) -> &'static [&'static str] {
        match self {
            Compare::Gt => &["greater", "math.greater"],
            Compare::Lt => &["less", "math.less"],
            Compare::Ge => &["greater_equal", "math.greater_equal"],
            Compare::Le => &["less_equal", "math.less_equal"],
            Compare::Eq => &["equal", "math.equal"],
            Compare::Ne => &["not_equal", "math.not_equal"],
        }
    }
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["greater", "less", "greater_equal", "less_equal", "equal", "not_equal"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let op = Compare::ALL.into_iter().find(|c| c.spellings().contains(&call.name))?;
    Some(super::binary::two_arguments(r, call, Op::Compare(op)))
}

impl Rules for Compare {
    fn name(&self) -> String {
        format!("tf.{}", self.spellings()[0])
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let (x, y) = (e.input(id, 0), e.input(id, 1));
        // Booleans as `Xor`, which every engine has (tract's `Equal` takes numbers only).
        if e.ty(e.graph.nodes[id].inputs[0])?.dtype == DType::Bool {
            let differ = e.node("Xor", vec![x, y], vec![]);
            return Ok(if *self == Compare::Ne { differ } else { e.node("Not", vec![differ], vec![]) });
        }
        let op = match self {
            Compare::Gt => "Greater",
            Compare::Lt => "Less",
            Compare::Ge => "GreaterOrEqual",
            Compare::Le => "LessOrEqual",
            Compare::Eq | Compare::Ne => "Equal",
        };
        let out = e.node(op, vec![x, y], vec![]);
        Ok(if *self == Compare::Ne { e.node("Not", vec![out], vec![]) } else { out })
    }

    // Bools are equal or not, but not ordered.
    //   tf.constant(true) > tf.constant(false)  // error
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some((dtype, shape)) = p.elementwise(id, &inputs) else { return Ty::Poison };
        if dtype == DType::Bool && !matches!(self, Compare::Eq | Compare::Ne) {
            p.errors.at(p.op_loc(id), format_args!("{} does not order `bool` tensors", p.op(id)));
            return Ty::Poison;
        }
        with_shape(DType::Bool, shape)
    }

    fn differentiable(&self, _k: usize) -> bool {
        false
    }

    fn gradient(&self, _b: &mut Builder, _id: NodeId, _k: usize, _g: NodeId) -> Option<NodeId> {
        None
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let (x, y) = (&inputs[0], &inputs[1]);
        Some(indices(shape).iter().map(|i| Scalar::B(self.apply(x.dtype, x.at(shape, i), y.at(shape, i)))).collect())
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let (x, y) = (cx.input(id, 0, idx), cx.input(id, 1, idx));
        match self {
            Compare::Gt => quote!((#x > #y)),
            Compare::Lt => quote!((#x < #y)),
            Compare::Ge => quote!((#x >= #y)),
            Compare::Le => quote!((#x <= #y)),
            Compare::Eq => quote!((#x == #y)),
            Compare::Ne => quote!((#x != #y)),
        }
    }
}

impl Compare {
    /// The comparison of two elements of `dtype`, as the emitted code computes it.
    pub fn apply(self, dtype: DType, x: Scalar, y: Scalar) -> bool {
        let ordering = match dtype {
            DType::Float32 => (eval::float(x) as f32).partial_cmp(&(eval::float(y) as f32)),
            DType::Float64 => eval::float(x).partial_cmp(&eval::float(y)),
            _ => Some(eval::int(x).cmp(&eval::int(y))),
        };
        use std::cmp::Ordering::*;
        match (self, ordering) {
            (Compare::Ne, None) => true,
            (_, None) => false,
            (Compare::Gt, Some(o)) => o == Greater,
            (Compare::Lt, Some(o)) => o == Less,
            (Compare::Ge, Some(o)) => o != Less,
            (Compare::Le, Some(o)) => o != Greater,
            (Compare::Eq, Some(o)) => o == Equal,
            (Compare::Ne, Some(o)) => o != Equal,
        }
    }
}
