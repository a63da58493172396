//! The float32 forms of the operators `tflite.load` reads: each becomes the TF1 op TensorFlow
//! would use (`tf.nn.conv2d`, `tf.nn.depthwise_conv2d`, `tf.matmul`, `tf.nn.avg_pool`,
//! `tf.nn.max_pool`, `tf.add`, `tf.nn.softmax`) with the fused activation after it, the
//! filters rearranged from TFLite's layout to TensorFlow's when the graph compiles. A constant
//! int8 tensor that a `DEQUANTIZE` turns into float weights (TFLite's weight-only quantisation)
//! is folded into a float constant here.

use super::import::{axes, output, Fail, Import};
use super::{Activation, ElemType, Operator, Options, Tensor};
use crate::ir::{Binary, Data, NodeId, Op, Scalar, Unary};
use crate::ops::window::Padding;

/// A float tensor's elements (a constant's), checked against its shape.
pub fn floats(t: &Tensor) -> Result<Vec<f32>, Fail> {
    let count: usize = t.shape.iter().product();
    match &t.data {
        Some(bytes) if t.dtype == ElemType::Float32 && bytes.len() == 4 * count => {
            Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        _ => Err(format!("`{}` is not a constant float32 tensor of shape {:?}", t.name, t.shape)),
    }
}

/// `DEQUANTIZE` of a constant int8 tensor: `scale · (q - zero_point)` in `f32`, per channel along
/// its quantised dimension or for the whole tensor.
pub fn dequantized(t: &Tensor) -> Result<Vec<f32>, Fail> {
    let count: usize = t.shape.iter().product();
    let (Some(bytes), Some(q)) = (&t.data, &t.quant) else {
        return Err(format!("`{}` is not a quantised constant", t.name));
    };
    if t.dtype != ElemType::Int8 || bytes.len() != count {
        return Err(format!("`{}` is not a constant int8 tensor of shape {:?}", t.name, t.shape));
    }
    let channels = q.scales.len();
    let inner: usize = t.shape.get(q.dimension + 1..).map_or(1, |s| s.iter().product());
    if channels != 1 && t.shape.get(q.dimension) != Some(&channels) {
        return Err(format!("`{}` has {channels} scales along a dimension of {:?}", t.name, t.shape.get(q.dimension)));
    }
    Ok(bytes
        .iter()
        .enumerate()
        .map(|(k, &b)| {
            let c = if channels == 1 { 0 } else { k / inner % channels };
            let zero_point = q.zero_points.get(c).or(q.zero_points.first()).copied().unwrap_or(0);
            q.scales[c] * (i64::from(b as i8) - zero_point) as f32
        })
        .collect())
}

/// A float32 constant node of `shape`.
fn constant(i: &mut Import, shape: Vec<usize>, values: &[f32]) -> NodeId {
    let data = Data::Dense(values.iter().map(|&v| Scalar::F(f64::from(v))).collect());
    i.add(Op::Const { dtype: crate::ir::DType::Float32, shape, data }, Vec::new())
}

/// The float weights of input `k`: a float32 constant, a constant that a folded `DEQUANTIZE`
/// made, or int8 weights of a float layer (TFLite's dynamic-range quantisation), dequantised
/// (where TFLite would quantise the activations too, at run time: the float model's arithmetic,
/// not that interpreter's).
fn weights(i: &Import, op: &Operator, k: usize) -> Result<(Vec<f32>, Vec<usize>), Fail> {
    let t = &i.model.tensors[i.input(op, k)?];
    if let Some(values) = i.folded(i.input(op, k)?) {
        return Ok((values.to_vec(), t.shape.clone()));
    }
    let values = if t.dtype == ElemType::Int8 { dequantized(t)? } else { floats(t)? };
    Ok((values, t.shape.clone()))
}

/// `x + bias` (input 2, if there is one), then the fused activation.
fn finish(
    i: &mut Import,
    op: &Operator,
    mut id: NodeId,
    channels: usize,
    activation: Activation,
) -> Result<NodeId, Fail> {
    if op.inputs.get(2).copied().flatten().is_some() {
        let (bias, shape) = weights(i, op, 2)?;
        if shape != [channels] {
            return Err(format!("its bias is {shape:?}, where [{channels}] is expected"));
        }
        let bias = constant(i, vec![channels], &bias);
        id = i.add(Op::BiasAdd(crate::ops::bias_add::BiasAdd), vec![id, bias]);
    }
    activate(i, id, activation)
}

fn activate(i: &mut Import, id: NodeId, activation: Activation) -> Result<NodeId, Fail> {
    Ok(match activation {
        Activation::None => id,
        Activation::Relu => i.add(Op::Unary(Unary::Relu), vec![id]),
        Activation::Relu6 => i.add(Op::Unary(Unary::Relu6), vec![id]),
        Activation::ReluN1To1 | Activation::Other(_) => {
            return Err("its fused activation is not supported for float32 (NONE, RELU and RELU6 are)".into())
        }
    })
}

/// `CONV_2D` and `DEPTHWISE_CONV_2D`: TFLite's `[out, h, w, in]` filter as TensorFlow's
/// `[h, w, in, out]`; a depthwise `[1, h, w, in · m]` as `[h, w, in, m]` (the same order).
pub fn conv(i: &mut Import, op: &Operator, x: &Tensor, x_id: NodeId) -> Result<NodeId, Fail> {
    let (window, multiplier) = match &op.options {
        Options::Conv(w) => (*w, None),
        Options::Depthwise { window, multiplier } => (*window, Some(*multiplier)),
        _ => return Err("its options are missing".into()),
    };
    let (f, shape) = weights(i, op, 1)?;
    let (&[_, _, _, c], &[fo, kh, kw, fi]) = (&x.shape[..], &shape[..]) else {
        return Err(format!("its input is {:?} and its filter {shape:?}, where both are of rank 4", x.shape));
    };
    let axes = axes(&window, &x.shape, [kh, kw])?;
    let (filter, channels) = match multiplier {
        None if fi == c => {
            let mut hwio = vec![0.0; f.len()];
            for (k, &v) in f.iter().enumerate() {
                let (o, t) = (k / (kh * kw * fi), k % (kh * kw * fi));
                hwio[t * fo + o] = v;
            }
            (constant(i, vec![kh, kw, fi, fo], &hwio), fo)
        }
        Some(m) if fo == 1 && usize::try_from(m).is_ok_and(|m| m > 0 && fi == c * m) => {
            (constant(i, vec![kh, kw, c, fi / c], &f), fi)
        }
        _ => return Err(format!("its filter {shape:?} does not fit an input of {c} channels")),
    };
    let expected = vec![x.shape[0], axes[0].output, axes[1].output, channels];
    if output(i, op).shape != expected {
        return Err(format!("its output is {:?}, where {expected:?} is computed", output(i, op).shape));
    }
    let conv = crate::ops::conv::Conv {
        strides: [axes[0].stride, axes[1].stride],
        dilations: [axes[0].dilation, axes[1].dilation],
        padding: if window.same { Padding::Same } else { Padding::Valid },
        depthwise: multiplier.is_some(),
        role: crate::ops::conv::Role::Forward,
    };
    let id = i.add(Op::Conv(conv), vec![x_id, filter]);
    finish(i, op, id, channels, window.activation)
}

/// `FULLY_CONNECTED`: `x · Wᵀ` (`tf.matmul(x, w, transpose_b = True)`) on `[rows, depth]`.
pub fn fully_connected(i: &mut Import, op: &Operator, x: &Tensor, mut x_id: NodeId) -> Result<NodeId, Fail> {
    let Options::FullyConnected { activation, .. } = op.options else { return Err("its options are missing".into()) };
    let (w, shape) = weights(i, op, 1)?;
    let [channels, depth] = shape[..] else {
        return Err(format!("its weights are {shape:?}, where [out, depth] is expected"));
    };
    let count: usize = x.shape.iter().product();
    if depth == 0 || !count.is_multiple_of(depth) {
        return Err(format!("its input {:?} is not made of rows of {depth}", x.shape));
    }
    let rows = count / depth;
    let out_shape = output(i, op).shape.clone();
    if out_shape.iter().product::<usize>() != rows * channels {
        return Err(format!("its output is {out_shape:?}, where {rows} rows of {channels} are computed"));
    }
    if x.shape != [rows, depth] {
        x_id = i.add(Op::ReshapeTo(crate::ops::reshape::ReshapeTo::Shape(vec![rows as i64, depth as i64])), vec![x_id]);
    }
    let w = constant(i, vec![channels, depth], &w);
    let product = crate::ops::matmul::MatMul { transpose_a: false, transpose_b: true };
    let id = i.add(Op::MatMul(product), vec![x_id, w]);
    let mut id = finish(i, op, id, channels, activation)?;
    if out_shape != [rows, channels] {
        let shape = out_shape.iter().map(|&d| d as i64).collect();
        id = i.add(Op::ReshapeTo(crate::ops::reshape::ReshapeTo::Shape(shape)), vec![id]);
    }
    Ok(id)
}

/// `AVERAGE_POOL_2D` and `MAX_POOL_2D`.
pub fn pool(i: &mut Import, op: &Operator, x: &Tensor, x_id: NodeId, kernel: [usize; 2]) -> Result<NodeId, Fail> {
    let Options::Pool(window) = op.options else { return Err("its options are missing".into()) };
    let axes = axes(&window, &x.shape, kernel)?;
    let pool = crate::ops::pool::Pool {
        max: op.op == "MAX_POOL_2D",
        ksize: kernel,
        strides: [axes[0].stride, axes[1].stride],
        padding: if window.same { Padding::Same } else { Padding::Valid },
        gradient: false,
    };
    let id = i.add(Op::Pool(pool), vec![x_id]);
    activate(i, id, window.activation)
}

/// `ADD` (broadcasting as TensorFlow's `tf.add`).
pub fn add(i: &mut Import, a: NodeId, b: NodeId, activation: Activation) -> Result<NodeId, Fail> {
    let id = i.add(Op::Binary(Binary::Add), vec![a, b]);
    activate(i, id, activation)
}

/// `SOFTMAX` of `beta` 1 (`tf.nn.softmax`).
pub fn softmax(i: &mut Import, x_id: NodeId, beta: f32) -> Result<NodeId, Fail> {
    if beta != 1.0 {
        return Err(format!("its beta is {beta}; float32 softmax of beta 1 is supported"));
    }
    Ok(i.add(Op::Softmax(crate::ops::softmax::Softmax), vec![x_id]))
}
