//! The element types of tensors and their scalar arithmetic: [`Elem`] (what can be summed),
//! [`Float`] (what the float kernels take), and the scalar functions of `float32` and `float64`
//! whose bits come from IEEE 754 or `libm` rather than from tfgraph's own [`crate::math`].

use libm::exp;

/// The element types of tensors that can be summed: wrapping arithmetic for the integers, as
/// TensorFlow's kernels wrap.
pub trait Elem: Copy {
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;
    /// `self + other`, wrapping for integers.
    fn add(self, other: Self) -> Self;
    /// `self × other`, wrapping for integers.
    fn product(self, other: Self) -> Self;
    /// `self + x × w`, the step of every sum of products (matrix products, convolutions and their
    /// gradients), wrapping for integers. For floats without the `fma` feature, the product is
    /// rounded and then the sum; with it, one fused multiply-add rounds once. IEEE 754 defines
    /// both to the bit, so each gives the same bits on every target; they differ from each other.
    /// `self + t × 1` is `self + t` either way, so a plain term is a product with 1.
    fn add_product(self, x: Self, w: Self) -> Self;
    /// The mean of `n` elements whose sum is `self`: `self / n`; 0 for integers when `n` is 0.
    fn mean(self, n: usize) -> Self;
}

macro_rules! float_elem {
    ($($t:ty)*) => {$(
        impl Elem for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline]
            fn add(self, other: Self) -> Self {
                self + other
            }
            #[inline]
            fn product(self, other: Self) -> Self {
                self * other
            }
            #[inline(always)]
            fn add_product(self, x: Self, w: Self) -> Self {
                #[cfg(all(feature = "fma", feature = "std"))]
                return x.mul_add(w, self);
                #[cfg(all(feature = "fma", not(feature = "std")))]
                return libm::Libm::<$t>::fma(x, w, self);
                #[cfg(not(feature = "fma"))]
                return self + x * w;
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
            const ONE: Self = 1;
            #[inline]
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn product(self, other: Self) -> Self {
                self.wrapping_mul(other)
            }
            #[inline]
            fn add_product(self, x: Self, w: Self) -> Self {
                self.wrapping_add(x.wrapping_mul(w))
            }
            #[inline]
            fn mean(self, n: usize) -> Self {
                <$t>::try_from(n).ok().and_then(|n| self.checked_div(n)).unwrap_or(0)
            }
        }
    )*};
}
int_elem!(i32 i64 u8 i8);

/// Whether sums of products are fused ([`Elem::add_product`]): the `fma` feature.
pub(crate) const FMA: bool = cfg!(feature = "fma");

/// The floating-point element types.
pub trait Float:
    Elem + nalgebra::Scalar + PartialOrd + core::ops::Sub<Output = Self> + core::ops::Mul<Output = Self> + Send + Sync
{
    /// -0, the identity of addition to the bit: `-0.0 + x` is `x` for every `x`, `-0.0` and
    /// NaNs included (`0.0 + -0.0` is `0.0`). A sum that starts from it gives the bits of one
    /// that starts from its first term.
    const NEG_ZERO: Self;
    /// `e^self`, through `libm`.
    fn exp(self) -> Self;
    /// `1 / self`.
    fn recip(self) -> Self;
}

impl Float for f32 {
    const NEG_ZERO: Self = -0.0;
    #[inline]
    fn exp(self) -> Self {
        crate::math::expf(self)
    }
    #[inline]
    fn recip(self) -> Self {
        1.0 / self
    }
}

impl Float for f64 {
    const NEG_ZERO: Self = -0.0;
    #[inline]
    fn exp(self) -> Self {
        exp(self)
    }
    #[inline]
    fn recip(self) -> Self {
        1.0 / self
    }
}

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

/// `tf.sigmoid` for `float64`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
