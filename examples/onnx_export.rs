//! Writes graphs as ONNX models, for ONNX Runtime, tract, TensorRT or OpenVINO: the seed's circle
//! classifier with trained weights, and MLPerf Tiny's keyword spotting.
//!
//! ```text
//! cargo run --release --example onnx_export -- [DIRECTORY]    # default: tests/data/onnx
//! python3 -c "import onnxruntime as ort, numpy as np; s = ort.InferenceSession('tests/data/onnx/circle_exported.onnx'); print(s.run(None, {'X': np.array([[0.1, 0.2]], np.float32)}))"
//! ```
//!
//! `interop/tests/onnx_engine.rs` checks that the committed files are what this writes, runs them
//! in tract and imports them back (`onnx.load`).

use std::path::PathBuf;

include!("models/kws.rs");

include!("models/circle.rs");

/// The firmware's trained circle weights.
mod trained {
    use super::circle;
    include!("../firmware/src/trained.rs");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "tests/data/onnx".into()));
    std::fs::create_dir_all(&dir)?;
    let circle = circle::Session::from_variables(trained::TRAINED);
    let path = dir.join("circle_exported.onnx");
    circle.save_onnx(&path, "output_layer")?;
    println!("{}: the circle classifier's `output_layer`, input `X` [N, 2]", path.display());
    let kws = keyword_spotting::Session::new();
    let path = dir.join("kws_exported.onnx");
    kws.save_onnx(&path, "probs")?;
    println!("{}: keyword spotting's `probs`, input `x` [N, 49, 10, 1]", path.display());
    // A training step computes no value: an error, not a model.
    if let Err(e) = circle.to_onnx("train_step") {
        println!("train_step: {e}");
    }
    Ok(())
}
