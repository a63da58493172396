//! `tflite.load("model.tflite", input_1 = x)`: a TensorFlow Lite model's first subgraph translated,
//! operator by operator, into the graph IR. Inputs are fed by name (an input not fed becomes a
//! placeholder named after it); the result is the model's only output, or `tflite.load(...)["name"]`
//! picks any tensor by name. Constant tensors become constant nodes.
//!
//! Quantised int8 operators become [`Int8`] layers, whose constants (multipliers, shifts, clamps)
//! are computed here as TensorFlow Lite Micro computes them ([`super::quant`]). Each operator has
//! one function ([`translation`]); an operator, a tensor type or an option the import does not
//! read is an error naming the file, the operator's index and its op, reported on the path.

use super::quant;
use super::{Activation, ElemType, Model, Operator, Options, Quant, Tensor, Window};
use crate::ast::{Expr, ExprKind};
use crate::error::{nearest, with_help, Loc};
use crate::ir::{DType, Data, DimSpec, NodeId, Op, Scalar};
use crate::onnx::import::identifier;
use crate::ops::int8::{AddParams, Int8, Layer, Rescale};
use crate::ops::reshape::ReshapeTo;
use crate::ops::window::{Axis, Padding};
use crate::resolve::Resolver;

/// Why an operator could not be translated.
pub(super) type Fail = String;

/// The operators the import translates, each by its function.
type Translate = fn(&mut Import, &Operator) -> Result<NodeId, Fail>;

const OPERATORS: &[(&str, Translate)] = &[
    ("CONV_2D", conv),
    ("DEPTHWISE_CONV_2D", conv),
    ("FULLY_CONNECTED", fully_connected),
    ("AVERAGE_POOL_2D", pool),
    ("MAX_POOL_2D", pool),
    ("ADD", add),
    ("RESHAPE", reshape),
    ("SOFTMAX", softmax),
    ("QUANTIZE", quantize),
    ("DEQUANTIZE", dequantize),
];

/// The function translating operator `op`, if the import has one.
fn translation(op: &str) -> Option<Translate> {
    OPERATORS.iter().find(|(name, _)| *name == op).map(|(_, f)| *f)
}

fn supported() -> String {
    let names: Vec<&str> = OPERATORS.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

/// `tflite.load("file.tflite", input = tensor, ...)`, or `tflite.load(...)["name"]` (`pick`).
pub fn load(r: &mut Resolver, call: &Expr, pick: Option<&Expr>, loc: Loc) -> NodeId {
    let ExprKind::Call { args, path_loc, .. } = &call.kind else { return r.poison(loc) };
    let example = "tflite.load(\"model.tflite\", input_1 = x)";
    let (model, file, file_loc, pick) =
        match r.model_call("tflite.load", example, args, *path_loc, pick, loc, crate::files::Files::tflite) {
            Ok(call) => call,
            Err(poison) => return poison,
        };
    let mut import = Import {
        r,
        model: &model,
        file: &file,
        file_loc,
        loc,
        values: vec![None; model.tensors.len()],
        folded: Default::default(),
        failed: false,
    };
    import.feeds(&args[1..]);
    import.run(pick)
}

/// What a tensor is during the import.
#[derive(Clone, Copy)]
enum Value {
    Node(NodeId),
    /// Its operator could not be translated (reported).
    Poison,
}

pub(super) struct Import<'a, 'r, 'e> {
    r: &'r mut Resolver<'e>,
    pub(super) model: &'a Model,
    file: &'a str,
    file_loc: Loc,
    /// The whole `tflite.load(...)` expression, where the imported nodes are said to come from.
    loc: Loc,
    /// Each tensor's value, once computed (or made a constant node).
    values: Vec<Option<Value>>,
    /// The float values of constants a `DEQUANTIZE` folded, by tensor.
    folded: std::collections::HashMap<usize, Vec<f32>>,
    failed: bool,
}

impl<'a> Import<'a, '_, '_> {
    fn error(&mut self, at: Loc, message: impl std::fmt::Display) {
        self.failed = true;
        self.r.errors.at(at, message);
    }

    pub(super) fn add(&mut self, op: Op, inputs: Vec<NodeId>) -> NodeId {
        let id = self.r.graph.add(op, inputs, self.loc, self.loc);
        self.r.graph.nodes[id].written = format!("tflite.load(\"{}\")", self.file);
        id
    }

    /// The graph's inputs, bound to the call's `name = tensor` arguments or made placeholders.
    fn feeds(&mut self, args: &[crate::ast::Arg]) {
        let model = self.model;
        let names: Vec<String> = model.inputs.iter().map(|&t| identifier(&model.tensors[t].name)).collect();
        let mut fed = vec![false; names.len()];
        let mut misspelt = false;
        for arg in args {
            let Some(keyword) = &arg.keyword else {
                self.error(arg.loc, "the model's inputs are fed by name: `input_1 = x`");
                continue;
            };
            let name = crate::ast::unraw(keyword);
            let Some(k) = names.iter().position(|n| *n == name) else {
                let help = nearest(&name, names.iter().map(String::as_str)).map(|n| format!("did you mean `{n}`?"));
                misspelt = true;
                let message = format!("`{}` has no input `{name}` (its inputs: {})", self.file, names.join(", "));
                self.error(Loc::span(keyword.span()), with_help(message, help));
                continue;
            };
            fed[k] = true;
            let id = self.r.lower(&arg.value);
            self.values[model.inputs[k]] = Some(Value::Node(id));
        }
        for (k, &t) in model.inputs.iter().enumerate() {
            if fed[k] {
                continue;
            }
            let value = if misspelt { None } else { self.placeholder(t, &names[k]) };
            self.values[t] = Some(value.map_or(Value::Poison, Value::Node));
        }
    }

    /// The placeholder standing for input tensor `t`: one an earlier import made, or a new one.
    fn placeholder(&mut self, t: usize, name: &str) -> Option<NodeId> {
        let tensor = &self.model.tensors[t];
        let existing = self.r.graph.nodes.iter().position(|n| n.name.as_ref().is_some_and(|i| *i == name));
        if let Some(id) = existing {
            if matches!(self.r.graph.nodes[id].op, Op::Placeholder { .. })
                && self.r.graph.nodes[id].written.starts_with("tflite.load")
            {
                return Some(id);
            }
            let message = format!(
                "the model's input `{}` would be the placeholder `{name}`, but the graph has a `{name}` already: feed the input, as in `tflite.load(\"{}\", {name} = x)`",
                tensor.name, self.file
            );
            self.error(self.loc, message);
            return None;
        }
        let dtype = match dtype(tensor) {
            Ok(dtype) => dtype,
            Err(message) => {
                let message = format!("`{}`: the model's input `{}` {message}", self.file, tensor.name);
                self.error(self.loc, message);
                return None;
            }
        };
        if tensor.shape.len() > crate::resolve::MAX_RANK || tensor.shape.contains(&0) {
            let message = format!(
                "`{}`: the model's input `{}` has shape {:?}, which a graph cannot hold",
                self.file, tensor.name, tensor.shape
            );
            self.error(self.loc, message);
            return None;
        }
        let dims = tensor.shape.iter().map(|&d| DimSpec::Known(d)).collect();
        let id = self.add(Op::Placeholder { dtype, shape: Some(dims) }, Vec::new());
        self.r.define(proc_macro2::Ident::new(name, self.loc.start), id);
        Some(id)
    }

    /// Translates every operator, then gives the tensor asked for.
    fn run(&mut self, pick: Option<(String, Loc)>) -> NodeId {
        let model = self.model;
        for (k, op) in model.operators.iter().enumerate() {
            let describe = format!("`{}`: operator {k} ({})", self.file, op.op);
            let Some(translate) = translation(&op.op) else {
                let message = format!("{describe} is not supported (the import reads {})", supported());
                self.error(self.file_loc, message);
                self.poison_outputs(op);
                continue;
            };
            let poisoned = op.inputs.iter().flatten().any(|&t| matches!(self.values[t], Some(Value::Poison)));
            if poisoned || op.outputs.len() != 1 {
                if !poisoned {
                    let message = format!("{describe} has {} outputs, where one is expected", op.outputs.len());
                    self.error(self.file_loc, message);
                }
                self.poison_outputs(op);
                continue;
            }
            match translate(self, op) {
                Ok(id) => self.values[op.outputs[0]] = Some(Value::Node(id)),
                Err(message) => {
                    self.error(self.file_loc, format!("{describe}: {message}"));
                    self.poison_outputs(op);
                }
            }
        }
        let (t, at) = match pick {
            Some((name, at)) => match model.tensors.iter().position(|t| t.name == name) {
                Some(t) => (t, at),
                None => {
                    let names = model.tensors.iter().map(|t| t.name.as_str());
                    let help = nearest(&name, names).map(|n| format!("did you mean `{n}`?"));
                    let message = format!("`{}` has no tensor `{name}`", self.file);
                    return self.r.error(at, with_help(message, help));
                }
            },
            None => match model.outputs[..] {
                [t] => (t, self.loc),
                ref outputs => {
                    let names: Vec<&str> = outputs.iter().map(|&t| model.tensors[t].name.as_str()).collect();
                    let message = format!(
                        "`{}` has {} outputs: pick one, as in `tflite.load(...)[\"{}\"]` (its outputs: {})",
                        self.file,
                        names.len(),
                        names.first().unwrap_or(&"name"),
                        names.join(", ")
                    );
                    return self.r.error(self.loc, message);
                }
            },
        };
        if self.failed {
            return self.r.poison(self.loc);
        }
        match self.tensor(t) {
            Ok(id) => id,
            Err(message) => self.r.error(at, format!("`{}` of `{}`: {message}", model.tensors[t].name, self.file)),
        }
    }

    fn poison_outputs(&mut self, op: &Operator) {
        for &t in &op.outputs {
            self.values[t] = Some(Value::Poison);
        }
    }

    /// The node of tensor `t`: computed by an earlier operator, fed, or a constant.
    fn tensor(&mut self, t: usize) -> Result<NodeId, Fail> {
        match self.values[t] {
            Some(Value::Node(id)) => return Ok(id),
            Some(Value::Poison) => return Err(String::new()),
            None => {}
        }
        let tensor: &'a Tensor = &self.model.tensors[t];
        let Some(bytes) = &tensor.data else {
            return Err(format!("tensor `{}` is read before any operator computes it", tensor.name));
        };
        let dtype = dtype(tensor).map_err(|e| format!("its constant `{}` {e}", tensor.name))?;
        let count: usize = tensor.shape.iter().product();
        let width = match dtype {
            DType::Int8 => 1,
            _ => 4,
        };
        if bytes.len() != count * width || tensor.shape.len() > crate::resolve::MAX_RANK || tensor.shape.contains(&0) {
            return Err(format!(
                "its constant `{}` holds {} bytes, where its shape {:?} of {} needs {}",
                tensor.name,
                bytes.len(),
                tensor.shape,
                tensor.dtype.name(),
                count * width
            ));
        }
        let data: Vec<Scalar> = match dtype {
            DType::Int8 => bytes.iter().map(|&b| Scalar::I(i64::from(b as i8))).collect(),
            DType::Int32 => bytes
                .chunks_exact(4)
                .map(|b| Scalar::I(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
                .collect(),
            _ => bytes
                .chunks_exact(4)
                .map(|b| Scalar::F(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
                .collect(),
        };
        let id = self.add(Op::Const { dtype, shape: tensor.shape.clone(), data: Data::Dense(data) }, Vec::new());
        self.values[t] = Some(Value::Node(id));
        Ok(id)
    }

    /// The float values a `DEQUANTIZE` of a constant gave tensor `t`, if one did.
    pub(super) fn folded(&self, t: usize) -> Option<&[f32]> {
        self.folded.get(&t).map(Vec::as_slice)
    }

    /// Input `k` of `op`, which must be there.
    pub(super) fn input(&self, op: &Operator, k: usize) -> Result<usize, Fail> {
        op.inputs.get(k).copied().flatten().ok_or_else(|| format!("it has no input {k}"))
    }

    /// Input `k`'s tensor and its node.
    fn operand(&mut self, op: &Operator, k: usize) -> Result<(&'a Tensor, NodeId), Fail> {
        let t = self.input(op, k)?;
        let id = self.tensor(t)?;
        Ok((&self.model.tensors[t], id))
    }
}

/// The graph's dtype for a tensor's type.
fn dtype(t: &Tensor) -> Result<DType, String> {
    match t.dtype {
        ElemType::Float32 => Ok(DType::Float32),
        ElemType::Int8 => Ok(DType::Int8),
        ElemType::Int32 => Ok(DType::Int32),
        ElemType::Other(name) => {
            Err(format!("is of type {name}, which is not supported (FLOAT32, INT8 and INT32 are)"))
        }
    }
}

/// The one scale and zero point of a per-tensor quantised int8 tensor.
fn per_tensor(t: &Tensor) -> Result<(f32, i32), Fail> {
    if t.dtype != ElemType::Int8 {
        return Err(format!("`{}` is {}, where an int8 tensor is expected", t.name, t.dtype.name()));
    }
    match &t.quant {
        Some(Quant { scales, zero_points, .. }) if scales.len() == 1 => {
            let zp = zero_points.first().copied().unwrap_or(0);
            let scale = scales[0];
            if !(scale > 0.0 && scale.is_finite() && (-128..=127).contains(&zp)) {
                return Err(format!("`{}` has scale {scale} and zero point {zp}", t.name));
            }
            Ok((scale, zp as i32))
        }
        _ => Err(format!("`{}` is not quantised with one scale and zero point", t.name)),
    }
}

/// A layer's `Int8` node reading `x` (of `input`) and the constants `rest`, writing `output`.
fn layer(i: &mut Import, layer: Layer, input: &Tensor, output: &Tensor, inputs: Vec<NodeId>) -> Result<NodeId, Fail> {
    let input = (dtype(input)?, input.shape.clone());
    let output = (dtype(output)?, output.shape.clone());
    Ok(i.add(Op::Int8(Box::new(Int8 { layer, input, output })), inputs))
}

pub(super) fn output<'m>(i: &Import<'m, '_, '_>, op: &Operator) -> &'m Tensor {
    &i.model.tensors[op.outputs[0]]
}

/// The window of a convolution or pool over `input` `[n, h, w, c]`, its kernel `[kh, kw]`.
pub(super) fn axes(window: &Window, input: &[usize], kernel: [usize; 2]) -> Result<[Axis; 2], Fail> {
    if input.len() != 4 || input.contains(&0) || kernel.contains(&0) {
        return Err(format!("its input is {input:?} and its window {kernel:?}"));
    }
    let padding = if window.same { Padding::Same } else { Padding::Valid };
    let positive = |v: i32, what: &str| usize::try_from(v).ok().filter(|&v| v > 0).ok_or(format!("its {what} is {v}"));
    let axis = |k: usize| -> Result<Axis, Fail> {
        let (stride, dilation) = (positive(window.strides[k], "stride")?, positive(window.dilations[k], "dilation")?);
        Axis::new(input[1 + k], kernel[k], stride, dilation, padding)
            .ok_or_else(|| format!("its window of {} does not fit an input of {}", kernel[k], input[1 + k]))
    };
    Ok([axis(0)?, axis(1)?])
}

/// A constant int8 tensor's elements, checked against its shape.
fn int8_data(t: &Tensor, what: &str) -> Result<Vec<i8>, Fail> {
    let count: usize = t.shape.iter().product();
    match &t.data {
        Some(bytes) if t.dtype == ElemType::Int8 && bytes.len() == count => {
            Ok(bytes.iter().map(|&b| b as i8).collect())
        }
        _ => Err(format!("its {what} `{}` is not a constant int8 tensor of shape {:?}", t.name, t.shape)),
    }
}

/// The layer's bias (input 2, optional): a constant int32 tensor of `[channels]`, or zeros.
fn bias(i: &Import, op: &Operator, channels: usize) -> Result<Vec<i32>, Fail> {
    let Some(t) = op.inputs.get(2).copied().flatten() else { return Ok(vec![0; channels]) };
    let t = &i.model.tensors[t];
    match &t.data {
        Some(bytes) if t.dtype == ElemType::Int32 && t.shape == [channels] && bytes.len() == 4 * channels => {
            Ok(bytes.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        _ => Err(format!(
            "its bias `{}` is {} of shape {:?}, where a constant int32 of [{channels}] is expected",
            t.name,
            t.dtype.name(),
            t.shape
        )),
    }
}

/// The bias with the input's zero point folded in: `bias[o] - zero_point · Σ weights of o`,
/// exact in `i64` and then wrapped to `i32` as the kernels' sums wrap (`ops/int8.rs`).
fn fold(bias: &[i32], zero_point: i32, weights_of: impl Fn(usize) -> i64) -> Vec<i32> {
    bias.iter().enumerate().map(|(o, &b)| (i64::from(b) - i64::from(zero_point) * weights_of(o)) as i32).collect()
}

/// The per-channel (or one) multipliers of a layer whose filter `f` has `channels` outputs.
fn rescale(
    f: &Tensor,
    channels: usize,
    input_scale: f32,
    out: (f32, i32),
    activation: Activation,
    fc: bool,
) -> Result<Rescale, Fail> {
    let Some(q) = &f.quant else { return Err(format!("its weights `{}` are not quantised", f.name)) };
    if q.zero_points.iter().any(|&z| z != 0) {
        return Err(format!(
            "its weights `{}` have a zero point other than 0, which TFLite's int8 scheme does not make and the import does not read",
            f.name
        ));
    }
    let channels = match q.scales.len() {
        1 if fc => vec![quant::per_tensor(input_scale, q.scales[0], out.0)],
        1 => vec![quant::per_channel(input_scale, q.scales[0], out.0)],
        n if n == channels => q.scales.iter().map(|&s| quant::per_channel(input_scale, s, out.0)).collect(),
        n => return Err(format!("its weights `{}` have {n} scales for {channels} output channels", f.name)),
    };
    let (min, max) = quant::activation_range(activation, out.0, out.1)?;
    Ok(Rescale { channels, zero_point: out.1, min, max })
}

// CONV_2D: filter [out, h, w, in]; DEPTHWISE_CONV_2D: filter [1, h, w, in · multiplier].
fn conv(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let (window, multiplier) = match &op.options {
        Options::Conv(w) => (*w, None),
        Options::Depthwise { window, multiplier } => (*window, Some(*multiplier)),
        _ => return Err("its options are missing".into()),
    };
    let (x, x_id) = i.operand(op, 0)?;
    if x.dtype == ElemType::Float32 {
        return super::float::conv(i, op, x, x_id);
    }
    let f = &i.model.tensors[i.input(op, 1)?];
    let (in_q, out) = (per_tensor(x)?, per_tensor(output(i, op))?);
    let (&[_, _, _, c], &[fo, kh, kw, fi]) = (&x.shape[..], &f.shape[..]) else {
        return Err(format!("its input is {:?} and its filter {:?}, where both are of rank 4", x.shape, f.shape));
    };
    let depthwise = match multiplier {
        None if fi == c => None,
        None => {
            return Err(format!(
                "its filter reads {fi} channels of an input of {c} (grouped convolutions are not supported)"
            ))
        }
        Some(m) if fo == 1 && usize::try_from(m).is_ok_and(|m| m > 0 && fi == c * m) => Some(fi / c),
        Some(m) => return Err(format!("its filter is {:?} for {c} channels and a multiplier of {m}", f.shape)),
    };
    let channels = if depthwise.is_some() { fi } else { fo };
    let axes = axes(&window, &x.shape, [kh, kw])?;
    let expected = vec![x.shape[0], axes[0].output, axes[1].output, channels];
    if output(i, op).shape != expected {
        return Err(format!("its output is {:?}, where {expected:?} is computed", output(i, op).shape));
    }
    let rescale = rescale(f, channels, in_q.0, out, window.activation, false)?;
    let filter = int8_data(f, "filter")?;
    let taps = kh * kw;
    let bias = fold(&bias(i, op, channels)?, in_q.1, |o| match depthwise {
        Some(_) => (0..taps).map(|t| i64::from(filter[t * channels + o])).sum(),
        None => filter[o * taps * fi..(o + 1) * taps * fi].iter().map(|&w| i64::from(w)).sum(),
    });
    let (x, out_t) = (&i.model.tensors[i.input(op, 0)?], output(i, op));
    let padding = in_q.1 as i8;
    layer(i, Layer::Conv { axes, depthwise, padding, filter, bias, rescale }, x, out_t, vec![x_id])
}

// FULLY_CONNECTED: weights [out, depth]; an input of another rank is read as [rows, depth].
fn fully_connected(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let Options::FullyConnected { activation, shuffled, .. } = op.options else {
        return Err("its options are missing".into());
    };
    if shuffled {
        return Err("its weights are in a shuffled format, which is not supported".into());
    }
    let (x, mut x_id) = i.operand(op, 0)?;
    if x.dtype == ElemType::Float32 {
        return super::float::fully_connected(i, op, x, x_id);
    }
    let wt = &i.model.tensors[i.input(op, 1)?];
    let (in_q, out) = (per_tensor(x)?, per_tensor(output(i, op))?);
    let [channels, depth] = wt.shape[..] else {
        return Err(format!("its weights are {:?}, where [out, depth] is expected", wt.shape));
    };
    let count: usize = x.shape.iter().product();
    if depth == 0 || !count.is_multiple_of(depth) {
        return Err(format!("its input {:?} is not made of rows of {depth}", x.shape));
    }
    let rows = count / depth;
    let out_shape = &output(i, op).shape;
    if out_shape.iter().product::<usize>() != rows * channels {
        return Err(format!("its output is {out_shape:?}, where {rows} rows of {channels} are computed"));
    }
    let rescale = rescale(wt, channels, in_q.0, out, activation, true)?;
    let weights = int8_data(wt, "weights")?;
    let bias = fold(&bias(i, op, channels)?, in_q.1, |o| {
        weights[o * depth..(o + 1) * depth].iter().map(|&w| i64::from(w)).sum()
    });
    let x_name = x.name.clone();
    if x.shape != [rows, depth] {
        x_id = i.add(Op::ReshapeTo(ReshapeTo::Shape(vec![rows as i64, depth as i64])), vec![x_id]);
    }
    let input = Tensor { name: x_name, dtype: ElemType::Int8, shape: vec![rows, depth], data: None, quant: None };
    let mut result = layer(
        i,
        Layer::FullyConnected { weights, bias, rescale },
        &input,
        &Tensor { name: String::new(), dtype: ElemType::Int8, shape: vec![rows, channels], data: None, quant: None },
        vec![x_id],
    )?;
    if *out_shape != [rows, channels] {
        let shape = out_shape.iter().map(|&d| d as i64).collect();
        result = i.add(Op::ReshapeTo(ReshapeTo::Shape(shape)), vec![result]);
    }
    Ok(result)
}

// AVERAGE_POOL_2D and MAX_POOL_2D: the output quantised as the input (TFLite requires it).
fn pool(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let Options::Pool(window) = op.options else { return Err("its options are missing".into()) };
    let (x, x_id) = i.operand(op, 0)?;
    let kernel = [usize::try_from(window.filter[0]).unwrap_or(0), usize::try_from(window.filter[1]).unwrap_or(0)];
    if kernel.contains(&0) {
        return Err(format!("its window is {:?}", window.filter));
    }
    if x.dtype == ElemType::Float32 {
        return super::float::pool(i, op, x, x_id, kernel);
    }
    let (in_q, out_t) = (per_tensor(x)?, output(i, op));
    let out = per_tensor(out_t)?;
    if in_q != out {
        return Err(format!("its input and output are quantised differently ({in_q:?} and {out:?})"));
    }
    if x.shape.len() != 4 {
        return Err(format!("its input is {:?}, where rank 4 is expected", x.shape));
    }
    let axes = axes(&window, &x.shape, kernel)?;
    let expected = vec![x.shape[0], axes[0].output, axes[1].output, x.shape[3]];
    if out_t.shape != expected {
        return Err(format!("its output is {:?}, where {expected:?} is computed", out_t.shape));
    }
    let (min, max_value) = quant::activation_range(window.activation, out.0, out.1)?;
    let max = op.op == "MAX_POOL_2D";
    layer(i, Layer::Pool { axes, max, min, max_value }, x, out_t, vec![x_id])
}

// ADD of two int8 tensors of one shape.
fn add(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let Options::Add { activation } = op.options else { return Err("its options are missing".into()) };
    let (a, a_id) = i.operand(op, 0)?;
    if a.dtype == ElemType::Float32 {
        let (_, b_id) = i.operand(op, 1)?;
        return super::float::add(i, a_id, b_id, activation);
    }
    let a_q = per_tensor(a)?;
    let a_shape = a.shape.clone();
    let (b, b_id) = i.operand(op, 1)?;
    let b_q = per_tensor(b)?;
    let out_t = output(i, op);
    let out = per_tensor(out_t)?;
    if b.shape != a_shape || out_t.shape != a_shape {
        return Err(format!(
            "it adds {a_shape:?} and {:?} into {:?} (broadcasting is not supported yet)",
            b.shape, out_t.shape
        ));
    }
    let (inputs, output_m, left_shift) = quant::add([a_q.0, b_q.0], out.0);
    let (min, max) = quant::activation_range(activation, out.0, out.1)?;
    let params =
        AddParams { offsets: [-a_q.1, -b_q.1], inputs, left_shift, output: output_m, zero_point: out.1, min, max };
    let a = &i.model.tensors[i.input(op, 0)?];
    layer(i, Layer::Add(params), a, out_t, vec![a_id, b_id])
}

// RESHAPE: the same elements in the output tensor's shape.
fn reshape(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let (x, x_id) = i.operand(op, 0)?;
    let out_t = output(i, op);
    if x.shape.iter().product::<usize>() != out_t.shape.iter().product::<usize>() || x.dtype != out_t.dtype {
        return Err(format!("it reshapes {:?} into {:?}", x.shape, out_t.shape));
    }
    if out_t.shape.len() > crate::resolve::MAX_RANK {
        return Err(format!("its output {:?} has a rank over {}", out_t.shape, crate::resolve::MAX_RANK));
    }
    let shape = out_t.shape.iter().map(|&d| d as i64).collect();
    Ok(i.add(Op::ReshapeTo(ReshapeTo::Shape(shape)), vec![x_id]))
}

// SOFTMAX over the last axis; an int8 output has scale 1/256 and zero point -128.
fn softmax(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let Options::Softmax { beta } = op.options else { return Err("its options are missing".into()) };
    let (x, x_id) = i.operand(op, 0)?;
    if x.dtype == ElemType::Float32 {
        return super::float::softmax(i, x_id, beta);
    }
    let in_q = per_tensor(x)?;
    let out_t = output(i, op);
    if per_tensor(out_t)? != (1.0 / 256.0, -128) {
        return Err("its output is not quantised with scale 1/256 and zero point -128, as TFLite Micro requires".into());
    }
    if x.shape.len() != 2 || out_t.shape != x.shape {
        return Err(format!("it reads {:?} into {:?}, where [rows, depth] is expected", x.shape, out_t.shape));
    }
    let (multiplier, left_shift, diff_min) = quant::softmax(beta, in_q.0);
    layer(i, Layer::Softmax { multiplier, left_shift, diff_min }, x, out_t, vec![x_id])
}

// QUANTIZE of a float32 tensor into int8.
fn quantize(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let (x, x_id) = i.operand(op, 0)?;
    let out_t = output(i, op);
    let (scale, zero_point) = per_tensor(out_t)?;
    if x.dtype != ElemType::Float32 || x.shape != out_t.shape {
        return Err(format!(
            "it quantises {} of {:?} into {:?} (only float32 into int8 is supported)",
            x.dtype.name(),
            x.shape,
            out_t.shape
        ));
    }
    layer(i, Layer::Quantize { scale, zero_point }, x, out_t, vec![x_id])
}

// DEQUANTIZE of an int8 tensor into float32; of a constant, folded (weight-only quantisation).
fn dequantize(i: &mut Import, op: &Operator) -> Result<NodeId, Fail> {
    let t = i.input(op, 0)?;
    let x = &i.model.tensors[t];
    if x.data.is_some() {
        let values = super::float::dequantized(x)?;
        let data = Data::Dense(values.iter().map(|&v| Scalar::F(f64::from(v))).collect());
        let id = i.add(Op::Const { dtype: DType::Float32, shape: x.shape.clone(), data }, Vec::new());
        i.folded.insert(op.outputs[0], values);
        return Ok(id);
    }
    let (x, x_id) = i.operand(op, 0)?;
    let (scale, zero_point) = per_tensor(x)?;
    let out_t = output(i, op);
    if out_t.dtype != ElemType::Float32 || x.shape != out_t.shape {
        return Err(format!(
            "it dequantises into {} of {:?} (only int8 into float32 is supported)",
            out_t.dtype.name(),
            out_t.shape
        ));
    }
    layer(i, Layer::Dequantize { scale: f64::from(scale), zero_point }, x, out_t, vec![x_id])
}
