//! Tensors of rank 3 and 4: [`Array3`] and [`Array4`], fixed-size nested arrays in TensorFlow's
//! row-major order (NHWC for images: batch, height, width, channels).
//!
//! Ranks 0 to 2 are plain values and nalgebra's `SVector`/`SMatrix`; these two carry the
//! convolutional half of a graph. Every dimension is a const generic, as nalgebra's are, so a
//! `None` batch dimension is one more const generic of the fetch type, inferred from what is fed.
//! They live wherever they are put (the stack, a `static`, a struct) and need no allocator.

use core::fmt;
use core::ops::{Index, IndexMut};

macro_rules! array_type {
    (
        $(#[$doc:meta])*
        $name:ident, $rank:literal, [$($dim:ident),+], [$($i:ident),+], $nested:ty, $flatten:tt
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name<T, $(const $dim: usize),+>(pub $nested);

        impl<T, $(const $dim: usize),+> $name<T, $($dim),+> {
            /// The shape, outermost dimension first.
            pub const SHAPE: [usize; $rank] = [$($dim),+];

            /// The tensor whose element at each index is `f` of that index, computed in row-major
            /// order.
            pub fn from_fn(mut f: impl FnMut($(array_type!(@usize $i)),+) -> T) -> Self {
                array_type!(@from_fn f, [$($i),+], [])
            }

            /// The tensor with every element `value`.
            pub fn from_element(value: T) -> Self
            where
                T: Copy,
            {
                Self::from_fn(|$(array_type!(@ignore $i)),+| value)
            }

            /// The tensor holding `values` in row-major order, or `None` if there are not exactly
            /// as many as it has elements.
            pub fn from_slice(values: &[T]) -> Option<Self>
            where
                T: Copy,
            {
                let first = *values.first()?;
                let mut out = Self::from_element(first);
                if values.len() != out.as_slice().len() {
                    return None;
                }
                out.as_mut_slice().copy_from_slice(values);
                Some(out)
            }

            /// The shape, outermost dimension first.
            pub fn shape(&self) -> [usize; $rank] {
                Self::SHAPE
            }

            /// The elements in row-major order.
            pub fn as_slice(&self) -> &[T] {
                array_type!(@flat self.0, $flatten)
            }

            /// The elements in row-major order, to change them.
            pub fn as_mut_slice(&mut self) -> &mut [T] {
                array_type!(@flat_mut self.0, $flatten)
            }

            /// The elements in row-major order.
            pub fn iter(&self) -> core::slice::Iter<'_, T> {
                self.as_slice().iter()
            }
        }

        impl<T, $(const $dim: usize),+> Index<($(array_type!(@usize $i)),+)> for $name<T, $($dim),+> {
            type Output = T;

            #[inline]
            fn index(&self, ($($i),+): ($(array_type!(@usize $i)),+)) -> &T {
                &self.0$([$i])+
            }
        }

        impl<T, $(const $dim: usize),+> IndexMut<($(array_type!(@usize $i)),+)> for $name<T, $($dim),+> {
            #[inline]
            fn index_mut(&mut self, ($($i),+): ($(array_type!(@usize $i)),+)) -> &mut T {
                &mut self.0$([$i])+
            }
        }

        impl<T: Copy + Default, $(const $dim: usize),+> Default for $name<T, $($dim),+> {
            fn default() -> Self {
                Self::from_element(T::default())
            }
        }

        /// Prints as TensorFlow's Python prints a tensor: nested lists.
        impl<T: fmt::Display, $(const $dim: usize),+> crate::display::Tensor for $name<T, $($dim),+> {
            fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                nested(f, self.as_slice(), &Self::SHAPE, &fmt::Display::fmt)
            }
        }

        /// Writes `::tfcore::ArrayN([[...]])`, which reads back to the same bits.
        impl<T: crate::export::ToRust, $(const $dim: usize),+> crate::export::ToRust for $name<T, $($dim),+> {
            fn fmt_rust(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!("::tfcore::", stringify!($name), "("))?;
                nested(f, self.as_slice(), &Self::SHAPE, &crate::export::ToRust::fmt_rust)?;
                f.write_str(")")
            }

            fn fmt_rust_type(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!("::tfcore::", stringify!($name), "<"))?;
                match self.as_slice().first() {
                    Some(x) => x.fmt_rust_type(f)?,
                    None => f.write_str("_")?,
                }
                for d in Self::SHAPE {
                    write!(f, ", {d}")?;
                }
                f.write_str(">")
            }
        }

        /// Prints as `{:?}` prints the nested arrays, after the type's name.
        impl<T: fmt::Debug, $(const $dim: usize),+> fmt::Debug for $name<T, $($dim),+> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))?;
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
    (@usize $i:ident) => { usize };
    (@ignore $i:ident) => { _ };
    (@from_fn $f:ident, [$first:ident $(, $rest:ident)*], [$($outer:ident),*]) => {
        Self(array_type!(@nest $f, [$first $(, $rest)*], [$($outer),*]))
    };
    (@nest $f:ident, [$first:ident $(, $rest:ident)*], [$($outer:ident),*]) => {
        core::array::from_fn(|$first| array_type!(@nest $f, [$($rest),*], [$($outer,)* $first]))
    };
    (@nest $f:ident, [], [$($outer:ident),*]) => {
        $f($($outer),*)
    };
    (@flat $e:expr, 3) => { $e.as_flattened().as_flattened() };
    (@flat $e:expr, 4) => { $e.as_flattened().as_flattened().as_flattened() };
    (@flat_mut $e:expr, 3) => { $e.as_flattened_mut().as_flattened_mut() };
    (@flat_mut $e:expr, 4) => { $e.as_flattened_mut().as_flattened_mut().as_flattened_mut() };
}

array_type! {
    /// A tensor of rank 3, shape `[A, B, C]`, row-major: element `(i, j, k)` is `self.0[i][j][k]`.
    ///
    /// ```
    /// use tfcore::Array3;
    ///
    /// let x = Array3::<f32, 2, 1, 3>::from_fn(|i, _, k| (10 * i + k) as f32);
    /// assert_eq!(x[(1, 0, 2)], 12.0);
    /// assert_eq!(x.as_slice(), &[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    /// assert_eq!(x.shape(), [2, 1, 3]);
    /// ```
    Array3, 3, [A, B, C], [i, j, k], [[[T; C]; B]; A], 3
}

array_type! {
    /// A tensor of rank 4, shape `[N, H, W, C]`, row-major (TensorFlow's NHWC for images): element
    /// `(n, h, w, c)` is `self.0[n][h][w][c]`.
    ///
    /// ```
    /// use tfcore::Array4;
    ///
    /// // One 2 × 2 image with one channel.
    /// let image = Array4::<f32, 1, 2, 2, 1>([[[[0.0], [0.5]], [[1.0], [0.25]]]]);
    /// assert_eq!(image[(0, 1, 0, 0)], 1.0);
    /// assert_eq!(Array4::<u8, 1, 2, 2, 1>::from_slice(&[1, 2, 3, 4]).unwrap()[(0, 1, 1, 0)], 4);
    /// ```
    Array4, 4, [N, H, W, C], [n, h, w, c], [[[[T; C]; W]; H]; N], 4
}

/// `values` (row-major, of `shape`) as nested lists, `[[1, 2], [3, 4]]`, each element written by
/// `leaf`: TensorFlow's printing and Rust's array literals share the nesting.
fn nested<T>(
    f: &mut fmt::Formatter<'_>,
    values: &[T],
    shape: &[usize],
    leaf: &dyn Fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    let Some((&outer, inner)) = shape.split_first() else {
        return match values.first() {
            Some(x) => leaf(x, f),
            None => Ok(()),
        };
    };
    let step = values.len() / outer.max(1);
    f.write_str("[")?;
    for k in 0..outer {
        if k > 0 {
            f.write_str(", ")?;
        }
        nested(f, &values[k * step..(k + 1) * step], inner, leaf)?;
    }
    f.write_str("]")
}

#[cfg(feature = "serde")]
mod serde_impls {
    //! A tensor serializes as the flat sequence of its elements in row-major order (its shape is in
    //! its type), so that checkpoints need no allocator and any format can hold them.

    use super::{Array3, Array4};
    use core::fmt;
    use core::marker::PhantomData;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeTuple;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    macro_rules! serde_array {
        ($name:ident, [$($dim:ident),+]) => {
            impl<T: Serialize, $(const $dim: usize),+> Serialize for $name<T, $($dim),+> {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let mut tuple = serializer.serialize_tuple(self.as_slice().len())?;
                    for x in self.as_slice() {
                        tuple.serialize_element(x)?;
                    }
                    tuple.end()
                }
            }

            impl<'de, T, $(const $dim: usize),+> Deserialize<'de> for $name<T, $($dim),+>
            where
                T: Deserialize<'de> + Copy + Default,
            {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    struct Elements<T, $(const $dim: usize),+>(PhantomData<T>);

                    impl<'de, T, $(const $dim: usize),+> Visitor<'de> for Elements<T, $($dim),+>
                    where
                        T: Deserialize<'de> + Copy + Default,
                    {
                        type Value = $name<T, $($dim),+>;

                        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                            write!(f, "{} elements", 1 $(* $dim)+)
                        }

                        fn visit_seq<Q: SeqAccess<'de>>(self, mut seq: Q) -> Result<Self::Value, Q::Error> {
                            let mut out = $name::<T, $($dim),+>::default();
                            let len = out.as_slice().len();
                            for (k, slot) in out.as_mut_slice().iter_mut().enumerate() {
                                *slot = seq.next_element()?.ok_or_else(|| Q::Error::invalid_length(k, &self))?;
                            }
                            if seq.next_element::<T>()?.is_some() {
                                return Err(Q::Error::invalid_length(len + 1, &self));
                            }
                            Ok(out)
                        }
                    }

                    deserializer.deserialize_tuple(1 $(* $dim)+, Elements::<T, $($dim),+>(PhantomData))
                }
            }
        };
    }

    serde_array!(Array3, [A, B, C]);
    serde_array!(Array4, [N, H, W, C]);
}

/// A value at an address that is a multiple of 64 bytes on x86 (a cache line, and one AVX-512
/// register), and as `A` is elsewhere: the buffers of the generated code. A kernel reads their
/// rows of channels a vector at a time, and a vector load that straddles two cache lines costs
/// two (keyword spotting's pointwise layer: 13.8-14.0 µs with its rows 4 bytes off a line,
/// 12.0-12.2 µs on it, `cargo bench --bench convolutions`, AMD EPYC Zen 4).
#[cfg_attr(any(target_arch = "x86", target_arch = "x86_64"), repr(C, align(64)))]
#[derive(Clone, Copy, Debug)]
pub struct Aligned<A>(pub A);

/// A cache line's bytes: where [`Aligned`] places a value on x86, and where the workspace's slices
/// and the variables' copies in panels start.
#[cfg(feature = "alloc")]
pub(crate) const LINE: usize = 64;

/// The elements of `T` a line holds: the slack a slice needs so that it can start a line.
#[cfg(feature = "alloc")]
pub(crate) fn line_slack<T>() -> usize {
    LINE / core::mem::size_of::<T>().max(1)
}

/// The elements from `at` to the next line (an address read as a number, never dereferenced).
#[cfg(feature = "alloc")]
pub(crate) fn to_line<T>(at: *const T) -> usize {
    (at as usize).wrapping_neg() % LINE / core::mem::size_of::<T>().max(1)
}
