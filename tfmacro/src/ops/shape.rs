//! The ops autodiff makes to move gradients between shapes: `x` broadcast to a shape, `x` with
//! dimensions of size 1 added or removed, and the number of elements of a shape (for the gradient
//! of `tf.reduce_mean`, whose count may be a `None` dimension). A graph cannot spell them.

use super::identity::Identity;
use super::{Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::Tensor;
use crate::infer::{Pass, Ty};
use crate::ir::{DType, Dim, Graph, NodeId, Scalar};
use crate::onnx::export::Export;
use crate::values::ident;
use proc_macro2::TokenStream;
use quote::quote;

/// `x` broadcast to this node's shape. Inputs: `[x]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BroadcastTo;

/// `x` with this node's shape, its elements in the same row-major order: what `tf.reshape`,
/// `tf.squeeze` and `tf.expand_dims` become once inference has their shapes (`ops::reshape`), and
/// what autodiff makes to add or remove dimensions of size 1. Inputs: `[x]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Reshape;

/// The number of elements of a shape, as a scalar of this node's dtype. No inputs.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Count(pub Vec<Dim>);

const IDENTITY: Identity = Identity { stop_gradient: false };

impl Rules for BroadcastTo {
    fn name(&self) -> String {
        "tf.broadcast_to".into()
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let x = e.input(id, 0);
        let shape: Vec<i64> = e.known_shape(id)?.iter().map(|&n| n as i64).collect();
        let shape = e.ints(&shape);
        Ok(e.node("Expand", vec![x, shape], vec![]))
    }

    fn infer(&self, _p: &mut Pass, _id: NodeId) -> Ty {
        Ty::Poison
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        Some(b.unbroadcast(g, &tx))
    }

    // A broadcast to its input's shape is an identity; otherwise it reads its input broadcast, as
    // `tf.identity` reads it: the same folding, simplification and emission.
    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        IDENTITY.fold(inputs, dtype, shape)
    }

    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        IDENTITY.simplify(graph, id)
    }

    fn cheap(&self) -> bool {
        IDENTITY.cheap()
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        IDENTITY.element(cx, id, idx)
    }
}

impl Rules for Reshape {
    fn name(&self) -> String {
        "tf.reshape".into()
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        crate::onnx::export::reshape(e, id)
    }

    fn infer(&self, _p: &mut Pass, _id: NodeId) -> Ty {
        Ty::Poison
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        Some(b.reshape(g, tx.shape))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, _shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(inputs[0].data.clone())
    }

    fn reads(&self) -> Reads {
        Reads::Once
    }

    fn cheap(&self) -> bool {
        true
    }

    // Row-major order is kept. When only dimensions of size 1 come or go, the other indices carry
    // over in order; otherwise the element's row-major position is computed and split by the
    // input's dimensions.
    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let x = cx.graph.nodes[id].inputs[0];
        let shape = cx.shape(id);
        let input = cx.shape(x);
        let not_one = |s: &[Dim]| s.iter().copied().filter(|d| *d != Dim::Known(1)).collect::<Vec<_>>();
        if not_one(&shape) != not_one(&input) {
            let dim = |d: Dim| cx.names.dim(d);
            let mut position = quote!(0usize);
            for (d, i) in shape.iter().zip(idx) {
                let d = dim(*d);
                position = quote!((#position * #d + #i));
            }
            let mapped: Vec<TokenStream> = (0..input.len())
                .map(|k| {
                    let inner = input[k + 1..].iter().map(|d| dim(*d));
                    let d = dim(input[k]);
                    quote!((#position / (1usize #(* #inner)*) % #d))
                })
                .collect();
            return cx.elem(x, &mapped);
        }
        let mut carried = shape.iter().zip(idx).filter(|(d, _)| **d != Dim::Known(1)).map(|(_, i)| i.clone());
        let mapped: Vec<TokenStream> =
            input
                .iter()
                .map(|d| {
                    if *d == Dim::Known(1) {
                        quote!(0usize)
                    } else {
                        carried.next().unwrap_or_else(|| quote!(0usize))
                    }
                })
                .collect();
        cx.elem(x, &mapped)
    }
}

impl Rules for Count {
    fn name(&self) -> String {
        "tf.size".into()
    }

    fn infer(&self, _p: &mut Pass, _id: NodeId) -> Ty {
        Ty::Poison
    }

    fn gradient(&self, _b: &mut Builder, _id: NodeId, _k: usize, _g: NodeId) -> Option<NodeId> {
        None
    }

    fn cheap(&self) -> bool {
        true
    }

    fn element(&self, cx: &Lower, id: NodeId, _idx: &[TokenStream]) -> TokenStream {
        let count = cx.names.count(&self.0);
        let elem = ident(cx.dtype(id).rust());
        quote!((#count as #elem))
    }
}
