//! `tf.nn.max_pool` and `tf.nn.avg_pool` on NHWC tensors, and their gradients (TensorFlow's
//! `MaxPoolGrad` and `AvgPoolGrad`).
//!
//! Windows move over height and width as in [`super::window`]. Max pooling takes the largest
//! element inside the input (the padding of `SAME` takes no part), starting, as TensorFlow's does,
//! from the lowest finite value (so a window of NaN or -inf gives -3.4e38 in float32); average pooling divides the sum
//! of the elements inside the input by their count, as TensorFlow does. The gradient of max
//! pooling goes to the element each window took (the first largest, in row-major order); that of
//! average pooling is spread evenly over each window's elements.

use super::matmul;
use super::window::{self, Axis, Padding};
use super::{Call, Reads, Rules};
use crate::autodiff::Builder;
use crate::emit::lower::Lower;
use crate::emit::plan::Plan;
use crate::eval::{float, indices, int, Tensor};
use crate::infer::{known, Operand, Pass, Ty};
use crate::ir::{Binary, DType, Dim, NodeId, Op, Scalar, TensorType};
use crate::math::{window_argmax, window_count, window_max};
use crate::onnx::export::Export;
use crate::resolve::{arg_locs, Resolver};
use crate::values::{ident, literal};
use proc_macro2::TokenStream;
use quote::quote;

/// A pooling, or its gradient.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Pool {
    /// Max pooling, or average pooling.
    pub max: bool,
    pub ksize: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    /// The gradient with respect to the input, of the input's shape. Inputs: `[input, grad]`
    /// (the pooling's are `[input]`).
    pub gradient: bool,
}

/// The names suggested for a misspelt op.
pub const NAMES: &[&str] = &["nn.max_pool", "nn.avg_pool"];

pub fn resolve(r: &mut Resolver, call: &Call) -> Option<NodeId> {
    let max = match call.name {
        "nn.max_pool" | "nn.max_pool2d" => true,
        "nn.avg_pool" | "nn.avg_pool2d" => false,
        _ => return None,
    };
    let (op, loc) = (call.op(), call.loc);
    let params = ["value", "ksize", "strides", "padding", "data_format", "input"];
    let Some(b) = r.bind(&op, loc, call.args, &params, 0) else { return Some(r.poison(loc)) };
    let value = b[0].or(b[5]);
    for (k, what) in [(1, "ksize"), (2, "strides")] {
        if b[k].is_none() {
            r.errors.at(loc, format_args!("`{op}` needs `{what}`, as in `{what} = [1, 2, 2, 1]`"));
        }
    }
    let ksize = window::spatial(r, call, b[1], "ksize", [1, 1]);
    let strides = window::spatial(r, call, b[2], "strides", [1, 1]);
    let padding = window::padding(r, call, b[3]);
    let nhwc = window::nhwc(r, b[4]);
    let x = r.lower_arg(value);
    Some(match (ksize, strides, padding, nhwc) {
        (Some(ksize), Some(strides), Some(padding), true) if b[1].is_some() && b[2].is_some() => {
            let pool = Pool { max, ksize, strides, padding, gradient: false };
            let node = r.graph.add(Op::Pool(pool), vec![x], loc, call.op_loc);
            r.used_at(node, &arg_locs(&[value]))
        }
        _ => r.poison(loc),
    })
}

impl Pool {
    /// The height and width axes of an input of shape `input`, if its sizes are known and a
    /// window fits.
    fn axes(&self, input: &[Dim]) -> Option<[Axis; 2]> {
        let axis = |k: usize| match input.get(1 + k) {
            Some(Dim::Known(n)) => Axis::new(*n, self.ksize[k], self.strides[k], 1, self.padding),
            _ => None,
        };
        Some([axis(0)?, axis(1)?])
    }

    /// Whether the windows tile the input, each as wide as its stride along both axes (a
    /// 2 × 2 pooling of stride 2), and hold more than one element: then an input element lies
    /// in at most one window.
    fn tiles(&self, ah: &Axis, aw: &Axis) -> bool {
        let tiles = |a: &Axis| a.kernel == a.stride && a.dilation == 1;
        tiles(ah) && tiles(aw) && ah.kernel * aw.kernel > 1
    }

    /// Whether tfcore's pooling kernels (`tfcore/src/pool.rs`) compute pooling node `id`: a
    /// float32 pooling (not its gradient; the kernels are compiled once, in tfcore, for float32)
    /// of a stored input whose height, width and channels are known, of windows of at least
    /// eight taps and of at least [`matmul::BLOCKED_FROM`] taps over all its outputs (a `None`
    /// batch counting as 1), whatever reads it (as a convolution: see `Conv::windowed`). The
    /// kernels compute each output as [`Rules::element`] does, a vector of channels at a time: the
    /// same bits.
    ///
    /// - Keyword spotting's 25 × 5 average pooling, whose element code calls `sum` channel by
    ///   channel: the model took 71.3-72.1 µs through the kernel, against 72.7-74.1 (`cargo
    ///   bench --bench models -- "batch 1"`, three rounds alternated, AMD EPYC Zen 4).
    /// - The digits CNN's 2 × 2 max pooling, whose element code is written out inline and
    ///   computed straight into the buffer its dense layer reads, was slower through it (`cargo
    ///   bench --bench digits`: its training step 358-431 µs against 324).
    fn pooled(&self, plan: &Plan, id: NodeId) -> bool {
        let x = plan.graph.nodes[id].inputs[0];
        let shape = plan.shape(x);
        let (Some([ah, aw]), Some(&Dim::Known(channels))) = (self.axes(&shape), shape.get(3)) else { return false };
        let batch = if let Some(&Dim::Known(n)) = shape.first() { n } else { 1 };
        let work = [batch, ah.output, aw.output, ah.kernel, aw.kernel, channels];
        !self.gradient
            && ah.kernel * aw.kernel >= 8
            && plan.dtype(id) == DType::Float32
            && plan.is_stored(x)
            && work.into_iter().fold(1usize, usize::saturating_mul) >= matmul::BLOCKED_FROM
    }

    /// The call of `tfcore::__private::avg_pool2d` (or `max_pool2d`) writing a [`Pool::pooled`]
    /// pooling into `out` (row-major, NHWC).
    fn pool_call(&self, cx: &Lower, id: NodeId, out: &TokenStream) -> Option<TokenStream> {
        let x = cx.graph.nodes[id].inputs[0];
        let shape = cx.shape(x);
        let (axes, Dim::Known(channels)) = (self.axes(&shape)?, *shape.get(3)?) else { return None };
        let window = window::emit_window(&cx.names.dim(shape[0]), &axes, channels);
        let xs = cx.row_major(x)?;
        let kernel = if self.max { quote!(max_pool2d) } else { quote!(avg_pool2d) };
        Some(quote!(::tfcore::__private::#kernel(#window, #xs, #out);))
    }
}

impl Rules for Pool {
    fn name(&self) -> String {
        let base = if self.max { "tf.nn.max_pool" } else { "tf.nn.avg_pool" };
        if self.gradient {
            format!("{base}_grad")
        } else {
            base.into()
        }
    }

    // NCHW in ONNX: transposed in and out. TensorFlow's `SAME` average leaves the padding out of
    // the count, as ONNX's `count_include_pad = 0` does; its maximum ignores it, as ONNX's does.
    fn onnx(&self, e: &mut Export, id: NodeId) -> Result<String, String> {
        if self.gradient {
            return Err("a pooling's gradient has no ONNX form".into());
        }
        let input = e.graph.nodes[id].inputs[0];
        let t = e.ty(input)?;
        let (Dim::Known(h), Dim::Known(w)) = (t.shape[1], t.shape[2]) else {
            return Err("its height and width are not known".into());
        };
        let pads = crate::onnx::export::pads([h, w], self.ksize, self.strides, [1, 1], self.padding);
        let x = e.input(id, 0);
        let x = e.transpose(x, &[0, 3, 1, 2]);
        use crate::onnx::export::{int, ints};
        let mut attributes = vec![
            ints("kernel_shape", &[self.ksize[0] as i64, self.ksize[1] as i64]),
            ints("strides", &[self.strides[0] as i64, self.strides[1] as i64]),
            ints("pads", &pads),
        ];
        if !self.max {
            attributes.push(int("count_include_pad", 0));
        }
        let y = e.node(if self.max { "MaxPool" } else { "AveragePool" }, vec![x], attributes);
        Ok(e.transpose(y, &[0, 2, 3, 1]))
    }

    // An NHWC input of known height and width, in which a window fits; average pooling of floats.
    //   tf.nn.max_pool(tf.zeros([28, 28]), 2, 2, "SAME")  // error: rank 2
    fn infer(&self, p: &mut Pass, id: NodeId) -> Ty {
        if self.gradient {
            return Ty::Poison;
        }
        let x = p.graph.nodes[id].inputs[0];
        let Some(Operand::Tensor(t)) = p.operand(x, None) else { return Ty::Poison };
        let op = p.op(id);
        if t.rank() != 4 {
            let message = format!(
                "{op} takes an NHWC input of rank 4, `[batch, height, width, channels]`, but {} has shape {}",
                p.describe(x),
                p.shape_text(&t.shape)
            );
            p.errors.at(p.use_loc(id, 0), message);
            return Ty::Poison;
        }
        if t.dtype == DType::Bool || (!self.max && !t.dtype.is_float()) {
            p.errors.at(p.op_loc(id), format_args!("{op} is not defined for `{}` tensors", t.dtype));
            return Ty::Poison;
        }
        let shape = p.graph.syms.shape(&t.shape);
        let Some([h, w]) = self.axes(&shape) else {
            let message = format!(
                "{op}: the window {}×{} does not fit {} (shape {}): the height and width must be known when the graph compiles, and with `padding = \"VALID\"` at least the window's",
                self.ksize[0],
                self.ksize[1],
                p.describe(x),
                p.shape_text(&t.shape)
            );
            p.errors.at(p.op_loc(id), message);
            return Ty::Poison;
        };
        known(t.dtype, vec![shape[0], Dim::Known(h.output), Dim::Known(w.output), shape[3]])
    }

    fn differentiable(&self, k: usize) -> bool {
        !self.gradient && k == 0
    }

    fn gradient(&self, b: &mut Builder, id: NodeId, _k: usize, g: NodeId) -> Option<NodeId> {
        let x = b.graph.nodes[id].inputs[0];
        let ty: TensorType = b.ty(x);
        Some(b.node(Op::Pool(Pool { gradient: true, ..*self }), vec![x, g], ty))
    }

    fn fold(&self, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Vec<Scalar>> {
        let x = &inputs[0];
        let dims: Vec<Dim> = x.shape.iter().map(|&n| Dim::Known(n)).collect();
        let [ah, aw] = self.axes(&dims)?;
        let at = |t: &Tensor, i: [usize; 4]| t.at(&t.shape, &i);
        // The element at window offset (a, b) of output (oh, ow), `None` in the padding.
        let inside = |n: usize, oh: usize, ow: usize, c: usize, a: usize, b: usize| {
            let (h, w) = (ah.input_index(oh, a), aw.input_index(ow, b));
            (h < ah.input && w < aw.input).then(|| at(x, [n, h, w, c]))
        };
        let count = |oh: usize, ow: usize| {
            window_count(oh, ah.stride, ah.kernel, ah.pad_before, ah.input)
                * window_count(ow, aw.stride, aw.kernel, aw.pad_before, aw.input)
        };
        let mean = |total: Scalar, n: usize| Binary::Div.apply(dtype, total, Scalar::F(n as f64));
        let values = indices(shape).into_iter().map(|i| {
            let [n, p, q, c] = [i[0], i[1], i[2], i[3]];
            match (self.gradient, self.max) {
                (false, true) if dtype.is_float() => {
                    let lowest = if dtype == DType::Float32 { f32::MIN as f64 } else { f64::MIN };
                    Scalar::F(window_max(lowest, self.ksize, |a, b| inside(n, p, q, c, a, b).map(float)))
                }
                (false, true) => {
                    Scalar::I(window_max(min_int(dtype), self.ksize, |a, b| inside(n, p, q, c, a, b).map(int)))
                }
                (false, false) => {
                    let total = crate::eval::sum(dtype, self.ksize[0], |a| {
                        crate::eval::sum(dtype, self.ksize[1], |b| inside(n, p, q, c, a, b).unwrap_or(Scalar::F(0.0)))
                    });
                    mean(total, count(p, q))
                }
                (true, _) => {
                    let g = &inputs[1];
                    crate::eval::sum(dtype, self.ksize[0], |a| {
                        crate::eval::sum(dtype, self.ksize[1], |b| {
                            match (ah.output_index(p, a), aw.output_index(q, b)) {
                                (Some(oh), Some(ow)) => {
                                    let grad = at(g, [n, oh, ow, c]);
                                    if !self.max {
                                        return mean(grad, count(oh, ow));
                                    }
                                    let taken =
                                        window_argmax(self.ksize, |a2, b2| inside(n, oh, ow, c, a2, b2).map(float));
                                    if taken == (a, b) {
                                        grad
                                    } else {
                                        Scalar::F(0.0)
                                    }
                                }
                                _ => Scalar::F(0.0),
                            }
                        })
                    })
                }
            }
        });
        Some(values.collect())
    }

    fn reads(&self) -> Reads {
        Reads::Repeatedly
    }

    fn blocked(&self, plan: &Plan, id: NodeId) -> bool {
        self.pooled(plan, id)
    }

    fn has_flat_form(&self, plan: &Plan, id: NodeId) -> bool {
        self.blocked(plan, id)
    }

    fn materialise(&self, cx: &Lower, id: NodeId) -> Option<TokenStream> {
        window::materialise_whole(cx, id, |out| self.materialise_flat(cx, id, out))
    }

    fn materialise_flat(&self, cx: &Lower, id: NodeId, out: &TokenStream) -> Option<TokenStream> {
        if self.pooled(cx, id) {
            self.pool_call(cx, id, out)
        } else {
            None
        }
    }

    fn element(&self, cx: &Lower, id: NodeId, idx: &[TokenStream]) -> TokenStream {
        let inputs = cx.graph.nodes[id].inputs.clone();
        let x = inputs[0];
        let dtype = cx.dtype(id);
        let Some([ah, aw]) = self.axes(&cx.shape(x)) else { return quote!(::core::unreachable!()) };
        let (n, p, q, c) = (&idx[0], &idx[1], &idx[2], &idx[3]);
        let zero = literal(Scalar::I(0), dtype);
        let elem = ident(dtype.rust());
        let ksize = {
            let [kh, kw] = self.ksize;
            quote!([#kh, #kw])
        };
        // A closure giving the element at window offset (a, b) of output (oh, ow), `None` in the
        // padding.
        let window = |oh: &TokenStream, ow: &TokenStream| {
            let (a, b) = (quote!(__a), quote!(__b));
            let (h, w) = (ah.emit_input_index(oh, &a), aw.emit_input_index(ow, &b));
            let value = cx.elem(x, &[n.clone(), h.clone(), w.clone(), c.clone()]);
            let (hn, wn) = (ah.input, aw.input);
            quote!(|__a: usize, __b: usize| if #h < #hn && #w < #wn { ::core::option::Option::Some(#value) } else { ::core::option::Option::None })
        };
        let count = |oh: &TokenStream, ow: &TokenStream| {
            let (sh, kh, ph, hn) = (ah.stride, ah.kernel, ah.pad_before, ah.input);
            let (sw, kw, pw, wn) = (aw.stride, aw.kernel, aw.pad_before, aw.input);
            quote!((::tfcore::__private::window_count(#oh, #sh, #kh, #ph, #hn) * ::tfcore::__private::window_count(#ow, #sw, #kw, #pw, #wn)))
        };
        let mean = |total: TokenStream, n: TokenStream| Binary::Div.emit(dtype, total, quote!((#n as #elem)));
        // A gradient's term: what the input element at offset (a, b) of output (oh, ow)'s window
        // takes from that output's gradient.
        let part = |oh: &TokenStream, ow: &TokenStream, a: &TokenStream, b: &TokenStream| {
            let grad = cx.elem(inputs[1], &[n.clone(), oh.clone(), ow.clone(), c.clone()]);
            if self.max {
                let window = window(oh, ow);
                // The gradient read before the test, so that the test picks one of two values
                // rather than whether to read it: which element a window took is data, and a
                // branch on it is mispredicted about half the time.
                quote!({
                    let __grad = #grad;
                    if ::tfcore::__private::window_argmax(#ksize, #window) == (#a, #b) { __grad } else { #zero }
                })
            } else {
                mean(grad, count(oh, ow))
            }
        };
        match (self.gradient, self.max) {
            (false, true) => {
                // TensorFlow's reducer starts from the lowest finite value (Eigen's
                // `NumTraits::lowest()`), not -inf: a window of NaN or -inf gives it.
                let lowest = quote!(#elem::MIN);
                let window = window(p, q);
                quote!(::tfcore::__private::window_max(#lowest, #ksize, #window))
            }
            (false, false) => {
                let total = cx.sum(dtype, Dim::Known(self.ksize[0]), &|a| {
                    cx.sum(dtype, Dim::Known(self.ksize[1]), &|b| {
                        let (h, w) = (ah.emit_input_index(p, &a), aw.emit_input_index(q, &b));
                        let value = cx.elem(x, &[n.clone(), h.clone(), w.clone(), c.clone()]);
                        let (hn, wn) = (ah.input, aw.input);
                        quote!(if #h < #hn && #w < #wn { #value } else { #zero })
                    })
                });
                mean(total, count(p, q))
            }
            (true, _) if self.tiles(&ah, &aw) => {
                // Windows that tile the input (each as wide as its stride): an input element
                // lies in one window at most, at offset (a, b), and the sum below is that one
                // window's term plus zeros, which is the term plus one zero (-0 becomes +0, as
                // it does there). Found directly, not by trying every offset.
                let (oh, a) = (ah.emit_window_of(p), ah.emit_offset_in_window(p));
                let (ow, b) = (aw.emit_window_of(q), aw.emit_offset_in_window(q));
                let part = part(&oh, &ow, &a, &b);
                let (hn, wn) = (ah.output, aw.output);
                Binary::Add.emit(dtype, quote!((if #oh < #hn && #ow < #wn { #part } else { #zero })), zero)
            }
            (true, _) => cx.sum(dtype, Dim::Known(self.ksize[0]), &|a| {
                cx.sum(dtype, Dim::Known(self.ksize[1]), &|b| {
                    let (ch, oh) = ah.emit_output_index(p, &a);
                    let (cw, ow) = aw.emit_output_index(q, &b);
                    let part = part(&oh, &ow, &a, &b);
                    quote!(if #ch && #cw { #part } else { #zero })
                })
            }),
        }
    }
}

/// The smallest value of an integer dtype, where max pooling starts.
fn min_int(dtype: DType) -> i64 {
    match dtype {
        DType::Int32 => i32::MIN as i64,
        DType::UInt8 => 0,
        DType::Int8 => i8::MIN as i64,
        _ => i64::MIN,
    }
}
