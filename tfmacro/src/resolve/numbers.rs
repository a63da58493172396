//! Python numbers: `const` items, literals, and arithmetic between numbers folded as Python
//! folds it before TensorFlow sees it (`-0.5`, `2 * 3`), with the dtype TensorFlow gives the result.

use super::*;

impl Resolver<'_> {
    pub(super) fn const_item(&mut self, item: ast::ConstItem) {
        let Some(kind) = const_kind(&item.ty) else {
            self.errors.at(
                Loc::of(&item.ty),
                "a graph `const` has type `usize` (a dimension), `f32`, `f64`, `i32`, `i64`, `u8` or `bool`",
            );
            return;
        };
        let Some(value) = self.const_value(&item.value, kind) else { return };
        if !self.check_new_name(&item.name) {
            return;
        }
        self.scope.insert(item.name.to_string(), Binding::Const(self.graph.consts.len()));
        self.graph.consts.push(ConstItem {
            attrs: item.attrs,
            name: item.name,
            ty: item.ty,
            value_tokens: item.value_tokens,
            kind,
            value,
        });
    }

    /// The value of a `const` item's expression, computed as Rust computes it for its type.
    pub(super) fn const_value(&mut self, expr: &Expr, kind: ConstKind) -> Option<Number> {
        let value = match &expr.kind {
            ExprKind::Int(n) => match kind {
                ConstKind::Typed(d) if d.is_float() || d == DType::Bool => None,
                _ => Some(Number::Int(*n as i128)),
            },
            ExprKind::Float(x) => match kind {
                ConstKind::Typed(DType::Float32) => Some(Number::Float(*x as f32 as f64)),
                ConstKind::Typed(DType::Float64) => Some(Number::Float(*x)),
                _ => None,
            },
            ExprKind::Bool(b) => (kind == ConstKind::Typed(DType::Bool)).then_some(Number::Bool(*b)),
            ExprKind::Name(name) => match self.scope.get(&name.to_string()) {
                Some(Binding::Const(k)) if self.graph.consts[*k].kind == kind => Some(self.graph.consts[*k].value),
                _ => {
                    let message = format!("expected a number or an earlier `const` of the same type, found `{name}`");
                    self.errors.at(expr.loc, message);
                    return None;
                }
            },
            ExprKind::Neg { expr: inner, .. } => match self.const_value(inner, kind)? {
                Number::Int(n) if matches!(kind, ConstKind::Typed(DType::Int32 | DType::Int64)) => {
                    Some(Number::Int(-n))
                }
                Number::Float(x) => Some(Number::Float(-x)),
                _ => None,
            },
            ExprKind::Binary { op, op_loc, lhs, rhs } => {
                let a = self.const_value(lhs, kind)?;
                let b = self.const_value(rhs, kind)?;
                let result = match (a, b) {
                    (Number::Int(a), Number::Int(b)) => match op {
                        BinOp::Add => a.checked_add(b),
                        BinOp::Sub => a.checked_sub(b),
                        BinOp::Mul => a.checked_mul(b),
                        BinOp::Div => a.checked_div(b),
                        _ => None,
                    }
                    .map(Number::Int),
                    (Number::Float(a), Number::Float(b)) => {
                        let single = kind == ConstKind::Typed(DType::Float32);
                        let r = match (op, single) {
                            (BinOp::Add, true) => (a as f32 + b as f32) as f64,
                            (BinOp::Sub, true) => (a as f32 - b as f32) as f64,
                            (BinOp::Mul, true) => (a as f32 * b as f32) as f64,
                            (BinOp::Div, true) => (a as f32 / b as f32) as f64,
                            (BinOp::Add, false) => a + b,
                            (BinOp::Sub, false) => a - b,
                            (BinOp::Mul, false) => a * b,
                            (BinOp::Div, false) => a / b,
                            _ => f64::NAN,
                        };
                        r.is_finite().then_some(Number::Float(r))
                    }
                    _ => None,
                };
                if result.is_none() {
                    self.errors.at(*op_loc, format_args!("cannot compute `{}` in this `const`", op.symbol()));
                    return None;
                }
                result
            }
            _ => None,
        };
        let value = match value {
            Some(Number::Int(n)) if !const_fits(n, kind) => None,
            other => other,
        };
        if value.is_none() {
            let ty = match kind {
                ConstKind::Usize => "usize",
                ConstKind::Typed(d) => d.rust(),
            };
            self.errors.at(expr.loc, format_args!("expected a `{ty}` value"));
        }
        value
    }

    /// The node of an expression made of Python numbers only, folded as Python folds it.
    pub(super) fn literal_node(&mut self, expr: &Expr) -> NodeId {
        let loc = expr.loc;
        match self.fold_literal(expr) {
            Some(Number::Bool(b)) => self.graph.add(bool_const(b), Vec::new(), loc, loc),
            Some(number) => self.graph.add(Op::Literal(number), Vec::new(), loc, loc),
            None => self.poison(loc),
        }
    }

    /// A `const` item used in an expression: a `usize` is a Python integer, any other a scalar
    /// tensor of its type.
    pub(super) fn const_node(&mut self, k: usize, loc: Loc) -> NodeId {
        let item = &self.graph.consts[k];
        let op = match item.kind {
            ConstKind::Usize => Op::Literal(item.value),
            ConstKind::Typed(dtype) => Op::Const {
                dtype,
                shape: Vec::new(),
                data: Data::Splat(match convert_number(item.value, dtype) {
                    Ok(scalar) => scalar,
                    Err(_) => return self.poison(loc),
                }),
            },
        };
        self.graph.add(op, Vec::new(), loc, loc)
    }

    /// The Python value of an expression made of numbers only, without reporting anything.
    pub fn literal(&self, expr: &Expr) -> Option<Number> {
        match &expr.kind {
            ExprKind::Int(n) => Some(Number::Int(*n as i128)),
            ExprKind::Float(x) => Some(Number::Float(*x)),
            ExprKind::Bool(b) => Some(Number::Bool(*b)),
            ExprKind::Name(name) => match name.to_string().as_str() {
                "True" => Some(Number::Bool(true)),
                "False" => Some(Number::Bool(false)),
                text => match self.scope.get(text) {
                    Some(Binding::Const(k)) if self.graph.consts[*k].kind == ConstKind::Usize => {
                        Some(self.graph.consts[*k].value)
                    }
                    _ => None,
                },
            },
            ExprKind::Neg { expr, .. } => match self.literal(expr)? {
                Number::Int(n) => Some(Number::Int(-n)),
                Number::Float(x) => Some(Number::Float(-x)),
                Number::Bool(_) => None,
            },
            ExprKind::Binary { op, lhs, rhs, .. } => python_binary(*op, self.literal(lhs)?, self.literal(rhs)?).ok(),
            _ => None,
        }
    }

    /// [`Resolver::literal`] for an expression known to be made of numbers, reporting what Python
    /// would raise (a division by zero).
    pub(super) fn fold_literal(&mut self, expr: &Expr) -> Option<Number> {
        if let ExprKind::Binary { op, op_loc, lhs, rhs } = &expr.kind {
            let (a, b) = (self.fold_literal(lhs)?, self.fold_literal(rhs)?);
            return match python_binary(*op, a, b) {
                Ok(n) => Some(n),
                Err(message) => {
                    self.errors.at(*op_loc, message);
                    None
                }
            };
        }
        self.literal(expr)
    }
}

/// The Rust type of a `const` item, if a graph supports it.
pub(super) fn const_kind(ty: &syn::Type) -> Option<ConstKind> {
    let syn::Type::Path(path) = ty else { return None };
    let ident = path.path.get_ident()?.to_string();
    if ident == "usize" {
        return Some(ConstKind::Usize);
    }
    let dtype = DType::ALL.into_iter().find(|d| d.rust() == ident)?;
    Some(ConstKind::Typed(dtype))
}

pub(super) fn const_fits(n: i128, kind: ConstKind) -> bool {
    match kind {
        ConstKind::Usize => n >= 0 && n <= u32::MAX as i128,
        ConstKind::Typed(DType::Int32) => i32::try_from(n).is_ok(),
        ConstKind::Typed(DType::Int64) => i64::try_from(n).is_ok(),
        ConstKind::Typed(DType::UInt8) => u8::try_from(n).is_ok(),
        ConstKind::Typed(DType::Int8) => i8::try_from(n).is_ok(),
        ConstKind::Typed(_) => true,
    }
}

/// Python's arithmetic on two numbers: `int / int` is a float, anything with a float is a float.
pub(super) fn python_binary(op: BinOp, a: Number, b: Number) -> Result<Number, String> {
    use Number::{Float, Int};
    let float = |n: Number| match n {
        Int(i) => Some(i as f64),
        Float(x) => Some(x),
        Number::Bool(_) => None,
    };
    if let (Int(x), Int(y)) = (a, b) {
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            _ => None,
        };
        if let Some(r) = r {
            return Ok(Int(r));
        }
    }
    let (Some(x), Some(y)) = (float(a), float(b)) else {
        return Err(format!("`{}` of a bool has no meaning here", op.symbol()));
    };
    Ok(match op {
        BinOp::Add => Float(x + y),
        BinOp::Sub => Float(x - y),
        BinOp::Mul => Float(x * y),
        BinOp::Div if y == 0.0 => return Err("division by zero".into()),
        BinOp::Div => Float(x / y),
        BinOp::Gt => Number::Bool(x > y),
        BinOp::Lt => Number::Bool(x < y),
        BinOp::Ge => Number::Bool(x >= y),
        BinOp::Le => Number::Bool(x <= y),
        BinOp::Eq => Number::Bool(x == y),
        BinOp::Ne => Number::Bool(x != y),
    })
}

/// TensorFlow's dtype for a list of Python values: bool if they are bools, float32 if any is a
/// float, int32 if every integer fits, else int64.
pub(super) fn infer_constant_dtype(elements: &[(Number, Loc)]) -> Result<DType, (String, Loc)> {
    let bools = elements.iter().filter(|(n, _)| matches!(n, Number::Bool(_))).count();
    if bools > 0 && bools < elements.len() {
        let at = elements.iter().find(|(n, _)| !matches!(n, Number::Bool(_))).map(|(_, l)| *l);
        return Err(("a constant mixes bools and numbers".into(), at.unwrap_or(elements[0].1)));
    }
    if bools > 0 {
        return Ok(DType::Bool);
    }
    if elements.iter().any(|(n, _)| matches!(n, Number::Float(_))) {
        return Ok(DType::Float32);
    }
    let fits = elements.iter().all(|(n, _)| matches!(n, Number::Int(i) if i32::try_from(*i).is_ok()));
    Ok(if fits { DType::Int32 } else { DType::Int64 })
}

/// The constant TensorFlow makes of a lone Python number.
pub fn default_constant(number: Number) -> Option<Op> {
    let dtype = default_dtype(number)?;
    let scalar = convert_number(number, dtype).ok()?;
    Some(Op::Const { dtype, shape: Vec::new(), data: Data::Splat(scalar) })
}

/// TensorFlow's dtype for a lone Python number.
pub fn default_dtype(number: Number) -> Option<DType> {
    Some(match number {
        Number::Bool(_) => DType::Bool,
        Number::Float(_) => DType::Float32,
        Number::Int(i) if i32::try_from(i).is_ok() => DType::Int32,
        Number::Int(i) if i64::try_from(i).is_ok() => DType::Int64,
        Number::Int(_) => return None,
    })
}
