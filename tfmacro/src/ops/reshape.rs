//! `tf.reshape(tensor, shape)` (one dimension may be `-1`), `tf.squeeze(input, axis = None)` and
//! `tf.expand_dims(input, axis)`: the same elements in the same row-major order, in another shape.
//! Inference works the shape out and checks it; the gradient, folding and emission are those of
//! [`super::shape::Reshape`], which needs only the two shapes.

use super::shape::Reshape;
use super::{Call, Reads, Rules};
use crate::ast::{Expr, ExprKind};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::Tensor;
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{DType, Dim, NodeId, Number, Op, Scalar, Shape};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver, MAX_RANK};
use proc_macro2::TokenStream;

/// What the new shape is made from.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ReshapeTo {
    /// `tf.reshape`: the dimensions, `-1` for the one to work out.
    Shape(Vec<i64>),
    /// `tf.squeeze`: the axes to remove (each of size 1), or every axis of size 1.
    Squeeze(Option<Vec<i64>>),
    /// `tf.expand_dims`: where to insert a dimension of size 1.
    ExpandDims(i64),
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["reshape", "squeeze", "expand_dims"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let (op, loc) = (call.op(), call.loc);
    let (params, required): (&[&str], usize) = match call.name {
        "reshape" => (&["tensor", "shape"], 2),
        "squeeze" => (&["input", "axis", "squeeze_dims"], 1),
        "expand_dims" => (&["input", "axis", "dim"], 1),
        _ => return None,
    };
    let Some(b) = r.bind(&op, loc, call.args, params, required) else { return Some(r.poison(loc)) };
    let spec = match call.name {
        "reshape" => integers(r, b[1]).map(ReshapeTo::Shape),
        "squeeze" => match b[1].or(b[2]) {
            None => Some(ReshapeTo::Squeeze(None)),
            Some(e) => integers(r, Some(e)).map(|axes| ReshapeTo::Squeeze(Some(axes))),
        },
        _ => match b[1].or(b[2]).map(|e| (e, r.literal(e))) {
            Some((_, Some(Number::Int(axis)))) => Some(ReshapeTo::ExpandDims(axis as i64)),
            Some((e, _)) => {
                r.errors.at(e.loc, "expected an axis: an integer such as `0` or `-1`");
                None
            }
            None => {
                r.errors.at(loc, format_args!("`{op}` needs the argument `axis`"));
                None
            }
        },
    };
    let x = r.lower_arg(b[0]);
    Some(match spec {
        Some(spec) => {
            let node = r.graph.add(Op::ReshapeTo(spec), vec![x], loc, call.op_loc);
            r.used_at(node, &arg_locs(&b[..1]))
        }
        None => r.poison(loc),
    })
}

/// A list (or a single one) of integers.
fn integers(r: &mut Resolver, arg: Option<&Expr>) -> Option<Vec<i64>> {
    let expr = arg?;
    let items: Vec<&Expr> = match &expr.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![expr],
    };
    let mut out = Vec::new();
    for item in items {
        match r.literal(item) {
            Some(Number::Int(n)) if n.abs() <= 1 << 24 => out.push(n as i64),
            _ => {
                r.errors.at(item.loc, "expected an integer");
                return None;
            }
        }
    }
    Some(out)
}

impl Rules for ReshapeTo {
    fn name(&self) -> String {
        match self {
            ReshapeTo::Shape(_) => "tf.reshape",
            ReshapeTo::Squeeze(_) => "tf.squeeze",
            ReshapeTo::ExpandDims(_) => "tf.expand_dims",
        }
        .into()
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        crate::onnx::export::reshape(e, id)
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let x = p.graph.nodes[id].inputs[0];
        let Some(Operand::Tensor(t)) = p.operand(x, None) else { return Ty::Poison };
        let shape = p.graph.syms.shape(&t.shape);
        let result = match self {
            ReshapeTo::Shape(dims) => reshape(&shape, dims),
            ReshapeTo::Squeeze(axes) => squeeze(&shape, axes.as_deref()),
            ReshapeTo::ExpandDims(axis) => expand(&shape, *axis),
        };
        match result {
            Ok(out) if out.len() <= MAX_RANK => known(t.dtype, out),
            Ok(out) => {
                p.errors.at(p.op_loc(id), crate::resolve::rank_error(out.len()));
                Ty::Poison
            }
            Err(why) => {
                let message = format!("{}: {} has shape {}, and {why}", p.op(id), p.describe(x), p.shape_text(&shape));
                p.errors.at(p.op_loc(id), message);
                Ty::Poison
            }
        }
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        Reshape.gradient(b, id, k, g)
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        Reshape.fold(inputs, dtype, shape)
    }

    fn reads(&self) -> Reads {
        Reshape.reads()
    }

    fn cheap(&self) -> bool {
        Reshape.cheap()
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        Reshape.element(cx, id, idx)
    }
}

// `tf.reshape` keeps the number of elements; a `-1` takes what is left, and stands for a `None`
// dimension when the other sizes match.
//   tf.reshape(x, [-1, 27, 27])  // error if `x` is [None, 784]: 784 is not a multiple of 729
fn reshape(shape: &[Dim], dims: &[i64]) -> Result<Shape, String> {
    let asked = format!("{dims:?}");
    if dims.iter().filter(|&&d| d == -1).count() > 1 || dims.iter().any(|&d| d < -1 || d == 0) {
        return Err(format!("the new shape {asked} has sizes of at least 1 and at most one -1"));
    }
    let known_size: usize = dims.iter().filter(|&&d| d > 0).map(|&d| d as usize).product();
    let syms: Vec<Dim> = shape.iter().copied().filter(|d| matches!(d, Dim::Sym(_))).collect();
    let fixed: usize = shape.iter().map(|d| if let Dim::Known(n) = d { *n } else { 1 }).product();
    let hole = match (syms.as_slice(), dims.contains(&-1)) {
        ([], false) if fixed == known_size => None,
        ([], false) => return Err(format!("{fixed} elements cannot have shape {asked}")),
        ([], true) if fixed.is_multiple_of(known_size) => Some(Dim::Known(fixed / known_size)),
        ([], true) => return Err(format!("{fixed} elements are not a multiple of {known_size}, for shape {asked}")),
        ([sym], true) if fixed == known_size => Some(*sym),
        ([_], true) => {
            return Err(format!(
                "its size without the `None` dimension, {fixed}, must be what {asked} has without the -1, {known_size}"
            ))
        }
        _ => {
            return Err(format!(
                "the size of a shape with `None` dimensions only fits {asked} when one -1 stands for the one `None`"
            ))
        }
    };
    Ok(dims.iter().map(|&d| if d == -1 { hole.unwrap_or(Dim::Known(1)) } else { Dim::Known(d as usize) }).collect())
}

// `tf.squeeze` removes dimensions of size 1: the given axes (each must be 1), or all of them.
//   tf.squeeze(x, axis = [0])  // error if `x` is [None, 1]: its dimension 0 may not be 1
fn squeeze(shape: &[Dim], axes: Option<&[i64]>) -> Result<Shape, String> {
    let rank = shape.len() as i64;
    let Some(axes) = axes else {
        return Ok(shape.iter().copied().filter(|d| *d != Dim::Known(1)).collect());
    };
    let mut remove = Vec::new();
    for &axis in axes {
        if axis < -rank || axis >= rank {
            return Err(format!("axis {axis} is out of range"));
        }
        let k = axis.rem_euclid(rank) as usize;
        if shape[k] != Dim::Known(1) {
            return Err(format!("its dimension {k} is not of size 1, so it cannot be squeezed"));
        }
        remove.push(k);
    }
    Ok(shape.iter().enumerate().filter(|(k, _)| !remove.contains(k)).map(|(_, d)| *d).collect())
}

// `tf.expand_dims` inserts a dimension of size 1 at `axis`, from `-rank - 1` to `rank`.
//   tf.expand_dims(x, 3)  // error if `x` has rank 1
fn expand(shape: &[Dim], axis: i64) -> Result<Shape, String> {
    let rank = shape.len() as i64;
    if axis < -rank - 1 || axis > rank {
        return Err(format!("axis {axis} is out of range: it is from {} to {rank}", -rank - 1));
    }
    let at = axis.rem_euclid(rank + 1) as usize;
    let mut out = shape.to_vec();
    out.insert(at, Dim::Known(1));
    Ok(out)
}
