//! The float32 elementwise functions of tfgraph that neither IEEE nor `libm` pins down well
//! enough: the same bits on every platform, and fast.
//!
//! This file is compiled twice: into `tfcore`, for the code graphs run, and into `tfmacro` (with
//! a symbolic link in `tfmacro/src/shared/`, as cxx shares its syntax module), for the constant folder, so that a folded constant
//! and the same value computed at run time are the same bits. It uses only `core` and plain `f32`
//! arithmetic (Rust never fuses a multiply and an add on its own), so x86 and a Cortex-M4F agree.

/// `e^x` for `float32`, within 1 ULP of the exact value over the whole range (0.98 ULP at worst
/// over every 97th float; `tfcore`'s tests check it).
///
/// Range reduction `x = k ln 2 + r` with `|r| <= ln 2 / 2`, `ln 2` split in two so that `k ln 2` is
/// exact, then a degree-6 polynomial for `e^r` (Cephes' `expf` coefficients), then `2^k` built from
/// the exponent bits in two halves (so that results near overflow and in the subnormal range are
/// right). Without branches, so that loops calling it vectorise.
#[inline]
pub fn expf(x: f32) -> f32 {
    use core::f32::consts::LOG2_E;
    // ln 2 = LN2_HI + LN2_LO, with LN2_HI (0.693359375) short enough that k * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -0.000_212_194_44;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    // exp(x) is +inf above ~88.73 and 0 below ~-103.97; clamping keeps k in range (and a NaN
    // stays NaN).
    let x = x.clamp(-104.0, 89.0);
    let rounded = x * LOG2_E + ROUND;
    let k = rounded - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = ((((0.000_198_756_91 * r + 0.001_398_199_9) * r + 0.008_333_452) * r + 0.041_665_796) * r + 0.166_666_66)
        * r
        + 0.5;
    let y = (p * r) * r + r + 1.0;
    // 2^k as two normal powers of two: k is in [-150, 129], each half in [-75, 65]. As an integer,
    // k is in the low bits of `rounded` (1.5 * 2^23 + k): read there rather than with `k as i32`,
    // whose saturating conversion keeps the loops around it from vectorising well.
    let k = rounded.to_bits() as i32 - ROUND.to_bits() as i32;
    let half = k >> 1;
    let scale = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    y * scale(half) * scale(k - half)
}

/// `tanh x` for `float32`, within 2 ULP over the whole range (`tfcore`'s tests check every 97th
/// float). Without branches, so that loops calling it vectorise (`libm`'s has several).
///
/// For `|x| < 0.625` an odd polynomial (Cephes' `tanhf` coefficients, `x + x³ P(x²)`), above it
/// `1 - 2 / (e^{2|x|} + 1)` through [`expf`] (which reaches `inf` past `|x| ≈ 44`, giving 1);
/// both are computed and one is kept, and the sign is `x`'s (so `tanh(-0) = -0`, and NaN stays
/// NaN).
#[inline]
pub fn tanhf(x: f32) -> f32 {
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let z = a * a;
    let p = (((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_5e-2) * z + 1.333_144_2e-1) * z - 3.333_328e-1;
    let small = a + a * (z * p);
    let large = 1.0 - 2.0 / (expf(a + a) + 1.0);
    let r = if a < 0.625 { small } else { large };
    f32::from_bits((r.to_bits() & 0x7fff_ffff) | (x.to_bits() & 0x8000_0000))
}

/// `ln x` for `float32`, within 1 ULP over the whole range (`tfcore`'s tests check every 97th
/// positive float, subnormals included). Without branches or tables, so that loops calling it
/// vectorise (`libm`'s reads a table, which vector lanes can only gather).
///
/// `x = 2^k m` with `m` in `[√½, √2)`, read off the bits (a subnormal `x` is first scaled by
/// `2^23`), then `ln m = f - f²/2 + f³ P(f)` with `f = m - 1` (Cephes' `logf` coefficients), then
/// `k ln 2` added in two parts, as in [`expf`]. `ln 0 = -inf`, `ln inf = inf`, and a negative `x`
/// or NaN gives NaN, as IEEE's `log` does.
#[inline]
pub fn logf(x: f32) -> f32 {
    // ln 2 = LN2_HI + LN2_LO, with LN2_HI short enough that k * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -0.000_212_194_44;
    // The bits of √½: subtracting them puts k, the exponent of x / √½ rounded down, in the top
    // bits.
    const SQRT_HALF: u32 = 0x3f35_04f3;
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * 8_388_608.0 } else { x };
    let bits = scaled.to_bits();
    let k = (bits.wrapping_sub(SQRT_HALF) as i32) >> 23;
    let m = f32::from_bits(bits.wrapping_sub((k as u32) << 23));
    let k = (k - if subnormal { 23 } else { 0 }) as f32;
    let f = m - 1.0;
    let z = f * f;
    let p = (((((((7.037_683_6e-2 * f - 1.151_461e-1) * f + 1.167_699_9e-1) * f - 1.242_014_1e-1) * f
        + 1.424_932_3e-1)
        * f
        - 1.666_805_8e-1)
        * f
        + 2.000_071_5e-1)
        * f
        - 2.499_999_4e-1)
        * f
        + 3.333_333e-1;
    let y = f * z * p + k * LN2_LO - 0.5 * z;
    let r = (f + y) + k * LN2_HI;
    let r = if x == f32::INFINITY { x } else { r };
    let r = if x == 0.0 { f32::NEG_INFINITY } else { r };
    if x < 0.0 || x.is_nan() {
        f32::NAN
    } else {
        r
    }
}

/// `tf.sigmoid` for `float32`: `1 / (1 + e^-x)`.
#[inline]
pub fn sigmoidf(x: f32) -> f32 {
    1.0 / (1.0 + expf(-x))
}

/// The largest of a pooling window's elements, as TensorFlow's max pooling (Eigen's max reducer)
/// finds it: starting from `lowest` (the type's lowest finite value), each valid element
/// replaces the running maximum when it is strictly greater. `at(a, b)` is the element at window
/// offset `(a, b)`, `None` in the padding.
#[inline]
pub fn window_max<T: PartialOrd + Copy>(
    lowest: T,
    kernel: [usize; 2],
    mut at: impl FnMut(usize, usize) -> Option<T>,
) -> T {
    let mut max = lowest;
    for a in 0..kernel[0] {
        for b in 0..kernel[1] {
            if let Some(v) = at(a, b) {
                if v > max {
                    max = v;
                }
            }
        }
    }
    max
}

/// The offset in its window of the element a max pooling output takes, as TensorFlow's
/// `MaxPoolGrad` finds it (to route the gradient there): the first valid element in row-major
/// order, replaced by any later one strictly greater.
#[inline]
pub fn window_argmax<T: PartialOrd + Copy>(
    kernel: [usize; 2],
    mut at: impl FnMut(usize, usize) -> Option<T>,
) -> (usize, usize) {
    let mut best: Option<(T, usize, usize)> = None;
    for a in 0..kernel[0] {
        for b in 0..kernel[1] {
            if let Some(v) = at(a, b) {
                let replace = match best {
                    None => true,
                    Some((m, _, _)) => m < v,
                };
                if replace {
                    best = Some((v, a, b));
                }
            }
        }
    }
    best.map_or((0, 0), |(_, a, b)| (a, b))
}

/// How many elements of a pooling window lie inside the input along one axis: the window of
/// output `o` covers padded positions `o * stride .. o * stride + kernel`, the input
/// `pad_before .. pad_before + size`. TensorFlow's average pooling divides by this count (for both
/// axes multiplied), not by the window's size.
#[inline]
pub fn window_count(o: usize, stride: usize, kernel: usize, pad_before: usize, size: usize) -> usize {
    let start = o * stride;
    let lo = if start > pad_before { start } else { pad_before };
    let end = start + kernel;
    let hi = if end < pad_before + size { end } else { pad_before + size };
    hi.saturating_sub(lo)
}

/// The largest of `f(0)`, ..., `f(n - 1)` as TensorFlow's `reduce_max` computes it: from `lowest`
/// (-inf for floats), and NaN as soon as any element is NaN.
#[inline]
pub fn max_of<T: PartialOrd + Copy>(lowest: T, n: usize, mut f: impl FnMut(usize) -> T) -> T {
    let mut max = lowest;
    for k in 0..n {
        let v = f(k);
        let nan = v.partial_cmp(&v).is_none();
        if nan || v > max {
            max = v;
        }
    }
    max
}
