//! Printing fetched values the way TensorFlow's Python prints them: `[5.5, 8]`, `[[1, 0], [0, 1]]`.

use core::fmt;
use nalgebra::{ArrayStorage, Const, Matrix, Scalar};

/// A value `Session::run` can return, printable as a nested list by [`display`].
///
/// Rank-1 tensors are nalgebra column vectors (`SVector<T, n>`), so an `n × 1` matrix prints as a
/// vector: the two share one Rust type.
pub trait Tensor {
    /// Writes the value as a nested list, each number formatted with `f`'s options (precision,
    /// width), as `{}` would format it.
    fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

macro_rules! scalar_tensor {
    ($($t:ty)*) => {$(
        impl Tensor for $t {
            fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}
scalar_tensor!(f32 f64 i32 i64 u8 bool);

impl<T, const R: usize, const C: usize> Tensor for Matrix<T, Const<R>, Const<C>, ArrayStorage<T, R, C>>
where
    T: Scalar + fmt::Display,
{
    fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, i: usize| -> fmt::Result {
            f.write_str("[")?;
            for j in 0..C {
                if j > 0 {
                    f.write_str(", ")?;
                }
                fmt::Display::fmt(&self[(i, j)], f)?;
            }
            f.write_str("]")
        };
        f.write_str("[")?;
        for i in 0..R {
            if i > 0 {
                f.write_str(", ")?;
            }
            if C == 1 {
                fmt::Display::fmt(&self[(i, 0)], f)?;
            } else {
                row(f, i)?;
            }
        }
        f.write_str("]")
    }
}

impl Tensor for () {
    fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("()")
    }
}

macro_rules! tuple_tensor {
    ($(($($n:ident $i:tt),+))*) => {$(
        impl<$($n: Tensor),+> Tensor for ($($n,)+) {
            fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("(")?;
                $(
                    if $i > 0 {
                        f.write_str(", ")?;
                    }
                    self.$i.fmt_nested(f)?;
                )+
                f.write_str(")")
            }
        }
    )*};
}
tuple_tensor! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// Formats a fetched value as TensorFlow's Python prints it, as a nested list.
///
/// ```
/// use tfcore::{display, nalgebra::{matrix, vector}};
///
/// assert_eq!(display(&vector![5.5f32, 8.0]).to_string(), "[5.5, 8]");
/// assert_eq!(format!("{:.1}", display(&matrix![1.0, 0.25; 0.0, 1.0])), "[[1.0, 0.2], [0.0, 1.0]]");
/// assert_eq!(display(&3).to_string(), "3");
/// ```
pub fn display<T: Tensor + ?Sized>(value: &T) -> Display<'_, T> {
    Display(value)
}

/// A value formatted as a nested list; made by [`display`].
pub struct Display<'a, T: ?Sized>(&'a T);

impl<T: Tensor + ?Sized> fmt::Display for Display<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_nested(f)
    }
}

impl<T: Tensor + ?Sized> fmt::Debug for Display<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_nested(f)
    }
}
