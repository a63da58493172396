//! `tf.random_uniform`: the generator a session draws its initial values from, and the draws.

use crate::elem::Elem;
use nalgebra::SMatrix;
use rand::{RngExt, SeedableRng};

/// The random generator a session draws initial values from.
pub type Rng = crate::pcg::Pcg32;

/// A generator seeded with `seed`.
pub fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
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
    fn random_uniform_stays_in_range_and_repeats() {
        let a: SMatrix<f32, 4, 5> = random_uniform(&mut rng(1), -1.0, 1.0);
        let b: SMatrix<f32, 4, 5> = random_uniform(&mut rng(1), -1.0, 1.0);
        assert_eq!(a, b);
        assert!(a.iter().all(|x| (-1.0..1.0).contains(x)));
        assert_eq!(random_uniform_scalar(&mut rng(2), 3.0f32, 3.0), 3.0);
    }
}
