//! A fetch of the graph as an ONNX model (opset 17): what `Session::to_onnx("name")` writes.
//!
//! The model is built here, when the graph compiles, from the optimised graph: the placeholders the
//! fetch needs are the model's inputs, its constants are initializers, and each op writes its own
//! ONNX nodes ([`crate::ops::Rules::onnx`]). Variables are initializers too, but their values are
//! the session's: the generated code adds them when it writes the model (`tfcore`'s
//! `__private::onnx::model`). Images stay NHWC, with a `Transpose` to ONNX's NCHW around each
//! convolution and pooling.

use super::proto::{
    attribute_type, data_type, dimension, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto,
};
use crate::ir::{DType, Data, Dim, Graph, NodeId, Op, Scalar, TensorType};
use crate::ops::window::{Axis, Padding};
use std::collections::HashMap;

/// The opset the written models import.
pub const OPSET: i64 = 17;

/// The model of every fetch that computes a value: its encoded bytes without the variables' values
/// and without the data of its large constants. The generated code keeps it once and cuts it to
/// the fetch asked for when it writes a model (`tfcore`'s `__private::onnx::model`), so a graph
/// of many fetches writes each node once, not once per fetch that reads it.
pub struct Written {
    pub bytes: Vec<u8>,
    /// The variables it reads, whose values the session adds as initializers named after them.
    pub variables: Vec<NodeId>,
    /// The constant nodes whose data is left out (initializer `c<id>`), with that data.
    pub blobs: Vec<(NodeId, Vec<u8>)>,
    /// For each fetch asked for, in order: `Ok` if the model has it as the output named after
    /// it, or why it has no ONNX form (the first node without one: an assignment, a
    /// gradient-only op).
    pub fetches: Vec<Result<(), String>>,
}

/// Constants of more bytes than this are stored once for all fetches.
const SHARED: usize = 256;

/// The model computing each of `fetches` (a node and the name of its output).
pub fn model(graph: &Graph, fetches: &[(NodeId, String)]) -> Written {
    let mut e = Export {
        graph,
        nodes: Vec::new(),
        initializers: Vec::new(),
        inputs: Vec::new(),
        names: HashMap::new(),
        variables: Vec::new(),
        blobs: Vec::new(),
        fresh: 0,
    };
    let mut outputs = Vec::new();
    let mut results = Vec::new();
    for (root, name) in fetches {
        let result = e.fetch(*root, name).map(|ty| outputs.push(value_info(name, &ty)));
        results.push(result);
    }
    let graph_proto = GraphProto {
        node: e.nodes,
        name: "tfgraph".into(),
        initializer: e.initializers,
        input: e.inputs,
        output: outputs,
        value_info: Vec::new(),
    };
    let model = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        producer_name: "tfgraph".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph_proto),
    };
    Written { bytes: prost::Message::encode_to_vec(&model), variables: e.variables, blobs: e.blobs, fetches: results }
}

/// The nodes `root` needs that are not written yet, inputs before the nodes that read them. A
/// node written is a leaf of the walk: its inputs were written before it.
fn order(graph: &Graph, root: NodeId, written: &HashMap<NodeId, String>) -> Vec<NodeId> {
    let mut seen = vec![false; graph.nodes.len()];
    let mut out = Vec::new();
    // Depth first, without recursion (graphs can be deep).
    let mut stack = vec![(root, false)];
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            out.push(id);
            continue;
        }
        if seen[id] || written.contains_key(&id) {
            continue;
        }
        seen[id] = true;
        stack.push((id, true));
        for &input in graph.nodes[id].inputs.iter().rev() {
            if !seen[input] {
                stack.push((input, false));
            }
        }
    }
    out
}

/// The model being written.
pub struct Export<'g> {
    pub graph: &'g Graph,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    /// The ONNX name of each node's value.
    names: HashMap<NodeId, String>,
    variables: Vec<NodeId>,
    blobs: Vec<(NodeId, Vec<u8>)>,
    fresh: usize,
}

impl Export<'_> {
    /// Writes what fetch `root` needs and its output, `name` (an `Identity` of its value); its
    /// type.
    fn fetch(&mut self, root: NodeId, name: &str) -> Result<TensorType, String> {
        let ty =
            self.graph.tensor(root).ok_or("it computes no value (it is an assignment, a group or a training step)")?;
        for id in order(self.graph, root, &self.names) {
            let output = self.write(id)?;
            self.names.insert(id, output);
        }
        let last = self.names.get(&root).cloned().ok_or("its value was not written")?;
        // A fetch of a placeholder or a variable is that input or initializer itself (an
        // `Identity` to its own name would assign the name twice).
        if last == name {
            return Ok(ty.clone());
        }
        self.nodes.push(NodeProto {
            input: vec![last],
            output: vec![name.to_string()],
            op_type: "Identity".into(),
            ..Default::default()
        });
        Ok(ty.clone())
    }

    /// Writes node `id`; its value's name.
    fn write(&mut self, id: NodeId) -> Result<String, String> {
        let node = &self.graph.nodes[id];
        let own = node.name.as_ref().map(crate::ast::unraw);
        match &node.op {
            Op::Placeholder { .. } => {
                let name = own.ok_or("a placeholder has no name")?;
                let ty = self.ty(id)?;
                self.inputs.push(value_info(&name, &ty));
                Ok(name)
            }
            Op::Variable(_) => {
                self.variables.push(id);
                own.ok_or_else(|| "a variable has no name".to_string())
            }
            Op::Const { dtype, shape, data: Data::Splat(value) } => {
                // `tf.zeros([n, m])`: its one value, spread over its shape when it is run.
                let one = self.constant(*dtype, &[], &[*value]);
                if shape.is_empty() {
                    return Ok(one);
                }
                let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                let dims = self.ints(&dims);
                Ok(self.node("Expand", vec![one, dims], vec![]))
            }
            Op::Const { dtype, shape, data: Data::Dense(values) } => {
                let name = self.constant(*dtype, shape, values);
                let last = self.initializers.len() - 1;
                if self.initializers[last].raw_data.len() > SHARED {
                    let shared = format!("c{id}");
                    self.initializers[last].name = shared.clone();
                    let data = std::mem::take(&mut self.initializers[last].raw_data);
                    self.blobs.push((id, data));
                    return Ok(shared);
                }
                Ok(name)
            }
            Op::Literal(number) => {
                let (number, ty) = (*number, self.ty(id)?);
                let value = crate::values::convert_number(number, ty.dtype)?;
                Ok(self.constant(ty.dtype, &[], &[value]))
            }
            op => match op.rules() {
                Some(rules) => rules.onnx(self, id),
                None => {
                    Err(format!("{} has no ONNX form (only what computes a value is written)", self.graph.describe(id)))
                }
            },
        }
    }

    /// The type of node `id`, its `None` dimensions unknown.
    pub fn ty(&self, id: NodeId) -> Result<TensorType, String> {
        self.graph.tensor(id).cloned().ok_or_else(|| format!("{} has no type", self.graph.describe(id)))
    }

    /// The known shape of node `id`: `Err` if a dimension is `None`.
    pub fn known_shape(&self, id: NodeId) -> Result<Vec<usize>, String> {
        self.ty(id)?
            .shape
            .iter()
            .map(|d| match d {
                Dim::Known(n) => Ok(*n),
                Dim::Sym(_) => Err(format!("{} has a `None` dimension here", self.graph.describe(id))),
            })
            .collect()
    }

    /// The name of input `k` of node `id`.
    pub fn input(&self, id: NodeId, k: usize) -> String {
        self.names[&self.graph.nodes[id].inputs[k]].clone()
    }

    /// Adds a node; the name of its (one) output.
    pub fn node(&mut self, op_type: &str, inputs: Vec<String>, attributes: Vec<AttributeProto>) -> String {
        self.fresh += 1;
        let output = format!("{}_{}", op_type.to_lowercase(), self.fresh);
        let node = NodeProto {
            input: inputs,
            output: vec![output.clone()],
            name: output.clone(),
            op_type: op_type.into(),
            domain: String::new(),
            attribute: attributes,
        };
        self.nodes.push(node);
        output
    }

    /// Adds a constant; its name.
    pub fn constant(&mut self, dtype: DType, shape: &[usize], values: &[Scalar]) -> String {
        self.fresh += 1;
        let name = format!("const_{}", self.fresh);
        let mut raw = Vec::new();
        for v in values {
            match (dtype, v) {
                (DType::Float32, Scalar::F(x)) => raw.extend((*x as f32).to_le_bytes()),
                (DType::Float64, Scalar::F(x)) => raw.extend(x.to_le_bytes()),
                (DType::Int32, Scalar::I(x)) => raw.extend((*x as i32).to_le_bytes()),
                (DType::Int64, Scalar::I(x)) => raw.extend(x.to_le_bytes()),
                (DType::UInt8, Scalar::I(x)) => raw.push(*x as u8),
                (DType::Int8, Scalar::I(x)) => raw.push(*x as i8 as u8),
                (DType::Bool, Scalar::B(b)) => raw.push(u8::from(*b)),
                // A scalar of another kind than its dtype's cannot be made by the phases.
                _ => raw.extend(std::iter::repeat_n(0, dtype_size(dtype))),
            }
        }
        self.initializers.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: dtype_code(dtype),
            name: name.clone(),
            raw_data: raw,
            ..Default::default()
        });
        name
    }

    /// A 1-D `int64` constant (shapes, axes, pads).
    pub fn ints(&mut self, values: &[i64]) -> String {
        let values: Vec<Scalar> = values.iter().map(|&v| Scalar::I(v)).collect();
        self.constant(DType::Int64, &[values.len()], &values)
    }

    /// `Transpose(x, perm)`.
    pub fn transpose(&mut self, x: String, perm: &[i64]) -> String {
        self.node("Transpose", vec![x], vec![ints("perm", perm)])
    }
}

/// An `int` attribute.
pub fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INT, i, ..Default::default() }
}

/// An `ints` attribute.
pub fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INTS, ints: values.to_vec(), ..Default::default() }
}

/// ONNX's code of a dtype.
pub fn dtype_code(dtype: DType) -> i32 {
    match dtype {
        DType::Float32 => data_type::FLOAT,
        DType::Float64 => data_type::DOUBLE,
        DType::Int32 => data_type::INT32,
        DType::Int64 => data_type::INT64,
        DType::UInt8 => data_type::UINT8,
        DType::Int8 => data_type::INT8,
        DType::Bool => data_type::BOOL,
    }
}

fn dtype_size(dtype: DType) -> usize {
    match dtype {
        DType::Float64 | DType::Int64 => 8,
        DType::Float32 | DType::Int32 => 4,
        DType::UInt8 | DType::Int8 | DType::Bool => 1,
    }
}

/// A tensor value's declaration; a `None` dimension is a symbol named after its class, so that
/// dimensions inference proved equal have one name.
fn value_info(name: &str, ty: &TensorType) -> ValueInfoProto {
    let dim = ty
        .shape
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Known(n) => dimension::Value::DimValue(*n as i64),
                Dim::Sym(s) => dimension::Value::DimParam(format!("N{s}")),
            }),
        })
        .collect();
    let tensor = TensorTypeProto { elem_type: dtype_code(ty.dtype), shape: Some(TensorShapeProto { dim }) };
    ValueInfoProto { name: name.into(), r#type: Some(TypeProto { tensor_type: Some(tensor) }) }
}

/// `Reshape` to node `id`'s shape (a `None` dimension as `-1`; at most one).
pub fn reshape(e: &mut Export, id: NodeId) -> Result<String, String> {
    let ty = e.ty(id)?;
    if ty.shape.iter().filter(|d| matches!(d, Dim::Sym(_))).count() > 1 {
        return Err(format!("{} has more than one `None` dimension", e.graph.describe(id)));
    }
    let shape: Vec<i64> = ty
        .shape
        .iter()
        .map(|d| match d {
            Dim::Known(n) => *n as i64,
            Dim::Sym(_) => -1,
        })
        .collect();
    let x = e.input(id, 0);
    let shape = e.ints(&shape);
    Ok(e.node("Reshape", vec![x, shape], vec![]))
}

/// ONNX's `pads` (`[top, left, bottom, right]`) for TensorFlow's padding of a window over an
/// image of `size`.
pub fn pads(
    size: [usize; 2],
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
    padding: Padding,
) -> Vec<i64> {
    let mut before = [0; 2];
    let mut after = [0; 2];
    for k in 0..2 {
        if let Some(a) = Axis::new(size[k], kernel[k], strides[k], dilations[k], padding) {
            let span = (kernel[k] - 1) * dilations[k] + 1;
            let total = ((a.output - 1) * strides[k] + span).saturating_sub(size[k]);
            before[k] = a.pad_before as i64;
            after[k] = total as i64 - before[k];
            if padding == Padding::Valid {
                after[k] = 0;
            }
        }
    }
    vec![before[0], before[1], after[0], after[1]]
}
