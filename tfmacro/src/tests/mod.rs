//! The macro crate's own tests: what expansions hold, and that no input makes the macro panic.

mod expansion;
mod fuzz;
mod fuzz_onnx;
mod fuzz_tflite;
mod snapshot;
