//! `tf.pad(tensor, paddings, mode = "CONSTANT", constant_values = 0)`: `paddings[d][0]` copies of
//! `constant_values` before the tensor along dimension `d` and `paddings[d][1]` after it; and its
//! gradient (TensorFlow's `PadGrad`), the slice of the gradient where the tensor was.
//!
//! `paddings` is written out, `[[0, 0], [1, 1], [1, 1], [0, 0]]`, one pair of non-negative
//! integers per dimension. Only `mode = "CONSTANT"` is supported; `"REFLECT"` and `"SYMMETRIC"`
//! are compile errors that say so.

use super::{Call, Reads, Rules};
use crate::ast::{Expr, ExprKind};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::error::with_help;
use crate::eval::{indices, Tensor};
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{DType, Dim, NodeId, Number, Op, Scalar};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.pad` with `paddings` (before, after) per dimension. Inputs: `[tensor, constant_values]`.
/// As a gradient (`slice`), the part of its input that lies `before` along each dimension on:
/// inputs `[grad]`, and the node has the padded tensor's shape.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Pad {
    pub paddings: Vec<[usize; 2]>,
    pub slice: bool,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["pad"];

/// The largest padding accepted on one side of a dimension (a typo guard; TensorFlow has none).
const MAX_PADDING: i128 = 1 << 20;

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "pad" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let params = ["tensor", "paddings", "mode", "constant_values"];
    let Some(b) = r.bind(&op, loc, call.args, &params, 2) else { return Some(r.poison(loc)) };
    let paddings = b[1].and_then(|e| paddings(r, &op, e));
    let mode_ok = check_mode(r, &op, b[2]);
    let x = r.lower_arg(b[0]);
    let value = match b[3] {
        Some(e) => r.lower(e),
        None => r.graph.add(Op::Literal(Number::Int(0)), Vec::new(), loc, loc),
    };
    Some(match paddings {
        Some(paddings) if mode_ok => {
            let node = r.graph.add(Op::Pad(Pad { paddings, slice: false }), vec![x, value], loc, call.op_loc);
            let value_loc = b[3].map_or(loc, |e| e.loc);
            let mut locs = arg_locs(&b[..1]);
            locs.push(value_loc);
            r.used_at(node, &locs)
        }
        _ => r.poison(loc),
    })
}

// `paddings` is a list of `[before, after]` pairs of non-negative integers, one per dimension.
//   tf.pad(x, [[1, 1], [2]])  // error: `[2]` is not a pair
fn paddings(r: &mut Resolver, op: &str, expr: &Expr) -> Option<Vec<[usize; 2]>> {
    let expected = || {
        format!("`{op}` takes `paddings` as one `[before, after]` pair per dimension, as in `[[0, 0], [1, 1], [1, 1], [0, 0]]`")
    };
    let ExprKind::List(rows) = &expr.kind else {
        r.errors.at(expr.loc, expected());
        return None;
    };
    let mut out = Vec::new();
    for row in rows {
        let pair = match &row.kind {
            ExprKind::List(pair) if pair.len() == 2 => pair,
            _ => {
                r.errors.at(row.loc, expected());
                return None;
            }
        };
        let mut sides = [0; 2];
        for (side, e) in sides.iter_mut().zip(pair) {
            match r.literal(e) {
                Some(Number::Int(n)) if (0..=MAX_PADDING).contains(&n) => *side = n as usize,
                _ => {
                    r.errors.at(e.loc, format_args!("a padding is an integer between 0 and {MAX_PADDING}"));
                    return None;
                }
            }
        }
        out.push(sides);
    }
    if out.is_empty() || out.len() > crate::resolve::MAX_RANK {
        r.errors.at(expr.loc, expected());
        return None;
    }
    Some(out)
}

// `mode` is `"CONSTANT"` (in any case, as TensorFlow reads it).
//   tf.pad(x, p, mode = "REFLECT")  // error: not supported
fn check_mode(r: &mut Resolver, op: &str, arg: Option<&Expr>) -> bool {
    let Some(e) = arg else { return true };
    match &e.kind {
        ExprKind::Str(s) if s.eq_ignore_ascii_case("constant") => true,
        ExprKind::Str(s) if s.eq_ignore_ascii_case("reflect") || s.eq_ignore_ascii_case("symmetric") => {
            let message = format!("`{op}` with `mode = \"{}\"` is not supported yet", s.to_ascii_uppercase());
            r.errors.at(e.loc, with_help(message, Some("`mode = \"CONSTANT\"` is".into())));
            false
        }
        _ => {
            r.errors.at(e.loc, "expected `\"CONSTANT\"`, `\"REFLECT\"` or `\"SYMMETRIC\"`");
            false
        }
    }
}

impl Rules for Pad {
    fn name(&self) -> String {
        if self.slice { "tf.slice" } else { "tf.pad" }.into()
    }

    // ONNX's `pads` are every dimension's start, then every dimension's end.
    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        if self.slice {
            return Err("the slice of a padding's gradient has no ONNX form".into());
        }
        let pads: Vec<i64> =
            self.paddings.iter().map(|p| p[0] as i64).chain(self.paddings.iter().map(|p| p[1] as i64)).collect();
        let (x, value) = (e.input(id, 0), e.input(id, 1));
        let pads = e.ints(&pads);
        Ok(e.node("Pad", vec![x, pads, value], vec![]))
    }

    // One pair of paddings per dimension of the tensor, `[0, 0]` where its size is `None`;
    // `constant_values` is a scalar of the tensor's dtype.
    //   tf.pad(tf.zeros([2, 3]), [[1, 1]])  // error: one pair for a tensor of rank 2
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        if self.slice {
            return Ty::Poison;
        }
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some(dtype) = p.check_same_dtype(id, &inputs) else { return Ty::Poison };
        let (Some(Operand::Tensor(t)), Some(Operand::Tensor(value))) =
            (p.operand(inputs[0], Some(dtype)), p.operand(inputs[1], Some(dtype)))
        else {
            return Ty::Poison;
        };
        let op = p.op(id);
        if value.rank() != 0 {
            let message = format!(
                "`constant_values` of {op} is a scalar, but {} has shape {}",
                p.describe(inputs[1]),
                p.shape_text(&value.shape)
            );
            p.errors.at(p.use_loc(id, 1), message);
            return Ty::Poison;
        }
        if t.rank() != self.paddings.len() {
            let message = format!(
                "{op} takes one `[before, after]` pair per dimension, but it has {} and {} has rank {} (shape {})",
                self.paddings.len(),
                p.describe(inputs[0]),
                t.rank(),
                p.shape_text(&t.shape)
            );
            p.errors.at(p.op_loc(id), message);
            return Ty::Poison;
        }
        let mut padded = Vec::new();
        for (d, [before, after]) in self.paddings.iter().enumerate() {
            match p.graph.syms.get(t.shape[d]) {
                Dim::Known(n) => padded.push(Dim::Known(n + before + after)),
                _ if before + after == 0 => padded.push(t.shape[d]),
                _ => {
                    let message = format!(
                        "{op} pads dimension {d} of {}, whose size is not known when the graph compiles (shape {}): only `[0, 0]` is possible there",
                        p.describe(inputs[0]),
                        p.shape_text(&t.shape)
                    );
                    p.errors.at(p.op_loc(id), message);
                    return Ty::Poison;
                }
            }
        }
        known(dtype, padded)
    }

    fn differentiable(&self, k: usize) -> bool {
        k == 0 && !self.slice
    }

    // TensorFlow's PadGrad: the slice of the gradient where the tensor was.
    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let x = b.graph.nodes[id].inputs[0];
        let ty = b.ty(x);
        Some(b.node(Op::Pad(Pad { paddings: self.paddings.clone(), slice: true }), vec![g], ty))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let x = &inputs[0];
        Some(
            indices(shape)
                .into_iter()
                .map(|mut i| {
                    for (d, [before, _]) in self.paddings.iter().enumerate() {
                        if self.slice {
                            i[d] += before;
                        } else if i[d] < *before || i[d] >= before + x.shape[d] {
                            return inputs[1].data[0];
                        } else {
                            i[d] -= before;
                        }
                    }
                    x.at(&x.shape, &i)
                })
                .collect(),
        )
    }

    fn reads(&self) -> Reads {
        Reads::Once
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let inputs = &cx.graph.nodes[id].inputs;
        let x = inputs[0];
        if self.slice {
            let at: Vec<TokenStream> = idx
                .iter()
                .zip(&self.paddings)
                .map(|(i, [before, _])| if *before == 0 { i.clone() } else { quote!((#i + #before)) })
                .collect();
            return cx.elem(x, &at);
        }
        let sizes = cx.shape(x);
        let mut inside = Vec::new();
        let mut at = Vec::new();
        for ((i, [before, after]), size) in idx.iter().zip(&self.paddings).zip(&sizes) {
            if *before > 0 {
                inside.push(quote!(#i >= #before));
            }
            if let (true, Dim::Known(n)) = (*after > 0, size) {
                let end = before + n;
                inside.push(quote!(#i < #end));
            }
            at.push(if *before == 0 { i.clone() } else { quote!((#i - #before)) });
        }
        let value = cx.elem(x, &at);
        if inside.is_empty() {
            return value;
        }
        let fill = cx.elem(inputs[1], &[]);
        quote!(if #(#inside)&&* { #value } else { #fill })
    }
}
