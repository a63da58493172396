//! Files read when the crate compiles: `np.load` arrays, `onnx.load` and `tflite.load` models.

use super::*;

impl Resolver<'_> {
    /// What a `onnx.load(...)` or `tflite.load(...)` call (`call`, its path at `path_loc`, the
    /// whole expression at `loc`) names: the model `load` reads from the path it takes first,
    /// that path and where it is written, and the value picked by `[\"name\"]` (`pick`) with its
    /// place. `Err` with the poison of a reported mistake; `example` is a call as it should be
    /// written.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub(crate) fn model_call<M>(
        &mut self,
        call: &str,
        example: &str,
        args: &[ast::Arg],
        path_loc: Loc,
        pick: Option<&Expr>,
        loc: Loc,
        load: fn(&Files, &str) -> Result<std::rc::Rc<M>, LoadError>,
    ) -> Result<(std::rc::Rc<M>, String, Loc, Option<(String, Loc)>), NodeId> {
        let (file, file_loc) = match args.first() {
            Some(arg) if arg.keyword.is_none() => match &arg.value.kind {
                ExprKind::Str(file) => (file.clone(), arg.value.loc),
                _ => {
                    return Err(self.error(
                        arg.value.loc,
                        format_args!(
                            "`{call}` takes the model's path as a string, relative to the crate's `Cargo.toml`"
                        ),
                    ))
                }
            },
            _ => return Err(self.error(path_loc, format_args!("`{call}` takes the model's path first: `{example}`"))),
        };
        let model = match load(&self.files, &file) {
            Ok(model) => model,
            Err(LoadError::File(message) | LoadError::Key(message)) => return Err(self.error(file_loc, message)),
            Err(LoadError::Reported) => return Err(self.poison(loc)),
        };
        let pick = match pick {
            None => None,
            Some(Expr { kind: ExprKind::Str(name), loc }) => Some((name.clone(), *loc)),
            Some(other) => return Err(self.error(other.loc, "a model's value is named by a string: `[\"name\"]`")),
        };
        Ok((model, file, file_loc, pick))
    }

    // `tf.constant(np.load(...)[...], dtype = ..., shape = ...)`: the array has that dtype and
    // shape (TensorFlow would convert and reshape; here a mismatch is more likely a mistake).
    //   tf.constant(np.load("w.npz")["fc0/kernel"], shape = [12, 64])  // error if it is [64, 12]
    pub(super) fn loaded_constant(
        &mut self,
        value: &Expr,
        dtype: Option<(DType, Option<&Expr>)>,
        shape: Option<&Expr>,
    ) -> NodeId {
        let node = self.lower(value);
        let Op::Const { dtype: found, shape: found_shape, .. } = &self.graph.nodes[node].op else { return node };
        let (found, found_shape) = (*found, found_shape.clone());
        let what = self.graph.describe(node);
        if let Some((want, Some(at))) = dtype {
            if want != found {
                return self
                    .error(at.loc, format_args!("{what} is `{found}`, not `{want}`: convert it with `tf.cast`"));
            }
        }
        if let Some(given) = shape {
            let Some(dims) = self.shape(given, false) else { return self.poison(given.loc) };
            let dims: Vec<usize> = dims.iter().map(|d| if let DimSpec::Known(n) = d { *n } else { 0 }).collect();
            if dims != found_shape {
                let message = format!("{what} has shape {found_shape:?}, not {dims:?}: reshape it with `tf.reshape`");
                return self.error(given.loc, message);
            }
        }
        node
    }

    // `let w = np.load("weights.npz");` binds the archive, read once; `w["conv0/filter"]` is
    // one of its arrays, as `np.load("weights.npz")["conv0/filter"]` is.
    //   let w = np.load("weights.npz"); let x = w;  // error: `w` is a NumPy archive, not a tensor
    /// The archive a `let`'s value `value` binds, if it is `np.load` of a NumPy archive (or of a
    /// `.npz` file that cannot be read, whose error is reported here, once).
    pub(super) fn archive(&mut self, value: &Expr) -> Option<Archive> {
        let ExprKind::Call { args, .. } = &np_load(value)?.kind else { return None };
        let [Arg { keyword: None, value: Expr { kind: ExprKind::Str(file), loc }, .. }] = args.as_slice() else {
            return None;
        };
        match self.files.is_archive(file) {
            Ok(true) => Some(Archive { file: file.clone(), loc: *loc }),
            Ok(false) | Err(LoadError::Reported | LoadError::Key(_)) => None,
            Err(LoadError::File(message)) => {
                self.errors.at(*loc, message);
                Some(Archive { file: file.clone(), loc: *loc })
            }
        }
    }

    /// The name of `expr` if it is a plain name bound to an archive.
    pub(super) fn archive_named<'e>(&self, expr: &'e Expr) -> Option<&'e proc_macro2::Ident> {
        match &expr.kind {
            ExprKind::Name(name) if matches!(self.scope.get(&name.to_string()), Some(Binding::Archive(_))) => {
                Some(name)
            }
            _ => None,
        }
    }

    /// `np.load("file.npy")` (`key` `None`) or `np.load("file.npz")["key"]`: the file's array as a
    /// constant, read now. `call` is the `np.load(...)` call.
    pub(super) fn load(&mut self, call: &Expr, key: Option<&Expr>, loc: Loc) -> NodeId {
        let ExprKind::Call { args, path_loc, .. } = &call.kind else { return self.poison(loc) };
        let Some(b) = self.bind("np.load", call.loc, args, &["file"], 1) else { return self.poison(loc) };
        let Some(Expr { kind: ExprKind::Str(file), loc: file_loc }) = b[0] else {
            let at = b[0].map_or(*path_loc, |e| e.loc);
            return self.error(at, "`np.load` takes the file's path as a string, relative to the crate's `Cargo.toml`");
        };
        let (file, file_loc) = (file.clone(), *file_loc);
        self.load_array(&file, file_loc, key, loc)
    }

    /// The array of `file` (written at `file_loc`), or its array `key`, as a constant.
    pub(super) fn load_array(&mut self, file: &str, file_loc: Loc, key: Option<&Expr>, loc: Loc) -> NodeId {
        let key = match key {
            None => None,
            Some(Expr { kind: ExprKind::Str(k), loc }) => Some((k.as_str(), *loc)),
            Some(other) => {
                return self.error(other.loc, "an archive's array is named by a string: `[\"conv0/filter\"]`")
            }
        };
        match self.files.load(file, key.map(|(k, _)| k)) {
            Ok(array) => {
                let op = Op::Const { dtype: array.dtype, shape: array.shape, data: array.data };
                let node = self.graph.add(op, Vec::new(), loc, loc);
                self.graph.nodes[node].label = Some(match key {
                    Some((k, _)) => format!("np.load(\"{file}\")[\"{k}\"]"),
                    None => format!("np.load(\"{file}\")"),
                });
                node
            }
            Err(LoadError::File(message)) => self.error(file_loc, message),
            Err(LoadError::Key(message)) => self.error(key.map_or(file_loc, |(_, at)| at), message),
            Err(LoadError::Reported) => self.poison(loc),
        }
    }
}

/// The `np.load(...)` call `expr` is, if it is one.
pub(super) fn np_load(expr: &Expr) -> Option<&Expr> {
    match &expr.kind {
        ExprKind::Call { path, .. } if path.len() == 2 && path[0] == "np" && path[1] == "load" => Some(expr),
        _ => None,
    }
}

/// The `onnx.load(...)` call `expr` is, if it is one.
pub(super) fn onnx_load(expr: &Expr) -> Option<&Expr> {
    model_load(expr, "onnx")
}

/// The `tflite.load(...)` call `expr` is, if it is one.
pub(super) fn tflite_load(expr: &Expr) -> Option<&Expr> {
    model_load(expr, "tflite")
}

fn model_load<'e>(expr: &'e Expr, format: &str) -> Option<&'e Expr> {
    match &expr.kind {
        ExprKind::Call { path, .. } if path.len() == 2 && path[0] == format && path[1] == "load" => Some(expr),
        _ => None,
    }
}
