//! A `tf.` call's arguments bound to its op's parameters as Python binds them (positional or by
//! keyword), and the arguments that are not tensors: dtypes, shapes, dimensions, axes, flags.

use super::*;

impl Resolver<'_> {
    /// Binds a call's arguments to `params` as Python does; `required` of them must be given.
    /// Every op also takes `name = "..."`, which is ignored.
    pub fn bind<'a>(
        &mut self,
        op: &str,
        loc: Loc,
        args: &'a [Arg],
        params: &[&str],
        required: usize,
    ) -> Option<Bound<'a>> {
        let mut bound: Bound<'a> = vec![None; params.len()];
        let mut ok = true;
        let mut positional = 0;
        for arg in args {
            match &arg.keyword {
                None => {
                    if positional >= params.len() {
                        let message = format!("`{op}` takes at most {} argument{}", params.len(), plural(params.len()));
                        self.errors.at(arg.loc, message);
                        ok = false;
                    } else {
                        bound[positional] = Some(&arg.value);
                    }
                    positional += 1;
                }
                Some(keyword) => {
                    let text = keyword.to_string();
                    if text == "name" {
                        if !matches!(arg.value.kind, ExprKind::Str(_)) {
                            self.errors.at(arg.value.loc, "expected a string");
                            ok = false;
                        }
                        continue;
                    }
                    match params.iter().position(|p| *p == text) {
                        Some(i) if bound[i].is_some() => {
                            self.errors.at(arg.loc, format_args!("`{op}` got `{text}` twice"));
                            ok = false;
                        }
                        Some(i) => bound[i] = Some(&arg.value),
                        None => {
                            let help = nearest(&text, params.iter().copied()).map(|n| format!("did you mean `{n}`?"));
                            let supported = params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
                            let message = with_help(
                                format_args!("`{op}` has no argument `{text}` here (it takes {supported})"),
                                help,
                            );
                            self.errors.at(Loc::span(keyword.span()), message);
                            ok = false;
                        }
                    }
                }
            }
        }
        for (i, param) in params.iter().enumerate().take(required) {
            if bound[i].is_none() && ok {
                self.errors.at(loc, format_args!("`{op}` needs the argument `{param}`"));
                ok = false;
            }
        }
        ok.then_some(bound)
    }

    /// `tf.NAME(args)`: a math op of [`crate::ops`], or one of the graph's structure.
    pub(super) fn tf_call(&mut self, name: &str, args: &[Arg], loc: Loc, op_loc: Loc) -> NodeId {
        if let Some(node) = ops::resolve(self, &ops::Call { name, args, loc, op_loc }) {
            return node;
        }
        let op = format!("tf.{name}");
        match name {
            "constant" => self.constant(&op, args, loc, op_loc),
            "placeholder" => self.placeholder(&op, args, loc, op_loc),
            "Variable" => self.variable(&op, args, loc, op_loc),
            "zeros" | "ones" => self.fill(&op, name == "ones", args, loc, op_loc),
            "random_uniform" | "random.uniform" => self.random_uniform(&op, args, loc, op_loc),
            "group" => {
                let mut inputs = Vec::new();
                let mut locs = Vec::new();
                for arg in args {
                    match &arg.keyword {
                        Some(k) if k == "name" => {}
                        Some(k) => {
                            self.errors.at(Loc::span(k.span()), format_args!("`tf.group` has no argument `{k}`"));
                        }
                        None => {
                            inputs.push(self.lower(&arg.value));
                            locs.push(arg.value.loc);
                        }
                    }
                }
                let node = self.graph.add(Op::Group, inputs, loc, op_loc);
                self.used_at(node, &locs)
            }
            "global_variables_initializer" | "initialize_all_variables" => {
                if self.bind(&op, loc, args, &[], 0).is_none() {
                    return self.poison(loc);
                }
                self.graph.add(Op::Init, Vec::new(), loc, op_loc)
            }
            "gradients" => {
                let Some(b) = self.bind(&op, loc, args, &["ys", "xs"], 2) else { return self.poison(loc) };
                let ys = self.lower_arg(b[0]);
                let mut inputs = vec![ys];
                let mut locs = arg_locs(&b[..1]);
                match b[1] {
                    Some(Expr { kind: ExprKind::List(xs), .. }) => {
                        inputs.extend(xs.iter().map(|x| self.lower(x)));
                        locs.extend(xs.iter().map(|x| x.loc));
                    }
                    other => {
                        inputs.push(self.lower_arg(other));
                        locs.extend(arg_locs(&[other]));
                    }
                }
                let node = self.graph.add(Op::Gradients, inputs, loc, op_loc);
                self.used_at(node, &locs)
            }
            _ if name.starts_with("train.") && name.ends_with("Optimizer") => {
                self.error(loc, format_args!("`{op}(...)` is an optimiser, not a tensor: call `.minimize(loss)` on it"))
            }
            _ => {
                let known = ops::names().chain(STRUCTURE.iter().copied());
                let help = nearest(name, known).map(|n| format!("did you mean `tf.{n}`?"));
                let message = with_help(format_args!("`{op}` is not supported by `graph!`"), help);
                self.error(op_loc, message)
            }
        }
    }

    pub fn lower_arg(&mut self, arg: Option<&Expr>) -> NodeId {
        match arg {
            Some(expr) => self.lower(expr),
            None => self.poison(Loc::span(proc_macro2::Span::call_site())),
        }
    }

    /// A dtype: `tf.float32` or `"float"`.
    pub fn dtype(&mut self, expr: &Expr) -> Option<DType> {
        let (name, shown) = match &expr.kind {
            ExprKind::Path(path) if path.len() == 2 && path[0] == "tf" => (path[1].to_string(), ast::path_string(path)),
            ExprKind::Str(s) => (s.clone(), format!("\"{s}\"")),
            _ => {
                self.errors.at(expr.loc, "expected a dtype, such as `tf.float32` or `\"float\"`");
                return None;
            }
        };
        let dtype = DType::from_name(&name);
        if dtype.is_none() {
            let names = DType::ALL.map(DType::name);
            let help = nearest(&name, names).map(|n| format!("did you mean `tf.{n}`?"));
            let message = with_help(
                format_args!("`{shown}` is not a supported dtype: a graph's dtypes are float32, float64, int32, int64, uint8 and bool"),
                help,
            );
            self.errors.at(expr.loc, message);
        }
        dtype
    }

    /// A shape: `[None, 2]`, `[N]`, `[]` or a single dimension.
    pub(super) fn shape(&mut self, expr: &Expr, allow_none: bool) -> Option<Vec<DimSpec>> {
        let ExprKind::List(items) = &expr.kind else {
            return self.dim(expr, allow_none).map(|d| vec![d]);
        };
        if items.len() > MAX_RANK {
            self.errors.at(expr.loc, rank_error(items.len()));
            return None;
        }
        let dims: Vec<Option<DimSpec>> = items.iter().map(|item| self.dim(item, allow_none)).collect();
        dims.into_iter().collect()
    }

    /// A dimension: a positive integer, a `usize` const, or `None` where allowed.
    pub fn dim(&mut self, expr: &Expr, allow_none: bool) -> Option<DimSpec> {
        if let ExprKind::Name(name) = &expr.kind {
            if name == "None" {
                if allow_none {
                    return Some(DimSpec::None);
                }
                self.errors.at(expr.loc, "`None` dimensions are only allowed in a placeholder's shape");
                return None;
            }
        }
        match self.literal(expr) {
            Some(Number::Int(n)) if n >= 1 && n <= MAX_DIM as i128 => Some(DimSpec::Known(n as usize)),
            Some(Number::Int(_)) => {
                self.errors.at(expr.loc, format_args!("a dimension is between 1 and {MAX_DIM}"));
                None
            }
            _ => {
                self.errors.at(expr.loc, "expected a dimension: an integer, a `usize` const or `None`");
                None
            }
        }
    }

    /// `axis = 1`, `axis = -1` or `axis = [0, 1]`.
    pub fn axes(&mut self, expr: &Expr) -> Option<Vec<i64>> {
        let items: Vec<&Expr> = match &expr.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![expr],
        };
        let mut axes = Vec::new();
        for item in items {
            match self.literal(item) {
                Some(Number::Int(n)) if n.abs() < 8 => axes.push(n as i64),
                _ => {
                    self.errors.at(item.loc, "expected an axis: an integer such as `0`, `1` or `-1`");
                    return None;
                }
            }
        }
        Some(axes)
    }

    /// `true`, `false`, `True` or `False`; `default` when absent.
    pub fn bool_arg(&mut self, expr: Option<&Expr>, default: bool) -> Option<bool> {
        let Some(expr) = expr else { return Some(default) };
        match self.literal(expr) {
            Some(Number::Bool(b)) => Some(b),
            _ => {
                self.errors.at(expr.loc, "expected `true` or `false`");
                None
            }
        }
    }

    /// A number; `default` when absent.
    pub fn number_arg(&mut self, expr: Option<&Expr>, default: Number) -> Option<Number> {
        let Some(expr) = expr else { return Some(default) };
        match self.literal(expr) {
            Some(n @ (Number::Int(_) | Number::Float(_))) => self.fold_literal(expr).or(Some(n)),
            _ => {
                self.errors.at(expr.loc, "expected a number");
                None
            }
        }
    }
}

/// The largest dimension a shape may have.
pub(super) const MAX_DIM: usize = 1 << 24;

/// The `tf.` names of the graph's structure the resolver knows itself; suggestions draw from
/// these and from the names of [`crate::ops`].
#[rustfmt::skip]
pub(super) const STRUCTURE: &[&str] = &[
    "constant", "placeholder", "Variable", "zeros", "ones", "random_uniform", "group",
    "global_variables_initializer", "gradients", "train.GradientDescentOptimizer", "train.MomentumOptimizer",
    "train.AdamOptimizer",
];

/// Where each bound argument was written (absent ones are skipped).
pub fn arg_locs(bound: &[Option<&Expr>]) -> Vec<Loc> {
    bound.iter().flatten().map(|e| e.loc).collect()
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Dims of a shape written without `None`.
pub(super) fn known_dims(dims: &[DimSpec]) -> Vec<usize> {
    dims.iter().map(|d| if let DimSpec::Known(n) = d { *n } else { 1 }).collect()
}
