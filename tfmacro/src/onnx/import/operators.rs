//! The ONNX operators the import translates: one table from op type to one translating function
//! each ([`OPS`], in the manner of tract's `register_all_ops`), so that adding an operator is a
//! function and its line in the table. A function gets the node, its inputs and its attributes
//! ([`NodeIn`]) and returns the node's outputs, built through [`Import`]'s helpers (which keep
//! track of layouts and constants); `Err` says why the node cannot be translated.

use super::*;

/// An ONNX node as its translation sees it.
pub(super) struct NodeIn<'n> {
    pub(super) node: &'n NodeProto,
    pub(super) inputs: &'n [Option<Value>],
    pub(super) attrs: Attributes<'n>,
}

impl NodeIn<'_> {
    /// Input `k`, which the operator needs.
    fn input(&self, k: usize) -> Result<&Value, Fail> {
        self.optional(k).ok_or_else(|| format!("input {k} is missing"))
    }

    /// Input `k`, if the model gives it.
    fn optional(&self, k: usize) -> Option<&Value> {
        self.inputs.get(k).and_then(Option::as_ref)
    }
}

/// How an operator is translated: the node's outputs.
pub(super) type Translate = fn(&mut Import, &NodeIn) -> Result<Vec<Value>, Fail>;

/// Every operator the import translates, by ONNX op type, in alphabetical order (the order error
/// messages list them in).
pub(super) const OPS: &[(&str, Translate)] = &[
    ("Add", |im, n| binary(im, n, Binary::Add)),
    ("AveragePool", |im, n| one(im.pool(n.input(0)?, false, &n.attrs)?)),
    ("BatchNormalization", batch_normalization),
    ("Cast", cast),
    ("Clip", clip),
    ("Concat", concat),
    ("Constant", constant),
    ("Conv", |im, n| one(im.conv(n.input(0)?, n.input(1)?, n.optional(2), &n.attrs)?)),
    ("DequantizeLinear", |_, n| one(Value::Const(dequantize(n.input(0)?, n.input(1)?, n.optional(2), &n.attrs)?))),
    ("Div", |im, n| binary(im, n, Binary::Div)),
    ("Dropout", identity),
    ("Flatten", flatten),
    ("Gather", gather),
    ("Gemm", gemm),
    ("GlobalAveragePool", |im, n| one(im.global_pool(n.input(0)?, false)?)),
    ("GlobalMaxPool", |im, n| one(im.global_pool(n.input(0)?, true)?)),
    ("Identity", identity),
    ("MatMul", |im, n| one(im.matmul(n.input(0)?, n.input(1)?, None, false, false, 1.0, 1.0)?)),
    ("MaxPool", |im, n| one(im.pool(n.input(0)?, true, &n.attrs)?)),
    ("Mul", |im, n| binary(im, n, Binary::Mul)),
    ("Reciprocal", |im, n| one(im.unary(n.input(0)?, Unary::Reciprocal)?)),
    ("Relu", |im, n| one(im.unary(n.input(0)?, Unary::Relu)?)),
    ("Reshape", reshape),
    ("Shape", shape),
    ("Sigmoid", |im, n| one(im.unary(n.input(0)?, Unary::Sigmoid)?)),
    ("Softmax", |im, n| one(im.softmax(n.input(0)?, &n.attrs)?)),
    ("Squeeze", squeeze),
    ("Sub", |im, n| binary(im, n, Binary::Sub)),
    ("Tanh", |im, n| one(im.unary(n.input(0)?, Unary::Tanh)?)),
    ("Transpose", transpose),
    ("Unsqueeze", unsqueeze),
];

/// The translation of op type `op_type`, if the import has one.
pub(super) fn translation(op_type: &str) -> Option<Translate> {
    OPS.iter().find(|(name, _)| *name == op_type).map(|&(_, f)| f)
}

/// A node's one output.
fn one(v: Value) -> Result<Vec<Value>, Fail> {
    Ok(vec![v])
}

fn identity(_: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    one(n.input(0)?.clone())
}

fn binary(im: &mut Import, n: &NodeIn, op: Binary) -> Result<Vec<Value>, Fail> {
    one(im.binary(n.input(0)?, n.input(1)?, op)?)
}

fn constant(_: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let mut t = n.attrs.constant()?;
    t.name = n.node.output.first().cloned().unwrap_or_default();
    one(Value::Const(t))
}

/// `Clip` to [0, 6] is `tf.nn.relu6`, to [0, inf) `tf.nn.relu`; other bounds are refused.
fn clip(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let bound = |k: usize, name: &str, default: f64| -> Result<f64, Fail> {
        match n.optional(k) {
            Some(Value::Const(t)) => t.scalar().ok_or_else(|| format!("its {name} is not a scalar")),
            Some(_) => Err(format!("its {name} is computed; only constant bounds are supported")),
            None => Ok(n.attrs.float(name).unwrap_or(default)),
        }
    };
    let (lo, hi) = (bound(1, "min", f64::NEG_INFINITY)?, bound(2, "max", f64::INFINITY)?);
    let op = match (lo, hi) {
        (0.0, 6.0) => Unary::Relu6,
        (0.0, f64::INFINITY) => Unary::Relu,
        _ => {
            return Err(format!(
                "clipping to [{lo}, {hi}] is not supported, only [0, 6] (`tf.nn.relu6`) and [0, inf) (`tf.nn.relu`)"
            ))
        }
    };
    one(im.unary(n.input(0)?, op)?)
}

fn gemm(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let attrs = &n.attrs;
    let (ta, tb) = (attrs.int("transA").unwrap_or(0) != 0, attrs.int("transB").unwrap_or(0) != 0);
    let (alpha, beta) = (attrs.float("alpha").unwrap_or(1.0), attrs.float("beta").unwrap_or(1.0));
    one(im.matmul(n.input(0)?, n.input(1)?, n.optional(2), ta, tb, alpha, beta)?)
}

/// Inference only: constant scale, bias, mean and variance.
fn batch_normalization(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let c: Result<Vec<&Tensor>, Fail> = (1..5)
        .map(|k| match n.input(k)? {
            Value::Const(t) => Ok(t),
            _ => Err("only constant scale, bias, mean and variance are supported (inference)".to_string()),
        })
        .collect();
    let c = c?;
    if n.attrs.int("training_mode").unwrap_or(0) != 0 {
        return Err("training mode is not supported".into());
    }
    one(im.batch_norm(n.input(0)?, c[0], c[1], c[2], c[3], n.attrs.float("epsilon").unwrap_or(1e-5))?)
}

fn reshape(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let x_shape = shape_of(n.input(0)?);
    let target = match n.input(1)? {
        Value::Const(shape) => shape.ints().ok_or("its shape is not of integers")?,
        // An unknown element is the input's unknown dimension where it sits (`0`, copy it), else
        // the one to work out.
        Value::Dims { dims, .. } => dims
            .iter()
            .enumerate()
            .map(|(k, d)| d.unwrap_or(if x_shape.get(k) == Some(&None) { 0 } else { -1 }))
            .collect(),
        _ => return Err("its shape is computed from tensors; only shapes known now are supported".into()),
    };
    let allow_zero = n.attrs.int("allowzero").unwrap_or(0) != 0;
    one(im.reshape(n.input(0)?, &target, allow_zero)?)
}

fn flatten(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let x = n.input(0)?;
    let rank = shape_of(x).len() as i64;
    let axis = n.attrs.int("axis").unwrap_or(1);
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..=rank).contains(&axis) {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    let dims = shape_of(x);
    let (head, tail) = dims.split_at(axis as usize);
    let size = |d: &[Dim]| d.iter().try_fold(1i64, |p, d| d.map(|n| p * n as i64));
    let target = match (size(head), size(tail)) {
        (Some(h), Some(t)) => vec![h, t],
        (None, Some(t)) => vec![-1, t],
        (Some(h), None) => vec![h, -1],
        (None, None) => return Err("both sides of its axis have an unknown dimension".into()),
    };
    one(im.reshape(x, &target, false)?)
}

fn transpose(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let x = n.input(0)?;
    let rank = shape_of(x).len();
    let perm: Vec<usize> = match n.attrs.ints("perm") {
        Some(p) => p.iter().map(|&a| a as usize).collect(),
        None => (0..rank).rev().collect(),
    };
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..rank).collect::<Vec<_>>() {
        return Err(format!("`perm` {perm:?} is not a permutation of the axes of a rank-{rank} tensor"));
    }
    one(im.transpose(x, &perm)?)
}

/// Tensors joined along an axis; or, where an input is a shape (`Shape`'s output), shapes joined
/// into a longer one (PyTorch's `x.view(x.size(0), -1)`).
fn concat(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    if n.inputs.iter().flatten().any(|v| matches!(v, Value::Dims { .. })) {
        let mut dims = Vec::new();
        for k in 0..n.inputs.len() {
            match n.input(k)? {
                Value::Dims { dims: d, .. } => dims.extend(d),
                Value::Const(t) if t.shape.len() == 1 => {
                    dims.extend(t.ints().ok_or("it joins floats to a shape")?.into_iter().map(Some))
                }
                _ => return Err("it joins a shape to a tensor, which is not supported".into()),
            }
        }
        return one(Value::Dims { dims, scalar: false });
    }
    let values: Result<Vec<&Value>, Fail> = (0..n.inputs.len()).map(|k| n.input(k)).collect();
    one(im.concat(&values?, n.attrs.int("axis").ok_or("it has no `axis`")?)?)
}

/// A tensor's shape, as a value the import folds (only shapes' own arithmetic reads it).
fn shape(_: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let dims: Vec<Option<i64>> = shape_of(n.input(0)?).iter().map(|d| d.map(|n| n as i64)).collect();
    let rank = dims.len() as i64;
    let clamp = |a: i64| (if a < 0 { a + rank } else { a }).clamp(0, rank) as usize;
    let (start, end) = (clamp(n.attrs.int("start").unwrap_or(0)), clamp(n.attrs.int("end").unwrap_or(rank)));
    one(Value::Dims { dims: dims[start..end.max(start)].to_vec(), scalar: false })
}

/// Elements of a shape (`x.size(0)`); gathering from tensors is refused.
fn gather(_: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let Value::Const(indices) = n.input(1)? else {
        return Err("its indices are computed; only constant indices are supported".into());
    };
    let picked = indices.ints().ok_or("its indices are not integers")?;
    let scalar = indices.shape.is_empty();
    match n.input(0)? {
        Value::Dims { dims, scalar: false } if n.attrs.int("axis").unwrap_or(0) == 0 => {
            let len = dims.len() as i64;
            let at = |i: i64| {
                dims.get((if i < 0 { i + len } else { i }) as usize)
                    .copied()
                    .ok_or_else(|| format!("index {i} is out of range for {len} elements"))
            };
            let dims: Result<Vec<Option<i64>>, Fail> = picked.iter().map(|&i| at(i)).collect();
            one(Value::Dims { dims: dims?, scalar })
        }
        _ => Err("only gathering elements of a shape is supported (`x.size(0)`)".into()),
    }
}

/// The axes of a `Squeeze` or `Unsqueeze`: its second input (opset 13) or its attribute.
fn axes(n: &NodeIn) -> Result<Option<Vec<i64>>, Fail> {
    Ok(match n.optional(1) {
        Some(Value::Const(t)) => Some(t.ints().ok_or("its axes are not integers")?),
        Some(_) => return Err("its axes are computed; only constant axes are supported".into()),
        None => n.attrs.ints("axes").map(<[i64]>::to_vec),
    })
}

fn unsqueeze(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let axes = axes(n)?;
    let x = n.input(0)?;
    if let Value::Dims { dims, scalar: true } = x {
        if matches!(axes.as_deref(), Some([0] | [-1])) {
            return one(Value::Dims { dims: dims.clone(), scalar: false });
        }
    }
    let shape = shape_of(x);
    let axes = axes.ok_or("it has no axes")?;
    let rank = (shape.len() + axes.len()) as i64;
    let mut axes: Vec<usize> = axes.iter().map(|&a| (if a < 0 { a + rank } else { a }) as usize).collect();
    axes.sort_unstable();
    if axes.iter().any(|&a| a >= rank as usize) || axes.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("its axes do not fit a result of rank {rank}"));
    }
    let mut rest = shape.iter();
    let out: Vec<Dim> =
        (0..rank as usize).map(|k| if axes.contains(&k) { Some(1) } else { rest.next().copied().flatten() }).collect();
    let target: Vec<i64> = out.iter().map(|d| d.map_or(-1, |n| n as i64)).collect();
    one(im.reshape(x, &target, true)?)
}

fn squeeze(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let axes = axes(n)?;
    let x = n.input(0)?;
    let shape = shape_of(x);
    let rank = shape.len() as i64;
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&a| (if a < 0 { a + rank } else { a }) as usize).collect(),
        None => (0..shape.len()).filter(|&k| shape[k] == Some(1)).collect(),
    };
    if axes.iter().any(|&a| shape.get(a) != Some(&Some(1))) {
        return Err(format!("it removes an axis of {shape:?} that is not of size 1"));
    }
    let out: Vec<Dim> = shape.iter().enumerate().filter(|(k, _)| !axes.contains(k)).map(|(_, d)| *d).collect();
    let target: Vec<i64> = out.iter().map(|d| d.map_or(-1, |n| n as i64)).collect();
    one(im.reshape(x, &target, true)?)
}

fn cast(im: &mut Import, n: &NodeIn) -> Result<Vec<Value>, Fail> {
    let to = n.attrs.int("to").ok_or("it has no `to`")? as i32;
    match n.input(0)? {
        Value::Dims { .. } if matches!(to, data_type::INT64 | data_type::INT32) => one(n.input(0)?.clone()),
        Value::Const(t) => {
            let mut t = t.clone();
            if !matches!(to, data_type::FLOAT | data_type::DOUBLE) {
                t.values.iter_mut().for_each(|v| *v = v.trunc());
            }
            t.data_type = to;
            one(Value::Const(t))
        }
        Value::Node { id, shape, layout } => {
            let dtype = elem_dtype(to).ok_or_else(|| format!("a cast to {} is not supported", data_type::name(to)))?;
            let id = im.add(Op::Cast(crate::ops::cast::Cast { to: dtype }), vec![*id]);
            one(Value::Node { id, shape: shape.clone(), layout: *layout })
        }
        _ => Err("it casts a shape to floats, which is not supported".into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_is_sorted_and_names_each_operator_once() {
        let names: Vec<&str> = super::OPS.iter().map(|(name, _)| *name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(super::translation("Conv").is_some() && super::translation("LSTM").is_none());
    }
}
