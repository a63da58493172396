//! `tf.train`'s optimisers: their construction and `minimize`.

use super::*;

impl Resolver<'_> {
    /// `Some(Some(optimiser))` if `expr` is an optimiser, `Some(None)` if it is a broken one,
    /// `None` if it is not one.
    pub(super) fn try_optimizer(&mut self, expr: &Expr) -> Option<Option<OptimizerValue>> {
        match &expr.kind {
            ExprKind::Name(name) => match self.scope.get(&name.to_string()) {
                Some(Binding::Optimizer(opt)) => Some(Some(opt.clone())),
                _ => None,
            },
            ExprKind::Call { path, path_loc, args } if path.len() == 3 && path[0] == "tf" && path[1] == "train" => {
                let name = path[2].to_string();
                let op = format!("tf.train.{name}");
                let loc = expr.loc;
                let (params, required): (&[&str], usize) = match name.as_str() {
                    "GradientDescentOptimizer" => (&["learning_rate"], 1),
                    "MomentumOptimizer" => (&["learning_rate", "momentum", "use_nesterov"], 2),
                    "AdamOptimizer" => (&["learning_rate", "beta1", "beta2", "epsilon"], 0),
                    _ => {
                        let help = nearest(&name, ["GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer"])
                            .map(|n| format!("did you mean `tf.train.{n}`?"));
                        let message = with_help(
                            format_args!("`{op}` is not supported: the optimisers are `GradientDescentOptimizer`, `MomentumOptimizer` and `AdamOptimizer`"),
                            help,
                        );
                        self.errors.at(*path_loc, message);
                        return Some(None);
                    }
                };
                let b = self.bind(&op, loc, args, params, required)?;
                let lr = match b[0] {
                    Some(e) => self.lower(e),
                    None => self.graph.add(Op::Literal(Number::Float(0.001)), Vec::new(), loc, loc),
                };
                let mut hyper = vec![lr];
                let kind = match name.as_str() {
                    "GradientDescentOptimizer" => OptimizerKind::GradientDescent,
                    "MomentumOptimizer" => {
                        hyper.push(self.lower_arg(b[1]));
                        OptimizerKind::Momentum { use_nesterov: self.bool_arg(b[2], false)? }
                    }
                    _ => {
                        let mut number =
                            |e: Option<&Expr>, default: f64| match self.number_arg(e, Number::Float(default)) {
                                Some(Number::Float(x)) => Some(x),
                                Some(Number::Int(n)) => Some(n as f64),
                                _ => None,
                            };
                        let (beta1, beta2, epsilon) = (number(b[1], 0.9), number(b[2], 0.999), number(b[3], 1e-8));
                        OptimizerKind::Adam { beta1: beta1?, beta2: beta2?, epsilon: epsilon? }
                    }
                };
                self.optimizers += 1;
                Some(Some(OptimizerValue { optimizer: Optimizer { id: self.optimizers, kind }, hyper }))
            }
            _ => None,
        }
    }

    /// `optimizer.minimize(loss, var_list = None)`.
    pub(super) fn optimizer_method(&mut self, opt: OptimizerValue, method: &Ident, args: &[Arg], loc: Loc) -> NodeId {
        if method != "minimize" {
            return self.error(
                Loc::span(method.span()),
                format_args!("an optimiser has no method `{method}` here; call `minimize(loss)`"),
            );
        }
        let Some(b) = self.bind("minimize", loc, args, &["loss", "var_list"], 1) else { return self.poison(loc) };
        let loss = self.lower_arg(b[0]);
        let mut inputs = vec![loss];
        inputs.extend(&opt.hyper);
        let var_list = b[1].is_some();
        if let Some(list) = b[1] {
            let items: Vec<&Expr> = match &list.kind {
                ExprKind::List(items) => items.iter().collect(),
                _ => vec![list],
            };
            for item in items {
                let var = self.lower(item);
                match self.graph.nodes[var].op {
                    Op::Variable(_) | Op::Poison => inputs.push(var),
                    _ => {
                        let name = self.graph.describe(var);
                        self.errors.at(item.loc, format_args!("`var_list` holds variables, and {name} is not one"));
                    }
                }
            }
        }
        let op = Op::Minimize { optimizer: opt.optimizer, hyper: opt.hyper.len(), var_list };
        let node = self.graph.add(op, inputs, loc, Loc::span(method.span()));
        self.used_at(node, &arg_locs(&b[..1]))
    }
}
