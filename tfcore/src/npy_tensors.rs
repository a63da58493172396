//! [`NpyTensor`] for the tensor types of generated code: nalgebra's matrices and vectors, and
//! [`crate::Array3`] and [`crate::Array4`]. (The rest of `npy` is shared with the macro, which has
//! neither.)

use crate::npy::{elements, write_npy, Element, NpyError, NpyTensor, Npz, NpzWriter};

impl<T: Element + nalgebra::Scalar, const R: usize, const C: usize> NpyTensor for nalgebra::SMatrix<T, R, C> {
    fn read(npz: &Npz, key: &str, shape: &[usize]) -> Result<Self, NpyError> {
        Ok(nalgebra::SMatrix::from_row_slice(&elements::<T>(npz, key, shape)?))
    }
    fn write(&self, out: &mut NpzWriter, key: &str, shape: &[usize]) {
        out.add(key, &write_npy(shape, self.transpose().iter().copied()));
    }
}

macro_rules! npy_array {
    ($name:ident, $($dim:ident),+) => {
        impl<T: Element, $(const $dim: usize),+> NpyTensor for crate::$name<T, $($dim),+> {
            fn read(npz: &Npz, key: &str, shape: &[usize]) -> Result<Self, NpyError> {
                let values = elements::<T>(npz, key, shape)?;
                crate::$name::from_slice(&values).ok_or_else(|| NpyError::ShapeMismatch {
                    key: key.into(),
                    expected: [$($dim),+].to_vec(),
                    found: shape.to_vec(),
                })
            }
            fn write(&self, out: &mut NpzWriter, key: &str, shape: &[usize]) {
                out.add(key, &write_npy(shape, self.as_slice().iter().copied()));
            }
        }
    };
}
npy_array!(Array3, A, B, C);
npy_array!(Array4, A, B, C, D);
