//! `tf.nn.conv2d` and `tf.nn.depthwise_conv2d` on NHWC tensors, and the two ops their gradients
//! are made of (TensorFlow's `Conv2DBackpropInput` and `Conv2DBackpropFilter`, and the depthwise
//! ones).
//!
//! `conv2d`: `out[n, oh, ow, co] = sum over (kh, kw, ci) of x[n, ih, iw, ci] * f[kh, kw, ci, co]`
//! with `ih = oh * stride + kh * dilation - pad_top` (and likewise for the width), the padding
//! zeros of TensorFlow's `SAME` taking part in the products as TensorFlow's do.
//! `depthwise_conv2d` with a filter `[kh, kw, ci, m]`: `out[n, oh, ow, ci * m + j]` is the same sum
//! over `(kh, kw)` only, of `x[.., ci] * f[kh, kw, ci, j]`.
//!
//! The sum is one sum over the window's terms in that order (`kh`, then `kw`, then `ci`), added
//! strictly left to right (`tfcore::__private::in_order`), the order of tfcore's window kernels
//! (`tfcore/src/conv.rs`), which keep output channels in their vector lanes; a 1 × 1
//! convolution too, though it is a matrix product (a product adds in `sum`'s order). The
//! element-by-element code and the constant folder add as the kernels do.

use super::matmul;
use super::window::{self, Axis, Padding};
use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::emit::plan::Plan;
use crate::error::with_help;
use crate::eval::{in_order_products, indices, sum, sum_products, Tensor};
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{DType, Dim, NodeId, Op, Scalar, TensorType};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use crate::values::literal;
use proc_macro2::TokenStream;
use quote::quote;

/// What a node of the family computes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Role {
    /// The convolution. Inputs: `[input, filter]`.
    Forward,
    /// The gradient with respect to the input, of the input's shape. Inputs: `[filter, grad]`.
    InputGradient,
    /// The gradient with respect to the filter, of the filter's shape. Inputs: `[input, grad]`.
    FilterGradient,
}

/// A convolution, or one of its gradients.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Conv {
    pub strides: [usize; 2],
    pub dilations: [usize; 2],
    pub padding: Padding,
    pub depthwise: bool,
    pub role: Role,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.conv2d", "nn.depthwise_conv2d"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let depthwise = match call.name {
        "nn.conv2d" => false,
        "nn.depthwise_conv2d" => true,
        _ => return None,
    };
    let (op, loc) = (call.op(), call.loc);
    // TensorFlow 1's parameters; `filters` and `rate` are later spellings of `filter` and
    // `dilations`.
    let params: &[&str] = if depthwise {
        &["input", "filter", "strides", "padding", "rate", "name_", "data_format", "dilations"]
    } else {
        &["input", "filter", "strides", "padding", "use_cudnn_on_gpu", "data_format", "dilations", "filters"]
    };
    let Some(b) = r.bind(&op, loc, call.args, params, 2) else { return Some(r.poison(loc)) };
    let filter = if depthwise { b[1] } else { b[1].or(b[7]) };
    let strides = window::spatial(r, call, b[2], "strides", [1, 1]);
    let padding = window::padding(r, call, b[3]);
    let dilations = window::spatial(r, call, if depthwise { b[7].or(b[4]) } else { b[6] }, "dilations", [1, 1]);
    let nhwc = window::nhwc(r, if depthwise { b[6] } else { b[5] });
    if b[2].is_none() {
        r.errors.at(loc, format_args!("`{op}` needs `strides`, as in `strides = [1, 1, 1, 1]`"));
    }
    let x = r.lower_arg(b[0]);
    let f = r.lower_arg(filter);
    Some(match (strides, padding, dilations, nhwc) {
        (Some(strides), Some(padding), Some(dilations), true) if b[2].is_some() => {
            let conv = Conv { strides, dilations, padding, depthwise, role: Role::Forward };
            let node = r.graph.add(Op::Conv(conv), vec![x, f], loc, call.op_loc);
            r.used_at(node, &arg_locs(&[b[0], filter]))
        }
        _ => r.poison(loc),
    })
}

/// The sizes a convolution node works with, all known.
struct Geometry {
    /// The input's height and width axes.
    axes: [Axis; 2],
    /// Input channels.
    channels: usize,
    /// Output channels per input channel (depthwise), or output channels.
    multiplier: usize,
    /// The batch dimension, perhaps `None`.
    batch: Dim,
}

impl Conv {
    fn geometry(&self, input: &[Dim], filter: &[Dim]) -> Option<Geometry> {
        let size = |d: Dim| match d {
            Dim::Known(n) => Some(n),
            Dim::Sym(_) => None,
        };
        let axis = |k: usize| {
            Axis::new(size(input[1 + k])?, size(filter[k])?, self.strides[k], self.dilations[k], self.padding)
        };
        Some(Geometry {
            axes: [axis(0)?, axis(1)?],
            channels: size(filter[2])?,
            multiplier: size(filter[3])?,
            batch: input[0],
        })
    }

    /// Whether tfcore's [window kernels](Conv::window_call) compute convolution node `id`: a
    /// float node of stored operands, of at least [`matmul::BLOCKED_FROM`] multiply-adds (a `None`
    /// batch counting as 1), and
    /// - a forward convolution whose window has at least 8 terms or whose input channels are a
    ///   multiple of eight (depthwise: with a multiplier of 1 and channels a multiple of eight;
    ///   its kernel takes channels eight at a time);
    /// - or the gradient of a `conv2d`'s filter (not a depthwise one's) in a fetch not run in
    ///   chunks of rows (whose sums over the batch carry over from chunk to chunk): the digits
    ///   CNN's training step computes its filter's gradient there.
    ///
    /// The fetched value reading the convolution changes nothing: a chain of elementwise ops over
    /// it (`relu(conv2d(x, f) + b)`) is written over the kernel's output in the caller's value
    /// ([`Plan::is_written_over_in_out`]), and any other reader (a pooling, a sum, a chain fed a
    /// run-time batch) reads the kernel's output from a buffer. Read element by element instead,
    /// ResNet-8's 3 × 3 × 16 layer took a hundred times as long.
    fn windowed(&self, plan: &Plan, id: NodeId) -> bool {
        let [x, f] = plan.graph.nodes[id].inputs[..] else { return false };
        let Some(geo) = self.geometry(&plan.shape(x), &plan.shape(self.filter_of(id, f))) else { return false };
        let batch = if let Dim::Known(n) = geo.batch { n } else { 1 };
        let [ah, aw] = geo.axes;
        let work = [batch, ah.output, aw.output, ah.kernel, aw.kernel, geo.channels, geo.multiplier];
        let role = match self.role {
            Role::Forward if self.depthwise => geo.multiplier == 1 && geo.channels % 8 == 0,
            // The digits CNN's 3 × 3 × 1 window (9 terms) through the kernel: its training step
            // 0.91× the time of element-by-element code, one image 0.69×, a thousand 0.61×
            // (`cargo bench --bench digits`, AMD EPYC Zen 4). (The patches kernel before this one
            // had lost to element-by-element code there.) Fewer terms, not measured.
            Role::Forward => geo.channels % 8 == 0 || ah.kernel * aw.kernel * geo.channels >= 8,
            Role::FilterGradient => !self.depthwise && !plan.is_chunked(),
            Role::InputGradient => false,
        };
        role && plan.dtype(id).is_float()
            && plan.is_stored(x)
            && plan.is_stored(f)
            && work.into_iter().fold(1usize, usize::saturating_mul) >= matmul::BLOCKED_FROM
    }

    /// The node whose shape is the filter's, of node `id` whose second input is `f`: a filter
    /// gradient's inputs are the convolution's input and its output's gradient, and its own shape
    /// the filter's.
    fn filter_of(&self, id: NodeId, f: NodeId) -> NodeId {
        if self.role == Role::FilterGradient {
            id
        } else {
            f
        }
    }

    /// The call of `tfcore::__private::conv2d` (or `depthwise_conv2d`) writing a
    /// [`Conv::windowed`] convolution into `out` (row-major, NHWC).
    fn window_call(
        &self,
        cx: &Lower,
        id: NodeId,
        out: &TokenStream,
        then: Option<&TokenStream>,
    ) -> Option<TokenStream> {
        let [x, f] = cx.graph.nodes[id].inputs[..] else { return None };
        let geo = self.geometry(&cx.shape(x), &cx.shape(self.filter_of(id, f)))?;
        let [ah, aw] = geo.axes;
        let (xs, fs) = (cx.row_major(x)?, cx.row_major(f));
        let batch = cx.names.dim(geo.batch);
        let c = geo.channels;
        let window = window::emit_window(&batch, &geo.axes, c);
        // The line of zeros a tap in the padding reads: a constant, promoted to a `static`.
        let zero = literal(Scalar::I(0), cx.dtype(id));
        let zeros = quote!(&[#zero; #c]);
        // With no closure, the `_plain` kernels, which store each output as it is.
        let fs = fs?;
        if self.role == Role::FilterGradient {
            let cout = geo.multiplier;
            return Some(quote!(::tfcore::__private::conv2d_filter_gradient(#window, #cout, #xs, #fs, #out);));
        }
        if self.depthwise {
            return Some(match then {
                Some(then) => quote!(::tfcore::__private::depthwise_conv2d(#window, #xs, #fs, #zeros, #out, #then);),
                None => quote!(::tfcore::__private::depthwise_conv2d_plain(#window, #xs, #fs, #zeros, #out);),
            });
        }
        // The filter is read as it is stored, in TensorFlow's layout.
        let cout = geo.multiplier;
        // Each output pixel reading its own input pixel alone (a 1 × 1 window moved by one, no
        // padding): a kernel of its own, which a graph without one does not carry.
        let own = |a: &Axis| a.kernel == 1 && a.stride == 1 && a.pad_before == 0 && a.output == a.input;
        if own(&ah) && own(&aw) {
            return Some(match then {
                Some(then) => quote!(::tfcore::__private::pointwise_conv2d(#window, #cout, #xs, #fs, #out, #then);),
                None => quote!(::tfcore::__private::pointwise_conv2d_plain(#window, #cout, #xs, #fs, #out);),
            });
        }
        // A first layer of one channel (a spectrogram's, a grey image's; a window at most five
        // wide, output channels a multiple of 16, rows a multiple of three to eight pixels): the
        // kernel that reads its pixels' inputs from a padded copy of the rows under them, compiled
        // for this window's width and for tiles of the most pixels that divide a row. Not for
        // three channels: ResNet-8's first layer took 13.4-13.7 µs so against 17.2-17.8, but its
        // example's build 5% longer, past the budget when measured. Not compared with
        // `conv2d`'s padded bands for few channels (0.81-0.87 of that layer's time), nor since
        // the kernels compiled in tfcore halved that build.
        let first_layer = c == 1 && (1..=5).contains(&aw.kernel) && cout > 0 && cout % 16 == 0;
        let row = (3..=8usize).rev().find(|r| aw.output % r == 0).filter(|_| first_layer);
        if let Some(r) = row {
            let k = aw.kernel;
            let nr = if cout % 32 == 0 { 32usize } else { 16 };
            return Some(match then {
                Some(then) => {
                    quote!(::tfcore::__private::conv2d_rows::<_, _, #k, #c, #nr, #r>(#window, #cout, #xs, #fs, #zeros, #out, #then);)
                }
                None => {
                    quote!(::tfcore::__private::conv2d_rows_plain::<_, #k, #c, #nr, #r>(#window, #cout, #xs, #fs, #zeros, #out);)
                }
            });
        }
        Some(match then {
            Some(then) => quote!(::tfcore::__private::conv2d(#window, #cout, #xs, #fs, #zeros, #out, #then);),
            None => quote!(::tfcore::__private::conv2d_plain(#window, #cout, #xs, #fs, #zeros, #out);),
        })
    }

    /// The input's and the filter's shapes, from any node of the family.
    fn shapes(&self, node: NodeId, inputs: &[NodeId], shape: &dyn Fn(NodeId) -> Vec<Dim>) -> (Vec<Dim>, Vec<Dim>) {
        match self.role {
            Role::Forward => (shape(inputs[0]), shape(inputs[1])),
            Role::InputGradient => (shape(node), shape(inputs[0])),
            Role::FilterGradient => (shape(inputs[0]), shape(node)),
        }
    }
}

impl Rules for Conv {
    fn name(&self) -> String {
        let base = if self.depthwise { "tf.nn.depthwise_conv2d" } else { "tf.nn.conv2d" };
        match self.role {
            Role::Forward => base.into(),
            Role::InputGradient => format!("{base}_backprop_input"),
            Role::FilterGradient => format!("{base}_backprop_filter"),
        }
    }

    // ONNX's `Conv` is NCHW with OIHW weights: the input is transposed in and out, the filter from
    // HWIO (depthwise: [kh, kw, C, m], a [C * m, 1, kh, kw] weight in C groups).
    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        if self.role != Role::Forward {
            return Err("a convolution's gradient has no ONNX form".into());
        }
        let inputs = e.graph.nodes[id].inputs.clone();
        let (input, filter) = (e.known_shape(inputs[0]).ok(), e.known_shape(inputs[1])?);
        let size = |k: usize| e.ty(inputs[0]).map(|t| t.shape[1 + k]);
        let (h, w) = (size(0)?, size(1)?);
        let (Dim::Known(h), Dim::Known(w)) = (h, w) else { return Err("its height and width are not known".into()) };
        let _ = input;
        let pads =
            crate::onnx::export::pads([h, w], [filter[0], filter[1]], self.strides, self.dilations, self.padding);
        let (x, f) = (e.input(id, 0), e.input(id, 1));
        let x = e.transpose(x, &[0, 3, 1, 2]);
        let (weight, group) = if self.depthwise {
            let out = (filter[2] * filter[3]) as i64;
            let shape = e.ints(&[filter[0] as i64, filter[1] as i64, 1, out]);
            let f = e.node("Reshape", vec![f, shape], vec![]);
            (e.transpose(f, &[3, 2, 0, 1]), filter[2] as i64)
        } else {
            (e.transpose(f, &[3, 2, 0, 1]), 1)
        };
        use crate::onnx::export::{int, ints};
        let attributes = vec![
            ints("kernel_shape", &[filter[0] as i64, filter[1] as i64]),
            ints("strides", &[self.strides[0] as i64, self.strides[1] as i64]),
            ints("dilations", &[self.dilations[0] as i64, self.dilations[1] as i64]),
            ints("pads", &pads),
            int("group", group),
        ];
        let y = e.node("Conv", vec![x, weight], attributes);
        Ok(e.transpose(y, &[0, 2, 3, 1]))
    }

    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        if self.role != Role::Forward {
            return Ty::Poison;
        }
        let inputs = p.graph.nodes[id].inputs.clone();
        let Some(dtype) = p.check_same_dtype(id, &inputs) else { return Ty::Poison };
        let (Some(Operand::Tensor(x)), Some(Operand::Tensor(f))) =
            (p.operand(inputs[0], Some(dtype)), p.operand(inputs[1], Some(dtype)))
        else {
            return Ty::Poison;
        };
        if !p.check_float(id, inputs[0], dtype) || !check_ranks(p, id, &x, &f) {
            return Ty::Poison;
        }
        let Some(out) = self.check_sizes(p, id, &x, &f) else { return Ty::Poison };
        known(dtype, out)
    }

    fn differentiable(&self, _k: usize) -> bool {
        self.role == Role::Forward
    }

    // TensorFlow's Conv2D gradient: `Conv2DBackpropInput(filter, grad)` for the input,
    // `Conv2DBackpropFilter(input, grad)` for the filter (and the depthwise ones).
    fn gradient(&self, b: &mut Builder, id: NodeId, k: usize, g: NodeId) -> Option<NodeId> {
        let [x, f] = b.graph.nodes[id].inputs[..] else { return None };
        let (role, inputs, ty) = match k {
            0 => (Role::InputGradient, vec![f, g], b.ty(x)),
            _ => (Role::FilterGradient, vec![x, g], b.ty(f)),
        };
        Some(b.node(Op::Conv(Conv { role, ..*self }), inputs, ty))
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let dims = |s: &[usize]| s.iter().map(|&n| Dim::Known(n)).collect::<Vec<_>>();
        let (input, filter) = match self.role {
            Role::Forward => (dims(&inputs[0].shape), dims(&inputs[1].shape)),
            Role::InputGradient => (dims(shape), dims(&inputs[0].shape)),
            Role::FilterGradient => (dims(&inputs[0].shape), dims(shape)),
        };
        let geo = self.geometry(&input, &filter)?;
        let [ah, aw] = geo.axes;
        let zero = Scalar::F(0.0);
        let at = |t: &Tensor, i: [usize; 4]| t.at(&t.shape, &i);
        // The input at (n, oh, ow, kh, kw, ci), 0 in the padding.
        let x_at = |x: &Tensor, n: usize, oh: usize, ow: usize, kh: usize, kw: usize, ci: usize| {
            let (ih, iw) = (ah.input_index(oh, kh), aw.input_index(ow, kw));
            if ih < ah.input && iw < aw.input {
                at(x, [n, ih, iw, ci])
            } else {
                zero
            }
        };
        let (kh_n, kw_n, m) = (ah.kernel, aw.kernel, geo.multiplier);
        let values = indices(shape).into_iter().map(|i| match self.role {
            Role::Forward => {
                let (x, f) = (&inputs[0], &inputs[1]);
                let [n, oh, ow, co] = [i[0], i[1], i[2], i[3]];
                // The window's terms in the order (kh, kw, ci), as one sum.
                let terms = if self.depthwise { 1 } else { geo.channels };
                in_order_products(dtype, kh_n * kw_n * terms, |t| {
                    let (kh, kw, ci) = (t / terms / kw_n, t / terms % kw_n, t % terms);
                    if self.depthwise {
                        (x_at(x, n, oh, ow, kh, kw, co / m), at(f, [kh, kw, co / m, co % m]))
                    } else {
                        (x_at(x, n, oh, ow, kh, kw, ci), at(f, [kh, kw, ci, co]))
                    }
                })
            }
            Role::InputGradient => {
                let (f, g) = (&inputs[0], &inputs[1]);
                let [n, ih, iw, ci] = [i[0], i[1], i[2], i[3]];
                sum(dtype, kh_n, |kh| {
                    sum(dtype, kw_n, |kw| {
                        let (oh, ow) = (ah.output_index(ih, kh), aw.output_index(iw, kw));
                        // A tap outside the output adds 0 × 0.
                        let term = |co: usize, fi: [usize; 4]| match (oh, ow) {
                            (Some(oh), Some(ow)) => (at(g, [n, oh, ow, co]), at(f, fi)),
                            _ => (zero, zero),
                        };
                        if self.depthwise {
                            sum_products(dtype, m, |j| term(ci * m + j, [kh, kw, ci, j]))
                        } else {
                            sum_products(dtype, m, |co| term(co, [kh, kw, ci, co]))
                        }
                    })
                })
            }
            Role::FilterGradient => {
                let (x, g) = (&inputs[0], &inputs[1]);
                let [kh, kw, ci, j] = [i[0], i[1], i[2], i[3]];
                let co = if self.depthwise { ci * m + j } else { j };
                sum(dtype, x.shape[0], |n| {
                    sum(dtype, ah.output, |oh| {
                        sum_products(dtype, aw.output, |ow| (x_at(x, n, oh, ow, kh, kw, ci), at(g, [n, oh, ow, co])))
                    })
                })
            }
        });
        Some(values.collect())
    }

    fn reads(&self) -> Reads {
        Reads::Repeatedly
    }

    // Forward convolutions of the sizes `windowed` takes go through tfcore's window kernels
    // (`tfcore/src/conv.rs`), which add each output as `element` does: the same bits.
    fn blocked(&self, plan: &Plan, id: NodeId) -> bool {
        self.windowed(plan, id)
    }

    fn has_flat_form(&self, plan: &Plan, id: NodeId) -> bool {
        self.blocked(plan, id)
    }

    fn materialise(&self, cx: &Lower, id: NodeId) -> Option<TokenStream> {
        window::materialise_whole(cx, id, |out| self.materialise_flat(cx, id, out))
    }

    fn materialise_flat(&self, cx: &Lower, id: NodeId, out: &TokenStream) -> Option<TokenStream> {
        if self.windowed(cx, id) {
            self.window_call(cx, id, out, None)
        } else {
            None
        }
    }

    // tfcore's window kernels store each output through a closure: a bias, an activation or a
    // residual add after the convolution is done there, in the pass that writes it.
    fn takes_epilogue(&self, plan: &Plan, id: NodeId) -> bool {
        self.role == Role::Forward && self.windowed(plan, id)
    }

    fn materialise_then(&self, cx: &Lower, id: NodeId, out: &TokenStream, then: &TokenStream) -> Option<TokenStream> {
        if self.role == Role::Forward && self.windowed(cx, id) {
            self.window_call(cx, id, out, Some(then))
        } else {
            None
        }
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let inputs = cx.graph.nodes[id].inputs.clone();
        let (input, filter) = self.shapes(id, &inputs, &|n| cx.shape(n));
        let dtype = cx.dtype(id);
        let Some(geo) = self.geometry(&input, &filter) else { return quote!(::core::unreachable!()) };
        let [ah, aw] = geo.axes;
        let zero = literal(Scalar::I(0), dtype);
        let known_dim = |n: usize| Dim::Known(n);
        let m = geo.multiplier;
        // The input at (n, oh, ow, kh, kw, ci), 0 in the padding.
        let x_at = |x: NodeId,
                    n: &TokenStream,
                    oh: &TokenStream,
                    ow: &TokenStream,
                    kh: &TokenStream,
                    kw: &TokenStream,
                    ci: &TokenStream| {
            let (ih, iw) = (ah.emit_input_index(oh, kh), aw.emit_input_index(ow, kw));
            let value = cx.elem(x, &[n.clone(), ih.clone(), iw.clone(), ci.clone()]);
            let (h, w) = (ah.input, aw.input);
            match (ah.padded, aw.padded) {
                (false, false) => value,
                (true, false) => quote!(if #ih < #h { #value } else { #zero }),
                (false, true) => quote!(if #iw < #w { #value } else { #zero }),
                (true, true) => quote!(if #ih < #h && #iw < #w { #value } else { #zero }),
            }
        };
        match self.role {
            Role::Forward => {
                let (x, f) = (inputs[0], inputs[1]);
                let (n, oh, ow, co) = (&idx[0], &idx[1], &idx[2], &idx[3]);
                // The window's terms in the order (kh, kw, ci), as one sum (the order of
                // `tfcore::__private::conv2d`, and of the constant folder).
                let terms = if self.depthwise { 1 } else { geo.channels };
                let count = ah.kernel * aw.kernel * terms;
                cx.sum_products_in_order(dtype, known_dim(count), &|t| {
                    let (kh, kw, ci) = window_indices(&t, aw.kernel, terms);
                    if self.depthwise {
                        let (ci, j) = (quote!((#co / #m)), quote!((#co % #m)));
                        let (xv, fv) = (x_at(x, n, oh, ow, &kh, &kw, &ci), cx.elem(f, &[kh, kw, ci, j]));
                        quote!((#xv, #fv))
                    } else {
                        let (xv, fv) = (x_at(x, n, oh, ow, &kh, &kw, &ci), cx.elem(f, &[kh, kw, ci, co.clone()]));
                        quote!((#xv, #fv))
                    }
                })
            }
            Role::InputGradient => {
                let (f, g) = (inputs[0], inputs[1]);
                let (n, ih, iw, ci) = (&idx[0], &idx[1], &idx[2], &idx[3]);
                cx.sum(dtype, known_dim(ah.kernel), &|kh| {
                    cx.sum(dtype, known_dim(aw.kernel), &|kw| {
                        let (ch, oh) = ah.emit_output_index(ih, &kh);
                        let (cw, ow) = aw.emit_output_index(iw, &kw);
                        cx.sum_products(dtype, known_dim(m), &|j| {
                            let (co, fi) = if self.depthwise {
                                (quote!((#ci * #m + #j)), [kh.clone(), kw.clone(), ci.clone(), j])
                            } else {
                                (j.clone(), [kh.clone(), kw.clone(), ci.clone(), j])
                            };
                            let (gv, fv) = (cx.elem(g, &[n.clone(), oh.clone(), ow.clone(), co]), cx.elem(f, &fi));
                            // A tap outside the output adds 0 × 0.
                            quote!(if #ch && #cw { (#gv, #fv) } else { (#zero, #zero) })
                        })
                    })
                })
            }
            Role::FilterGradient => {
                let (x, g) = (inputs[0], inputs[1]);
                let (kh, kw, ci, j) = (&idx[0], &idx[1], &idx[2], &idx[3]);
                let co = if self.depthwise { quote!((#ci * #m + #j)) } else { j.clone() };
                cx.sum(dtype, geo.batch, &|n| {
                    cx.sum(dtype, known_dim(ah.output), &|oh| {
                        cx.sum_products(dtype, known_dim(aw.output), &|ow| {
                            let xv = x_at(x, &n, &oh, &ow, kh, kw, ci);
                            let gv = cx.elem(g, &[n.clone(), oh.clone(), ow, co.clone()]);
                            quote!((#xv, #gv))
                        })
                    })
                })
            }
        }
    }
}

/// Term `t` of a window of `width` taps across, `terms` a tap, as `(kh, kw, ci)`: `t` is
/// `(kh * width + kw) * terms + ci`.
fn window_indices(t: &TokenStream, width: usize, terms: usize) -> (TokenStream, TokenStream, TokenStream) {
    let tap = if terms == 1 { t.clone() } else { quote!((#t / #terms)) };
    let ci = if terms == 1 { quote!(0usize) } else { quote!((#t % #terms)) };
    match width {
        1 => (tap, quote!(0usize), ci),
        _ => (quote!((#tap / #width)), quote!((#tap % #width)), ci),
    }
}

// Both operands are NHWC tensors: the input `[batch, height, width, channels]`, the filter
// `[height, width, in_channels, out_channels]` (a multiplier for depthwise).
//   tf.nn.conv2d(tf.zeros([28, 28]), w, ...)  // error: rank 2
fn check_ranks(p: &mut Pass, id: NodeId, x: &TensorType, f: &TensorType) -> bool {
    let op = p.op(id);
    let inputs = p.graph.nodes[id].inputs.clone();
    for (k, t, what) in [
        (0, x, "an NHWC input of rank 4, `[batch, height, width, channels]`"),
        (1, f, "a filter of rank 4, `[height, width, in_channels, out_channels]`"),
    ] {
        if t.rank() != 4 {
            let message =
                format!("{op} takes {what}, but {} has shape {}", p.describe(inputs[k]), p.shape_text(&t.shape));
            p.errors.at(p.use_loc(id, k), message);
            return false;
        }
    }
    true
}

impl Conv {
    // The filter's input channels are the input's channels, and the window fits the input.
    //   tf.nn.conv2d(x, w, ...)  // error if `x` is [None, 32, 32, 3] and `w` [3, 3, 16, 32]
    fn check_sizes(&self, p: &mut Pass, id: NodeId, x: &TensorType, f: &TensorType) -> Option<Vec<Dim>> {
        let op = p.op(id);
        let inputs = p.graph.nodes[id].inputs.clone();
        let shapes =
            format!("({} is {}, the filter {})", p.describe(inputs[0]), p.shape_text(&x.shape), p.shape_text(&f.shape));
        if p.graph.syms.unify(f.shape[2], x.shape[3]).is_err() {
            let message = format!(
                "{op}: the filter expects {} input channels, but {} has {} {shapes}",
                crate::infer::dim_text(p.graph.syms.get(f.shape[2])),
                p.describe(inputs[0]),
                crate::infer::dim_text(p.graph.syms.get(x.shape[3])),
            );
            p.errors.at(p.op_loc(id), message);
            return None;
        }
        for (k, what) in [(1, "height"), (2, "width")] {
            if matches!(p.graph.syms.get(x.shape[k]), Dim::Sym(_))
                || matches!(p.graph.syms.get(f.shape[k - 1]), Dim::Sym(_))
            {
                let message =
                    format!("{op} needs the input's and the filter's {what} known when the graph compiles {shapes}");
                p.errors.at(p.op_loc(id), message);
                return None;
            }
        }
        let x_shape = p.graph.syms.shape(&x.shape);
        let f_shape = p.graph.syms.shape(&f.shape);
        let Some(geo) = self.geometry(&x_shape, &f_shape) else {
            let message = with_help(
                format!("{op}: with `padding = \"VALID\"` the filter's window is larger than the input {shapes}"),
                Some("`padding = \"SAME\"` pads the input so that every position has a window".into()),
            );
            p.errors.at(p.op_loc(id), message);
            return None;
        };
        let channels =
            if self.depthwise { Dim::Known(geo.channels * geo.multiplier) } else { Dim::Known(geo.multiplier) };
        Some(vec![x_shape[0], Dim::Known(geo.axes[0].output), Dim::Known(geo.axes[1].output), channels])
    }
}
