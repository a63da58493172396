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
#[inline]
pub fn requantize(acc: i32, multiplier: i32, shift: i32, zero_point: i32, min: i32, max: i32) -> i8 {
    let scaled = multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(zero_point);
    scaled.clamp(min, max) as i8
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

#[cfg(test)]
mod tests {
    use super::*;

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
