//! TensorFlow-1-style dataflow graphs, written in Rust inside a [`graph!`] block and compiled at
//! build time into specialised, allocation-free code over nalgebra's statically sized matrices.
//!
//! A graph is declared once, checked at compile time (dtypes, shapes, names, feeds) and turned into
//! a module holding a `Session` type, one fetch type per named node and a `Variables` struct:
//!
//! ```
//! use tfcore::graph;
//!
//! graph! {
//!     /// The seed's first graph.
//!     pub mod first {
//!         let a = tf.constant([2.5, 2]);
//!         let b = tf.constant([3, 6], dtype = tf.float32);
//!         let total = tf.add(a, b);
//!     }
//! }
//!
//! let mut sess = first::Session::new();
//! assert_eq!(sess.run(first::total), tfcore::nalgebra::vector![5.5, 8.0]);
//! ```
//!
//! Feeds are the public fields of a fetch: a node that needs a placeholder can only be run with a
//! value for it, and a node that needs none is a unit struct.
//!
//! ```
//! use tfcore::graph;
//!
//! graph! {
//!     pub mod halve {
//!         let x = tf.placeholder(tf.float32, [None]);
//!         let half = x / 2;
//!         let total = tf.reduce_sum(half);
//!     }
//! }
//!
//! let mut sess = halve::Session::new();
//! let x = tfcore::nalgebra::vector![1.0, 2.0, 3.0];
//! assert_eq!(sess.run(halve::total { x: &x }), 3.0);
//! ```
//!
//! The crate is `#![no_std]` and needs no allocator: the same graph runs on a laptop and on a
//! Cortex-M. All floating-point math is the crate's own or [`libm`]'s (the square root, correctly
//! rounded everywhere, is the compiler's with `std`), so both give the same bits.
#![no_std]
// Five `unsafe` blocks in the crate, each calling code compiled for AVX2 or AVX-512 once the
// CPU has said it has those features: the matrix kernel's tiles and its panels' tiles
// (`gemm.rs`), and a fetch's body and the other kernels (`dispatch.rs`). Generated code has none.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// Lets the crate's own unit tests use `graph!`, whose output names `::tfcore`.
extern crate self as tfcore;

// The crate's README (crates.io's page) runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Wraps a generated `Variables` definition, adding `Serialize` and `Deserialize` when tfcore's
/// `serde` feature is on. Not public API: generated code calls it as
/// `::tfcore::__private::with_serde!`.
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_serde {
    ($item:item) => {
        #[derive(::tfcore::__private::serde::Serialize, ::tfcore::__private::serde::Deserialize)]
        #[serde(crate = "::tfcore::__private::serde")]
        $item
    };
}

/// Without the `serde` feature: the item unchanged.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_serde {
    ($item:item) => {
        $item
    };
}

/// Emits the items only when tfcore's `std` feature is on: generated code's conveniences that need
/// `std` (reading and writing `.npz` files). Not public API.
#[cfg(feature = "std")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($item:item)*) => {
        $($item)*
    };
}

/// Without `std`: nothing.
#[cfg(not(feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($item:item)*) => {};
}

/// Emits the items only when tfcore's `ndarray` feature is on: `Variables::to_ndarrays` and
/// `from_ndarrays`, the fetches that take ndarray's matrices and vectors. Not public API.
#[cfg(feature = "ndarray")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_ndarray {
    ($($item:item)*) => {
        $($item)*
    };
}

/// Without `ndarray`: nothing.
#[cfg(not(feature = "ndarray"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_ndarray {
    ($($item:item)*) => {};
}

/// Emits the items only when tfcore's `alloc` feature is on: the fetches that take feeds of
/// run-time size (`DMatrix`, views). Not public API.
#[cfg(feature = "alloc")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_alloc {
    ($($item:item)*) => {
        $($item)*
    };
}

/// Without `alloc`: nothing.
#[cfg(not(feature = "alloc"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_alloc {
    ($($item:item)*) => {};
}

pub use nalgebra;
/// The ndarray that the `ndarray` feature's feeds and conversions take, re-exported as nalgebra is.
#[cfg(feature = "ndarray")]
pub use ndarray;
pub use tfmacro::graph;

#[cfg(feature = "ndarray")]
mod nd_tensors;
#[cfg(feature = "std")]
pub mod npy;
#[cfg(feature = "std")]
mod npy_tensors;
#[cfg(feature = "ndarray")]
pub use nd_tensors::TypedArray;
#[cfg(feature = "std")]
pub mod onnx;
/// ONNX's messages, shared with the macro's import.
#[cfg(feature = "std")]
#[allow(dead_code)]
mod onnx_proto;

#[doc(hidden)]
pub mod __private;
mod array;
mod conv;
mod darray;
mod dispatch;
mod display;
mod elem;
mod export;
mod feed;
mod fetch;
mod fill;
mod gemm;
mod int8;
#[doc(hidden)]
pub mod math;
#[cfg(test)]
mod math_tests;
mod pcg;
mod pool;
mod random;
mod rows;
mod softmax;
mod sum;
mod unknown;

pub use array::{Array3, Array4};
#[cfg(feature = "ndarray")]
pub use darray::IntoNdarray;
#[cfg(feature = "alloc")]
pub use darray::{DArray, DArray3, DArray4};
pub use darray::{DArrayView, DArrayView3, DArrayView4};
pub use display::{display, Display, Tensor};
pub use export::{RustConst, ToRust};
pub use feed::FeedError;
pub use fetch::Fetch;
pub use unknown::Unknown;

/// The seed every `Session::new()` draws its random initial values from, so that runs repeat.
///
/// `Session::with_seed(seed)` picks another.
pub const DEFAULT_SEED: u64 = 0x7f_5eed;
