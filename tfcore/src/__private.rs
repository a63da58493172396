//! Not public API: what the code `graph!` generates calls. Anything here may change in any release.
//!
//! Generated code reaches `tfcore` only through this module (`::tfcore::__private::...`), so
//! the public API stays free to evolve. Every numeric kernel lives here once, generic over the
//! element type and the matrix sizes, and all math is plain Rust (tfgraph's own `expf`, `libm` for
//! the rest), so that a host build and a Cortex-M build of the same graph give the same bits.

pub use crate::__with_alloc as with_alloc;
pub use crate::__with_serde as with_serde;
pub use crate::__with_std as with_std;
pub use crate::array::{Array3, Array4};
pub use crate::dispatch::{dispatch, Compute};
pub use crate::export::{RustConst, ToRust};
#[cfg(feature = "alloc")]
pub use crate::feed::{dynamic_matrix, dynamic_vector, split};
pub use crate::feed::{FeedError, Workspace};
pub use crate::fetch::Fetch;
#[cfg(feature = "parallel")]
pub use crate::gemm::SPLIT_WORK;
pub use crate::gemm::{
    matmul, matmul_panels, matmul_via_panels, packed_lines, panel_at, panel_step, Lines, PACKED_LINES, PANEL,
    PANELS_BELOW, PANEL_WIDTH,
};
pub use crate::math::{expf, logf, max_of, sigmoidf, tanhf, window_argmax, window_count, window_max};
#[cfg(feature = "std")]
pub use crate::npy;
#[cfg(feature = "std")]
pub use crate::onnx;
pub use crate::unknown::Unknown;
pub use crate::DEFAULT_SEED;
pub use libm::{exp, fabs, fabsf, log, tanh};

/// `tf.sqrt` for `float32`. IEEE 754 rounds a square root correctly, so every implementation
/// gives the same bits; with `std` it is the compiler's own (`f32::sqrt`), which vectorises in
/// the fused loops (`sqrtps`; Adam's update of the MLP's 100,480 weights, measured), where
/// `libm`'s, an intrinsic of one lane on x86-64, keeps them scalar. On x86-64 both are the same
/// instruction, NaN results included.
#[inline]
pub fn sqrtf(x: f32) -> f32 {
    #[cfg(feature = "std")]
    return x.sqrt();
    #[cfg(not(feature = "std"))]
    return libm::sqrtf(x);
}

/// [`sqrtf`] for `float64`.
#[inline]
pub fn sqrt(x: f64) -> f64 {
    #[cfg(feature = "std")]
    return x.sqrt();
    #[cfg(not(feature = "std"))]
    return libm::sqrt(x);
}
pub use nalgebra::{ArrayStorage, SMatrix, SVector};
#[cfg(feature = "alloc")]
pub use nalgebra::{DMatrix, DVector, Dim, Dyn, Matrix, RawStorage, U1};
#[cfg(feature = "serde")]
pub use serde;

use rand::{RngExt, SeedableRng};

/// Overwrites a matrix (or vector) in place with `f` of each index, as `from_fn` would build it:
/// how a planned slot takes its next tensor without a temporary of its size.
#[inline]
pub fn fill2<T: nalgebra::Scalar, const R: usize, const C: usize>(
    m: &mut SMatrix<T, R, C>,
    mut f: impl FnMut(usize, usize) -> T,
) {
    for j in 0..C {
        for i in 0..R {
            m[(i, j)] = f(i, j);
        }
    }
}

/// A matrix of zeros (`T::default()`), built in place: the storage a planned slot starts with.
#[inline]
pub fn zeros2<T: nalgebra::Scalar + Copy + Default, const R: usize, const C: usize>() -> SMatrix<T, R, C> {
    SMatrix::from_array_storage(ArrayStorage([[T::default(); R]; C]))
}

/// [`zeros2`] for an [`Array3`].
#[inline]
pub fn zeros3<T: Copy + Default, const A: usize, const B: usize, const C: usize>() -> Array3<T, A, B, C> {
    Array3([[[T::default(); C]; B]; A])
}

/// [`zeros2`] for an [`Array4`].
#[inline]
pub fn zeros4<T: Copy + Default, const A: usize, const B: usize, const C: usize, const D: usize>(
) -> Array4<T, A, B, C, D> {
    Array4([[[[T::default(); D]; C]; B]; A])
}

/// [`fill2`] for an [`Array3`], in row-major order.
#[inline]
pub fn fill3<T, const A: usize, const B: usize, const C: usize>(
    x: &mut Array3<T, A, B, C>,
    mut f: impl FnMut(usize, usize, usize) -> T,
) {
    for i in 0..A {
        for j in 0..B {
            for k in 0..C {
                x[(i, j, k)] = f(i, j, k);
            }
        }
    }
}

/// [`fill2`] for an [`Array4`], in row-major order.
#[inline]
pub fn fill4<T, const A: usize, const B: usize, const C: usize, const D: usize>(
    x: &mut Array4<T, A, B, C, D>,
    mut f: impl FnMut(usize, usize, usize, usize) -> T,
) {
    for i in 0..A {
        for j in 0..B {
            for k in 0..C {
                for l in 0..D {
                    x[(i, j, k, l)] = f(i, j, k, l);
                }
            }
        }
    }
}

/// The random generator a session draws initial values from.
pub type Rng = crate::pcg::Pcg32;

/// A generator seeded with `seed`.
pub fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// `tf.sigmoid` for `float64`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// The element types of tensors that can be summed: wrapping arithmetic for the integers, as
/// TensorFlow's kernels wrap.
pub trait Elem: Copy {
    /// The additive identity.
    const ZERO: Self;
    /// `self + other`, wrapping for integers.
    fn add(self, other: Self) -> Self;
    /// The mean of `n` elements whose sum is `self`: `self / n`; 0 for integers when `n` is 0.
    fn mean(self, n: usize) -> Self;
}

macro_rules! float_elem {
    ($($t:ty)*) => {$(
        impl Elem for $t {
            const ZERO: Self = 0.0;
            #[inline]
            fn add(self, other: Self) -> Self {
                self + other
            }
            #[inline]
            fn mean(self, n: usize) -> Self {
                self / n as $t
            }
        }
    )*};
}
float_elem!(f32 f64);

macro_rules! int_elem {
    ($($t:ty)*) => {$(
        impl Elem for $t {
            const ZERO: Self = 0;
            #[inline]
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn mean(self, n: usize) -> Self {
                <$t>::try_from(n).ok().and_then(|n| self.checked_div(n)).unwrap_or(0)
            }
        }
    )*};
}
int_elem!(i32 i64 u8);

/// `f(0) + f(1) + ... + f(n - 1)`, in the one order every reduction of tfgraph uses (the macro's
/// constant folder mirrors it, and sums of fewer than 8 terms are emitted inline in the same
/// order): eight interleaved partial sums over the first `n / 8 * 8` terms, combined pairwise,
/// then the remaining terms added left to right. For `n < 8` that is `f(0) + f(1) + ...`. The
/// eight lanes let the compiler vectorise long reductions.
#[inline]
pub fn sum<T: Elem>(n: usize, mut f: impl FnMut(usize) -> T) -> T {
    let full = n / 8 * 8;
    let mut lanes = [T::ZERO; 8];
    let mut k = 0;
    while k < full {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane = lane.add(f(k + l));
        }
        k += 8;
    }
    let mut total = if full > 0 {
        combine(lanes)
    } else if n > 0 {
        f(0)
    } else {
        T::ZERO
    };
    let mut k = if full > 0 { full } else { 1 };
    while k < n {
        total = total.add(f(k));
        k += 1;
    }
    total
}

/// The eight partial sums of [`sum`] combined pairwise: `((a + b) + (c + d)) + ((e + f) + (g + h))`.
#[inline]
pub(crate) fn combine<T: Elem>(lanes: [T; 8]) -> T {
    let [a, b, c, d, e, f, g, h] = lanes;
    a.add(b).add(c.add(d)).add(e.add(f).add(g.add(h)))
}

/// `a[a_at] · b[b_at] + a[a_at + a_step] · b[b_at + b_step] + ...` over `n` terms, summed in
/// [`sum`]'s order, so it gives `sum`'s bits: the dot product of a matrix product whose operands
/// are stored (a row or column of an `SMatrix`, or of a buffer). When both lines are contiguous
/// (steps of 1) it reads them as slices, eight terms at a time with no bounds check per term,
/// which the compiler turns into vector instructions.
#[inline]
pub fn dot<T: Float>(n: usize, a: &[T], a_at: usize, a_step: usize, b: &[T], b_at: usize, b_step: usize) -> T {
    if a_step == 1 && b_step == 1 {
        if let (Some(a), Some(b)) = (a.get(a_at..a_at + n), b.get(b_at..b_at + n)) {
            return dot_lines(a, b);
        }
    }
    sum(n, |k| a[a_at + k * a_step] * b[b_at + k * b_step])
}

/// [`dot`] of two slices of one length.
#[inline]
fn dot_lines<T: Float>(a: &[T], b: &[T]) -> T {
    let ((a8, a_rest), (b8, b_rest)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    let mut rest = a_rest.iter().zip(b_rest).map(|(&x, &y)| x * y);
    let mut total = if !a8.is_empty() { combine(lanes([T::ZERO; 8], a8, b8)) } else { rest.next().unwrap_or(T::ZERO) };
    for t in rest {
        total = total.add(t);
    }
    total
}

/// The eight partial sums of [`dot_lines`], from `lanes` on: lane `l` adds the products of the
/// terms `l`, `l + 8`, `l + 16`... Never inlined: inlined, LLVM vectorises this loop and the
/// lanes' pairwise combination together and shuffles the lanes on every iteration (4.6× slower,
/// measured on a 640 × 128 matrix-vector product).
#[inline(never)]
fn lanes<T: Float>(mut lanes: [T; 8], a8: &[[T; 8]], b8: &[[T; 8]]) -> [T; 8] {
    for (x, y) in a8.iter().zip(b8) {
        for l in 0..8 {
            lanes[l] = lanes[l].add(x[l] * y[l]);
        }
    }
    lanes
}

/// How many rows of its feeds a fetch of run-time size computes at a time, when it runs in chunks
/// of rows (its every tensor of a `None` dimension a function of the same rows of its feeds, and
/// its results sums over them or computed from such sums: a training step). The chunk's tensors
/// then stay in the cache, and the workspace holds one chunk. A multiple of 8, so that
/// [`Partial`] sums in [`sum`]'s order.
pub const CHUNK_ROWS: usize = 1024;

const _: () = assert!(CHUNK_ROWS.is_multiple_of(8));

/// A sum in [`sum`]'s order whose terms come in runs (the chunks of rows of a fetch run in
/// chunks), every run but the last a multiple of 8 terms long: [`Partial::total`] has the bits of
/// `sum` over all the terms at once. The eight lanes carry over from run to run; the last run's
/// terms beyond a multiple of 8 wait in `tail` to be added after the lanes are combined.
#[derive(Clone, Copy, Debug)]
pub struct Partial<T> {
    lanes: [T; 8],
    /// Whether any run had 8 terms or more (`sum`'s `full > 0`).
    full: bool,
    tail: [T; 8],
    tail_len: usize,
}

impl<T: Elem> Default for Partial<T> {
    fn default() -> Self {
        Partial { lanes: [T::ZERO; 8], full: false, tail: [T::ZERO; 8], tail_len: 0 }
    }
}

impl<T: Elem> Partial<T> {
    /// Adds the next `n` terms, `f(0)` to `f(n - 1)`.
    #[inline]
    pub fn add(&mut self, n: usize, mut f: impl FnMut(usize) -> T) {
        let full = n / 8 * 8;
        let mut k = 0;
        while k < full {
            for (l, lane) in self.lanes.iter_mut().enumerate() {
                *lane = lane.add(f(k + l));
            }
            k += 8;
        }
        self.full |= full > 0;
        while k < n {
            self.push(f(k));
            k += 1;
        }
    }

    /// A term beyond the last multiple of 8. Only the last run has any, fewer than 8: a ninth
    /// (which a caller keeping to the runs' rule never adds) is dropped rather than indexed out of
    /// bounds.
    #[inline]
    fn push(&mut self, term: T) {
        debug_assert!(self.tail_len < 8, "only the last run of a Partial may end off a multiple of 8");
        if let Some(slot) = self.tail.get_mut(self.tail_len) {
            *slot = term;
            self.tail_len += 1;
        }
    }

    /// The sum of every term added, with `sum`'s bits.
    pub fn total(&self) -> T {
        let mut rest = self.tail[..self.tail_len].iter().copied();
        let mut total = if self.full { combine(self.lanes) } else { rest.next().unwrap_or(T::ZERO) };
        for t in rest {
            total = total.add(t);
        }
        total
    }
}

impl<T: Float> Partial<T> {
    /// Adds the next `n` terms of a [`dot`] product, as `dot` reads them (and with its arguments).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn dot(&mut self, n: usize, a: &[T], a_at: usize, a_step: usize, b: &[T], b_at: usize, b_step: usize) {
        if a_step == 1 && b_step == 1 {
            if let (Some(a), Some(b)) = (a.get(a_at..a_at + n), b.get(b_at..b_at + n)) {
                let ((a8, a_rest), (b8, b_rest)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
                if !a8.is_empty() {
                    self.lanes = lanes(self.lanes, a8, b8);
                    self.full = true;
                }
                for (&x, &y) in a_rest.iter().zip(b_rest) {
                    self.push(x * y);
                }
                return;
            }
        }
        self.add(n, |k| a[a_at + k * a_step] * b[b_at + k * b_step]);
    }
}

/// How many rows a range of a fetch run in chunks of rows covers with the `parallel` feature:
/// more rows are split into ranges of this many (the last shorter), computed on rayon's threads,
/// each with its own workspace and sums; the sums are then the ranges' totals added in order.
pub const RANGE_ROWS: usize = 16 * CHUNK_ROWS;

/// Runs `run(first, end, workspace, sums)` over rows `0..rows` of a fetch run in chunks of rows,
/// and returns the totals of its `S` sums. Without the `parallel` feature (or for at most
/// [`RANGE_ROWS`] rows), one call over all the rows in the session's workspace: the bits of the
/// fetch run at once. With it, ranges of `RANGE_ROWS` rows on rayon's threads, each with a
/// workspace of its own thread, their totals added in the ranges' order.
#[cfg(feature = "alloc")]
#[inline(always)]
pub fn sums_over_rows<T, const S: usize, F>(rows: usize, ws: &mut Workspace, run: F) -> [T; S]
where
    T: Float + Send,
    F: Fn(usize, usize, &mut Workspace, &mut [Partial<T>; S]) + RangesSync,
{
    #[cfg(feature = "parallel")]
    if rows > RANGE_ROWS {
        use rayon::prelude::*;
        let totals: alloc::vec::Vec<[T; S]> = (0..rows.div_ceil(RANGE_ROWS))
            .into_par_iter()
            .map_init(Workspace::default, |ws, range| {
                let (first, end) = (range * RANGE_ROWS, ((range + 1) * RANGE_ROWS).min(rows));
                let mut sums = [Partial::default(); S];
                // On the worker thread, compiled for the CPU's instruction set as the fetch is.
                crate::dispatch::dispatch(Range { run: &run, first, end }, (ws, &mut sums));
                sums.map(|p| p.total())
            })
            .collect();
        let mut total = totals[0];
        for range in &totals[1..] {
            for (t, &r) in total.iter_mut().zip(range) {
                *t = t.add(r);
            }
        }
        return total;
    }
    let mut sums = [Partial::default(); S];
    run(0, rows, ws, &mut sums);
    sums.map(|p| p.total())
}

/// One range of rows of [`sums_over_rows`], run through [`crate::dispatch::dispatch`].
#[cfg(feature = "parallel")]
struct Range<'r, F> {
    run: &'r F,
    first: usize,
    end: usize,
}

#[cfg(feature = "parallel")]
impl<'w, 's, T, const S: usize, F> Compute<(&'w mut Workspace, &'s mut [Partial<T>; S])> for Range<'_, F>
where
    F: Fn(usize, usize, &mut Workspace, &mut [Partial<T>; S]),
{
    type Output = ();

    #[inline(always)]
    fn compute(self, (ws, sums): (&'w mut Workspace, &'s mut [Partial<T>; S])) {
        (self.run)(self.first, self.end, ws, sums)
    }
}

/// `Sync` with the `parallel` feature (the ranges' closure runs on several threads), nothing
/// without it.
#[cfg(feature = "parallel")]
pub trait RangesSync: Sync {}
#[cfg(feature = "parallel")]
impl<F: Sync> RangesSync for F {}
/// `Sync` with the `parallel` feature (the ranges' closure runs on several threads), nothing
/// without it.
#[cfg(not(feature = "parallel"))]
pub trait RangesSync {}
#[cfg(not(feature = "parallel"))]
impl<F> RangesSync for F {}

/// The floating-point element types.
pub trait Float:
    Elem + nalgebra::Scalar + PartialOrd + core::ops::Sub<Output = Self> + core::ops::Mul<Output = Self> + Send + Sync
{
    /// 1.
    const ONE: Self;
    /// `e^self`, through `libm`.
    fn exp(self) -> Self;
    /// `1 / self`.
    fn recip(self) -> Self;
}

impl Float for f32 {
    const ONE: Self = 1.0;
    #[inline]
    fn exp(self) -> Self {
        expf(self)
    }
    #[inline]
    fn recip(self) -> Self {
        1.0 / self
    }
}

impl Float for f64 {
    const ONE: Self = 1.0;
    #[inline]
    fn exp(self) -> Self {
        exp(self)
    }
    #[inline]
    fn recip(self) -> Self {
        1.0 / self
    }
}

/// `tf.nn.softmax` of a rank-2 tensor, along its last axis (each row), as TensorFlow computes it:
/// `e = exp(x - max(x))`, then `e * (1 / sum(e))`.
pub fn softmax_rows<T: Float, const R: usize, const C: usize>(x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
    let mut out = *x;
    for i in 0..R {
        let mut max = x[(i, 0)];
        for j in 1..C {
            if x[(i, j)] > max {
                max = x[(i, j)];
            }
        }
        for j in 0..C {
            out[(i, j)] = (x[(i, j)] - max).exp();
        }
        let scale = sum(C, |j| out[(i, j)]).recip();
        for j in 0..C {
            out[(i, j)] = out[(i, j)] * scale;
        }
    }
    out
}

/// `tf.nn.softmax` of a rank-1 tensor.
pub fn softmax_vector<T: Float, const N: usize>(x: &SVector<T, N>) -> SVector<T, N> {
    softmax_rows(&x.transpose()).transpose()
}

/// `tf.nn.softmax` along the last axis of a row-major tensor `x` whose rows have `c` elements,
/// into `out`, by the arithmetic of [`softmax_rows`].
fn softmax_slice<T: Float>(x: &[T], out: &mut [T], c: usize) {
    softmax_by(c, |i, j| x[i * c + j], out, c, 1);
}

/// `tf.nn.softmax` along the last axis of a tensor of `out.len() / c` rows of `c` elements, element
/// `j` of row `i` read as `x(i, j)` and written to `out[i * row_step + j * column_step]` (row-major:
/// `(c, 1)`; a column-major matrix of `r` rows: `(1, r)`), by the arithmetic of [`softmax_rows`].
/// For tensors of run-time size, whose input may be a view of a feed.
#[inline]
pub fn softmax_by<T: Float>(
    c: usize,
    x: impl Fn(usize, usize) -> T,
    out: &mut [T],
    row_step: usize,
    column_step: usize,
) {
    if c == 0 {
        return;
    }
    for i in 0..out.len() / c {
        let at = |j: usize| i * row_step + j * column_step;
        let mut max = x(i, 0);
        for j in 1..c {
            if x(i, j) > max {
                max = x(i, j);
            }
        }
        for j in 0..c {
            out[at(j)] = (x(i, j) - max).exp();
        }
        let scale = sum(c, |j| out[at(j)]).recip();
        for j in 0..c {
            out[at(j)] = out[at(j)] * scale;
        }
    }
}

/// `tf.nn.softmax` of a rank-3 tensor, along its last axis.
pub fn softmax3<T: Float, const A: usize, const B: usize, const C: usize>(
    x: &Array3<T, A, B, C>,
) -> Array3<T, A, B, C> {
    let mut out = *x;
    softmax_slice(x.as_slice(), out.as_mut_slice(), C);
    out
}

/// `tf.nn.softmax` of a rank-4 tensor, along its last axis.
pub fn softmax4<T: Float, const N: usize, const H: usize, const W: usize, const C: usize>(
    x: &Array4<T, N, H, W, C>,
) -> Array4<T, N, H, W, C> {
    let mut out = *x;
    softmax_slice(x.as_slice(), out.as_mut_slice(), C);
    out
}

/// The element types `tf.random_uniform` can draw.
pub trait Uniform: Copy {
    /// A draw from `[lo, hi)`; `lo` when the range is empty.
    fn draw(rng: &mut Rng, lo: Self, hi: Self) -> Self;
}

macro_rules! uniform {
    ($($t:ty)*) => {$(
        impl Uniform for $t {
            fn draw(rng: &mut Rng, lo: Self, hi: Self) -> Self {
                if lo < hi {
                    rng.random_range(lo..hi)
                } else {
                    lo
                }
            }
        }
    )*};
}
uniform!(f32 f64 i32 i64);

/// A scalar `tf.random_uniform([], lo, hi)`.
pub fn random_uniform_scalar<T: Uniform>(rng: &mut Rng, lo: T, hi: T) -> T {
    T::draw(rng, lo, hi)
}

/// `tf.random_uniform([R, C], lo, hi)` (or `[R]` with `C = 1`), drawn in row-major order.
pub fn random_uniform<T, const R: usize, const C: usize>(rng: &mut Rng, lo: T, hi: T) -> SMatrix<T, R, C>
where
    T: Uniform + nalgebra::Scalar + Elem,
{
    let mut out = SMatrix::<T, R, C>::from_element(T::ZERO);
    for i in 0..R {
        for j in 0..C {
            out[(i, j)] = T::draw(rng, lo, hi);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expf_is_within_one_ulp_everywhere() {
        // Every 97th float32 from -104 to 89, and the edges, against `e^x` in float64.
        let mut worst = 0.0f64;
        let mut bits = (-104.0f32).to_bits();
        let mut check = |x: f32| {
            let want = libm::exp(x as f64);
            let got = expf(x) as f64;
            if want > f32::MAX as f64 {
                assert_eq!(got, f64::INFINITY, "{x}");
            } else if want >= f32::MIN_POSITIVE as f64 {
                let ulp = f32::EPSILON as f64 * libm::exp2(libm::floor(libm::log2(want)));
                worst = worst.max((got - want).abs() / ulp);
            } else {
                assert!(
                    (got - want).abs() <= f32::MIN_POSITIVE as f64 * f32::EPSILON as f64 * 2.0,
                    "{x}: {got} {want}"
                );
            }
        };
        while f32::from_bits(bits) < 0.0 {
            check(f32::from_bits(bits));
            bits = bits.wrapping_sub(97);
        }
        let mut bits = 0u32;
        while f32::from_bits(bits) < 89.0 {
            check(f32::from_bits(bits));
            bits += 97;
        }
        for x in [0.0, -0.0, 88.72, 88.73, -87.33, -103.9, -104.0, 89.0, 100.0, -200.0] {
            check(x);
        }
        // Measured: 0.981 ULP.
        assert!(worst <= 1.0, "largest error {worst} ULP");
        assert!(expf(f32::NAN).is_nan());
        assert_eq!(expf(f32::INFINITY), f32::INFINITY);
        assert_eq!(expf(f32::NEG_INFINITY), 0.0);
        assert_eq!(expf(0.0), 1.0);
    }

    /// The largest error of `f` in ULP (of float32, at the exact value; subnormals' for values
    /// below the normal range) and where, over every 97th float32 from the bits `first` up to
    /// infinity, against `exact` in float64; `each` sees every argument.
    fn worst_ulp(
        first: u32,
        f: impl Fn(f32) -> f32,
        exact: impl Fn(f64) -> f64,
        mut each: impl FnMut(f32),
    ) -> (f64, f32) {
        let mut worst = (0.0f64, 0.0f32);
        let mut bits = first;
        while bits < f32::INFINITY.to_bits() {
            let x = f32::from_bits(bits);
            let want = exact(x as f64);
            let got = f(x) as f64;
            let ulp = if want.abs() < f32::MIN_POSITIVE as f64 {
                f32::MIN_POSITIVE as f64 * f32::EPSILON as f64
            } else {
                f32::EPSILON as f64 * libm::exp2(libm::floor(libm::log2(want.abs())))
            };
            let error = (got - want).abs() / ulp;
            if error > worst.0 {
                worst = (error, x);
            }
            each(x);
            bits += 97;
        }
        worst
    }

    #[test]
    fn tanhf_is_within_two_ulp_everywhere() {
        // Every 97th positive float32 (tanh is odd, and the sign is copied), against float64.
        let worst = worst_ulp(0, tanhf, libm::tanh, |x| {
            assert_eq!(tanhf(-x).to_bits(), (-tanhf(x)).to_bits(), "{x}");
        });
        // Measured: 1.27 ULP, at 0.6506 (just above the polynomial's range).
        assert!(worst.0 <= 2.0, "largest error {} ULP at {}", worst.0, worst.1);
        assert!(tanhf(f32::NAN).is_nan());
        assert_eq!(tanhf(f32::INFINITY), 1.0);
        assert_eq!(tanhf(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanhf(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanhf(100.0), 1.0);
    }

    #[test]
    fn logf_is_within_one_ulp_everywhere() {
        // Every 97th positive float32, subnormals included, against ln x in float64.
        let worst = worst_ulp(1, logf, libm::log, |_| {});
        // Measured: 0.79 ULP, at 1.398.
        assert!(worst.0 <= 1.0, "largest error {} ULP at {}", worst.0, worst.1);
        assert_eq!(logf(1.0), 0.0);
        assert_eq!(logf(f32::INFINITY), f32::INFINITY);
        assert_eq!(logf(0.0), f32::NEG_INFINITY);
        assert_eq!(logf(-0.0), f32::NEG_INFINITY);
        assert_eq!(logf(f32::from_bits(1)), libm::logf(f32::from_bits(1)));
        assert_eq!(logf(f32::MAX), libm::logf(f32::MAX));
        assert!(logf(-1.0).is_nan());
        assert!(logf(f32::NEG_INFINITY).is_nan());
        assert!(logf(f32::NAN).is_nan());
    }

    #[test]
    fn sum_of_few_terms_is_left_to_right() {
        let terms = [1e8f32, 1.0, -1e8, 1.0];
        assert_eq!(sum(4, |k| terms[k]), ((1e8f32 + 1.0) + -1e8) + 1.0);
        assert_eq!(sum(1, |_| -0.0f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(sum(0, |_| 1.0f32), 0.0);
    }

    #[test]
    fn sum_of_many_terms_uses_eight_lanes() {
        let terms: [f32; 19] = core::array::from_fn(|k| 1.0 / (k as f32 + 1.0));
        let lane = |l: usize| terms[l] + terms[l + 8];
        let lanes = ((lane(0) + lane(1)) + (lane(2) + lane(3))) + ((lane(4) + lane(5)) + (lane(6) + lane(7)));
        assert_eq!(sum(19, |k| terms[k]), ((lanes + terms[16]) + terms[17]) + terms[18]);
    }

    #[test]
    fn partial_sums_in_runs_have_sums_bits() {
        let terms: [f32; 45] = core::array::from_fn(|k| 1.0 / (k as f32 + 1.0) - 0.3);
        let other: [f32; 45] = core::array::from_fn(|k| (k as f32).sin());
        let spread: [f32; 90] = core::array::from_fn(|k| if k % 2 == 0 { terms[k / 2] } else { f32::NAN });
        for n in [0, 1, 5, 8, 13, 16, 40, 45] {
            let whole = sum(n, |k| terms[k]);
            let products = dot(n, &terms, 0, 1, &other, 0, 1);
            for run in [8, 16, 24] {
                let (mut by_add, mut by_dot, mut strided) =
                    (Partial::default(), Partial::default(), Partial::default());
                for first in (0..n).step_by(run) {
                    let len = run.min(n - first);
                    by_add.add(len, |k| terms[first + k]);
                    by_dot.dot(len, &terms, first, 1, &other, first, 1);
                    strided.dot(len, &spread, 2 * first, 2, &other, first, 1);
                }
                assert_eq!(by_add.total().to_bits(), whole.to_bits(), "{n} terms in runs of {run}");
                assert_eq!(by_dot.total().to_bits(), products.to_bits(), "{n} products in runs of {run}");
                assert_eq!(strided.total().to_bits(), products.to_bits(), "{n} products in runs of {run}");
            }
        }
        let mut one = Partial::default();
        one.add(1, |_| -0.0f32);
        assert_eq!(one.total().to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn square_roots_are_libms_bits() {
        // Every 4,099th float32 (both signs, subnormals, infinities, NaNs) and as many float64s.
        for bits in (0..=u32::MAX).step_by(4099) {
            let x = f32::from_bits(bits);
            assert_eq!(sqrtf(x).to_bits(), libm::sqrtf(x).to_bits(), "sqrt({x:e}), bits {bits:#x}");
            let y = f64::from_bits(u64::from(bits) << 32 | u64::from(bits));
            assert_eq!(sqrt(y).to_bits(), libm::sqrt(y).to_bits(), "sqrt({y:e})");
        }
    }

    #[test]
    fn integer_sums_wrap() {
        assert_eq!(sum(3, |_| 100u8), 44);
        assert_eq!(i32::mean(7, 0), 0);
        assert_eq!(i32::mean(7, 2), 3);
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let x = nalgebra::matrix![1.0f32, 2.0, 3.0; 1000.0, 0.0, -1000.0];
        let s = softmax_rows(&x);
        for i in 0..2 {
            let total: f32 = (0..3).map(|j| s[(i, j)]).sum();
            assert!((total - 1.0).abs() < 1e-6, "{total}");
        }
        assert_eq!(s[(1, 0)], 1.0);
    }

    #[test]
    fn random_uniform_stays_in_range_and_repeats() {
        let a: SMatrix<f32, 4, 5> = random_uniform(&mut rng(1), -1.0, 1.0);
        let b: SMatrix<f32, 4, 5> = random_uniform(&mut rng(1), -1.0, 1.0);
        assert_eq!(a, b);
        assert!(a.iter().all(|x| (-1.0..1.0).contains(x)));
        assert_eq!(random_uniform_scalar(&mut rng(2), 3.0f32, 3.0), 3.0);
    }

    #[test]
    fn dot_gives_sums_bits_for_every_length_and_step() {
        // Values whose sums round differently in different orders.
        let a: [f32; 120] = core::array::from_fn(|i| ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e4);
        let b: [f32; 120] = core::array::from_fn(|i| ((i * 53 % 97) as f32 - 48.0) * 0.37 + 1.0 / (i + 1) as f32);
        for n in 0..40 {
            for (a_at, a_step, b_at, b_step) in [(0, 1, 0, 1), (3, 1, 5, 1), (1, 3, 0, 1), (2, 1, 4, 2)] {
                let expected = sum(n, |k| a[a_at + k * a_step] * b[b_at + k * b_step]);
                let got = dot(n, &a, a_at, a_step, &b, b_at, b_step);
                assert_eq!(got.to_bits(), expected.to_bits(), "n = {n}, steps {a_step} and {b_step}");
            }
        }
    }
}
