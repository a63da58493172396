//! Convolution kernels over NHWC tensors: [`conv2d`] (`tf.nn.conv2d`) and [`depthwise_conv2d`]
//! (`tf.nn.depthwise_conv2d` with a channel multiplier of 1), for the sizes where the macro
//! chooses them (see `tfmacro/src/ops/conv.rs`).
//!
//! Every output is the sum over its window that the macro's element-by-element code and its
//! constant folder compute, term for term and in their order: the window's terms in the order
//! `(kh, kw, ci)`, summed in [`sum`]'s order (eight interleaved partial sums, combined pairwise,
//! then the rest left to right), as one dot product of an im2col row and a filter column:
//!
//! ```text
//! conv2d:    out[n, oh, ow, co] = sum over t = (kh, kw, ci) of x[n, ih, iw, ci] * f[kh, kw, ci, co]
//! depthwise: out[n, oh, ow, c]  = sum over t = (kh, kw)     of x[n, ih, iw, c]  * f[kh, kw, c, 0]
//! ```
//!
//! with `ih = oh * stride + kh * dilation - before` (and likewise for the width), where an input
//! index outside the image reads a zero that is multiplied as TensorFlow's padding is. A 1 × 1
//! convolution is so the matrix product `gemm` computes. These kernels give the bits of the code
//! they replace, on every instruction set and on a Cortex-M.
//!
//! What changes is how the work is laid out: a convolution is a matrix product whose left
//! operand's rows (the im2col rows, one per output pixel) are read in place. [`conv2d`] reads its
//! filter packed by output channel ([`pack`]: each output channel's window contiguous, in the
//! order its sum takes it), so that a tile of `MR` pixels by `NR` output channels keeps each
//! output's eight partial sums in one vector register: eight terms of a pixel (eight input
//! channels of one tap) and eight weights of an output channel are read as one vector each,
//! feed `NR` (or `MR`) outputs, and the partial sums are combined once per output, at the end.
//! Which input pixel a tap reads, or a line of zeros in the padding, is decided once per pixel
//! and tap, not once per term. Input channels that are not a multiple of eight (a first layer's
//! three colours) are gathered a tile of windows at a time into patches on the stack.
//! [`depthwise_conv2d`] keeps eight channels of `MR` pixels side by side. The tiles' shapes fit
//! the registers of the instruction set [`best`] picks.
//!
//! [`sum`]: crate::sum::sum

use crate::dispatch::{best, Kernel, Registers};
use crate::elem::Float;
use crate::sum::sum;

/// The most taps of a window [`depthwise_conv2d`]'s tiles take (a 3 × 3 window has nine):
/// beyond, output by output.
const TAPS: usize = 15;

/// [`Depthwise::reads`]' mark of a tap in the padding.
const NO_PIXEL: usize = usize::MAX;

/// Output channels side by side in a tile: the kernels take output channels a multiple of this.
pub const LANES: usize = 8;

/// How many of `sum`'s eight partial sums a tile of [`Conv::patch_tile`] keeps in registers at
/// a time.
const PASS: usize = 4;

/// The most terms (taps × input channels) of a window that [`conv2d`] gathers into a patch on
/// the stack, for input channels that are not a multiple of eight (a first layer's 3 × 3 × 3).
const PATCH: usize = 256;

/// The sizes of a convolution: an NHWC input `[batch, input[0], input[1], channels]` and a window
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

/// Eight output channels of `MR` pixels.
type Tile<T, const MR: usize> = [[T; LANES]; MR];

/// `total += term`, output by output.
#[inline(always)]
fn add_into<T: Float, const MR: usize>(total: &mut Tile<T, MR>, term: &Tile<T, MR>) {
    for (t, x) in total.iter_mut().zip(term) {
        for (t, &x) in t.iter_mut().zip(x) {
            *t = t.add(x);
        }
    }
}

/// How a [`conv2d`]'s filter is laid out.
#[derive(Clone, Copy, Debug)]
pub enum Filter<'a, T> {
    /// Packed by output channel ([`pack`]), for input channels a multiple of eight.
    Packed(&'a [T]),
    /// TensorFlow's layout, `[kernel[0], kernel[1], channels, outputs]`, for other input
    /// channels (a first layer's three colours) and output channels a multiple of eight.
    Tensorflow(&'a [T]),
}

/// `tf.nn.conv2d`: writes `out` (`[batch, output[0], output[1], outputs]`, row-major) from `x`
/// (`[batch, input[0], input[1], channels]`) and `filter`, with the bits the module's
/// documentation gives, each output through `then` (see `Store::store`; `|_, value, _| value` for the
/// convolution alone). `zeros` holds at least `channels` zeros: the line a tap in the padding
/// reads.
///
/// Through tiles of pixels and output channels where the filter's layout suits the sizes (see
/// [`Filter`]) and every slice is long enough; otherwise output by output through [`sum`], which
/// panics at the first index outside a slice, as indexing does.
pub fn conv2d<T: Float, E: Fn(T, T, [usize; 4]) -> T>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: Filter<'_, T>,
    zeros: &[T],
    out: &mut [T],
    then: E,
) {
    convolve(window, outputs, x, filter, zeros, out, &Then(then))
}

/// [`conv2d`], its store through a trait object: the kernel is compiled once per element type,
/// not once per closure (a closure type per convolution of a graph made ResNet-8's example build
/// ten times as long).
fn convolve<T: Float>(
    window: &Window,
    outputs: usize,
    x: &[T],
    filter: Filter<'_, T>,
    zeros: &[T],
    out: &mut [T],
    then: &dyn Store<T>,
) {
    let conv = Conv { window: *window, outputs, x, filter, zeros };
    if conv.fits(out.len()) {
        best(ConvTiles { conv, out, then })
    } else {
        conv.by_element(out, then)
    }
}

/// How a kernel stores the outputs of one pixel: through the closure the graph's elementwise ops
/// after the convolution make ([`Then`]).
trait Store<T> {
    /// Writes `values`, output channels `c..` of output pixel `(n, oh, ow)`, at `out[at..]`.
    fn store(&self, out: &mut [T], at: usize, values: &[T], index: [usize; 4]);
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

/// `filter`, a convolution's filter in TensorFlow's layout (`[kernel[0], kernel[1], channels,
/// outputs]`: `terms = kernel[0] * kernel[1] * channels` rows of `outputs`), laid out as
/// [`conv2d`] reads it: output channel by output channel, each one's `terms` weights in the
/// order its sum takes them, `packed[co * terms + t] = filter[t * outputs + co]`. The macro lays
/// out a constant filter so when the graph compiles; another is packed when the fetch runs.
/// Copies what both slices hold.
pub fn pack<T: Copy>(terms: usize, outputs: usize, filter: &[T], packed: &mut [T]) {
    if outputs == 0 {
        return;
    }
    for (t, row) in filter.chunks_exact(outputs).take(terms).enumerate() {
        for (co, &value) in row.iter().enumerate() {
            if let Some(slot) = packed.get_mut(co * terms + t) {
                *slot = value;
            }
        }
    }
}

/// The operands of one [`conv2d`].
#[derive(Clone, Copy)]
struct Conv<'a, T> {
    window: Window,
    outputs: usize,
    x: &'a [T],
    filter: Filter<'a, T>,
    zeros: &'a [T],
}

impl<T: Float> Conv<'_, T> {
    /// The terms of each output's sum: taps × input channels.
    fn terms(&self) -> usize {
        self.window.taps() * self.window.channels
    }

    /// Whether the tiles apply: operands holding every element the sizes say, and a layout of
    /// the filter that suits the sizes ([`Filter`]).
    fn fits(&self, out_len: usize) -> bool {
        let w = &self.window;
        let sizes = || {
            let (pixels_in, pixels_out) = w.pixels()?;
            let filter = w.taps().checked_mul(w.channels)?.checked_mul(self.outputs)?;
            Some((pixels_in.checked_mul(w.channels)?, filter, pixels_out.checked_mul(self.outputs)?))
        };
        let Some((x, filter, out)) = sizes() else { return false };
        let layout = match self.filter {
            Filter::Packed(f) => w.channels.is_multiple_of(8) && f.len() >= filter,
            Filter::Tensorflow(f) => self.outputs.is_multiple_of(LANES) && self.terms() <= PATCH && f.len() >= filter,
        };
        layout && self.x.len() >= x && out_len >= out && self.zeros.len() >= w.channels
    }

    /// Every output through [`sum`], in the order the module's documentation gives.
    fn by_element(&self, out: &mut [T], then: &dyn Store<T>) {
        let (w, cout, cin, terms) = (&self.window, self.outputs, self.window.channels, self.terms());
        let mut at = 0;
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                for ow in 0..w.output[1] {
                    for co in 0..cout {
                        let value = sum(terms, |t| {
                            let (tap, ci) = (t / cin, t % cin);
                            let pixel = w.input_pixel(n, oh, ow, tap / w.kernel[1], tap % w.kernel[1]);
                            let x = pixel.map_or(T::ZERO, |p| self.x[p * cin + ci]);
                            x * match self.filter {
                                Filter::Packed(f) => f[co * terms + t],
                                Filter::Tensorflow(f) => f[t * cout + co],
                            }
                        });
                        then.store(out, at, &[value], [n, oh, ow, co]);
                        at += 1;
                    }
                }
            }
        }
    }

    /// The lines of input channels that tap `tap` reads for pixels `ow..ow + MR` of output row
    /// `(n, oh)`, as runs of eight: a pixel's, or zeros in the padding.
    #[inline(always)]
    fn runs<const MR: usize>(&self, n: usize, oh: usize, ow: usize, tap: usize) -> [&[[T; 8]]; MR] {
        let w = &self.window;
        let runs = w.channels / 8;
        let (kh, kw) = (tap / w.kernel[1], tap % w.kernel[1]);
        let mut lines: [&[[T; 8]]; MR] = [&[]; MR];
        for (r, line) in lines.iter_mut().enumerate() {
            let x = match w.input_pixel(n, oh, ow + r, kh, kw) {
                Some(pixel) => &self.x[pixel * w.channels..],
                None => self.zeros,
            };
            *line = &x.as_chunks::<8>().0[..runs];
        }
        lines
    }

    /// Every output, for input channels a multiple of eight: for each `NR` output channels,
    /// every pixel of the output through [`Conv::runs_tile`], `MR` at a time (so that the `NR`
    /// channels' weights stay in the nearest cache while the pixels go by).
    #[inline(always)]
    fn by_runs<const MR: usize, const NR: usize>(&self, out: &mut [T], then: &dyn Store<T>) {
        let (w, cout) = (&self.window, self.outputs);
        let mut co = 0;
        while co < cout {
            let wide = co + NR <= cout;
            for n in 0..w.batch {
                for oh in 0..w.output[0] {
                    let row_start = (n * w.output[0] + oh) * w.output[1];
                    let mut ow = 0;
                    while ow + MR <= w.output[1] && wide {
                        for (r, values) in self.runs_tile::<MR, NR>(n, oh, ow, co).into_iter().enumerate() {
                            then.store(out, (row_start + ow + r) * cout + co, &values, [n, oh, ow + r, co]);
                        }
                        ow += MR;
                    }
                    while ow < w.output[1] {
                        let at = (row_start + ow) * cout + co;
                        if wide {
                            let [values] = self.runs_tile::<1, NR>(n, oh, ow, co);
                            then.store(out, at, &values, [n, oh, ow, co]);
                        } else {
                            let [values] = self.runs_tile::<1, 1>(n, oh, ow, co);
                            then.store(out, at, &values, [n, oh, ow, co]);
                        }
                        ow += 1;
                    }
                }
            }
            co += if wide { NR } else { 1 };
        }
    }

    /// Output channels `co..co + NR` of pixels `ow..ow + MR` of output row `(n, oh)`, for input
    /// channels a multiple of eight: tap by tap, each pixel's input channels eight at a time
    /// against each output channel's weights.
    #[inline(always)]
    fn runs_tile<const MR: usize, const NR: usize>(&self, n: usize, oh: usize, ow: usize, co: usize) -> [[T; NR]; MR] {
        let (taps, runs) = (self.window.taps(), self.window.channels / 8);
        let (Filter::Packed(packed) | Filter::Tensorflow(packed)) = self.filter;
        let packed = packed.as_chunks::<8>().0;
        // Each output channel's weights, every tap's run after run.
        let mut windows: [&[[T; 8]]; NR] = [&[]; NR];
        for (s, window) in windows.iter_mut().enumerate() {
            *window = &packed[(co + s) * taps * runs..][..taps * runs];
        }
        let mut acc = [[[T::ZERO; 8]; NR]; MR];
        // With every tap of every pixel inside the image, tap `(kh, kw)` of pixel `r` starts a
        // fixed distance after the pixel's first tap: no padding to decide, tap by tap.
        let inside = self.inside::<MR>(n, oh, ow);
        let w = &self.window;
        let (row_step, tap_step) = (w.dilations[0] * w.input[1] * w.channels, w.dilations[1] * w.channels);
        let (mut kw, mut offset) = (0, 0);
        for tap in 0..taps {
            let x = match inside {
                Some(starts) => {
                    let mut x: [&[[T; 8]]; MR] = [&[]; MR];
                    for (line, &start) in x.iter_mut().zip(&starts) {
                        *line = &self.x[start + offset..].as_chunks::<8>().0[..runs];
                    }
                    x
                }
                None => self.runs::<MR>(n, oh, ow, tap),
            };
            kw += 1;
            offset += tap_step;
            if kw == w.kernel[1] {
                kw = 0;
                offset += row_step - w.kernel[1] * tap_step;
            }
            let mut f: [&[[T; 8]]; NR] = [&[]; NR];
            for (line, window) in f.iter_mut().zip(&windows) {
                *line = &window[tap * runs..][..runs];
            }
            accumulate(&mut acc, x, f);
        }
        combined(acc)
    }

    /// Where the first tap of pixels `ow..ow + MR` of output row `(n, oh)` starts in the input,
    /// if every tap of their windows lies inside the image (no padding); `None` otherwise.
    #[inline(always)]
    fn inside<const MR: usize>(&self, n: usize, oh: usize, ow: usize) -> Option<[usize; MR]> {
        let w = &self.window;
        let ih = (oh * w.strides[0]).checked_sub(w.before[0])?;
        let iw = (ow * w.strides[1]).checked_sub(w.before[1])?;
        let last_h = ih + (w.kernel[0].checked_sub(1)?) * w.dilations[0];
        let last_w = iw + (MR - 1) * w.strides[1] + (w.kernel[1].checked_sub(1)?) * w.dilations[1];
        if last_h >= w.input[0] || last_w >= w.input[1] {
            return None;
        }
        let first = ((n * w.input[0] + ih) * w.input[1] + iw) * w.channels;
        let mut starts = [0; MR];
        for (r, start) in starts.iter_mut().enumerate() {
            *start = first + r * w.strides[1] * w.channels;
        }
        Some(starts)
    }

    /// Every output, for a filter in TensorFlow's layout, output channels a multiple of eight
    /// and windows of at most [`PATCH`] terms: the windows of `MR` pixels gathered into patches
    /// on the stack (im2col, a tile at a time), then each group of eight output channels through
    /// [`Conv::patch_tile`].
    #[inline(always)]
    fn by_patches<const MR: usize>(&self, filter: &[T], out: &mut [T], then: &dyn Store<T>) {
        let w = &self.window;
        let (groups, cout) = (self.outputs / LANES, self.outputs);
        let rows = filter.as_chunks::<LANES>().0;
        let (mut patches, mut patch) = ([[T::ZERO; PATCH]; MR], [[T::ZERO; PATCH]; 1]);
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                let row_start = (n * w.output[0] + oh) * w.output[1];
                let mut ow = 0;
                while ow + MR <= w.output[1] {
                    self.gather(n, oh, ow, &mut patches);
                    for g in 0..groups {
                        for (r, values) in self.patch_tile(rows, &patches, g).into_iter().enumerate() {
                            let index = [n, oh, ow + r, g * LANES];
                            then.store(out, (row_start + ow + r) * cout + g * LANES, &values, index);
                        }
                    }
                    ow += MR;
                }
                while ow < w.output[1] {
                    self.gather(n, oh, ow, &mut patch);
                    for g in 0..groups {
                        let [values] = self.patch_tile(rows, &patch, g);
                        then.store(out, (row_start + ow) * cout + g * LANES, &values, [n, oh, ow, g * LANES]);
                    }
                    ow += 1;
                }
            }
        }
    }

    /// The windows of pixels `ow..ow + MR` of output row `(n, oh)`, each term `(kh, kw, ci)` in
    /// its order, into `patches`.
    #[inline(always)]
    fn gather<const MR: usize>(&self, n: usize, oh: usize, ow: usize, patches: &mut [[T; PATCH]; MR]) {
        let w = &self.window;
        let cin = w.channels;
        for (r, patch) in patches.iter_mut().enumerate() {
            let (mut kh, mut kw) = (0, 0);
            for terms in patch[..self.terms()].chunks_exact_mut(cin) {
                let x = match w.input_pixel(n, oh, ow + r, kh, kw) {
                    Some(pixel) => &self.x[pixel * cin..][..cin],
                    None => &self.zeros[..cin],
                };
                // A tap of a few channels (one, three) one by one, in a loop of a fixed count: a
                // copy of a run-time length is a call to `memcpy`, which took a sixth of keyword
                // spotting's first layer's time.
                if cin <= 4 {
                    for i in 0..4 {
                        if i < cin {
                            terms[i] = x[i];
                        }
                    }
                } else {
                    terms.copy_from_slice(x);
                }
                kw += 1;
                if kw == w.kernel[1] {
                    (kh, kw) = (kh + 1, 0);
                }
            }
        }
    }

    /// Output channels `g * 8..` of the windows gathered in `patches`, `rows` the filter as rows
    /// of eight output channels (row `t` of the `[terms, outputs]` matrix, channels `g * 8..`, at
    /// `rows[t * outputs / 8 + g]`): term `t` in lane `t % 8` of `sum`'s eight partial sums, each
    /// a vector of eight output channels summing each term (broadcast) times its row, then the
    /// last `terms % 8` left to right. [`PASS`] lanes are summed in one pass over the patch, as
    /// `gemm`'s panels are.
    #[inline(always)]
    fn patch_tile<const MR: usize>(&self, rows: &[[T; LANES]], patches: &[[T; PATCH]; MR], g: usize) -> Tile<T, MR> {
        let terms = self.terms();
        let stride = self.outputs / LANES;
        let rows = &rows[g..];
        let full = terms / 8 * 8;
        let mut lanes = [[[T::ZERO; LANES]; 8]; MR];
        for pass in (0..8).step_by(PASS) {
            let mut sums = [[[T::ZERO; LANES]; PASS]; MR];
            for q in 0..full / 8 {
                for d in 0..PASS {
                    let t = q * 8 + pass + d;
                    let row = &rows[t * stride];
                    for (sums_r, patch) in sums.iter_mut().zip(patches) {
                        let x = patch[t];
                        for (s, &f) in sums_r[d].iter_mut().zip(row) {
                            *s = s.add(x * f);
                        }
                    }
                }
            }
            for (lanes_r, sums_r) in lanes.iter_mut().zip(&sums) {
                lanes_r[pass..pass + PASS].copy_from_slice(sums_r);
            }
        }
        let mut out = [[T::ZERO; LANES]; MR];
        for (total, lanes) in out.iter_mut().zip(&lanes) {
            let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
            for s in 0..LANES {
                let left = l0[s].add(l1[s]).add(l2[s].add(l3[s]));
                total[s] = left.add(l4[s].add(l5[s]).add(l6[s].add(l7[s])));
            }
        }
        let mut t = full;
        if full == 0 && terms > 0 {
            for (total, patch) in out.iter_mut().zip(patches) {
                for (s, &f) in total.iter_mut().zip(&rows[0]) {
                    *s = patch[0] * f;
                }
            }
            t = 1;
        }
        while t < terms {
            for (total, patch) in out.iter_mut().zip(patches) {
                for (s, &f) in total.iter_mut().zip(&rows[t * stride]) {
                    *s = s.add(patch[t] * f);
                }
            }
            t += 1;
        }
        out
    }
}

/// `acc[r][s][l] += x[r][q][l] * f[s][q][l]` for every run `q`: lane `l` of output `(r, s)`
/// sums the products of terms `l`, `l + 8`... in order, as `sum`'s partial sums do.
#[inline(always)]
fn accumulate<T: Float, const MR: usize, const NR: usize>(
    acc: &mut [[[T; 8]; NR]; MR],
    x: [&[[T; 8]]; MR],
    f: [&[[T; 8]]; NR],
) {
    // Every line cut to the same length, so that indexing by `q` needs no bounds check (and no
    // closure, which would be compiled apart from `best`'s build for this CPU).
    let mut runs = usize::MAX;
    for line in &x {
        runs = runs.min(line.len());
    }
    for line in &f {
        runs = runs.min(line.len());
    }
    let (mut x, mut f) = (x, f);
    for line in &mut x {
        *line = &line[..runs];
    }
    for line in &mut f {
        *line = &line[..runs];
    }
    for q in 0..runs {
        for (acc_r, x_r) in acc.iter_mut().zip(&x) {
            let x = &x_r[q];
            for (acc_rs, f_s) in acc_r.iter_mut().zip(&f) {
                let f = &f_s[q];
                for l in 0..8 {
                    acc_rs[l] = acc_rs[l].add(x[l] * f[l]);
                }
            }
        }
    }
}

/// Each output's eight partial sums combined pairwise, as `sum` combines them, written as vector
/// additions across the tile's outputs (lane `l` of every output side by side). Never inlined:
/// inlined, LLVM lays out the partial sums for this combination and computes them a lane at a
/// time (ResNet-8 7.1 ms against 1.0, measured), as `gemm` notes for its tiles.
#[inline(never)]
fn combined<T: Float, const MR: usize, const NR: usize>(acc: [[[T; 8]; NR]; MR]) -> [[T; NR]; MR] {
    let mut lanes = [[[T::ZERO; NR]; MR]; 8];
    for (l, lane) in lanes.iter_mut().enumerate() {
        for (lane_r, acc_r) in lane.iter_mut().zip(&acc) {
            for (value, acc_rs) in lane_r.iter_mut().zip(acc_r) {
                *value = acc_rs[l];
            }
        }
    }
    let pair = |mut a: [[T; NR]; MR], b: &[[T; NR]; MR]| {
        for (a, b) in a.iter_mut().zip(b) {
            for (a, &b) in a.iter_mut().zip(b) {
                *a = a.add(b);
            }
        }
        a
    };
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    let left = pair(pair(l0, &l1), &pair(l2, &l3));
    let right = pair(pair(l4, &l5), &pair(l6, &l7));
    pair(left, &right)
}

/// [`conv2d`]'s tiles, for [`best`].
struct ConvTiles<'a, 'o, T> {
    conv: Conv<'a, T>,
    out: &'o mut [T],
    then: &'o dyn Store<T>,
}

impl<T: Float> Kernel for ConvTiles<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, registers: Registers) {
        // Each tile keeps `MR × NR` vectors of eight partial sums, and reads `MR + NR` vectors
        // of terms per run.
        let (conv, out, then) = (self.conv, self.out, self.then);
        match conv.filter {
            Filter::Packed(_) => match registers {
                Registers::Narrow => conv.by_runs::<1, 4>(out, then),
                Registers::Wide => conv.by_runs::<2, 4>(out, then),
                Registers::Many => conv.by_runs::<4, 4>(out, then),
            },
            Filter::Tensorflow(filter) => match registers {
                Registers::Narrow => conv.by_patches::<1>(filter, out, then),
                Registers::Wide => conv.by_patches::<3>(filter, out, then),
                Registers::Many => conv.by_patches::<4>(filter, out, then),
            },
        }
    }
}

/// `tf.nn.depthwise_conv2d` with a channel multiplier of 1: writes `out` (`[batch, output[0],
/// output[1], channels]`, row-major) from `x` (`[batch, input[0], input[1], channels]`) and
/// `filter` (`[kernel[0], kernel[1], channels, 1]`), with the bits the module's documentation
/// gives, each output through `then`, as [`conv2d`]'s.
///
/// With `channels` a multiple of `LANES` (8) and every slice long enough, through tiles of
/// `LANES` channels; otherwise output by output through [`sum`], which panics at the first
/// index outside a slice, as indexing does.
pub fn depthwise_conv2d<T: Float, E: Fn(T, T, [usize; 4]) -> T>(
    window: &Window,
    x: &[T],
    filter: &[T],
    out: &mut [T],
    then: E,
) {
    depthwise(window, x, filter, out, &Then(then))
}

/// [`depthwise_conv2d`], its store through a trait object, as [`convolve`]'s.
fn depthwise<T: Float>(window: &Window, x: &[T], filter: &[T], out: &mut [T], then: &dyn Store<T>) {
    let conv = Depthwise { window: *window, x, filter };
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
}

impl<T: Float> Depthwise<'_, T> {
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
            && out_len >= out
    }

    /// Every output through [`sum`], in the order the module's documentation gives.
    fn by_element(&self, out: &mut [T], then: &dyn Store<T>) {
        let (w, c) = (&self.window, self.window.channels);
        let mut at = 0;
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                for ow in 0..w.output[1] {
                    for ci in 0..c {
                        let value = sum(w.taps(), |tap| {
                            let pixel = w.input_pixel(n, oh, ow, tap / w.kernel[1], tap % w.kernel[1]);
                            let x = pixel.map_or(T::ZERO, |p| self.x[p * c + ci]);
                            x * self.filter[tap * c + ci]
                        });
                        then.store(out, at, &[value], [n, oh, ow, ci]);
                        at += 1;
                    }
                }
            }
        }
    }

    /// Every output, `MR` pixels at a time (the last few of a row one at a time): where each
    /// tap of each pixel reads the input (or the padding) worked out once, then every group of
    /// eight channels through [`Depthwise::depthwise_tile`].
    #[inline(always)]
    fn depthwise_rows<const MR: usize>(&self, out: &mut [T], then: &dyn Store<T>) {
        let w = &self.window;
        let (groups, c) = (w.channels / LANES, w.channels);
        let (mut reads, mut read) = ([[NO_PIXEL; MR]; TAPS], [[NO_PIXEL; 1]; TAPS]);
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                let row_start = (n * w.output[0] + oh) * w.output[1];
                let mut ow = 0;
                while ow + MR <= w.output[1] {
                    self.reads(n, oh, ow, &mut reads);
                    for g in 0..groups {
                        for (r, values) in self.depthwise_tile(&reads, g).into_iter().enumerate() {
                            let index = [n, oh, ow + r, g * LANES];
                            then.store(out, (row_start + ow + r) * c + g * LANES, &values, index);
                        }
                    }
                    ow += MR;
                }
                while ow < w.output[1] {
                    self.reads(n, oh, ow, &mut read);
                    for g in 0..groups {
                        let [values] = self.depthwise_tile(&read, g);
                        then.store(out, (row_start + ow) * c + g * LANES, &values, [n, oh, ow, g * LANES]);
                    }
                    ow += 1;
                }
            }
        }
    }

    /// The input pixel (in groups of eight channels) that each tap reads for pixels
    /// `ow..ow + MR` of output row `(n, oh)`, [`NO_PIXEL`] in the padding.
    #[inline(always)]
    fn reads<const MR: usize>(&self, n: usize, oh: usize, ow: usize, reads: &mut [[usize; MR]; TAPS]) {
        let w = &self.window;
        let groups = w.channels / LANES;
        for (tap, reads) in reads.iter_mut().enumerate().take(w.taps()) {
            let (kh, kw) = (tap / w.kernel[1], tap % w.kernel[1]);
            for (r, read) in reads.iter_mut().enumerate() {
                *read = w.input_pixel(n, oh, ow + r, kh, kw).map_or(NO_PIXEL, |pixel| pixel * groups);
            }
        }
    }

    /// Channels `g * 8..` of the `MR` pixels whose taps read `reads`: the taps' terms summed in
    /// [`sum`]'s order, written out for windows of fewer than sixteen taps (where each of its
    /// eight partial sums is one term, so that a 3 × 3 window's sum is straight-line code in
    /// registers: `((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))`, then `+ t8`).
    #[inline(always)]
    fn depthwise_tile<const MR: usize>(&self, reads: &[[usize; MR]; TAPS], g: usize) -> Tile<T, MR> {
        let taps = self.window.taps();
        let mut first = 1;
        let mut total = if taps >= 8 {
            // The first eight partial sums, each `0 + term`, combined pairwise.
            let (mut left, mut right) = (self.pair(reads, g, 0), self.pair(reads, g, 4));
            add_into(&mut left, &self.pair(reads, g, 2));
            add_into(&mut right, &self.pair(reads, g, 6));
            add_into(&mut left, &right);
            first = 8;
            left
        } else if taps > 0 {
            self.term(reads, g, 0)
        } else {
            return [[T::ZERO; LANES]; MR];
        };
        for tap in first..taps {
            add_into(&mut total, &self.term(reads, g, tap));
        }
        total
    }

    /// Tap `tap`'s products for [`Depthwise::depthwise_tile`]: input times weight, eight channels
    /// of `MR` pixels.
    #[inline(always)]
    fn term<const MR: usize>(&self, reads: &[[usize; MR]; TAPS], g: usize, tap: usize) -> Tile<T, MR> {
        let groups = self.window.channels / LANES;
        // Pixels, and the filter's taps, as groups of eight channels.
        let (x, filter) = (self.x.as_chunks::<LANES>().0, self.filter.as_chunks::<LANES>().0);
        let f = &filter[tap * groups + g];
        let mut term = [[T::ZERO; LANES]; MR];
        for (term, &read) in term.iter_mut().zip(&reads[tap]) {
            if read == NO_PIXEL {
                // A zero of the padding times the weight, as TensorFlow multiplies it.
                for (t, &f) in term.iter_mut().zip(f) {
                    *t = T::ZERO * f;
                }
            } else {
                for ((t, &x), &f) in term.iter_mut().zip(&x[read + g]).zip(f) {
                    *t = x * f;
                }
            }
        }
        term
    }

    /// `(0 + term(tap)) + (0 + term(tap + 1))`: two of `sum`'s partial sums after their first
    /// term, combined.
    #[inline(always)]
    fn pair<const MR: usize>(&self, reads: &[[usize; MR]; TAPS], g: usize, tap: usize) -> Tile<T, MR> {
        let (mut a, mut b) = ([[T::ZERO; LANES]; MR], [[T::ZERO; LANES]; MR]);
        add_into(&mut a, &self.term(reads, g, tap));
        add_into(&mut b, &self.term(reads, g, tap + 1));
        add_into(&mut a, &b);
        a
    }
}

/// [`depthwise_conv2d`]'s tiles, for [`best`].
struct DepthwiseTiles<'a, 'o, T> {
    conv: Depthwise<'a, T>,
    out: &'o mut [T],
    then: &'o dyn Store<T>,
}

impl<T: Float> Kernel for DepthwiseTiles<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, registers: Registers) {
        match registers {
            Registers::Narrow => self.conv.depthwise_rows::<1>(self.out, self.then),
            Registers::Wide => self.conv.depthwise_rows::<2>(self.out, self.then),
            Registers::Many => self.conv.depthwise_rows::<4>(self.out, self.then),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values whose sums round differently in different orders, some negative and some zero.
    fn values(len: usize, seed: usize) -> [f32; 8192] {
        core::array::from_fn(|i| {
            if i >= len {
                return f32::NAN;
            }
            let i = i + seed;
            ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e3 - 3.0e3 + 1.0 / (i % 13 + 1) as f32
        })
    }

    /// TensorFlow's window for one axis: `(output, before)`.
    fn axis(input: usize, kernel: usize, stride: usize, dilation: usize, same: bool) -> (usize, usize) {
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
            (2, [3, 3], 24, [3, 3], [1, 1], [1, 1], true),
            (1, [6, 7], 8, [2, 5], [1, 1], [1, 1], true),
            (1, [5, 5], 13, [5, 5], [1, 1], [1, 1], true),
            (1, [9, 6], 8, [4, 4], [2, 1], [1, 1], false),
        ];
        cases.into_iter().map(|(batch, input, channels, kernel, strides, dilations, same)| {
            let ax = |a: usize| axis(input[a], kernel[a], strides[a], dilations[a], same);
            let ((oh, bh), (ow, bw)) = (ax(0), ax(1));
            Window { batch, input, channels, kernel, strides, dilations, before: [bh, bw], output: [oh, ow] }
        })
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
                        // The window's terms in the order (kh, kw, ci), summed in `sum`'s order.
                        let (kw_n, terms) = (w.kernel[1], if depthwise { 1 } else { cin });
                        out[at] = sum(w.kernel[0] * kw_n * terms, |t| {
                            let (kh, kw, ci) = (t / terms / kw_n, t / terms % kw_n, t % terms);
                            if depthwise {
                                x_at(kh, kw, co) * f[(kh * kw_n + kw) * cin + co]
                            } else {
                                x_at(kh, kw, ci) * f[((kh * kw_n + kw) * cin + ci) * cout + co]
                            }
                        });
                        at += 1;
                    }
                }
            }
        }
    }

    /// The kernel's outputs against the definition's, to the bit: a convolution with its filter
    /// in either layout (`packed`), or a depthwise one; through `best`, or through the tiles for
    /// `registers` where they apply.
    fn check(w: &Window, cout: usize, depthwise: bool, packed: bool, registers: Option<Registers>) {
        let x = values(w.batch * w.input[0] * w.input[1] * w.channels, 3);
        let f = values(w.taps() * w.channels * cout, 11);
        let zeros = [0.0f32; 64];
        let len = w.batch * w.output[0] * w.output[1] * cout;
        let (mut got, mut expected) = ([f32::NAN; 8192], [f32::NAN; 8192]);
        definition(w, cout, depthwise, &x, &f, &mut expected);
        let mut in_packs = [f32::NAN; 8192];
        pack(w.taps() * w.channels, cout, &f, &mut in_packs);
        let filter = if packed { Filter::Packed(&in_packs[..]) } else { Filter::Tensorflow(&f[..]) };
        match (depthwise, registers) {
            (false, None) => conv2d(w, cout, &x, filter, &zeros, &mut got[..len], |_, value, _| value),
            (true, None) => depthwise_conv2d(w, &x, &f, &mut got[..len], |_, value, _| value),
            (false, Some(r)) => {
                let conv = Conv { window: *w, outputs: cout, x: &x, filter, zeros: &zeros };
                if !conv.fits(len) {
                    return;
                }
                ConvTiles { conv, out: &mut got[..len], then: &Then(|_, value, _| value) }.run(r)
            }
            (true, Some(r)) => {
                let conv = Depthwise { window: *w, x: &x, filter: &f };
                if !conv.fits(len) {
                    return;
                }
                DepthwiseTiles { conv, out: &mut got[..len], then: &Then(|_, value, _| value) }.run(r)
            }
        }
        for i in 0..len {
            let case = (w, cout, depthwise, packed, registers, i);
            assert_eq!(got[i].to_bits(), expected[i].to_bits(), "{case:?}");
        }
    }

    #[test]
    fn convolutions_have_the_definitions_bits() {
        for w in windows() {
            for cout in [8, 16, 5, 6] {
                check(&w, cout, false, true, None);
                check(&w, cout, false, false, None);
            }
            check(&w, w.channels, true, false, None);
        }
    }

    #[test]
    fn every_tile_shape_gives_the_same_bits() {
        for w in windows() {
            for registers in [Registers::Narrow, Registers::Wide, Registers::Many] {
                for packed in [true, false] {
                    check(&w, 16, false, packed, Some(registers));
                    check(&w, 6, false, packed, Some(registers));
                }
                check(&w, w.channels, true, false, Some(registers));
            }
        }
    }

    #[test]
    fn the_store_applies_then_with_each_outputs_index() {
        // `then(old, value, [n, oh, ow, c])`, as the graph's ops after a convolution are fused.
        let then =
            |old: f32, value: f32, [n, oh, ow, c]: [usize; 4]| old * 0.5 + value + (n + 2 * oh + 3 * ow + 5 * c) as f32;
        for w in windows() {
            let (cin, cout) = (w.channels, 16);
            let x = values(w.batch * w.input[0] * w.input[1] * cin, 5);
            let f = values(w.taps() * cin * cout, 7);
            let len = w.batch * w.output[0] * w.output[1] * cout;
            let mut plain = [f32::NAN; 8192];
            definition(&w, cout, false, &x, &f, &mut plain);
            let mut in_packs = [f32::NAN; 8192];
            pack(w.taps() * cin, cout, &f, &mut in_packs);
            let filter = if cin % 8 == 0 { Filter::Packed(&in_packs[..]) } else { Filter::Tensorflow(&f[..]) };
            let old = values(len, 9);
            let mut got = old;
            conv2d(&w, cout, &x, filter, &[0.0; 64], &mut got[..len], then);
            let mut at = 0;
            for n in 0..w.batch {
                for oh in 0..w.output[0] {
                    for ow in 0..w.output[1] {
                        for c in 0..cout {
                            let expected = then(old[at], plain[at], [n, oh, ow, c]);
                            assert_eq!(got[at].to_bits(), expected.to_bits(), "{w:?} at {at}");
                            at += 1;
                        }
                    }
                }
            }
            // And depthwise, where the channels allow.
            if cin % 8 == 0 {
                let len = w.batch * w.output[0] * w.output[1] * cin;
                let mut plain = [f32::NAN; 8192];
                definition(&w, cin, true, &x, &f, &mut plain);
                let mut got = old;
                depthwise_conv2d(&w, &x, &f, &mut got[..len], then);
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
    fn too_short_operands_take_the_elementwise_path() {
        let w = windows().next().unwrap_or_else(|| unreachable!());
        let x = values(w.batch * w.input[0] * w.input[1] * w.channels, 1);
        let f = values(w.taps() * w.channels * 8, 2);
        let conv = Conv { window: w, outputs: 8, x: &x, filter: Filter::Tensorflow(&f), zeros: &[0.0; 2] };
        assert!(!conv.fits(w.batch * w.output[0] * w.output[1] * 8));
    }

    #[test]
    fn packing_puts_each_output_channels_window_together() {
        // Two taps of three channels, two outputs: rows t = 0..6 of `[t, co]`.
        let filter: [u8; 12] = core::array::from_fn(|i| i as u8);
        let mut packed = [0u8; 12];
        pack(6, 2, &filter, &mut packed);
        assert_eq!(packed, [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]);
    }
}
