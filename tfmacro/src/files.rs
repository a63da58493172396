//! Files read while the graph compiles: arrays of NumPy files (`np.load("weights.npz")["conv0/filter"]`,
//! `np.load("bias.npy")`) and ONNX models (`onnx.load("model.onnx", ...)`, see [`crate::onnx`]),
//! paths relative to the directory of the `Cargo.toml` of the crate being compiled (as
//! `include_bytes!` paths are relative to the source file).
//!
//! The reader is `tfcore`'s (`tfcore/src/npy.rs`, compiled into both crates), so the macro and
//! the run time read a file alike. Each file is read once per expansion; the generated module
//! names every file it read with `include_bytes!`, so that editing one rebuilds the crate.

use crate::ir::{DType, Data, Scalar};
use crate::npy::{Dtype, Npy, Npz};
use crate::onnx::Model;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// An array of a file, converted to the graph's types.
pub struct Array {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Data,
}

/// The files read during this expansion, by absolute path (`None`: unreadable, reported once).
#[derive(Default)]
pub struct Files {
    cache: RefCell<HashMap<PathBuf, Option<Rc<Contents>>>>,
}

/// Why an array could not be loaded, and so where to report it.
pub enum LoadError {
    /// About the file: on its path.
    File(String),
    /// About the key: on the key.
    Key(String),
    /// The file could not be read, which was reported at its first use.
    Reported,
}

enum Contents {
    Npy(Npy),
    Npz(Npz),
    Onnx(Rc<Model>),
    Tflite(Rc<crate::tflite::Model>),
}

impl Files {
    /// The absolute path of `file`: relative to `TFGRAPH_NPY_ROOT` if the build sets it (a
    /// crate that includes another crate's graph, such as the firmware the root package's), else
    /// to the directory of the crate's `Cargo.toml`.
    fn resolve(file: &str) -> PathBuf {
        let base = std::env::var_os("TFGRAPH_NPY_ROOT")
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
            .map(PathBuf::from)
            .unwrap_or_default();
        base.join(file)
    }

    /// Every file read, for the generated `include_bytes!`.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> =
            self.cache.borrow().iter().filter(|(_, c)| c.is_some()).map(|(p, _)| p.clone()).collect();
        paths.sort();
        paths
    }

    fn contents(&self, file: &str) -> Result<Rc<Contents>, LoadError> {
        let path = Files::resolve(file);
        if let Some(c) = self.cache.borrow().get(&path) {
            return c.clone().ok_or(LoadError::Reported);
        }
        let read = std::fs::read(&path)
            .map_err(|e| {
                let e = e.to_string();
                let e = e.split(" (os error").next().unwrap_or(&e).to_lowercase();
                format!("cannot read `{file}`: {e} (the path is relative to the directory of the crate's `Cargo.toml`)")
            })
            .and_then(|bytes| {
                Ok(if file.ends_with(".tflite") {
                    Contents::Tflite(Rc::new(crate::tflite::Model::parse(&bytes).map_err(|e| format!("`{file}` {e}"))?))
                } else if file.ends_with(".onnx") {
                    Contents::Onnx(Rc::new(Model::parse(&bytes).map_err(|e| format!("`{file}` {e}"))?))
                } else if bytes.starts_with(b"PK") {
                    Contents::Npz(Npz::parse(&bytes).map_err(|e| format!("`{file}`: {e}"))?)
                } else {
                    Contents::Npy(Npy::parse(&bytes).map_err(|e| format!("`{file}`: {e}"))?)
                })
            });
        match read {
            Ok(contents) => {
                let contents = Rc::new(contents);
                self.cache.borrow_mut().insert(path, Some(contents.clone()));
                Ok(contents)
            }
            Err(message) => {
                self.cache.borrow_mut().insert(path, None);
                Err(LoadError::File(message))
            }
        }
    }

    /// The model of an `.onnx` file.
    pub fn onnx(&self, file: &str) -> Result<Rc<Model>, LoadError> {
        match &*self.contents(file)? {
            Contents::Onnx(model) => Ok(model.clone()),
            Contents::Tflite(_) => Err(LoadError::File(format!(
                "`{file}` is a TensorFlow Lite model, not an ONNX model: import it with `tflite.load`"
            ))),
            _ => Err(LoadError::File(format!("`{file}` is a NumPy file, not an ONNX model: read it with `np.load`"))),
        }
    }

    /// The model of a `.tflite` file.
    pub fn tflite(&self, file: &str) -> Result<Rc<crate::tflite::Model>, LoadError> {
        match &*self.contents(file)? {
            Contents::Tflite(model) => Ok(model.clone()),
            Contents::Onnx(_) => Err(LoadError::File(format!(
                "`{file}` is an ONNX model, not a TensorFlow Lite model: import it with `onnx.load`"
            ))),
            _ => Err(LoadError::File(format!(
                "`{file}` is a NumPy file, not a TensorFlow Lite model: read it with `np.load`"
            ))),
        }
    }

    /// Whether `file` is a NumPy archive (`.npz`): `Ok(false)` for any other file it could read.
    pub fn is_archive(&self, file: &str) -> Result<bool, LoadError> {
        Ok(matches!(&*self.contents(file)?, Contents::Npz(_)))
    }

    /// The array of `file` (a `.npy`, `key` `None`) or its array `key` (a `.npz`).
    pub fn load(&self, file: &str, key: Option<&str>) -> Result<Array, LoadError> {
        let contents = self.contents(file)?;
        let npy = match (&*contents, key) {
            (Contents::Npy(npy), None) => npy,
            (Contents::Npz(npz), Some(key)) => npz.get(key).map_err(|_| {
                let names: Vec<&str> = npz.names().collect();
                let message = format!("no array `{key}` in `{file}` (it has: {})", names.join(", "));
                let help = crate::error::nearest(key, names.iter().copied()).map(|n| format!("did you mean `{n}`?"));
                LoadError::Key(crate::error::with_help(message, help))
            })?,
            (Contents::Npz(npz), None) => {
                let names: Vec<&str> = npz.names().collect();
                return Err(LoadError::File(format!(
                    "`{file}` is an archive of arrays: pick one, as in `np.load(\"{file}\")[\"{}\"]` (it has: {})",
                    names.first().unwrap_or(&"name"),
                    names.join(", ")
                )));
            }
            (Contents::Onnx(_), _) => {
                return Err(LoadError::File(format!("`{file}` is an ONNX model: import it with `onnx.load`")));
            }
            (Contents::Tflite(_), _) => {
                return Err(LoadError::File(format!(
                    "`{file}` is a TensorFlow Lite model: import it with `tflite.load`"
                )));
            }
            (Contents::Npy(_), Some(_)) => {
                return Err(LoadError::Key(format!(
                    "`{file}` holds one array, not an archive: write `np.load(\"{file}\")`"
                )));
            }
        };
        convert(npy).map_err(|e| match key {
            Some(key) => LoadError::Key(format!("`{key}` in `{file}`: {e}")),
            None => LoadError::File(format!("`{file}`: {e}")),
        })
    }
}

fn convert(npy: &Npy) -> Result<Array, String> {
    let err = |e: crate::npy::NpyError| e.to_string();
    let (dtype, data): (DType, Vec<Scalar>) = match npy.dtype() {
        Dtype::Float32 => {
            (DType::Float32, npy.to_vec::<f32>().map_err(err)?.into_iter().map(|x| Scalar::F(x.into())).collect())
        }
        Dtype::Float64 => (DType::Float64, npy.to_vec::<f64>().map_err(err)?.into_iter().map(Scalar::F).collect()),
        Dtype::Int32 => {
            (DType::Int32, npy.to_vec::<i32>().map_err(err)?.into_iter().map(|x| Scalar::I(x.into())).collect())
        }
        Dtype::Int64 => (DType::Int64, npy.to_vec::<i64>().map_err(err)?.into_iter().map(Scalar::I).collect()),
        Dtype::UInt8 => {
            (DType::UInt8, npy.to_vec::<u8>().map_err(err)?.into_iter().map(|x| Scalar::I(x.into())).collect())
        }
        Dtype::Int8 => {
            (DType::Int8, npy.to_vec::<i8>().map_err(err)?.into_iter().map(|x| Scalar::I(x.into())).collect())
        }
        Dtype::Bool => (DType::Bool, npy.to_vec::<bool>().map_err(err)?.into_iter().map(Scalar::B).collect()),
    };
    let shape = npy.shape().to_vec();
    if shape.len() > crate::resolve::MAX_RANK {
        return Err(format!("{} (the array is {shape:?})", crate::resolve::rank_error(shape.len())));
    }
    if shape.contains(&0) {
        return Err(format!("the array is {shape:?}: a dimension is between 1 and 2^24"));
    }
    Ok(Array { dtype, shape, data: Data::Dense(data) })
}
