//! The arithmetic of quantised int8 layers, as TensorFlow Lite Micro's reference kernels do it,
//! bit for bit: an int32 accumulator rescaled by a fixed-point multiplier and a shift
//! ([`requantize`], with gemmlowp's double rounding), the rounding of average pooling
//! ([`average`]), `ADD`'s rescaling of both operands ([`add`]) and the fixed-point softmax
//! ([`softmax`]).
//!
//! Nothing here uses floating point, so a layer runs the same on a core without an FPU. The
//! multipliers and shifts are computed when the graph compiles, from the model's scales, as
//! TFLite's `QuantizeMultiplier` computes them (in `f64`); these functions only apply them.
//! The generated code calls them once per output element.

/// gemmlowp's `SaturatingRoundingDoublingHighMul` (Arm's `VQRDMULH`): `a * b * 2 / 2^32`, rounded
/// to nearest with ties toward +∞, saturating its one overflow (`i32::MIN * i32::MIN`).
#[inline]
pub fn doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncating toward zero, as C++'s: not a shift.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` is in `0..=31`.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's `MultiplyByQuantizedMultiplier` (its default double rounding): `x` times
/// `multiplier / 2^31` times `2^shift`, a left shift applied before the product and a right
/// shift, rounded, after it.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.max(0) as u32;
    let right = (-shift).max(0) as u32;
    rounding_divide_by_pot(doubling_high_mul(x.wrapping_mul(1 << left), multiplier), right)
}

/// An int32 accumulator as an int8 output: rescaled ([`multiply_by_quantized_multiplier`]),
/// moved by the output's zero point and clamped to `[min, max]` (the activation's range).
///
/// The same arithmetic as [`multiply_by_quantized_multiplier`], written without branches (selects
/// and shifts by amounts of each lane), so that a loop of them runs in vector lanes. `shift` is in
/// `-31..=30`, as `QuantizeMultiplier` makes it.
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32, shift: i32, zero_point: i32, min: i32, max: i32) -> i8 {
    let (left, right) = (shift.max(0) as u32, (-shift).clamp(0, 31) as u32);
    let x = acc.wrapping_shl(left);
    // doubling_high_mul: `(ab + nudge) / 2^31` toward zero is `(ab + 2^30) >> 31` for either
    // sign of `ab`. For `ab ≥ 0` it is the floor of a non-negative number. For `ab < 0`, the
    // nudged `c = ab + 1 - 2^30` is negative, and truncating `c / 2^31` is its ceiling,
    // `(c + 2^31 - 1) >> 31`, which is `(ab + 2^30) >> 31`. One multiply, one add, one shift.
    let ab = i64::from(x) * i64::from(multiplier);
    let high = ((ab + (1 << 30)) >> 31) as i32;
    let high = if x == i32::MIN && multiplier == i32::MIN { i32::MAX } else { high };
    // rounding_divide_by_pot
    let mask = ((1u32 << right) - 1) as i32;
    let threshold = (mask >> 1) + i32::from(high < 0);
    let rounded = (high >> right) + i32::from(high & mask > threshold);
    rounded.wrapping_add(zero_point).clamp(min, max) as i8
}

/// Average pooling's output from the sum of the `count` inputs its window covers: the sum divided
/// by the count, rounded to nearest with ties away from zero, clamped to `[min, max]`. A window
/// covering nothing (which TFLite Micro refuses) gives `min`.
#[inline]
pub fn average(sum: i32, count: i32, min: i32, max: i32) -> i8 {
    if count <= 0 {
        return min as i8;
    }
    let rounded = if sum > 0 { (sum + count / 2) / count } else { (sum - count / 2) / count };
    rounded.clamp(min, max) as i8
}

/// `ADD`'s constants, computed from the operands' and the output's scales when the graph
/// compiles (TFLite Micro's `CalculateOpDataAdd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Add {
    /// Minus each operand's zero point.
    pub offsets: [i32; 2],
    /// Each operand's multiplier and (non-positive) shift.
    pub inputs: [(i32, i32); 2],
    /// The left shift both operands get first: 20 for int8.
    pub left_shift: u32,
    /// The sum's multiplier and (non-positive) shift.
    pub output: (i32, i32),
    /// The output's zero point.
    pub zero_point: i32,
    /// The activation's range, in the output's quantised values.
    pub min: i32,
    /// See `min`.
    pub max: i32,
}

/// The quantised sum of `a` and `b` (TFLite's integer `AddFunc`): each operand, less its zero
/// point, shifted left by 20 bits and rescaled to the larger of the two scales, then the sum
/// rescaled to the output's.
#[inline]
pub fn add(a: i8, b: i8, p: &Add) -> i8 {
    let scaled = |x: i8, k: usize| {
        let shifted = (i32::from(x) + p.offsets[k]).wrapping_mul(1 << p.left_shift);
        let (multiplier, shift) = p.inputs[k];
        multiply_by_quantized_multiplier(shifted, multiplier, shift)
    };
    let sum = scaled(a, 0).wrapping_add(scaled(b, 1));
    let (multiplier, shift) = p.output;
    requantize(sum, multiplier, shift, p.zero_point, p.min, p.max)
}

/// The int8 softmax's constants (TFLite Micro's `CalculateSoftmaxParams`): the multiplier and left
/// shift taking a difference of inputs to a fixed-point number of 5 integer bits, and the
/// smallest difference whose exponential counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Softmax {
    /// Rescales a difference of inputs to Q5.26.
    pub multiplier: i32,
    /// See `multiplier`.
    pub left_shift: i32,
    /// Differences below this (negative) one count as an exponential of 0.
    pub diff_min: i32,
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT` for a positive exponent: a left shift that
/// saturates.
#[inline]
fn saturating_shift_left(x: i32, exponent: u32) -> i32 {
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// gemmlowp's `exp_on_interval_between_negative_one_quarter_and_0_excl`, on raw Q0.31 values.
fn exp_on_quarter(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = doubling_high_mul(x, x);
    let x3 = doubling_high_mul(x2, x);
    let x4 = doubling_high_mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let inner = doubling_high_mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2);
    let poly = rounding_divide_by_pot(inner, 1);
    CONSTANT_TERM.wrapping_add(doubling_high_mul(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp's `exp_on_negative_values` for a Q5.26 input (`a <= 0`), as a Q0.31 result.
fn exp_on_negative(a: i32) -> i32 {
    const INTEGER_BITS: u32 = 5;
    const FRACTIONAL_BITS: u32 = 31 - INTEGER_BITS;
    let one_quarter = 1i32 << (FRACTIONAL_BITS - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_quarter(saturating_shift_left(a_mod_quarter_minus_one_quarter, INTEGER_BITS));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^k) for k = -2..=4, in Q0.31, applied for each bit of the remainder.
    for (k, multiplier) in [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ] {
        let bit = (FRACTIONAL_BITS as i32 + k) as u32;
        if remainder & (1 << bit) != 0 {
            result = doubling_high_mul(result, multiplier);
        }
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1` on raw Q0.31 values (Newton-Raphson division).
fn one_over_one_plus_x(a: i32) -> i32 {
    // RoundingHalfSum(a, 1.0)
    let sum = i64::from(a) + i64::from(i32::MAX);
    let half_denominator = ((sum + if sum >= 0 { 1 } else { -1 }) / 2) as i32;
    const FORTY_EIGHT_OVER_17: i32 = 1_515_870_810; // Q2.29
    const MINUS_THIRTY_TWO_OVER_17: i32 = -1_010_580_540; // Q2.29
    const ONE_Q2: i32 = 1 << 29;
    let mut x = FORTY_EIGHT_OVER_17.wrapping_add(doubling_high_mul(half_denominator, MINUS_THIRTY_TWO_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = doubling_high_mul(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(saturating_shift_left(doubling_high_mul(x, one_minus), 2));
    }
    saturating_shift_left(x, 1)
}

/// The int8 softmax of one row's element `c` (TFLite Micro's `reference_ops::Softmax` for int8
/// in and out, whose output has scale 1/256 and zero point -128). `at(k)` reads the row's
/// element `k` of `n`.
pub fn softmax(p: &Softmax, n: usize, at: impl Fn(usize) -> i8, c: usize) -> i8 {
    const ACCUMULATION_BITS: u32 = 12;
    let max = (0..n).map(&at).max().unwrap_or(i8::MIN);
    let exp_of = |k: usize| {
        let diff = i32::from(at(k)) - i32::from(max);
        (diff >= p.diff_min).then(|| {
            let rescaled = multiply_by_quantized_multiplier(diff, p.multiplier, p.left_shift);
            exp_on_negative(rescaled)
        })
    };
    let mut sum_of_exps: i32 = 0;
    for k in 0..n {
        if let Some(e) = exp_of(k) {
            sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(e, ACCUMULATION_BITS));
        }
    }
    let Some(exp) = exp_of(c) else { return i8::MIN };
    // GetReciprocal
    let headroom_plus_one = (sum_of_exps as u32).leading_zeros();
    let num_bits_over_unit = ACCUMULATION_BITS as i32 - headroom_plus_one as i32;
    let shifted_sum_minus_one = ((sum_of_exps as u32).wrapping_shl(headroom_plus_one)).wrapping_sub(1 << 31) as i32;
    let shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
    let exponent = (num_bits_over_unit + 31 - 8).clamp(0, 31) as u32;
    let unsaturated = rounding_divide_by_pot(doubling_high_mul(shifted_scale, exp), exponent);
    unsaturated.wrapping_add(-128).clamp(-128, 127) as i8
}

/// `QUANTIZE` of a float to int8 (TFLite's `AffineQuantize`): `round(x / scale) + zero_point`,
/// rounded half away from zero in `f32`, clamped to int8.
#[inline]
pub fn quantize(x: f32, scale: f32, zero_point: i32) -> i8 {
    let q = libm::roundf(x / scale);
    // `as` saturates (and takes NaN to 0), where C++ leaves those cases undefined.
    (q as i32).saturating_add(zero_point).clamp(-128, 127) as i8
}

/// `DEQUANTIZE` of an int8 to a float: `scale * (q - zero_point)`, computed in `f64` and rounded
/// to `f32`, as TFLite's reference kernel does.
#[inline]
pub fn dequantize(q: i8, scale: f64, zero_point: i32) -> f32 {
    (scale * f64::from(i32::from(q) - zero_point)) as f32
}

/// How a layer's int32 sums become int8 outputs: per output channel (or one for all) a
/// multiplier and shift, then the output's zero point and the activation's range.
#[derive(Clone, Copy, Debug)]
pub struct Rescale<'a> {
    /// One per output channel, or one for the whole layer.
    pub multipliers: &'a [i32],
    /// As many as `multipliers`.
    pub shifts: &'a [i32],
    /// The output's zero point.
    pub zero_point: i32,
    /// The activation's range, in the output's quantised values.
    pub min: i32,
    /// See `min`.
    pub max: i32,
}

impl Rescale<'_> {
    /// `out[k] =` [`requantize`] of `bias[k] + sums[k]`, output channels `first..` in order: one
    /// loop per case (a multiplier per channel or one), so that each runs in vector lanes.
    #[inline(always)]
    fn lanes(&self, first: usize, sums: &[i32], bias: &[i32], out: &mut [i8]) {
        let (zp, min, max) = (self.zero_point, self.min, self.max);
        let n = out.len().min(sums.len()).min(bias.len());
        let (sums, bias, out) = (&sums[..n], &bias[..n], &mut out[..n]);
        if let ([m], [s]) = (self.multipliers, self.shifts) {
            for ((o, &sum), &b) in out.iter_mut().zip(sums).zip(bias) {
                *o = requantize(b.wrapping_add(sum), *m, *s, zp, min, max);
            }
        } else if let (Some(m), Some(s)) = (self.multipliers.get(first..first + n), self.shifts.get(first..first + n)) {
            for ((((o, &sum), &b), &m), &s) in out.iter_mut().zip(sums).zip(bias).zip(m).zip(s) {
                *o = requantize(b.wrapping_add(sum), m, s, zp, min, max);
            }
        }
    }

    /// [`requantize`] of output channel `channel`'s sum.
    #[inline(always)]
    fn apply(&self, acc: i32, channel: usize) -> i8 {
        let k = if self.multipliers.len() == 1 { 0 } else { channel };
        match (self.multipliers.get(k), self.shifts.get(k)) {
            (Some(&m), Some(&s)) => requantize(acc, m, s, self.zero_point, self.min, self.max),
            _ => self.min as i8,
        }
    }
}

/// How [`conv2d`]'s filter and [`fully_connected`]'s weights are laid out, by the core: their rows
/// (one per output channel, `n` terms each) in panels of `PANEL` rows, each panel in blocks of
/// [`PANEL_TERMS`] terms, each block row by row. Term `k` of row `PANEL · g + c` is then at
/// `PANEL · g · n + PANEL · b + c · PANEL_TERMS + k - b`, `b = k - k % PANEL_TERMS`. The last
/// panel holds what is left of the rows and the last block of each panel what is left of the
/// terms, laid out alike with their own sizes ([`panel_index`]; [`panels`] lays rows out).
///
/// A kernel then reads one stream of weights for a panel's outputs at once:
/// - with vector lanes (x86-64, AArch64, WebAssembly): four rows in blocks of sixteen terms; each
///   row's block is one vector, multiplied by the input's sixteen terms as a dot product runs;
/// - on 32-bit Arm (the Cortex-M, which has no vector lanes): eight rows, term by term (blocks of
///   one), read twice, four rows at a time: four sums in registers, each input term loaded once
///   for four multiply-adds, each weight next to the one before.
#[cfg(not(target_arch = "arm"))]
pub const PANEL: usize = 4;
/// See the other target's.
#[cfg(target_arch = "arm")]
pub const PANEL: usize = 8;

/// The terms of a block of a panel ([`PANEL`]).
#[cfg(not(target_arch = "arm"))]
pub const PANEL_TERMS: usize = 16;
/// See the other target's.
#[cfg(target_arch = "arm")]
pub const PANEL_TERMS: usize = 1;

/// Where term `k` of row `row` is in `rows` rows of `n` terms laid out in panels ([`PANEL`]).
#[inline(always)]
pub const fn panel_index(rows: usize, n: usize, row: usize, k: usize) -> usize {
    let (first, block) = (row - row % PANEL, k - k % PANEL_TERMS);
    let height = if rows - first < PANEL { rows - first } else { PANEL };
    let width = if n - block < PANEL_TERMS { n - block } else { PANEL_TERMS };
    first * n + block * height + row % PANEL * width + k % PANEL_TERMS
}

/// `N / n` rows of `n` terms (TensorFlow Lite's row-major `[out, ...]`) in [`PANEL`]'s layout,
/// when the graph's crate compiles: the generated code writes
/// `static __W: [i8; N] = panels(&[...], n);`, so that the layout is the one of the core the code
/// is compiled for.
pub const fn panels<const N: usize>(rows: &[i8; N], n: usize) -> [i8; N] {
    let mut out = [0i8; N];
    let count = match N.checked_div(n) {
        Some(count) => count,
        None => 0,
    };
    // Panel by panel, block by block, row by row: every write in order, no division.
    let mut first = 0;
    while first < count {
        let height = if count - first < PANEL { count - first } else { PANEL };
        let mut block = 0;
        while block < n {
            let width = if n - block < PANEL_TERMS { n - block } else { PANEL_TERMS };
            let at = first * n + block * height;
            let mut r = 0;
            while r < height {
                let mut t = 0;
                while t < width {
                    out[at + r * width + t] = rows[(first + r) * n + block + t];
                    t += 1;
                }
                r += 1;
            }
            block += PANEL_TERMS;
        }
        first += PANEL;
    }
    out
}

/// `sums[j] = Σ_k x[k] · row_j[k]` for the `sums.len()` rows of `x.len()` terms in `panels`
/// ([`PANEL`]'s layout): the dot products of one im2col row (or dense input) with a block of
/// filter (or weight) rows. Each sum wraps, so it has the bits of any other order of its terms.
#[inline(always)]
fn dots(x: &[i8], panels: &[i8], sums: &mut [i32]) {
    let n = x.len();
    if n == 0 {
        sums.fill(0);
        return;
    }
    let rows = sums.len();
    let full = rows - rows % PANEL;
    let (whole, rest) = sums.split_at_mut(full);
    for (sums, panel) in whole.as_chunks_mut::<PANEL>().0.iter_mut().zip(panels.chunks_exact(PANEL * n)) {
        *sums = panel_dots(x, panel);
    }
    // The last, shorter panel, term by term.
    let height = rest.len();
    if let Some(panel) = panels.get(full * n..rows * n) {
        for (c, sum) in rest.iter_mut().enumerate() {
            *sum = x.iter().enumerate().fold(0i32, |acc, (k, &v)| {
                acc.wrapping_add(i32::from(panel[panel_index(height, n, c, k)]) * i32::from(v))
            });
        }
    }
}

/// The dot products of `x` with one whole panel, in the core's shape ([`PANEL`]).
#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn panel_dots(x: &[i8], panel: &[i8]) -> [i32; PANEL] {
    let (x16, x_rest) = x.as_chunks::<PANEL_TERMS>();
    let (blocks, last) = panel.as_chunks::<{ PANEL * PANEL_TERMS }>();
    let [mut l0, mut l1, mut l2, mut l3] = [[0i32; PANEL_TERMS]; PANEL];
    for (xs, block) in x16.iter().zip(blocks) {
        let [r0, r1, r2, r3] = block.as_chunks::<PANEL_TERMS>().0 else { continue };
        for l in 0..PANEL_TERMS {
            let v = i32::from(xs[l]);
            l0[l] = l0[l].wrapping_add(i32::from(r0[l]) * v);
            l1[l] = l1[l].wrapping_add(i32::from(r1[l]) * v);
            l2[l] = l2[l].wrapping_add(i32::from(r2[l]) * v);
            l3[l] = l3[l].wrapping_add(i32::from(r3[l]) * v);
        }
    }
    // Each row's lanes added, the four rows side by side (one vector of four sums a step).
    let mut sums = [0i32; PANEL];
    for l in 0..PANEL_TERMS {
        for (sum, lanes) in sums.iter_mut().zip([&l0, &l1, &l2, &l3]) {
            *sum = sum.wrapping_add(lanes[l]);
        }
    }
    // The last block: each row's remaining terms, row by row.
    for (sum, row) in sums.iter_mut().zip(last.chunks_exact(x_rest.len().max(1))) {
        for (&v, &f) in x_rest.iter().zip(row) {
            *sum = sum.wrapping_add(i32::from(f) * i32::from(v));
        }
    }
    sums
}

/// The dot products of `x` with one whole panel, in the core's shape ([`PANEL`]): its first four
/// rows, then its last four.
#[cfg(target_arch = "arm")]
#[inline(always)]
fn panel_dots(x: &[i8], panel: &[i8]) -> [i32; PANEL] {
    let ([a, b, c, d], [e, f, g, h]) = (half_panel_dots(x, panel, 0), half_panel_dots(x, panel, 4));
    [a, b, c, d, e, f, g, h]
}

/// Rows `first..first + 4` of a panel of eight rows term by term (`first` 0 or 4): four sums in
/// registers, one pass over the panel, each input term loaded once for four multiply-adds.
// Never inlined: in a function of its own, the loop has the registers to itself (inlined into the
// convolution's loops, LLVM spills the sums: a third more instructions).
#[cfg(target_arch = "arm")]
#[inline(never)]
fn half_panel_dots(x: &[i8], panel: &[i8], first: usize) -> [i32; 4] {
    let first = if first == 0 { 0 } else { 4 };
    let (mut s0, mut s1, mut s2, mut s3) = (0i32, 0i32, 0i32, 0i32);
    for (&v, f) in x.iter().zip(panel.as_chunks::<PANEL>().0) {
        let v = i32::from(v);
        s0 = s0.wrapping_add(i32::from(f[first]) * v);
        s1 = s1.wrapping_add(i32::from(f[first + 1]) * v);
        s2 = s2.wrapping_add(i32::from(f[first + 2]) * v);
        s3 = s3.wrapping_add(i32::from(f[first + 3]) * v);
    }
    [s0, s1, s2, s3]
}

/// `acc[k] += f[k] · x[k]`: one tap of a depthwise window, for a block of channels.
// Inlined where there are vector lanes; on 32-bit Arm a function of its own, whose loop then has
// the registers to itself (inlined into the window's loops, LLVM spills: twice the instructions).
#[cfg_attr(target_arch = "arm", inline(never))]
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn multiply_add(acc: &mut [i32], f: &[i8], x: &[i8]) {
    for ((a, &f), &v) in acc.iter_mut().zip(f).zip(x) {
        *a = a.wrapping_add(i32::from(f) * i32::from(v));
    }
}

/// The im2col row of one output pixel that [`conv2d`] gathers on the stack: up to this many
/// terms (a 3 × 3 window of 128 channels; of 64 on a microcontroller, whose stack this is);
/// larger windows are summed term by term.
const PATCH: usize = if cfg!(target_arch = "arm") { 576 } else { 1152 };

/// The output channels whose sums [`depthwise_conv2d`] keeps on the stack at once: 64 where
/// there are vector lanes, 16 on a microcontroller (whose stack this is).
const DEPTHWISE_CHANNELS: usize = if cfg!(target_arch = "arm") { 32 } else { 64 };

/// The outputs whose sums [`conv2d`] and [`fully_connected`] rescale at once (as
/// [`DEPTHWISE_CHANNELS`]).
const BLOCK: usize = if cfg!(target_arch = "arm") { 32 } else { 64 };

/// A quantised convolution's constants: the filter (for [`conv2d`], TensorFlow Lite's rows
/// `[out][h, w, in]` in [`PANEL`]'s layout; for [`depthwise_conv2d`], TensorFlow Lite's
/// `[h, w, channels · multiplier]`) and the bias with the
/// input's zero point folded in: `bias[o] - zero_point · Σ filter[o]`. The padding then reads
/// the input's zero point, and every tap's term is `filter · input`.
#[derive(Clone, Copy, Debug)]
pub struct Conv<'a> {
    /// The input's and output's sizes; `channels` is the input's.
    pub window: &'a crate::conv::Window,
    /// The output's channels.
    pub outputs: usize,
    /// See above.
    pub filter: &'a [i8],
    /// One per output channel, the zero point folded in (see above).
    pub bias: &'a [i32],
    /// The input's zero point, which the padding holds.
    pub padding: i8,
    /// How each output channel's sum becomes int8.
    pub rescale: Rescale<'a>,
}

/// What a convolution does with each output as it stores it: a closure
/// `then(what out held, the output, [n, h, w, c])` returning what to store, as the graph's
/// elementwise ops after the convolution make it (a residual `ADD` computed in the pass that
/// writes the convolution, over the tensor it adds). `None` stores the output.
pub type Then<'t> = Option<&'t dyn Fn(i8, i8, [usize; 4]) -> i8>;

/// The int8 `CONV_2D` of `x` (NHWC) into `out` (NHWC): each output the dot product of its
/// window's im2col row and its filter row, plus its folded bias, rescaled, then stored through
/// `then`. Slices too short for the sizes leave `out` as it is.
pub fn conv2d(c: &Conv, x: &[i8], out: &mut [i8], then: Then) {
    crate::dispatch::best(ConvKernel::<false> { c, x, out, then });
}

/// The int8 `DEPTHWISE_CONV_2D` of `x` into `out` (NHWC), output channel `c · multiplier + m`
/// reading input channel `c`, where `multiplier = outputs / channels`.
pub fn depthwise_conv2d(c: &Conv, x: &[i8], out: &mut [i8], then: Then) {
    crate::dispatch::best(ConvKernel::<true> { c, x, out, then });
}

/// The most bytes a window's height of input rows may take for [`conv2d_over`] ([`fits_over`]):
/// the same on every target, as the graph's plan, made when it compiles, depends on it.
pub const STRIP: usize = 2048;

/// The bytes of input rows [`conv2d_over`] keeps on the stack: as many output rows at once as
/// their windows' rows fit (a microcontroller's stack holds [`STRIP`]; elsewhere, more rows a
/// call, fewer calls).
const STRIP_ROWS: usize = if cfg!(target_arch = "arm") { STRIP } else { 8 * STRIP };

/// Whether [`conv2d_over`] can compute a convolution over its own input: no vertical dilation,
/// an output no larger than the input, a window's height of input rows within [`STRIP`], and
/// every input row still needed where the output rows before it are written. Output row `r` is
/// computed from a strip of input rows, those of the row before that its window shares, and the
/// rest read fresh from the input; the first of those must start at or after the end of output
/// rows `0..r`. A convolution of stride 1 of as many output as input channels passes (each
/// output row ends where its input row did); so does a 1 × 1 of stride 2 (ResNet's shortcut).
pub const fn fits_over(window: &crate::conv::Window, outputs: usize) -> bool {
    let w = window;
    let ([height, width], [out_height, out_width]) = (w.input, w.output);
    let (stride, before, rows) = (w.strides[0], w.before[0], w.kernel[0]);
    let (line, out_line) = (width * w.channels, out_width * outputs);
    if w.dilations[0] != 1 || stride == 0 || rows == 0 || line == 0 {
        return false;
    }
    if out_height * out_line > height * line || rows * line > STRIP {
        return false;
    }
    let mut r = 1;
    while r < out_height {
        // Output row r's window covers padded rows top..top + rows; the strip keeps those below
        // the previous window's end.
        let top = r * stride;
        let kept_end = (r - 1) * stride + rows;
        let fresh = if top > kept_end { top } else { kept_end };
        let end = top + rows;
        // The first fresh row that is an input row (not padding).
        let first = fresh.saturating_sub(before);
        if fresh < end && end > before && first < height && first * line < r * out_line {
            return false;
        }
        r += 1;
    }
    true
}

/// The int8 `CONV_2D` (or `DEPTHWISE_CONV_2D` of multiplier 1, `depthwise`) of the NHWC tensor
/// in `data`, written over it: the output row by row, each computed from a strip of the input
/// rows its windows read (a window's height of rows on the stack, rows in the padding holding
/// the zero point; those the previous window shares kept, the rest copied from `data`), then
/// stored at the output's place. [`fits_over`] says when no input row is overwritten before it
/// is read. The same outputs as [`conv2d`], so the same bits; a convolution [`fits_over`]
/// refuses leaves `data` as it is.
pub fn conv2d_over(c: &Conv, depthwise: bool, data: &mut [i8], then: Then) {
    let w = *c.window;
    if !fits_over(&w, c.outputs) || (depthwise && c.outputs != w.channels) {
        return;
    }
    let ([height, width], channels, rows, stride) = (w.input, w.channels, w.kernel[0], w.strides[0]);
    let (line, out_line) = (width * channels, w.output[1] * c.outputs);
    if data.len() < w.batch * height * line {
        return;
    }
    // Output rows `block` at a time, as many as the strip holds the rows of.
    let block = ((STRIP_ROWS / line).saturating_sub(rows) / stride + 1).min(w.output[0].max(1));
    let mut strip = [0i8; STRIP_ROWS];
    for n in 0..w.batch {
        // Image `n`'s input starts at `n * height * line`, its output at the output's place,
        // no later (the output is no larger), ending before the next image's input.
        let (input, output) = (n * height * line, n * w.output[0] * out_line);
        // The padded rows the strip holds: `held..held + span` (none yet).
        let (mut held, mut span) = (0usize, 0usize);
        for r in (0..w.output[0]).step_by(block) {
            let count = block.min(w.output[0] - r);
            let (top, new_span) = (r * stride, (count - 1) * stride + rows);
            // Rows the previous strip shares moved up, the rest copied (rows in the padding
            // hold the zero point).
            let kept = (held + span).saturating_sub(top).min(new_span);
            if kept > 0 {
                strip.copy_within((span - kept) * line..span * line, 0);
            }
            for j in kept..new_span {
                let source = (top + j).checked_sub(w.before[0]).filter(|&i| i < height);
                let target = &mut strip[j * line..(j + 1) * line];
                match source {
                    Some(i) => target.copy_from_slice(&data[input + i * line..input + (i + 1) * line]),
                    None => target.fill(c.padding),
                }
            }
            (held, span) = (top, new_span);
            // These output rows from the strip: a VALID window vertically (the strip holds the
            // padding's rows), the input's own horizontally.
            let rows_window = crate::conv::Window {
                batch: 1,
                input: [new_span, width],
                output: [count, w.output[1]],
                before: [0, w.before[1]],
                ..w
            };
            let strip_conv = Conv { window: &rows_window, ..*c };
            let out = &mut data[output + r * out_line..output + (r + count) * out_line];
            let at_rows = then
                .map(|then| move |old: i8, value: i8, [_, h, col, k]: [usize; 4]| then(old, value, [n, r + h, col, k]));
            let then: Then = match &at_rows {
                Some(f) => Some(f),
                None => None,
            };
            if depthwise {
                depthwise_conv2d(&strip_conv, &strip[..new_span * line], out, then);
            } else {
                conv2d(&strip_conv, &strip[..new_span * line], out, then);
            }
        }
    }
}

/// A convolution, or a depthwise one (`DEPTHWISE`): two kernels, so that each has only the stack
/// it needs (on a microcontroller, the depthwise one has no im2col row: 1,152 bytes less at the
/// peak of keyword spotting).
struct ConvKernel<'c, 'a, 'o, 't, const DEPTHWISE: bool> {
    c: &'c Conv<'a>,
    x: &'c [i8],
    out: &'o mut [i8],
    then: Then<'t>,
}

/// Stores a block of outputs: `out[k] =` [`Rescale::lanes`] of `sums[k]`, output channels
/// `first..` of output pixel `pixel`, or through `then` when there is one.
#[inline(always)]
fn store(c: &Conv, first: usize, sums: &[i32], out: &mut [i8], then: Then, pixel: [usize; 3]) {
    let n = sums.len().min(out.len());
    let bias = &c.bias[first..first + n];
    match then {
        None => c.rescale.lanes(first, sums, bias, &mut out[..n]),
        Some(then) => {
            let mut values = [0i8; BLOCK];
            let values = &mut values[..n.min(BLOCK)];
            c.rescale.lanes(first, sums, bias, values);
            let [b, h, w] = pixel;
            for ((slot, &value), k) in out.iter_mut().zip(values.iter()).zip(first..) {
                *slot = then(*slot, value, [b, h, w, k]);
            }
        }
    }
}

impl<const DEPTHWISE: bool> crate::dispatch::Kernel for ConvKernel<'_, '_, '_, '_, DEPTHWISE> {
    type Output = ();

    #[inline(always)]
    fn run(self, _: crate::dispatch::Registers) {
        let ConvKernel { c, x, out, then } = self;
        let w = c.window;
        let (cin, cout) = (w.channels, c.outputs);
        let Some((in_pixels, out_pixels)) = w.pixels() else { return };
        let taps = w.taps();
        let filter_size = if DEPTHWISE { taps * cout } else { cout * taps * cin };
        if x.len() < in_pixels * cin
            || out.len() < out_pixels * cout
            || c.filter.len() < filter_size
            || c.bias.len() < cout
            || cin == 0
            || (DEPTHWISE && cout % cin != 0)
        {
            return;
        }
        if DEPTHWISE {
            depthwise(c, x, out, then);
        } else if taps == 1 && w.before == [0, 0] {
            pointwise(c, x, out, then);
        } else if taps * cin <= PATCH {
            by_patches(c, x, out, then);
        } else {
            by_terms(c, x, out, then);
        }
    }
}

/// A depthwise convolution: a block of output channels at a time, their sums on the stack, tap
/// by tap.
#[inline(always)]
fn depthwise(c: &Conv, x: &[i8], out: &mut [i8], then: Then) {
    let w = c.window;
    let (cin, cout) = (w.channels, c.outputs);
    let multiplier = cout / cin;
    let mut acc = [0i32; DEPTHWISE_CHANNELS];
    let mut outputs = out.chunks_exact_mut(cout);
    for n in 0..w.batch {
        for oh in 0..w.output[0] {
            for ow in 0..w.output[1] {
                let Some(outputs) = outputs.next() else { return };
                for start in (0..cout).step_by(DEPTHWISE_CHANNELS) {
                    let end = (start + DEPTHWISE_CHANNELS).min(cout);
                    let acc = &mut acc[..end - start];
                    acc.fill(0);
                    for kh in 0..w.kernel[0] {
                        for kw in 0..w.kernel[1] {
                            let at = (kh * w.kernel[1] + kw) * cout;
                            let weights = &c.filter[at + start..at + end];
                            match w.input_pixel(n, oh, ow, kh, kw) {
                                Some(i) if multiplier == 1 => {
                                    multiply_add(acc, weights, &x[i * cin + start..i * cin + end]);
                                }
                                Some(i) => {
                                    for (k, (a, &f)) in acc.iter_mut().zip(weights).enumerate() {
                                        let v = x[i * cin + (start + k) / multiplier];
                                        *a = a.wrapping_add(i32::from(f) * i32::from(v));
                                    }
                                }
                                None => {
                                    for (a, &f) in acc.iter_mut().zip(weights) {
                                        *a = a.wrapping_add(i32::from(f) * i32::from(c.padding));
                                    }
                                }
                            }
                        }
                    }
                    store(c, start, acc, &mut outputs[start..end], then, [n, oh, ow]);
                }
            }
        }
    }
}

/// A 1 × 1 convolution without padding: each output pixel's im2col row is its input pixel's
/// channels, read where they are.
#[inline(always)]
fn pointwise(c: &Conv, x: &[i8], out: &mut [i8], then: Then) {
    let w = c.window;
    let (cin, cout) = (w.channels, c.outputs);
    let mut sums = [0i32; BLOCK];
    let mut outputs = out.chunks_exact_mut(cout);
    for n in 0..w.batch {
        for oh in 0..w.output[0] {
            for ow in 0..w.output[1] {
                let (Some(outputs), Some(i)) = (outputs.next(), w.input_pixel(n, oh, ow, 0, 0)) else { return };
                let row = &x[i * cin..(i + 1) * cin];
                for start in (0..cout).step_by(BLOCK) {
                    let end = (start + BLOCK).min(cout);
                    dots(row, &c.filter[start * cin..end * cin], &mut sums[..end - start]);
                    store(c, start, &sums[..end - start], &mut outputs[start..end], then, [n, oh, ow]);
                }
            }
        }
    }
}

/// A convolution whose im2col row fits [`PATCH`]: each output pixel's row gathered on the stack
/// (the padding's taps holding the zero point), then its dot products with the filter's rows,
/// rescaled a block at a time in vector lanes.
// On 32-bit Arm a function of its own, so that its row is on the stack only while it runs (not
// under a 1 × 1 convolution's); elsewhere inlined into `best`'s variants for each instruction
// set.
#[cfg_attr(target_arch = "arm", inline(never))]
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn by_patches(c: &Conv, x: &[i8], out: &mut [i8], then: Then) {
    let w = c.window;
    let (cin, cout) = (w.channels, c.outputs);
    let terms = w.taps() * cin;
    let mut patch = [0i8; PATCH];
    let mut sums = [0i32; BLOCK];
    let mut outputs = out.chunks_exact_mut(cout);
    for n in 0..w.batch {
        for oh in 0..w.output[0] {
            for ow in 0..w.output[1] {
                let Some(outputs) = outputs.next() else { return };
                for kh in 0..w.kernel[0] {
                    for kw in 0..w.kernel[1] {
                        let at = (kh * w.kernel[1] + kw) * cin;
                        match w.input_pixel(n, oh, ow, kh, kw) {
                            Some(i) => patch[at..at + cin].copy_from_slice(&x[i * cin..(i + 1) * cin]),
                            None => patch[at..at + cin].fill(c.padding),
                        }
                    }
                }
                let patch = &patch[..terms];
                for start in (0..cout).step_by(BLOCK) {
                    let end = (start + BLOCK).min(cout);
                    dots(patch, &c.filter[start * terms..end * terms], &mut sums[..end - start]);
                    store(c, start, &sums[..end - start], &mut outputs[start..end], then, [n, oh, ow]);
                }
            }
        }
    }
}

/// A convolution of a window too large for [`PATCH`]: each output's sum term by term.
#[cfg_attr(target_arch = "arm", inline(never))]
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn by_terms(c: &Conv, x: &[i8], out: &mut [i8], then: Then) {
    let w = c.window;
    let (cin, cout) = (w.channels, c.outputs);
    let terms = w.taps() * cin;
    let mut outputs = out.chunks_exact_mut(cout);
    for n in 0..w.batch {
        for oh in 0..w.output[0] {
            for ow in 0..w.output[1] {
                let Some(outputs) = outputs.next() else { return };
                for (co, o) in outputs.iter_mut().enumerate() {
                    let mut sum = c.bias[co];
                    for kh in 0..w.kernel[0] {
                        for kw in 0..w.kernel[1] {
                            let first = (kh * w.kernel[1] + kw) * cin;
                            let line = w.input_pixel(n, oh, ow, kh, kw);
                            for ci in 0..cin {
                                let v = match line {
                                    Some(i) => x[i * cin + ci],
                                    None => c.padding,
                                };
                                let f = c.filter[panel_index(cout, terms, co, first + ci)];
                                sum = sum.wrapping_add(i32::from(f) * i32::from(v));
                            }
                        }
                    }
                    let value = c.rescale.apply(sum, co);
                    *o = match then {
                        None => value,
                        Some(then) => then(*o, value, [n, oh, ow, co]),
                    };
                }
            }
        }
    }
}

/// A quantised `FULLY_CONNECTED`'s constants: the weights (TensorFlow Lite's rows `[out][depth]`,
/// in [`PANEL`]'s layout), and the bias with the input's zero point folded in, as for [`Conv`].
#[derive(Clone, Copy, Debug)]
pub struct FullyConnected<'a> {
    /// The terms of each output.
    pub depth: usize,
    /// The outputs of each row.
    pub outputs: usize,
    /// `outputs` rows of `depth`, in [`PANEL`]'s layout.
    pub weights: &'a [i8],
    /// One per output, the zero point folded in.
    pub bias: &'a [i32],
    /// How each output's sum becomes int8.
    pub rescale: Rescale<'a>,
}

/// The int8 `FULLY_CONNECTED` of `rows` rows of `x` (row `r` at `x[r * row_step..]`, its terms one
/// apart) into `out`, output `(r, o)` at `out[r * steps.0 + o * steps.1]`. Slices too short for
/// the sizes leave `out` as it is.
pub fn fully_connected(
    f: &FullyConnected,
    rows: usize,
    x: &[i8],
    row_step: usize,
    out: &mut [i8],
    steps: (usize, usize),
) {
    crate::dispatch::best(DenseKernel { f, rows, x, row_step, out, steps });
}

struct DenseKernel<'c, 'a, 'o> {
    f: &'c FullyConnected<'a>,
    rows: usize,
    x: &'c [i8],
    row_step: usize,
    out: &'o mut [i8],
    steps: (usize, usize),
}

impl crate::dispatch::Kernel for DenseKernel<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    fn run(self, _: crate::dispatch::Registers) {
        let DenseKernel { f, rows, x, row_step, out, steps } = self;
        let (depth, outputs) = (f.depth, f.outputs);
        let last_out = (rows.max(1) - 1) * steps.0 + (outputs.max(1) - 1) * steps.1;
        if rows == 0
            || outputs == 0
            || x.len() < (rows - 1) * row_step + depth
            || f.weights.len() < outputs * depth
            || f.bias.len() < outputs
            || out.len() <= last_out
        {
            return;
        }
        let mut sums = [0i32; BLOCK];
        let mut outs = [0i8; BLOCK];
        for r in 0..rows {
            let line = &x[r * row_step..r * row_step + depth];
            for start in (0..outputs).step_by(BLOCK) {
                let end = (start + BLOCK).min(outputs);
                dots(line, &f.weights[start * depth..end * depth], &mut sums[..end - start]);
                f.rescale.lanes(start, &sums[..end - start], &f.bias[start..end], &mut outs[..end - start]);
                for (o, &q) in (start..end).zip(outs.iter()) {
                    out[r * steps.0 + o * steps.1] = q;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;

    /// Numbers from a small linear congruential generator, for the kernels' tests.
    struct Numbers(u64);

    impl Numbers {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn bytes(&mut self, n: usize) -> alloc::vec::Vec<i8> {
            (0..n).map(|_| self.next() as u8 as i8).collect()
        }
    }

    /// Rows of `n` terms, row-major, in [`PANEL`]'s layout, as [`panels`] lays them out.
    fn pack(rows: &[i8], n: usize) -> alloc::vec::Vec<i8> {
        let count = rows.len().checked_div(n).unwrap_or(0);
        let mut packed = alloc::vec![0i8; rows.len()];
        for row in 0..count {
            for k in 0..n {
                packed[panel_index(count, n, row, k)] = rows[row * n + k];
            }
        }
        packed
    }

    #[test]
    fn the_const_packing_is_panel_index() {
        let rows: [i8; 21 * 37] = core::array::from_fn(|i| (i * 7 % 251) as u8 as i8);
        assert_eq!(panels(&rows, 37).as_slice(), pack(&rows, 37).as_slice());
        let empty: [i8; 0] = [];
        assert_eq!(panels(&empty, 0), empty);
    }

    #[test]
    fn panels_hold_each_term_once_and_dots_read_them() {
        let mut numbers = Numbers(5);
        for (rows, n) in [(1, 1), (8, 3), (7, 17), (9, 64), (64, 40), (21, 5), (3, 0)] {
            let mut seen = alloc::vec![false; rows * n];
            for row in 0..rows {
                for k in 0..n {
                    let at = panel_index(rows, n, row, k);
                    assert!(!seen[at], "{rows} rows of {n}: row {row}, term {k} at {at} twice");
                    seen[at] = true;
                }
            }
            let (weights, x) = (numbers.bytes(rows * n), numbers.bytes(n));
            let mut sums = alloc::vec![7; rows];
            dots(&x, &pack(&weights, n), &mut sums);
            for (row, &sum) in sums.iter().enumerate() {
                let want: i32 = (0..n).map(|k| i32::from(weights[row * n + k]) * i32::from(x[k])).sum();
                assert_eq!(sum, want, "{rows} rows of {n}: row {row}");
            }
        }
    }

    /// A window of TensorFlow's SAME (`same`) or VALID padding.
    fn window(
        input: [usize; 2],
        channels: usize,
        kernel: [usize; 2],
        strides: [usize; 2],
        same: bool,
    ) -> crate::conv::Window {
        let dilations = [1, 2];
        let mut output = [0; 2];
        let mut before = [0; 2];
        for k in 0..2 {
            let span = (kernel[k] - 1) * dilations[k] + 1;
            if same {
                output[k] = input[k].div_ceil(strides[k]);
                before[k] = ((output[k] - 1) * strides[k] + span).saturating_sub(input[k]) / 2;
            } else {
                output[k] = (input[k] - span) / strides[k] + 1;
            }
        }
        crate::conv::Window { batch: 2, input, channels, kernel, strides, dilations, before, output }
    }

    /// TFLite Micro's `ConvPerChannel` / `DepthwiseConvPerChannel`, written out: padded taps
    /// skipped, `filter · (input + offset)`, the bias unfolded.
    fn reference(c: &Conv, filter: &[i8], bias: &[i32], x: &[i8], depthwise: bool) -> alloc::vec::Vec<i8> {
        let w = c.window;
        let (cin, cout) = (w.channels, c.outputs);
        let offset = -i32::from(c.padding);
        let mut out = alloc::vec::Vec::new();
        for n in 0..w.batch {
            for oh in 0..w.output[0] {
                for ow in 0..w.output[1] {
                    for co in 0..cout {
                        let mut acc = bias[co];
                        for kh in 0..w.kernel[0] {
                            for kw in 0..w.kernel[1] {
                                let Some(i) = w.input_pixel(n, oh, ow, kh, kw) else { continue };
                                let tap = kh * w.kernel[1] + kw;
                                if depthwise {
                                    let v = i32::from(x[i * cin + co / (cout / cin)]);
                                    acc += i32::from(filter[tap * cout + co]) * (v + offset);
                                } else {
                                    for ci in 0..cin {
                                        let f = i32::from(filter[(co * w.taps() + tap) * cin + ci]);
                                        acc += f * (i32::from(x[i * cin + ci]) + offset);
                                    }
                                }
                            }
                        }
                        out.push(c.rescale.apply(acc, co));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn convolution_kernels_equal_tflite_micro_written_out() {
        let mut numbers = Numbers(7);
        // (channels, outputs, kernel, strides, SAME, depthwise): a long patch (9 · 200 terms is
        // past `PATCH`), a depthwise multiplier of 2, more depthwise channels than a block.
        for (cin, cout, kernel, strides, same, depthwise) in [
            (3, 5, [3, 3], [2, 2], true, false),
            (16, 8, [3, 2], [1, 2], false, false),
            (200, 3, [3, 3], [1, 1], true, false),
            (5, 45, [1, 1], [1, 1], false, false),
            (9, 64, [2, 2], [1, 1], true, false),
            (6, 48, [3, 1], [2, 1], false, false),
            (8, 8, [3, 3], [1, 1], true, true),
            (4, 8, [2, 3], [2, 1], true, true),
            (72, 72, [3, 3], [2, 2], true, true),
        ] {
            let w = window([7, 9], cin, kernel, strides, same);
            let taps = kernel[0] * kernel[1];
            let filter = numbers.bytes(if depthwise { taps * cout } else { cout * taps * cin });
            let bias: alloc::vec::Vec<i32> = (0..cout).map(|_| numbers.next() as i32 % 5000 - 2500).collect();
            let x = numbers.bytes(w.batch * w.input[0] * w.input[1] * cin);
            let (multipliers, shifts): (alloc::vec::Vec<i32>, alloc::vec::Vec<i32>) =
                (0..cout).map(|k| (1_200_000_000 + k as i32 * 7_000_000, -9 - (k as i32 % 3))).unzip();
            let padding = -37i8;
            // The folded bias: minus the zero point times the sum of each output's weights.
            let folded: alloc::vec::Vec<i32> = (0..cout)
                .map(|co| {
                    let weights: i32 = if depthwise {
                        (0..taps).map(|t| i32::from(filter[t * cout + co])).sum()
                    } else {
                        filter[co * taps * cin..(co + 1) * taps * cin].iter().map(|&f| i32::from(f)).sum()
                    };
                    bias[co] - i32::from(padding) * weights
                })
                .collect();
            let rescale = Rescale { multipliers: &multipliers, shifts: &shifts, zero_point: 4, min: -128, max: 100 };
            let packed = if depthwise { filter.clone() } else { pack(&filter, taps * cin) };
            let c = Conv { window: &w, outputs: cout, filter: &packed, bias: &folded, padding, rescale };
            let mut out = alloc::vec![0i8; w.batch * w.output[0] * w.output[1] * cout];
            if depthwise {
                depthwise_conv2d(&c, &x, &mut out, None);
            } else {
                conv2d(&c, &x, &mut out, None);
            }
            let want = reference(&c, &filter, &bias, &x, depthwise);
            assert_eq!(out, want, "{cin} channels, {cout} outputs, {kernel:?}, depthwise {depthwise}");
            // Through a store: each output added to what `out` held (a residual add's shape),
            // its index checked against the position it is stored at.
            let held: alloc::vec::Vec<i8> = (0..out.len()).map(|i| (i % 7) as i8 - 3).collect();
            let mut through = held.clone();
            let [_, oh, ow] = [w.batch, w.output[0], w.output[1]];
            let then = |old: i8, value: i8, [n, h, col, k]: [usize; 4]| {
                assert_eq!(old, held[((n * oh + h) * ow + col) * cout + k], "index {n} {h} {col} {k}");
                old.saturating_add(value)
            };
            if depthwise {
                depthwise_conv2d(&c, &x, &mut through, Some(&then));
            } else {
                conv2d(&c, &x, &mut through, Some(&then));
            }
            let added: alloc::vec::Vec<i8> = held.iter().zip(&want).map(|(&h, &v)| h.saturating_add(v)).collect();
            assert_eq!(through, added, "through a store: {cin} channels, {cout} outputs, {kernel:?}");
        }
    }

    #[test]
    fn a_convolution_that_would_overwrite_what_it_reads_is_not_computed_over_its_input() {
        // More output channels than input at stride 1: output row 0 ends inside input row 1.
        let w = window([6, 8], 4, [3, 3], [1, 1], true);
        let w = crate::conv::Window { dilations: [1, 1], before: [1, 1], ..w };
        assert!(!fits_over(&w, 8) && fits_over(&w, 4));
        // Refused, it leaves the data as they were.
        let w = window([6, 8], 4, [3, 3], [1, 1], true);
        let w = crate::conv::Window { dilations: [1, 1], before: [1, 1], ..w };
        let mut data = alloc::vec![5i8; 6 * 8 * 4];
        let rescale = Rescale { multipliers: &[1 << 30], shifts: &[0], zero_point: 0, min: -128, max: 127 };
        let c = Conv { window: &w, outputs: 8, filter: &[1; 8 * 9 * 4], bias: &[0; 8], padding: 0, rescale };
        assert!(!fits_over(&w, 8));
        conv2d_over(&c, false, &mut data, None);
        assert!(data.iter().all(|&v| v == 5), "refused: left as it was");
    }

    #[test]
    fn a_convolution_over_its_input_gives_the_convolutions_outputs() {
        let mut numbers = Numbers(13);
        // (channels, outputs, kernel, depthwise): 3 × 3 and 1 × 1, fewer outputs than inputs, a
        // window taller than its padding.
        // The last two are tall enough to take several strips on every target.
        for (input, cin, cout, kernel, strides, depthwise) in [
            ([6, 8], 8, 8, [3, 3], [1, 1], false),
            ([6, 8], 6, 4, [1, 1], [1, 1], false),
            ([6, 8], 5, 3, [3, 1], [1, 1], false),
            ([6, 8], 4, 8, [1, 1], [2, 2], false),
            ([6, 8], 2, 8, [3, 3], [2, 2], false),
            ([6, 8], 8, 8, [3, 3], [1, 1], true),
            ([6, 8], 4, 4, [5, 3], [1, 1], true),
            ([70, 20], 32, 32, [3, 3], [1, 1], false),
            ([70, 20], 32, 32, [3, 3], [1, 1], true),
        ] {
            let w = window(input, cin, kernel, strides, true);
            let w = crate::conv::Window { dilations: [1, 1], before: [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2], ..w };
            assert!(fits_over(&w, cout), "{cin} channels, {cout} outputs, {kernel:?}, {strides:?}");
            let taps = kernel[0] * kernel[1];
            let filter = numbers.bytes(if depthwise { taps * cout } else { cout * taps * cin });
            let packed = if depthwise { filter.clone() } else { pack(&filter, taps * cin) };
            let bias: alloc::vec::Vec<i32> = (0..cout).map(|_| numbers.next() as i32 % 5000 - 2500).collect();
            let (multipliers, shifts): (alloc::vec::Vec<i32>, alloc::vec::Vec<i32>) =
                (0..cout).map(|k| (1_100_000_000 + k as i32 * 9_000_000, -8 - (k as i32 % 3))).unzip();
            let rescale = Rescale { multipliers: &multipliers, shifts: &shifts, zero_point: -2, min: -128, max: 127 };
            let c = Conv { window: &w, outputs: cout, filter: &packed, bias: &bias, padding: 17, rescale };
            let x = numbers.bytes(w.batch * w.input[0] * w.input[1] * cin);
            let outputs = w.batch * w.output[0] * w.output[1] * cout;
            let mut want = alloc::vec![0i8; outputs];
            let mut over = x.clone();
            if depthwise {
                depthwise_conv2d(&c, &x, &mut want, None);
            } else {
                conv2d(&c, &x, &mut want, None);
            }
            conv2d_over(&c, depthwise, &mut over, None);
            assert_eq!(
                &over[..outputs],
                &want[..],
                "{cin} channels, {cout} outputs, {kernel:?}, depthwise {depthwise}"
            );
            // Through a store, its index that of the output written.
            let mut over = x.clone();
            let then = |_: i8, value: i8, [n, h, col, k]: [usize; 4]| {
                assert_eq!(value, want[((n * w.output[0] + h) * w.output[1] + col) * cout + k]);
                value.wrapping_add(1)
            };
            conv2d_over(&c, depthwise, &mut over, Some(&then));
            let plus_one: alloc::vec::Vec<i8> = want.iter().map(|v| v.wrapping_add(1)).collect();
            assert_eq!(&over[..outputs], &plus_one[..], "through a store: {cin}, {cout}, {kernel:?}");
        }
    }

    #[test]
    fn the_dense_kernel_equals_tflite_micro_written_out() {
        let mut numbers = Numbers(11);
        let (rows, depth, outputs) = (3, 37, 11);
        let weights = numbers.bytes(outputs * depth);
        let x = numbers.bytes(rows * 40);
        let bias: alloc::vec::Vec<i32> = (0..outputs).map(|_| numbers.next() as i32 % 3000 - 1500).collect();
        let zero_point = 21;
        let folded: alloc::vec::Vec<i32> = (0..outputs)
            .map(|o| {
                bias[o] - zero_point * weights[o * depth..(o + 1) * depth].iter().map(|&w| i32::from(w)).sum::<i32>()
            })
            .collect();
        let rescale = Rescale { multipliers: &[1_500_000_000], shifts: &[-8], zero_point: -3, min: -128, max: 127 };
        let panels = pack(&weights, depth);
        let f = FullyConnected { depth, outputs, weights: &panels, bias: &folded, rescale };
        // Rows 40 apart; the output column-major (as nalgebra holds a matrix).
        let mut out = alloc::vec![0i8; rows * outputs];
        fully_connected(&f, rows, &x, 40, &mut out, (1, rows));
        for r in 0..rows {
            for o in 0..outputs {
                let mut acc = bias[o];
                for d in 0..depth {
                    acc += i32::from(weights[o * depth + d]) * (i32::from(x[r * 40 + d]) - zero_point);
                }
                assert_eq!(out[r + o * rows], rescale.apply(acc, o), "row {r}, output {o}");
            }
        }
    }

    #[test]
    fn doubling_high_mul_rounds_half_away_from_zero_and_saturates() {
        // 2^30 is one half in Q0.31: half of 3 is 1.5, rounded to 2; of -3, to -1 (the nudge
        // of -1/2 and C++'s division toward zero round ties up).
        assert_eq!(doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(doubling_high_mul(5, 1 << 30), 3);
        assert_eq!(doubling_high_mul(-5, 1 << 30), -2);
        // Not a tie: -1.6 is -2.
        assert_eq!(doubling_high_mul(-16, 214_748_365), -2);
        assert_eq!(doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(doubling_high_mul(i32::MAX, i32::MAX), i32::MAX - 1);
    }

    #[test]
    fn rounding_divide_by_pot_rounds_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(6, 2), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
    }

    #[test]
    fn requantize_applies_multiplier_shift_zero_point_and_clamp() {
        // 0.75 = 2^31 * 0.75 / 2^31, shift 0: 100 * 0.75 = 75, plus 3.
        let three_quarters = 1_610_612_736;
        assert_eq!(requantize(100, three_quarters, 0, 3, -128, 127), 78);
        // Shift -2: 100 * 0.75 / 4 = 18.75, rounded to 19.
        assert_eq!(requantize(100, three_quarters, -2, 0, -128, 127), 19);
        // Shift +1: 100 * 1.5 = 150, clamped to 127.
        assert_eq!(requantize(100, three_quarters, 1, 0, -128, 127), 127);
        assert_eq!(requantize(-1000, three_quarters, 0, 0, 0, 127), 0);
    }

    #[test]
    fn requantize_is_multiply_by_quantized_multiplier_clamped() {
        let mut numbers = Numbers(3);
        for k in 0..200_000 {
            let acc = match k % 4 {
                0 => numbers.next() as i32,
                1 => (numbers.next() % 200_000) as i32 - 100_000,
                2 => [i32::MIN, i32::MAX, 0, -1, 1][k / 4 % 5],
                _ => (numbers.next() % 64) as i32 - 32,
            };
            let multiplier = if k % 97 == 0 { i32::MIN } else { (numbers.next() as i32).wrapping_abs() };
            let shift = (numbers.next() % 62) as i32 - 31;
            let zero_point = (numbers.next() % 256) as i32 - 128;
            let want =
                multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(zero_point).clamp(-128, 127);
            assert_eq!(
                requantize(acc, multiplier, shift, zero_point, -128, 127),
                want as i8,
                "{acc} {multiplier} {shift}"
            );
        }
    }

    #[test]
    fn average_rounds_half_away_from_zero() {
        assert_eq!(average(7, 2, -128, 127), 4);
        assert_eq!(average(-7, 2, -128, 127), -4);
        assert_eq!(average(-6, 4, -128, 127), -2);
        assert_eq!(average(1000, 2, -128, 127), 127);
        assert_eq!(average(5, 0, -128, 127), -128);
    }

    #[test]
    fn add_of_equal_scales_is_the_sum_of_the_offsets() {
        // Both operands and the output at one scale, zero points 0: the multipliers are 1/2 for
        // each operand (each is divided by twice the larger scale) and 2 / 2^20 for the sum.
        let p = Add {
            offsets: [0, 0],
            inputs: [(1 << 30, 0), (1 << 30, 0)],
            left_shift: 20,
            output: (1 << 30, -18),
            zero_point: 0,
            min: -128,
            max: 127,
        };
        assert_eq!(add(3, 4, &p), 7);
        assert_eq!(add(-100, -100, &p), -128);
        assert_eq!(add(-5, 2, &p), -3);
    }

    #[test]
    fn exp_on_negative_values_is_close_to_exp() {
        for x in [-0.01f64, -0.25, -0.5, -1.0, -2.5, -7.9, -20.0] {
            let raw = (x * f64::from(1 << 26)) as i32;
            let got = f64::from(exp_on_negative(raw)) / 2f64.powi(31);
            assert!((got - x.exp()).abs() < 1e-6, "exp({x}) = {got}");
        }
        assert_eq!(exp_on_negative(0), i32::MAX);
    }

    #[test]
    fn one_over_one_plus_x_is_close_to_its_value() {
        for x in [0.0f64, 0.25, 0.5, 0.999] {
            let raw = (x * 2f64.powi(31)) as i32;
            let got = f64::from(one_over_one_plus_x(raw)) / 2f64.powi(31);
            assert!((got - 1.0 / (1.0 + x)).abs() < 1e-6, "1/(1+{x}) = {got}");
        }
    }

    #[test]
    fn softmax_of_equal_inputs_is_uniform() {
        // An input scale of 1/16 and beta 1: multiplier 2^31 * 2^26 / 16 / 2^31 ... as computed
        // by the macro: (1 << 30, 23) stands for 2^26 / 16 = 2^22 = 0.5 * 2^23.
        let p = Softmax { multiplier: 1 << 30, left_shift: 23, diff_min: -1984 };
        let row = [5i8, 5, 5, 5];
        for c in 0..4 {
            // A quarter is 64 / 256: -128 + 64.
            assert_eq!(softmax(&p, 4, |k| row[k], c), -64);
        }
        // One large input takes (almost) everything.
        let row = [127i8, -128, -128, -128];
        assert_eq!(softmax(&p, 4, |k| row[k], 0), 127);
        assert_eq!(softmax(&p, 4, |k| row[k], 1), -128);
    }

    #[test]
    fn quantize_and_dequantize_round_trip() {
        assert_eq!(quantize(1.0, 0.5, 3), 5);
        assert_eq!(quantize(-0.25, 0.5, 0), -1);
        assert_eq!(quantize(1000.0, 0.5, 0), 127);
        assert_eq!(dequantize(5, 0.5, 3), 1.0);
    }
}
