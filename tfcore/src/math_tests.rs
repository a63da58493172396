//! Tests of [`crate::math`] (a file the macro compiles too, so its tests live here): each
//! function's largest error in ULP over a sweep of float32, against `libm` in float64.

use crate::math::{expf, logf, tanhf};

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
            assert!((got - want).abs() <= f32::MIN_POSITIVE as f64 * f32::EPSILON as f64 * 2.0, "{x}: {got} {want}");
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
fn worst_ulp(first: u32, f: impl Fn(f32) -> f32, exact: impl Fn(f64) -> f64, mut each: impl FnMut(f32)) -> (f64, f32) {
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
