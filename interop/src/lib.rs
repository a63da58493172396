//! Nothing here: `tests/` runs graphs written as ONNX (`Session::to_onnx`) in tract, an ONNX
//! engine, and compares them with `Session::run`.
