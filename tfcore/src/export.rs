//! Values written as Rust source: trained weights baked into another program as a `const` item.

use core::fmt;
use nalgebra::{ArrayStorage, Const, Matrix, Scalar};

/// A value that can be written as a Rust expression of itself, usable in a `const` item.
///
/// Implemented for the element types, for nalgebra's statically sized matrices, and by `graph!`
/// for every graph's `Variables`. Floats are written so that they read back to the same bits.
pub trait ToRust {
    /// Writes an expression that evaluates, in a `const`, to this value.
    fn fmt_rust(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Writes this value's type as a path another crate can name.
    fn fmt_rust_type(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

macro_rules! float_to_rust {
    ($($t:ident)*) => {$(
        impl ToRust for $t {
            fn fmt_rust(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.is_nan() {
                    write!(f, "{}::NAN", stringify!($t))
                } else if self.is_infinite() {
                    write!(f, "{}::{}INFINITY", stringify!($t), if *self < 0.0 { "NEG_" } else { "" })
                } else {
                    // `Debug` writes the shortest decimal that reads back to the same value, with
                    // a `.0` or an exponent so that it stays a float literal.
                    write!(f, "{:?}", self)
                }
            }

            fn fmt_rust_type(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    )*};
}
float_to_rust!(f32 f64);

macro_rules! plain_to_rust {
    ($($t:ident)*) => {$(
        impl ToRust for $t {
            fn fmt_rust(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self)
            }

            fn fmt_rust_type(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    )*};
}
plain_to_rust!(i32 i64 u8 bool);

impl<T, const R: usize, const C: usize> ToRust for Matrix<T, Const<R>, Const<C>, ArrayStorage<T, R, C>>
where
    T: Scalar + ToRust,
{
    fn fmt_rust(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([")?;
        for j in 0..C {
            f.write_str(if j == 0 { "[" } else { ", [" })?;
            for i in 0..R {
                if i > 0 {
                    f.write_str(", ")?;
                }
                self[(i, j)].fmt_rust(f)?;
            }
            f.write_str("]")?;
        }
        f.write_str("]))")
    }

    fn fmt_rust_type(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("::tfcore::nalgebra::SMatrix<")?;
        self[(0, 0)].fmt_rust_type(f)?;
        write!(f, ", {R}, {C}>")
    }
}

/// A value written as a `pub const` item; made by a graph's `Variables::to_rust_const`.
///
/// ```
/// use tfcore::{graph, RustConst};
///
/// graph! {
///     pub mod layer {
///         let w = tf.Variable(tf.constant([0.5, -0.25]));
///     }
/// }
///
/// let text = layer::Session::new().variables().to_rust_const("TRAINED").to_string();
/// assert!(text.contains("pub const TRAINED: layer::Variables = layer::Variables {"));
/// assert!(text.contains("ArrayStorage([[0.5, -0.25]])"));
/// ```
pub struct RustConst<'a, T: ?Sized> {
    name: &'a str,
    value: &'a T,
}

impl<'a, T: ToRust + ?Sized> RustConst<'a, T> {
    /// `value` as the item `pub const name: Type = value;`.
    pub fn new(name: &'a str, value: &'a T) -> Self {
        RustConst { name, value }
    }
}

impl<T: ToRust + ?Sized> fmt::Display for RustConst<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pub const {}: ", self.name)?;
        self.value.fmt_rust_type(f)?;
        f.write_str(" = ")?;
        self.value.fmt_rust(f)?;
        f.write_str(";\n")
    }
}
