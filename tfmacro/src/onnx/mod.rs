//! ONNX models read while the graph compiles: `onnx.load("model.onnx", input_1 = x)` imports a
//! model's graph into the block. `proto` is the file format (decoded by `prost`), this module
//! checks what was decoded and turns its tensors into plain arrays, and `import` translates the
//! operators into the graph IR.

pub mod export;
pub mod import;
/// ONNX's messages, shared with `tfcore`'s writer.
#[path = "../shared/onnx_proto.rs"]
#[allow(dead_code)]
pub mod proto;

use proto::data_type;
use proto::{ModelProto, TensorProto};

/// A decoded model whose graph is present.
pub struct Model {
    pub graph: proto::GraphProto,
    /// The version of the default operator set (`""` or `"ai.onnx"`).
    pub opset: i64,
}

impl Model {
    /// Decodes and checks an `.onnx` file's bytes. Never panics, whatever the bytes.
    pub fn parse(bytes: &[u8]) -> Result<Model, String> {
        let model = <ModelProto as prost::Message>::decode(bytes)
            .map_err(|e| format!("is not an ONNX model (a protobuf `ModelProto`): {e}"))?;
        let Some(graph) = model.graph else { return Err("is an ONNX model without a graph".into()) };
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version)
            .ok_or("imports no version of ONNX's default operator set")?;
        Ok(Model { graph, opset })
    }
}

/// A constant of the model (an initializer, a `Constant` node, or what the import folded), its
/// elements row-major as `f64` (exact for every type read but 64-bit integers beyond 2^53, which
/// only index and shape tensors hold, and those are small).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// ONNX's `TensorProto.DataType` code.
    pub data_type: i32,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
    /// The initializer or node output it comes from (rearranged, dequantised, reshaped), for the
    /// name of the variable a trainable import makes of it; empty when it comes from several.
    pub name: String,
}

impl Tensor {
    /// The elements of an ONNX tensor, checked against its dimensions.
    pub fn from_proto(t: &TensorProto) -> Result<Tensor, String> {
        if !t.external_data.is_empty() || t.data_location == 1 {
            return Err("keeps its data in an external file, which is not supported: save the model with \
                        `onnx.save(model, path, save_as_external_data=False)`"
                .into());
        }
        let mut shape = Vec::with_capacity(t.dims.len());
        let mut count: usize = 1;
        for &d in &t.dims {
            let d = usize::try_from(d).map_err(|_| format!("has a negative dimension ({:?})", t.dims))?;
            count = count.checked_mul(d).filter(|&c| c <= 1 << 28).ok_or("has too many elements")?;
            shape.push(d);
        }
        let raw = &t.raw_data;
        let values: Vec<f64> = match t.data_type {
            data_type::FLOAT if !raw.is_empty() => chunks::<4>(raw).map(|b| f32::from_le_bytes(b).into()).collect(),
            data_type::FLOAT => t.float_data.iter().map(|&x| x.into()).collect(),
            data_type::DOUBLE if !raw.is_empty() => chunks::<8>(raw).map(f64::from_le_bytes).collect(),
            data_type::DOUBLE => t.double_data.clone(),
            data_type::INT64 if !raw.is_empty() => chunks::<8>(raw).map(|b| i64::from_le_bytes(b) as f64).collect(),
            data_type::INT64 => t.int64_data.iter().map(|&x| x as f64).collect(),
            data_type::INT32 if !raw.is_empty() => chunks::<4>(raw).map(|b| i32::from_le_bytes(b).into()).collect(),
            data_type::INT8 if !raw.is_empty() => raw.iter().map(|&b| (b as i8).into()).collect(),
            data_type::UINT8 if !raw.is_empty() => raw.iter().map(|&b| b.into()).collect(),
            data_type::BOOL if !raw.is_empty() => raw.iter().map(|&b| f64::from(u8::from(b != 0))).collect(),
            // int8, uint8, bool and int32 are all held in `int32_data` when not raw.
            data_type::INT32 | data_type::INT8 | data_type::UINT8 | data_type::BOOL => {
                t.int32_data.iter().map(|&x| x.into()).collect()
            }
            other => return Err(format!("is of type {}, which is not supported", data_type::name(other))),
        };
        if values.len() != count {
            return Err(format!("holds {} elements where its shape {shape:?} needs {count}", values.len()));
        }
        Ok(Tensor { data_type: t.data_type, shape, values, name: t.name.clone() })
    }

    pub fn is_float(&self) -> bool {
        matches!(self.data_type, data_type::FLOAT | data_type::DOUBLE)
    }

    /// The elements as integers, if they are.
    pub fn ints(&self) -> Option<Vec<i64>> {
        if self.is_float() {
            return None;
        }
        Some(self.values.iter().map(|&v| v as i64).collect())
    }

    /// The one element of a scalar (or one-element) tensor.
    pub fn scalar(&self) -> Option<f64> {
        match self.values[..] {
            [v] => Some(v),
            _ => None,
        }
    }

    /// The tensor with its axes permuted: axis `k` of the result is axis `perm[k]` of `self`.
    pub fn transpose(&self, perm: &[usize]) -> Tensor {
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape[p]).collect();
        let strides = strides(&self.shape);
        let count = self.values.len();
        let mut values = Vec::with_capacity(count);
        let mut index = vec![0; shape.len()];
        for _ in 0..count {
            let at: usize = index.iter().zip(perm).map(|(&i, &p)| i * strides[p]).sum();
            values.push(self.values[at]);
            for k in (0..shape.len()).rev() {
                index[k] += 1;
                if index[k] < shape[k] {
                    break;
                }
                index[k] = 0;
            }
        }
        Tensor { data_type: self.data_type, shape, values, name: self.name.clone() }
    }
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    strides
}

/// `bytes` as little-endian groups of `N` (a trailing partial group is dropped, and then the
/// element count check fails).
fn chunks<const N: usize>(bytes: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    bytes.chunks_exact(N).map(|c| {
        let mut b = [0; N];
        b.copy_from_slice(c);
        b
    })
}
