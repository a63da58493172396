//! The layers of a quantised TensorFlow Lite model (`tflite.load` of an int8 `.tflite`), computed
//! as TensorFlow Lite Micro's reference kernels compute them, bit for bit: an int32 sum with the
//! input's zero point, the int32 bias, then `tfcore::__private::int8`'s rescaling by a multiplier
//! and shift worked out here when the graph compiles (`crate::tflite::quant`), the output's zero
//! point and the activation's clamp. Integer sums are exact, so their order is free.
//!
//! These ops are made by the import only (there is no TF1 spelling), compute forward only (no
//! gradient) and hold every constant they need, weights included, in the layout of their
//! kernels: their inputs are the activations alone. A convolution or a dense layer runs through
//! `tfcore::__private::int8`'s kernels wherever its input is stored whole; element by element
//! (the same sums, so the same bits) where it is not.
//!
//! The input's zero point is folded into the bias here: `bias - zero_point · Σ weights`, and the
//! padding reads the zero point, so each term is `weight · input`. The sums wrap in `i32`, and
//! integer addition modulo 2^32 is associative: whatever the order, the result has TFLite Micro's
//! bits whenever TFLite Micro's own `int32` sums do not overflow (where C++ leaves them undefined).

use super::window::Axis;
use super::{Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::emit::plan::Plan;
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{DType, Dim, NodeId};
use proc_macro2::TokenStream;
use quote::quote;

/// An int8 layer. Inputs as [`Layer`] says.
#[derive(Clone, PartialEq, Debug)]
pub struct Int8 {
    pub layer: Layer,
    /// The input the layer reads (its first): dtype and shape, as the model declares them.
    pub input: (DType, Vec<usize>),
    /// The result's dtype and shape.
    pub output: (DType, Vec<usize>),
}

/// How an int32 sum becomes an int8 output: per output channel, a multiplier and a shift
/// (`QuantizeMultiplier`'s), then the output's zero point and the activation's range.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Rescale {
    pub channels: Vec<(i32, i32)>,
    pub zero_point: i32,
    pub min: i32,
    pub max: i32,
}

#[derive(Clone, PartialEq, Debug)]
pub enum Layer {
    /// `CONV_2D`, or `DEPTHWISE_CONV_2D` with a multiplier. Inputs `[x]`, NHWC. The filter as
    /// TFLite holds it (`[out, h, w, in]`, or `[h, w, channels · multiplier]`; the generated code
    /// lays the first out for its kernel, [`weights_static`]), the bias folded (one per output
    /// channel), the padding the input's zero point.
    Conv { axes: [Axis; 2], depthwise: Option<usize>, padding: i8, filter: Vec<i8>, bias: Vec<i32>, rescale: Rescale },
    /// `FULLY_CONNECTED`. Inputs `[x]`, `[rows, depth]`. The weights `[out, depth]` row-major
    /// (laid out for the kernel by the generated code, [`weights_static`]), the bias folded (one
    /// per output).
    FullyConnected { weights: Vec<i8>, bias: Vec<i32>, rescale: Rescale },
    /// `AVERAGE_POOL_2D` (`max` false) or `MAX_POOL_2D`. Inputs `[x]`.
    Pool { axes: [Axis; 2], max: bool, min: i32, max_value: i32 },
    /// `ADD` of two int8 tensors of one shape. Inputs `[a, b]`.
    Add(AddParams),
    /// `SOFTMAX` over the last axis of `[batch, depth]`. Inputs `[x]`.
    Softmax { multiplier: i32, left_shift: i32, diff_min: i32 },
    /// `QUANTIZE` of a float32 tensor. Inputs `[x]`.
    Quantize { scale: f32, zero_point: i32 },
    /// `DEQUANTIZE` to float32. Inputs `[q]`.
    Dequantize { scale: f64, zero_point: i32 },
}

/// The index of term `k` of row `row` of `rows` rows of `n` terms laid out in panels
/// ([`weights_static`]), both computed at run time.
fn panel_index(rows: usize, n: usize, row: &TokenStream, k: &TokenStream) -> TokenStream {
    quote!(::tfcore::__private::int8::panel_index(#rows, #n, #row, #k))
}

/// `tfcore::__private::int8::Add`'s fields.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AddParams {
    pub offsets: [i32; 2],
    pub inputs: [(i32, i32); 2],
    pub left_shift: u32,
    pub output: (i32, i32),
    pub zero_point: i32,
    pub min: i32,
    pub max: i32,
}

impl Layer {
    fn name(&self) -> &'static str {
        match self {
            Layer::Conv { depthwise: None, .. } => "CONV_2D",
            Layer::Conv { .. } => "DEPTHWISE_CONV_2D",
            Layer::FullyConnected { .. } => "FULLY_CONNECTED",
            Layer::Pool { max: false, .. } => "AVERAGE_POOL_2D",
            Layer::Pool { .. } => "MAX_POOL_2D",
            Layer::Add(_) => "ADD",
            Layer::Softmax { .. } => "SOFTMAX",
            Layer::Quantize { .. } => "QUANTIZE",
            Layer::Dequantize { .. } => "DEQUANTIZE",
        }
    }
}

/// `static NAME: [T; N] = [...];` of a layer's constant.
/// `static __W: [i8; N]`, a layer's weights. A depthwise filter as TFLite holds it. The `rows`
/// rows of a convolution's filter or a dense layer's weights (TFLite's, row-major) laid out in
/// panels for tfcore's kernels by its `int8::panels`, a `const fn`, so that the layout is the one
/// of the core the graph's crate is compiled for (`int8::PANEL` says which); [`panel_index`]
/// finds a term in it.
fn weights_static(weights: &[i8], rows: usize, depthwise: bool) -> TokenStream {
    if depthwise {
        return constant("__W", "i8", weights);
    }
    let (len, n) = (weights.len(), weights.len().checked_div(rows).unwrap_or(0));
    quote!(static __W: [i8; #len] = ::tfcore::__private::int8::panels(&[#(#weights),*], #n);)
}

/// tfcore's `int8::STRIP`: the bytes of input rows a convolution over its input keeps.
const STRIP: usize = 2048;

/// tfcore's `int8::fits_over`, for the planner: whether a convolution of these axes can be
/// computed over its input, no input row overwritten before it is read (that function's doc
/// says how). The generated call asserts, when it compiles, that tfcore agrees.
fn fits_over([ah, aw]: &[Axis; 2], width: usize, channels: usize, outputs: usize) -> bool {
    let (line, out_line) = (width * channels, aw.output * outputs);
    let (stride, before, rows) = (ah.stride, ah.pad_before, ah.kernel);
    if ah.dilation != 1 || stride == 0 || rows == 0 || line == 0 {
        return false;
    }
    if ah.output * out_line > ah.input * line || rows * line > STRIP {
        return false;
    }
    (1..ah.output).all(|r| {
        let (top, kept_end) = (r * stride, (r - 1) * stride + rows);
        let (fresh, end) = (top.max(kept_end), top + rows);
        let first = fresh.saturating_sub(before);
        !(fresh < end && end > before && first < ah.input && first * line < r * out_line)
    })
}

fn constant<T: quote::ToTokens>(name: &str, elem: &str, values: &[T]) -> TokenStream {
    let (name, elem, n) = (quote::format_ident!("{}", name), crate::values::ident(elem), values.len());
    quote!(static #name: [#elem; #n] = [#(#values),*];)
}

impl Rescale {
    /// `tfcore::__private::int8::Rescale` over the `static`s `__M` and `__S` of [`Rescale::statics`].
    fn kernel(&self) -> TokenStream {
        let (zp, min, max) = (self.zero_point, self.min, self.max);
        quote!(::tfcore::__private::int8::Rescale { multipliers: &__M, shifts: &__S, zero_point: #zp, min: #min, max: #max })
    }

    /// The multipliers' and shifts' `static`s.
    fn statics(&self) -> TokenStream {
        let (m, s): (Vec<i32>, Vec<i32>) = self.channels.iter().copied().unzip();
        let (m, s) = (constant("__M", "i32", &m), constant("__S", "i32", &s));
        quote!(#m #s)
    }

    /// The int8 output of sum `acc` in output channel `channel`, `__M` and `__S` in scope.
    fn emit(&self, acc: TokenStream, channel: &TokenStream) -> TokenStream {
        let (zp, min, max) = (self.zero_point, self.min, self.max);
        let k = if self.channels.len() == 1 { quote!(0usize) } else { channel.clone() };
        quote!(::tfcore::__private::int8::requantize(#acc, __M[#k], __S[#k], #zp, #min, #max))
    }
}

impl Int8 {
    /// The statement computing blocked node `id` into `out` through `tfcore::__private::int8`'s
    /// kernels (NHWC for a convolution; output `(r, o)` at `r * steps.0 + o * steps.1` for a dense
    /// layer).
    fn kernel_call(
        &self,
        cx: &Lower,
        id: NodeId,
        out: &TokenStream,
        steps: (&TokenStream, &TokenStream),
        then: Option<&TokenStream>,
    ) -> Option<TokenStream> {
        if !self.blocked(cx, id) {
            return None;
        }
        let x = cx.graph.nodes[id].inputs[0];
        match &self.layer {
            Layer::Conv { axes: [ah, aw], depthwise, padding, filter, bias, rescale } => {
                // Written over its input (`writes_over_input`), or from its input into `out`.
                let over = cx.written_over(id) == Some(x);
                let xs = if over { TokenStream::new() } else { cx.row_major(x)? };
                let batch = self.input.1[0];
                let (channels, outputs) = (self.input.1[3], self.output.1[3]);
                let pair = |k: fn(&Axis) -> usize| {
                    let (h, w) = (k(ah), k(aw));
                    quote!([#h, #w])
                };
                let (input, kernel, strides) = (pair(|a| a.input), pair(|a| a.kernel), pair(|a| a.stride));
                let (dilations, before, output) = (pair(|a| a.dilation), pair(|a| a.pad_before), pair(|a| a.output));
                let (w, b, statics) = (
                    weights_static(filter, bias.len(), depthwise.is_some()),
                    constant("__B", "i32", bias),
                    rescale.statics(),
                );
                let rescale = rescale.kernel();
                let kernel_fn = if depthwise.is_some() { quote!(depthwise_conv2d) } else { quote!(conv2d) };
                let is_depthwise = depthwise.is_some();
                let then = match then {
                    Some(then) => quote!(::core::option::Option::Some(&#then)),
                    None => quote!(::core::option::Option::None),
                };
                let call = if over {
                    // The planner's `fits_over` and tfcore's agree, or the crate does not compile.
                    let whole = cx.whole_buffer(id)?;
                    quote!(
                        const _: () = ::core::assert!(::tfcore::__private::int8::fits_over(
                            &::tfcore::__private::Window {
                                batch: #batch, input: #input, channels: #channels, kernel: #kernel, strides: #strides,
                                dilations: #dilations, before: #before, output: #output,
                            },
                            #outputs,
                        ));
                        ::tfcore::__private::int8::conv2d_over(&__layer, #is_depthwise, #whole, #then);
                    )
                } else {
                    quote!(::tfcore::__private::int8::#kernel_fn(&__layer, #xs, #out, #then);)
                };
                Some(quote!({
                    #w #b #statics
                    let __window = ::tfcore::__private::Window {
                        batch: #batch, input: #input, channels: #channels, kernel: #kernel, strides: #strides,
                        dilations: #dilations, before: #before, output: #output,
                    };
                    let __layer = ::tfcore::__private::int8::Conv {
                        window: &__window, outputs: #outputs, filter: &__W, bias: &__B, padding: #padding, rescale: #rescale,
                    };
                    #call
                }))
            }
            Layer::FullyConnected { weights, bias, rescale } => {
                let (slice, start, step) = cx.line(x, &quote!(0usize), 1)?;
                let (depth, outputs) = (self.input.1[1], self.output.1[1]);
                let (w, b, statics) =
                    (weights_static(weights, bias.len(), false), constant("__B", "i32", bias), rescale.statics());
                let rescale = rescale.kernel();
                let (row_step, column_step) = steps;
                Some(quote!({
                    #w #b #statics
                    let __layer = ::tfcore::__private::int8::FullyConnected {
                        depth: #depth, outputs: #outputs, weights: &__W, bias: &__B, rescale: #rescale,
                    };
                    // One row: its terms `#step` apart, which the kernel needs to be 1.
                    if #step == 1 {
                        ::tfcore::__private::int8::fully_connected(&__layer, 1, &#slice[#start..], #depth, #out, (#row_step, #column_step));
                    }
                }))
            }
            _ => None,
        }
    }
}

impl Rules for Int8 {
    fn name(&self) -> String {
        format!("the int8 `{}`", self.layer.name())
    }

    fn differentiable(&self, _k: usize) -> bool {
        false
    }

    fn gradient(&self, _b: &mut Builder, _id: NodeId, _k: usize, _g: NodeId) -> Option<NodeId> {
        None
    }

    // The import checked the model's own tensors; what is left to check is the tensor fed in.
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        let x = p.graph.nodes[id].inputs[0];
        let Some(Operand::Tensor(t)) = p.operand(x, Some(self.input.0)) else { return Ty::Poison };
        let want: Vec<Dim> = self.input.1.iter().map(|&d| Dim::Known(d)).collect();
        if t.dtype != self.input.0 || t.shape != want {
            let message = format!(
                "{} reads `{}` of shape {}, but {} is `{}` of shape {}",
                self.name(),
                self.input.0,
                p.shape_text(&want),
                p.describe(x),
                t.dtype,
                p.shape_text(&t.shape)
            );
            p.errors.at(p.op_loc(id), message);
            return Ty::Poison;
        }
        known(self.output.0, self.output.1.iter().map(|&d| Dim::Known(d)).collect())
    }

    // A convolution, or a dense layer of one row, runs through tfcore's kernels when its input
    // is stored whole in a static plan.
    fn blocked(&self, plan: &Plan, id: NodeId) -> bool {
        let x = plan.graph.nodes[id].inputs[0];
        let fits = match &self.layer {
            Layer::Conv { .. } => true,
            Layer::FullyConnected { .. } => self.input.1[0] == 1,
            _ => false,
        };
        fits && !plan.is_dynamic() && plan.is_stored(x)
    }

    fn has_flat_form(&self, plan: &Plan, id: NodeId) -> bool {
        self.blocked(plan, id)
    }

    fn materialise(&self, cx: &Lower, id: NodeId) -> Option<TokenStream> {
        let t = cx.graph.tensor(id)?;
        let ty = cx.names.rust_type(t);
        let zeros = if t.rank() == 4 { quote!(zeros4) } else { quote!(zeros2) };
        // A row (the one kernel case of rank 2) is laid out alike row- or column-major.
        let call = self.kernel_call(cx, id, &quote!(__c.as_mut_slice()), (&quote!(1usize), &quote!(1usize)), None)?;
        Some(quote!({ let mut __c: #ty = ::tfcore::__private::#zeros(); #call __c }))
    }

    fn materialise_flat(&self, cx: &Lower, id: NodeId, out: &TokenStream) -> Option<TokenStream> {
        let (row_step, column_step) = cx.flat_steps(id);
        self.kernel_call(cx, id, out, (&row_step, &column_step), None)
    }

    // A convolution that can be computed over its input, row by row (`int8::conv2d_over`):
    // keyword spotting's layers then take turns in one buffer, and a ResNet block's shortcut
    // (1 × 1, stride 2) is written over the block's input.
    fn writes_over_input(&self, plan: &Plan, id: NodeId) -> Option<usize> {
        let Layer::Conv { axes, depthwise, .. } = &self.layer else { return None };
        let (width, channels, outputs) = (self.input.1[2], self.input.1[3], self.output.1[3]);
        let multiplier_one = depthwise.is_none_or(|m| m == 1);
        (multiplier_one && fits_over(axes, width, channels, outputs) && self.blocked(plan, id)).then_some(0)
    }

    // tfcore's int8 convolutions store each output through a closure: a residual `ADD` after
    // the convolution is computed there, over the tensor it adds, and the convolution takes no
    // buffer of its own (ResNet-8's int8 peak: three 16 KiB activations to two).
    fn takes_epilogue(&self, plan: &Plan, id: NodeId) -> bool {
        matches!(self.layer, Layer::Conv { .. }) && self.blocked(plan, id)
    }

    fn materialise_then(&self, cx: &Lower, id: NodeId, out: &TokenStream, then: &TokenStream) -> Option<TokenStream> {
        let (row_step, column_step) = cx.flat_steps(id);
        self.kernel_call(cx, id, out, (&row_step, &column_step), Some(then))
    }

    fn reads(&self) -> Reads {
        match self.layer {
            Layer::Add(_) | Layer::Quantize { .. } | Layer::Dequantize { .. } => Reads::Elementwise,
            _ => Reads::Repeatedly,
        }
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let inputs = &cx.graph.nodes[id].inputs;
        let x = inputs[0];
        match &self.layer {
            Layer::Conv { axes: [ah, aw], depthwise, padding, filter, bias, rescale } => {
                let (n, oh, ow, co) = (&idx[0], &idx[1], &idx[2], &idx[3]);
                let (channels, outputs) = (self.input.1[3], self.output.1[3]);
                let terms = if depthwise.is_some() { 1 } else { channels };
                let (taps, width) = (ah.kernel * aw.kernel, aw.kernel);
                let sum = cx.sum(DType::Int32, Dim::Known(taps * terms), &|t| {
                    let tap = if terms == 1 { t.clone() } else { quote!((#t / #terms)) };
                    let (kh, kw) = (quote!((#tap / #width)), quote!((#tap % #width)));
                    let (ih, iw) = (ah.emit_input_index(oh, &kh), aw.emit_input_index(ow, &kw));
                    let (ci, weight) = match depthwise {
                        Some(m) => (quote!((#co / #m)), quote!(__W[#tap * #outputs + #co])),
                        None => {
                            let at = panel_index(outputs, taps * terms, co, &t);
                            (quote!((#t % #terms)), quote!(__W[#at]))
                        }
                    };
                    let value = cx.elem(x, &[n.clone(), ih.clone(), iw.clone(), ci]);
                    let (h, w) = (ah.input, aw.input);
                    // A tap in the padding reads the input's zero point (see the module's doc).
                    let value = match (ah.padded, aw.padded) {
                        (false, false) => value,
                        _ => quote!(if #ih < #h && #iw < #w { #value } else { #padding }),
                    };
                    quote!(i32::from(#weight) * i32::from(#value))
                });
                let (w, b, statics) = (
                    weights_static(filter, bias.len(), depthwise.is_some()),
                    constant("__B", "i32", bias),
                    rescale.statics(),
                );
                let out = rescale.emit(quote!(__B[#co].wrapping_add(#sum)), co);
                quote!({ #w #b #statics #out })
            }
            Layer::FullyConnected { weights, bias, rescale } => {
                let (b, o) = (&idx[0], &idx[1]);
                let depth = self.input.1[1];
                let sum = cx.sum(DType::Int32, Dim::Known(depth), &|d| {
                    let value = cx.elem(x, &[b.clone(), d.clone()]);
                    let at = panel_index(self.output.1[1], depth, o, &d);
                    quote!(i32::from(__W[#at]) * i32::from(#value))
                });
                let (w, bias, statics) =
                    (weights_static(weights, bias.len(), false), constant("__B", "i32", bias), rescale.statics());
                let out = rescale.emit(quote!(__B[#o].wrapping_add(#sum)), o);
                quote!({ #w #bias #statics #out })
            }
            Layer::Pool { axes: [ah, aw], max, min, max_value } => {
                let (n, oh, ow, c) = (&idx[0], &idx[1], &idx[2], &idx[3]);
                let (kh, kw, acc, count) = (cx.fresh("kh"), cx.fresh("kw"), cx.fresh("acc"), cx.fresh("count"));
                let (ih, iw) = (ah.emit_input_index(oh, &quote!(#kh)), aw.emit_input_index(ow, &quote!(#kw)));
                let value = cx.elem(x, &[n.clone(), quote!(__ih), quote!(__iw), c.clone()]);
                let (h, w, kh_n, kw_n) = (ah.input, aw.input, ah.kernel, aw.kernel);
                let (start, step, finish) = if *max {
                    (
                        quote!(i8::MIN),
                        quote!(#acc = #acc.max(#value);),
                        quote!(#acc.clamp(#min as i8, #max_value as i8)),
                    )
                } else {
                    (
                        quote!(0i32),
                        quote!(#acc = #acc.wrapping_add(i32::from(#value)); #count += 1;),
                        quote!(::tfcore::__private::int8::average(#acc, #count, #min, #max_value)),
                    )
                };
                quote!({
                    let mut #acc = #start;
                    #[allow(unused_mut, unused_variables)]
                    let mut #count = 0i32;
                    for #kh in 0..#kh_n {
                        let __ih = #ih;
                        if __ih >= #h { continue; }
                        for #kw in 0..#kw_n {
                            let __iw = #iw;
                            if __iw >= #w { continue; }
                            #step
                        }
                    }
                    #finish
                })
            }
            Layer::Add(p) => {
                let (a, b) = (cx.elem(x, idx), cx.elem(inputs[1], idx));
                let AddParams {
                    offsets: [o1, o2],
                    inputs: [(m1, s1), (m2, s2)],
                    left_shift,
                    output: (mo, so),
                    zero_point,
                    min,
                    max,
                } = *p;
                quote!(::tfcore::__private::int8::add(#a, #b, &::tfcore::__private::int8::Add {
                    offsets: [#o1, #o2], inputs: [(#m1, #s1), (#m2, #s2)], left_shift: #left_shift,
                    output: (#mo, #so), zero_point: #zero_point, min: #min, max: #max,
                }))
            }
            Layer::Softmax { multiplier, left_shift, diff_min } => {
                let (b, c) = (&idx[0], &idx[1]);
                let depth = self.input.1[1];
                let k = cx.fresh("k");
                let at = cx.elem(x, &[b.clone(), quote!(#k)]);
                quote!(::tfcore::__private::int8::softmax(
                    &::tfcore::__private::int8::Softmax { multiplier: #multiplier, left_shift: #left_shift, diff_min: #diff_min },
                    #depth, |#k: usize| #at, #c,
                ))
            }
            Layer::Quantize { scale, zero_point } => {
                let v = cx.elem(x, idx);
                quote!(::tfcore::__private::int8::quantize(#v, #scale, #zero_point))
            }
            Layer::Dequantize { scale, zero_point } => {
                let v = cx.elem(x, idx);
                quote!(::tfcore::__private::int8::dequantize(#v, #scale, #zero_point))
            }
        }
    }
}
