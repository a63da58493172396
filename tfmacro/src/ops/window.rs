//! What convolutions and pools share: a window sliding over the height and width of an NHWC
//! tensor, with TensorFlow's `strides`, `dilations` and `padding` arguments and its exact padding
//! arithmetic.

use super::Call;
use crate::ast::{Expr, ExprKind};
use crate::emit::lower::Lower;
use crate::ir::{NodeId, Number};
use crate::resolve::Resolver;
use proc_macro2::TokenStream;
use quote::quote;

/// The `tfcore::__private::Window` of a convolution or a pooling over an NHWC input of `batch`
/// images (an expression) and `channels` channels, moving along the height and width as `axes`
/// say: what tfcore's window kernels take.
pub fn emit_window(batch: &TokenStream, [ah, aw]: &[Axis; 2], channels: usize) -> TokenStream {
    let pair = |k: fn(&Axis) -> usize| {
        let (h, w) = (k(ah), k(aw));
        quote!([#h, #w])
    };
    let (input, kernel, strides) = (pair(|a| a.input), pair(|a| a.kernel), pair(|a| a.stride));
    let (dilations, before, output) = (pair(|a| a.dilation), pair(|a| a.pad_before), pair(|a| a.output));
    quote!(&::tfcore::__private::Window {
        batch: #batch, input: #input, channels: #channels, kernel: #kernel, strides: #strides,
        dilations: #dilations, before: #before, output: #output,
    })
}

/// The value of rank-4 node `id`, computed whole by a window kernel (a convolution's, a
/// pooling's) into a tensor of its own: `flat`'s statement writing its row-major slice.
pub fn materialise_whole(
    cx: &Lower,
    id: NodeId,
    flat: impl FnOnce(&TokenStream) -> Option<TokenStream>,
) -> Option<TokenStream> {
    let ty = cx.names.rust_type(cx.graph.tensor(id)?);
    let call = flat(&quote!(__c.as_mut_slice()))?;
    Some(quote!({ let mut __c: #ty = ::tfcore::__private::zeros4(); #call __c }))
}

/// `padding = "SAME"` or `"VALID"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Padding {
    Same,
    Valid,
}

/// How a window of `kernel` elements (before dilation) moves along one spatial axis of `input`
/// elements.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Axis {
    pub input: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    /// How many elements the output has along the axis.
    pub output: usize,
    /// The zeros (or, for max pooling, nothing) TensorFlow pads before the first element.
    pub pad_before: usize,
    /// Whether any window reaches past either end.
    pub padded: bool,
}

impl Axis {
    /// TensorFlow's arithmetic (`GetWindowedOutputSize`): `VALID` keeps the windows that fit,
    /// `ceil((input - (kernel - 1) * dilation) / stride)` of them; `SAME` makes
    /// `ceil(input / stride)` and pads the shortfall, the smaller half before. `None` when not even
    /// one `VALID` window fits.
    pub fn new(input: usize, kernel: usize, stride: usize, dilation: usize, padding: Padding) -> Option<Axis> {
        let span = (kernel - 1) * dilation + 1;
        let (output, pad_total) = match padding {
            Padding::Valid => {
                if input < span {
                    return None;
                }
                ((input - span) / stride + 1, 0)
            }
            Padding::Same => {
                let output = input.div_ceil(stride);
                (output, ((output - 1) * stride + span).saturating_sub(input))
            }
        };
        Some(Axis { input, kernel, stride, dilation, output, pad_before: pad_total / 2, padded: pad_total > 0 })
    }

    /// The input index that output index `o` reads at kernel index `k`, that is
    /// `o * stride + k * dilation - pad_before`, wrapping below 0 to a huge value so that one
    /// comparison, `< input`, tells whether it is inside.
    pub fn input_index(&self, o: usize, k: usize) -> usize {
        (o * self.stride + k * self.dilation).wrapping_sub(self.pad_before)
    }

    /// [`Axis::input_index`] as code.
    pub fn emit_input_index(&self, o: &TokenStream, k: &TokenStream) -> TokenStream {
        let (s, d, p) = (self.stride, self.dilation, self.pad_before);
        let at = quote!((#o * #s + #k * #d));
        if p == 0 {
            at
        } else {
            quote!(#at.wrapping_sub(#p))
        }
    }

    /// The output index whose window reads input index `i` at kernel index `k`, if there is one:
    /// the inverse of [`Axis::input_index`], for gradients.
    pub fn output_index(&self, i: usize, k: usize) -> Option<usize> {
        let t = (i + self.pad_before).checked_sub(k * self.dilation)?;
        (t % self.stride == 0 && t / self.stride < self.output).then_some(t / self.stride)
    }

    /// The output index whose window holds input index `i`, where the windows tile the input
    /// (`kernel == stride`, undilated): at most one does, and it is one only when below `output`.
    pub fn emit_window_of(&self, i: &TokenStream) -> TokenStream {
        let (s, p) = (self.stride, self.pad_before);
        quote!(((#i + #p) / #s))
    }

    /// Where input index `i` lies in the window [`Axis::emit_window_of`] gives.
    pub fn emit_offset_in_window(&self, i: &TokenStream) -> TokenStream {
        let (s, p) = (self.stride, self.pad_before);
        quote!(((#i + #p) % #s))
    }

    /// [`Axis::output_index`] as code: `(condition, index)`, the index to be read only when the
    /// condition holds.
    pub fn emit_output_index(&self, i: &TokenStream, k: &TokenStream) -> (TokenStream, TokenStream) {
        let (s, d, p, out) = (self.stride, self.dilation, self.pad_before, self.output);
        let t = quote!((#i + #p).wrapping_sub(#k * #d));
        (quote!((#t % #s == 0 && #t / #s < #out)), quote!((#t / #s)))
    }
}

/// `strides` or `dilations`: an integer, `[n]`, `[h, w]` or `[1, h, w, 1]`; `default` when absent.
pub fn spatial(
    r: &mut Resolver,
    call: &Call,
    arg: Option<&Expr>,
    what: &str,
    default: [usize; 2],
) -> Option<[usize; 2]> {
    let Some(expr) = arg else { return Some(default) };
    let items: Vec<&Expr> = match &expr.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![expr],
    };
    let mut values = Vec::new();
    for item in &items {
        match r.literal(item) {
            Some(Number::Int(n)) if (1..=1 << 16).contains(&n) => values.push(n as usize),
            _ => {
                r.errors.at(item.loc, format_args!("`{what}` of `{}` are positive integers", call.op()));
                return None;
            }
        }
    }
    match values[..] {
        [n] => Some([n, n]),
        [h, w] => Some([h, w]),
        [1, h, w, 1] => Some([h, w]),
        [_, _, _, _] => {
            let message = format!(
                "`{what}` of `{}` moves along height and width only: write `[1, h, w, 1]` (NHWC), or `[h, w]`",
                call.op()
            );
            r.errors.at(expr.loc, message);
            None
        }
        _ => {
            r.errors.at(expr.loc, format_args!("`{what}` is an integer, `[h, w]` or `[1, h, w, 1]`"));
            None
        }
    }
}

/// `padding = "SAME"` or `"VALID"` (required).
pub fn padding(r: &mut Resolver, call: &Call, arg: Option<&Expr>) -> Option<Padding> {
    let Some(expr) = arg else {
        r.errors.at(call.loc, format_args!("`{}` needs `padding = \"SAME\"` or `\"VALID\"`", call.op()));
        return None;
    };
    match &expr.kind {
        ExprKind::Str(s) if s == "SAME" => Some(Padding::Same),
        ExprKind::Str(s) if s == "VALID" => Some(Padding::Valid),
        _ => {
            r.errors.at(expr.loc, "`padding` is `\"SAME\"` or `\"VALID\"`");
            None
        }
    }
}

/// `data_format`: only `"NHWC"`, TensorFlow's default on CPUs.
pub fn nhwc(r: &mut Resolver, arg: Option<&Expr>) -> bool {
    match arg {
        None => true,
        Some(Expr { kind: ExprKind::Str(s), .. }) if s == "NHWC" => true,
        Some(expr) => {
            r.errors.at(expr.loc, "only `data_format = \"NHWC\"` is supported (batch, height, width, channels)");
            false
        }
    }
}
