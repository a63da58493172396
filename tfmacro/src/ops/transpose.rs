//! `tf.transpose(a)`: the axes reversed (a matrix's swapped; a vector and a scalar are their own
//! transpose), or `tf.transpose(a, perm = [0, 3, 1, 2])`: axis `k` of the result is axis `perm[k]`
//! of `a` (NHWC to NCHW here).

use super::{Call, Reads, Rules};
use crate::ast::ExprKind;
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{indices, Tensor};
use crate::infer::{Operand, Pass, Step, Ty};
use crate::ir::{DType, Graph, NodeId, Number, Op, Scalar, TensorType, Type};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;

/// `tf.transpose`. Inputs: `[x]`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Transpose {
    /// `None`: the axes reversed, whatever the rank.
    pub perm: Option<Vec<usize>>,
}

impl Transpose {
    /// The transpose by `perm`, or `None` when `perm` is not a permutation of `0..perm.len()`.
    pub fn by(perm: Vec<usize>) -> Option<Transpose> {
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        (sorted.iter().enumerate().all(|(k, &p)| k == p)).then_some(Transpose { perm: Some(perm) })
    }

    /// The permutation for a tensor of rank `rank`.
    fn perm(&self, rank: usize) -> Vec<usize> {
        self.perm.clone().unwrap_or_else(|| (0..rank).rev().collect())
    }

    /// The input index read for output index `idx` (of any element type).
    fn source<T: Clone>(&self, idx: &[T]) -> Vec<T> {
        let perm = self.perm(idx.len());
        let mut source = idx.to_vec();
        for (k, &p) in perm.iter().enumerate() {
            source[p] = idx[k].clone();
        }
        source
    }
}

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
        None => Op::Transpose(Transpose::default()),
        Some(perm) => {
            let message = "expected a permutation of the tensor's axes, as in `[1, 0]` or `[0, 3, 1, 2]`";
            let ExprKind::List(ref items) = perm.kind else { return Some(r.error(perm.loc, message)) };
            let axes: Option<Vec<usize>> = items
                .iter()
                .map(|i| match r.literal(i) {
                    Some(Number::Int(n)) if (0..items.len() as i128).contains(&n) => Some(n as usize),
                    _ => None,
                })
                .collect();
            match axes.and_then(Transpose::by) {
                Some(t) if t.perm.as_ref().is_some_and(|p| p.iter().enumerate().all(|(k, &a)| k == a)) => {
                    Op::Identity(super::identity::Identity { stop_gradient: false })
                }
                Some(t) if t.perm.as_deref() == Some(&[1, 0]) => Op::Transpose(Transpose::default()),
                Some(t) => Op::Transpose(t),
                None => return Some(r.error(perm.loc, message)),
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

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let rank = e.ty(id)?.shape.len();
        let perm: Vec<i64> = self.perm(rank).iter().map(|&p| p as i64).collect();
        let x = e.input(id, 0);
        Ok(e.transpose(x, &perm))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        match p.operand(p.graph.nodes[id].inputs[0], None) {
            Some(Operand::Tensor(mut t)) => {
                if let Some(perm) = &self.perm {
                    if perm.len() != t.shape.len() {
                        let message = format!(
                            "`perm` has {} axes, but the tensor has rank {} (shape {:?})",
                            perm.len(),
                            t.shape.len(),
                            t.shape
                        );
                        p.errors.at(p.op_loc(id), message);
                        return Ty::Poison;
                    }
                }
                t.shape = self.source_shape(&t.shape);
                Ty::Known(Type::Tensor(t))
            }
            Some(Operand::Pending(mut pending)) if self.perm.is_none() => {
                pending.chain.push(Step::Transpose);
                Ty::Pending(pending)
            }
            Some(Operand::Pending(_)) => {
                p.errors
                    .at(p.op_loc(id), "`tf.transpose` with `perm` needs its input's shape: give the placeholder one");
                Ty::Poison
            }
            None => Ty::Poison,
        }
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        let t = TensorType { dtype: tx.dtype, shape: tx.shape.clone() };
        // The inverse permutation.
        let inverse = self.perm.as_ref().map(|perm| {
            let mut inverse = vec![0; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                inverse[p] = k;
            }
            inverse
        });
        Some(b.node(Op::Transpose(Transpose { perm: inverse }), vec![g], t))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let x = &inputs[0];
        Some(indices(shape).iter().map(|i| x.at(&x.shape, &self.source(i))).collect())
    }

    // The transpose of a transpose is the tensor itself when the two permutations undo each
    // other.
    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        let input = graph.nodes[id].inputs[0];
        let Op::Transpose(inner) = &graph.nodes[input].op else { return None };
        let undone = match (&self.perm, &inner.perm) {
            (None, None) => true,
            (Some(outer), Some(inner)) => outer.iter().enumerate().all(|(k, &p)| inner.get(p) == Some(&k)),
            _ => false,
        };
        undone.then(|| graph.nodes[input].inputs[0])
    }

    fn reads(&self) -> Reads {
        Reads::Once
    }

    fn cheap(&self) -> bool {
        true
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        cx.elem(cx.graph.nodes[id].inputs[0], &self.source(idx))
    }
}

impl Transpose {
    /// The result's shape for an input of shape `shape`.
    fn source_shape<T: Clone>(&self, shape: &[T]) -> Vec<T> {
        self.perm(shape.len()).iter().map(|&p| shape[p].clone()).collect()
    }
}
