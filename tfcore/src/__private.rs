//! Not public API: what the code `graph!` generates calls. Anything here may change in any release.
//!
//! Generated code reaches `tfcore` only through this module (`::tfcore::__private::...`), so
//! the public API stays free to evolve. It only re-exports: the kernels live in modules of their
//! own (`sum`, `gemm`, `rows`, `softmax`, `random`, `fill`, `math`, `elem`, `dispatch`), each
//! generic over the element type and the matrix sizes, all in plain Rust, so that a host build
//! and a Cortex-M build of the same graph give the same bits.

pub use crate::__with_alloc as with_alloc;
pub use crate::__with_ndarray as with_ndarray;
pub use crate::__with_serde as with_serde;
pub use crate::__with_std as with_std;
pub use crate::array::{Aligned, Array3, Array4};
pub use crate::conv::{
    conv2d, conv2d_filter_gradient, conv2d_plain, conv2d_rows, conv2d_rows_plain, depthwise_conv2d,
    depthwise_conv2d_plain, pointwise_conv2d, pointwise_conv2d_plain, Window,
};
#[cfg(feature = "alloc")]
pub use crate::darray::DArray;
pub use crate::darray::{BatchFeed, DArrayView};
pub use crate::dispatch::{dispatch, Compute};
pub use crate::elem::{sigmoid, sqrt, sqrtf, Elem, Float};
pub use crate::export::{RustConst, ToRust};
#[cfg(feature = "alloc")]
pub use crate::feed::{dynamic_array, dynamic_matrix, dynamic_vector, rows_of, split};
pub use crate::feed::{FeedError, Workspace};
pub use crate::fetch::Fetch;
pub use crate::fill::{fill2, fill3, fill4, zeros2, zeros3, zeros4};
#[cfg(feature = "parallel")]
pub use crate::gemm::SPLIT_WORK;
#[cfg(feature = "ndarray")]
pub use crate::nd_tensors::{NdTensor, TypedArray};
pub use crate::pool::{avg_pool2d, max_pool2d};
#[cfg(feature = "ndarray")]
pub use alloc::collections::BTreeMap;
#[cfg(feature = "ndarray")]
pub use alloc::string::String;
/// The arithmetic of int8 layers (`tflite.load` of a quantised model).
pub mod int8 {
    pub use crate::int8::*;
}
pub use crate::gemm::{
    matmul, matmul_copied, matmul_panels, matmul_via_panels, packed_lines, panel_at, panel_step, Lines, PanelCopy,
    PACKED_LINES, PANEL, PANELS_BELOW, PANEL_WIDTH,
};
pub use crate::math::{expf, logf, max_of, sigmoidf, tanhf, window_argmax, window_count, window_max};
#[cfg(feature = "std")]
pub use crate::npy;
#[cfg(feature = "std")]
pub use crate::onnx;
pub use crate::random::{random_uniform, random_uniform_scalar, rng, Rng, Uniform};
#[cfg(feature = "alloc")]
pub use crate::rows::sums_over_rows;
pub use crate::rows::{RangesSync, CHUNK_ROWS, RANGE_ROWS};
pub use crate::softmax::{softmax3, softmax4, softmax_by, softmax_rows, softmax_vector};
pub use crate::sum::{dot, in_order, in_order_products, sum, sum_products, Partial};
pub use crate::unknown::Unknown;
pub use crate::DEFAULT_SEED;
pub use libm::{exp, fabs, fabsf, log, tanh};
pub use nalgebra::{ArrayStorage, SMatrix, SVector};
#[cfg(feature = "alloc")]
pub use nalgebra::{DMatrix, DVector, Dim, Dyn, Matrix, RawStorage, U1};
#[cfg(feature = "serde")]
pub use serde;

/// `a × b` of a term `(a, b)`: the first term of a sum of products written out inline.
#[inline(always)]
pub fn product<T: crate::elem::Elem>((a, b): (T, T)) -> T {
    a.product(b)
}

/// `acc + a × b` of a term `(a, b)`, by `Elem::add_product` (fused with the `fma` feature): each
/// next term of a sum of products written out inline.
#[inline(always)]
pub fn add_product<T: crate::elem::Elem>(acc: T, (a, b): (T, T)) -> T {
    acc.add_product(a, b)
}
