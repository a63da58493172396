//! Storage that generated code fills in place: matrices and arrays of zeros built where they
//! live, and every element of one overwritten by a function of its index.

use crate::{Array3, Array4};
use nalgebra::{ArrayStorage, SMatrix};

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
