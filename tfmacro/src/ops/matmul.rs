//! `tf.matmul(a, b, transpose_a = ..., transpose_b = ...)`: the product of two rank-2 tensors.

use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::{Lines, Lower};
use crate::emit::plan::Plan;
use crate::error::with_help;
use crate::eval::{indices, sum_products, Tensor};
use crate::infer::{dim_text, known, Operand, Pass, Ty};
use crate::ir::{DType, Data, Dim, Graph, NodeId, Op, Scalar, Shape, TensorType};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use crate::values::literal;
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::collections::HashMap;

/// `tf.matmul`. Inputs: `[a, b]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MatMul {
    pub transpose_a: bool,
    pub transpose_b: bool,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["matmul"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    if !matches!(call.name, "matmul" | "linalg.matmul") {
        return None;
    }
    let (op, loc) = (call.op(), call.loc);
    let Some(b) = r.bind(&op, loc, call.args, &["a", "b", "transpose_a", "transpose_b"], 2) else {
        return Some(r.poison(loc));
    };
    let transpose_a = r.bool_arg(b[2], false);
    let transpose_b = r.bool_arg(b[3], false);
    let (a, x) = (r.lower_arg(b[0]), r.lower_arg(b[1]));
    Some(match (transpose_a, transpose_b) {
        (Some(transpose_a), Some(transpose_b)) => {
            let node = r.graph.add(Op::MatMul(MatMul { transpose_a, transpose_b }), vec![a, x], loc, call.op_loc);
            r.used_at(node, &arg_locs(&b))
        }
        _ => r.poison(loc),
    })
}

impl Rules for MatMul {
    fn name(&self) -> String {
        "tf.matmul".into()
    }

    // `X · W` (or `X · Wᵀ`) by a weight of no `None` dimension is a row of `X` at a time; `Xᵀ · dZ`
    // over the rows of both is a sum over them (a weight's gradient).
    fn by_rows(&self, graph: &Graph, id: NodeId) -> super::ByRows {
        let (a, b) = (graph.nodes[id].inputs[0], graph.nodes[id].inputs[1]);
        let shape = |n: NodeId| graph.tensor(n).map(|t| t.shape.clone()).unwrap_or_default();
        let (out, a, b) = (shape(id), shape(a), shape(b));
        let float = graph.tensor(id).is_some_and(|t| t.dtype.is_float());
        let rows = super::rows_of;
        match (self.transpose_a, super::has_rows(&out)) {
            (false, true) if rows(&out).is_some() && rows(&a) == rows(&out) && !super::has_rows(&b) => {
                super::ByRows::Rows
            }
            (true, false) if !self.transpose_b && rows(&a).is_some() && rows(&a) == rows(&b) && float => {
                super::ByRows::Sums
            }
            _ => super::ByRows::No,
        }
    }

    fn accumulate(&self, cx: &Lower, id: NodeId, acc: &TokenStream, idx: &[TokenStream]) -> Option<TokenStream> {
        let (a, b) = (cx.graph.nodes[id].inputs[0], cx.graph.nodes[id].inputs[1]);
        let (i, j) = (&idx[0], &idx[1]);
        let n = cx.names.dim(*cx.shape(a).first()?);
        if let (Some((a, a_at, a_step)), Some((b, b_at, b_step))) = (cx.line(a, i, 0), cx.line(b, j, 0)) {
            return Some(quote!(#acc.dot(#n, #a, #a_at, #a_step, #b, #b_at, #b_step);));
        }
        let (x, y) = (cx.elem(a, &[quote!(__k), i.clone()]), cx.elem(b, &[quote!(__k), j.clone()]));
        Some(quote!(#acc.add_products(#n, |__k: usize| (#x, #y));))
    }

    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        let (mut a, mut b) = (e.input(id, 0), e.input(id, 1));
        if self.transpose_a {
            a = e.transpose(a, &[1, 0]);
        }
        if self.transpose_b {
            b = e.transpose(b, &[1, 0]);
        }
        Ok(e.node("MatMul", vec![a, b], vec![]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some(dtype) = p.check_same_dtype(id, &inputs) else { return Ty::Poison };
        if !matches!(dtype, DType::Float32 | DType::Float64 | DType::Int32 | DType::Int64) {
            p.errors.at(p.op_loc(id), format_args!("`tf.matmul` is not defined for `{dtype}` tensors"));
            return Ty::Poison;
        }
        let (a, b) = (inputs[0], inputs[1]);
        let a_op = p.operand(a, Some(dtype));
        let b_op = p.operand(b, Some(dtype));
        match (a_op, b_op) {
            (Some(Operand::Tensor(ta)), Some(Operand::Tensor(tb))) => {
                if !check_rank(p, id, a, &ta) || !check_rank(p, id, b, &tb) {
                    return Ty::Poison;
                }
                let (m, ka) = oriented(&ta.shape, self.transpose_a);
                let (kb, n) = oriented(&tb.shape, self.transpose_b);
                if !check_inner(p, id, (a, &ta.shape, ka), (b, &tb.shape, kb)) {
                    return Ty::Poison;
                }
                known(dtype, vec![m, n])
            }
            (Some(Operand::Pending(pending)), Some(Operand::Tensor(tb))) => {
                if check_rank(p, id, b, &tb) {
                    let (k, _) = oriented(&tb.shape, self.transpose_b);
                    let rows = p.graph.syms.fresh();
                    let target = if self.transpose_a { vec![k, rows] } else { vec![rows, k] };
                    p.settle(id, &pending, target);
                }
                Ty::Poison
            }
            (Some(Operand::Tensor(ta)), Some(Operand::Pending(pending))) => {
                if check_rank(p, id, a, &ta) {
                    let (_, k) = oriented(&ta.shape, self.transpose_a);
                    let cols = p.graph.syms.fresh();
                    let target = if self.transpose_b { vec![cols, k] } else { vec![k, cols] };
                    p.settle(id, &pending, target);
                }
                Ty::Poison
            }
            _ => Ty::Poison,
        }
    }

    // TensorFlow's MatMul gradient, for each combination of transposes.
    fn gradient(&self, bl: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let (a, b) = (bl.graph.nodes[id].inputs[0], bl.graph.nodes[id].inputs[1]);
        Some(match (self.transpose_a, self.transpose_b, k) {
            (false, false, 0) => product(bl, g, b, false, true),
            (false, false, _) => product(bl, a, g, true, false),
            (false, true, 0) => product(bl, g, b, false, false),
            (false, true, _) => product(bl, g, a, true, false),
            (true, false, 0) => product(bl, b, g, false, true),
            (true, false, _) => product(bl, a, g, false, false),
            (true, true, 0) => product(bl, b, g, true, true),
            (true, true, _) => product(bl, g, a, true, true),
        })
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let (a, b) = (&inputs[0], &inputs[1]);
        let k = if self.transpose_a { a.shape[0] } else { a.shape[1] };
        let get = |t: &Tensor, r: usize, c: usize, transpose: bool| {
            if transpose {
                t.at(&t.shape, &[c, r])
            } else {
                t.at(&t.shape, &[r, c])
            }
        };
        Some(
            indices(shape)
                .iter()
                .map(|ij| {
                    sum_products(dtype, k, |kk| {
                        (get(a, ij[0], kk, self.transpose_a), get(b, kk, ij[1], self.transpose_b))
                    })
                })
                .collect(),
        )
    }

    fn reads(&self) -> Reads {
        Reads::Repeatedly
    }

    // Large products of stored operands go through `tfcore::__private::matmul`, which tiles the
    // outputs (or `matmul_panels`, for a constant weight stored in panels: see [`panelled`]);
    // smaller ones stay one fused dot product per element. Same bits either way. A
    // product a root reads (an inference fetch's last layer) is computed into the caller's value
    // and the root written over it there (`run_into`), with no buffer of its size; where that
    // cannot be (the fetch also trains), it stays fused with the root.
    fn has_flat_form(&self, plan: &Plan, id: NodeId) -> bool {
        self.blocked(plan, id)
    }

    fn blocked(&self, plan: &Plan, id: NodeId) -> bool {
        let inputs = &plan.graph.nodes[id].inputs;
        let (a, b) = (inputs[0], inputs[1]);
        let Some(&k) = plan.shape(a).get(if self.transpose_a { 0 } else { 1 }) else { return false };
        // A `None` dimension (a const generic) counts as 1: the known sizes alone decide.
        let size = |d: Dim| if let Dim::Known(n) = d { n } else { 1 };
        let work = plan.shape(id).into_iter().chain([k]).map(size).fold(1usize, usize::saturating_mul);
        plan.dtype(id).is_float()
            // Read by the fetched value: computed into it when the value is a chain of
            // elementwise ops over the product; in a fetch of run-time size, whose tensors live
            // in the session's workspace, into a buffer there; otherwise a dot product per
            // element inside the value's code, needing no buffer of the product's size on the
            // stack.
            && (!plan.is_read_by_root(id) || plan.is_written_over_in_out(id) || plan.is_dynamic())
            && plan.is_stored(a)
            && plan.is_stored(b)
            && plan.is_one_slice(a)
            && plan.is_one_slice(b)
            // A run-time `k` (a sum over the rows of a batch: a weight's gradient) packs its lines
            // into the workspace ([`Plan::scratch_terms`]); in chunks of rows such a sum is a
            // partial sum of each chunk's instead.
            && !(plan.is_dynamic() && matches!(k, Dim::Sym(_)) && plan.is_chunked())
            && !matches!(k, Dim::Known(k) if k < 8)
            && work >= BLOCKED_FROM
    }

    fn materialise(&self, cx: &Lower, id: NodeId) -> Option<TokenStream> {
        if !self.blocked(cx, id) {
            return None;
        }
        let t = cx.graph.tensor(id)?;
        let (ty, rows) = (cx.names.rust_type(t), cx.names.dim(*t.shape.first()?));
        let call = self.kernel(cx, id, &quote!(__c.as_mut_slice()), (&quote!(1usize), &rows))?;
        Some(quote!({ let mut __c: #ty = ::tfcore::__private::zeros2(); #call __c }))
    }

    fn materialise_flat(&self, cx: &Lower, id: NodeId, out: &TokenStream) -> Option<TokenStream> {
        if !self.blocked(cx, id) {
            return None;
        }
        let (row_step, column_step) = cx.flat_steps(id);
        self.kernel(cx, id, out, (&row_step, &column_step))
    }

    // One dot product per element (a sum written out under 8 terms).
    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let (a, b) = (cx.graph.nodes[id].inputs[0], cx.graph.nodes[id].inputs[1]);
        let dtype = cx.dtype(id);
        let a_shape = cx.shape(a);
        let inner = if self.transpose_a { a_shape[0] } else { a_shape[1] };
        let (i, j) = (&idx[0], &idx[1]);
        // Stored operands of 8 terms or more are read as lines of their storage (row `i` of `a`,
        // column `j` of `b`), which vectorises; the terms and their order are the same.
        let a_line = cx.line(a, i, if self.transpose_a { 0 } else { 1 });
        let b_line = cx.line(b, j, if self.transpose_b { 1 } else { 0 });
        let long = !matches!(inner, Dim::Known(n) if n < 8);
        if let (true, Some((a, a_at, a_step)), Some((b, b_at, b_step))) = (dtype.is_float() && long, a_line, b_line) {
            let n = cx.names.dim(inner);
            return quote!(::tfcore::__private::dot(#n, #a, #a_at, #a_step, #b, #b_at, #b_step));
        }
        let term = |k: TokenStream| {
            let x = if self.transpose_a {
                cx.elem(a, &[k.clone(), i.clone()])
            } else {
                cx.elem(a, &[i.clone(), k.clone()])
            };
            let y = if self.transpose_b { cx.elem(b, &[j.clone(), k]) } else { cx.elem(b, &[k, j.clone()]) };
            quote!((#x, #y))
        };
        cx.sum_products(dtype, inner, &term)
    }
}

/// The fewest multiply-adds (`m · n · k`, a `None` dimension counting as 1) of a product computed
/// by the tiled kernel; smaller products are computed one fused dot product per element. Measured
/// (`cargo bench --bench products`): the kernel is faster than a dot product per element from the
/// smallest size timed, 512 (1 × 8 × 64: 59.6 ns against 69.2; 4 × 8 × 16: 94 against 157), and
/// the pass it adds over the outputs is a few stores at that size.
pub const BLOCKED_FROM: usize = 512;

impl MatMul {
    /// The statement computing blocked product `id` into `out`, a `&mut [T]` whose element
    /// `(i, j)` is at `i * steps.0 + j * steps.1`. Operands whose lines may not be contiguous are
    /// packed, a few lines at a time, into a scratch array on the stack (with tfcore's `std`). `None` if an operand has
    /// no lines (never for the stored operands `blocked` asks for): the product is then computed
    /// element by element, to the same bits.
    fn kernel(
        &self,
        cx: &Lower,
        id: NodeId,
        out: &TokenStream,
        steps: (&TokenStream, &TokenStream),
    ) -> Option<TokenStream> {
        let inputs = &cx.graph.nodes[id].inputs;
        let (a, b) = (inputs[0], inputs[1]);
        let [rows, cols] = cx.shape(id)[..] else { return None };
        let inner = *cx.shape(a).get(if self.transpose_a { 0 } else { 1 })?;
        let a_lines = cx.lines(a, if self.transpose_a { 0 } else { 1 })?;
        let along = usize::from(self.transpose_b);
        let b = match (cx.panels(b), cx.held(b, along)) {
            (Some(_), _) => Right::Panels(cx.local(b)),
            (None, Some(held)) => Right::Held(cx.lines(b, along)?, held),
            (None, None) => Right::Lines(cx.lines(b, along)?),
        };
        Some(kernel_product(cx, cx.dtype(id), (cx.names.dim(rows), cols, inner), a_lines, b, out, steps))
    }
}

/// How the right operand of a [`kernel_product`] is stored.
enum Right {
    /// As lines of its storage.
    Lines(Lines),
    /// A constant weight stored in panels (`tfcore::__private::panel_at`), its `static`'s local.
    Panels(proc_macro2::Ident),
    /// A variable, with the local holding its session's copy in panels, if there is one
    /// ([`copied`], [`crate::emit::lower::Lower::held_panels`]).
    Held(Lines, proc_macro2::Ident),
}

/// The call computing `c = a · b` whole through `tfcore::__private::matmul`, `a` of `m` lines (an
/// expression) and `b` of `cols` lines, each of `inner` terms as their storage holds them, `c` written with the steps
/// `(row step, column step)`: each output with `dot`'s bits. With the scratch the kernel copies
/// lines that are not contiguous into, and `b` into panels when there are few terms.
fn kernel_product(
    cx: &Lower,
    dtype: DType,
    (m, cols, inner): (TokenStream, Dim, Dim),
    a_lines: Lines,
    b: Right,
    out: &TokenStream,
    (c_rs, c_cs): (&TokenStream, &TokenStream),
) -> TokenStream {
    let (n, k) = (cx.names.dim(cols), cx.names.dim(inner));
    let (elem, zero) = (crate::values::ident(dtype.rust()), literal(Scalar::I(0), dtype));
    let step = |d: Option<Dim>| d.map_or_else(|| quote!(1usize), |d| cx.names.dim(d));
    // Scratch for lines that are not contiguous, and for the panels `matmul` copies `b` into
    // when there are few terms (`[[T; K]; PACKED_LINES]`: an array length may be a const
    // generic `K`, not a product; `packed_lines(K)` for a known `K`), left unwritten where
    // the kernel will not use it when the fetch runs (a batch of one row).
    let lines = match inner {
        Dim::Known(k) => quote!(::tfcore::__private::packed_lines(#k)),
        _ => quote!(::tfcore::__private::PACKED_LINES),
    };
    // A number of terms known only when the fetch runs: the scratch the workspace holds.
    let (packed, scratch) = match inner {
        Dim::Sym(_) if cx.is_dynamic() => {
            let buffer = quote::format_ident!("__scratch_{}", dtype.rust());
            (None, quote!(&mut #buffer[..]))
        }
        _ => (
            Some(quote!(let mut __packed;)),
            quote! {
                __packed = [[#zero; #k]; #lines];
                __packed.as_flattened_mut()
            },
        ),
    };
    let a_step = step(a_lines.step);
    let unused = match &b {
        // Stored in panels: only strided lines of `a` are copied. (A variable's copy is there
        // with `std`, and without it no product uses a scratch.)
        Right::Panels(_) | Right::Held(..) => quote!(#a_step == 1),
        // For panels (few terms) or paired tiles (AVX-512: `b` copied two lines to a register),
        // with lines of `a` enough.
        Right::Lines(b) if a_lines.contiguous() && b.contiguous() => quote!(#m < ::tfcore::__private::PANEL),
        Right::Lines(b) => {
            let b_step = step(b.step);
            quote!(#a_step == 1 && #b_step == 1)
        }
    };
    let operand = |lines: Lines| lines_operand(cx, lines);
    let a = operand(a_lines);
    let call = match b {
        Right::Panels(b) => {
            quote!(::tfcore::__private::matmul_panels(#m, #n, #k, #a, &#b[..], #out, #c_rs, #c_cs, __scratch);)
        }
        Right::Lines(b) => {
            let b = operand(b);
            quote!(::tfcore::__private::matmul(#m, #n, #k, #a, #b, #out, #c_rs, #c_cs, __scratch);)
        }
        Right::Held(b, held) => {
            let b = operand(b);
            quote!(::tfcore::__private::matmul_copied(#m, #n, #k, #a, (#b, #held), #out, #c_rs, #c_cs, __scratch);)
        }
    };
    quote!({
        #packed
        let __scratch: &mut [#elem] = if #unused { &mut [] } else { #scratch };
        #call
    })
}

/// `lines` as a `tfcore::__private::Lines` expression.
pub fn lines_operand(cx: &Lower, lines: Lines) -> TokenStream {
    let step = |d: Option<Dim>| d.map_or_else(|| quote!(1usize), |d| cx.names.dim(d));
    let slice = lines.slice;
    let (line_step, step) = (step(lines.line_step), step(lines.step));
    quote!(::tfcore::__private::Lines { data: #slice, line_step: #line_step, step: #step })
}

/// The variables whose session holds a copy in panels (`tfcore::__private::PanelCopy`), each with
/// the axis the lines run along, in order: every float variable of rank 2 that a product reads as
/// its right operand in a fetch that does not write it (an inference, not the training step that
/// updates it), at least 8 terms long and 8 lines wide (as [`panelled`] asks of a constant), once
/// for each axis such products read it along. A variable that only training reads costs no
/// memory.
pub fn copied(graph: &Graph) -> Vec<(NodeId, usize)> {
    let mut out = Vec::new();
    for f in &graph.fetches {
        let needed = graph.topo_order(&[f.node]);
        for &id in &needed {
            let node = &graph.nodes[id];
            let (Op::MatMul(m), &[a, b]) = (&node.op, &node.inputs[..]) else { continue };
            let along = usize::from(m.transpose_b);
            let Some(t) = graph.tensor(b).filter(|t| t.dtype.is_float()) else { continue };
            let fits = matches!(t.shape[..], [Dim::Known(r), Dim::Known(c)] if {
                let (k, n) = if along == 0 { (r, c) } else { (c, r) };
                k >= 8 && n >= PANEL_WIDTH
            });
            let variable = matches!(graph.nodes[b].op, Op::Variable(_));
            if a != b && fits && variable && !out.contains(&(b, along)) && !graph.writes_variable(&needed, b) {
                out.push((b, along));
            }
        }
    }
    out.sort_unstable();
    out
}

/// How many lines of a constant weight stored in panels lie side by side: tfcore's
/// `__private::PANEL_WIDTH`, which the generated module asserts is the same ([`panels_check`]).
const PANEL_WIDTH: usize = 8;

/// The constant weights stored in panels, in the order of `tfcore::__private::panel_at`: the
/// lines a product reads from them (columns of `b`, or rows with `transpose_b`) eight at a time,
/// term by term, so that a matrix-vector product reads the weight as one stream, in the order it
/// uses it (`tfcore::__private::matmul_panels`). Each with the axis its lines run along: a
/// float constant of rank 2 whose every reader is a product reading it as `b`, all along the same
/// axis, at least 8 terms long (a shorter product is never blocked) and 8 lines wide.
pub fn panelled(graph: &Graph) -> HashMap<NodeId, usize> {
    let mut along: HashMap<NodeId, Option<usize>> = HashMap::new();
    for node in &graph.nodes {
        for (k, &input) in node.inputs.iter().enumerate() {
            let fits = match &node.op {
                Op::MatMul(m) if k == 1 && node.inputs[0] != input => Some(usize::from(m.transpose_b)),
                _ => None,
            };
            let seen = along.entry(input).or_insert(fits);
            if *seen != fits {
                *seen = None;
            }
        }
    }
    along
        .into_iter()
        .filter_map(|(id, along)| {
            let along = along?;
            let Op::Const { data: Data::Dense(_), shape, .. } = &graph.nodes[id].op else { return None };
            let float = graph.tensor(id).is_some_and(|t| t.dtype.is_float());
            let long = matches!(shape[..], [_, _] if shape[along] >= 8 && shape[1 - along] >= PANEL_WIDTH);
            (float && long).then_some((id, along))
        })
        .collect()
}

/// The `static`'s value of a constant stored in panels ([`panelled`]): a flat array of its
/// `values` (row-major, `rows × cols`), line `j`'s term `t` at `panel_at(n, k, j, t)`.
pub fn panels_value(values: &[Scalar], rows: usize, cols: usize, along: usize, dtype: DType) -> TokenStream {
    let (n, k) = if along == 0 { (cols, rows) } else { (rows, cols) };
    let at =
        |line: usize, term: usize| if along == 0 { values[term * cols + line] } else { values[line * cols + term] };
    let mut ordered = Vec::with_capacity(values.len());
    for first in (0..n).step_by(PANEL_WIDTH) {
        let width = PANEL_WIDTH.min(n - first);
        for term in 0..k {
            ordered.extend((first..first + width).map(|line| literal(at(line, term), dtype)));
        }
    }
    quote!([#(#ordered),*])
}

/// The item a module with constants stored in panels holds: a compile-time check that tfcore
/// lays panels out as the macro stores them.
pub fn panels_check() -> TokenStream {
    let width = Literal::usize_unsuffixed(PANEL_WIDTH);
    quote!(
        const _: () = ::core::assert!(::tfcore::__private::PANEL_WIDTH == #width, "tfmacro and tfcore differ in their panels' width: use the same version of both");
    )
}

/// A product node `a · b`, transposed as asked.
fn product(bl: &mut Builder, a: NodeId, b: NodeId, transpose_a: bool, transpose_b: bool) -> NodeId {
    let (ta, tb) = (bl.ty(a), bl.ty(b));
    let m = if transpose_a { ta.shape[1] } else { ta.shape[0] };
    let n = if transpose_b { tb.shape[0] } else { tb.shape[1] };
    bl.node(
        Op::MatMul(MatMul { transpose_a, transpose_b }),
        vec![a, b],
        TensorType { dtype: ta.dtype, shape: vec![m, n] },
    )
}

/// `(rows, columns)` of a rank-2 shape, transposed if asked.
fn oriented(shape: &[Dim], transpose: bool) -> (Dim, Dim) {
    if transpose {
        (shape[1], shape[0])
    } else {
        (shape[0], shape[1])
    }
}

// `tf.matmul` multiplies rank-2 tensors.
//   tf.matmul(tf.constant([1.0, 2.0]), W)  // error: rank 1
fn check_rank(p: &mut Pass, id: NodeId, x: NodeId, t: &TensorType) -> bool {
    if t.rank() == 2 {
        return true;
    }
    let message = with_help(
        format_args!(
            "`tf.matmul` multiplies rank-2 tensors, but {} has shape {} (rank {})",
            p.describe(x),
            p.shape_text(&t.shape),
            t.rank()
        ),
        (t.rank() == 1).then(|| "a vector is a one-row matrix here: give it shape `[1, n]`".to_string()),
    );
    p.errors.at(p.op_loc(id), message);
    false
}

// The inner dimensions of `tf.matmul` agree: `[m, k] x [k, n]`.
//   tf.matmul(tf.zeros([2, 3]), tf.zeros([2, 2]))  // error: 3 against 2
fn check_inner(p: &mut Pass, id: NodeId, a: (NodeId, &Shape, Dim), b: (NodeId, &Shape, Dim)) -> bool {
    let (ka, kb) = (p.graph.syms.get(a.2), p.graph.syms.get(b.2));
    if p.graph.syms.unify(ka, kb).is_ok() {
        return true;
    }
    let message = format!(
        "inner dimensions of `tf.matmul` differ: {} is {} and {} is {}, and {} ≠ {}",
        p.describe(a.0),
        p.shape_text(a.1),
        p.describe(b.0),
        p.shape_text(b.1),
        dim_text(ka),
        dim_text(kb),
    );
    let help = "`tf.matmul(a, b)` needs as many columns in `a` as rows in `b`; `transpose_a = true` or `transpose_b = true` turns an operand";
    p.errors.at(p.op_loc(id), with_help(message, Some(help.into())));
    false
}
