//! Pooling kernels over NHWC tensors: [`avg_pool2d`] (`tf.nn.avg_pool`) and [`max_pool2d`]
//! (`tf.nn.max_pool`), for the sizes where the macro chooses them (see `tfmacro/src/ops/pool.rs`).
//!
//! Each output is what the macro's element-by-element code and its constant folder compute, in
//! their order, so the bits are theirs on every instruction set and on a Cortex-M:
//!
//! ```text
//! avg_pool: out[n, oh, ow, c] = (sum over kh of (sum over kw of x[n, ih, iw, c])) / count
//! max_pool: out[n, oh, ow, c] = the largest x[n, ih, iw, c] of the window, from the lowest finite value
//! ```
//!
//! with `ih = oh * stride + kh - before` (and likewise for the width). An average's sums are in
//! [`sum`]'s order, a tap in the padding adding a zero, and `count` is the number of the window's
//! taps inside the image ([`window_count`], as TensorFlow divides). A maximum takes the taps
//! inside the image in row-major order, each replacing the maximum where it is strictly greater
//! (a NaN never is), as [`window_max`] does.
//!
//! The channels of a pixel are contiguous in NHWC, and every channel's window is the same: the
//! kernels keep [`LANES`] channels (sixteen with AVX-512) side by side in vector lanes, each lane
//! added or compared as the scalar code would, where the element-by-element code took one
//! channel at a time.
//!
//! [`sum`]: crate::sum::sum
//! [`window_count`]: crate::math::window_count
//! [`window_max`]: crate::math::window_max

use crate::conv::{Window, LANES};
use crate::dispatch::{best, Kernel, Registers};
use crate::elem::Elem;
use crate::math::{window_count, window_max};
use crate::sum::{sum, sum_lanes};

/// `tf.nn.avg_pool`: writes `out` (`[batch, output[0], output[1], channels]`, row-major) from `x`
/// (`[batch, input[0], input[1], channels]`), each output the mean of its window's taps inside
/// the image, with the bits the module's documentation gives. The window's `dilations` are
/// ignored (TensorFlow's pooling has none).
///
/// Where a slice is shorter than the sizes say, output by output, which panics at the first
/// index outside a slice, as indexing does.
pub fn avg_pool2d(window: &Window, x: &[f32], out: &mut [f32]) {
    pool(Pooling { window: *window, x, max: false }, out)
}

/// `tf.nn.max_pool`: writes `out` from `x`, as [`avg_pool2d`] does, each output the largest of
/// its window's taps inside the image, starting from `f32::MIN` (TensorFlow's reducer
/// starts from the lowest finite value, so a window of NaNs or -inf gives it).
///
/// Both take `float32` alone, not any float type: a function that is not generic is compiled
/// once, in tfcore, where a generic one is compiled (with its copies for each instruction set
/// `best` picks from) into every crate that calls it.
pub fn max_pool2d(window: &Window, x: &[f32], out: &mut [f32]) {
    pool(Pooling { window: *window, x, max: true }, out)
}

fn pool(pooling: Pooling<'_>, out: &mut [f32]) {
    if pooling.fits(out.len()) {
        best(PoolTiles { pooling, out })
    } else {
        pooling.by_element(out)
    }
}

/// The operands of one pooling.
#[derive(Clone, Copy)]
struct Pooling<'a> {
    window: Window,
    x: &'a [f32],
    /// Max pooling, or average pooling.
    max: bool,
}

impl Pooling<'_> {
    /// Whether the lanes apply: a window of at least one tap, and operands holding every element
    /// the sizes say.
    fn fits(&self, out_len: usize) -> bool {
        let w = &self.window;
        let sizes = || {
            let (pixels_in, pixels_out) = w.pixels()?;
            Some((pixels_in.checked_mul(w.channels)?, pixels_out.checked_mul(w.channels)?))
        };
        let Some((x, out)) = sizes() else { return false };
        w.taps() > 0 && self.x.len() >= x && out_len >= out
    }

    /// The input pixel tap `(kh, kw)` of output pixel `(n, oh, ow)` reads, or `None` in the
    /// padding.
    #[inline(always)]
    fn input_pixel(&self, n: usize, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<usize> {
        Window { dilations: [1, 1], ..self.window }.input_pixel(n, oh, ow, kh, kw)
    }

    /// How many taps of output pixel `(oh, ow)`'s window lie inside the image.
    #[inline(always)]
    fn count(&self, oh: usize, ow: usize) -> usize {
        let w = &self.window;
        window_count(oh, w.strides[0], w.kernel[0], w.before[0], w.input[0])
            * window_count(ow, w.strides[1], w.kernel[1], w.before[1], w.input[1])
    }

    /// Every output, one at a time, as the module's documentation gives it.
    fn by_element(&self, out: &mut [f32]) {
        let (w, c) = (&self.window, self.window.channels);
        for (at, [n, oh, ow, ci]) in w.outputs(c).enumerate() {
            let tap = |a, b| self.input_pixel(n, oh, ow, a, b).map(|p| self.x[p * c + ci]);
            out[at] = if self.max {
                window_max(f32::MIN, w.kernel, tap)
            } else {
                let total = sum(w.kernel[0], |a| sum(w.kernel[1], |b| tap(a, b).unwrap_or(0.0)));
                total.mean(self.count(oh, ow))
            };
        }
    }

    /// Every output: each output pixel's channels `L` at a time (the last few one at a time).
    #[inline(always)]
    fn by_lanes<const L: usize>(&self, out: &mut [f32]) {
        let (w, c) = (&self.window, self.window.channels);
        let mut at = 0;
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                for ow in 0..w.output[1] {
                    let mut ci = 0;
                    while ci + L <= c {
                        out[at + ci..][..L].copy_from_slice(&self.lanes::<L>(n, oh, ow, ci));
                        ci += L;
                    }
                    while ci < c {
                        out[at + ci] = self.lanes::<1>(n, oh, ow, ci)[0];
                        ci += 1;
                    }
                    at += c;
                }
            }
        }
    }

    /// Channels `ci..ci + L` of output pixel `(n, oh, ow)`.
    #[inline(always)]
    fn lanes<const L: usize>(&self, n: usize, oh: usize, ow: usize, ci: usize) -> [f32; L] {
        let (w, c) = (&self.window, self.window.channels);
        let tap = |a, b| {
            let p = self.input_pixel(n, oh, ow, a, b)?;
            self.x[p * c + ci..].first_chunk::<L>().copied()
        };
        if self.max {
            let mut max = [f32::MIN; L];
            for a in 0..w.kernel[0] {
                for b in 0..w.kernel[1] {
                    if let Some(values) = tap(a, b) {
                        for (max, value) in max.iter_mut().zip(values) {
                            if value > *max {
                                *max = value;
                            }
                        }
                    }
                }
            }
            max
        } else {
            let total = sum_lanes(w.kernel[0], |a| sum_lanes(w.kernel[1], |b| tap(a, b).unwrap_or([0.0; L])));
            let count = self.count(oh, ow);
            total.map(|t| t.mean(count))
        }
    }
}

/// A pooling's lanes, for [`best`].
struct PoolTiles<'a, 'o> {
    pooling: Pooling<'a>,
    out: &'o mut [f32],
}

impl Kernel for PoolTiles<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn run(self, registers: Registers) {
        match registers {
            Registers::Narrow | Registers::Wide => self.pooling.by_lanes::<LANES>(self.out),
            Registers::Many => self.pooling.by_lanes::<{ 2 * LANES }>(self.out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::tests::axis;

    /// Values whose sums round differently in different orders: negative, zero, -0, and a NaN
    /// now and then (which max pooling skips).
    fn values() -> [f32; MOST] {
        core::array::from_fn(|i| match i % 23 {
            5 => -0.0,
            11 => 0.0,
            17 => f32::NAN,
            _ => ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e3 - 3.0e3 + 1.0 / (i % 13 + 1) as f32,
        })
    }

    /// The most elements of a test's input or output.
    const MOST: usize = 8192;

    /// Windows of fewer than eight taps a row, of eight to fifteen and of sixteen or more (the
    /// three ways `sum` adds), tiling and overlapping, `SAME` and `VALID`, and channels fewer
    /// than eight, a multiple of sixteen, and neither.
    fn windows() -> impl Iterator<Item = Window> {
        let cases = [
            // (batch, [h, w], channels, [kh, kw], strides, same)
            (2, [8, 8], 16, [2, 2], [2, 2], false),
            (1, [7, 5], 13, [3, 3], [1, 1], true),
            (1, [25, 5], 64, [25, 5], [25, 5], false),
            (1, [10, 21], 3, [3, 17], [2, 1], true),
            (2, [9, 9], 24, [9, 9], [4, 3], true),
            (1, [6, 6], 1, [2, 3], [2, 3], true),
        ];
        cases.into_iter().map(|(batch, input, channels, kernel, strides, same)| {
            let (oh, bh) = axis(input[0], kernel[0], strides[0], 1, same);
            let (ow, bw) = axis(input[1], kernel[1], strides[1], 1, same);
            Window { batch, input, channels, kernel, strides, dilations: [1, 1], before: [bh, bw], output: [oh, ow] }
        })
    }

    /// The kernels give the bits of the element-by-element definition, every output.
    #[test]
    fn lanes_give_the_bits_of_one_output_at_a_time() {
        for w in windows() {
            let (pixels_in, pixels_out) = w.pixels().unwrap();
            let values = values();
            let x = &values[..pixels_in * w.channels];
            for max in [false, true] {
                let pooling = Pooling { window: w, x, max };
                let (mut expected, mut out) = ([0.0f32; MOST], [1.0f32; MOST]);
                let (expected, out) = (&mut expected[..pixels_out * w.channels], &mut out[..pixels_out * w.channels]);
                pooling.by_element(expected);
                if max {
                    max_pool2d(&w, x, out);
                } else {
                    avg_pool2d(&w, x, out);
                }
                for (k, (a, b)) in out.iter().zip(expected.iter()).enumerate() {
                    assert_eq!(a.to_bits(), b.to_bits(), "{w:?}, max: {max}, output {k}: {a} against {b}");
                }
            }
        }
    }

    /// The element-by-element definition against a direct reading of TensorFlow's: the mean of
    /// the taps inside the image, the largest of them.
    #[test]
    fn one_output_at_a_time_is_tensorflows_pooling() {
        let w = Window {
            batch: 1,
            input: [3, 3],
            channels: 2,
            kernel: [2, 2],
            strides: [2, 2],
            dilations: [1, 1],
            before: [0, 0],
            output: [2, 2],
        };
        // Channel 0 counts 1..=9, channel 1 its negatives; SAME pads the last row and column.
        let x: [f32; 18] =
            core::array::from_fn(|i| if i % 2 == 0 { (i / 2 + 1) as f32 } else { -((i / 2 + 1) as f32) });
        let mut out = [0.0f32; 8];
        avg_pool2d(&w, &x, &mut out);
        assert_eq!(out, [3.0, -3.0, 4.5, -4.5, 7.5, -7.5, 9.0, -9.0]);
        max_pool2d(&w, &x, &mut out);
        assert_eq!(out, [5.0, -1.0, 6.0, -3.0, 8.0, -7.0, 9.0, -9.0]);
    }

    /// Slices shorter than the sizes say: output by output, which panics at the first index
    /// outside one, as indexing does; never a read past the slice.
    #[test]
    #[should_panic]
    fn a_short_input_panics_as_indexing_does() {
        let w = windows().next().unwrap();
        let mut out = [0.0f32; 2 * 4 * 4 * 16];
        avg_pool2d(&w, &[1.0; 10], &mut out);
    }
}
