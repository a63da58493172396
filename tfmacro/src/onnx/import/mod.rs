//! `onnx.load("model.onnx", input_1 = x)`: an ONNX model's graph translated, node by node, into
//! the graph IR, as if its TF1 calls had been written out. An input not fed becomes a placeholder
//! named after it; `trainable = True` makes the weights variables. Its initializers become constants
//! (folded as any constant is), `DequantizeLinear` of constant weights is folded here, and every
//! other node becomes the op TensorFlow would use for it.
//!
//! ONNX convolutions are NCHW and tfgraph's NHWC. Rather than transposing around every layer, the
//! import tracks, for each value, whether its logical NCHW tensor is held as NHWC ([`Layout`]):
//! a `Transpose` to NCHW, or a `Reshape` that is one, only changes the bookkeeping, and layers in
//! between (convolutions, pools, activations, sums with per-channel constants) work on NHWC with
//! their constants rearranged at compile time. A value is moved between the two orders only where
//! the model needs it (a PyTorch model's NCHW input, a reshape of an image), which is a reshape
//! when the data is already in that order (one channel, or a 1 × 1 image) and else a transpose.
//!
//! Errors name the ONNX node and its op type and are reported on the path of the file.

use super::proto::{attribute_type, data_type, dimension, AttributeProto, NodeProto};
use super::{Model, Tensor};
use crate::ast::{Expr, ExprKind};
use crate::error::{nearest, with_help, Loc};
use crate::ir::{DType, Data, NodeId, Op, Scalar, Unary};
use crate::ops::binary::Binary;
use crate::ops::transpose::Transpose;
use crate::ops::window::{Axis, Padding};
use crate::resolve::Resolver;
use std::collections::HashMap;

mod operators;

/// A dimension of a value: its size, or `None` for a symbolic one (the batch).
type Dim = Option<usize>;

/// How a rank-4 value's elements are held.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layout {
    /// In the value's own (ONNX) order.
    Plain,
    /// A logical NCHW value held as NHWC, as tfgraph's convolutions take it.
    Nhwc,
}

/// What an ONNX value is during the import.
#[derive(Clone)]
enum Value {
    /// Known now: folded into the nodes that use it.
    Const(Tensor),
    /// Computed when the graph runs. `shape` is the ONNX (logical) shape.
    Node { id: NodeId, shape: Vec<Dim>, layout: Layout },
    /// An integer vector computed from shapes, as PyTorch's `x.view(x.size(0), -1)` exports
    /// (`Shape`, `Gather`, `Unsqueeze`, `Concat`): its elements, `None` where a dimension is
    /// unknown (the batch); `scalar` for a rank-0 one. Known now, up to those.
    Dims { dims: Vec<Option<i64>>, scalar: bool },
    /// Its node could not be translated (reported).
    Poison,
}

const DIMS_AS_TENSOR: &str = "a value computed from a tensor's shape is used as a tensor, which is not supported";

/// `onnx.load("file.onnx", input = tensor, ...)` (`pick` `None`: the model's only output) or
/// `onnx.load(...)["name"]` (the output, or any value of the graph, of that name). `call` is the
/// `onnx.load(...)` call.
pub fn load(r: &mut Resolver, call: &Expr, pick: Option<&Expr>, loc: Loc) -> NodeId {
    let ExprKind::Call { args, path_loc, .. } = &call.kind else { return r.poison(loc) };
    let example = "onnx.load(\"model.onnx\", input = x)";
    let (model, file, file_loc, pick) =
        match r.model_call("onnx.load", example, args, *path_loc, pick, loc, crate::files::Files::onnx) {
            Ok(call) => call,
            Err(poison) => return poison,
        };
    // `trainable = True`: the weights become variables (fine-tuning), else constants.
    let mut feeds: Vec<&crate::ast::Arg> = Vec::new();
    let mut trainable = false;
    for arg in &args[1..] {
        match &arg.keyword {
            Some(k) if k == "trainable" => match r.bool_arg(Some(&arg.value), false) {
                Some(b) => trainable = b,
                None => return r.poison(loc),
            },
            _ => feeds.push(arg),
        }
    }
    let mut import =
        Import { r, model: &model, file: &file, file_loc, loc, values: HashMap::new(), failed: false, trainable };
    import.feeds(&feeds);
    import.run(pick)
}

struct Import<'a, 'r, 'e> {
    r: &'r mut Resolver<'e>,
    model: &'a Model,
    file: &'a str,
    file_loc: Loc,
    /// The whole `onnx.load(...)` expression, where the imported nodes are said to come from.
    loc: Loc,
    values: HashMap<&'a str, Value>,
    /// An error was reported: the result is poison.
    failed: bool,
    /// Weights become variables rather than constants.
    trainable: bool,
}

/// Why a node could not be translated.
type Fail = String;

impl<'a> Import<'a, '_, '_> {
    fn error(&mut self, at: Loc, message: impl std::fmt::Display) {
        self.failed = true;
        self.r.errors.at(at, message);
    }

    /// The initializers, then the graph's inputs bound to the call's `name = tensor` arguments.
    fn feeds(&mut self, args: &[&crate::ast::Arg]) {
        let model = self.model;
        let graph = &model.graph;
        for init in &graph.initializer {
            match Tensor::from_proto(init) {
                Ok(t) => {
                    self.values.insert(&init.name, Value::Const(t));
                }
                Err(e) => {
                    let message = format!("`{}`: its initializer `{}` {e}", self.file, init.name);
                    self.error(self.file_loc, message);
                    self.values.insert(&init.name, Value::Poison);
                }
            }
        }
        let inputs: Vec<_> = graph.input.iter().filter(|i| !self.values.contains_key(i.name.as_str())).collect();
        let mut fed = vec![false; inputs.len()];
        let mut misspelt = false;
        for arg in args {
            let Some(keyword) = &arg.keyword else {
                self.error(arg.loc, "the model's inputs are fed by name: `input_1 = x`");
                continue;
            };
            let name = crate::ast::unraw(keyword);
            let Some(k) = inputs.iter().position(|i| identifier(&i.name) == name) else {
                let names: Vec<String> = inputs.iter().map(|i| identifier(&i.name)).collect();
                let help = nearest(&name, names.iter().map(String::as_str)).map(|n| format!("did you mean `{n}`?"));
                misspelt = true;
                let message = format!("`{}` has no input `{name}` (its inputs: {})", self.file, names.join(", "));
                self.error(Loc::span(keyword.span()), with_help(message, help));
                continue;
            };
            fed[k] = true;
            let id = self.r.lower(&arg.value);
            let value = match self.fed_shape(id, inputs[k], &arg.value) {
                Some(shape) => Value::Node { id, shape, layout: Layout::Plain },
                None => Value::Poison,
            };
            self.values.insert(&inputs[k].name, value);
        }
        // An input not fed is a placeholder of the module, named after it (`input_1`): a field of
        // the fetch types, shared by every import that leaves it unfed.
        for (input, fed) in inputs.iter().zip(fed) {
            if fed {
                continue;
            }
            let value = if misspelt { None } else { self.placeholder(input) };
            self.values.insert(&input.name, value.unwrap_or(Value::Poison));
        }
    }

    /// The placeholder standing for input `input`: the one an earlier import made, or a new one
    /// with the input's dtype and shape (`None` for a symbolic dimension).
    fn placeholder(&mut self, input: &super::proto::ValueInfoProto) -> Option<Value> {
        let name = identifier(&input.name);
        let shape = declared_shape(input);
        let elem = elem_type(input);
        let existing = self.r.graph.nodes.iter().position(|n| n.name.as_ref().is_some_and(|i| *i == name));
        if let Some(id) = existing {
            if matches!(self.r.graph.nodes[id].op, Op::Placeholder { .. })
                && self.r.graph.nodes[id].written.starts_with("onnx.load")
            {
                return Some(Value::Node { id, shape, layout: Layout::Plain });
            }
            let message = format!(
                "the model's input `{}` would be the placeholder `{name}`, but the graph has a `{name}` already: feed the input, as in `onnx.load(\"{}\", {name} = x)`",
                input.name, self.file
            );
            self.error(self.loc, message);
            return None;
        }
        let Some(dtype) = elem_dtype(elem) else {
            let message = format!(
                "the model's input `{}` is of type {}, which is not supported",
                input.name,
                data_type::name(elem)
            );
            self.error(self.loc, message);
            return None;
        };
        if shape.len() > crate::resolve::MAX_RANK {
            let message = format!(
                "the model's input `{}` has rank {}; a graph's tensors have rank 4 at most",
                input.name,
                shape.len()
            );
            self.error(self.loc, message);
            return None;
        }
        let dims = shape.iter().map(|d| d.map_or(crate::ir::DimSpec::None, crate::ir::DimSpec::Known)).collect();
        let id = self.add(Op::Placeholder { dtype, shape: Some(dims) }, Vec::new());
        self.r.define(proc_macro2::Ident::new(&name, self.loc.start), id);
        Some(Value::Node { id, shape, layout: Layout::Plain })
    }

    /// The shape of input `input` fed with node `id`: the model's, with its symbolic dimensions
    /// taken from the placeholder fed, if it has them (a model exported for any image size, fed
    /// images of one). `None` when the two disagree (reported on the fed tensor).
    fn fed_shape(&mut self, id: NodeId, input: &super::proto::ValueInfoProto, fed: &Expr) -> Option<Vec<Dim>> {
        let declared = declared_shape(input);
        let Op::Placeholder { dtype, shape } = &self.r.graph.nodes[id].op else { return Some(declared) };
        let elem = elem_type(input);
        let want = elem_dtype(elem);
        let text = |dims: &[Dim]| {
            let dims: Vec<String> = dims.iter().map(|d| d.map_or("None".to_string(), |n| n.to_string())).collect();
            format!("[{}]", dims.join(", "))
        };
        if want != Some(*dtype) {
            let message = format!(
                "the model's input `{}` is {}, not `{dtype}`",
                input.name,
                want.map_or_else(|| data_type::name(elem).to_string(), |d| format!("`{d}`"))
            );
            self.error(fed.loc, message);
            return None;
        }
        let Some(dims) = shape else { return Some(declared) };
        let given: Vec<Dim> = dims
            .iter()
            .map(|d| match d {
                crate::ir::DimSpec::Known(n) => Some(*n),
                crate::ir::DimSpec::None => None,
            })
            .collect();
        let agree = declared.len() == given.len() && declared.iter().zip(&given).all(|(d, g)| d.is_none() || d == g);
        if !agree {
            let message = format!(
                "the model's input `{}` has shape {} (`None` where the model leaves it open), and the tensor fed has {}",
                input.name,
                text(&declared),
                text(&given)
            );
            self.error(fed.loc, message);
            return None;
        }
        Some(given)
    }

    /// Translates every node, then gives the value asked for.
    fn run(&mut self, pick: Option<(String, Loc)>) -> NodeId {
        let model = self.model;
        let graph = &model.graph;
        for node in &graph.node {
            let inputs: Vec<Option<Value>> = node
                .input
                .iter()
                .map(|name| if name.is_empty() { None } else { self.values.get(name.as_str()).cloned() })
                .collect();
            if let Some(k) = node.input.iter().zip(&inputs).position(|(n, v)| !n.is_empty() && v.is_none()) {
                let message = format!(
                    "{}: its input `{}` is not computed by any earlier node",
                    self.describe(node),
                    node.input[k]
                );
                self.error(self.file_loc, message);
                self.poison_outputs(node);
                continue;
            }
            if inputs.iter().any(|v| matches!(v, Some(Value::Poison))) {
                // Only an operator that is not supported is a mistake of its own.
                if operators::translation(&node.op_type).is_none() {
                    let message = format!("{}: {}", self.describe(node), unsupported(&node.op_type));
                    self.error(self.file_loc, message);
                }
                self.poison_outputs(node);
                continue;
            }
            match self.node(node, &inputs) {
                Ok(outputs) => {
                    for (name, value) in node.output.iter().zip(outputs) {
                        self.values.insert(name, value);
                    }
                }
                Err(message) => {
                    let message = format!("{}: {message}", self.describe(node));
                    self.error(self.file_loc, message);
                    self.poison_outputs(node);
                }
            }
        }
        let (name, at) = match pick {
            Some(pick) => pick,
            None => match &graph.output[..] {
                [output] => (output.name.clone(), self.loc),
                outputs => {
                    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
                    let message = format!(
                        "`{}` has {} outputs: pick one, as in `onnx.load(...)[\"{}\"]` (its outputs: {})",
                        self.file,
                        names.len(),
                        names.first().unwrap_or(&"name"),
                        names.join(", ")
                    );
                    return self.r.error(self.loc, message);
                }
            },
        };
        let value = match self.values.get(name.as_str()) {
            Some(value) => value.clone(),
            None => {
                let names = graph.output.iter().map(|o| o.name.as_str());
                let help = nearest(&name, names).map(|n| format!("did you mean `{n}`?"));
                let message = format!("`{}` has no value `{name}`", self.file);
                return self.r.error(at, with_help(message, help));
            }
        };
        if self.failed {
            return self.r.poison(self.loc);
        }
        let result = match value {
            Value::Poison => Err(String::new()),
            Value::Dims { .. } => Err(DIMS_AS_TENSOR.into()),
            Value::Const(t) => self.const_node(&t),
            Value::Node { id, shape, layout } => self.plain(id, &shape, layout),
        };
        match result {
            Ok(id) => id,
            Err(message) if message.is_empty() => self.r.poison(self.loc),
            Err(message) => self.r.error(at, format!("`{name}` of `{}`: {message}", self.file)),
        }
    }

    fn describe(&self, node: &NodeProto) -> String {
        let name = if node.name.is_empty() { node.output.first().map_or("", String::as_str) } else { &node.name };
        format!("`{}`: node `{name}` ({})", self.file, node.op_type)
    }

    fn poison_outputs(&mut self, node: &'a NodeProto) {
        for name in &node.output {
            self.values.insert(name, Value::Poison);
        }
    }

    /// Adds an IR node made by the import.
    fn add(&mut self, op: Op, inputs: Vec<NodeId>) -> NodeId {
        let id = self.r.graph.add(op, inputs, self.loc, self.loc);
        self.r.graph.nodes[id].written = format!("onnx.load(\"{}\")", self.file);
        id
    }

    /// A constant's node, in the graph's dtype.
    fn const_node(&mut self, t: &Tensor) -> Result<NodeId, Fail> {
        let (dtype, data): (DType, Vec<Scalar>) = match t.data_type {
            data_type::FLOAT => (DType::Float32, t.values.iter().map(|&v| Scalar::F(v)).collect()),
            data_type::DOUBLE => (DType::Float64, t.values.iter().map(|&v| Scalar::F(v)).collect()),
            data_type::INT32 => (DType::Int32, t.values.iter().map(|&v| Scalar::I(v as i64)).collect()),
            data_type::INT64 => (DType::Int64, t.values.iter().map(|&v| Scalar::I(v as i64)).collect()),
            data_type::UINT8 => (DType::UInt8, t.values.iter().map(|&v| Scalar::I(v as i64)).collect()),
            data_type::BOOL => (DType::Bool, t.values.iter().map(|&v| Scalar::B(v != 0.0)).collect()),
            other => return Err(format!("a constant of type {} is used as a tensor", data_type::name(other))),
        };
        if t.shape.len() > crate::resolve::MAX_RANK || t.shape.contains(&0) {
            return Err(format!("a constant of shape {:?} is used as a tensor", t.shape));
        }
        // A scalar is a splat, as `tf.constant(1.0)` is.
        let data = match &data[..] {
            [one] if t.shape.is_empty() => Data::Splat(*one),
            _ => Data::Dense(data),
        };
        let constant = self.add(Op::Const { dtype, shape: t.shape.clone(), data }, Vec::new());
        if !(self.trainable && t.is_float() && !t.shape.is_empty()) {
            return Ok(constant);
        }
        // A weight of a trainable import: a variable, its initial value the weight, a field of
        // `Variables` named after its ONNX name.
        let name = self.variable_name(&t.name);
        let variable = crate::ir::Variable { init: constant, trainable: true, storage: crate::ir::Storage::User };
        let id = self.add(Op::Variable(variable), Vec::new());
        self.r.define(proc_macro2::Ident::new(&name, self.loc.start), id);
        Ok(id)
    }

    /// A name for a variable of ONNX name `onnx` that no node of the graph has yet.
    fn variable_name(&self, onnx: &str) -> String {
        let base = identifier(if onnx.is_empty() { "onnx_weight" } else { onnx });
        let taken = |name: &str| self.r.graph.nodes.iter().any(|n| n.name.as_ref().is_some_and(|i| i == name));
        let mut name = base.clone();
        let mut k = 1;
        while taken(&name) || syn::parse_str::<syn::Ident>(&name).is_err() {
            k += 1;
            name = format!("{base}_{k}");
        }
        name
    }

    /// One node's outputs, by its op type's translation ([`operators::OPS`]).
    fn node(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<Vec<Value>, Fail> {
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(format!("operators of domain `{}` are not supported", node.domain));
        }
        let translate = operators::translation(&node.op_type).ok_or_else(|| unsupported(&node.op_type))?;
        translate(self, &operators::NodeIn { node, inputs, attrs: Attributes(&node.attribute) })
    }

    /// The node holding `v` in `layout`, of shape `shape` (the ONNX one); constants are laid out now.
    fn node_in(&mut self, v: &Value, layout: Layout) -> Result<NodeId, Fail> {
        match (v, layout) {
            (Value::Const(t), Layout::Plain) => self.const_node(t),
            (Value::Const(t), Layout::Nhwc) => {
                let t = if t.shape.len() == 4 { t.transpose(&[0, 2, 3, 1]) } else { t.clone() };
                self.const_node(&t)
            }
            (Value::Node { id, shape, layout: held }, Layout::Plain) => self.plain(*id, shape, *held),
            (Value::Node { id, layout: Layout::Nhwc, .. }, Layout::Nhwc) => Ok(*id),
            (Value::Node { id, shape, layout: Layout::Plain }, Layout::Nhwc) => {
                let [n, c, h, w] = shape[..] else {
                    return Err(format!("a rank-{} tensor is used as an image", shape.len()));
                };
                if c == Some(1) || (h == Some(1) && w == Some(1)) {
                    Ok(self.reshape_node(*id, &[n, h, w, c]))
                } else {
                    Ok(self.permute(*id, vec![0, 2, 3, 1]))
                }
            }
            (Value::Dims { .. }, _) => Err(DIMS_AS_TENSOR.into()),
            (Value::Poison, _) => Err(String::new()),
        }
    }

    /// Node `id` (holding a value of ONNX shape `shape` in `layout`) in the ONNX order.
    fn plain(&mut self, id: NodeId, shape: &[Dim], layout: Layout) -> Result<NodeId, Fail> {
        if layout == Layout::Plain {
            return Ok(id);
        }
        let [_, c, h, w] = shape[..] else { return Ok(id) };
        if c == Some(1) || (h == Some(1) && w == Some(1)) {
            Ok(self.reshape_node(id, shape))
        } else {
            Ok(self.permute(id, vec![0, 3, 1, 2]))
        }
    }

    /// `tf.transpose(id, perm)`.
    fn permute(&mut self, id: NodeId, perm: Vec<usize>) -> NodeId {
        let transpose = Transpose::by(perm).unwrap_or_default();
        self.add(Op::Transpose(transpose), vec![id])
    }

    /// A reshape of node `id` to `dims` (`None` as `-1`), or of its input when `id` is itself a
    /// reshape made by the import.
    fn reshape_node(&mut self, id: NodeId, dims: &[Dim]) -> NodeId {
        let target: Vec<i64> = dims.iter().map(|d| d.map_or(-1, |n| n as i64)).collect();
        // A reshape of a reshape is one reshape.
        let node = &self.r.graph.nodes[id];
        let source = match node.op {
            Op::ReshapeTo(_) => node.inputs[0],
            _ => id,
        };
        self.add(Op::ReshapeTo(crate::ops::reshape::ReshapeTo::Shape(target)), vec![source])
    }

    fn unary(&mut self, x: &Value, op: Unary) -> Result<Value, Fail> {
        let Value::Node { id, shape, layout } = x else { return Err("its input is a constant".into()) };
        let id = self.add(Op::Unary(op), vec![*id]);
        Ok(Value::Node { id, shape: shape.clone(), layout: *layout })
    }

    fn binary(&mut self, a: &Value, b: &Value, op: Binary) -> Result<Value, Fail> {
        let shape = broadcast(&shape_of(a), &shape_of(b))?;
        // An image held as NHWC keeps that layout; the other operand follows it.
        let layout = match (a, b) {
            (Value::Node { layout: Layout::Nhwc, .. }, _) | (_, Value::Node { layout: Layout::Nhwc, .. }) => {
                Layout::Nhwc
            }
            _ => Layout::Plain,
        };
        let operand = |this: &mut Self, v: &Value| -> Result<NodeId, Fail> {
            match (v, layout) {
                // A constant broadcast against an NCHW image: as rank 4, in NHWC order.
                (Value::Const(t), Layout::Nhwc) if t.shape.len() < 4 => {
                    let mut t = t.clone();
                    let mut dims = vec![1; 4 - t.shape.len()];
                    dims.extend(&t.shape);
                    t.shape = dims;
                    let mut t = t.transpose(&[0, 2, 3, 1]);
                    while t.shape.len() > 1 && t.shape[0] == 1 {
                        t.shape.remove(0);
                    }
                    this.const_node(&t)
                }
                (Value::Node { shape, .. }, Layout::Nhwc) if shape.len() < 4 => {
                    Err("a tensor of rank below 4 meets an image: only constants are broadcast against images".into())
                }
                _ => this.node_in(v, layout),
            }
        };
        let (x, y) = (operand(self, a)?, operand(self, b)?);
        let id = self.add(Op::Binary(op), vec![x, y]);
        Ok(Value::Node { id, shape, layout })
    }

    #[allow(clippy::too_many_arguments)]
    fn matmul(
        &mut self,
        a: &Value,
        b: &Value,
        c: Option<&Value>,
        ta: bool,
        tb: bool,
        alpha: f64,
        beta: f64,
    ) -> Result<Value, Fail> {
        let (sa, sb) = (shape_of(a), shape_of(b));
        if sa.len() != 2 || sb.len() != 2 {
            return Err(format!("only products of rank-2 tensors are supported (these are {sa:?} and {sb:?})"));
        }
        let m = if ta { sa[1] } else { sa[0] };
        let n = if tb { sb[0] } else { sb[1] };
        // `alpha` scales a constant operand now; a computed one at run time.
        let scale = |this: &mut Self, v: &Value, by: f64| -> Result<NodeId, Fail> {
            match v {
                Value::Const(t) if by != 1.0 => {
                    let mut t = t.clone();
                    t.values.iter_mut().for_each(|x| *x = f64::from((*x as f32) * (by as f32)));
                    this.const_node(&t)
                }
                _ => this.node_in(v, Layout::Plain),
            }
        };
        let (x, y) = match (a, b) {
            (_, Value::Const(_)) => (self.node_in(a, Layout::Plain)?, scale(self, b, alpha)?),
            (Value::Const(_), _) => (scale(self, a, alpha)?, self.node_in(b, Layout::Plain)?),
            _ if alpha != 1.0 => return Err("`alpha` is supported with a constant operand only".into()),
            _ => (self.node_in(a, Layout::Plain)?, self.node_in(b, Layout::Plain)?),
        };
        let mut id = self.add(Op::MatMul(crate::ops::matmul::MatMul { transpose_a: ta, transpose_b: tb }), vec![x, y]);
        let mut shape = vec![m, n];
        if let Some(c) = c {
            let cid = match c {
                Value::Const(_) => scale(self, c, beta)?,
                _ if beta != 1.0 => return Err("`beta` is supported with a constant `C` only".into()),
                _ => self.node_in(c, Layout::Plain)?,
            };
            shape = broadcast(&shape, &shape_of(c))?;
            id = self.add(Op::Binary(Binary::Add), vec![id, cid]);
        }
        Ok(Value::Node { id, shape, layout: Layout::Plain })
    }

    fn softmax(&mut self, x: &Value, attrs: &Attributes) -> Result<Value, Fail> {
        let Value::Node { id, shape, layout } = x else { return Err("its input is a constant".into()) };
        let rank = shape.len() as i64;
        let default = if self.model.opset >= 13 { -1 } else { 1 };
        let axis = attrs.int("axis").unwrap_or(default);
        let axis = if axis < 0 { axis + rank } else { axis };
        // Before opset 13 the input is flattened to 2-D at `axis`: the same as the last axis
        // only when `axis` is the last.
        let last = match layout {
            Layout::Plain => rank - 1,
            Layout::Nhwc => 1,
        };
        if axis != last {
            return Err(format!("a softmax over axis {axis} is not supported, only over the last axis"));
        }
        let id = self.add(Op::Softmax(crate::ops::softmax::Softmax), vec![*id]);
        Ok(Value::Node { id, shape: shape.clone(), layout: *layout })
    }

    /// `Conv`: NCHW input, OIHW weights (grouped by `group`), optional bias.
    fn conv(&mut self, x: &Value, w: &Value, b: Option<&Value>, attrs: &Attributes) -> Result<Value, Fail> {
        let Value::Const(w) = w else {
            return Err("its weights are computed; only constant weights are supported".into());
        };
        let shape = shape_of(x);
        let [n, Some(c), Some(h), Some(wd)] = shape[..] else {
            return Err(format!("its input has shape {shape:?}; a known [N, C, H, W] is supported"));
        };
        let [o, per_group, kh, kw] = w.shape[..] else {
            return Err(format!("its weights have shape {:?}, not [O, I, kH, kW]", w.shape));
        };
        if kh == 0 || kw == 0 || o == 0 {
            return Err(format!("its weights have shape {:?}", w.shape));
        }
        let group = attrs.int("group").unwrap_or(1) as usize;
        let depthwise = group > 1;
        if depthwise && (group != c || per_group != 1 || o % c != 0) {
            return Err(format!("a convolution in {group} groups of a {c}-channel input is not supported, only 1 group or one per channel (depthwise)"));
        }
        if !depthwise && per_group != c {
            return Err(format!("its weights take {per_group} channels, the input has {c}"));
        }
        let strides = attrs.pair("strides")?.unwrap_or([1, 1]);
        let dilations = attrs.pair("dilations")?.unwrap_or([1, 1]);
        let input = self.node_in(x, Layout::Nhwc)?;
        let (input, padding, [h, wd]) = self.padding(input, [h, wd], [kh, kw], strides, dilations, attrs, false)?;
        // OIHW to TensorFlow's HWIO, or, depthwise, [kh, kw, C, multiplier].
        let filter = if depthwise {
            let mut f = w.transpose(&[2, 3, 1, 0]); // [kh, kw, 1, C * m]
            f.shape = vec![kh, kw, c, o / c];
            f
        } else {
            w.transpose(&[2, 3, 1, 0])
        };
        let filter = self.const_node(&filter)?;
        let conv =
            crate::ops::conv::Conv { strides, dilations, padding, depthwise, role: crate::ops::conv::Role::Forward };
        let mut id = self.add(Op::Conv(conv), vec![input, filter]);
        if let Some(b) = b {
            let bias = self.node_in(b, Layout::Plain)?;
            id = self.add(Op::BiasAdd(crate::ops::bias_add::BiasAdd), vec![id, bias]);
        }
        let out =
            |k: usize, size: usize| Axis::new(size, [kh, kw][k], strides[k], dilations[k], padding).map(|a| a.output);
        let (Some(oh), Some(ow)) = (out(0, h), out(1, wd)) else {
            return Err("its window is larger than its padded input".into());
        };
        Ok(Value::Node { id, shape: vec![n, Some(o), Some(oh), Some(ow)], layout: Layout::Nhwc })
    }

    /// The input and TensorFlow padding that give ONNX's `pads` (or `auto_pad`): `SAME` when the
    /// pads are TensorFlow's, else `VALID` after an explicit `tf.pad` (zeros; refused for max
    /// pooling, which pads with nothing).
    #[allow(clippy::too_many_arguments)]
    fn padding(
        &mut self,
        input: NodeId,
        size: [usize; 2],
        kernel: [usize; 2],
        strides: [usize; 2],
        dilations: [usize; 2],
        attrs: &Attributes,
        max: bool,
    ) -> Result<(NodeId, Padding, [usize; 2]), Fail> {
        let same = |k: usize| Axis::new(size[k], kernel[k], strides[k], dilations[k], Padding::Same);
        let same_pads = |k: usize| {
            let a = same(k)?;
            let span = (kernel[k] - 1) * dilations[k] + 1;
            let total = ((a.output - 1) * strides[k] + span).saturating_sub(size[k]);
            Some([a.pad_before, total - a.pad_before])
        };
        let auto = attrs.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
        let pads: [[usize; 2]; 2] = match auto.as_str() {
            "VALID" => [[0, 0]; 2],
            "SAME_UPPER" => return Ok((input, Padding::Same, size)),
            "NOTSET" => match attrs.ints("pads") {
                None => [[0, 0]; 2],
                Some(p) if p.len() == 4 && p.iter().all(|&x| (0..=1 << 16).contains(&x)) => {
                    [[p[0] as usize, p[2] as usize], [p[1] as usize, p[3] as usize]]
                }
                Some(p) => return Err(format!("its `pads` {p:?} are not four sizes")),
            },
            other => return Err(format!("`auto_pad = {other}` is not supported (only NOTSET, VALID and SAME_UPPER)")),
        };
        if pads == [[0, 0]; 2] {
            return Ok((input, Padding::Valid, size));
        }
        if Some(pads[0]) == same_pads(0) && Some(pads[1]) == same_pads(1) {
            return Ok((input, Padding::Same, size));
        }
        if max {
            return Err(format!("max pooling with pads {pads:?}, which are not TensorFlow's `SAME`, is not supported"));
        }
        let pad = crate::ops::pad::Pad { paddings: vec![[0, 0], pads[0], pads[1], [0, 0]], slice: false };
        let zero = self.add(Op::Literal(crate::ir::Number::Int(0)), Vec::new());
        let padded = [size[0] + pads[0][0] + pads[0][1], size[1] + pads[1][0] + pads[1][1]];
        Ok((self.add(Op::Pad(pad), vec![input, zero]), Padding::Valid, padded))
    }

    fn pool(&mut self, x: &Value, max: bool, attrs: &Attributes) -> Result<Value, Fail> {
        let shape = shape_of(x);
        let [n, c, Some(h), Some(w)] = shape[..] else {
            return Err(format!("its input has shape {shape:?}; a known [N, C, H, W] is supported"));
        };
        let ksize = attrs.pair("kernel_shape")?.ok_or("it has no `kernel_shape`")?;
        let strides = attrs.pair("strides")?.unwrap_or([1, 1]);
        if attrs.pair("dilations")?.is_some_and(|d| d != [1, 1]) {
            return Err("dilated pooling is not supported".into());
        }
        if attrs.int("ceil_mode").unwrap_or(0) != 0 {
            return Err("`ceil_mode = 1` is not supported".into());
        }
        let input = self.node_in(x, Layout::Nhwc)?;
        let (input, padding, padded_size) = self.padding(input, [h, w], ksize, strides, [1, 1], attrs, max)?;
        let padded = padded_size != [h, w];
        let [h, w] = padded_size;
        // TensorFlow's `SAME` average leaves the padding out of the count; ONNX counts it when
        // asked, which an explicit `tf.pad` gives.
        if !max && padding == Padding::Same && attrs.int("count_include_pad").unwrap_or(0) != 0 {
            return Err("`count_include_pad = 1` with TensorFlow's `SAME` pads is not supported".into());
        }
        if !max && padded && attrs.int("count_include_pad").unwrap_or(0) == 0 {
            return Err(
                "average pooling over pads that are not TensorFlow's `SAME`, without counting them, is not supported"
                    .into(),
            );
        }
        let pool = crate::ops::pool::Pool { max, ksize, strides, padding, gradient: false };
        let id = self.add(Op::Pool(pool), vec![input]);
        let out = |k: usize, size: usize| Axis::new(size, ksize[k], strides[k], 1, padding).map(|a| a.output);
        let (Some(oh), Some(ow)) = (out(0, h), out(1, w)) else {
            return Err("its window is larger than its padded input".into());
        };
        Ok(Value::Node { id, shape: vec![n, c, Some(oh), Some(ow)], layout: Layout::Nhwc })
    }

    fn global_pool(&mut self, x: &Value, max: bool) -> Result<Value, Fail> {
        let shape = shape_of(x);
        let [n, c, _, _] = shape[..] else { return Err(format!("its input has rank {}, not 4", shape.len())) };
        let input = self.node_in(x, Layout::Nhwc)?;
        let reduce = crate::ops::reduce::Reduce { mean: !max, max, axes: Some(vec![1, 2]), keepdims: true };
        let id = self.add(Op::Reduce(reduce), vec![input]);
        Ok(Value::Node { id, shape: vec![n, c, Some(1), Some(1)], layout: Layout::Nhwc })
    }

    /// Inference batch normalization over axis 1, folded into one product and one sum per
    /// channel: `x * (scale / sqrt(var + epsilon)) + (bias - mean * that)`, in float32.
    fn batch_norm(
        &mut self,
        x: &Value,
        scale: &Tensor,
        bias: &Tensor,
        mean: &Tensor,
        var: &Tensor,
        epsilon: f64,
    ) -> Result<Value, Fail> {
        let shape = shape_of(x);
        let channels = shape.get(1).copied().flatten().ok_or("its input has no known channel axis")?;
        if [scale, bias, mean, var].iter().any(|t| t.values.len() != channels) {
            return Err(format!("its scale, bias, mean and variance must each have {channels} elements"));
        }
        let eps = epsilon as f32;
        let mul: Vec<f64> =
            (0..channels).map(|k| f64::from(scale.values[k] as f32 / (var.values[k] as f32 + eps).sqrt())).collect();
        let add: Vec<f64> =
            (0..channels).map(|k| f64::from(bias.values[k] as f32 - mean.values[k] as f32 * mul[k] as f32)).collect();
        // Per channel, as a constant that broadcasts along axis 1.
        let mut per_channel = vec![1; shape.len()];
        per_channel[1] = channels;
        let tensor = |values, role: &str| {
            let name = format!("{}_{role}", scale.name);
            Value::Const(Tensor { data_type: data_type::FLOAT, shape: per_channel.clone(), values, name })
        };
        let scaled = self.binary(x, &tensor(mul, "multiplier"), Binary::Mul)?;
        self.binary(&scaled, &tensor(add, "offset"), Binary::Add)
    }

    fn reshape(&mut self, x: &Value, target: &[i64], allow_zero: bool) -> Result<Value, Fail> {
        let shape = shape_of(x);
        // Each target dimension: a size, `-1` to work out, or `None` where a `0` copies the
        // input's unknown (batch) dimension.
        let mut dims: Vec<Option<i64>> = Vec::with_capacity(target.len());
        for (k, &t) in target.iter().enumerate() {
            dims.push(match t {
                0 if !allow_zero => match shape.get(k) {
                    Some(d) => d.map(|n| n as i64),
                    None => {
                        return Err(format!("its shape {target:?} copies dimension {k}, which the input does not have"))
                    }
                },
                t if t >= -1 && t != 0 => Some(t),
                _ => return Err(format!("its shape {target:?} is not supported")),
            });
        }
        let unknown = |d: &&Option<i64>| matches!(d, None | Some(-1));
        if dims.iter().filter(unknown).count() > 1 {
            // `[0, -1]` of a batch: the `-1` is what the known dimensions leave.
            let copies_the_only_unknown = shape.iter().filter(|d| d.is_none()).count() == 1
                && dims.iter().filter(|d| d.is_none()).count() == 1
                && dims.iter().filter(|d| **d == Some(-1)).count() == 1;
            if !copies_the_only_unknown {
                return Err(format!("its shape {target:?} leaves more than one dimension unknown"));
            }
            let known: i64 = shape.iter().flatten().map(|&n| n as i64).product();
            let rest: i64 = dims.iter().flatten().filter(|&&d| d > 0).product();
            if rest == 0 || known % rest != 0 {
                return Err(format!("its shape {target:?} does not fit the input's {shape:?}"));
            }
            dims.iter_mut().filter(|d| **d == Some(-1)).for_each(|d| *d = Some(known / rest));
        }
        let known: Option<i64> = shape.iter().try_fold(1i64, |p, d| d.map(|n| p * n as i64));
        let rest: i64 = dims.iter().flatten().filter(|&&d| d > 0).product();
        let out: Vec<Dim> = dims
            .iter()
            .map(|&d| match (d, known) {
                (Some(-1), Some(total)) if rest > 0 => Some((total / rest) as usize),
                (Some(-1) | None, _) => None,
                (Some(d), _) => Some(d as usize),
            })
            .collect();
        match x {
            Value::Const(t) => {
                let count: usize = out.iter().map(|d| d.unwrap_or(0)).product();
                if count != t.values.len() {
                    return Err(format!("a constant of shape {:?} cannot take the shape {target:?}", t.shape));
                }
                let mut t = t.clone();
                t.shape = out.iter().map(|d| d.unwrap_or(0)).collect();
                Ok(Value::Const(t))
            }
            Value::Node { id, layout, .. } => {
                // A reshape to NCHW that moves only a dimension of 1 (a one-channel image) is the
                // NHWC image itself.
                if let ([n, h, w, Some(1)], [n2, Some(1), h2, w2]) = (&shape[..], &out[..]) {
                    if *layout == Layout::Plain && (n, h, w) == (n2, h2, w2) {
                        return Ok(Value::Node { id: *id, shape: out, layout: Layout::Nhwc });
                    }
                }
                let source = self.plain(*id, &shape, *layout)?;
                let id = self.reshape_node(source, &out);
                Ok(Value::Node { id, shape: out, layout: Layout::Plain })
            }
            Value::Dims { .. } => Err(DIMS_AS_TENSOR.into()),
            Value::Poison => Err(String::new()),
        }
    }

    fn transpose(&mut self, x: &Value, perm: &[usize]) -> Result<Value, Fail> {
        match x {
            Value::Const(t) => Ok(Value::Const(t.transpose(perm))),
            Value::Node { id, shape, layout } => {
                let permuted: Vec<Dim> = perm.iter().map(|&p| shape[p]).collect();
                match (perm, layout) {
                    ([0, 3, 1, 2], Layout::Plain) => Ok(Value::Node { id: *id, shape: permuted, layout: Layout::Nhwc }),
                    ([0, 2, 3, 1], Layout::Nhwc) => Ok(Value::Node { id: *id, shape: permuted, layout: Layout::Plain }),
                    _ if perm.iter().enumerate().all(|(k, &p)| k == p) => Ok(x.clone()),
                    _ => {
                        let plain = self.plain(*id, shape, *layout)?;
                        let id = self.permute(plain, perm.to_vec());
                        Ok(Value::Node { id, shape: permuted, layout: Layout::Plain })
                    }
                }
            }
            Value::Dims { .. } => Err(DIMS_AS_TENSOR.into()),
            Value::Poison => Err(String::new()),
        }
    }

    fn concat(&mut self, values: &[&Value], axis: i64) -> Result<Value, Fail> {
        let Some(first) = values.first() else { return Err("it has no inputs".into()) };
        let first = shape_of(first);
        let rank = first.len() as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&axis) {
            return Err(format!("axis {axis} is out of range for rank {rank}"));
        }
        let layout = if values.iter().any(|v| matches!(v, Value::Node { layout: Layout::Nhwc, .. })) {
            Layout::Nhwc
        } else {
            Layout::Plain
        };
        let mut shape = first.clone();
        let mut total = Some(0);
        let mut ids = Vec::new();
        for v in values {
            let s = shape_of(v);
            if s.len() != first.len() {
                return Err("its inputs have different ranks".into());
            }
            total = total.zip(s[axis as usize]).map(|(t, n)| t + n);
            ids.push(self.node_in(v, layout)?);
        }
        shape[axis as usize] = total;
        let physical = match layout {
            Layout::Plain => axis,
            Layout::Nhwc => [0, 3, 1, 2][axis as usize],
        };
        let id = self.add(Op::Concat(crate::ops::concat::Concat { axis: physical, piece: None }), ids);
        Ok(Value::Node { id, shape, layout })
    }
}

/// `DequantizeLinear` of constant integers: `(x - zero_point) * scale` in float32, per tensor or
/// per slice along `axis`.
fn dequantize(x: &Value, scale: &Value, zero: Option<&Value>, attrs: &Attributes) -> Result<Tensor, Fail> {
    let (Value::Const(x), Value::Const(scale)) = (x, scale) else {
        return Err("only constant inputs are supported (quantised weights, folded when the graph compiles)".into());
    };
    let zero = match zero {
        Some(Value::Const(z)) => Some(z),
        Some(_) => return Err("its zero point is computed".into()),
        None => None,
    };
    if scale.values.is_empty() {
        return Err("its scale is empty".into());
    }
    let rank = x.shape.len() as i64;
    let axis = attrs.int("axis").unwrap_or(1);
    let axis = if axis < 0 { axis + rank } else { axis };
    let per_axis = scale.values.len() > 1;
    if per_axis && (!(0..rank).contains(&axis) || x.shape[axis as usize] != scale.values.len()) {
        return Err(format!(
            "its scale has {} elements, which do not match axis {axis} of {:?}",
            scale.values.len(),
            x.shape
        ));
    }
    let inner: usize = if per_axis { x.shape[axis as usize + 1..].iter().product() } else { 1 };
    let values = x
        .values
        .iter()
        .enumerate()
        .map(|(i, &q)| {
            let k = if per_axis { (i / inner) % scale.values.len() } else { 0 };
            let z = zero.map_or(0.0, |z| z.values.get(k).or(z.values.first()).copied().unwrap_or(0.0));
            f64::from(((q - z) as f32) * scale.values[k] as f32)
        })
        .collect();
    Ok(Tensor { data_type: scale.data_type, shape: x.shape.clone(), values, name: x.name.clone() })
}

/// An input's declared element type (`0`, undefined, when it declares none).
fn elem_type(input: &super::proto::ValueInfoProto) -> i32 {
    input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).map_or(0, |t| t.elem_type)
}

/// The graph's dtype of an ONNX element type, if it has one.
fn elem_dtype(elem: i32) -> Option<DType> {
    match elem {
        data_type::FLOAT => Some(DType::Float32),
        data_type::DOUBLE => Some(DType::Float64),
        data_type::INT32 => Some(DType::Int32),
        data_type::INT64 => Some(DType::Int64),
        data_type::UINT8 => Some(DType::UInt8),
        data_type::BOOL => Some(DType::Bool),
        _ => None,
    }
}

/// The message for an operator the import does not translate.
fn unsupported(op_type: &str) -> String {
    let supported: Vec<&str> = operators::OPS.iter().map(|(name, _)| *name).collect();
    format!("the operator `{op_type}` is not supported; supported: {}", supported.join(", "))
}

/// A value's ONNX shape.
fn shape_of(v: &Value) -> Vec<Dim> {
    match v {
        Value::Const(t) => t.shape.iter().map(|&n| Some(n)).collect(),
        Value::Node { shape, .. } => shape.clone(),
        Value::Dims { scalar: true, .. } => Vec::new(),
        Value::Dims { dims, .. } => vec![Some(dims.len())],
        Value::Poison => Vec::new(),
    }
}

/// NumPy broadcasting of two ONNX shapes.
fn broadcast(a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, Fail> {
    let rank = a.len().max(b.len());
    let at = |s: &[Dim], k: usize| if k + s.len() >= rank { s[k + s.len() - rank] } else { Some(1) };
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (Some(1), d) | (d, Some(1)) => Ok(d),
            (x, y) if x == y => Ok(x),
            (None, d) | (d, None) => Ok(d),
            _ => Err(format!("its inputs of shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// An input's declared shape, symbolic and unknown dimensions as `None`.
fn declared_shape(input: &super::proto::ValueInfoProto) -> Vec<Dim> {
    let dims = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).and_then(|t| t.shape.as_ref());
    dims.map(|s| {
        s.dim
            .iter()
            .map(|d| match d.value {
                Some(dimension::Value::DimValue(n)) if n > 0 => Some(n as usize),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

/// An ONNX name as a Rust identifier: `input:0` is `input_0`, `conv0.weight` is
/// `conv0_weight`; a keyword gets a `_` after it (`type_`), a digit or `__` (the generated module's
/// own names) `onnx_` before it.
pub fn identifier(name: &str) -> String {
    let mut id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) || id.starts_with("__") {
        id.insert_str(0, "onnx_");
    }
    if syn::parse_str::<syn::Ident>(&id).is_err() || crate::resolve::RESERVED.contains(&id.as_str()) {
        id.push('_');
    }
    id
}

/// A node's attributes, by name.
struct Attributes<'a>(&'a [AttributeProto]);

impl Attributes<'_> {
    fn get(&self, name: &str) -> Option<&AttributeProto> {
        self.0.iter().find(|a| a.name == name)
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.get(name).filter(|a| a.r#type == attribute_type::INT).map(|a| a.i)
    }

    fn float(&self, name: &str) -> Option<f64> {
        self.get(name).filter(|a| a.r#type == attribute_type::FLOAT).map(|a| a.f.into())
    }

    fn ints(&self, name: &str) -> Option<&[i64]> {
        self.get(name).filter(|a| a.r#type == attribute_type::INTS).map(|a| &a.ints[..])
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|a| a.r#type == attribute_type::STRING)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    /// A two-element `ints` attribute of positive sizes (strides, dilations, a kernel).
    fn pair(&self, name: &str) -> Result<Option<[usize; 2]>, Fail> {
        match self.ints(name) {
            None => Ok(None),
            Some(&[a, b]) if (1..=1 << 16).contains(&a) && (1..=1 << 16).contains(&b) => {
                Ok(Some([a as usize, b as usize]))
            }
            Some(other) => {
                Err(format!("its `{name}` {other:?} is not two positive sizes (only 2-D windows are supported)"))
            }
        }
    }

    /// A `Constant` node's value.
    fn constant(&self) -> Result<Tensor, Fail> {
        let float = |values: Vec<f64>, shape: Vec<usize>| Tensor {
            data_type: data_type::FLOAT,
            shape,
            values,
            name: String::new(),
        };
        let int = |values: Vec<f64>, shape: Vec<usize>| Tensor {
            data_type: data_type::INT64,
            shape,
            values,
            name: String::new(),
        };
        let Some(a) = self.0.first() else { return Err("it has no value".into()) };
        match (a.name.as_str(), a.r#type) {
            ("value", attribute_type::TENSOR) => match &a.t {
                Some(t) => Tensor::from_proto(t).map_err(|e| format!("its value {e}")),
                None => Err("its value is empty".into()),
            },
            ("value_float", attribute_type::FLOAT) => Ok(float(vec![a.f.into()], vec![])),
            ("value_floats", attribute_type::FLOATS) => {
                Ok(float(a.floats.iter().map(|&x| x.into()).collect(), vec![a.floats.len()]))
            }
            ("value_int", attribute_type::INT) => Ok(int(vec![a.i as f64], vec![])),
            ("value_ints", attribute_type::INTS) => {
                Ok(int(a.ints.iter().map(|&x| x as f64).collect(), vec![a.ints.len()]))
            }
            (name, _) => Err(format!("a constant given by `{name}` is not supported")),
        }
    }
}
