//! Tensors of rank 3 and 4 whose sizes are known only at run time: [`DArrayView`], a borrowed
//! row-major view, and [`DArray`], its owned form (with the `alloc` feature).
//!
//! They are to [`Array3`](crate::Array3) and [`Array4`](crate::Array4) what nalgebra's `DMatrix`
//! is to `SMatrix`: a placeholder whose first dimension is `None` (`[None, 8, 8, 1]`, a batch of
//! images) takes a `&DArray` or a `DArrayView` of any batch, or with the `ndarray` feature an
//! `ndarray` array or view of the same rank, and a fetch of a `None` dimension returns a
//! `DArray`.
//!
//! Generated code also reads ndarray's matrices and vectors (fed with the `ndarray` feature)
//! through a `DArrayView` of rank 2 or 1, indexed `[(i, j)]` and `[i]`.
//!
//! ```
//! use tfcore::{DArray4, DArrayView4};
//!
//! let pixels: Vec<f32> = (0..2 * 8 * 8).map(|k| k as f32).collect();
//! let images = DArrayView4::from_slice([2, 8, 8, 1], &pixels).expect("2 × 8 × 8 × 1 elements");
//! assert_eq!(images[(1, 0, 2, 0)], 66.0);
//!
//! let owned: DArray4<f32> = images.to_owned();
//! assert_eq!(owned.shape(), [2, 8, 8, 1]);
//! assert_eq!(owned.view(), images);
//! assert!(DArrayView4::from_slice([3, 8, 8, 1], &pixels).is_none()); // 192 elements, not 128
//! ```

use core::ops::Index;

/// A borrowed tensor of rank `R` in row-major order (TensorFlow's: NHWC for images), of a shape
/// chosen at run time. `Copy`, like a slice.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DArrayView<'a, T, const R: usize> {
    shape: [usize; R],
    data: &'a [T],
}

impl<T, const R: usize> Clone for DArrayView<'_, T, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, const R: usize> Copy for DArrayView<'_, T, R> {}

/// A borrowed rank-3 tensor of run-time shape.
pub type DArrayView3<'a, T> = DArrayView<'a, T, 3>;
/// A borrowed rank-4 tensor of run-time shape: a batch of NHWC images.
pub type DArrayView4<'a, T> = DArrayView<'a, T, 4>;

/// The number of elements of `shape`, or `None` if it overflows `usize`.
fn count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

impl<'a, T, const R: usize> DArrayView<'a, T, R> {
    /// The view of `data` as a tensor of `shape`, or `None` if `data` does not hold exactly as
    /// many elements.
    pub fn from_slice(shape: [usize; R], data: &'a [T]) -> Option<Self> {
        (count(&shape)? == data.len()).then_some(DArrayView { shape, data })
    }

    /// The view of `data` as a tensor of `shape`, which the caller knows it holds.
    #[cfg(feature = "alloc")]
    pub(crate) fn from_parts(shape: [usize; R], data: &'a [T]) -> Self {
        debug_assert_eq!(count(&shape), Some(data.len()));
        DArrayView { shape, data }
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> [usize; R] {
        self.shape
    }

    /// The elements in row-major order.
    pub fn as_slice(&self) -> &'a [T] {
        self.data
    }

    /// The `n` entries of the first dimension from `first` on (`n` images from image `first`).
    ///
    /// # Panics
    ///
    /// If `first + n` is beyond the first dimension, as slicing does.
    pub fn rows(&self, first: usize, n: usize) -> Self {
        let mut shape = self.shape;
        let Some(outer) = shape.first_mut() else { return *self };
        assert!(first.checked_add(n).is_some_and(|end| end <= *outer), "rows {first}..+{n} of {outer}");
        *outer = n;
        let inner = count(&self.shape[1..]).unwrap_or(0);
        DArrayView { shape, data: &self.data[first * inner..(first + n) * inner] }
    }

    /// An owned copy.
    #[cfg(feature = "alloc")]
    pub fn to_owned(&self) -> DArray<T, R>
    where
        T: Clone,
    {
        DArray { shape: self.shape, data: self.data.to_vec() }
    }
}

/// An owned tensor of rank `R` in row-major order, of a shape chosen at run time: what a fetch of
/// a `None` dimension returns (with the `alloc` feature).
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DArray<T, const R: usize> {
    shape: [usize; R],
    data: alloc::vec::Vec<T>,
}

/// An owned rank-3 tensor of run-time shape.
#[cfg(feature = "alloc")]
pub type DArray3<T> = DArray<T, 3>;
/// An owned rank-4 tensor of run-time shape: a batch of NHWC images.
#[cfg(feature = "alloc")]
pub type DArray4<T> = DArray<T, 4>;

#[cfg(feature = "alloc")]
impl<T, const R: usize> DArray<T, R> {
    /// The tensor of `shape` holding `data` in row-major order, or `None` if `data` does not hold
    /// exactly as many elements.
    pub fn from_vec(shape: [usize; R], data: alloc::vec::Vec<T>) -> Option<Self> {
        (count(&shape)? == data.len()).then_some(DArray { shape, data })
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> [usize; R] {
        self.shape
    }

    /// The elements in row-major order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, to change them.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// A view of the whole tensor.
    pub fn view(&self) -> DArrayView<'_, T, R> {
        DArrayView { shape: self.shape, data: &self.data }
    }

    /// The elements in row-major order.
    pub fn into_vec(self) -> alloc::vec::Vec<T> {
        self.data
    }
}

/// Where element `index` of a row-major tensor of `shape` is, or a panic naming both if it is
/// outside.
fn flat_index<const R: usize>(shape: &[usize; R], index: [usize; R]) -> usize {
    assert!(index.iter().zip(shape).all(|(i, n)| i < n), "index {index:?} outside shape {shape:?}");
    index.iter().zip(shape).fold(0, |at, (i, n)| at * n + i)
}

macro_rules! index {
    ($rank:literal, [$($i:ident),+]) => {
        /// The element at an index, outermost dimension first.
        ///
        /// # Panics
        ///
        /// If the index is outside the shape.
        impl<T> Index<($(index!(@usize $i)),+)> for DArrayView<'_, T, $rank> {
            type Output = T;

            #[inline]
            fn index(&self, ($($i),+): ($(index!(@usize $i)),+)) -> &T {
                &self.data[flat_index(&self.shape, [$($i),+])]
            }
        }

        /// The element at an index, outermost dimension first.
        ///
        /// # Panics
        ///
        /// If the index is outside the shape.
        #[cfg(feature = "alloc")]
        impl<T> Index<($(index!(@usize $i)),+)> for DArray<T, $rank> {
            type Output = T;

            #[inline]
            fn index(&self, ($($i),+): ($(index!(@usize $i)),+)) -> &T {
                &self.data[flat_index(&self.shape, [$($i),+])]
            }
        }
    };
    (@usize $i:ident) => { usize };
}

index!(2, [i, j]);
index!(3, [i, j, k]);
index!(4, [i, j, k, l]);

/// The element at an index.
///
/// # Panics
///
/// If the index is outside the shape.
impl<T> Index<usize> for DArrayView<'_, T, 1> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.data[flat_index(&self.shape, [i])]
    }
}

/// What a placeholder of rank `R` whose first dimension is `None` can be fed at run time: the view
/// of its elements in row-major order, or `None` if they are not laid out so (an `ndarray` view
/// with strides). Implemented for `&DArray`, `DArrayView` and, with the `ndarray` feature,
/// ndarray's arrays and views of rank `R`. Generated code calls it; not public API.
#[doc(hidden)]
pub trait BatchFeed<T, const R: usize> {
    /// The elements in row-major order and the shape, if they are laid out so.
    fn batch(&self) -> Option<DArrayView<'_, T, R>>;
}

impl<T, const R: usize> BatchFeed<T, R> for DArrayView<'_, T, R> {
    fn batch(&self) -> Option<DArrayView<'_, T, R>> {
        Some(*self)
    }
}

#[cfg(feature = "alloc")]
impl<T, const R: usize> BatchFeed<T, R> for &DArray<T, R> {
    fn batch(&self) -> Option<DArrayView<'_, T, R>> {
        Some(self.view())
    }
}

#[cfg(feature = "ndarray")]
mod with_ndarray {
    use super::{BatchFeed, DArray, DArrayView};
    use ndarray::{ArrayBase, Data, Dim};

    macro_rules! ndarray_rank {
        ($rank:literal) => {
            impl<T, S: Data<Elem = T>> BatchFeed<T, $rank> for &ArrayBase<S, Dim<[usize; $rank]>> {
                fn batch(&self) -> Option<DArrayView<'_, T, $rank>> {
                    let shape: [usize; $rank] = self.shape().try_into().ok()?;
                    DArrayView::from_slice(shape, self.as_slice()?)
                }
            }

            impl<'a, T> BatchFeed<T, $rank> for ndarray::ArrayView<'a, T, Dim<[usize; $rank]>> {
                fn batch(&self) -> Option<DArrayView<'_, T, $rank>> {
                    let shape: [usize; $rank] = self.shape().try_into().ok()?;
                    DArrayView::from_slice(shape, self.as_slice()?)
                }
            }

            /// The same elements in an `ndarray` array.
            impl<T> From<DArray<T, $rank>> for ndarray::Array<T, Dim<[usize; $rank]>> {
                fn from(array: DArray<T, $rank>) -> Self {
                    let shape = array.shape();
                    ndarray::Array::from_shape_vec(shape, array.into_vec())
                        .expect("a DArray holds as many elements as its shape")
                }
            }
        };
    }

    ndarray_rank!(1);
    ndarray_rank!(2);
    ndarray_rank!(3);
    ndarray_rank!(4);

    /// A fetched value of run-time size as an `ndarray` array of its rank: `DArray`s (rank 3 and
    /// 4), and nalgebra's `DMatrix` and `DVector` (rank 2 and 1), whose elements are copied into
    /// row-major order.
    ///
    /// ```
    /// use tfcore::{IntoNdarray, nalgebra::DMatrix};
    ///
    /// let m = DMatrix::from_row_slice(2, 3, &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// assert_eq!(m.into_ndarray(), ndarray::array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// ```
    pub trait IntoNdarray {
        /// The `ndarray` array of the same rank.
        type Output;

        /// The same elements, at the same indices.
        fn into_ndarray(self) -> Self::Output;
    }

    impl<T, const R: usize> IntoNdarray for DArray<T, R>
    where
        ndarray::Array<T, Dim<[usize; R]>>: From<DArray<T, R>>,
        Dim<[usize; R]>: ndarray::Dimension,
    {
        type Output = ndarray::Array<T, Dim<[usize; R]>>;

        fn into_ndarray(self) -> Self::Output {
            self.into()
        }
    }

    impl<T: nalgebra::Scalar> IntoNdarray for nalgebra::DMatrix<T> {
        type Output = ndarray::Array2<T>;

        fn into_ndarray(self) -> ndarray::Array2<T> {
            ndarray::Array2::from_shape_fn(self.shape(), |(i, j)| self[(i, j)].clone())
        }
    }

    impl<T: nalgebra::Scalar> IntoNdarray for nalgebra::DVector<T> {
        type Output = ndarray::Array1<T>;

        fn into_ndarray(self) -> ndarray::Array1<T> {
            ndarray::Array1::from_iter(self.iter().cloned())
        }
    }
}

#[cfg(feature = "ndarray")]
pub use with_ndarray::IntoNdarray;
