//! `tf.nn.bias_add(value, bias)`: `value + bias`, with TensorFlow's stricter shapes (a bias of rank
//! 1 matching the last dimension of a value of rank 2 or more), and its gradient `BiasAddGrad`,
//! the sum over every axis but the last.

use super::{Call, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{indices, Tensor};
use crate::infer::{dim_text, known, Operand, Pass, Ty};
use crate::ir::{Binary, DType, NodeId, Op, Scalar};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;

/// `tf.nn.bias_add`. Inputs: `[value, bias]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BiasAdd;

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.bias_add"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "nn.bias_add" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["value", "bias", "data_format"], 2) else { return Some(r.poison(loc)) };
    let nhwc = super::window::nhwc(r, b[2]);
    let (value, bias) = (r.lower_arg(b[0]), r.lower_arg(b[1]));
    if !nhwc {
        return Some(r.poison(loc));
    }
    let node = r.graph.add(Op::BiasAdd(BiasAdd), vec![value, bias], loc, call.op_loc);
    Some(r.used_at(node, &arg_locs(&b[..2])))
}

impl Rules for BiasAdd {
    fn name(&self) -> String {
        "tf.nn.bias_add".into()
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let (x, bias) = (e.input(id, 0), e.input(id, 1));
        Ok(e.node("Add", vec![x, bias], vec![]))
    }

    // The bias is a vector as long as the value's last dimension.
    //   tf.nn.bias_add(conv, tf.zeros([16]))  // error if `conv` has 32 channels
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some(dtype) = p.check_same_dtype(id, &inputs) else { return Ty::Poison };
        let (Some(Operand::Tensor(value)), Some(Operand::Tensor(bias))) =
            (p.operand(inputs[0], Some(dtype)), p.operand(inputs[1], Some(dtype)))
        else {
            return Ty::Poison;
        };
        let op = p.op(id);
        if dtype == DType::Bool {
            p.errors.at(p.op_loc(id), format_args!("{op} is not defined for `bool` tensors"));
            return Ty::Poison;
        }
        if value.rank() < 2 || bias.rank() != 1 {
            let message = format!(
                "{op} adds a bias of rank 1 to a value of rank 2 or more, but {} has shape {} and {} has shape {}",
                p.describe(inputs[0]),
                p.shape_text(&value.shape),
                p.describe(inputs[1]),
                p.shape_text(&bias.shape)
            );
            p.errors.at(p.op_loc(id), message);
            return Ty::Poison;
        }
        let last = value.shape[value.rank() - 1];
        if p.graph.syms.unify(last, bias.shape[0]).is_err() {
            let message = format!(
                "{op}: the bias has {} elements, but the last dimension of {} is {} ({} has shape {})",
                dim_text(p.graph.syms.get(bias.shape[0])),
                p.describe(inputs[0]),
                dim_text(p.graph.syms.get(last)),
                p.describe(inputs[0]),
                p.shape_text(&value.shape)
            );
            p.errors.at(p.use_loc(id, 1), message);
            return Ty::Poison;
        }
        known(dtype, value.shape)
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let x = b.graph.nodes[id].inputs[k];
        let tx = b.ty(x);
        Some(b.unbroadcast(g, &tx))
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(
            indices(shape)
                .iter()
                .map(|i| Binary::Add.apply(dtype, inputs[0].at(shape, i), inputs[1].at(shape, i)))
                .collect(),
        )
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        Binary::Add.emit(cx.dtype(id), cx.input(id, 0, idx), cx.input(id, 1, idx))
    }
}
