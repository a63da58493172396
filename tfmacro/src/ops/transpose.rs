//! `tf.transpose(a, perm = [1, 0])`: the axes of a rank-2 tensor swapped (a vector and a scalar
//! are their own transpose).

use super::{Call, Reads, Rules};
use crate::ast::ExprKind;
use crate::autodiff::Builder;
use crate::emit::body::Body;
use crate::eval::{indices, Tensor};
use crate::infer::{Operand, Pass, Step, Ty};
use crate::ir::{DType, Graph, NodeId, Number, Op, Scalar, TensorType, Type};
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;

/// `tf.transpose`. Inputs: `[x]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Transpose;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["transpose"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "transpose" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["a", "perm"], 1) else { return Some(r.poison(loc)) };
    let x = r.lower_arg(b[0]);
    let node_op = match b[1] {
        None => Op::Transpose(Transpose),
        Some(perm) => {
            let identity = Op::Identity(super::identity::Identity { stop_gradient: false });
            match perm.kind {
                ExprKind::List(ref items) => match items.iter().map(|i| r.literal(i)).collect::<Vec<_>>()[..] {
                    [Some(Number::Int(1)), Some(Number::Int(0))] => Op::Transpose(Transpose),
                    [Some(Number::Int(0)), Some(Number::Int(1))] | [Some(Number::Int(0))] | [] => identity,
                    _ => return Some(r.error(perm.loc, "expected a permutation of a rank-2 tensor: `[1, 0]`")),
                },
                _ => return Some(r.error(perm.loc, "expected a permutation of a rank-2 tensor: `[1, 0]`")),
            }
        }
    };
    let node = r.graph.add(node_op, vec![x], loc, call.op_loc);
    Some(r.used_at(node, &arg_locs(&b)))
}

impl Rules for Transpose {
    fn name(&self) -> String {
        "tf.transpose".into()
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        match p.operand(p.graph.nodes[id].inputs[0], None) {
            Some(Operand::Tensor(mut t)) => {
                t.shape.reverse();
                Ty::Known(Type::Tensor(t))
            }
            Some(Operand::Pending(mut pending)) => {
                pending.chain.push(Step::Transpose);
                Ty::Pending(pending)
            }
            None => Ty::Poison,
        }
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        let t = TensorType { dtype: tx.dtype, shape: tx.shape.clone() };
        Some(b.node(Op::Transpose(Transpose), vec![g], t))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let x = &inputs[0];
        Some(indices(shape).iter().map(|i| x.at(&x.shape, &i.iter().rev().copied().collect::<Vec<_>>())).collect())
    }

    // The transpose of a transpose is the tensor itself.
    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        let input = graph.nodes[id].inputs[0];
        match &graph.nodes[input].op {
            Op::Transpose(_) => Some(graph.nodes[input].inputs[0]),
            _ => None,
        }
    }

    fn reads(&self) -> Reads {
        Reads::Once
    }

    fn cheap(&self) -> bool {
        true
    }

    fn element(&self, body: &Body, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let reversed: Vec<TokenStream> = idx.iter().rev().cloned().collect();
        body.elem(body.graph.nodes[id].inputs[0], &reversed)
    }
}
