//! Elementwise arithmetic of two tensors, broadcasting: `tf.add`, `tf.subtract`, `tf.multiply`,
//! `tf.divide` (and `+ - * /`).
//!
//! An operation is a variant of [`Binary`] and one arm in each of its tables below.

use super::{same_type, splat, Call, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::error::with_help;
use crate::eval::{self, indices, Tensor};
use crate::infer::{with_shape, Pass, Ty};
use crate::ir::{DType, Graph, NodeId, Op, Scalar};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;
use quote::quote;

/// Elementwise arithmetic of two tensors, broadcasting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
}

impl Binary {
    const ALL: [Binary; 4] = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Div];

    /// What `tf.` accepts for it; the first is its name.
    fn spellings(self) -> &'static [&'static str] {
        match self {
            Binary::Add => &["add", "math.add"],
            Binary::Sub => &["subtract", "math.subtract"],
            Binary::Mul => &["multiply", "math.multiply"],
            Binary::Div => &["divide", "math.divide"],
        }
    }
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["add", "subtract", "multiply", "divide"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let op = Binary::ALL.into_iter().find(|b| b.spellings().contains(&call.name))?;
    Some(two_arguments(r, call, Op::Binary(op)))
}

/// A call of an op of two tensors `x` and `y`.
pub fn two_arguments(r: &mut Resolver, call: &Call, op: Op) -> NodeId {
    let Some(b) = r.bind(&call.op(), call.loc, call.args, &["x", "y"], 2) else { return r.poison(call.loc) };
    let x = r.lower_arg(b[0]);
    let y = r.lower_arg(b[1]);
    let node = r.graph.add(op, vec![x, y], call.loc, call.op_loc);
    r.used_at(node, &arg_locs(&b))
}

impl Rules for Binary {
    fn name(&self) -> String {
        format!("tf.{}", self.spellings()[0])
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let op = match self {
            Binary::Add => "Add",
            Binary::Sub => "Sub",
            Binary::Mul => "Mul",
            Binary::Div => "Div",
        };
        let (x, y) = (e.input(id, 0), e.input(id, 1));
        Ok(e.node(op, vec![x, y], vec![]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some((dtype, shape)) = p.elementwise(id, &inputs) else { return Ty::Poison };
        if !self.check_dtype(p, id, dtype) {
            return Ty::Poison;
        }
        with_shape(dtype, shape)
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let (x, y) = (b.graph.nodes[id].inputs[0], b.graph.nodes[id].inputs[1]);
        let tx = b.ty(b.graph.nodes[id].inputs[k]);
        let part = match (self, k) {
            (Binary::Add, _) => g,
            (Binary::Sub, 0) => g,
            (Binary::Sub, _) => b.unary(super::unary::Unary::Neg, g),
            (Binary::Mul, 0) => b.mul(g, y),
            (Binary::Mul, _) => b.mul(x, g),
            (Binary::Div, 0) => b.div(g, y),
            // TensorFlow's RealDiv gradient: grad * ((-x / y) / y).
            (Binary::Div, _) => {
                let minus_x = b.unary(super::unary::Unary::Neg, x);
                let q = b.div(minus_x, y);
                let q = b.div(q, y);
                b.mul(g, q)
            }
        };
        Some(b.unbroadcast(part, &tx))
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(indices(shape).iter().map(|i| self.apply(dtype, inputs[0].at(shape, i), inputs[1].at(shape, i))).collect())
    }

    // Only rewrites that are exact in IEEE arithmetic, for every `x` (NaN, infinities, both
    // zeros): `x * 1`, `1 * x` and `x / 1` are `x`; so are `x - (+0)` and `x + (-0)`, but not
    // `x + (+0)`, which turns `-0` into `+0`. For integers, `x + 0`, `0 + x` and `x - 0` are `x`.
    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        // Whether node `other` is the constant `value` everywhere, a zero of sign `negative`.
        let is = |other: NodeId, value: f64, negative: bool| match splat(graph, other) {
            Some(Scalar::F(x)) => x == value && (value != 0.0 || x.is_sign_negative() == negative),
            Some(Scalar::I(i)) => i as f64 == value,
            _ => false,
        };
        let [x, y] = graph.nodes[id].inputs[..] else { return None };
        let (unit, negative_zero, commutes) = match self {
            Binary::Mul => (1.0, false, true),
            Binary::Div => (1.0, false, false),
            Binary::Add => (0.0, true, true),
            Binary::Sub => (0.0, false, false),
        };
        if is(y, unit, negative_zero) && same_type(graph, id, x) {
            Some(x)
        } else if commutes && is(x, unit, negative_zero) && same_type(graph, id, y) {
            Some(y)
        } else {
            None
        }
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        self.emit(cx.dtype(id), cx.input(id, 0, idx), cx.input(id, 1, idx))
    }
}

impl Binary {
    // Arithmetic is not defined on `bool`; `/` of integers is an explicit cast away.
    //   tf.constant(7) / 2  // error: `/` of `int32` tensors
    fn check_dtype(self, p: &mut Pass, id: NodeId, dtype: DType) -> bool {
        if dtype == DType::Bool {
            p.errors.at(p.op_loc(id), format_args!("{} is not defined for `bool` tensors", p.op(id)));
            return false;
        }
        if self == Binary::Div && dtype.is_integer() {
            let message = with_help(
                format_args!("{} of `{dtype}` tensors is not supported (TensorFlow would return floats)", p.op(id)),
                Some("cast the operands to a float dtype first, as in `tf.cast(x, tf.float32) / 2`".into()),
            );
            p.errors.at(p.op_loc(id), message);
            return false;
        }
        true
    }

    /// The operation on two elements, as the emitted code computes it (wrapping for integers).
    pub fn apply(self, dtype: DType, x: Scalar, y: Scalar) -> Scalar {
        match dtype {
            DType::Float32 => {
                let (x, y) = (eval::float(x) as f32, eval::float(y) as f32);
                Scalar::F(match self {
                    Binary::Add => x + y,
                    Binary::Sub => x - y,
                    Binary::Mul => x * y,
                    Binary::Div => x / y,
                } as f64)
            }
            DType::Float64 => {
                let (x, y) = (eval::float(x), eval::float(y));
                Scalar::F(match self {
                    Binary::Add => x + y,
                    Binary::Sub => x - y,
                    Binary::Mul => x * y,
                    Binary::Div => x / y,
                })
            }
            DType::Bool => x,
            _ => {
                let (x, y) = (eval::int(x), eval::int(y));
                let r = match self {
                    Binary::Add => x.wrapping_add(y),
                    Binary::Sub => x.wrapping_sub(y),
                    Binary::Mul => x.wrapping_mul(y),
                    Binary::Div => x.checked_div(y).unwrap_or(0),
                };
                Scalar::I(eval::wrap(dtype, r))
            }
        }
    }

    /// The code computing the operation on elements `x` and `y` of `dtype`.
    pub fn emit(self, dtype: DType, x: TokenStream, y: TokenStream) -> TokenStream {
        if dtype.is_float() {
            match self {
                Binary::Add => quote!((#x + #y)),
                Binary::Sub => quote!((#x - #y)),
                Binary::Mul => quote!((#x * #y)),
                Binary::Div => quote!((#x / #y)),
            }
        } else {
            match self {
                Binary::Add => quote!((#x).wrapping_add(#y)),
                Binary::Sub => quote!((#x).wrapping_sub(#y)),
                Binary::Mul => quote!((#x).wrapping_mul(#y)),
                Binary::Div => quote!((#x).checked_div(#y).unwrap_or(0)),
            }
        }
    }
}
