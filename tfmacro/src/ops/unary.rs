//! Elementwise functions of one tensor: `tf.negative`, `tf.exp`, `tf.log`, `tf.sqrt`, `tf.square`,
//! `tf.math.rsqrt`, `tf.math.reciprocal`, `tf.abs`, `tf.sigmoid`, `tf.tanh`, `tf.nn.relu`, `tf.nn.relu6`, and `tf.sign` (made by autodiff
//! only).
//!
//! A function is a variant of [`Unary`] and one arm in each of its tables below: spellings, dtypes,
//! gradient, folded value (float32, float64, integers) and emitted code.

use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{self, Tensor};
use crate::infer::{with_shape, Operand, Pass, Ty};
use crate::ir::Number;
use crate::ir::{Binary, Compare, DType, Graph, NodeId, Op, Scalar, TensorType};
use crate::onnx::export::Export;
use crate::resolve::Resolver;
use crate::values::{ident, literal};
use proc_macro2::TokenStream;
use quote::quote;

/// Elementwise functions of one tensor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Unary {
    Neg,
    Exp,
    Log,
    Sqrt,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// `1 / x`.
    Reciprocal,
    Square,
    Abs,
    Sigmoid,
    Tanh,
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x / |x|` (0 at 0): the derivative of `abs`; made by autodiff only.
    Sign,
}

impl Unary {
    const ALL: [Unary; 13] = [
        Unary::Neg,
        Unary::Exp,
        Unary::Log,
        Unary::Sqrt,
        Unary::Rsqrt,
        Unary::Reciprocal,
        Unary::Square,
        Unary::Abs,
        Unary::Sigmoid,
        Unary::Tanh,
        Unary::Relu,
        Unary::Relu6,
        Unary::Sign,
    ];

    /// What `tf.` accepts for it (the first is its name), and the name of its argument.
    fn spellings(self) -> (&'static [&'static str], &'static str) {
        match self {
            Unary::Neg => (&["negative", "math.negative"], "x"),
            Unary::Exp => (&["exp", "math.exp"], "x"),
            Unary::Log => (&["log", "math.log"], "x"),
            Unary::Sqrt => (&["sqrt", "math.sqrt"], "x"),
            Unary::Rsqrt => (&["math.rsqrt", "rsqrt"], "x"),
            Unary::Reciprocal => (&["math.reciprocal", "reciprocal"], "x"),
            Unary::Square => (&["square", "math.square"], "x"),
            Unary::Abs => (&["abs", "math.abs"], "x"),
            Unary::Sigmoid => (&["sigmoid", "nn.sigmoid", "math.sigmoid"], "x"),
            Unary::Tanh => (&["tanh", "nn.tanh", "math.tanh"], "x"),
            Unary::Relu => (&["nn.relu"], "features"),
            Unary::Relu6 => (&["nn.relu6"], "features"),
            Unary::Sign => (&["sign"], "x"),
        }
    }
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &[
    "exp",
    "log",
    "sqrt",
    "math.rsqrt",
    "math.reciprocal",
    "square",
    "abs",
    "sigmoid",
    "tanh",
    "negative",
    "nn.relu",
    "nn.relu6",
    "nn.sigmoid",
    "nn.tanh",
];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    // `tf.sign` is the gradient of `tf.abs`, not (yet) part of the language.
    let u = Unary::ALL.into_iter().filter(|u| *u != Unary::Sign).find(|u| u.spellings().0.contains(&call.name))?;
    let id = super::one_argument(r, call, crate::ir::Op::Unary(u), u.spellings().1);
    // `tf.log(tf.nn.softmax(z))` is computed as `tf.nn.log_softmax(z)`, `tf.log(tf.sigmoid(z))`
    // as `tf.math.log_sigmoid(z)` (and `tf.log(1 - tf.sigmoid(z))` as `log_sigmoid(-z)`).
    if u == Unary::Log {
        if let Some(log_softmax) = super::log_softmax::log_of_softmax(r, call, id) {
            return Some(log_softmax);
        }
        if let Some(log_sigmoid) = super::sigmoid_cross_entropy::log_of_sigmoid(r, call, id) {
            return Some(log_sigmoid);
        }
    }
    Some(id)
}

impl Rules for Unary {
    fn name(&self) -> String {
        format!("tf.{}", self.spellings().0[0])
    }

    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        super::rows_elementwise(graph, id)
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let x = e.input(id, 0);
        let simple = |e: &mut Export, op: &str, x: String| e.node(op, vec![x], vec![]);
        Ok(match self {
            Unary::Neg => simple(e, "Neg", x),
            Unary::Exp => simple(e, "Exp", x),
            Unary::Log => simple(e, "Log", x),
            Unary::Sqrt => simple(e, "Sqrt", x),
            Unary::Rsqrt => {
                let root = simple(e, "Sqrt", x);
                simple(e, "Reciprocal", root)
            }
            Unary::Reciprocal => simple(e, "Reciprocal", x),
            Unary::Square => e.node("Mul", vec![x.clone(), x], vec![]),
            Unary::Abs => simple(e, "Abs", x),
            Unary::Sigmoid => simple(e, "Sigmoid", x),
            Unary::Tanh => simple(e, "Tanh", x),
            Unary::Relu => simple(e, "Relu", x),
            Unary::Relu6 => {
                let dtype = e.ty(id)?.dtype;
                let lo = crate::values::convert_number(Number::Int(0), dtype)?;
                let hi = crate::values::convert_number(Number::Int(6), dtype)?;
                let (lo, hi) = (e.constant(dtype, &[], &[lo]), e.constant(dtype, &[], &[hi]));
                e.node("Clip", vec![x, lo, hi], vec![])
            }
            Unary::Sign => simple(e, "Sign", x),
        })
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let x = p.graph.nodes[id].inputs[0];
        let (dtype, shape) = match p.operand(x, None) {
            Some(Operand::Tensor(t)) => (t.dtype, crate::infer::ShapeOut::Known(t.shape)),
            Some(Operand::Pending(pending)) => (pending.dtype, crate::infer::ShapeOut::Pending(pending)),
            None => return Ty::Poison,
        };
        if !self.check_dtype(p, id, x, dtype) {
            return Ty::Poison;
        }
        with_shape(dtype, shape)
    }

    fn differentiable(&self, _k: usize) -> bool {
        *self != Unary::Sign
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let x = b.graph.nodes[id].inputs[0];
        let tx = b.ty(x);
        Some(match self {
            Unary::Neg => b.unary(Unary::Neg, g),
            // d exp(x) = exp(x): the forward node itself.
            Unary::Exp => b.mul(g, id),
            // TensorFlow's LogGrad: grad * reciprocal(x).
            Unary::Log => {
                let reciprocal = b.with_number(Binary::Div, 1.0, x);
                b.mul(g, reciprocal)
            }
            // TensorFlow's SqrtGrad: 0 where dy is 0 (so that sqrt at 0, or of a NaN, does not
            // poison a zero gradient), else dy * 0.5 / y.
            Unary::Sqrt => {
                let half = b.with_number(Binary::Mul, 0.5, g);
                let value = b.div(half, id);
                zero_where_no_gradient(b, g, value)
            }
            // TensorFlow's RsqrtGrad: 0 where dy is 0, else -0.5 * (dy * y) * (y * y).
            Unary::Rsqrt => {
                let gy = b.mul(g, id);
                let half = b.with_number(Binary::Mul, -0.5, gy);
                let yy = b.mul(id, id);
                let value = b.mul(half, yy);
                zero_where_no_gradient(b, g, value)
            }
            // TensorFlow's ReciprocalGrad: -dy * y * y.
            Unary::Reciprocal => {
                let yy = b.mul(id, id);
                let gyy = b.mul(g, yy);
                b.unary(Unary::Neg, gyy)
            }
            Unary::Square => {
                let twice = b.with_number(Binary::Mul, 2.0, x);
                b.mul(g, twice)
            }
            Unary::Abs => {
                let sign = b.unary(Unary::Sign, x);
                b.mul(g, sign)
            }
            // TensorFlow's SigmoidGrad: dy * y * (1 - y).
            Unary::Sigmoid => {
                let gy = b.mul(g, id);
                let one_minus = b.with_number(Binary::Sub, 1.0, id);
                b.mul(gy, one_minus)
            }
            // TensorFlow's TanhGrad: dy * (1 - y * y).
            Unary::Tanh => {
                let yy = b.mul(id, id);
                let one_minus = b.with_number(Binary::Sub, 1.0, yy);
                b.mul(g, one_minus)
            }
            // TensorFlow's ReluGrad: dy * (x > 0), a product, so that a NaN or infinite dy stays
            // NaN where x <= 0 instead of vanishing.
            Unary::Relu => {
                let zero = b.number(0.0, tx.dtype);
                let positive = {
                    let t = TensorType { dtype: DType::Bool, shape: tx.shape.clone() };
                    b.node(Op::Compare(Compare::Gt), vec![x, zero], t)
                };
                let step = b.node(Op::Cast(super::cast::Cast { to: tx.dtype }), vec![positive], tx.clone());
                b.mul(g, step)
            }
            // TensorFlow's Relu6Grad: dy * ((x > 0) & (x < 6)), a product likewise.
            Unary::Relu6 => {
                let mut g = g;
                for (compare, bound) in [(Compare::Gt, 0.0), (Compare::Lt, 6.0)] {
                    let bound = b.number(bound, tx.dtype);
                    let t = TensorType { dtype: DType::Bool, shape: tx.shape.clone() };
                    let inside = b.node(Op::Compare(compare), vec![x, bound], t);
                    let step = b.node(Op::Cast(super::cast::Cast { to: tx.dtype }), vec![inside], tx.clone());
                    g = b.mul(g, step);
                }
                g
            }
            Unary::Sign => return None,
        })
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, _shape: &[usize]) -> Option<Vec<Scalar>> {
        Some(inputs[0].data.iter().map(|x| self.apply(dtype, *x)).collect())
    }

    // `--x` is `x`.
    fn simplify(&self, graph: &Graph, id: NodeId) -> Option<NodeId> {
        let input = graph.nodes[id].inputs[0];
        match (self, &graph.nodes[input].op) {
            (Unary::Neg, Op::Unary(Unary::Neg)) => Some(graph.nodes[input].inputs[0]),
            _ => None,
        }
    }

    fn reads(&self) -> Reads {
        Reads::Elementwise
    }

    fn cheap(&self) -> bool {
        *self == Unary::Neg
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        self.emit(cx.dtype(id), cx.input(id, 0, idx))
    }
}

/// `where(g == 0, 0, value)`: TensorFlow's `SqrtGrad` and `RsqrtGrad` send no gradient where
/// none comes in, so that a NaN or infinite `value` (at 0, say) does not poison a zero gradient.
fn zero_where_no_gradient(b: &mut Builder, g: NodeId, value: NodeId) -> NodeId {
    let dtype = b.ty(value).dtype;
    let zero = b.number(0.0, dtype);
    let t = TensorType { dtype: DType::Bool, shape: b.ty(g).shape };
    let no_gradient = b.node(Op::Compare(Compare::Eq), vec![g, zero], t);
    let zero = b.number(0.0, dtype);
    let t = b.ty(value);
    b.node(Op::Where(super::select::Where), vec![no_gradient, zero, value], t)
}

impl Unary {
    // Each elementwise function takes the dtypes TensorFlow's kernel takes.
    //   tf.exp(tf.constant(1))  // error: `tf.exp` needs a float tensor
    fn check_dtype(self, p: &mut Pass, id: NodeId, x: NodeId, dtype: DType) -> bool {
        match self {
            Unary::Exp | Unary::Log | Unary::Sqrt | Unary::Rsqrt | Unary::Reciprocal | Unary::Sigmoid | Unary::Tanh => {
                p.check_float(id, x, dtype)
            }
            Unary::Neg | Unary::Abs if matches!(dtype, DType::Bool | DType::UInt8) => {
                p.errors.at(
                    p.op_loc(id),
                    format_args!("{} is not defined for `{dtype}`: {} is `{dtype}`", p.op(id), p.describe(x)),
                );
                false
            }
            _ if dtype == DType::Bool => {
                p.errors.at(p.op_loc(id), format_args!("{} is not defined for `bool`", p.op(id)));
                false
            }
            _ => true,
        }
    }

    /// The function of one element, as the emitted code computes it.
    pub fn apply(self, dtype: DType, x: Scalar) -> Scalar {
        match dtype {
            DType::Float32 => {
                let x = eval::float(x) as f32;
                let r = match self {
                    Unary::Neg => -x,
                    Unary::Exp => crate::math::expf(x),
                    Unary::Log => crate::math::logf(x),
                    Unary::Sqrt => libm::sqrtf(x),
                    Unary::Rsqrt => 1.0 / libm::sqrtf(x),
                    Unary::Reciprocal => 1.0 / x,
                    Unary::Square => x * x,
                    Unary::Abs => libm::fabsf(x),
                    Unary::Sigmoid => crate::math::sigmoidf(x),
                    Unary::Tanh => crate::math::tanhf(x),
                    // Exact in float64 too: computed once, below.
                    Unary::Relu | Unary::Relu6 | Unary::Sign => return self.apply(DType::Float64, Scalar::F(x as f64)),
                };
                Scalar::F(r as f64)
            }
            DType::Float64 => {
                let x = eval::float(x);
                Scalar::F(match self {
                    Unary::Neg => -x,
                    Unary::Exp => libm::exp(x),
                    Unary::Log => libm::log(x),
                    Unary::Sqrt => libm::sqrt(x),
                    Unary::Rsqrt => 1.0 / libm::sqrt(x),
                    Unary::Reciprocal => 1.0 / x,
                    Unary::Square => x * x,
                    Unary::Abs => libm::fabs(x),
                    Unary::Sigmoid => 1.0 / (1.0 + libm::exp(-x)),
                    Unary::Tanh => libm::tanh(x),
                    Unary::Relu => {
                        if x < 0.0 {
                            0.0
                        } else {
                            x
                        }
                    }
                    Unary::Relu6 => {
                        let y = if x < 0.0 { 0.0 } else { x };
                        if 6.0 < y {
                            6.0
                        } else {
                            y
                        }
                    }
                    Unary::Sign => {
                        if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            x
                        }
                    }
                })
            }
            DType::Bool => x,
            _ => {
                let x = eval::int(x);
                let r = match self {
                    Unary::Neg => x.wrapping_neg(),
                    Unary::Square => x.wrapping_mul(x),
                    Unary::Abs => x.wrapping_abs(),
                    Unary::Relu => x.max(0),
                    Unary::Relu6 => x.clamp(0, 6),
                    Unary::Sign => x.signum(),
                    _ => x,
                };
                Scalar::I(eval::wrap(dtype, r))
            }
        }
    }

    /// The code computing the function of one element `a` of `dtype`.
    pub fn emit(self, dtype: DType, a: TokenStream) -> TokenStream {
        let float = dtype.is_float();
        let f = |name32: &str, name64: &str| {
            let name = ident(if dtype == DType::Float32 { name32 } else { name64 });
            quote!(::tfcore::__private::#name(#a))
        };
        let (z, o) = (literal(Scalar::I(0), dtype), literal(Scalar::I(1), dtype));
        match (self, float) {
            (Unary::Neg, true) => quote!((-#a)),
            (Unary::Neg, false) => quote!((#a).wrapping_neg()),
            (Unary::Exp, _) => f("expf", "exp"),
            (Unary::Log, _) => f("logf", "log"),
            (Unary::Sqrt, _) => f("sqrtf", "sqrt"),
            (Unary::Rsqrt, _) => {
                let sqrt = f("sqrtf", "sqrt");
                quote!((#o / #sqrt))
            }
            (Unary::Reciprocal, _) => quote!((#o / #a)),
            (Unary::Tanh, _) => f("tanhf", "tanh"),
            (Unary::Sigmoid, _) => f("sigmoidf", "sigmoid"),
            (Unary::Abs, true) => f("fabsf", "fabs"),
            (Unary::Abs, false) => quote!((#a).wrapping_abs()),
            (Unary::Square, true) => quote!({ let __x = #a; __x * __x }),
            (Unary::Square, false) => quote!({ let __x = #a; __x.wrapping_mul(__x) }),
            // `max(x, 0)` as TensorFlow's kernel computes it (`std::max`): NaN stays NaN.
            (Unary::Relu, _) => quote!({ let __x = #a; if __x < #z { #z } else { __x } }),
            // `min(max(x, 0), 6)` as TensorFlow's kernel computes it: NaN stays NaN.
            (Unary::Relu6, _) => {
                let six = literal(Scalar::I(6), dtype);
                quote!({ let __x = #a; let __y = if __x < #z { #z } else { __x }; if #six < __y { #six } else { __y } })
            }
            (Unary::Sign, true) => quote!({ let __x = #a; if __x > #z { #o } else if __x < #z { -#o } else { __x } }),
            (Unary::Sign, false) => quote!((#a).signum()),
        }
    }
}
