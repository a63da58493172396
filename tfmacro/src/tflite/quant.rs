//! The constants of int8 layers, computed when the graph compiles exactly as TensorFlow Lite
//! Micro computes them when it prepares a model (`tensorflow/lite/kernels/kernel_util.cc`,
//! `quantization_util.cc`, `micro/kernels/*_common.cc`), down to which products are taken in
//! `f32` and which in `f64`: the run-time arithmetic (`tfcore/src/int8.rs`) then gives its bits.

/// TFLite's `QuantizeMultiplier`: `m` as `q / 2^31 · 2^shift`, `q` a 32-bit integer in
/// `[2^30, 2^31)` (0 for `m` = 0), rounded half away from zero; multipliers below 2^-31 flush to 0.
pub fn quantize_multiplier(m: f64) -> (i32, i32) {
    if m == 0.0 || !m.is_finite() {
        return (0, 0);
    }
    let (q, mut shift) = libm::frexp(m);
    let mut fixed = (q * (1i64 << 31) as f64).round() as i64;
    if fixed == 1 << 31 {
        fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    (fixed as i32, shift)
}

/// TFLite's `Quantize` of `f` into a tensor of `scale` and `zero_point`, as the activation range
/// uses it: `round(f / scale)` in `f32`, plus the zero point.
fn quantize(f: f32, scale: f32, zero_point: i32) -> i32 {
    (f / scale).round() as i32 + zero_point
}

/// TFLite's `CalculateActivationRangeQuantized` for an int8 output: the clamp a fused activation
/// makes, in the output's quantised values.
pub fn activation_range(activation: super::Activation, scale: f32, zero_point: i32) -> Result<(i32, i32), String> {
    use super::Activation;
    let (lo, hi) = (-128, 127);
    Ok(match activation {
        Activation::None => (lo, hi),
        Activation::Relu => (lo.max(quantize(0.0, scale, zero_point)), hi),
        Activation::Relu6 => (lo.max(quantize(0.0, scale, zero_point)), hi.min(quantize(6.0, scale, zero_point))),
        Activation::ReluN1To1 => (lo.max(quantize(-1.0, scale, zero_point)), hi.min(quantize(1.0, scale, zero_point))),
        Activation::Other(name) => {
            return Err(format!(
                "its fused activation {name} is not supported (NONE, RELU, RELU6 and RELU_N1_TO_1 are)"
            ))
        }
    })
}

/// A convolution's (or a per-channel fully connected layer's) multiplier for one output channel:
/// `input_scale · filter_scale / output_scale`, each widened to `f64` first.
pub fn per_channel(input_scale: f32, filter_scale: f32, output_scale: f32) -> (i32, i32) {
    quantize_multiplier(f64::from(input_scale) * f64::from(filter_scale) / f64::from(output_scale))
}

/// A fully connected layer's one multiplier (`GetQuantizedConvolutionMultipler`): the two input
/// scales multiplied in `f32`, then divided by the output's in `f64`.
pub fn per_tensor(input_scale: f32, filter_scale: f32, output_scale: f32) -> (i32, i32) {
    quantize_multiplier(f64::from(input_scale * filter_scale) / f64::from(output_scale))
}

/// `ADD`'s multipliers (`CalculateOpDataAdd`): each operand rescaled to twice the larger scale
/// after a left shift of 20 bits, the sum to the output's scale.
pub fn add(scales: [f32; 2], output_scale: f32) -> ([(i32, i32); 2], (i32, i32), u32) {
    let left_shift = 20;
    let twice_max = 2.0 * f64::from(scales[0].max(scales[1]));
    let input = |s: f32| quantize_multiplier(f64::from(s) / twice_max);
    let output = quantize_multiplier(twice_max / (f64::from(1u32 << left_shift) * f64::from(output_scale)));
    ([input(scales[0]), input(scales[1])], output, left_shift)
}

/// The int8 softmax's constants (`CalculateSoftmaxParams`, `PreprocessSoftmaxScaling`,
/// `CalculateInputRadius`): the multiplier and left shift taking an input difference to Q5.26,
/// and the smallest difference that counts.
pub fn softmax(beta: f32, input_scale: f32) -> (i32, i32, i32) {
    const INTEGER_BITS: i32 = 5;
    let max_real = (1i64 << 31) as f64 - 1.0;
    let real = (f64::from(beta) * f64::from(input_scale) * (1i64 << (31 - INTEGER_BITS)) as f64).min(max_real);
    let (multiplier, left_shift) = quantize_multiplier(real);
    let radius = f64::from((1 << INTEGER_BITS) - 1) * (1i64 << (31 - INTEGER_BITS)) as f64
        / (1i64 << left_shift.clamp(0, 62)) as f64;
    let diff_min = -(radius.floor() as i32);
    (multiplier, left_shift, diff_min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_multiplier_splits_into_a_q31_fraction_and_a_shift() {
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(0.75), (1_610_612_736, 0));
        assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
        assert_eq!(quantize_multiplier(3.0), (1_610_612_736, 2));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        // Below 2^-31 the multiplier flushes to zero.
        assert_eq!(quantize_multiplier(1e-12), (0, 0));
        // A fraction that rounds up to 1 moves to the next power of two.
        assert_eq!(quantize_multiplier(1.0 - 1e-12), (1 << 30, 1));
    }

    #[test]
    fn activation_ranges_are_the_quantised_bounds() {
        use super::super::Activation;
        assert_eq!(activation_range(Activation::None, 0.1, 3), Ok((-128, 127)));
        assert_eq!(activation_range(Activation::Relu, 0.1, -128), Ok((-128, 127)));
        assert_eq!(activation_range(Activation::Relu, 0.1, 3), Ok((3, 127)));
        // 6 / 0.05 = 120, plus -10.
        assert_eq!(activation_range(Activation::Relu6, 0.05, -10), Ok((-10, 110)));
    }

    #[test]
    fn softmax_constants_for_a_scale_of_one_sixteenth() {
        // beta · scale · 2^26 = 2^22: the multiplier 1/2 with a left shift of 23, and a radius of
        // 31 · 2^26 / 2^23 = 248.
        assert_eq!(softmax(1.0, 1.0 / 16.0), (1 << 30, 23, -248));
    }
}
