//! No ONNX file makes the macro panic. Three valid models (`tests/data/onnx/ops.onnx`, every
//! operator the import supports; `pytorch_style.onnx`, PyTorch's shape arithmetic; and the
//! keyword-spotting model) are mutated, as bytes (bits
//! flipped, bytes changed, runs deleted or repeated, the file cut short) and as messages (decoded,
//! then attributes, dimensions, operator types, input names and tensor data changed, and encoded
//! again, so that the mutations reach the import behind the decoder), written to a file and
//! imported by a graph, whose expansion must parse as Rust.
//!
//! `TFGRAPH_ONNX_FUZZ_CASES` sets how many cases run (300 by default; CI runs 1,500) and
//! `TFGRAPH_FUZZ_SEED` the seed.

use super::fuzz::{check, env_number, Rng};
use crate::onnx::proto::{AttributeProto, ModelProto};
use prost::Message;

const OPS: &[u8] = include_bytes!("../../../tests/data/onnx/ops.onnx");
const KWS: &[u8] = include_bytes!("../../../tests/data/models/kws/model.onnx");
const TORCH: &[u8] = include_bytes!("../../../tests/data/onnx/pytorch_style.onnx");

/// The graph that imports the model at `path`: each model's own input and output.
fn graph(path: &str, source: usize) -> String {
    if source == 2 {
        return format!("pub mod fuzzed {{ let y = onnx.load({path:?}); }}");
    }
    if source == 3 {
        format!(
            "pub mod fuzzed {{ let x = tf.placeholder(tf.float32, [None, 49, 10, 1]); \
             let y = onnx.load({path:?}, input_1 = x); }}"
        )
    } else {
        format!(
            "pub mod fuzzed {{ let x = tf.placeholder(tf.float32, [None, 3, 6, 6]); \
             let y = onnx.load({path:?}, x = x)[\"probs\"]; }}"
        )
    }
}

fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                let run: Vec<u8> = bytes[at..end].to_vec();
                bytes.splice(at..at, run);
            }
            _ => bytes.truncate(at),
        }
        if bytes.is_empty() {
            return;
        }
    }
}

/// A number of the kind a broken exporter writes: small, zero, negative or huge.
fn number(rng: &mut Rng) -> i64 {
    match rng.below(6) {
        0 => 0,
        1 => -(rng.below(3) as i64) - 1,
        2 => 1 << (20 + rng.below(43)),
        _ => rng.below(8) as i64,
    }
}

fn mutate_attribute(a: &mut AttributeProto, rng: &mut Rng) {
    match rng.below(4) {
        0 if !a.ints.is_empty() => {
            let k = rng.below(a.ints.len());
            a.ints[k] = number(rng);
        }
        1 => a.ints.truncate(rng.below(a.ints.len() + 1)),
        2 => a.i = number(rng),
        _ => a.r#type = rng.below(9) as i32,
    }
}

fn mutate_model(model: &mut ModelProto, rng: &mut Rng) {
    let Some(graph) = model.graph.as_mut() else { return };
    const OPS: &[&str] =
        &["Conv", "MaxPool", "Reshape", "Transpose", "Concat", "Gemm", "Softmax", "Flatten", "Clip", "Mul"];
    for _ in 0..1 + rng.below(3) {
        match rng.below(8) {
            0 if !graph.node.is_empty() => {
                let k = rng.below(graph.node.len());
                let node = &mut graph.node[k];
                if !node.attribute.is_empty() {
                    let a = rng.below(node.attribute.len());
                    mutate_attribute(&mut node.attribute[a], rng);
                }
            }
            1 if !graph.node.is_empty() => {
                let k = rng.below(graph.node.len());
                graph.node[k].op_type = OPS[rng.below(OPS.len())].to_string();
            }
            2 if !graph.node.is_empty() => {
                let k = rng.below(graph.node.len());
                let node = &mut graph.node[k];
                match rng.below(3) {
                    0 => node.input.truncate(rng.below(node.input.len() + 1)),
                    1 => node.input.push(String::new()),
                    _ => {
                        let other = rng.below(graph.node.len());
                        let name = graph.node[other].output.first().cloned().unwrap_or_default();
                        if let Some(input) = graph.node[k].input.first_mut() {
                            *input = name;
                        }
                    }
                }
            }
            3 if !graph.initializer.is_empty() => {
                let k = rng.below(graph.initializer.len());
                let t = &mut graph.initializer[k];
                match rng.below(4) {
                    0 if !t.dims.is_empty() => {
                        let d = rng.below(t.dims.len());
                        t.dims[d] = number(rng);
                    }
                    1 => t.dims.push(number(rng)),
                    2 => t.raw_data.truncate(rng.below(t.raw_data.len() + 1)),
                    _ => t.data_type = rng.below(17) as i32,
                }
            }
            4 if !graph.input.is_empty() => {
                let dims =
                    graph.input[0].r#type.as_mut().and_then(|t| t.tensor_type.as_mut()).and_then(|t| t.shape.as_mut());
                if let Some(shape) = dims {
                    if !shape.dim.is_empty() && rng.below(2) == 0 {
                        let d = rng.below(shape.dim.len());
                        shape.dim.remove(d);
                    } else if let Some(first) = shape.dim.last_mut() {
                        first.value = Some(crate::onnx::proto::dimension::Value::DimValue(number(rng)));
                    }
                }
            }
            5 if !graph.node.is_empty() => {
                let k = rng.below(graph.node.len());
                graph.node.remove(k);
            }
            6 => graph.output.truncate(rng.below(graph.output.len() + 1)),
            _ => model.opset_import.iter_mut().for_each(|o| o.version = rng.below(20) as i64),
        }
    }
}

#[test]
fn no_onnx_file_makes_the_macro_panic() {
    let cases = env_number("TFGRAPH_ONNX_FUZZ_CASES", 300);
    let seed = env_number("TFGRAPH_FUZZ_SEED", 0x7f_5eed);
    let dir = std::env::temp_dir().join(format!("tfgraph-onnx-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let mut rng = Rng(seed.max(1));
    let mut failures = Vec::new();
    let mut errors = 0;
    for k in 0..cases {
        let which = (k % 4) as usize;
        let source = [OPS, OPS, TORCH, KWS][which];
        let bytes = if k % 2 == 0 {
            let mut bytes = source.to_vec();
            mutate_bytes(&mut bytes, &mut rng);
            bytes
        } else {
            let mut model = ModelProto::decode(source).expect("the fixtures decode");
            mutate_model(&mut model, &mut rng);
            model.encode_to_vec()
        };
        let path = dir.join(format!("case{k}.onnx"));
        std::fs::write(&path, &bytes).expect("the case is written");
        let input = graph(&path.to_string_lossy(), which);
        match check(&input, true) {
            Ok(_) => errors += 1,
            Err(problem) => {
                let _ = std::fs::copy(&path, dir.join(format!("failed{k}.onnx")));
                failures.push(format!("case {k} ({}): {problem}", dir.join(format!("failed{k}.onnx")).display()));
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    println!("onnx fuzz: {cases} mutated models imported, {} panics or bad expansions", failures.len());
    assert!(errors > 0);
    assert!(failures.is_empty(), "{}", failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n"));
}
