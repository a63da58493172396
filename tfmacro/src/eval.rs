//! The constant folder's evaluator: computes a pure op on constant inputs at expansion time, by
//! the op's `fold` rule in [`crate::ops`], with the tensors and sums here.
//!
//! Every rule follows the emitted code exactly: the same arithmetic in the element type (wrapping for
//! integers), the same `libm` functions, and the same summation order as
//! `tfcore::__private::sum`, so folding a node never changes a result by a bit.

use crate::ir::{Binary, DType, Data, Number, Op, Scalar};
use crate::values::convert_number;

/// A constant tensor: dtype, shape and row-major elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<Scalar>,
}

impl Tensor {
    /// The tensor of a `Const` op.
    pub fn of_const(dtype: DType, shape: &[usize], data: &Data) -> Tensor {
        let len = shape.iter().product();
        let data = match data {
            Data::Splat(s) => vec![*s; len],
            Data::Dense(v) => v.clone(),
        };
        Tensor { dtype, shape: shape.to_vec(), data }
    }

    /// The element at a multi-index given for `shape`, broadcast from this tensor's shape.
    pub fn at(&self, shape: &[usize], index: &[usize]) -> Scalar {
        let offset = shape.len() - self.shape.len();
        let mut flat = 0;
        for (k, &n) in self.shape.iter().enumerate() {
            let i = if n == 1 { 0 } else { index[k + offset] };
            flat = flat * n + i;
        }
        self.data[flat]
    }

    /// As `Data`, a splat when every element is the same (so that it is emitted as a literal).
    /// "The same" is bit for bit: `-0.0` is not `0.0`, and a NaN is the same as itself, so that
    /// a folded scalar NaN is a splat too.
    pub fn into_data(self) -> Data {
        let bits = |s: &Scalar| match *s {
            Scalar::F(x) => (0, x.to_bits() as i64),
            Scalar::I(i) => (1, i),
            Scalar::B(b) => (2, b as i64),
        };
        match self.data.first() {
            Some(first) if self.data.iter().all(|x| bits(x) == bits(first)) => Data::Splat(*first),
            _ => Data::Dense(self.data),
        }
    }
}

/// Every multi-index of `shape`, row-major.
pub fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for &n in shape {
        all = all.into_iter().flat_map(|prefix| (0..n).map(move |i| [prefix.clone(), vec![i]].concat())).collect();
    }
    all
}

/// The value of `op` on `inputs`, with result dtype and shape `shape`; `None` for ops the folder
/// leaves to run time. Each op folds by the rule in its home in [`crate::ops`].
pub fn eval(op: &Op, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Tensor> {
    let data = op.rules()?.fold(inputs, dtype, shape)?;
    Some(Tensor { dtype, shape: shape.to_vec(), data })
}

/// `tfcore::__private::sum`, step for step: [`sum_products`] of the terms as products with 1
/// (`t × 1` is `t`, and `acc + t × 1` is `acc + t`, fused or not: the same bits).
pub fn sum(dtype: DType, n: usize, mut f: impl FnMut(usize) -> Scalar) -> Scalar {
    let one = convert_number(Number::Int(1), dtype).unwrap_or(Scalar::I(1));
    sum_products(dtype, n, |k| (f(k), one))
}

/// `Elem::add_product` of the runtime: `acc + a × b`, fused into one rounding for floats with the
/// `fma` feature (which tfcore's `fma` turns on), a product then a sum without it.
pub fn add_product(dtype: DType, acc: Scalar, a: Scalar, b: Scalar) -> Scalar {
    match dtype {
        DType::Float32 if cfg!(feature = "fma") => {
            Scalar::F((float(a) as f32).mul_add(float(b) as f32, float(acc) as f32) as f64)
        }
        DType::Float64 if cfg!(feature = "fma") => Scalar::F(float(a).mul_add(float(b), float(acc))),
        _ => Binary::Add.apply(dtype, acc, Binary::Mul.apply(dtype, a, b)),
    }
}

/// `tfcore::__private::sum_products`, step for step: [`sum`]'s order, each product added to its
/// lane or the total by [`add_product`], the total of fewer than 8 terms starting at the first
/// product.
pub fn sum_products(dtype: DType, n: usize, mut f: impl FnMut(usize) -> (Scalar, Scalar)) -> Scalar {
    let add = |a, b| Binary::Add.apply(dtype, a, b);
    let zero = zero(dtype);
    let full = n / 8 * 8;
    let mut lanes = [zero; 8];
    let mut k = 0;
    while k < full {
        for (l, lane) in lanes.iter_mut().enumerate() {
            let (a, b) = f(k + l);
            *lane = add_product(dtype, *lane, a, b);
        }
        k += 8;
    }
    let [a, b, c, d, e, g, h, i] = lanes;
    let mut total = if full > 0 {
        add(add(add(a, b), add(c, d)), add(add(e, g), add(h, i)))
    } else if n > 0 {
        let (a, b) = f(0);
        Binary::Mul.apply(dtype, a, b)
    } else {
        zero
    };
    let mut k = if full > 0 { full } else { 1 };
    while k < n {
        let (a, b) = f(k);
        total = add_product(dtype, total, a, b);
        k += 1;
    }
    total
}

/// `tfcore::__private::in_order_products`: the first product, then each next added by
/// [`add_product`] (0 for no terms), the order of a convolution's window.
pub fn in_order_products(dtype: DType, n: usize, mut f: impl FnMut(usize) -> (Scalar, Scalar)) -> Scalar {
    if n == 0 {
        return zero(dtype);
    }
    let (a, b) = f(0);
    (1..n).fold(Binary::Mul.apply(dtype, a, b), |total, k| {
        let (a, b) = f(k);
        add_product(dtype, total, a, b)
    })
}

fn zero(dtype: DType) -> Scalar {
    convert_number(Number::Int(0), dtype).unwrap_or(Scalar::I(0))
}

/// `Elem::mean` of the runtime.
pub fn mean_of(dtype: DType, total: Scalar, count: usize) -> Scalar {
    match (dtype, total) {
        (DType::Float32, Scalar::F(x)) => Scalar::F((x as f32 / count as f32) as f64),
        (DType::Float64, Scalar::F(x)) => Scalar::F(x / count as f64),
        (_, Scalar::I(x)) => Scalar::I(if count == 0 { 0 } else { wrap(dtype, x.wrapping_div(count as i64)) }),
        (_, other) => other,
    }
}

/// An integer brought back into the range of its dtype, as wrapping arithmetic leaves it.
pub fn wrap(dtype: DType, x: i64) -> i64 {
    match dtype {
        DType::Int32 => x as i32 as i64,
        DType::UInt8 => x as u8 as i64,
        DType::Int8 => x as i8 as i64,
        _ => x,
    }
}

pub fn float(s: Scalar) -> f64 {
    match s {
        Scalar::F(x) => x,
        Scalar::I(i) => i as f64,
        Scalar::B(b) => b as u8 as f64,
    }
}

pub fn int(s: Scalar) -> i64 {
    match s {
        Scalar::I(i) => i,
        Scalar::F(x) => x as i64,
        Scalar::B(b) => b as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Unary;

    fn f32s(shape: &[usize], values: &[f32]) -> Tensor {
        Tensor {
            dtype: DType::Float32,
            shape: shape.to_vec(),
            data: values.iter().map(|v| Scalar::F(*v as f64)).collect(),
        }
    }

    #[test]
    fn matmul_sums_like_the_runtime() {
        let a = f32s(&[1, 3], &[1e8, 1.0, -1e8]);
        let b = f32s(&[3, 1], &[1.0, 1.0, 1.0]);
        let op = Op::MatMul(crate::ops::matmul::MatMul { transpose_a: false, transpose_b: false });
        let r = eval(&op, &[a, b], DType::Float32, &[1, 1]).unwrap();
        assert_eq!(r.data, vec![Scalar::F(((1e8f32 + 1.0) + -1e8) as f64)]);
    }

    #[test]
    fn broadcasting_a_vector_over_rows() {
        let m = f32s(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let v = f32s(&[2], &[10.0, 20.0]);
        let r = eval(&Op::Binary(Binary::Add), &[m, v], DType::Float32, &[2, 2]).unwrap();
        assert_eq!(r, f32s(&[2, 2], &[11.0, 22.0, 13.0, 24.0]));
    }

    #[test]
    fn reduce_along_each_axis() {
        let m = f32s(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let rows =
            Op::Reduce(crate::ops::reduce::Reduce { mean: false, max: false, axes: Some(vec![1]), keepdims: false });
        assert_eq!(eval(&rows, std::slice::from_ref(&m), DType::Float32, &[2]).unwrap(), f32s(&[2], &[6.0, 15.0]));
        let cols =
            Op::Reduce(crate::ops::reduce::Reduce { mean: true, max: false, axes: Some(vec![0]), keepdims: true });
        assert_eq!(eval(&cols, &[m], DType::Float32, &[1, 3]).unwrap(), f32s(&[1, 3], &[2.5, 3.5, 4.5]));
    }

    #[test]
    fn splats_are_the_same_bits() {
        let t = |values: &[f64]| Tensor {
            dtype: DType::Float32,
            shape: vec![values.len()],
            data: values.iter().map(|v| Scalar::F(*v)).collect(),
        };
        assert!(matches!(t(&[f64::NAN]).into_data(), Data::Splat(Scalar::F(x)) if x.is_nan()));
        assert!(matches!(t(&[0.0, -0.0]).into_data(), Data::Dense(_)), "the sign of a zero is kept");
        assert!(matches!(t(&[1.5, 1.5]).into_data(), Data::Splat(Scalar::F(x)) if x == 1.5));
    }

    #[test]
    fn integers_wrap() {
        let r = Binary::Add.apply(DType::UInt8, Scalar::I(250), Scalar::I(10));
        assert_eq!(r, Scalar::I(4));
        assert_eq!(Unary::Neg.apply(DType::Int32, Scalar::I(i32::MIN as i64)), Scalar::I(i32::MIN as i64));
    }
}
