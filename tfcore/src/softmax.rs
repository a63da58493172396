//! `tf.nn.softmax` along the last axis, as TensorFlow computes it: `e = exp(x - max(x))`, then
//! `e * (1 / sum(e))`, the sum in [`crate::sum::sum`]'s order.

use crate::elem::Float;
use crate::sum::sum;
use crate::{Array3, Array4};
use nalgebra::{SMatrix, SVector};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
