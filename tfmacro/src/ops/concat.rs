//! `tf.concat(values, axis)`: tensors of one rank and dtype joined along `axis`, every other
//! dimension equal; and the piece of a gradient each input gets back (its range along `axis`).

use super::{Call, Reads, Rules};
use crate::ast::ExprKind;
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::eval::{indices, Tensor};
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{DType, Dim, NodeId, Number, Op, Scalar};
use crate::onnx::export::Export;
use crate::resolve::Resolver;
use proc_macro2::TokenStream;
use quote::quote;

/// `tf.concat` along `axis` (non-negative after inference). Inputs: the values. As a gradient
/// (`piece: Some(start)`), the range of its input along `axis` that begins at `start`, of this
/// node's shape. Inputs: `[grad]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Concat {
    pub axis: i64,
    pub piece: Option<usize>,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["concat"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if call.name != "concat" {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["values", "axis"], 2) else { return Some(r.poison(loc)) };
    let items: Vec<&crate::ast::Expr> = match b[0].map(|e| &e.kind) {
        Some(ExprKind::List(items)) if !items.is_empty() => items.iter().collect(),
        _ => {
            let at = b[0].map_or(loc, |e| e.loc);
            return Some(
                r.error(at, format_args!("`{op}` takes a list of tensors, as in `tf.concat([a, b], axis = 1)`")),
            );
        }
    };
    let axis = match b[1].map(|e| r.literal(e)) {
        Some(Some(Number::Int(n))) if n.abs() < 8 => n as i64,
        _ => {
            let at = b[1].map_or(loc, |e| e.loc);
            return Some(r.error(at, "expected an axis: an integer such as `0` or `-1`"));
        }
    };
    let inputs: Vec<NodeId> = items.iter().map(|e| r.lower(e)).collect();
    let locs: Vec<_> = items.iter().map(|e| e.loc).collect();
    let node = r.graph.add(Op::Concat(Concat { axis, piece: None }), inputs, loc, call.op_loc);
    Some(r.used_at(node, &locs))
}

impl Rules for Concat {
    fn name(&self) -> String {
        if self.piece.is_some() { "tf.slice" } else { "tf.concat" }.into()
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        if self.piece.is_some() {
            return Err("a piece of a concatenation's gradient has no ONNX form".into());
        }
        let inputs = (0..e.graph.nodes[id].inputs.len()).map(|k| e.input(id, k)).collect();
        Ok(e.node("Concat", inputs, vec![crate::onnx::export::int("axis", self.axis)]))
    }

    // One dtype and rank, the axis in range and of known sizes, every other dimension equal.
    //   tf.concat([a, b], axis = 1)  // error if `a` is [2, 3] and `b` is [4, 1]
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        if self.piece.is_some() {
            return Ty::Poison;
        }
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some(dtype) = p.check_same_dtype(id, &inputs) else { return Ty::Poison };
        let mut types = Vec::new();
        for &x in &inputs {
            match p.operand(x, Some(dtype)) {
                Some(Operand::Tensor(t)) => types.push(t),
                _ => return Ty::Poison,
            }
        }
        let op = p.op(id);
        let rank = types[0].rank() as i64;
        if rank == 0 || self.axis < -rank || self.axis >= rank {
            p.errors
                .at(p.op_loc(id), format_args!("{op}: axis {} is out of range for tensors of rank {rank}", self.axis));
            return Ty::Poison;
        }
        let axis = self.axis.rem_euclid(rank) as usize;
        let mut total = 0;
        for (k, t) in types.iter().enumerate() {
            let same_rank = t.rank() as i64 == rank;
            let fits = same_rank
                && (0..rank as usize).all(|d| d == axis || p.graph.syms.unify(t.shape[d], types[0].shape[d]).is_ok());
            let size = if same_rank { p.graph.syms.get(t.shape[axis]) } else { Dim::Known(0) };
            match (fits, size) {
                (true, Dim::Known(n)) => total += n,
                _ => {
                    let message = format!(
                        "{op} joins tensors equal in every dimension but {axis}, known along it, but {} has shape {} and {} has shape {}",
                        p.describe(inputs[0]),
                        p.shape_text(&types[0].shape),
                        p.describe(inputs[k]),
                        p.shape_text(&t.shape)
                    );
                    p.errors.at(p.use_loc(id, k), message);
                    return Ty::Poison;
                }
            }
        }
        p.graph.nodes[id].op = Op::Concat(Concat { axis: axis as i64, piece: None });
        let mut shape = p.graph.syms.shape(&types[0].shape);
        shape[axis] = Dim::Known(total);
        known(dtype, shape)
    }

    fn differentiable(&self, _k: usize) -> bool {
        self.piece.is_none()
    }

    // Each input gets back its own range of the gradient along the axis.
    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let axis = self.axis as usize;
        let inputs = b.graph.nodes[id].inputs.clone();
        let start = inputs[..k].iter().map(|&x| known_size(&b.ty(x).shape[axis])).sum();
        let ty = b.ty(inputs[k]);
        Some(b.node(Op::Concat(Concat { axis: self.axis, piece: Some(start) }), vec![g], ty))
    }

    fn fold(&self, inputs: &[Tensor], _dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let axis = self.axis as usize;
        Some(
            indices(shape)
                .into_iter()
                .map(|mut i| {
                    if let Some(start) = self.piece {
                        i[axis] += start;
                        return inputs[0].at(&inputs[0].shape, &i);
                    }
                    for x in inputs {
                        if i[axis] < x.shape[axis] {
                            return x.at(&x.shape, &i);
                        }
                        i[axis] -= x.shape[axis];
                    }
                    Scalar::F(0.0)
                })
                .collect(),
        )
    }

    fn reads(&self) -> Reads {
        Reads::Once
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let axis = self.axis as usize;
        let inputs = cx.graph.nodes[id].inputs.clone();
        let at = |x: NodeId, offset: usize| {
            let mut i = idx.to_vec();
            let a = &idx[axis];
            i[axis] = if offset == 0 { a.clone() } else { quote!((#a - #offset)) };
            cx.elem(x, &i)
        };
        if let Some(start) = self.piece {
            let mut i = idx.to_vec();
            let a = &idx[axis];
            i[axis] = quote!((#a + #start));
            return cx.elem(inputs[0], &i);
        }
        // `if i < s0 { x0 } else if i < s0 + s1 { x1 } ... else { xn }`, built from the end.
        let sizes: Vec<usize> = inputs.iter().map(|&x| known_size(&cx.shape(x)[axis])).collect();
        let starts: Vec<usize> = sizes
            .iter()
            .scan(0, |s, n| {
                let start = *s;
                *s += n;
                Some(start)
            })
            .collect();
        let last = inputs.len() - 1;
        let mut out = at(inputs[last], starts[last]);
        for k in (0..last).rev() {
            let end = starts[k] + sizes[k];
            let here = at(inputs[k], starts[k]);
            let a = &idx[axis];
            out = quote!(if #a < #end { #here } else { #out });
        }
        out
    }
}

fn known_size(d: &Dim) -> usize {
    match d {
        Dim::Known(n) => *n,
        Dim::Sym(_) => 0,
    }
}
