//! `tf.reduce_sum`, `tf.reduce_mean` and `tf.reduce_max`, over all axes or `axis = k` / `[k, ...]`,
//! with `keepdims`. Every sum runs in the one order of `tfcore::__private::sum`; a maximum starts
//! from -inf and is NaN as soon as an element is, as TensorFlow's is.

use super::{Call, Reads, Rules};
use crate::ast::{Expr, ExprKind};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{indices, mean_of, sum, Tensor};
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{DType, Dim, NodeId, Op, Scalar, TensorType};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use crate::values::ident;
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.reduce_sum` (`mean: false`) or `tf.reduce_mean`. `axes` is `None` for all axes; after
/// inference, the axes are non-negative, sorted and distinct. Inputs: `[x]`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Reduce {
    pub mean: bool,
    /// `tf.reduce_max` (then `mean` is false).
    pub max: bool,
    pub axes: Option<Vec<i64>>,
    pub keepdims: bool,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["reduce_sum", "reduce_mean", "reduce_max"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let (mean, max) = match call.name {
        "reduce_sum" | "math.reduce_sum" => (false, false),
        "reduce_mean" | "math.reduce_mean" => (true, false),
        "reduce_max" | "math.reduce_max" => (false, true),
        _ => return None,
    };
    let (op, loc) = (call.op(), call.loc);
    let params = ["input_tensor", "axis", "keepdims", "reduction_indices", "keep_dims"];
    let Some(b) = r.bind(&op, loc, call.args, &params, 1) else { return Some(r.poison(loc)) };
    let x = r.lower_arg(b[0]);
    let axes = match b[1].or(b[3]) {
        None => Some(None),
        Some(Expr { kind: ExprKind::Name(n), .. }) if n == "None" => Some(None),
        Some(e) => r.axes(e).map(Some),
    };
    let keepdims = r.bool_arg(b[2].or(b[4]), false);
    Some(match (axes, keepdims) {
        (Some(axes), Some(keepdims)) => {
            let node = r.graph.add(Op::Reduce(Reduce { mean, max, axes, keepdims }), vec![x], loc, call.op_loc);
            r.used_at(node, &arg_locs(&b))
        }
        _ => r.poison(loc),
    })
}

impl Reduce {
    /// The reduced axes, once inference has settled them.
    fn axes(&self) -> Vec<usize> {
        self.axes.iter().flatten().map(|&a| a as usize).collect()
    }

    /// Whether the sum runs in `int64` rather than in `dtype`: TensorFlow's mean of `int32` and
    /// 8-bit tensors accumulates wider, so that it does not wrap (`[200, 200]` as `uint8` has mean
    /// 200), then divides, truncating toward zero.
    fn widens(&self, dtype: DType) -> bool {
        self.mean && matches!(dtype, DType::Int32 | DType::UInt8 | DType::Int8)
    }
}

impl Rules for Reduce {
    fn name(&self) -> String {
        match (self.mean, self.max) {
            (true, _) => "tf.reduce_mean",
            (_, true) => "tf.reduce_max",
            _ => "tf.reduce_sum",
        }
        .into()
    }

    // A sum over the rows (and maybe other axes: the rows are the outer sum) is a sum a chunk
    // of rows at a time; a reduction over other axes is a row at a time. Means and integer sums
    // (widened) run over all the rows at once.
    fn by_rows(&self, graph: &crate::ir::Graph, id: NodeId) -> super::ByRows {
        let x = graph.nodes[id].inputs[0];
        let Some(t) = graph.tensor(x) else { return super::ByRows::No };
        if super::rows_of(&t.shape).is_none() {
            return super::ByRows::No;
        }
        let over_rows = self.axes().contains(&0);
        match graph.tensor(id) {
            Some(out) if over_rows && !super::has_rows(&out.shape) && !self.mean && !self.max && t.dtype.is_float() => {
                super::ByRows::Sums
            }
            Some(out) if !over_rows && super::rows_of(&out.shape).is_some() => super::ByRows::Rows,
            _ => super::ByRows::No,
        }
    }

    fn accumulate(&self, cx: &Lower, id: NodeId, acc: &TokenStream, idx: &[TokenStream]) -> Option<TokenStream> {
        let x = cx.graph.nodes[id].inputs[0];
        let input = cx.shape(x);
        let reduced = self.axes();
        let (&first, rest) = reduced.split_first().filter(|(&a, _)| a == 0)?;
        let mut base: Vec<Option<TokenStream>> = Vec::new();
        let mut o = 0;
        for k in 0..input.len() {
            if reduced.contains(&k) {
                base.push((k == first).then(|| quote!(__k)));
                o += usize::from(self.keepdims);
            } else {
                base.push(Some(idx[o].clone()));
                o += 1;
            }
        }
        let term = emit_nested_sum(cx, x, cx.dtype(id), &input, rest, base, false);
        let n = cx.names.dim(input[0]);
        Some(quote!(#acc.add(#n, |__k: usize| #term);))
    }

    // Opset 17: `ReduceSum` takes its axes as an input, `ReduceMean` and `ReduceMax` as an
    // attribute.
    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let x = e.input(id, 0);
        let axes: Vec<i64> = self.axes().iter().map(|&a| a as i64).collect();
        if axes.is_empty() {
            return Ok(e.node("Identity", vec![x], vec![]));
        }
        let keepdims = crate::onnx::export::int("keepdims", i64::from(self.keepdims));
        Ok(if self.max || self.mean {
            let op = if self.max { "ReduceMax" } else { "ReduceMean" };
            e.node(op, vec![x], vec![crate::onnx::export::ints("axes", &axes), keepdims])
        } else {
            let axes = e.ints(&axes);
            e.node("ReduceSum", vec![x, axes], vec![keepdims])
        })
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let x = p.graph.nodes[id].inputs[0];
        let t = match p.operand(x, None) {
            Some(Operand::Tensor(t)) => t,
            _ => return Ty::Poison,
        };
        if t.dtype == DType::Bool {
            p.errors.at(p.op_loc(id), format_args!("{} is not defined for `bool` tensors", p.op(id)));
            return Ty::Poison;
        }
        let Some(axes) = check_axes(p, id, &t, self.axes.clone()) else { return Ty::Poison };
        p.graph.nodes[id].op = Op::Reduce(Reduce { axes: Some(axes.clone()), ..self.clone() });
        let shape = t
            .shape
            .iter()
            .enumerate()
            .filter_map(|(k, d)| match (axes.contains(&(k as i64)), self.keepdims) {
                (false, _) => Some(*d),
                (true, true) => Some(Dim::Known(1)),
                (true, false) => None,
            })
            .collect();
        known(t.dtype, shape)
    }

    // The adjoint, with the reduced axes kept as 1 (and divided by the count for a mean),
    // broadcast back to the input's shape.
    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let tx = b.ty(b.graph.nodes[id].inputs[0]);
        let axes = self.axes();
        let mut kept = tx.shape.clone();
        for &a in &axes {
            kept[a] = Dim::Known(1);
        }
        let g = if self.keepdims { g } else { b.reshape(g, kept.clone()) };
        if self.max {
            // TensorFlow's _MaxGrad: the gradient split evenly between the elements equal to the
            // maximum, `g * (x == y) / count(x == y)`.
            let y = if self.keepdims { id } else { b.reshape(id, kept) };
            let x = b.graph.nodes[id].inputs[0];
            let t = TensorType { dtype: DType::Bool, shape: tx.shape.clone() };
            let equal = b.node(Op::Compare(crate::ir::Compare::Eq), vec![x, y], t);
            let indicators = b.node(Op::Cast(super::cast::Cast { to: tx.dtype }), vec![equal], tx.clone());
            let selected = b.sum_keep(indicators, axes.iter().map(|&a| a as i64).collect());
            let share = b.div(indicators, selected);
            return Some(b.mul(share, g));
        }
        let g = if self.mean {
            let dims: Vec<Dim> = axes.iter().map(|&a| tx.shape[a]).collect();
            let count = b.node(Op::Count(super::shape::Count(dims)), Vec::new(), TensorType::scalar(tx.dtype));
            b.div(g, count)
        } else {
            g
        };
        Some(b.broadcast_to(g, &tx))
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        self.axes.as_ref()?;
        let x = &inputs[0];
        let reduced = self.axes();
        let count: usize = reduced.iter().map(|a| x.shape[*a]).product();
        Some(
            indices(shape)
                .iter()
                .map(|out| {
                    // The input index with the kept dimensions taken from `out`.
                    let mut base = Vec::new();
                    let mut o = 0;
                    for k in 0..x.shape.len() {
                        if reduced.contains(&k) {
                            base.push(0);
                            if self.keepdims {
                                o += 1;
                            }
                        } else {
                            base.push(out[o]);
                            o += 1;
                        }
                    }
                    if self.max {
                        return nested_max(x, dtype, &reduced, &mut base);
                    }
                    let wide = if self.widens(dtype) { DType::Int64 } else { dtype };
                    let total = nested_sum(x, wide, &reduced, &mut base);
                    if self.mean {
                        // The mean of values of `dtype` is one, so the narrowing is exact.
                        mean_of(wide, total, count)
                    } else {
                        total
                    }
                })
                .collect(),
        )
    }

    fn reads(&self) -> Reads {
        Reads::Once
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let x = cx.graph.nodes[id].inputs[0];
        let dtype = cx.dtype(id);
        let input = cx.shape(x);
        let reduced = self.axes();
        // The input index: summation variables on the reduced axes, `idx` elsewhere.
        let mut base: Vec<Option<TokenStream>> = Vec::new();
        let mut o = 0;
        for k in 0..input.len() {
            if reduced.contains(&k) {
                base.push(None);
                if self.keepdims {
                    o += 1;
                }
            } else {
                base.push(Some(idx[o].clone()));
                o += 1;
            }
        }
        if self.max {
            return emit_nested_max(cx, x, dtype, &input, &reduced, base);
        }
        let widens = self.widens(dtype);
        let wide = if widens { DType::Int64 } else { dtype };
        let total = emit_nested_sum(cx, x, wide, &input, &reduced, base, widens);
        if self.mean {
            let dims: Vec<Dim> = reduced.iter().map(|&a| input[a]).collect();
            let count = cx.names.count(&dims);
            let (elem, wide_elem) = (ident(dtype.rust()), ident(wide.rust()));
            let mean = quote!(<#wide_elem as ::tfcore::__private::Elem>::mean(#total, #count));
            if widens {
                quote!((#mean as #elem))
            } else {
                mean
            }
        } else {
            total
        }
    }
}

// A reduction's axes are within the tensor's rank (negative ones count from the end).
//   tf.reduce_sum(x, axis = 2)  // error if `x` has rank 2
fn check_axes(p: &mut Pass, id: NodeId, t: &TensorType, axes: Option<Vec<i64>>) -> Option<Vec<i64>> {
    let rank = t.rank() as i64;
    let Some(axes) = axes else { return Some((0..rank).collect()) };
    let mut normal = Vec::new();
    for axis in axes {
        if axis < -rank || axis >= rank {
            let range = if rank == 0 {
                "a scalar has no axes".to_string()
            } else {
                format!("its axes are {} to {}", -rank, rank - 1)
            };
            p.errors.at(
                p.loc(id),
                format_args!(
                    "axis {axis} is out of range for {} of {}, whose shape is {}: {range}",
                    p.op(id),
                    p.graph.describe(p.graph.nodes[id].inputs[0]),
                    p.shape_text(&t.shape)
                ),
            );
            return None;
        }
        normal.push(axis.rem_euclid(rank.max(1)));
    }
    normal.sort_unstable();
    normal.dedup();
    Some(normal)
}

/// The sum over the `reduced` axes of `x`, the outer axis first, at the other coordinates of
/// `base`.
fn nested_sum(x: &Tensor, dtype: DType, reduced: &[usize], base: &mut Vec<usize>) -> Scalar {
    match reduced.split_first() {
        None => x.at(&x.shape, base),
        Some((&axis, rest)) => sum(dtype, x.shape[axis], |k| {
            base[axis] = k;
            nested_sum(x, dtype, rest, base)
        }),
    }
}

/// The maximum over the `reduced` axes of `x`, the outer axis first, by `tfcore`'s `max_of`.
fn nested_max(x: &Tensor, dtype: DType, reduced: &[usize], base: &mut Vec<usize>) -> Scalar {
    match reduced.split_first() {
        None => x.at(&x.shape, base),
        Some((&axis, rest)) if dtype.is_float() => {
            Scalar::F(crate::math::max_of(f64::NEG_INFINITY, x.shape[axis], |k| {
                base[axis] = k;
                crate::eval::float(nested_max(x, dtype, rest, base))
            }))
        }
        Some((&axis, rest)) => Scalar::I(crate::math::max_of(i64::MIN, x.shape[axis], |k| {
            base[axis] = k;
            crate::eval::int(nested_max(x, dtype, rest, base))
        })),
    }
}

/// The code of the element of `x` at `base`, whose reduced axes are all summed or maximised over
/// by now.
fn element_at(cx: &Lower, x: NodeId, base: Vec<Option<TokenStream>>) -> TokenStream {
    let idx: Vec<TokenStream> = base.into_iter().map(|i| i.unwrap_or_else(|| quote!(0usize))).collect();
    cx.elem(x, &idx)
}

/// The code of the maximum over the `reduced` axes of `x`.
fn emit_nested_max(
    cx: &Lower,
    x: NodeId,
    dtype: DType,
    shape: &[Dim],
    reduced: &[usize],
    base: Vec<Option<TokenStream>>,
) -> TokenStream {
    match reduced.split_first() {
        None => element_at(cx, x, base),
        Some((&axis, rest)) => {
            let elem = ident(dtype.rust());
            let lowest = if dtype.is_float() { quote!(#elem::NEG_INFINITY) } else { quote!(#elem::MIN) };
            let count = cx.names.dim(shape[axis]);
            let k = proc_macro2::Ident::new(&format!("__m{axis}"), proc_macro2::Span::call_site());
            let mut inner = base.clone();
            inner[axis] = Some(quote!(#k));
            let value = emit_nested_max(cx, x, dtype, shape, rest, inner);
            quote!(::tfcore::__private::max_of(#lowest, #count, |#k: usize| #value))
        }
    }
}

/// The code of the sum in `dtype` over the `reduced` axes (outer first) of `x`, at the coordinates
/// `base` gives; each element converted to `i64` first if `widen`.
fn emit_nested_sum(
    cx: &Lower,
    x: NodeId,
    dtype: DType,
    shape: &[Dim],
    reduced: &[usize],
    base: Vec<Option<TokenStream>>,
    widen: bool,
) -> TokenStream {
    match reduced.split_first() {
        None => {
            let element = element_at(cx, x, base);
            if widen {
                quote!((#element as i64))
            } else {
                element
            }
        }
        Some((&axis, rest)) => {
            let term = |k: TokenStream| {
                let mut inner = base.clone();
                inner[axis] = Some(k);
                emit_nested_sum(cx, x, dtype, shape, rest, inner, widen)
            };
            cx.sum(dtype, shape[axis], &term)
        }
    }
}
