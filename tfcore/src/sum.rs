//! The summation orders of tfgraph: [`sum`], [`dot`] (the same order over two lines of stored
//! operands) and [`Partial`] (the same order over terms that come in runs). A sum of products
//! ([`sum_products`], [`in_order_products`], `dot`, every kernel's) adds each product to its
//! running sum with [`Elem::add_product`]: rounded twice, or once with the `fma` feature. Every reduction,
//! every matrix product (the tiled kernels of `gemm` too) and the macro's constant folder add in
//! this order, so the host, the firmware and folded constants agree bit for bit. A convolution's
//! window is the one exception: it adds left to right ([`in_order`]), which is the order of a
//! kernel that keeps output channels, not terms, in its vector lanes (see `conv`).

use crate::dispatch::{best, Kernel, Registers};
use crate::elem::{Elem, Float, FMA};

/// `f(0) + f(1) + ... + f(n - 1)`, in the order every reduction of tfgraph uses (the macro's
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

/// [`sum`] of `L` sums side by side: lane `l` of the result is `sum(n, |k| f(k)[l])`, bit for
/// bit, each lane added in [`sum`]'s order (so a kernel can keep `L` outputs in vector lanes).
/// `f` is called in one place, so that LLVM inlines it however large it is (with `sum`'s three
/// calls, three nested sums of a filter's gradient kept theirs out of line, at twice the time).
#[inline(always)]
pub fn sum_lanes<T: Elem, const L: usize>(n: usize, mut f: impl FnMut(usize) -> [T; L]) -> [T; L] {
    let add = |a: [T; L], b: [T; L]| -> [T; L] { core::array::from_fn(|l| a[l].add(b[l])) };
    let full = n / 8 * 8;
    let mut lanes = [[T::ZERO; L]; 8];
    let mut total = [T::ZERO; L];
    for k in 0..n {
        let term = f(k);
        if k < full {
            lanes[k % 8] = add(lanes[k % 8], term);
            if k + 1 == full {
                total = combine_with(lanes, add);
            }
        } else if k == 0 {
            total = term;
        } else {
            total = add(total, term);
        }
    }
    total
}

/// [`sum`] of the products `a × b` of `f(k) = (a, b)`, each added to its lane or to the total with
/// [`Elem::add_product`] (which the `fma` feature fuses); a lane starts at 0, the total of fewer
/// than 8 terms at the first product. Without `fma`, `sum(n, |k| a × b)` to the bit.
#[cfg_attr(feature = "fma", inline(always))]
#[cfg_attr(not(feature = "fma"), inline)]
pub fn sum_products<T: Elem>(n: usize, mut f: impl FnMut(usize) -> (T, T)) -> T {
    let full = n / 8 * 8;
    let mut lanes = [T::ZERO; 8];
    let mut k = 0;
    while k < full {
        for (l, lane) in lanes.iter_mut().enumerate() {
            let (a, b) = f(k + l);
            *lane = lane.add_product(a, b);
        }
        k += 8;
    }
    let mut total = if full > 0 {
        combine(lanes)
    } else if n > 0 {
        let (a, b) = f(0);
        a.product(b)
    } else {
        T::ZERO
    };
    let mut k = if full > 0 { full } else { 1 };
    while k < n {
        let (a, b) = f(k);
        total = total.add_product(a, b);
        k += 1;
    }
    total
}

/// [`in_order`] of the products `a × b` of `f(k) = (a, b)`: the first product, then each next
/// added with [`Elem::add_product`]. Without `fma`, `in_order(n, |k| a × b)` to the bit.
#[cfg_attr(feature = "fma", inline(always))]
#[cfg_attr(not(feature = "fma"), inline)]
pub fn in_order_products<T: Elem>(n: usize, mut f: impl FnMut(usize) -> (T, T)) -> T {
    if n == 0 {
        return T::ZERO;
    }
    let (a, b) = f(0);
    let mut total = a.product(b);
    for k in 1..n {
        let (a, b) = f(k);
        total = total.add_product(a, b);
    }
    total
}

/// [`sum_lanes`] of products: lane `l` of the result is `sum_products(n, |k| (x, w[l]))` of
/// `f(k) = (x, w)`, bit for bit.
#[inline(always)]
pub fn sum_lanes_products<T: Elem, const L: usize>(n: usize, mut f: impl FnMut(usize) -> (T, [T; L])) -> [T; L] {
    let add = |a: [T; L], b: [T; L]| -> [T; L] { core::array::from_fn(|l| a[l].add(b[l])) };
    let full = n / 8 * 8;
    let mut lanes = [[T::ZERO; L]; 8];
    let mut total = [T::ZERO; L];
    for k in 0..n {
        let (x, w) = f(k);
        if k < full {
            let lane = &mut lanes[k % 8];
            for l in 0..L {
                lane[l] = lane[l].add_product(x, w[l]);
            }
            if k + 1 == full {
                total = combine_with(lanes, add);
            }
        } else if k == 0 {
            total = core::array::from_fn(|l| x.product(w[l]));
        } else {
            for l in 0..L {
                total[l] = total[l].add_product(x, w[l]);
            }
        }
    }
    total
}

/// `((f(0) + f(1)) + f(2)) + ... + f(n - 1)`, strictly left to right (0 for no terms): the order
/// of a convolution's window (`conv`), whose float products go through [`in_order_products`];
/// the macro's element-by-element code sums integer products with this. It is [`sum`]'s order for
/// fewer than eight terms.
#[inline]
pub fn in_order<T: Elem>(n: usize, mut f: impl FnMut(usize) -> T) -> T {
    if n == 0 {
        return T::ZERO;
    }
    let mut total = f(0);
    for k in 1..n {
        total = total.add(f(k));
    }
    total
}

/// The eight partial sums of [`sum`] combined pairwise: `((a + b) + (c + d)) + ((e + f) + (g + h))`.
#[inline]
pub(crate) fn combine<T: Elem>(lanes: [T; 8]) -> T {
    combine_with(lanes, T::add)
}

/// [`combine`]'s pairing, of any values added by `add` (the lanes of [`sum_lanes`]).
#[inline(always)]
fn combine_with<V: Copy>(lanes: [V; 8], add: impl Fn(V, V) -> V) -> V {
    let [a, b, c, d, e, f, g, h] = lanes;
    add(add(add(a, b), add(c, d)), add(add(e, f), add(g, h)))
}

/// `a[a_at] · b[b_at] + a[a_at + a_step] · b[b_at + b_step] + ...` over `n` terms, summed in
/// [`sum`]'s order, so it gives `sum`'s bits: the dot product of a matrix product whose operands
/// are stored (a row or column of an `SMatrix`, or of a buffer). When both lines are contiguous
/// (steps of 1) it reads them as slices, eight terms at a time with no bounds check per term,
/// which the compiler turns into vector instructions.
// With the `fma` feature, always inlined, so that a generated fetch's body (which `dispatch`
// compiles for AVX2 and FMA) computes its fused multiply-adds as instructions, not calls.
#[cfg_attr(feature = "fma", inline(always))]
#[cfg_attr(not(feature = "fma"), inline)]
pub fn dot<T: Float>(n: usize, a: &[T], a_at: usize, a_step: usize, b: &[T], b_at: usize, b_step: usize) -> T {
    if a_step == 1 && b_step == 1 {
        if let (Some(a), Some(b)) = (a.get(a_at..a_at + n), b.get(b_at..b_at + n)) {
            return dot_lines(a, b);
        }
    }
    sum_products(n, |k| (a[a_at + k * a_step], b[b_at + k * b_step]))
}

/// [`dot`] of two slices of one length.
#[cfg_attr(feature = "fma", inline(always))]
#[cfg_attr(not(feature = "fma"), inline)]
fn dot_lines<T: Float>(a: &[T], b: &[T]) -> T {
    let ((a8, a_rest), (b8, b_rest)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    let mut rest = a_rest.iter().zip(b_rest);
    let mut total = if !a8.is_empty() {
        combine(lanes([T::ZERO; 8], a8, b8))
    } else {
        rest.next().map_or(T::ZERO, |(&x, &y)| x * y)
    };
    for (&x, &y) in rest {
        total = total.add_product(x, y);
    }
    total
}

/// The eight partial sums of [`dot_lines`], from `lanes` on: lane `l` adds the products of the
/// terms `l`, `l + 8`, `l + 16`... Never inlined: inlined, LLVM vectorises this loop and the
/// lanes' pairwise combination together and shuffles the lanes on every iteration (4.6× slower,
/// measured on a 640 × 128 matrix-vector product).
/// With the `fma` feature, through [`best`]: compiled here, for a target without fused
/// multiply-adds, each would be a call.
#[inline(never)]
fn lanes<T: Float>(lanes: [T; 8], a8: &[[T; 8]], b8: &[[T; 8]]) -> [T; 8] {
    if FMA {
        best(Lanes { lanes, a8, b8 })
    } else {
        lanes_of(lanes, a8, b8)
    }
}

/// [`lanes`]' loop.
#[inline(always)]
fn lanes_of<T: Float>(mut lanes: [T; 8], a8: &[[T; 8]], b8: &[[T; 8]]) -> [T; 8] {
    for (x, y) in a8.iter().zip(b8) {
        for l in 0..8 {
            lanes[l] = lanes[l].add_product(x[l], y[l]);
        }
    }
    lanes
}

/// [`lanes`]' loop as a [`Kernel`], for [`best`].
struct Lanes<'a, T> {
    lanes: [T; 8],
    a8: &'a [[T; 8]],
    b8: &'a [[T; 8]],
}

impl<T: Float> Kernel for Lanes<'_, T> {
    type Output = [T; 8];

    #[inline(always)]
    fn run(self, _: Registers) -> [T; 8] {
        lanes_of(self.lanes, self.a8, self.b8)
    }
}

/// A sum in [`sum`]'s order whose terms come in runs (the chunks of rows of a fetch run in
/// chunks), every run but the last a multiple of 8 terms long: [`Partial::total`] has the bits of
/// `sum` over all the terms at once. The eight lanes carry over from run to run; the last run's
/// terms beyond a multiple of 8 wait in `tail` to be added after the lanes are combined, as
/// products (a plain term `t` as `t × 1`), so that [`Partial::dot`] adds them as `dot` does.
#[derive(Clone, Copy, Debug)]
pub struct Partial<T> {
    lanes: [T; 8],
    /// Whether any run had 8 terms or more (`sum`'s `full > 0`).
    full: bool,
    tail: [(T, T); 8],
    tail_len: usize,
}

impl<T: Elem> Default for Partial<T> {
    fn default() -> Self {
        Partial { lanes: [T::ZERO; 8], full: false, tail: [(T::ZERO, T::ZERO); 8], tail_len: 0 }
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
            self.push(f(k), T::ONE);
            k += 1;
        }
    }

    /// Adds the next `n` terms, the products `a × b` of `f(0) = (a, b)` to `f(n - 1)`, as
    /// [`sum_products`] adds them.
    #[cfg_attr(feature = "fma", inline(always))]
    #[cfg_attr(not(feature = "fma"), inline)]
    pub fn add_products(&mut self, n: usize, mut f: impl FnMut(usize) -> (T, T)) {
        let full = n / 8 * 8;
        let mut k = 0;
        while k < full {
            for (l, lane) in self.lanes.iter_mut().enumerate() {
                let (a, b) = f(k + l);
                *lane = lane.add_product(a, b);
            }
            k += 8;
        }
        self.full |= full > 0;
        while k < n {
            let (a, b) = f(k);
            self.push(a, b);
            k += 1;
        }
    }

    /// A term beyond the last multiple of 8. Only the last run has any, fewer than 8: a ninth
    /// (which a caller keeping to the runs' rule never adds) is dropped rather than indexed out of
    /// bounds.
    #[inline]
    fn push(&mut self, a: T, b: T) {
        debug_assert!(self.tail_len < 8, "only the last run of a Partial may end off a multiple of 8");
        if let Some(slot) = self.tail.get_mut(self.tail_len) {
            *slot = (a, b);
            self.tail_len += 1;
        }
    }

    /// The sum of every term added, with `sum`'s bits (`sum_products`' for products).
    pub fn total(&self) -> T {
        let mut rest = self.tail[..self.tail_len].iter().copied();
        let mut total =
            if self.full { combine(self.lanes) } else { rest.next().map_or(T::ZERO, |(a, b)| a.product(b)) };
        for (a, b) in rest {
            total = total.add_product(a, b);
        }
        total
    }
}

impl<T: Float> Partial<T> {
    /// Adds the next `n` terms of a [`dot`] product, as `dot` reads them (and with its arguments).
    #[cfg_attr(feature = "fma", inline(always))]
    #[cfg_attr(not(feature = "fma"), inline)]
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
                    self.push(x, y);
                }
                return;
            }
        }
        self.add_products(n, |k| (a[a_at + k * a_step], b[b_at + k * b_step]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_of_few_terms_is_left_to_right() {
        let terms = [1e8f32, 1.0, -1e8, 1.0];
        assert_eq!(sum(4, |k| terms[k]), ((1e8f32 + 1.0) + -1e8) + 1.0);
        assert_eq!(sum(1, |_| -0.0f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(sum(0, |_| 1.0f32), 0.0);
    }

    #[test]
    fn in_order_adds_left_to_right() {
        let terms = [1e8f32, 1.0, -1e8, 1.0, 0.5, 0.25, 3.0, -7.0, 1e-3, 11.0];
        let mut expected = terms[0];
        for &t in &terms[1..] {
            expected += t;
        }
        assert_eq!(in_order(10, |k| terms[k]).to_bits(), expected.to_bits());
        assert_ne!(in_order(10, |k| terms[k]).to_bits(), sum(10, |k| terms[k]).to_bits());
        assert_eq!(in_order(1, |_| -0.0f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(in_order(0, |_| 1.0f32), 0.0);
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
    fn integer_sums_wrap() {
        assert_eq!(sum(3, |_| 100u8), 44);
        assert_eq!(i32::mean(7, 0), 0);
        assert_eq!(i32::mean(7, 2), 3);
    }

    #[test]
    fn products_are_fused_with_the_fma_feature_only() {
        // (1 + 2^-12)² = 1 + 2^-11 + 2^-24: rounded, the 2^-24 is lost (a tie, to even).
        let x = 1.0 + f32::EPSILON * 2048.0;
        let acc = -(1.0 + f32::EPSILON * 4096.0);
        let expected = if cfg!(feature = "fma") { f32::EPSILON / 2.0 } else { 0.0 };
        assert_eq!(acc.add_product(x, x), expected);
        assert_eq!(sum_products(2, |k| [(x, x), (1.0, acc)][1 - k]), expected);
        assert_eq!(dot(2, &[1.0, x], 0, 1, &[acc, x], 0, 1), expected);
        // A plain term is a product with 1: the same bits either way.
        assert_eq!(acc.add_product(x * x, 1.0), acc + x * x);
    }

    #[test]
    fn dot_gives_sums_bits_for_every_length_and_step() {
        // Values whose sums round differently in different orders.
        let a: [f32; 120] = core::array::from_fn(|i| ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e4);
        let b: [f32; 120] = core::array::from_fn(|i| ((i * 53 % 97) as f32 - 48.0) * 0.37 + 1.0 / (i + 1) as f32);
        for n in 0..40 {
            for (a_at, a_step, b_at, b_step) in [(0, 1, 0, 1), (3, 1, 5, 1), (1, 3, 0, 1), (2, 1, 4, 2)] {
                let expected = sum_products(n, |k| (a[a_at + k * a_step], b[b_at + k * b_step]));
                if !cfg!(feature = "fma") {
                    assert_eq!(expected.to_bits(), sum(n, |k| a[a_at + k * a_step] * b[b_at + k * b_step]).to_bits());
                }
                let got = dot(n, &a, a_at, a_step, &b, b_at, b_step);
                assert_eq!(got.to_bits(), expected.to_bits(), "n = {n}, steps {a_step} and {b_step}");
            }
        }
    }
}
