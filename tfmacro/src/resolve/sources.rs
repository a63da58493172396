//! The nodes with no inputs of their own: `tf.constant`, `tf.placeholder`, `tf.Variable`,
//! `tf.zeros` and `tf.ones`, `tf.random_uniform`, and a variable's methods (`assign`...).

use super::*;

impl Resolver<'_> {
    /// `tf.constant(value, dtype = None, shape = None)`.
    pub(super) fn constant(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["value", "dtype", "shape"], 1) else { return self.poison(loc) };
        let value = b[0].expect("required");
        let dtype = match b[1] {
            Some(e) => match self.dtype(e) {
                Some(d) => Some(d),
                None => return self.poison(loc),
            },
            None => None,
        };
        let loaded = match &value.kind {
            ExprKind::Index { base, .. } => np_load(base).is_some() || self.archive_named(base).is_some(),
            _ => np_load(value).is_some(),
        };
        if loaded {
            return self.loaded_constant(value, dtype.map(|d| (d, b[1])), b[2]);
        }
        let Some((mut shape, elements)) = self.constant_value(value) else { return self.poison(loc) };
        if let Some(given) = b[2] {
            let Some(dims) = self.shape(given, false) else { return self.poison(loc) };
            let dims: Vec<usize> = dims.iter().map(|d| if let DimSpec::Known(n) = d { *n } else { 0 }).collect();
            let count: usize = dims.iter().product();
            if elements.len() != 1 && elements.len() != count {
                return self.error(
                    given.loc,
                    format_args!("`tf.constant` has {} values, which cannot fill shape {:?}", elements.len(), dims),
                );
            }
            shape = dims;
        }
        if shape.len() > MAX_RANK {
            return self.error(value.loc, rank_error(shape.len()));
        }
        let dtype = match dtype {
            Some(d) => d,
            None => match infer_constant_dtype(&elements) {
                Ok(d) => d,
                Err((message, at)) => return self.error(at, message),
            },
        };
        let mut data = Vec::with_capacity(elements.len());
        for (number, at) in &elements {
            match convert_number(*number, dtype) {
                Ok(s) => data.push(s),
                Err(message) => return self.error(*at, message),
            }
        }
        let count: usize = shape.iter().product();
        let data =
            if data.len() == 1 && count != 1 || shape.is_empty() { Data::Splat(data[0]) } else { Data::Dense(data) };
        self.graph.add(Op::Const { dtype, shape, data }, Vec::new(), loc, op_loc)
    }

    /// The shape and row-major elements of a (nested) list of numbers.
    pub(super) fn constant_value(&mut self, expr: &Expr) -> Option<ConstantValue> {
        if let ExprKind::List(items) = &expr.kind {
            let mut shape = None;
            let mut elements = Vec::new();
            for item in items {
                let (sub, values) = self.constant_value(item)?;
                match &shape {
                    None => shape = Some(sub),
                    Some(first) if *first != sub => {
                        self.errors.at(
                            item.loc,
                            format_args!("this element has shape {sub:?} but the first has shape {first:?}: a constant's rows all have the same length"),
                        );
                        return None;
                    }
                    Some(_) => {}
                }
                elements.extend(values);
            }
            let Some(mut shape) = shape else {
                self.errors.at(expr.loc, "an empty constant has no use in a graph");
                return None;
            };
            shape.insert(0, items.len());
            return Some((shape, elements));
        }
        if let ExprKind::Name(name) = &expr.kind {
            if let Some(Binding::Const(k)) = self.scope.get(&name.to_string()) {
                return Some((Vec::new(), vec![(self.graph.consts[*k].value, expr.loc)]));
            }
        }
        match self.literal(expr) {
            Some(_) => Some((Vec::new(), vec![(self.fold_literal(expr)?, expr.loc)])),
            None => {
                self.errors.at(expr.loc, "expected a number, a bool or a list of them");
                None
            }
        }
    }

    /// `tf.placeholder(dtype, shape = None)`.
    pub(super) fn placeholder(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["dtype", "shape"], 1) else { return self.poison(loc) };
        let dtype = b[0].and_then(|e| self.dtype(e));
        let shape = match b[1] {
            None => Some(None),
            Some(Expr { kind: ExprKind::Name(n), .. }) if n == "None" => Some(None),
            Some(e) => self.shape(e, true).map(Some),
        };
        let (Some(dtype), Some(shape)) = (dtype, shape) else { return self.poison(loc) };
        let node = self.graph.add(Op::Placeholder { dtype, shape }, Vec::new(), loc, op_loc);
        self.must_be_named.push(node);
        node
    }

    /// `tf.Variable(initial_value, trainable = True, dtype = None)`.
    pub(super) fn variable(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["initial_value", "trainable", "dtype"], 1) else {
            return self.poison(loc);
        };
        let outer = std::mem::replace(&mut self.in_init, true);
        let mut init = self.lower_arg(b[0]);
        self.in_init = outer;
        let trainable = self.bool_arg(b[1], true);
        let dtype = match b[2] {
            Some(e) => match self.dtype(e) {
                Some(d) => Some(d),
                None => return self.poison(loc),
            },
            None => None,
        };
        let Some(trainable) = trainable else { return self.poison(loc) };
        if let Op::Literal(number) = self.graph.nodes[init].op {
            let op = match dtype {
                Some(dtype) => match convert_number(number, dtype) {
                    Ok(scalar) => Op::Const { dtype, shape: Vec::new(), data: Data::Splat(scalar) },
                    Err(message) => return self.error(self.graph.nodes[init].loc, message),
                },
                None => default_constant(number).unwrap_or(Op::Poison),
            };
            self.graph.nodes[init].op = op;
        } else if let Some(dtype) = dtype {
            let at = self.graph.nodes[init].loc;
            init = self.graph.add(Op::Cast(Cast { to: dtype }), vec![init], at, at);
        }
        self.check_constant_init(init);
        let variable = Variable { init, trainable, storage: Storage::User };
        let node = self.graph.add(Op::Variable(variable), Vec::new(), loc, op_loc);
        self.must_be_named.push(node);
        node
    }

    // A variable's initial value is computed when the session starts, before any feed or
    // variable exists: it cannot read either.
    //   let w = tf.Variable(x * 2);  // error if `x` is a placeholder
    pub(super) fn check_constant_init(&mut self, init: NodeId) {
        for id in self.graph.topo_order(&[init]) {
            let what = match self.graph.nodes[id].op {
                Op::Placeholder { .. } => "placeholder",
                Op::Variable(_) => "variable",
                _ => continue,
            };
            let name = self.graph.describe(id);
            self.errors.at(
                self.graph.nodes[init].loc,
                format_args!(
                    "a variable's initial value cannot read {what} {name}: it is computed when the session starts"
                ),
            );
            return;
        }
    }

    /// `tf.zeros(shape, dtype = tf.float32)` and `tf.ones`.
    pub(super) fn fill(&mut self, op: &str, one: bool, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["shape", "dtype"], 1) else { return self.poison(loc) };
        let shape = b[0].and_then(|e| self.shape(e, false));
        let dtype = match b[1] {
            Some(e) => self.dtype(e),
            None => Some(DType::Float32),
        };
        let (Some(shape), Some(dtype)) = (shape, dtype) else { return self.poison(loc) };
        let shape = known_dims(&shape);
        let value = convert_number(Number::Int(one as i128), dtype).unwrap_or(Scalar::B(one));
        self.graph.add(Op::Const { dtype, shape, data: Data::Splat(value) }, Vec::new(), loc, op_loc)
    }

    /// `tf.random_uniform(shape, minval = 0, maxval = None, dtype = tf.float32)`.
    pub(super) fn random_uniform(&mut self, op: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        let Some(b) = self.bind(op, loc, args, &["shape", "minval", "maxval", "dtype", "seed"], 1) else {
            return self.poison(loc);
        };
        if let Some(seed) = b[4] {
            return self.error(
                seed.loc,
                "op seeds are not supported: seed the session instead, with `Session::with_seed(seed)`",
            );
        }
        if !self.in_init {
            return self.error(
                op_loc,
                "`tf.random_uniform` is only supported in a variable's initial value, where it draws from the session's seed",
            );
        }
        let shape = b[0].and_then(|e| self.shape(e, false));
        let dtype = match b[3] {
            Some(e) => self.dtype(e),
            None => Some(DType::Float32),
        };
        let lo = self.number_arg(b[1], Number::Int(0));
        let hi = match b[2] {
            Some(e) => self.number_arg(Some(e), Number::Int(1)),
            None if dtype.is_some_and(DType::is_integer) => {
                return self.error(loc, "`tf.random_uniform` of integers needs `maxval`");
            }
            None => Some(Number::Int(1)),
        };
        let (Some(shape), Some(dtype), Some(lo), Some(hi)) = (shape, dtype, lo, hi) else { return self.poison(loc) };
        if !matches!(dtype, DType::Float32 | DType::Float64 | DType::Int32 | DType::Int64) {
            return self
                .error(loc, format_args!("`tf.random_uniform` draws float32, float64, int32 or int64, not {dtype}"));
        }
        for (bound, expr) in [(lo, b[1]), (hi, b[2])] {
            if let Err(message) = convert_number(bound, dtype) {
                return self.error(expr.map_or(loc, |e| e.loc), message);
            }
        }
        let shape = known_dims(&shape);
        self.graph.add(Op::RandomUniform { dtype, shape, lo, hi }, Vec::new(), loc, op_loc)
    }

    /// `var.assign(value)` and the other methods of a node.
    pub(super) fn node_method(
        &mut self,
        node: NodeId,
        receiver: &Ident,
        method: &Ident,
        args: &[Arg],
        loc: Loc,
        op_loc: Loc,
    ) -> NodeId {
        let kind = match method.to_string().as_str() {
            "assign" => AssignKind::Set,
            "assign_add" => AssignKind::Add,
            "assign_sub" => AssignKind::Sub,
            other => {
                let help =
                    nearest(other, ["assign", "assign_add", "assign_sub"]).map(|n| format!("did you mean `{n}`?"));
                let hint = if other == "eval" { " (run it with `Session::run`)" } else { "" };
                let message = with_help(
                    format_args!(
                        "a node has no method `{other}`{hint}; nodes have `assign`, `assign_add` and `assign_sub`"
                    ),
                    help,
                );
                return self.error(Loc::span(method.span()), message);
            }
        };
        let param = if kind == AssignKind::Set { "value" } else { "delta" };
        let Some(b) = self.bind(&format!("{method}"), loc, args, &[param], 1) else { return self.poison(loc) };
        let value = self.lower_arg(b[0]);
        if !self.check_assign_target(node, receiver, method) {
            return self.poison(loc);
        }
        let node = self.graph.add(Op::Assign(kind), vec![node, value], loc, op_loc);
        let value_loc = b[0].map_or(loc, |e| e.loc);
        self.used_at(node, &[Loc::span(receiver.span()), value_loc])
    }

    // Only a variable can be assigned to.
    //   let C = tf.constant(5.0); let c2 = C.assign(3.0);  // error: `C` is a `tf.constant`
    pub(super) fn check_assign_target(&mut self, node: NodeId, receiver: &Ident, method: &Ident) -> bool {
        match &self.graph.nodes[node].op {
            Op::Variable(_) | Op::Poison => true,
            op => {
                let what = op.name();
                let at = if self.graph.nodes[node].name.is_some() {
                    Loc::span(receiver.span())
                } else {
                    self.graph.nodes[node].loc
                };
                self.errors.at(
                    at,
                    format_args!("`{method}` needs a variable, but {} is a `{what}`", self.graph.describe(node)),
                );
                false
            }
        }
    }
}

pub(super) fn bool_const(b: bool) -> Op {
    Op::Const { dtype: DType::Bool, shape: Vec::new(), data: Data::Splat(Scalar::B(b)) }
}
