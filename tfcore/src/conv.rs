//! Convolution kernels over NHWC tensors: [`conv2d`] (`tf.nn.conv2d`) and [`depthwise_conv2d`]
//! (`tf.nn.depthwise_conv2d` with a channel multiplier of 1), for the sizes where the macro
//! chooses them (see `tfmacro/src/ops/conv.rs`).
//!
//! Every output is the sum over its window that the macro's element-by-element code and its
//! constant folder compute, term for term and in their order: the window's terms in the order
//! `(kh, kw, ci)`, added strictly left to right ([`in_order`]):
//!
//! ```text
//! conv2d:    out[n, oh, ow, co] = sum over t = (kh, kw, ci) of x[n, ih, iw, ci] * f[kh, kw, ci, co]
//! depthwise: out[n, oh, ow, c]  = sum over t = (kh, kw)     of x[n, ih, iw, c]  * f[kh, kw, c, 0]
//! ```
//!
//! with `ih = oh * stride + kh * dilation - before` (and likewise for the width), where an input
//! index outside the image reads a zero that is multiplied as TensorFlow's padding is. These
//! kernels give the bits of the code they replace, on every instruction set and on a Cortex-M.
//! A 1 × 1 convolution is one too: a matrix product, but one that adds left to right, not in
//! `gemm`'s order.
//!
//! Left to right is the order of a kernel that keeps output channels in its vector lanes, as
//! XNNPACK's do: a tile of `MR` pixels by `NR` output channels holds one accumulator per output,
//! and each term of the window is one input value (broadcast) times a row of `NR` weights, read
//! from the filter in TensorFlow's layout (`[kh, kw, ci, co]`: the weights of one term for every
//! output channel are contiguous), so a filter is never packed, whether it is a constant or a
//! variable. There is nothing to combine at the end. Which input pixel a tap reads, or a line of
//! zeros in the padding, is decided once per pixel and tap; a tile whose windows lie inside the
//! image reads each tap at a fixed distance from the window's first (each row of an undilated
//! window as one line: its taps' channels follow each other in the input, and their rows of the
//! filter too), and a 1 × 1 window moved by one without padding reads the output pixel's own
//! input pixel. With vector registers, an image of few channels whose windows reach the padding
//! is first copied onto the stack a band of rows at a time with the padding's zeros around it, so
//! that every tile lies inside its copy. [`depthwise_conv2d`] goes
//! two pixels at a time, the line of channels each tap reads found once for each, and keeps up to
//! 64 of their channels side by side while it adds the taps; with AVX-512, a window moved by one
//! along a row goes up to eight pixels of a row at a time, each input pixel under them read once
//! for every tap that reads it. The tiles' shapes fit the registers of the instruction set
//! [`best`] picks.
//!
//! [`in_order`]: crate::sum::in_order

use crate::dispatch::{best, Kernel, Registers};
use crate::elem::{Float, FMA};
use crate::sum::{in_order_products, sum_lanes, sum_lanes_products};

/// The most taps of a window [`depthwise_conv2d`]'s tiles take (a 3 × 3 window has nine):
/// beyond, output by output.
const TAPS: usize = 15;

/// The most terms (taps × input channels) of a window that [`conv2d`] gathers into a patch on
/// the stack, for fewer than eight input channels (a first layer's 3 × 3 × 3).
const PATCH: usize = 256;

/// The most values of a band of input rows, padded, that [`conv2d`] copies onto the stack
/// (16 KiB of `f32`).
const BAND: usize = 4096;

/// The most values of a band of input rows, padded, that [`conv2d`]'s tiles copy onto the stack
/// with vector registers (32 KiB of `f32`: ResNet-8's first image, 34 × 34 × 3 padded, in one
/// band).
const PADDED: usize = 8192;

/// Channels side by side in a depthwise tile, and the narrower width of a convolution's tiles.
pub const LANES: usize = 8;

/// of `kernel` taps moved by `strides`, its taps `dilations` apart, after `before` rows and
/// columns of padding, giving an output `[batch, output[0], output[1], _]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Window {
    /// Images in the batch.
    pub batch: usize,
    /// The input's height and width.
    pub input: [usize; 2],
    /// The input's channels.
    pub channels: usize,
    /// The filter's height and width.
    pub kernel: [usize; 2],
    /// How far apart the windows of neighbouring outputs start.
    pub strides: [usize; 2],
    /// How far apart a window's taps are.
    pub dilations: [usize; 2],
    /// The zero rows (columns) TensorFlow pads before the first one of the input.
    pub before: [usize; 2],
    /// The output's height and width.
    pub output: [usize; 2],
}

impl Window {
    /// The input pixel (counted over the whole batch) that tap `(kh, kw)` of output pixel
    /// `(n, oh, ow)` reads, or `None` in the padding.
    #[inline(always)]
    pub(crate) fn input_pixel(&self, n: usize, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<usize> {
        let ih = (oh * self.strides[0] + kh * self.dilations[0]).checked_sub(self.before[0])?;
        let iw = (ow * self.strides[1] + kw * self.dilations[1]).checked_sub(self.before[1])?;
        (ih < self.input[0] && iw < self.input[1]).then_some((n * self.input[0] + ih) * self.input[1] + iw)
    }

    /// The index `[n, oh, ow, c]` of every output of `channels` channels, in row-major order: the
    /// order output by output code writes them in.
    pub(crate) fn outputs(&self, channels: usize) -> impl Iterator<Item = [usize; 4]> {
        let [h, w] = self.output;
        (0..self.batch).flat_map(move |n| {
            (0..h).flat_map(move |oh| (0..w).flat_map(move |ow| (0..channels).map(move |c| [n, oh, ow, c])))
        })
    }

    /// Output pixel `p`, counted over the batch, as `[n, oh, ow]`.
    #[inline(always)]
    pub(crate) fn output_pixel(&self, p: usize) -> [usize; 3] {
        let [h, w] = self.output;
        [p / w / h, p / w % h, p % w]
    }

    /// The output pixel `next`, as `[n, oh, ow]`, moving `next` on to the one after it.
    #[inline(always)]
    pub(crate) fn step(&self, next: &mut [usize; 3]) -> [usize; 3] {
        let here = *next;
        next[2] += 1;
        if next[2] == self.output[1] {
            next[2] = 0;
            next[1] += 1;
            if next[1] == self.output[0] {
                next[1] = 0;
                next[0] += 1;
            }
        }
        here
    }

    /// The input's and the output's pixels over the batch, if they can be counted.
    pub(crate) fn pixels(&self) -> Option<(usize, usize)> {
        let count = |[h, w]: [usize; 2]| self.batch.checked_mul(h)?.checked_mul(w);
        Some((count(self.input)?, count(self.output)?))
    }

    /// The taps of the window.
    pub(crate) fn taps(&self) -> usize {
        self.kernel[0].saturating_mul(self.kernel[1])
    }
}

/// `tf.nn.conv2d`: writes `out` (`[batch, output[0], output[1], outputs]`, row-major) from `x`
/// (`[batch, input[0], input[1], channels]`) and `filter` (TensorFlow's layout, `[kernel[0],
/// kernel[1], channels, outputs]`, row-major), with the bits the module's documentation gives,
/// each output through `then` (see `Store::store`; `|_, value, _| value` for the convolution
/// alone). `zeros` holds at least `channels` zeros: the line a tap in the padding reads.
///
/// Through tiles of pixels and output channels where every slice is long enough; otherwise
/// output by output, which panics at the first index outside a slice, as indexing does.
pub fn conv2d<T: Kernels, E: Fn(T, T, [usize; 4]) -> T>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: &[T],
    zeros: &[T],
    out: &mut [T],
    then: E,
) {
    T::convolve(window, outputs, x, filter, zeros, out, Put(Some(&Then(then))))
}

/// [`conv2d`] storing the convolution itself, each output as its sum: the store of the kernel's
/// tiles is then a copy of each tile's row, where a closure is called output by output. The
/// generated code computes what follows a convolution (a bias, an activation) in a loop of its
/// own over the outputs when it reads nothing but them, which vectorises, and through the closure
/// otherwise (a residual add written over the tensor it adds).
pub fn conv2d_plain<T: Kernels>(window: &Window, outputs: usize, x: &[T], filter: &[T], zeros: &[T], out: &mut [T]) {
    T::convolve(window, outputs, x, filter, zeros, out, Put(None))
}

/// [`conv2d`] for a first layer: a window `K` taps wide over `C` input channels (the macro
/// knows both when it compiles the graph), tiles of `R` pixels of an output row by `NR` output
/// channels. With AVX-512, where rows are a multiple of `R` pixels and the output channels of
/// `NR`, and the window is undilated along a row, each band of output rows copies the input rows
/// under it onto the stack with the padding's zeros around them (16 KiB of `f32` at most), and
/// each tile reads its pixels' inputs there, no patch gathered. With AVX2 the same, by tiles of
/// 16 output channels, for `R` up to six (AVX2's sixteen registers hold no more sums), and rows
/// of eight as two tiles of four. Otherwise, or for another window, as [`conv2d`]. The same bits.
/// Only the graph's own `K`, `C`, `NR` and `R` are compiled: tiles for every shape a first layer
/// might have (three windows, eight row lengths) took the ResNet-8 example's build from 2.4 to
/// 6.8 s. The macro calls it for one input channel (`tfmacro/src/ops/conv.rs` says why not
/// three).
pub fn conv2d_rows<
    T: Kernels,
    E: Fn(T, T, [usize; 4]) -> T,
    const K: usize,
    const C: usize,
    const NR: usize,
    const R: usize,
>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: &[T],
    zeros: &[T],
    out: &mut [T],
    then: E,
) {
    convolve_rows::<T, K, C, NR, R>(window, outputs, x, filter, zeros, out, Put(Some(&Then(then))))
}

/// [`conv2d_rows`] storing the convolution itself, as [`conv2d_plain`] does.
pub fn conv2d_rows_plain<T: Kernels, const K: usize, const C: usize, const NR: usize, const R: usize>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: &[T],
    zeros: &[T],
    out: &mut [T],
) {
    convolve_rows::<T, K, C, NR, R>(window, outputs, x, filter, zeros, out, Put(None))
}

/// [`conv2d_rows`], its store through a trait object.
fn convolve_rows<T: Kernels, const K: usize, const C: usize, const NR: usize, const R: usize>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: &[T],
    zeros: &[T],
    out: &mut [T],
    then: Put<'_, T>,
) {
    let conv = Conv { window: *window, outputs, x, filter, zeros };
    if conv.fits(out.len()) && best(BandRows::<_, K, C, NR, R> { conv, out: &mut *out, then }) {
        return;
    }
    T::convolve(window, outputs, x, filter, zeros, out, then)
}

/// [`conv2d`], its store through a trait object: the kernel is compiled once per element type,
/// not once per closure (a closure type per convolution of a graph made ResNet-8's example build
/// ten times as long).
fn convolve<T: Float>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: &[T],
    zeros: &[T],
    out: &mut [T],
    then: Put<'_, T>,
) {
    let conv = Conv { window: *window, outputs, x, filter, zeros };
    if conv.fits(out.len()) {
        best(ConvTiles::<_, false> { conv, out, then })
    } else {
        conv.by_element(out, then)
    }
}

/// [`conv2d`] where each output pixel reads its own input pixel alone: a 1 × 1 window moved by
/// one without padding (`input == output`), which the macro knows when it compiles the graph.
/// The same bits as [`conv2d`], through a kernel of its own that finds no window and tests no
/// padding: keyword spotting's 1 × 1 layer took 9.6-9.8 µs so, against 12.1-12.3 through
/// [`conv2d`]'s (AMD EPYC Zen 4, `cargo bench --bench convolutions -- pointwise`). Its own
/// function, not a branch inside [`conv2d`]: there, LLVM compiled the windows' loops differently
/// (ResNet-8's 3 × 3 layers 5-15% slower), and a graph without such a convolution carried its
/// code (1.4 KB of a Cortex-M's flash for ResNet-8).
///
/// Another window is computed output by output, as are operands too short for their sizes
/// (which panics at the first index outside a slice, as indexing does).
pub fn pointwise_conv2d<T: Kernels, E: Fn(T, T, [usize; 4]) -> T>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: &[T],
    out: &mut [T],
    then: E,
) {
    T::pointwise(window, outputs, x, filter, out, Put(Some(&Then(then))))
}

/// [`pointwise_conv2d`] storing the convolution itself, as [`conv2d_plain`] does.
pub fn pointwise_conv2d_plain<T: Kernels>(window: &Window, outputs: usize, x: &[T], filter: &[T], out: &mut [T]) {
    T::pointwise(window, outputs, x, filter, out, Put(None))
}

/// [`pointwise_conv2d`], its store through a trait object, as [`convolve`]'s.
fn pointwise<T: Float>(window: &Window, outputs: usize, x: &[T], filter: &[T], out: &mut [T], then: Put<'_, T>) {
    // No tap reads the padding: the line of zeros is never read.
    let conv = Conv { window: *window, outputs, x, filter, zeros: &[] };
    if conv.pointwise() && conv.fits(out.len()) {
        best(ConvTiles::<_, true> { conv, out, then })
    } else {
        conv.by_element(out, then)
    }
}

/// The element types the kernels take, each kernel compiled for each of them once, in tfcore.
/// A generic kernel is compiled, with its copy for each instruction set [`best`] picks from, into
/// every crate that calls it, in every build of that crate (Rust shares generic code between
/// crates only without optimisation): the ResNet-8 example's build took 5.9-6.7 s so, against
/// 3.0-3.3 s (AMD EPYC Zen 3, `touch examples/resnet8.rs; cargo build --release --example
/// resnet8`, three rounds alternated).
/// [`conv2d_rows`], compiled for a graph's own window, stays generic.
pub trait Kernels: Float {
    /// [`conv2d`] with its store.
    #[doc(hidden)]
    fn convolve(
        window: &Window,
        outputs: usize,
        x: &[Self],
        filter: &[Self],
        zeros: &[Self],
        out: &mut [Self],
        then: Put<'_, Self>,
    );
    /// [`pointwise_conv2d`] with its store.
    #[doc(hidden)]
    fn pointwise(window: &Window, outputs: usize, x: &[Self], filter: &[Self], out: &mut [Self], then: Put<'_, Self>);
    /// [`depthwise_conv2d`] with its store.
    #[doc(hidden)]
    fn depthwise(window: &Window, x: &[Self], filter: &[Self], zeros: &[Self], out: &mut [Self], then: Put<'_, Self>);
    /// [`conv2d_filter_gradient`].
    #[doc(hidden)]
    fn filter_gradient(window: &Window, outputs: usize, x: &[Self], g: &[Self], out: &mut [Self]);
}

macro_rules! kernels {
    ($($t:ty)*) => {$(
        impl Kernels for $t {
            fn convolve(window: &Window, outputs: usize, x: &[Self], filter: &[Self], zeros: &[Self], out: &mut [Self], then: Put<'_, Self>) {
                convolve(window, outputs, x, filter, zeros, out, then)
            }
            fn pointwise(window: &Window, outputs: usize, x: &[Self], filter: &[Self], out: &mut [Self], then: Put<'_, Self>) {
                pointwise(window, outputs, x, filter, out, then)
            }
            fn depthwise(window: &Window, x: &[Self], filter: &[Self], zeros: &[Self], out: &mut [Self], then: Put<'_, Self>) {
                depthwise(window, x, filter, zeros, out, then)
            }
            fn filter_gradient(window: &Window, outputs: usize, x: &[Self], g: &[Self], out: &mut [Self]) {
                best(FilterGradient { window: *window, outputs, x, g, out })
            }
        }
    )*};
}
kernels!(f32 f64);

/// How a kernel stores the outputs of one pixel: through the closure the graph's elementwise ops
/// after the convolution make ([`Then`]).
pub trait Store<T> {
    /// Writes `values`, output channels `c..` of output pixel `(n, oh, ow)`, at `out[at..]`.
    fn store(&self, out: &mut [T], at: usize, values: &[T], index: [usize; 4]);
}

/// Where a kernel stores its outputs: through the graph's closure, or as they are (`None`:
/// [`conv2d_plain`]), each tile's row copied whole.
#[derive(Clone, Copy)]
pub struct Put<'a, T>(Option<&'a dyn Store<T>>);

impl<T: Copy> Put<'_, T> {
    /// [`Store::store`], or `values` copied to `out[at..]`.
    #[inline(always)]
    fn store(&self, out: &mut [T], at: usize, values: &[T], index: [usize; 4]) {
        match self.0 {
            Some(then) => then.store(out, at, values, index),
            None => out[at..][..values.len()].copy_from_slice(values),
        }
    }
}

/// A closure `then(what out held, the convolution's value, its index)` as a [`Store`].
struct Then<E>(E);

impl<T: Copy, E: Fn(T, T, [usize; 4]) -> T> Store<T> for Then<E> {
    #[inline]
    fn store(&self, out: &mut [T], at: usize, values: &[T], [n, oh, ow, c]: [usize; 4]) {
        for ((slot, &value), s) in out[at..][..values.len()].iter_mut().zip(values).zip(0..) {
            *slot = (self.0)(*slot, value, [n, oh, ow, c + s]);
        }
    }
}

/// A [`Store`] of a band of output rows: its outputs' indices are the band's, from image `n`'s
/// row `oh` on.
struct Shifted<'a, T> {
    then: &'a dyn Store<T>,
    n: usize,
    oh: usize,
}

impl<T> Store<T> for Shifted<'_, T> {
    #[inline]
    fn store(&self, out: &mut [T], at: usize, values: &[T], [_, oh, ow, c]: [usize; 4]) {
        self.then.store(out, at, values, [self.n, self.oh + oh, ow, c])
    }
}

/// The operands of one [`conv2d`].
#[derive(Clone, Copy)]
struct Conv<'a, T> {
    window: Window,
    outputs: usize,
    x: &'a [T],
    filter: &'a [T],
    zeros: &'a [T],
}

impl<'a, T: Float> Conv<'a, T> {
    /// The terms of each output's sum: taps × input channels.
    fn terms(&self) -> usize {
        self.window.taps() * self.window.channels
    }

    /// Whether each output pixel reads the input pixel of its own index alone: a 1 × 1 window
    /// moved by 1 without padding.
    fn pointwise(&self) -> bool {
        let w = &self.window;
        w.kernel == [1, 1] && w.strides == [1, 1] && w.before == [0, 0] && w.output == w.input
    }

    /// Whether the tiles apply: a window of at least one term, and operands holding every
    /// element the sizes say.
    fn fits(&self, out_len: usize) -> bool {
        let w = &self.window;
        let sizes = || {
            let (pixels_in, pixels_out) = w.pixels()?;
            let filter = w.taps().checked_mul(w.channels)?.checked_mul(self.outputs)?;
            Some((pixels_in.checked_mul(w.channels)?, filter, pixels_out.checked_mul(self.outputs)?))
        };
        let Some((x, filter, out)) = sizes() else { return false };
        self.terms() > 0
            && self.outputs > 0
            && self.x.len() >= x
            && self.filter.len() >= filter
            && out_len >= out
            && (self.zeros.len() >= w.channels || self.pointwise())
    }

    /// Every output through [`in_order`], in the order the module's documentation gives.
    fn by_element(&self, out: &mut [T], then: Put<'_, T>) {
        let (w, cout, cin, terms) = (&self.window, self.outputs, self.window.channels, self.terms());
        for (at, [n, oh, ow, co]) in w.outputs(cout).enumerate() {
            let value = in_order_products(terms, |t| {
                let (tap, ci) = (t / cin, t % cin);
                let pixel = w.input_pixel(n, oh, ow, tap / w.kernel[1], tap % w.kernel[1]);
                let x = pixel.map_or(T::ZERO, |p| self.x[p * cin + ci]);
                (x, self.filter[t * cout + co])
            });
            then.store(out, at, &[value], [n, oh, ow, co]);
        }
    }

    /// Every output: `NR` output channels at a time (then eight, then one), and for each of
    /// those, every pixel of the output `MR` at a time (the last few one at a time), so that the
    /// channels' weights stay in the nearest cache while the pixels go by. The pixels of a tile
    /// follow each other over the whole output, across its rows. `OWN`: each output pixel reads
    /// its own input pixel alone ([`Conv::pointwise`]). `OVERLAP`: more than half a tile of
    /// pixels left over go as the last `MR` pixels' tile instead (with vector registers; on a
    /// Cortex-M4 a tile of one pixel costs what its share of a larger one does, and the second
    /// tile's code took 4 KB more of keyword spotting's stack).
    #[inline(always)]
    fn by_tiles<const MR: usize, const NR: usize, const OWN: bool, const OVERLAP: bool>(
        &self,
        out: &mut [T],
        then: Put<'_, T>,
    ) {
        let cout = self.outputs;
        let mut co = 0;
        while co + NR <= cout {
            self.channels::<MR, NR, OWN, OVERLAP>(co, out, then);
            co += NR;
        }
        while NR > LANES && co + LANES <= cout {
            self.channels::<MR, LANES, OWN, OVERLAP>(co, out, then);
            co += LANES;
        }
        while co < cout {
            self.channels::<MR, 1, OWN, OVERLAP>(co, out, then);
            co += 1;
        }
    }

    /// [`Conv::by_tiles`] (with vector registers), where a window of fewer than eight input
    /// channels reaches the padding a band of output rows at a time over a copy of the input rows
    /// under it with the padding's zeros around them (at most [`PADDED`] values, on the stack):
    /// every tile then lies inside its copy, each row of its window one line of the copy, where a
    /// tile reaching the padding reads tap by tap, finding each tap of each pixel. The same terms
    /// in the same order, the padding's zeros included, so the same bits. A tap of few channels
    /// costs more to find than to multiply: ResNet-8's first layer (3 × 3 × 3, 16 outputs) took
    /// 0.81-0.87 times as long so (`tools/ab_conv.sh`, Zen 3). Its layers of 16 to 64 channels
    /// took the same time, or longer where the image went in bands (the stride-2 layer over 32
    /// channels, in two: 1.03-1.10, a last tile more a band), so they read the input itself, as
    /// does a window that does not reach the padding or whose band of one row does not fit.
    #[inline(always)]
    fn by_padded_bands<const MR: usize, const NR: usize>(&self, out: &mut [T], then: Put<'_, T>) {
        let w = &self.window;
        let padded = self.padded_band();
        // Over the input itself, the whole batch as one band. One call of the tiles below, not
        // one for each case: a second copy of them took the ResNet-8 example's build from 6.4 to
        // 9.4 s while the kernels were compiled into it (before [`Kernels`]).
        let (images, band) = match padded {
            Some((band, _)) => (w.batch, band),
            None => (1, w.output[0]),
        };
        // Zeroed only where it is used: 32 KiB of stores pushed a 1 × 1 layer's weights out of
        // the nearest cache (ResNet-8's strided shortcut took 1.10 times as long).
        let mut copy = None;
        let row_out = w.output[1] * self.outputs;
        for n in 0..images {
            let mut oh = 0;
            while oh < w.output[0] {
                let rows = band.min(w.output[0] - oh);
                let shifted;
                let (conv, out, then) = match padded {
                    None => (*self, &mut *out, then),
                    Some((_, width)) => {
                        let out = &mut out[(n * w.output[0] + oh) * row_out..][..rows * row_out];
                        let then = match then.0 {
                            None => then,
                            Some(then) => {
                                shifted = Shifted { then, n, oh };
                                Put(Some(&shifted as &dyn Store<T>))
                            }
                        };
                        let copy = copy.get_or_insert([T::ZERO; PADDED]);
                        (self.band(n, oh, rows, width, copy), out, then)
                    }
                };
                conv.by_tiles::<MR, NR, false, true>(out, then);
                oh += rows;
            }
        }
    }

    /// Output channels `co..co + NR` of every pixel of the output, `MR` pixels at a time.
    #[inline(always)]
    fn channels<const MR: usize, const NR: usize, const OWN: bool, const OVERLAP: bool>(
        &self,
        co: usize,
        out: &mut [T],
        then: Put<'_, T>,
    ) {
        let (w, cout) = (&self.window, self.outputs);
        if OWN {
            let p = self.own_pixels::<MR, NR>(0, co, out, then);
            self.own_pixels::<1, NR>(p, co, out, then);
            return;
        }
        let pixels = w.batch * w.output[0] * w.output[1];
        let mut p = 0;
        while p + MR <= pixels {
            let at: [[usize; 3]; MR] = core::array::from_fn(|r| self.window.output_pixel(p + r));
            for (r, values) in self.tile::<MR, NR>(&at, co).iter().enumerate() {
                let [n, oh, ow] = at[r];
                then.store(out, (p + r) * cout + co, values, [n, oh, ow, co]);
            }
            p += MR;
        }
        // More than half a tile's pixels left: as the last tile's, its first ones computed again
        // and stored once. A tile of one pixel adds its terms one after the other, each waiting
        // for the one before, where a core runs instructions out of order; a tile of `MR`
        // computes `MR` pixels in little more time. (ResNet-8's 8 × 8 × 64 layer spent an eighth
        // of its time on its last four pixels one by one; with one or two left, computing a tile
        // for them was slower than the pixels alone.)
        if OVERLAP && 2 * (pixels - p) > MR && MR <= pixels {
            let start = pixels - MR;
            let at: [[usize; 3]; MR] = core::array::from_fn(|r| self.window.output_pixel(start + r));
            for (r, values) in self.tile::<MR, NR>(&at, co).iter().enumerate().skip(p - start) {
                let [n, oh, ow] = at[r];
                then.store(out, (start + r) * cout + co, values, [n, oh, ow, co]);
            }
            p = pixels;
        }
        while p < pixels {
            let at = [self.window.output_pixel(p)];
            let [values] = self.tile::<1, NR>(&at, co);
            let [[n, oh, ow]] = at;
            then.store(out, p * cout + co, &values, [n, oh, ow, co]);
            p += 1;
        }
    }

    /// Output channels `co..co + NR` of the output pixels from `p` on, `MR` at a time while `MR`
    /// are left, where each output pixel reads its own input pixel alone ([`Conv::pointwise`]):
    /// no window to find, no padding to test, no pixel's indices to divide out unless a closure
    /// asks for them. Returns the first pixel not computed.
    #[inline(always)]
    fn own_pixels<const MR: usize, const NR: usize>(
        &self,
        mut p: usize,
        co: usize,
        out: &mut [T],
        then: Put<'_, T>,
    ) -> usize {
        let (w, cout, cin) = (&self.window, self.outputs, self.window.channels);
        let pixels = w.batch * w.output[0] * w.output[1];
        while p + MR <= pixels {
            let lines: [&[T]; MR] = core::array::from_fn(|r| &self.x[(p + r) * cin..][..cin]);
            let mut acc = [[T::NEG_ZERO; NR]; MR];
            accumulate(&mut acc, lines, self.filter, co, cout);
            for (r, &values) in acc.iter().enumerate() {
                let index = || {
                    let [n, oh, ow] = w.output_pixel(p + r);
                    [n, oh, ow, co]
                };
                store(values, (p + r) * cout + co, index, out, then);
            }
            p += MR;
        }
        p
    }

    /// Every output, for fewer than eight input channels and windows of at most [`PATCH`]
    /// terms: the windows of `MR` pixels gathered into patches on the stack (im2col, a tile at a
    /// time), each patch then read as one tap of `terms` channels against the whole filter (its
    /// rows are the terms, in their order), `NR` output channels at a time (then eight, then
    /// one). A tap of few channels costs more to find than to multiply; the patch is found once
    /// for every output channel.
    #[inline(always)]
    fn by_patches<const MR: usize, const NR: usize>(&self, out: &mut [T], then: Put<'_, T>) {
        let w = &self.window;
        let pixels = w.batch * w.output[0] * w.output[1];
        let (mut patches, mut patch) = ([[T::ZERO; PATCH]; MR], [[T::ZERO; PATCH]; 1]);
        let mut p = 0;
        while p + MR <= pixels {
            let at: [[usize; 3]; MR] = core::array::from_fn(|r| self.window.output_pixel(p + r));
            self.gather(&at, &mut patches);
            self.patch_channels::<MR, NR>(&patches, &at, p, out, then);
            p += MR;
        }
        while p < pixels {
            let at = [self.window.output_pixel(p)];
            self.gather(&at, &mut patch);
            self.patch_channels::<1, NR>(&patch, &at, p, out, then);
            p += 1;
        }
    }

    /// Every output channel of the `MR` pixels `at` (from pixel `p` on) whose windows are
    /// gathered in `patches`.
    #[inline(always)]
    fn patch_channels<const MR: usize, const NR: usize>(
        &self,
        patches: &[[T; PATCH]; MR],
        at: &[[usize; 3]; MR],
        p: usize,
        out: &mut [T],
        then: Put<'_, T>,
    ) {
        let (cout, terms) = (self.outputs, self.terms());
        let lines: [&[T]; MR] = core::array::from_fn(|r| &patches[r][..terms]);
        let mut store = |values: &[T], r: usize, co: usize| {
            let [n, oh, ow] = at[r];
            then.store(out, (p + r) * cout + co, values, [n, oh, ow, co]);
        };
        let mut co = 0;
        while co + NR <= cout {
            for (r, values) in self.patch_tile::<MR, NR>(lines, co).iter().enumerate() {
                store(values, r, co);
            }
            co += NR;
        }
        while NR > LANES && co + LANES <= cout {
            for (r, values) in self.patch_tile::<MR, LANES>(lines, co).iter().enumerate() {
                store(values, r, co);
            }
            co += LANES;
        }
        while co < cout {
            for (r, values) in self.patch_tile::<MR, 1>(lines, co).iter().enumerate() {
                store(values, r, co);
            }
            co += 1;
        }
    }

    /// Output channels `co..co + W` of the windows gathered in `lines`: each window read as one
    /// tap of `terms` channels, whose rows are the filter's, left to right from -0.
    #[inline(always)]
    fn patch_tile<const MR: usize, const W: usize>(&self, lines: [&[T]; MR], co: usize) -> [[T; W]; MR] {
        let mut acc = [[T::NEG_ZERO; W]; MR];
        accumulate(&mut acc, lines, self.filter, co, self.outputs);
        acc
    }

    /// The windows of the output pixels `at`, each term `(kh, kw, ci)` in its order, into
    /// `patches`, a row of the window at a time: a row inside the image (its taps one after the
    /// other in the input, undilated) is copied whole, eight terms at a time; a row in the padding
    /// is zeros; an undilated row across the image's edge is its taps left of the image (zeros),
    /// those inside it (copied as one) and those right of it (zeros); a dilated one is copied tap
    /// by tap. Keyword spotting's first layer, two in five of whose windows cross the image's
    /// sides, took 10.5-11.0 µs so, against 11.4-12.7 µs copying those tap by tap (AMD EPYC Zen
    /// 4, `cargo bench --bench convolutions -- "KWS conv0"`, four rounds alternated).
    #[inline(always)]
    fn gather<const MR: usize>(&self, at: &[[usize; 3]; MR], patches: &mut [[T; PATCH]; MR]) {
        let w = &self.window;
        let cin = w.channels;
        let row_len = w.kernel[1] * cin;
        for (&[n, oh, ow], patch) in at.iter().zip(patches.iter_mut()) {
            let first_iw = (ow * w.strides[1]).checked_sub(w.before[1]);
            let whole = first_iw.filter(|&iw| w.dilations[1] == 1 && iw + w.kernel[1] <= w.input[1]);
            // Of an undilated window's taps along a row, how many lie left of the image, and from
            // the first inside it (column `first`), how many lie inside.
            let left = w.before[1].saturating_sub(ow * w.strides[1]).min(w.kernel[1]);
            let first = (ow * w.strides[1] + left).saturating_sub(w.before[1]);
            let inside = w.input[1].saturating_sub(first).min(w.kernel[1] - left);
            for (kh, row) in patch[..self.terms()].chunks_exact_mut(row_len.max(1)).enumerate() {
                let ih = (oh * w.strides[0] + kh * w.dilations[0]).checked_sub(w.before[0]);
                match (ih.filter(|&ih| ih < w.input[0]), whole) {
                    (None, _) => row.fill(T::ZERO),
                    (Some(ih), Some(iw)) => {
                        let start = ((n * w.input[0] + ih) * w.input[1] + iw) * cin;
                        copy_short(row, &self.x[start..][..row_len]);
                    }
                    (Some(ih), None) if w.dilations[1] == 1 => {
                        // Across the image's edge: the taps left of it, those inside it (one
                        // after the other in the input), and those right of it.
                        let (zeros, rest) = row.split_at_mut(left * cin);
                        let (row, right) = rest.split_at_mut(inside * cin);
                        zero_short(zeros);
                        let start = ((n * w.input[0] + ih) * w.input[1] + first) * cin;
                        copy_short(row, &self.x[start..][..inside * cin]);
                        zero_short(right);
                    }
                    (Some(_), None) => {
                        for (kw, terms) in row.chunks_exact_mut(cin).enumerate() {
                            let x = match w.input_pixel(n, oh, ow, kh, kw) {
                                Some(pixel) => &self.x[pixel * cin..][..cin],
                                None => &self.zeros[..cin],
                            };
                            copy_short(terms, x);
                        }
                    }
                }
            }
        }
    }

    /// Every output, a band of output rows at a time: the input rows under the band copied onto
    /// the stack with the padding's zeros around them, so that every window of the band lies
    /// inside its copy, then through [`Conv::by_rows`]. Returns `false`, computing nothing, where
    /// a band of one row does not fit in [`BAND`] values, or the window is dilated along a row.
    #[inline(always)]
    fn by_bands<const K: usize, const C: usize, const NR: usize, const R: usize>(
        &self,
        out: &mut [T],
        then: Put<'_, T>,
    ) -> bool {
        let w = &self.window;
        let (cin, cout) = (w.channels, self.outputs);
        // Only whole tiles, so that no other tile is compiled (each took the ResNet-8 example's
        // build a tenth of a second longer).
        let whole = w.output[1].is_multiple_of(R) && cout.is_multiple_of(NR) && cout > 0;
        if w.output[0] == 0
            || w.output[1] == 0
            || w.kernel[0] == 0
            || w.kernel[1] != K
            || cin != C
            || !whole
            || w.dilations[1] != 1
        {
            return false;
        }
        // The input's columns under every window, from the first window's first.
        let width = (w.output[1] - 1) * w.strides[1] + (K - 1) * w.dilations[1] + 1;
        let window_rows = (w.kernel[0] - 1) * w.dilations[0] + 1;
        let line = width * cin;
        let Some(band) = (BAND / line.max(1)).checked_sub(window_rows).map(|more| more / w.strides[0] + 1) else {
            return false;
        };
        let mut copy = [T::ZERO; BAND];
        let row_out = w.output[1] * cout;
        for n in 0..w.batch {
            let mut oh = 0;
            while oh < w.output[0] {
                let rows = band.min(w.output[0] - oh);
                let conv = self.band(n, oh, rows, width, &mut copy);
                let out = &mut out[(n * w.output[0] + oh) * row_out..][..rows * row_out];
                let shifted;
                let then = match then.0 {
                    None => then,
                    Some(then) => {
                        shifted = Shifted { then, n, oh };
                        Put(Some(&shifted))
                    }
                };
                conv.by_rows::<K, C, NR, R>(out, then);
                oh += rows;
            }
        }
        true
    }

    /// For [`Conv::by_padded_bands`], where a window of fewer than eight input channels reaches
    /// the padding and a band of one output row fits in [`PADDED`] values: the output rows of a
    /// band, and the input's columns under every window (from the first window's first).
    fn padded_band(&self) -> Option<(usize, usize)> {
        let w = &self.window;
        if w.channels >= LANES {
            return None;
        }
        let span = |a: usize| {
            Some((w.output[a].checked_sub(1)?) * w.strides[a] + (w.kernel[a].checked_sub(1)?) * w.dilations[a] + 1)
        };
        let (height, width) = (span(0)?, span(1)?);
        let padded = w.before != [0, 0] || width > w.input[1] || height > w.input[0];
        let window_rows = (w.kernel[0] - 1) * w.dilations[0] + 1;
        let fit = (PADDED / (width * w.channels).max(1)).checked_sub(window_rows)? / w.strides[0] + 1;
        // Bands of as even a height as fit: the fewer pixels a band, the more of them go in its
        // last tile, which computes some of them twice.
        let band = w.output[0].div_ceil(w.output[0].div_ceil(fit));
        padded.then_some((band, width))
    }

    /// Output rows `oh..oh + rows` of image `n` as a convolution of their own: the input rows
    /// under them copied into `copy`, `width` columns a row from the first window's first, with
    /// the padding's zeros around them, so that every window of the band lies inside the copy.
    #[inline(always)]
    fn band<'c>(&self, n: usize, oh: usize, rows: usize, width: usize, copy: &'c mut [T]) -> Conv<'c, T>
    where
        'a: 'c,
    {
        let w = &self.window;
        let line = width * w.channels;
        let rows_in = (rows - 1) * w.strides[0] + (w.kernel[0] - 1) * w.dilations[0] + 1;
        // Of each row of the copy, the columns left of the image, and those inside it.
        let left = w.before[1].min(width);
        let inside = w.input[1].min(width - left) * w.channels;
        for (r, to) in copy[..rows_in * line].chunks_exact_mut(line.max(1)).enumerate() {
            let ih = (oh * w.strides[0] + r).checked_sub(w.before[0]).filter(|&ih| ih < w.input[0]);
            to.fill(T::ZERO);
            if let Some(ih) = ih {
                let from = (n * w.input[0] + ih) * w.input[1] * w.channels;
                to[left * w.channels..][..inside].copy_from_slice(&self.x[from..][..inside]);
            }
        }
        let window = Window { batch: 1, input: [rows_in, width], before: [0, 0], output: [rows, w.output[1]], ..*w };
        Conv { window, x: &copy[..rows_in * line], ..*self }
    }

    /// Every output of a band whose windows all lie inside it, whose rows are a multiple of `R`
    /// pixels and whose output channels a multiple of `NR`: `R` pixels of an output row by `NR`
    /// channels at a time, through [`Conv::row_tile`].
    #[inline(always)]
    fn by_rows<const K: usize, const C: usize, const NR: usize, const R: usize>(
        &self,
        out: &mut [T],
        then: Put<'_, T>,
    ) {
        let (w, cout) = (&self.window, self.outputs);
        for oh in 0..w.output[0] {
            for ow in (0..w.output[1]).step_by(R) {
                let p = oh * w.output[1] + ow;
                for co in (0..cout).step_by(NR) {
                    for (r, values) in self.row_tile::<R, K, C, NR>([oh, ow], co).into_iter().enumerate() {
                        store(values, (p + r) * cout + co, || [0, oh, ow + r, co], out, then);
                    }
                }
            }
        }
    }

    /// Output channels `co..co + NR` of the `R` output pixels from `[oh, ow]` of a band whose
    /// windows all lie inside it, `K` taps wide over `C` channels: term by term in the window's
    /// order `(kh, kw, ci)`, each pixel's input value times the term's `NR` weights, read where
    /// they are, no patch gathered.
    #[inline(always)]
    fn row_tile<const R: usize, const K: usize, const C: usize, const NR: usize>(
        &self,
        [oh, ow]: [usize; 2],
        co: usize,
    ) -> [[T; NR]; R] {
        let w = &self.window;
        let (cout, width, step) = (self.outputs, w.input[1], w.strides[1]);
        let mut acc = [[T::NEG_ZERO; NR]; R];
        for kh in 0..w.kernel[0] {
            let row = &self.x[(oh * w.strides[0] + kh * w.dilations[0]) * width * C..][..width * C];
            let taps = &self.filter[kh * K * C * cout..][..K * C * cout];
            // Each pixel's window row, `K × C` values (undilated along a row): its terms' indices
            // are constants below, checked once here rather than term by term.
            let lines: [&[T]; R] = core::array::from_fn(|r| &row[(ow + r) * step * C..][..K * C]);
            // Term `t = kw × C + ci` of the window's row: its row of the filter, each pixel's
            // value.
            for (f, t) in taps.chunks_exact(cout).zip(0..K * C) {
                let f = &f[co..][..NR];
                let weights: [T; NR] = core::array::from_fn(|l| f[l]);
                for (r, line) in lines.iter().enumerate() {
                    let x = line[t];
                    for l in 0..NR {
                        acc[r][l] = acc[r][l].add_product(x, weights[l]);
                    }
                }
            }
        }
        acc
    }

    /// Output channels `co..co + NR` of the `MR` output pixels `at`: tap by tap, each input
    /// channel's value of each pixel (broadcast) times the weights of that term for the `NR`
    /// channels, added to the pixel's `NR` accumulators, which start at -0 (so that each sum is
    /// its first term, then the others left to right).
    #[inline(always)]
    fn tile<const MR: usize, const NR: usize>(&self, at: &[[usize; 3]; MR], co: usize) -> [[T; NR]; MR] {
        let w = &self.window;
        let (cin, cout) = (w.channels, self.outputs);
        let mut acc = [[T::NEG_ZERO; NR]; MR];
        // With every tap of every pixel inside the image, tap `(kh, kw)` of pixel `r` starts a
        // fixed distance after the pixel's first tap: no padding to decide, tap by tap.
        let inside = self.inside(at);
        let (row_step, tap_step) = (w.dilations[0] * w.input[1] * cin, w.dilations[1] * cin);
        // Inside the image and undilated along a row, a row of the window is one line of the
        // input, `kernel[1] × cin` terms long, whose rows of the filter follow each other too:
        // one line a row, not one a tap. ResNet-8's first layer (3 × 3 × 3) took 16.9-17.0 µs
        // so, against 20.4-20.5 µs tap by tap (AMD EPYC Zen 4, `cargo bench --bench
        // convolutions`, two rounds alternated). Gathering the rows of the tiles across the
        // image's edge on the stack, to read them so too, made every layer 5-35% slower: LLVM no
        // longer kept the accumulators in registers, nor with the tiles' three kinds split.
        let whole_rows = inside.is_some() && w.dilations[1] == 1;
        let (terms, per_row, step) =
            if whole_rows { (w.kernel[1] * cin, 1, row_step) } else { (cin, w.kernel[1], tap_step) };
        let (mut kh, mut kw, mut offset) = (0, 0, 0);
        for weights in self.filter.chunks_exact(terms * cout).take(w.kernel[0] * per_row) {
            let mut lines: [&[T]; MR] = [&[]; MR];
            for (r, line) in lines.iter_mut().enumerate() {
                let x = match inside {
                    Some(starts) => &self.x[starts[r] + offset..],
                    None => {
                        let [n, oh, ow] = at[r];
                        match w.input_pixel(n, oh, ow, kh, kw) {
                            Some(pixel) => &self.x[pixel * cin..],
                            None => self.zeros,
                        }
                    }
                };
                *line = &x[..terms];
            }
            accumulate(&mut acc, lines, weights, co, cout);
            // The offset is read only where every tap lies inside the image; in an image narrower
            // than the window's rows it wraps, unread (a subtraction there panicked in a debug
            // build).
            kw += 1;
            offset = offset.wrapping_add(step);
            if kw == per_row {
                (kh, kw) = (kh + 1, 0);
                offset = offset.wrapping_add(row_step).wrapping_sub(per_row * step);
            }
        }
        acc
    }

    /// Where the first tap of each of the output pixels `at` starts in the input, if every tap
    /// of their windows lies inside the image (no padding); `None` otherwise.
    #[inline(always)]
    fn inside<const MR: usize>(&self, at: &[[usize; 3]; MR]) -> Option<[usize; MR]> {
        let w = &self.window;
        let last_h = w.kernel[0].checked_sub(1)? * w.dilations[0];
        let last_w = w.kernel[1].checked_sub(1)? * w.dilations[1];
        let mut starts = [0; MR];
        for (start, &[n, oh, ow]) in starts.iter_mut().zip(at) {
            let ih = (oh * w.strides[0]).checked_sub(w.before[0])?;
            let iw = (ow * w.strides[1]).checked_sub(w.before[1])?;
            if ih + last_h >= w.input[0] || iw + last_w >= w.input[1] {
                return None;
            }
            *start = ((n * w.input[0] + ih) * w.input[1] + iw) * w.channels;
        }
        Some(starts)
    }
}

/// `to.copy_from_slice(from)` for the few terms of a patch, eight at a time in loops of a fixed
/// count: a copy of a run-time length is a call to `memcpy`, which took a sixth of keyword
/// spotting's first layer's time when it copied each tap.
#[inline(always)]
fn copy_short<T: Copy>(to: &mut [T], from: &[T]) {
    for (to, from) in to.chunks_mut(LANES).zip(from.chunks(LANES)) {
        for i in 0..LANES {
            if i < to.len() && i < from.len() {
                to[i] = from[i];
            }
        }
    }
}

/// `to.fill(T::ZERO)` for the few terms of a patch, as [`copy_short`] copies them.
#[inline(always)]
fn zero_short<T: Float>(to: &mut [T]) {
    for to in to.chunks_mut(LANES) {
        for i in 0..LANES {
            if i < to.len() {
                to[i] = T::ZERO;
            }
        }
    }
}

/// `acc[r][s] += x[r][ci] * weights[ci * cout + co + s]` for every input channel `ci` in order:
/// one tap of a tile, `weights` the tap's rows of the filter (`cout` long), `co` the tile's first
/// output channel.
#[inline(always)]
fn accumulate<T: Float, const MR: usize, const NR: usize>(
    acc: &mut [[T; NR]; MR],
    x: [&[T]; MR],
    weights: &[T],
    co: usize,
    cout: usize,
) {
    let cin = x.first().map_or(0, |line| line.len());
    let mut x = x;
    for line in &mut x {
        *line = &line[..cin];
    }
    // Row `ci` of the tap, `cout` after the one before: `chunks_exact` bounds each row, and
    // the range bounds `ci` by the lines' length, so neither needs a check of its own in the
    // loop, and the tile's columns `co..co + NR` are checked against a row of the same length
    // every time. (`chunks` of the rows from `co` on, whose last is shorter, was 2-5% slower on
    // ResNet-8's layers; stepping by `get(cout..)`, which needs no division per tap, and taking
    // two terms a pass were no faster, measured.)
    for (row, ci) in weights.chunks_exact(cout.max(1)).zip(0..cin) {
        let Some(row) = row.get(co..).and_then(|row| row.first_chunk::<NR>()) else { return };
        // The tile's inputs of this term first, so that the products below are straight-line
        // code over arrays of constant length.
        let mut xs = [T::ZERO; MR];
        for (value, line) in xs.iter_mut().zip(&x) {
            *value = line[ci];
        }
        for r in 0..MR {
            for s in 0..NR {
                acc[r][s] = acc[r][s].add_product(xs[r], row[s]);
            }
        }
    }
}

/// [`conv2d`] a band of rows at a time ([`Conv::by_bands`]), for [`best`]: with AVX2 or AVX-512
/// only, and only where the band fits; `false` where it computed nothing.
struct BandRows<'a, 'o, T, const K: usize, const C: usize, const NR: usize, const R: usize> {
    conv: Conv<'a, T>,
    out: &'o mut [T],
    then: Put<'o, T>,
}

impl<T: Float, const K: usize, const C: usize, const NR: usize, const R: usize> Kernel
    for BandRows<'_, '_, T, K, C, NR, R>
{
    type Output = bool;

    #[inline(always)]
    fn run(self, registers: Registers) -> bool {
        match registers {
            Registers::Many => self.conv.by_bands::<K, C, NR, R>(self.out, self.then),
            // AVX2's sixteen registers hold the sums of up to six pixels by sixteen channels: a
            // row of eight goes as two tiles of four.
            Registers::Wide if R <= 6 => self.conv.by_bands::<K, C, { 2 * LANES }, R>(self.out, self.then),
            Registers::Wide if R == 8 => self.conv.by_bands::<K, C, { 2 * LANES }, 4>(self.out, self.then),
            _ => false,
        }
    }
}

/// [`conv2d`]'s tiles, for [`best`]; `OWN` where each output pixel reads its own input pixel
/// alone ([`Conv::pointwise`]).
struct ConvTiles<'a, 'o, T, const OWN: bool> {
    conv: Conv<'a, T>,
    out: &'o mut [T],
    then: Put<'o, T>,
}

impl<T: Float, const OWN: bool> Kernel for ConvTiles<'_, '_, T, OWN> {
    type Output = ();

    #[inline(always)]
    fn run(self, registers: Registers) {
        // Each tile keeps `MR × NR` accumulators, and reads `NR` weights and `MR` inputs a term.
        let (conv, out, then) = (self.conv, self.out, self.then);
        // Patches pay where they are read more than once: with more output channels than a tile.
        // A 1 × 1 window's patch would be a copy of its pixel's own line.
        let patches = conv.window.channels < LANES && conv.terms() <= PATCH && conv.outputs > 16;
        // AVX-512's thirty-two registers take AVX2's tiles: with more accumulators (8 × 16,
        // 6 × 16, 4 × 32) LLVM no longer kept them in registers, and ResNet-8's layers took 15
        // to 35 times as long as with 5 × 16 (conv1 1.88 ms against 54.5 µs, AMD EPYC Zen 4,
        // `cargo bench --bench convolutions`); 3 × 32 was within 10% of 5 × 16, slower on four
        // layers of five. With fused multiply-adds (the `fma` feature) 4 × 32 stays in registers
        // and takes 0.55-0.70 of 5 × 16's time where the channels are a multiple of 32 (Intel
        // Xeon, AVX-512, the same benchmark): eight sums keep two fused multiply-adds a cycle
        // going, each waiting four cycles for the one before. 8 × 16 is still 20 times slower,
        // and 6 × 16 or 7 × 16 no faster than 5 × 16.
        let wide = conv.outputs % 32 == 0;
        match (registers, patches && !OWN) {
            (Registers::Narrow, false) => conv.by_tiles::<4, 8, OWN, false>(out, then),
            (Registers::Many, false) if FMA && !OWN && wide => conv.by_padded_bands::<4, 32>(out, then),
            (Registers::Wide | Registers::Many, false) if !OWN => conv.by_padded_bands::<5, 16>(out, then),
            (Registers::Many, false) if FMA && wide => conv.by_tiles::<4, 32, OWN, true>(out, then),
            (Registers::Wide | Registers::Many, false) => conv.by_tiles::<5, 16, OWN, true>(out, then),
            (Registers::Narrow, true) => conv.by_patches::<4, 8>(out, then),
            (Registers::Wide | Registers::Many, true) => conv.by_patches::<4, 16>(out, then),
        }
    }
}

/// `tf.nn.depthwise_conv2d` with a channel multiplier of 1: writes `out` (`[batch, output[0],
/// output[1], channels]`, row-major) from `x` (`[batch, input[0], input[1], channels]`) and
/// `filter` (`[kernel[0], kernel[1], channels, 1]`), with the bits the module's documentation
/// gives, each output through `then`, as [`conv2d`]'s. `zeros` holds at least `channels` zeros:
/// the line a tap in the padding reads.
///
/// With `channels` a multiple of `LANES` (8) and every slice long enough, two pixels at a time,
/// up to 64 channels side by side (with AVX-512 and a window three taps wide moved by one along a
/// row, up to eight pixels of a row at a time, 32 channels side by side); otherwise output by
/// output, which panics at the first index outside a slice, as indexing does.
pub fn depthwise_conv2d<T: Kernels, E: Fn(T, T, [usize; 4]) -> T>(
    window: &Window,
    x: &[T],
    filter: &[T],
    zeros: &[T],
    out: &mut [T],
    then: E,
) {
    T::depthwise(window, x, filter, zeros, out, Put(Some(&Then(then))))
}

/// [`depthwise_conv2d`] storing the convolution itself, as [`conv2d_plain`] does.
pub fn depthwise_conv2d_plain<T: Kernels>(window: &Window, x: &[T], filter: &[T], zeros: &[T], out: &mut [T]) {
    T::depthwise(window, x, filter, zeros, out, Put(None))
}

/// [`depthwise_conv2d`], its store through a trait object, as [`convolve`]'s.
fn depthwise<T: Float>(window: &Window, x: &[T], filter: &[T], zeros: &[T], out: &mut [T], then: Put<'_, T>) {
    let conv = Depthwise { window: *window, x, filter, zeros };
    if conv.fits(out.len()) {
        best(DepthwiseTiles { conv, out, then })
    } else {
        conv.by_element(out, then)
    }
}

/// The operands of one [`depthwise_conv2d`].
#[derive(Clone, Copy)]
struct Depthwise<'a, T> {
    window: Window,
    x: &'a [T],
    filter: &'a [T],
    zeros: &'a [T],
}

impl<'a, T: Float> Depthwise<'a, T> {
    /// Whether the tiles apply: channels a multiple of [`LANES`], and operands holding every
    /// element the sizes say.
    fn fits(&self, out_len: usize) -> bool {
        let w = &self.window;
        let sizes = || {
            let (pixels_in, pixels_out) = w.pixels()?;
            Some((
                pixels_in.checked_mul(w.channels)?,
                w.taps().checked_mul(w.channels)?,
                pixels_out.checked_mul(w.channels)?,
            ))
        };
        let Some((x, filter, out)) = sizes() else { return false };
        w.channels.is_multiple_of(LANES)
            && w.channels > 0
            && w.taps() <= TAPS
            && self.x.len() >= x
            && self.filter.len() >= filter
            && self.zeros.len() >= w.channels
            && out_len >= out
    }

    /// Every output through [`in_order`], in the order the module's documentation gives.
    fn by_element(&self, out: &mut [T], then: Put<'_, T>) {
        let (w, c) = (&self.window, self.window.channels);
        for (at, [n, oh, ow, ci]) in w.outputs(c).enumerate() {
            let value = in_order_products(w.taps(), |tap| {
                let pixel = w.input_pixel(n, oh, ow, tap / w.kernel[1], tap % w.kernel[1]);
                let x = pixel.map_or(T::ZERO, |p| self.x[p * c + ci]);
                (x, self.filter[tap * c + ci])
            });
            then.store(out, at, &[value], [n, oh, ow, ci]);
        }
    }

    /// Every output, two pixels at a time (the pixels of a pair following each other across the
    /// output's rows, the last one alone): the line of channels each tap of each pixel reads (the
    /// input pixel's, or `zeros` in the padding) found once for the pixel, then `N` channels at a
    /// time (the last few eight at a time) through [`sums`].
    #[inline(always)]
    fn by_pixels<const N: usize, const K: usize>(&self, out: &mut [T], then: Put<'_, T>) {
        let w = &self.window;
        let c = w.channels;
        // `fits` has checked every length these take.
        let Some(zeros) = self.zeros.get(..c) else { return };
        let mut taps = [zeros; TAPS];
        for (tap, weights) in taps.iter_mut().enumerate().take(w.taps()) {
            *weights = self.filter.get(tap * c..).and_then(|f| f.get(..c)).unwrap_or(zeros);
        }
        let taps = &taps[..w.taps().min(TAPS)];
        let pixels = w.batch * w.output[0] * w.output[1];
        // Written out for two pixels and for one: a version generic in the number of pixels
        // (stores through an array of them) took 6.4-7.1 µs against 5.6 for keyword spotting's
        // layer.
        let (mut lines, mut next, mut p) = ([[zeros; TAPS]; 2], [0; 3], 0);
        while p + 2 <= pixels {
            let at = [w.step(&mut next), w.step(&mut next)];
            self.lines::<K>(at[0], zeros, &mut lines[0]);
            self.lines::<K>(at[1], zeros, &mut lines[1]);
            let pair = [&lines[0][..taps.len()], &lines[1][..taps.len()]];
            let mut first = 0;
            while first + N <= c {
                self.store_pair(sums::<T, 2, N>(pair, taps, first), at, p, first, out, then);
                first += N;
            }
            while first + LANES <= c {
                self.store_pair(sums::<T, 2, LANES>(pair, taps, first), at, p, first, out, then);
                first += LANES;
            }
            p += 2;
        }
        if p < pixels {
            let [n, oh, ow] = w.step(&mut next);
            self.lines::<K>([n, oh, ow], zeros, &mut lines[0]);
            let lines = [&lines[0][..taps.len()]];
            let mut first = 0;
            while first + N <= c {
                let [values] = sums::<T, 1, N>(lines, taps, first);
                store(values, p * c + first, || [n, oh, ow, first], out, then);
                first += N;
            }
            while first + LANES <= c {
                let [values] = sums::<T, 1, LANES>(lines, taps, first);
                store(values, p * c + first, || [n, oh, ow, first], out, then);
                first += LANES;
            }
        }
    }

    /// Every output, up to `MAX` (at most eight) pixels of an output row at a time, `N` channels
    /// at a time (the last few eight at a time), through [`row_sums`]: for a window `K` taps wide,
    /// moved by one along a row and undilated along it, whose neighbouring output pixels read
    /// neighbouring input pixels.
    #[inline(always)]
    fn by_rows<const K: usize, const N: usize, const MAX: usize>(&self, out: &mut [T], then: Put<'_, T>) {
        let w = &self.window;
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                let mut ow = 0;
                while ow < w.output[1] {
                    // A row of up to `MAX` pixels at once; a longer one `MAX` at a time, its last
                    // `MAX / 2` to `MAX` together: fewer pixels read each input pixel and weight
                    // for fewer products.
                    let pixels = match w.output[1] - ow {
                        left if left <= MAX => left,
                        left => (left - MAX / 2).min(MAX),
                    };
                    let at = [n, oh, ow];
                    match pixels {
                        8 if MAX >= 8 => self.row_channels::<8, K, N>(at, out, then),
                        7 if MAX >= 7 => self.row_channels::<7, K, N>(at, out, then),
                        6 if MAX >= 6 => self.row_channels::<6, K, N>(at, out, then),
                        5 if MAX >= 5 => self.row_channels::<5, K, N>(at, out, then),
                        4 if MAX >= 4 => self.row_channels::<4, K, N>(at, out, then),
                        3 if MAX >= 3 => self.row_channels::<3, K, N>(at, out, then),
                        2 if MAX >= 2 => self.row_channels::<2, K, N>(at, out, then),
                        _ => self.row_channels::<1, K, N>(at, out, then),
                    }
                    ow += pixels;
                }
            }
        }
    }

    /// Every channel of the `R` output pixels from `[n, oh, ow]`, stored: `N` at a time, then
    /// eight at a time.
    #[inline(always)]
    fn row_channels<const R: usize, const K: usize, const N: usize>(
        &self,
        [n, oh, ow]: [usize; 3],
        out: &mut [T],
        then: Put<'_, T>,
    ) {
        let (w, c) = (&self.window, self.window.channels);
        let p = (n * w.output[0] + oh) * w.output[1] + ow;
        let mut first = 0;
        while first + N <= c {
            let sums = self.row_sums::<R, K, N>([n, oh, ow], first);
            for (r, sums) in sums.into_iter().enumerate() {
                store(sums, (p + r) * c + first, || [n, oh, ow + r, first], out, then);
            }
            first += N;
        }
        while first + LANES <= c {
            let sums = self.row_sums::<R, K, LANES>([n, oh, ow], first);
            for (r, sums) in sums.into_iter().enumerate() {
                store(sums, (p + r) * c + first, || [n, oh, ow + r, first], out, then);
            }
            first += LANES;
        }
    }

    /// Channels `first..first + N` of the `R` output pixels from `[n, oh, ow]`: each row of the
    /// window reads the `R + K - 1` input pixels under them once (a line of zeros in the
    /// padding), each pixel times the `K` taps' weights of the outputs it is under. Output
    /// `ow + r` reads pixel `r + kw` at tap `kw`, so that, the pixels taken in order, each sum
    /// takes its taps in order: the module's documented bits.
    #[inline(always)]
    fn row_sums<const R: usize, const K: usize, const N: usize>(
        &self,
        [n, oh, ow]: [usize; 3],
        first: usize,
    ) -> [[T; N]; R] {
        let (w, c) = (&self.window, self.window.channels);
        let mut acc = [[T::NEG_ZERO; N]; R];
        for kh in 0..w.kernel[0] {
            let ih = (oh * w.strides[0] + kh * w.dilations[0]).checked_sub(w.before[0]);
            // The input row this row of the window reads, if it is not in the padding.
            let row = ih.filter(|&ih| ih < w.input[0]).map(|ih| (n * w.input[0] + ih) * w.input[1]);
            let weights: [[T; N]; K] = core::array::from_fn(|kw| {
                let f = &self.filter[(kh * K + kw) * c + first..][..N];
                core::array::from_fn(|l| f[l])
            });
            for j in 0..R + K - 1 {
                let iw = (ow + j).checked_sub(w.before[1]).filter(|&iw| iw < w.input[1]);
                let x: [T; N] = match (row, iw) {
                    (Some(row), Some(iw)) => {
                        let x = &self.x[(row + iw) * c + first..][..N];
                        core::array::from_fn(|l| x[l])
                    }
                    _ => [T::ZERO; N],
                };
                for (kw, weights) in weights.iter().enumerate() {
                    if let Some(acc) = j.checked_sub(kw).and_then(|r| acc.get_mut(r)) {
                        for l in 0..N {
                            acc[l] = acc[l].add_product(x[l], weights[l]);
                        }
                    }
                }
            }
        }
        acc
    }

    /// The line of channels each tap of output pixel `[n, oh, ow]` reads: an input pixel's, or
    /// `zeros` in the padding. `K`: the window's `K × K` taps, known when the kernel is compiled,
    /// so that LLVM writes the loops out; 0 for a window of any size.
    #[inline(always)]
    fn lines<'x, const K: usize>(&self, [n, oh, ow]: [usize; 3], zeros: &'x [T], lines: &mut [&'x [T]; TAPS])
    where
        'a: 'x,
    {
        let (w, c) = (&self.window, self.window.channels);
        let [k0, k1] = if K > 0 { [K, K] } else { w.kernel };
        let mut line = lines.iter_mut();
        for kh in 0..k0 {
            for kw in 0..k1 {
                let Some(line) = line.next() else { return };
                *line = w
                    .input_pixel(n, oh, ow, kh, kw)
                    .and_then(|pixel| self.x.get(pixel * c..)?.get(..c))
                    .unwrap_or(zeros);
            }
        }
    }

    /// Channels `first..first + N` of the pair of pixels from pixel `p` (at `at`), stored.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn store_pair<const N: usize>(
        &self,
        [a, b]: [[T; N]; 2],
        at: [[usize; 3]; 2],
        p: usize,
        first: usize,
        out: &mut [T],
        then: Put<'_, T>,
    ) {
        let c = self.window.channels;
        let [[n, oh, ow], [n1, oh1, ow1]] = at;
        store(a, p * c + first, || [n, oh, ow, first], out, then);
        store(b, (p + 1) * c + first, || [n1, oh1, ow1, first], out, then);
    }
}

/// Channels `first..first + N` of `MR` depthwise pixels whose taps read `lines` times `taps`:
/// sums that start at -0 (so each is its first term, then the others added in order). Every line
/// holds these channels (`fits`); indexing, not `get`, keeps the sums in registers, as an exit
/// that returns them would need them in memory.
#[inline(always)]
fn sums<T: Float, const MR: usize, const N: usize>(lines: [&[&[T]]; MR], taps: &[&[T]], first: usize) -> [[T; N]; MR] {
    let mut acc = [[T::NEG_ZERO; N]; MR];
    let lines = lines.map(|lines| &lines[..taps.len()]);
    for (t, weights) in taps.iter().enumerate() {
        let f = &weights[first..][..N];
        // The tap's weights copied first, so that they are loaded once for every pixel: read
        // where they are stored, LLVM loaded them again in each pixel's products, and the layer
        // is bound by its loads (keyword spotting's: 5.1-5.9 against 5.9-6.5 µs, AMD EPYC Zen 4).
        // On x86-64, where that was measured. A Cortex-M's registers cannot hold them: there the
        // copy is one more trip through the stack (keyword spotting: 0.2% more instructions on
        // the M4).
        #[cfg(target_arch = "x86_64")]
        let f: [T; N] = core::array::from_fn(|l| f[l]);
        for r in 0..MR {
            let x = &lines[r][t][first..][..N];
            for l in 0..N {
                acc[r][l] = acc[r][l].add_product(x[l], f[l]);
            }
        }
    }
    acc
}

/// `sums` (channels `index[3]..` of pixel `index[..3]`) stored at `out[at..]`: copied, or through
/// the closure a copy of them, `index` found only then. Handing the closure's call `sums` itself
/// takes their address, and LLVM then stored them on every tap (12.7 against 6.4 µs for keyword
/// spotting's depthwise layer).
#[inline(always)]
fn store<T: Copy, const N: usize>(
    sums: [T; N],
    at: usize,
    index: impl FnOnce() -> [usize; 4],
    out: &mut [T],
    then: Put<'_, T>,
) {
    match then.0 {
        None => out[at..][..N].copy_from_slice(&sums),
        Some(_) => then.store(out, at, &{ sums }, index()),
    }
}

/// `tf.nn.conv2d_backprop_filter`: writes `out` (`[kernel[0], kernel[1], channels, outputs]`,
/// row-major), the gradient of a convolution's filter, from `x` (its input, `[batch, input[0],
/// input[1], channels]`) and `g` (the gradient of its output, `[batch, output[0], output[1],
/// outputs]`). Each weight's gradient is
///
/// ```text
/// out[kh, kw, ci, co] = sum over n of (sum over oh of (sum over ow of x[n, ih, iw, ci] * g[n, oh, ow, co]))
/// ```
///
/// each sum in [`sum`](crate::sum::sum)'s order, as the macro's element-by-element code and its
/// constant folder add it, an input index in the padding reading a zero: the same bits. Sixteen
/// output channels at a time side by side (then eight, then one), where the element code took a
/// weight at a time and found each of its terms' indices anew.
///
/// Where a slice is shorter than the sizes say, nothing is written past it: output by output,
/// which panics at the first index outside a slice, as indexing does.
pub fn conv2d_filter_gradient<T: Kernels>(window: &Window, outputs: usize, x: &[T], g: &[T], out: &mut [T]) {
    T::filter_gradient(window, outputs, x, g, out)
}

/// The operands of one [`conv2d_filter_gradient`], for [`best`].
struct FilterGradient<'a, 'o, T> {
    window: Window,
    outputs: usize,
    x: &'a [T],
    g: &'a [T],
    out: &'o mut [T],
}

impl<T: Float> FilterGradient<'_, '_, T> {
    /// Output channels `co..co + L` of the gradient of weight `(kh, kw, ci, ..)`: over the batch,
    /// of [`FilterGradient::image`].
    #[inline(always)]
    fn lanes<const L: usize>(&self, tap: [usize; 3], co: usize) -> [T; L] {
        sum_lanes(
            self.window.batch,
            #[inline(always)]
            |n| self.image::<L>(tap, co, n),
        )
    }

    /// Image `n`'s part: over its output rows, of [`FilterGradient::row`]. (Methods, not nested
    /// closures: LLVM kept the outer closure out of line, and 17% of the digits step in it.)
    #[inline(always)]
    fn image<const L: usize>(&self, tap: [usize; 3], co: usize, n: usize) -> [T; L] {
        sum_lanes(
            self.window.output[0],
            #[inline(always)]
            |oh| self.row::<L>(tap, co, n, oh),
        )
    }

    /// Output row `oh` of image `n`'s part: over the row's pixels.
    #[inline(always)]
    fn row<const L: usize>(&self, [kh, kw, ci]: [usize; 3], co: usize, n: usize, oh: usize) -> [T; L] {
        let w = &self.window;
        let [oh_n, ow_n] = w.output;
        sum_lanes_products(
            ow_n,
            #[inline(always)]
            |ow| {
                let x = w.input_pixel(n, oh, ow, kh, kw).map_or(T::ZERO, |pixel| self.x[pixel * w.channels + ci]);
                let g = &self.g[((n * oh_n + oh) * ow_n + ow) * self.outputs + co..][..L];
                (x, core::array::from_fn(|l| g[l]))
            },
        )
    }
}

impl<T: Float> Kernel for FilterGradient<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, _: Registers) {
        let w = self.window;
        let cout = self.outputs;
        let mut at = 0;
        for kh in 0..w.kernel[0] {
            for kw in 0..w.kernel[1] {
                for ci in 0..w.channels {
                    let mut co = 0;
                    while co + 16 <= cout {
                        let values = self.lanes::<16>([kh, kw, ci], co);
                        self.out[at..][..16].copy_from_slice(&values);
                        (at, co) = (at + 16, co + 16);
                    }
                    while co + 8 <= cout {
                        let values = self.lanes::<8>([kh, kw, ci], co);
                        self.out[at..][..8].copy_from_slice(&values);
                        (at, co) = (at + 8, co + 8);
                    }
                    while co < cout {
                        let [value] = self.lanes::<1>([kh, kw, ci], co);
                        self.out[at] = value;
                        (at, co) = (at + 1, co + 1);
                    }
                }
            }
        }
    }
}

/// [`depthwise_conv2d`]'s tiles, for [`best`].
struct DepthwiseTiles<'a, 'o, T> {
    conv: Depthwise<'a, T>,
    out: &'o mut [T],
    then: Put<'o, T>,
}

impl<T: Float> Kernel for DepthwiseTiles<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, registers: Registers) {
        // A 3 × 3 window's lines found by loops of constant length, which LLVM writes out: where
        // a window of any size's loops took 45% of keyword spotting's depthwise layer, 4.1-5.4 µs
        // against 5.1-7.6 (AMD EPYC Zen 4). Not with SSE2 nor on a Cortex-M, where it was not
        // measured and would add to the firmware's flash.
        let three = self.conv.window.kernel == [3, 3];
        // AVX-512's registers hold the accumulators of a row's pixels, their input pixels and the
        // weights of a row of the window: keyword spotting's layer (rows of five) 2.1-2.2 µs
        // against 4.1-4.3 pixel by pair (AMD EPYC Zen 4). With AVX2's, 8 channels of up to
        // eight pixels, or 16 of up to four, were 7-13% slower than the pairs.
        let w = &self.conv.window;
        if registers == Registers::Many && w.kernel[1] == 3 && w.strides[1] == 1 && w.dilations[1] == 1 {
            return self.conv.by_rows::<3, 32, 8>(self.out, self.then);
        }
        match (registers, three) {
            // Four vectors of accumulators: of 4 lanes (SSE), 8 (AVX2), 16 (AVX-512).
            (Registers::Narrow, _) => self.conv.by_pixels::<16, 0>(self.out, self.then),
            (Registers::Wide, false) => self.conv.by_pixels::<32, 0>(self.out, self.then),
            (Registers::Wide, true) => self.conv.by_pixels::<32, 3>(self.out, self.then),
            (Registers::Many, false) => self.conv.by_pixels::<64, 0>(self.out, self.then),
            (Registers::Many, true) => self.conv.by_pixels::<64, 3>(self.out, self.then),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::elem::Elem;

    /// Values whose sums round differently in different orders, some negative and some zero.
    /// The most values of an operand of these tests.
    const MOST: usize = 32768;

    fn values(len: usize, seed: usize) -> [f32; MOST] {
        core::array::from_fn(|i| {
            if i >= len {
                return f32::NAN;
            }
            let i = i + seed;
            ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e3 - 3.0e3 + 1.0 / (i % 13 + 1) as f32
        })
    }

    /// TensorFlow's window for one axis: `(output, before)`.
    pub(crate) fn axis(input: usize, kernel: usize, stride: usize, dilation: usize, same: bool) -> (usize, usize) {
        let span = (kernel - 1) * dilation + 1;
        if same {
            let output = input.div_ceil(stride);
            (output, ((output - 1) * stride + span).saturating_sub(input) / 2)
        } else {
            ((input - span) / stride + 1, 0)
        }
    }

    /// The windows the tests try: odd sizes, strides, dilations, SAME and VALID, fewer input
    /// channels than eight and more (not a multiple of eight), and windows of fewer than eight
    /// taps, of eight to fifteen and of sixteen or more (the three ways `sum` adds), and windows
    /// of more terms than a patch holds.
    fn windows() -> impl Iterator<Item = Window> {
        let cases = [
            // (batch, [h, w], channels, [kh, kw], strides, dilations, same)
            (1, [5, 7], 3, [3, 3], [1, 1], [1, 1], true),
            (2, [6, 5], 16, [3, 3], [2, 2], [1, 1], true),
            (1, [9, 6], 1, [9, 4], [2, 1], [1, 1], true),
            (1, [7, 7], 13, [2, 3], [1, 2], [2, 1], false),
            (1, [4, 11], 9, [1, 1], [1, 1], [1, 1], true),
            // 1 × 1 over a batch (each output pixel reads its own input pixel), and 1 × 1 moved
            // by 2 (it does not).
            (2, [5, 3], 16, [1, 1], [1, 1], [1, 1], false),
            (1, [5, 5], 8, [1, 1], [2, 2], [1, 1], true),
            (2, [3, 3], 24, [3, 3], [1, 1], [1, 1], true),
            (1, [6, 7], 8, [2, 5], [1, 1], [1, 1], true),
            (1, [5, 5], 13, [5, 5], [1, 1], [1, 1], true),
            (1, [9, 6], 8, [4, 4], [2, 1], [1, 1], false),
            // Few channels, dilated both ways (a patch's rows gathered tap by tap).
            (1, [8, 9], 2, [3, 3], [1, 2], [2, 2], true),
            // A first layer's 3 × 3 × 3, most of its tiles inside the image (a row of a window
            // read as one line); inside the image but dilated along its rows (tap by tap).
            (1, [9, 8], 3, [3, 3], [1, 1], [1, 1], true),
            (1, [9, 10], 3, [2, 3], [1, 1], [1, 2], false),
            // Enough channels for a depthwise block of 32 and one of 8 after it; of 64 and 8.
            (1, [5, 4], 40, [3, 3], [1, 1], [1, 1], true),
            (1, [3, 4], 72, [2, 2], [1, 1], [1, 1], true),
            // Depthwise a row at a time: rows of five, as keyword spotting's (a block of 32 channels
            // and one of 8); dilated down the columns; moved by two down them, rows of nine (five
            // pixels and four).
            (1, [7, 5], 40, [3, 3], [1, 1], [1, 1], true),
            (1, [8, 9], 16, [3, 3], [1, 1], [2, 1], true),
            (2, [5, 11], 8, [2, 3], [2, 1], [1, 1], false),
            // And every other number of pixels a row is cut into (eight and five; seven, six,
            // eight, two, one).
            (1, [3, 13], 8, [3, 3], [1, 1], [1, 1], true),
            (1, [4, 9], 16, [3, 3], [1, 1], [1, 1], false),
            (2, [3, 6], 8, [3, 3], [1, 1], [1, 1], true),
            (1, [3, 8], 8, [3, 3], [1, 1], [1, 1], true),
            (1, [4, 4], 8, [3, 3], [1, 1], [1, 1], false),
            (1, [5, 3], 8, [3, 3], [2, 1], [1, 1], false),
        ];
        cases.into_iter().map(window)
    }

    /// The window of `(batch, [h, w], channels, [kh, kw], strides, dilations, same)`, its output
    /// and padding as TensorFlow's.
    #[allow(clippy::type_complexity)]
    fn window(
        (batch, input, channels, kernel, strides, dilations, same): (
            usize,
            [usize; 2],
            usize,
            [usize; 2],
            [usize; 2],
            [usize; 2],
            bool,
        ),
    ) -> Window {
        let ax = |a: usize| axis(input[a], kernel[a], strides[a], dilations[a], same);
        let ((oh, bh), (ow, bw)) = (ax(0), ax(1));
        Window { batch, input, channels, kernel, strides, dilations, before: [bh, bw], output: [oh, ow] }
    }

    /// The definition, written out: the nested sums with the padding's zeros.
    fn definition(w: &Window, cout: usize, depthwise: bool, x: &[f32], f: &[f32], out: &mut [f32]) {
        let cin = w.channels;
        let mut at = 0;
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                for ow in 0..w.output[1] {
                    for co in 0..cout {
                        let x_at = |kh: usize, kw: usize, ci: usize| {
                            let ih = (oh * w.strides[0] + kh * w.dilations[0]).wrapping_sub(w.before[0]);
                            let iw = (ow * w.strides[1] + kw * w.dilations[1]).wrapping_sub(w.before[1]);
                            if ih < w.input[0] && iw < w.input[1] {
                                x[((n * w.input[0] + ih) * w.input[1] + iw) * cin + ci]
                            } else {
                                0.0
                            }
                        };
                        // The window's terms in the order (kh, kw, ci), added left to right.
                        let mut total = None;
                        for kh in 0..w.kernel[0] {
                            for kw in 0..w.kernel[1] {
                                for ci in 0..if depthwise { 1 } else { cin } {
                                    let (a, b) = if depthwise {
                                        (x_at(kh, kw, co), f[(kh * w.kernel[1] + kw) * cin + co])
                                    } else {
                                        (x_at(kh, kw, ci), f[((kh * w.kernel[1] + kw) * cin + ci) * cout + co])
                                    };
                                    // `a × b` added to the sum by `add_product` (fused with `fma`).
                                    total = Some(total.map_or(a * b, |total: f32| total.add_product(a, b)));
                                }
                            }
                        }
                        out[at] = total.unwrap_or(0.0);
                        at += 1;
                    }
                }
            }
        }
    }

    /// The kernel's outputs against the definition's, to the bit: a convolution, or a depthwise
    /// one; through `best`, or through the tiles for `registers` where they apply.
    fn check(w: &Window, cout: usize, depthwise: bool, registers: Option<Registers>) {
        let x = values(w.batch * w.input[0] * w.input[1] * w.channels, 3);
        let f = values(w.taps() * w.channels * cout, 11);
        let zeros = [0.0f32; 128];
        let len = w.batch * w.output[0] * w.output[1] * cout;
        let mut expected = [f32::NAN; MOST];
        definition(w, cout, depthwise, &x, &f, &mut expected);
        let filter = &f[..];
        // `pointwise_conv2d` too: its own tiles where each output pixel reads its own input
        // pixel, and output by output for any other window.
        let pointwise = Conv { window: *w, outputs: cout, x: &x, filter, zeros: &[] }.pointwise();
        // Each output stored through the closure (here the identity), and as it is (`_plain`).
        for (plain, own) in [(false, false), (true, false), (false, true), (true, true)] {
            if own && (depthwise || registers.is_some() && !pointwise) {
                continue;
            }
            let mut got = [f32::NAN; MOST];
            let closure = Then(|_, value, _| value);
            let then = Put(if plain { None } else { Some(&closure) });
            let out = &mut got[..len];
            match (depthwise, registers, plain, own) {
                (false, None, false, false) => conv2d(w, cout, &x, filter, &zeros, out, |_, value, _| value),
                (false, None, true, false) => conv2d_plain(w, cout, &x, filter, &zeros, out),
                (false, None, false, true) => pointwise_conv2d(w, cout, &x, filter, out, |_, value, _| value),
                (false, None, true, true) => pointwise_conv2d_plain(w, cout, &x, filter, out),
                (true, None, false, _) => depthwise_conv2d(w, &x, &f, &zeros, out, |_, value, _| value),
                (true, None, true, _) => depthwise_conv2d_plain(w, &x, &f, &zeros, out),
                (false, Some(r), _, own) => {
                    let conv = Conv { window: *w, outputs: cout, x: &x, filter, zeros: &zeros };
                    if !conv.fits(len) {
                        return;
                    }
                    match own {
                        false => ConvTiles::<_, false> { conv, out, then }.run(r),
                        true => ConvTiles::<_, true> { conv, out, then }.run(r),
                    }
                }
                (true, Some(r), _, _) => {
                    let conv = Depthwise { window: *w, x: &x, filter: &f, zeros: &zeros };
                    if !conv.fits(len) {
                        return;
                    }
                    DepthwiseTiles { conv, out, then }.run(r)
                }
            }
            for i in 0..len {
                let case = (w, cout, depthwise, registers, plain, own, i);
                assert_eq!(got[i].to_bits(), expected[i].to_bits(), "{case:?}");
            }
        }
    }

    #[test]
    fn convolutions_have_the_definitions_bits() {
        for w in windows() {
            // Tiles of 16 output channels, of 8, and one by one.
            for cout in [8, 16, 5, 6, 27, 40] {
                check(&w, cout, false, None);
            }
            check(&w, w.channels, true, None);
        }
    }

    #[test]
    fn every_tile_shape_gives_the_same_bits() {
        for w in windows() {
            for registers in [Registers::Narrow, Registers::Wide, Registers::Many] {
                // 32 and 64: AVX-512's tiles of 32 channels with the `fma` feature.
                for cout in [16, 6, 27, 32, 64] {
                    check(&w, cout, false, Some(registers));
                }
                check(&w, w.channels, true, Some(registers));
            }
        }
    }

    /// A store that reads what `out` held and the output's index, as the graph's ops after a
    /// convolution are fused into it: an output stored twice, or with another's index, shows.
    fn indexed(old: f32, value: f32, [n, oh, ow, c]: [usize; 4]) -> f32 {
        old * 0.5 + value + (n + 2 * oh + 3 * ow + 5 * c) as f32
    }

    #[test]
    fn padded_bands_give_the_definitions_bits() {
        // (window, its bands' height and the input's columns under every window)
        let cases = [
            // Rows of 32 × 5 values, padded: two bands of 30 rows.
            ((1, [60, 30], 5, [3, 3], [1, 1], [1, 1], true), Some((30, 32))),
            // Moved by two, padded after the image only; two images, two bands of 13 and 12 rows.
            ((2, [50, 40], 7, [3, 3], [2, 2], [1, 1], true), Some((13, 41))),
            // A row of a band of one row too long: the tiles over the input itself.
            ((1, [2, 400], 7, [3, 3], [1, 1], [1, 1], true), None),
            // No window in the padding; a tap of eight channels or more.
            ((1, [9, 8], 3, [3, 3], [1, 1], [1, 1], false), None),
            ((1, [9, 8], 8, [3, 3], [1, 1], [1, 1], true), None),
        ];
        for (case, band) in cases {
            let w = window(case);
            let conv = Conv::<f32> { window: w, outputs: 8, x: &[], filter: &[], zeros: &[] };
            assert_eq!(conv.padded_band(), band, "{w:?}");
            for registers in [Registers::Narrow, Registers::Wide, Registers::Many] {
                for cout in [16, 8, 5, 32] {
                    if w.batch * w.output[0] * w.output[1] * cout <= MOST {
                        check(&w, cout, false, Some(registers));
                    }
                }
            }
        }
    }

    #[test]
    fn the_last_tile_stores_each_output_once() {
        // Outputs of 1 to 13 pixels: every number of pixels tiles of four or five leave (more
        // than half a tile of them go as the last tile's, computed again, the others one by one),
        // on each instruction set's tiles, for 16, 8 and single output channels; through a
        // closure that reads what `out` held, so that an output stored twice would show.
        let then = indexed;
        let cout = 25;
        for width in 1..=13 {
            let w = window((1, [1, width], 16, [3, 3], [1, 1], [1, 1], true));
            let x = values(w.input[0] * w.input[1] * w.channels, 5);
            let f = values(w.taps() * w.channels * cout, 7);
            let len = w.output[0] * w.output[1] * cout;
            let mut plain = [f32::NAN; MOST];
            definition(&w, cout, false, &x, &f, &mut plain);
            let old = values(len, 9);
            for registers in [Registers::Narrow, Registers::Wide, Registers::Many] {
                let mut got = old;
                let closure = Then(then);
                let conv = Conv { window: w, outputs: cout, x: &x, filter: &f, zeros: &[0.0; 16] };
                ConvTiles::<_, false> { conv, out: &mut got[..len], then: Put(Some(&closure)) }.run(registers);
                for (at, (&got, &plain)) in got[..len].iter().zip(&plain[..len]).enumerate() {
                    let (pixel, c) = (at / cout, at % cout);
                    let index = [0, pixel / w.output[1], pixel % w.output[1], c];
                    let expected = then(old[at], plain, index);
                    assert_eq!(got.to_bits(), expected.to_bits(), "{width} pixels, {registers:?}, at {at}");
                }
            }
        }
    }

    /// [`conv2d_rows`] against the definition, stored as it is and through a closure that reads
    /// each output's index and what `out` held: on its own window (`K` taps wide over `C`
    /// channels) through bands, on any other as [`conv2d`].
    /// Then each instruction set's band path, whatever this CPU has, against the definition
    /// where it takes the window: which of them took it.
    #[cfg(feature = "std")]
    fn check_rows<const K: usize, const C: usize, const NR: usize, const R: usize>(
        w: &Window,
        cout: usize,
    ) -> [bool; 3] {
        let pixels = w.batch * w.output[0] * w.output[1];
        let values = |len: usize, seed: usize| -> std::vec::Vec<f32> {
            (0..len).map(|i| ((i * 37 + seed) % 101) as f32 * 1.0e-2 - 0.5 + 1.0 / (i % 13 + 1) as f32).collect()
        };
        let x = values(w.batch * w.input[0] * w.input[1] * w.channels, 3);
        let f = values(w.taps() * w.channels * cout, 11);
        let old = values(pixels * cout, 5);
        let zeros = [0.0f32; 128];
        let mut expected = std::vec![f32::NAN; pixels * cout];
        definition(w, cout, false, &x, &f, &mut expected);
        let then = indexed;
        let mut got = std::vec![f32::NAN; pixels * cout];
        conv2d_rows_plain::<f32, K, C, NR, R>(w, cout, &x, &f, &zeros, &mut got);
        for (i, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got.to_bits(), expected.to_bits(), "{w:?} {cout} at {i}");
        }
        let mut got = old.clone();
        conv2d_rows::<f32, _, K, C, NR, R>(w, cout, &x, &f, &zeros, &mut got, then);
        for (at, got) in got.iter().enumerate() {
            let (c, p) = (at % cout, at / cout);
            let index = [p / w.output[1] / w.output[0], p / w.output[1] % w.output[0], p % w.output[1], c];
            assert_eq!(got.to_bits(), then(old[at], expected[at], index).to_bits(), "{w:?} {cout} at {at}");
        }
        [Registers::Narrow, Registers::Wide, Registers::Many].map(|registers| {
            let mut got = std::vec![f32::NAN; pixels * cout];
            let conv = Conv { window: *w, outputs: cout, x: &x, filter: &f, zeros: &zeros };
            let out = &mut got[..];
            let taken =
                conv.fits(out.len()) && BandRows::<_, K, C, NR, R> { conv, out, then: Put(None) }.run(registers);
            if taken {
                for (i, (got, expected)) in got.iter().zip(&expected).enumerate() {
                    assert_eq!(got.to_bits(), expected.to_bits(), "{w:?} {cout} {registers:?} at {i}");
                }
            }
            taken
        })
    }

    #[test]
    #[cfg(feature = "std")]
    fn the_first_layers_kernel_has_the_definitions_bits() {
        // Every window, on the kernels' own shapes and others, or rows and output channels not
        // a multiple of the tile's (which go as `conv2d` does), with 16 or 32 output channels at
        // a time and rows of 8, 5, 4 or 3 pixels at a time.
        let mut windows: std::vec::Vec<Window> = windows().collect();
        windows.push(window((1, [6, 8], 1, [3, 3], [1, 1], [1, 1], true)));
        // Several bands: rows of 182 values, twenty output rows to a band of `BAND`.
        windows.push(window((2, [24, 180], 1, [3, 4], [1, 2], [1, 1], true)));
        let mut taken = [false; 3];
        for w in &windows {
            for cout in [16, 32, 48, 5] {
                for took in [
                    check_rows::<3, 3, 16, 8>(w, cout),
                    check_rows::<4, 1, 32, 5>(w, cout),
                    check_rows::<3, 1, 16, 4>(w, cout),
                    check_rows::<4, 1, 16, 3>(w, cout),
                    check_rows::<2, 3, 32, 3>(w, cout),
                ] {
                    for (any, took) in taken.iter_mut().zip(took) {
                        *any |= took;
                    }
                }
            }
        }
        // SSE2 and the Cortex-M go as `conv2d`; AVX2 and AVX-512 take some windows by bands.
        assert_eq!(taken, [false, true, true]);
    }

    #[test]
    fn the_store_applies_then_with_each_outputs_index() {
        // `then(old, value, [n, oh, ow, c])`, as the graph's ops after a convolution are fused.
        let then = indexed;
        for w in windows() {
            let (cin, cout) = (w.channels, 16);
            let x = values(w.batch * w.input[0] * w.input[1] * cin, 5);
            let f = values(w.taps() * cin * cout, 7);
            let len = w.batch * w.output[0] * w.output[1] * cout;
            let mut plain = [f32::NAN; MOST];
            definition(&w, cout, false, &x, &f, &mut plain);
            let filter = &f[..];
            let old = values(len, 9);
            let pointwise = Conv { window: w, outputs: cout, x: &x, filter, zeros: &[] }.pointwise();
            for own in [false, true].into_iter().take(1 + usize::from(pointwise)) {
                let mut got = old;
                match own {
                    false => conv2d(&w, cout, &x, filter, &[0.0; 128], &mut got[..len], then),
                    true => pointwise_conv2d(&w, cout, &x, filter, &mut got[..len], then),
                }
                let mut at = 0;
                for n in 0..w.batch {
                    for oh in 0..w.output[0] {
                        for ow in 0..w.output[1] {
                            for c in 0..cout {
                                let expected = then(old[at], plain[at], [n, oh, ow, c]);
                                assert_eq!(got[at].to_bits(), expected.to_bits(), "{w:?} {own} at {at}");
                                at += 1;
                            }
                        }
                    }
                }
            }
            // And depthwise, where the channels allow.
            if cin % 8 == 0 {
                let len = w.batch * w.output[0] * w.output[1] * cin;
                let mut plain = [f32::NAN; MOST];
                definition(&w, cin, true, &x, &f, &mut plain);
                let mut got = old;
                depthwise_conv2d(&w, &x, &f, &[0.0; 128], &mut got[..len], then);
                for (at, (&got, &plain)) in got[..len].iter().zip(&plain[..len]).enumerate() {
                    let c = at % cin;
                    let pixel = at / cin;
                    let (ow, oh, n) =
                        (pixel % w.output[1], pixel / w.output[1] % w.output[0], pixel / w.output[1] / w.output[0]);
                    assert_eq!(got.to_bits(), then(old[at], plain, [n, oh, ow, c]).to_bits(), "{w:?} at {at}");
                }
            }
        }
    }

    #[test]
    fn a_sum_of_negative_zeros_is_negative_zero() {
        // Zeros times negative weights: every term is -0, and so is a sum that starts from its
        // first term (one that started from +0 would give +0).
        for w in windows() {
            let cout = 16;
            let x = [0.0f32; MOST];
            let f = [-1.0f32; MOST];
            let len = w.batch * w.output[0] * w.output[1] * cout;
            let mut got = [f32::NAN; MOST];
            conv2d(&w, cout, &x, &f, &[0.0; 128], &mut got[..len], |_, value, _| value);
            assert!(got[..len].iter().all(|v| v.to_bits() == (-0.0f32).to_bits()), "{w:?}");
            if w.channels % 8 == 0 {
                let len = w.batch * w.output[0] * w.output[1] * w.channels;
                depthwise_conv2d(&w, &x, &f, &[0.0; 128], &mut got[..len], |_, value, _| value);
                assert!(got[..len].iter().all(|v| v.to_bits() == (-0.0f32).to_bits()), "{w:?}");
            }
        }
    }

    /// The filter's gradient, weight by weight, each sum in `sum`'s order nested as the macro's
    /// element code nests them, against the kernel's sixteen, eight and one at a time.
    #[test]
    fn a_filters_gradient_has_the_element_codes_bits() {
        for w in windows() {
            for cout in [16, 8, 5, 27] {
                let x = values(w.batch * w.input[0] * w.input[1] * w.channels, 13);
                let g = values(w.batch * w.output[0] * w.output[1] * cout, 17);
                let len = w.taps() * w.channels * cout;
                if len > MOST {
                    continue;
                }
                let mut got = [f32::NAN; MOST];
                conv2d_filter_gradient(&w, cout, &x, &g, &mut got[..len]);
                let mut at = 0;
                for kh in 0..w.kernel[0] {
                    for kw in 0..w.kernel[1] {
                        for ci in 0..w.channels {
                            for co in 0..cout {
                                let expected = crate::sum::sum(w.batch, |n| {
                                    crate::sum::sum(w.output[0], |oh| {
                                        crate::sum::sum_products(w.output[1], |ow| {
                                            let x = w
                                                .input_pixel(n, oh, ow, kh, kw)
                                                .map_or(0.0, |p| x[p * w.channels + ci]);
                                            (x, g[((n * w.output[0] + oh) * w.output[1] + ow) * cout + co])
                                        })
                                    })
                                });
                                assert_eq!(got[at].to_bits(), expected.to_bits(), "{w:?} {cout} at {at}");
                                at += 1;
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn too_short_operands_take_the_elementwise_path() {
        let w = windows().next().unwrap_or_else(|| unreachable!());
        let x = values(w.batch * w.input[0] * w.input[1] * w.channels, 1);
        let f = values(w.taps() * w.channels * 8, 2);
        let conv = Conv { window: w, outputs: 8, x: &x, filter: &f, zeros: &[0.0; 2] };
        assert!(!conv.fits(w.batch * w.output[0] * w.output[1] * 8));
    }
}
