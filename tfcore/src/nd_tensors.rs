//! Every graph's `Variables` to and from a map of ndarray's arrays (the `ndarray` feature):
//! [`TypedArray`], one array of any of the graph's dtypes, and [`NdTensor`], how each tensor type
//! of generated code becomes one and back.

use crate::npy::{Dtype, Element, NpyError};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use ndarray::{ArrayD, IxDyn};

/// An ndarray array of one of the dtypes a graph's tensors have: what every graph's
/// `Variables::to_ndarrays` gives, one per variable, and `Variables::from_ndarrays` takes back.
///
/// ```
/// use tfcore::{graph, TypedArray};
///
/// graph! {
///     mod model {
///         let W = tf.Variable(tf.ones([2, 3]));
///         let steps = tf.Variable(0);
///     }
/// }
///
/// let sess = model::Session::new();
/// let mut arrays = sess.variables().to_ndarrays();
/// assert_eq!(arrays["W"].shape(), [2, 3]);
/// if let Some(TypedArray::Float32(w)) = arrays.get_mut("W") {
///     w[[1, 2]] = 5.0;
/// }
/// let variables = model::Variables::from_ndarrays(&arrays).expect("every variable, of its shape");
/// assert_eq!(variables.W[(1, 2)], 5.0);
///
/// arrays.remove("steps");
/// let err = model::Variables::from_ndarrays(&arrays).unwrap_err();
/// assert!(err.to_string().contains("steps"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum TypedArray {
    /// `tf.float32`.
    Float32(ArrayD<f32>),
    /// `tf.float64`.
    Float64(ArrayD<f64>),
    /// `tf.int32`.
    Int32(ArrayD<i32>),
    /// `tf.int64`.
    Int64(ArrayD<i64>),
    /// `tf.uint8`.
    UInt8(ArrayD<u8>),
    /// `tf.int8`.
    Int8(ArrayD<i8>),
    /// `tf.bool`.
    Bool(ArrayD<bool>),
}

impl TypedArray {
    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            TypedArray::Float32(a) => a.shape(),
            TypedArray::Float64(a) => a.shape(),
            TypedArray::Int32(a) => a.shape(),
            TypedArray::Int64(a) => a.shape(),
            TypedArray::UInt8(a) => a.shape(),
            TypedArray::Int8(a) => a.shape(),
            TypedArray::Bool(a) => a.shape(),
        }
    }

    /// The array's dtype, named as NumPy names it.
    pub fn dtype(&self) -> Dtype {
        match self {
            TypedArray::Float32(_) => Dtype::Float32,
            TypedArray::Float64(_) => Dtype::Float64,
            TypedArray::Int32(_) => Dtype::Int32,
            TypedArray::Int64(_) => Dtype::Int64,
            TypedArray::UInt8(_) => Dtype::UInt8,
            TypedArray::Int8(_) => Dtype::Int8,
            TypedArray::Bool(_) => Dtype::Bool,
        }
    }
}

/// An element type of [`TypedArray`]: how its arrays are wrapped and found again.
pub trait NdElement: Element {
    /// The array, wrapped.
    fn wrap(array: ArrayD<Self>) -> TypedArray;
    /// The array, if `typed` holds this element type.
    fn unwrap(typed: &TypedArray) -> Option<&ArrayD<Self>>;
}

macro_rules! nd_element {
    ($($t:ty => $variant:ident),*) => {$(
        impl NdElement for $t {
            fn wrap(array: ArrayD<Self>) -> TypedArray {
                TypedArray::$variant(array)
            }
            fn unwrap(typed: &TypedArray) -> Option<&ArrayD<Self>> {
                match typed {
                    TypedArray::$variant(a) => Some(a),
                    _ => None,
                }
            }
        }

        impl From<ArrayD<$t>> for TypedArray {
            fn from(array: ArrayD<$t>) -> Self {
                TypedArray::$variant(array)
            }
        }
    )*};
}
nd_element!(f32 => Float32, f64 => Float64, i32 => Int32, i64 => Int64, u8 => UInt8, i8 => Int8, bool => Bool);

/// A tensor type of generated code as a [`TypedArray`] and back: scalars, nalgebra's
/// `SMatrix`/`SVector`, [`crate::Array3`] and [`crate::Array4`]. Generated `Variables` call it;
/// not public API.
#[doc(hidden)]
pub trait NdTensor: Sized {
    /// The tensor as an array of `shape` (TensorFlow's: a vector's is `[n]`).
    fn to_typed(&self, shape: &[usize]) -> TypedArray;
    /// The tensor of `shape` from `arrays[key]`, or an error naming `key` if it is missing or of
    /// another shape or dtype.
    fn from_typed(arrays: &BTreeMap<String, TypedArray>, key: &str, shape: &[usize]) -> Result<Self, NpyError>;
}

/// The elements of `arrays[key]` in row-major order, checked against `shape` and `T`.
fn elements<T: NdElement>(
    arrays: &BTreeMap<String, TypedArray>,
    key: &str,
    shape: &[usize],
) -> Result<Vec<T>, NpyError> {
    let typed = arrays
        .get(key)
        .ok_or_else(|| NpyError::MissingKey { key: key.into(), available: arrays.keys().cloned().collect() })?;
    let array = T::unwrap(typed).ok_or(NpyError::DtypeMismatch { expected: T::DTYPE, found: typed.dtype() })?;
    if array.shape() != shape {
        return Err(NpyError::ShapeMismatch {
            key: key.into(),
            expected: shape.to_vec(),
            found: array.shape().to_vec(),
        });
    }
    Ok(array.iter().copied().collect())
}

/// `values`, row-major, as an array of `shape`.
fn array<T: NdElement>(shape: &[usize], values: Vec<T>) -> TypedArray {
    T::wrap(ArrayD::from_shape_vec(IxDyn(shape), values).expect("as many values as the shape"))
}

impl<T: NdElement> NdTensor for T {
    fn to_typed(&self, shape: &[usize]) -> TypedArray {
        array(shape, alloc::vec![*self])
    }
    fn from_typed(arrays: &BTreeMap<String, TypedArray>, key: &str, shape: &[usize]) -> Result<Self, NpyError> {
        Ok(elements::<T>(arrays, key, shape)?[0])
    }
}

impl<T: NdElement + nalgebra::Scalar, const R: usize, const C: usize> NdTensor for nalgebra::SMatrix<T, R, C> {
    fn to_typed(&self, shape: &[usize]) -> TypedArray {
        array(shape, self.transpose().iter().copied().collect())
    }
    fn from_typed(arrays: &BTreeMap<String, TypedArray>, key: &str, shape: &[usize]) -> Result<Self, NpyError> {
        Ok(nalgebra::SMatrix::from_row_slice(&elements::<T>(arrays, key, shape)?))
    }
}

macro_rules! nd_array {
    ($name:ident, $($dim:ident),+) => {
        impl<T: NdElement, $(const $dim: usize),+> NdTensor for crate::$name<T, $($dim),+> {
            fn to_typed(&self, shape: &[usize]) -> TypedArray {
                array(shape, self.as_slice().to_vec())
            }
            fn from_typed(arrays: &BTreeMap<String, TypedArray>, key: &str, shape: &[usize]) -> Result<Self, NpyError> {
                let values = elements::<T>(arrays, key, shape)?;
                crate::$name::from_slice(&values).ok_or_else(|| NpyError::ShapeMismatch {
                    key: key.into(),
                    expected: [$($dim),+].to_vec(),
                    found: shape.to_vec(),
                })
            }
        }
    };
}
nd_array!(Array3, A, B, C);
nd_array!(Array4, A, B, C, D);
