//! The constant folder's evaluator: computes a pure op on constant inputs at expansion time.
//!
//! It follows the emitted code exactly: the same arithmetic in the element type (wrapping for
//! integers), the same `libm` functions, and the same summation order as
//! `tfcore::__private::sum`, so folding a node never changes a result by a bit.

use crate::ir::{Binary, Compare, DType, Data, Number, Op, Scalar, Unary};
use crate::resolve::convert_number;

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
    fn at(&self, shape: &[usize], index: &[usize]) -> Scalar {
        let offset = shape.len() - self.shape.len();
        let mut flat = 0;
        for (k, &n) in self.shape.iter().enumerate() {
            let i = if n == 1 { 0 } else { index[k + offset] };
            flat = flat * n + i;
        }
        self.data[flat]
    }

    /// As `Data`, a splat when every element is equal (so that it is emitted as a literal).
    pub fn into_data(self) -> Data {
        match self.data.first() {
            Some(first) if self.data.iter().all(|x| x == first) => Data::Splat(*first),
            _ => Data::Dense(self.data),
        }
    }
}

/// Every multi-index of `shape`, row-major.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for &n in shape {
        all = all.into_iter().flat_map(|prefix| (0..n).map(move |i| [prefix.clone(), vec![i]].concat())).collect();
    }
    all
}

/// The value of `op` on `inputs`, with result dtype and shape `out`; `None` for ops the folder
/// leaves to run time.
pub fn eval(op: &Op, inputs: &[Tensor], dtype: DType, shape: &[usize]) -> Option<Tensor> {
    let data: Option<Vec<Scalar>> = match op {
        Op::Identity | Op::StopGradient | Op::BroadcastTo => {
            Some(indices(shape).iter().map(|i| inputs[0].at(shape, i)).collect())
        }
        Op::Reshape => Some(inputs[0].data.clone()),
        Op::Unary(u) => Some(inputs[0].data.iter().map(|x| unary(*u, dtype, *x)).collect()),
        Op::Binary(b) => Some(
            indices(shape).iter().map(|i| binary(*b, dtype, inputs[0].at(shape, i), inputs[1].at(shape, i))).collect(),
        ),
        Op::Compare(c) => Some(
            indices(shape)
                .iter()
                .map(|i| Scalar::B(compare(*c, inputs[0].dtype, inputs[0].at(shape, i), inputs[1].at(shape, i))))
                .collect(),
        ),
        Op::Where => Some(
            indices(shape)
                .iter()
                .map(|i| match inputs[0].at(shape, i) {
                    Scalar::B(true) => inputs[1].at(shape, i),
                    _ => inputs[2].at(shape, i),
                })
                .collect(),
        ),
        Op::Cast(to) => Some(inputs[0].data.iter().map(|x| cast(inputs[0].dtype, *to, *x)).collect()),
        Op::Transpose => {
            let x = &inputs[0];
            Some(indices(shape).iter().map(|i| x.at(&x.shape, &i.iter().rev().copied().collect::<Vec<_>>())).collect())
        }
        Op::MatMul { transpose_a, transpose_b } => {
            let (a, b) = (&inputs[0], &inputs[1]);
            let k = if *transpose_a { a.shape[0] } else { a.shape[1] };
            let get = |t: &Tensor, r: usize, c: usize, transpose: bool| {
                if transpose {
                    t.at(&t.shape, &[c, r])
                } else {
                    t.at(&t.shape, &[r, c])
                }
            };
            Some(
                indices(shape)
                    .iter()
                    .map(|ij| {
                        sum(dtype, k, |kk| {
                            binary(Binary::Mul, dtype, get(a, ij[0], kk, *transpose_a), get(b, kk, ij[1], *transpose_b))
                        })
                    })
                    .collect(),
            )
        }
        Op::Reduce { mean, axes: Some(axes), keepdims } => {
            let x = &inputs[0];
            let reduced: Vec<usize> = axes.iter().map(|a| *a as usize).collect();
            let count: usize = reduced.iter().map(|a| x.shape[*a]).product();
            Some(
                indices(shape)
                    .iter()
                    .map(|out| {
                        // The input index with the kept dimensions taken from `out`.
                        let mut base = Vec::new();
                        let mut o = 0;
                        for k in 0..x.shape.len() {
                            if reduced.contains(&k) {
                                base.push(0);
                                if *keepdims {
                                    o += 1;
                                }
                            } else {
                                base.push(out[o]);
                                o += 1;
                            }
                        }
                        let total = nested_sum(x, dtype, &reduced, &mut base);
                        if *mean {
                            mean_of(dtype, total, count)
                        } else {
                            total
                        }
                    })
                    .collect(),
            )
        }
        Op::OneHot { on, off, .. } => {
            let on = convert_number(*on, dtype).ok()?;
            let off = convert_number(*off, dtype).ok()?;
            let rank = shape.len();
            Some(
                indices(shape)
                    .iter()
                    .map(|i| {
                        let index = match inputs[0].at(&inputs[0].shape, &i[..rank - 1]) {
                            Scalar::I(v) => v,
                            _ => return off,
                        };
                        if index == i[rank - 1] as i64 {
                            on
                        } else {
                            off
                        }
                    })
                    .collect(),
            )
        }
        Op::Softmax => {
            let x = &inputs[0];
            let cols = *shape.last()?;
            let rows = x.data.len() / cols;
            let mut out = Vec::with_capacity(x.data.len());
            for r in 0..rows {
                let row = &x.data[r * cols..(r + 1) * cols];
                let mut max = row[0];
                for v in &row[1..] {
                    if compare(Compare::Gt, dtype, *v, max) {
                        max = *v;
                    }
                }
                let e: Vec<Scalar> =
                    row.iter().map(|v| unary(Unary::Exp, dtype, binary(Binary::Sub, dtype, *v, max))).collect();
                let total = sum(dtype, cols, |j| e[j]);
                let scale = binary(Binary::Div, dtype, Scalar::F(1.0), total);
                out.extend(e.iter().map(|v| binary(Binary::Mul, dtype, *v, scale)));
            }
            Some(out)
        }
        _ => None,
    };
    Some(Tensor { dtype, shape: shape.to_vec(), data: data? })
}

/// The sum over the `reduced` axes of `x`, the outer axis first, at the other coordinates of
/// `base`.
fn nested_sum(x: &Tensor, dtype: DType, reduced: &[usize], base: &mut Vec<usize>) -> Scalar {
    match reduced.split_first() {
        None => x.at(&x.shape, base),
        Some((&axis, rest)) => sum(dtype, x.shape[axis], |k| {
            base[axis] = k;
            nested_sum(x, dtype, rest, base)
        }),
    }
}

/// `tfcore::__private::sum`, step for step.
pub fn sum(dtype: DType, n: usize, mut f: impl FnMut(usize) -> Scalar) -> Scalar {
    let add = |a, b| binary(Binary::Add, dtype, a, b);
    let zero = zero(dtype);
    let full = n / 8 * 8;
    let mut lanes = [zero; 8];
    let mut k = 0;
    while k < full {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane = add(*lane, f(k + l));
        }
        k += 8;
    }
    let [a, b, c, d, e, g, h, i] = lanes;
    let mut total = if full > 0 {
        add(add(add(a, b), add(c, d)), add(add(e, g), add(h, i)))
    } else if n > 0 {
        f(0)
    } else {
        zero
    };
    let mut k = if full > 0 { full } else { 1 };
    while k < n {
        total = add(total, f(k));
        k += 1;
    }
    total
}

fn zero(dtype: DType) -> Scalar {
    convert_number(Number::Int(0), dtype).unwrap_or(Scalar::I(0))
}

/// `Elem::mean` of the runtime.
fn mean_of(dtype: DType, total: Scalar, count: usize) -> Scalar {
    match (dtype, total) {
        (DType::Float32, Scalar::F(x)) => Scalar::F((x as f32 / count as f32) as f64),
        (DType::Float64, Scalar::F(x)) => Scalar::F(x / count as f64),
        (_, Scalar::I(x)) => Scalar::I(if count == 0 { 0 } else { wrap(dtype, x.wrapping_div(count as i64)) }),
        (_, other) => other,
    }
}

/// An integer brought back into the range of its dtype, as wrapping arithmetic leaves it.
fn wrap(dtype: DType, x: i64) -> i64 {
    match dtype {
        DType::Int32 => x as i32 as i64,
        DType::UInt8 => x as u8 as i64,
        _ => x,
    }
}

fn float(s: Scalar) -> f64 {
    match s {
        Scalar::F(x) => x,
        Scalar::I(i) => i as f64,
        Scalar::B(b) => b as u8 as f64,
    }
}

fn int(s: Scalar) -> i64 {
    match s {
        Scalar::I(i) => i,
        Scalar::F(x) => x as i64,
        Scalar::B(b) => b as i64,
    }
}

/// An elementwise function of one element, as the emitted code computes it.
pub fn unary(u: Unary, dtype: DType, x: Scalar) -> Scalar {
    match dtype {
        DType::Float32 => {
            let x = float(x) as f32;
            let r = match u {
                Unary::Neg => -x,
                Unary::Exp => crate::math::expf(x),
                Unary::Log => libm::logf(x),
                Unary::Sqrt => libm::sqrtf(x),
                Unary::Square => x * x,
                Unary::Abs => libm::fabsf(x),
                Unary::Sigmoid => crate::math::sigmoidf(x),
                Unary::Tanh => libm::tanhf(x),
                Unary::Relu => {
                    if x > 0.0 {
                        x
                    } else {
                        0.0
                    }
                }
                Unary::Sign => {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        -1.0
                    } else {
                        x
                    }
                }
            };
            Scalar::F(r as f64)
        }
        DType::Float64 => {
            let x = float(x);
            Scalar::F(match u {
                Unary::Neg => -x,
                Unary::Exp => libm::exp(x),
                Unary::Log => libm::log(x),
                Unary::Sqrt => libm::sqrt(x),
                Unary::Square => x * x,
                Unary::Abs => libm::fabs(x),
                Unary::Sigmoid => 1.0 / (1.0 + libm::exp(-x)),
                Unary::Tanh => libm::tanh(x),
                Unary::Relu => {
                    if x > 0.0 {
                        x
                    } else {
                        0.0
                    }
                }
                Unary::Sign => {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        -1.0
                    } else {
                        x
                    }
                }
            })
        }
        DType::Bool => x,
        _ => {
            let x = int(x);
            let r = match u {
                Unary::Neg => x.wrapping_neg(),
                Unary::Square => x.wrapping_mul(x),
                Unary::Abs => x.wrapping_abs(),
                Unary::Relu => x.max(0),
                Unary::Sign => x.signum(),
                _ => x,
            };
            Scalar::I(wrap(dtype, r))
        }
    }
}

/// Elementwise arithmetic of two elements, as the emitted code computes it.
pub fn binary(b: Binary, dtype: DType, x: Scalar, y: Scalar) -> Scalar {
    match dtype {
        DType::Float32 => {
            let (x, y) = (float(x) as f32, float(y) as f32);
            Scalar::F(match b {
                Binary::Add => x + y,
                Binary::Sub => x - y,
                Binary::Mul => x * y,
                Binary::Div => x / y,
            } as f64)
        }
        DType::Float64 => {
            let (x, y) = (float(x), float(y));
            Scalar::F(match b {
                Binary::Add => x + y,
                Binary::Sub => x - y,
                Binary::Mul => x * y,
                Binary::Div => x / y,
            })
        }
        DType::Bool => x,
        _ => {
            let (x, y) = (int(x), int(y));
            let r = match b {
                Binary::Add => x.wrapping_add(y),
                Binary::Sub => x.wrapping_sub(y),
                Binary::Mul => x.wrapping_mul(y),
                Binary::Div => x.checked_div(y).unwrap_or(0),
            };
            Scalar::I(wrap(dtype, r))
        }
    }
}

/// A comparison of two elements of `dtype`.
pub fn compare(c: Compare, dtype: DType, x: Scalar, y: Scalar) -> bool {
    let ordering = match dtype {
        DType::Float32 => (float(x) as f32).partial_cmp(&(float(y) as f32)),
        DType::Float64 => float(x).partial_cmp(&float(y)),
        DType::Bool => Some((int(x)).cmp(&int(y))),
        _ => Some(int(x).cmp(&int(y))),
    };
    use std::cmp::Ordering::*;
    match (c, ordering) {
        (Compare::Ne, None) => true,
        (_, None) => false,
        (Compare::Gt, Some(o)) => o == Greater,
        (Compare::Lt, Some(o)) => o == Less,
        (Compare::Ge, Some(o)) => o != Less,
        (Compare::Le, Some(o)) => o != Greater,
        (Compare::Eq, Some(o)) => o == Equal,
        (Compare::Ne, Some(o)) => o != Equal,
    }
}

/// `tf.cast` of one element, with Rust's `as` (saturating from floats to integers).
pub fn cast(from: DType, to: DType, x: Scalar) -> Scalar {
    match (from, to) {
        (_, DType::Bool) => Scalar::B(match x {
            Scalar::B(b) => b,
            Scalar::F(v) => v != 0.0,
            Scalar::I(i) => i != 0,
        }),
        (_, DType::Float32) => Scalar::F(match x {
            Scalar::F(v) => v as f32 as f64,
            Scalar::I(i) => i as f32 as f64,
            Scalar::B(b) => b as u8 as f64,
        }),
        (_, DType::Float64) => Scalar::F(float(x)),
        (_, DType::Int32) => Scalar::I(match x {
            Scalar::F(v) => v as i32 as i64,
            other => int(other) as i32 as i64,
        }),
        (_, DType::Int64) => Scalar::I(match x {
            Scalar::F(v) => v as i64,
            other => int(other),
        }),
        (_, DType::UInt8) => Scalar::I(match x {
            Scalar::F(v) => v as u8 as i64,
            other => int(other) as u8 as i64,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let op = Op::MatMul { transpose_a: false, transpose_b: false };
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
        let rows = Op::Reduce { mean: false, axes: Some(vec![1]), keepdims: false };
        assert_eq!(eval(&rows, &[m.clone()], DType::Float32, &[2]).unwrap(), f32s(&[2], &[6.0, 15.0]));
        let cols = Op::Reduce { mean: true, axes: Some(vec![0]), keepdims: true };
        assert_eq!(eval(&cols, &[m], DType::Float32, &[1, 3]).unwrap(), f32s(&[1, 3], &[2.5, 3.5, 4.5]));
    }

    #[test]
    fn integers_wrap() {
        let r = binary(Binary::Add, DType::UInt8, Scalar::I(250), Scalar::I(10));
        assert_eq!(r, Scalar::I(4));
        assert_eq!(unary(Unary::Neg, DType::Int32, Scalar::I(i32::MIN as i64)), Scalar::I(i32::MIN as i64));
    }
}
