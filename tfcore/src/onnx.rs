//! Graphs written as ONNX models (with `std`): every generated `Session` has
//! `to_onnx("fetch")`, which returns the model computing that fetch (opset 17) with the session's
//! current variables as initializers, and `save_onnx(path, "fetch")`, which writes it to a file
//! that ONNX Runtime, tract, TensorRT or OpenVINO can load.
//!
//! ```
//! tfcore::graph! {
//!     pub mod affine {
//!         let x = tf.placeholder(tf.float32, [None, 2]);
//!         let w = tf.Variable(tf.constant([[1.0, 2.0], [3.0, 4.0]]));
//!         let y = tf.nn.relu(tf.matmul(x, w) + 0.5);
//!     }
//! }
//!
//! let sess = affine::Session::new();
//! let model: Vec<u8> = sess.to_onnx("y").expect("`y` computes a value");
//! assert!(model.len() > 100);
//! assert!(matches!(sess.to_onnx("z"), Err(tfcore::onnx::OnnxError::UnknownFetch { .. })));
//! ```
//!
//! The model is built when the graph compiles: the placeholders the fetch needs are its inputs
//! (a `None` dimension is a symbolic one), constants and variables its initializers (named as
//! the variables), and each op becomes its ONNX counterpart; images stay NHWC, with a `Transpose`
//! to ONNX's NCHW around each convolution and pooling.

use crate::npy::{Dtype, NpyError, Npz};
use crate::onnx_proto::{data_type, ModelProto, TensorProto};
use prost::Message;
use std::collections::BTreeSet;
use std::string::{String, ToString};
use std::vec::Vec;

/// Why a graph could not be written as ONNX.
#[derive(Debug)]
#[non_exhaustive]
pub enum OnnxError {
    /// The graph has no fetch of that name.
    UnknownFetch {
        /// The name asked for.
        fetch: String,
        /// The graph's fetches.
        fetches: &'static [&'static str],
    },
    /// The fetch does not compute a value ONNX can hold (an assignment, a training step).
    NotExportable {
        /// The fetch.
        fetch: String,
        /// What in it has no ONNX form.
        why: &'static str,
    },
    /// Reading the variables, or writing the file.
    Io(NpyError),
}

impl core::fmt::Display for OnnxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OnnxError::UnknownFetch { fetch, fetches } => {
                write!(f, "the graph has no fetch `{fetch}` (its fetches: {})", fetches.join(", "))
            }
            OnnxError::NotExportable { fetch, why } => write!(f, "`{fetch}` cannot be written as ONNX: {why}"),
            OnnxError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for OnnxError {}

impl From<NpyError> for OnnxError {
    fn from(e: NpyError) -> OnnxError {
        OnnxError::Io(e)
    }
}

/// The model of the fetch `fetch`, cut from `template` (what the macro wrote: every fetch's
/// output and the nodes they need), with the data of its large constants (`blobs`, by
/// initializer name) filled in and the variables of `names` it reads, taken from the session's
/// variables as an `.npz` archive, added as initializers. Not public API.
#[doc(hidden)]
pub fn model(
    template: &[u8],
    blobs: &[(&str, &[u8])],
    variables: &[u8],
    names: &[&str],
    fetch: &str,
) -> Result<Vec<u8>, OnnxError> {
    let mut model = ModelProto::decode(template).map_err(|e| OnnxError::Io(NpyError::NotNpy(e.to_string())))?;
    let npz = Npz::parse(variables)?;
    let graph = model.graph.get_or_insert_with(Default::default);
    graph.name = fetch.to_string();
    graph.output.retain(|output| output.name == fetch);
    // The nodes are in topological order: walking back from the output keeps what it reads.
    let mut needed = BTreeSet::from([fetch.to_string()]);
    let mut kept = Vec::new();
    for node in core::mem::take(&mut graph.node).into_iter().rev() {
        if node.output.iter().any(|output| needed.contains(output)) {
            needed.extend(node.input.iter().cloned());
            kept.push(node);
        }
    }
    kept.reverse();
    graph.node = kept;
    graph.input.retain(|input| needed.contains(&input.name));
    graph.initializer.retain(|init| needed.contains(&init.name));
    for init in &mut graph.initializer {
        if let Some((_, data)) = blobs.iter().find(|(name, _)| *name == init.name) {
            init.raw_data = data.to_vec();
        }
    }
    for name in names.iter().filter(|name| needed.contains(**name)) {
        let array = npz.get(name)?;
        // ONNX's `raw_data`: the elements little-endian, a bool as one byte.
        fn raw<T: crate::npy::Element, const N: usize>(
            array: &crate::npy::Npy,
            bytes: fn(T) -> [u8; N],
        ) -> Result<Vec<u8>, NpyError> {
            Ok(array.to_vec::<T>()?.into_iter().flat_map(bytes).collect())
        }
        let (data_type, raw) = match array.dtype() {
            Dtype::Float32 => (data_type::FLOAT, raw(array, f32::to_le_bytes)?),
            Dtype::Float64 => (data_type::DOUBLE, raw(array, f64::to_le_bytes)?),
            Dtype::Int32 => (data_type::INT32, raw(array, i32::to_le_bytes)?),
            Dtype::Int64 => (data_type::INT64, raw(array, i64::to_le_bytes)?),
            Dtype::UInt8 => (data_type::UINT8, raw(array, u8::to_le_bytes)?),
            Dtype::Int8 => (data_type::INT8, raw(array, i8::to_le_bytes)?),
            Dtype::Bool => (data_type::BOOL, raw(array, |b: bool| [u8::from(b)])?),
        };
        graph.initializer.push(TensorProto {
            dims: array.shape().iter().map(|&d| d as i64).collect(),
            data_type,
            name: name.to_string(),
            raw_data: raw,
            ..Default::default()
        });
    }
    Ok(model.encode_to_vec())
}
