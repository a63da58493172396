//! `tf.identity(x)` and `tf.stop_gradient(x)`: the value of `x`; the second passes no gradient.
//! Both stand for their input once gradients are derived.

use super::{same_type_input, Call, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{indices, Tensor};
use crate::infer::{Operand, Pass, Ty};
use crate::ir::{DType, Graph, NodeId, Op, Scalar, Type};
use crate::onnx::export::Export;
use crate::resolve::Resolver;
use proc_macro2::TokenStream;

/// `tf.identity`, or `tf.stop_gradient` when `stop_gradient`. Inputs: `[x]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Identity {
    pub stop_gradient: bool,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["identity", "stop_gradient"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let stop_gradient = match call.name {
        "identity" => false,
        "stop_gradient" => true,
        _ => return None,
    };
    Some(super::one_argument(r, call, Op::Identity(Identity { stop_gradient }), "input"))
}

impl Rules for Identity {
    fn name(&self) -> String {
        if self.stop_gradient { "tf.stop_gradient" } else { "tf.identity" }.into()
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let x = e.input(id, 0);
        Ok(e.node("Identity", vec![x], vec![]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        match p.operand(p.graph.nodes[id].inputs[0], None) {
            Some(Operand::Tensor(t)) => Ty::Known(Type::Tensor(t)),
            Some(Operand::Pending(pending)) => Ty::Pending(pending),
            None => Ty::Poison,
        }
    }

    fn differentiable(&self, _k: usize) -> bool {
        !self.stop_gradient
    }

    fn gradient(&self, _b: &mut Builder, _id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        Some(g)
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(indices(shape).iter().map(|i| inputs[0].at(shape, i)).collect())
    }

    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        same_type_input(graph, id)
    }

    fn cheap(&self) -> bool {
        true
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        cx.input(id, 0, idx)
    }
}
