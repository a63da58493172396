//! The layers of a quantised TensorFlow Lite model (`tflite.load` of an int8 `.tflite`), computed
//! as TensorFlow Lite Micro's reference kernels compute them, bit for bit: an int32 sum with the
//! input's zero point, the int32 bias, then `tfcore::__private::int8`'s rescaling by a multiplier
//! and shift worked out here when the graph compiles (`crate::tflite::quant`), the output's zero
//! point and the activation's clamp. Integer sums are exact, so their order is free.
//!
//! These ops are made by the import only (there is no TF1 spelling), compute forward only (no
//! gradient) and hold every constant they need but the weights and biases, which are their
//! inputs as ordinary constant nodes.

use super::window::Axis;
use super::{Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
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
    /// `CONV_2D`, or `DEPTHWISE_CONV_2D` with `depthwise`. Inputs `[x, filter, bias]`: NHWC `x`,
    /// the filter as TFLite holds it (`[out, h, w, in]`, or `[1, h, w, channels · multiplier]`)
    /// and an int32 bias per output channel.
    Conv { axes: [Axis; 2], depthwise: Option<usize>, input_offset: i32, rescale: Rescale },
    /// `FULLY_CONNECTED`. Inputs `[x, weights, bias]`: `x` `[batch, depth]`, the weights
    /// `[out, depth]`, an int32 bias per output.
    FullyConnected { input_offset: i32, weight_offset: i32, rescale: Rescale },
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

/// `{ const C: [i32; N] = [...]; C[index] }`.
fn table(values: impl Iterator<Item = i32>, index: &TokenStream) -> TokenStream {
    let values: Vec<i32> = values.collect();
    let n = values.len();
    quote!({ const __C: [i32; #n] = [#(#values),*]; __C[#index] })
}

impl Rescale {
    /// The int8 output of sum `acc` in output channel `channel`.
    fn emit(&self, acc: TokenStream, channel: &TokenStream) -> TokenStream {
        let (zp, min, max) = (self.zero_point, self.min, self.max);
        let (multiplier, shift) = match &self.channels[..] {
            [(m, s)] => (quote!(#m), quote!(#s)),
            many => (table(many.iter().map(|c| c.0), channel), table(many.iter().map(|c| c.1), channel)),
        };
        quote!(::tfcore::__private::int8::requantize(#acc, #multiplier, #shift, #zp, #min, #max))
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

    fn reads(&self) -> Reads {
        match self.layer {
            Layer::Add(_) | Layer::Quantize { .. } | Layer::Dequantize { .. } => Reads::Elementwise,
            _ => Reads::Repeatedly,
        }
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let inputs = &cx.graph.nodes[id].inputs;
        let x = inputs[0];
        let wide = |v: TokenStream| quote!(i32::from(#v));
        match &self.layer {
            Layer::Conv { axes: [ah, aw], depthwise, input_offset, rescale } => {
                let (f, bias) = (inputs[1], inputs.get(2).copied());
                let (n, oh, ow, co) = (&idx[0], &idx[1], &idx[2], &idx[3]);
                let channels = self.input.1[3];
                let terms = if depthwise.is_some() { 1 } else { channels };
                let count = ah.kernel * aw.kernel * terms;
                let sum = cx.sum(DType::Int32, Dim::Known(count), &|t| {
                    let tap = if terms == 1 { t.clone() } else { quote!((#t / #terms)) };
                    let width = aw.kernel;
                    let (kh, kw) = (quote!((#tap / #width)), quote!((#tap % #width)));
                    let (ih, iw) = (ah.emit_input_index(oh, &kh), aw.emit_input_index(ow, &kw));
                    let (ci, weight) = match depthwise {
                        Some(m) => {
                            (quote!((#co / #m)), cx.elem(f, &[quote!(0usize), kh.clone(), kw.clone(), co.clone()]))
                        }
                        None => {
                            let ci = quote!((#t % #terms));
                            (ci.clone(), cx.elem(f, &[co.clone(), kh.clone(), kw.clone(), ci]))
                        }
                    };
                    let value = wide(cx.elem(x, &[n.clone(), ih.clone(), iw.clone(), ci]));
                    let weight = wide(weight);
                    let term = quote!(#weight.wrapping_mul(#value.wrapping_add(#input_offset)));
                    let (h, w) = (ah.input, aw.input);
                    // A tap in the padding adds nothing, as TFLite Micro skips it.
                    match (ah.padded, aw.padded) {
                        (false, false) => term,
                        _ => quote!(if #ih < #h && #iw < #w { #term } else { 0i32 }),
                    }
                });
                let acc = match bias {
                    Some(b) => {
                        let b = cx.elem(b, std::slice::from_ref(co));
                        quote!(#sum.wrapping_add(#b))
                    }
                    None => sum,
                };
                rescale.emit(acc, co)
            }
            Layer::FullyConnected { input_offset, weight_offset, rescale } => {
                let (w, bias) = (inputs[1], inputs.get(2).copied());
                let (b, o) = (&idx[0], &idx[1]);
                let depth = self.input.1[1];
                let sum = cx.sum(DType::Int32, Dim::Known(depth), &|d| {
                    let weight = wide(cx.elem(w, &[o.clone(), d.clone()]));
                    let value = wide(cx.elem(x, &[b.clone(), d]));
                    quote!(#weight.wrapping_add(#weight_offset).wrapping_mul(#value.wrapping_add(#input_offset)))
                });
                let acc = match bias {
                    Some(bias) => {
                        let b = cx.elem(bias, std::slice::from_ref(o));
                        quote!(#sum.wrapping_add(#b))
                    }
                    None => sum,
                };
                rescale.emit(acc, o)
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
