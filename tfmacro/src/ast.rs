//! The syntax tree of a `graph!` block, as written: what [`crate::parse`] produces and
//! [`crate::resolve`] turns into the graph IR. Nothing here knows what `tf.add` means.

use crate::error::Loc;
use proc_macro2::Ident;
use syn::{Attribute, Visibility};

/// `/// docs  pub mod name { items }`.
pub struct GraphDef {
    /// The module's attributes (its doc comment among them), passed through.
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub items: Vec<Item>,
    /// The names of statements that did not parse (an error was reported for each): they are
    /// defined, to nothing, so that their uses report nothing more.
    pub broken: Vec<Ident>,
}

/// One statement of the block.
pub enum Item {
    Const(Box<ConstItem>),
    Let(LetItem),
}

/// `const NAME: usize = 3;`: a Rust constant, usable as a dimension or a value in the graph and
/// emitted unchanged into the module.
pub struct ConstItem {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub ty: syn::Type,
    /// The value as written, re-emitted as the constant's Rust definition.
    pub value_tokens: syn::Expr,
    pub value: Expr,
}

/// `let name = expr;`: a named node, which becomes a fetch type.
pub struct LetItem {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub value: Expr,
}

/// An expression and the tokens it came from.
pub struct Expr {
    pub kind: ExprKind,
    pub loc: Loc,
}

pub enum ExprKind {
    /// `a`, `None`, `True`.
    Name(Ident),
    /// `tf.float32`, `tf.train`: a dotted path that is not called.
    Path(Vec<Ident>),
    Int(u128),
    Float(f64),
    Bool(bool),
    Str(String),
    /// `[a, b]` or `(a, b)`.
    List(Vec<Expr>),
    /// `-x`; `op` is the minus sign.
    Neg {
        op: Loc,
        expr: Box<Expr>,
    },
    /// `a + b`; `op` is the operator.
    Binary {
        op: BinOp,
        op_loc: Loc,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `tf.add(a, b)` or `var.assign(x)`: a dotted path called with arguments.
    Call {
        path: Vec<Ident>,
        path_loc: Loc,
        args: Vec<Arg>,
    },
    /// `base[index]`: only `np.load("weights.npz")["key"]` has a meaning (a file's array).
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        /// The brackets.
        bracket: Loc,
    },
    /// `expr.method(args)` on anything that is not a plain path, e.g.
    /// `tf.train.GradientDescentOptimizer(0.1).minimize(loss)`.
    Method {
        receiver: Box<Expr>,
        method: Ident,
        args: Vec<Arg>,
    },
}

/// A call argument, positional or `keyword = value`.
pub struct Arg {
    pub keyword: Option<Ident>,
    pub value: Expr,
    pub loc: Loc,
}

/// The binary operators a graph may use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
    Ne,
}

impl BinOp {
    /// The operator as written, for messages.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Gt => ">",
            BinOp::Lt => "<",
            BinOp::Ge => ">=",
            BinOp::Le => "<=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
        }
    }
}

/// `tf.nn.softmax` as a string.
pub fn path_string(path: &[Ident]) -> String {
    path.iter().map(unraw).collect::<Vec<_>>().join(".")
}

/// A name as written, without the `r#` of a raw identifier.
pub fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    match text.strip_prefix("r#") {
        Some(bare) => bare.to_string(),
        None => text,
    }
}
