//! Phase 1, parse: the macro's tokens to the syntax tree of [`crate::ast`].
//!
//! The block is split into statements at its top-level semicolons and each statement is parsed on
//! its own, so a syntax error in one statement is reported and the others are still read. Rust's
//! expression grammar (via `syn`) gives the precedence of `-0.5 * y` and `a + b > c`; what `syn`
//! accepts but a graph cannot mean (closures, `%`, method turbofish...) is reported here.

use crate::ast::{Arg, BinOp, ConstItem, Expr, ExprKind, GraphDef, Item, LetItem};
use crate::error::{Errors, Loc};
use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Token, Visibility};

/// Parses the whole block. `None` when not even `mod name { ... }` could be read; otherwise the
/// statements that parsed, with an error pushed for each that did not.
pub fn parse(input: TokenStream, errors: &mut Errors) -> Option<GraphDef> {
    let outer = match syn::parse2::<Outer>(input) {
        Ok(outer) => outer,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let mut items = Vec::new();
    let mut broken = Vec::new();
    for statement in split_statements(raw_keywords(outer.body), outer.close, errors) {
        let name = defined_name(&statement);
        match item.parse2(statement) {
            Ok(Some(item)) => match convert_item(item, errors) {
                Some(item) => items.push(item),
                None => broken.extend(name),
            },
            Ok(None) => {}
            Err(error) => {
                errors.push(error);
                broken.extend(name);
            }
        }
    }
    Some(GraphDef { attrs: outer.attrs, vis: outer.vis, name: outer.name, items, broken })
}

/// `tf.where` names an op although `where` is a Rust keyword: a keyword after a `.` becomes a
/// raw identifier (`tf.r#where`), which `syn` reads as a method name.
fn raw_keywords(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut after_dot = false;
    for token in tokens {
        let token = match token {
            TokenTree::Ident(ident) if after_dot && KEYWORDS.contains(&ident.to_string().as_str()) => {
                TokenTree::Ident(proc_macro2::Ident::new_raw(&ident.to_string(), ident.span()))
            }
            TokenTree::Group(group) => {
                let mut raw = proc_macro2::Group::new(group.delimiter(), raw_keywords(group.stream()));
                raw.set_span(group.span());
                TokenTree::Group(raw)
            }
            other => other,
        };
        after_dot = matches!(&token, TokenTree::Punct(p) if p.as_char() == '.');
        out.push(token);
    }
    out.into_iter().collect()
}

/// Keywords that can be raw identifiers.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait",
    "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// The name a statement defines (`let NAME` or `const NAME`), read from its first tokens, so that
/// a statement that fails to parse still defines its name and its uses report nothing more.
fn defined_name(statement: &TokenStream) -> Option<proc_macro2::Ident> {
    let mut tokens = statement.clone().into_iter().peekable();
    // Skip attributes: `#` followed by a bracketed group.
    while matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '#') {
        tokens.next();
        tokens.next();
    }
    match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Ident(keyword)), Some(TokenTree::Ident(name))) if keyword == "let" || keyword == "const" => {
            Some(name)
        }
        _ => None,
    }
}

/// `#[attrs] vis mod name { body }`, the body kept as tokens.
struct Outer {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: proc_macro2::Ident,
    body: TokenStream,
    close: proc_macro2::Span,
}

impl Parse for Outer {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![mod]) {
            return Err(input.error("expected `mod`: a graph is written `graph! { pub mod name { ... } }`"));
        }
        input.parse::<Token![mod]>()?;
        let name = input.parse()?;
        let content;
        let braces = syn::braced!(content in input);
        let body: TokenStream = content.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the graph's module: write one `mod` per `graph!`"));
        }
        Ok(Outer { attrs, vis, name, body, close: braces.span.close() })
    }
}

/// The block's statements: its tokens cut after each top-level `;`. A `let` or `const` inside a
/// statement that has begun starts the next one (the `;` before it is reported missing), and so
/// does the end of the block.
fn split_statements(body: TokenStream, close: proc_macro2::Span, errors: &mut Errors) -> Vec<TokenStream> {
    let is_keyword = |t: &TokenTree| matches!(t, TokenTree::Ident(i) if i == "let" || i == "const");
    let mut statements = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut finish = |current: &mut Vec<TokenTree>, statements: &mut Vec<TokenStream>, at: proc_macro2::Span| {
        errors.at(Loc::span(at), "expected `;` after this statement");
        // The `;` put in its place carries the same span, so that an error about it is there too.
        let mut semicolon = proc_macro2::Punct::new(';', proc_macro2::Spacing::Alone);
        semicolon.set_span(at);
        current.push(TokenTree::Punct(semicolon));
        statements.push(current.drain(..).collect());
    };
    for token in body {
        if is_keyword(&token) && current.iter().any(is_keyword) {
            let last = current.last().map(TokenTree::span).unwrap_or(close);
            finish(&mut current, &mut statements, last);
        }
        let end = matches!(&token, TokenTree::Punct(p) if p.as_char() == ';');
        current.push(token);
        if end {
            statements.push(current.drain(..).collect());
        }
    }
    if !current.is_empty() {
        let last = current.last().map(TokenTree::span).unwrap_or(close);
        finish(&mut current, &mut statements, last);
    }
    statements
}

/// A statement as `syn` sees it.
enum SynItem {
    Const { attrs: Vec<Attribute>, name: proc_macro2::Ident, ty: Box<syn::Type>, value: Box<syn::Expr> },
    Let { attrs: Vec<Attribute>, name: proc_macro2::Ident, value: Box<syn::Expr> },
}

/// Parses one statement; `Ok(None)` for a stray `;`.
fn item(input: ParseStream) -> syn::Result<Option<SynItem>> {
    let attrs = input.call(Attribute::parse_outer)?;
    if input.peek(Token![;]) && attrs.is_empty() {
        input.parse::<Token![;]>()?;
        return Ok(None);
    }
    let lookahead = input.lookahead1();
    let parsed = if lookahead.peek(Token![let]) {
        input.parse::<Token![let]>()?;
        // `syn`'s `Ident` parser refuses keywords (`self`, `type`...) with a spanned error.
        let name = input.parse()?;
        if input.peek(Token![:]) {
            return Err(input.error("a `let` in a graph takes no type: the type is inferred from the value"));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        SynItem::Let { attrs, name, value }
    } else if lookahead.peek(Token![const]) {
        input.parse::<Token![const]>()?;
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        SynItem::Const { attrs, name, ty, value }
    } else if input.peek(Token![mod]) || input.peek(Token![fn]) || input.peek(Token![use]) {
        return Err(input.error("a graph holds `let` nodes and `const` items only"));
    } else {
        return Err(lookahead.error());
    };
    input.parse::<Token![;]>()?;
    if !input.is_empty() {
        return Err(input.error("expected one statement"));
    }
    Ok(Some(parsed))
}

fn convert_item(item: SynItem, errors: &mut Errors) -> Option<Item> {
    match item {
        SynItem::Const { attrs, name, ty, value } => {
            let converted = convert_expr(&value, errors)?;
            Some(Item::Const(Box::new(ConstItem { attrs, name, ty: *ty, value_tokens: *value, value: converted })))
        }
        SynItem::Let { attrs, name, value } => {
            let value = convert_expr(&value, errors)?;
            Some(Item::Let(LetItem { attrs, name, value }))
        }
    }
}

/// `syn`'s expression to ours, or an error on the first construct a graph cannot hold.
fn convert_expr(expr: &syn::Expr, errors: &mut Errors) -> Option<Expr> {
    match convert(expr) {
        Ok(expr) => Some(expr),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

fn convert(expr: &syn::Expr) -> syn::Result<Expr> {
    let loc = Loc::of(expr);
    let kind = match expr {
        syn::Expr::Lit(lit) => convert_lit(&lit.lit)?,
        syn::Expr::Path(path) => {
            if path.qself.is_some() || path.path.leading_colon.is_some() || path.path.segments.len() != 1 {
                return Err(loc.error("expected a node name; paths like `a::b` have no meaning in a graph (write `tf.float32`, not `tf::float32`)"));
            }
            let segment = &path.path.segments[0];
            if !segment.arguments.is_none() {
                return Err(Loc::of(&segment.arguments).error("generic arguments have no meaning in a graph"));
            }
            ExprKind::Name(segment.ident.clone())
        }
        syn::Expr::Field(_) => ExprKind::Path(dotted(expr)?),
        syn::Expr::Paren(paren) => return convert(&paren.expr).map(|inner| Expr { kind: inner.kind, loc }),
        syn::Expr::Group(group) => return convert(&group.expr),
        syn::Expr::Array(array) => ExprKind::List(array.elems.iter().map(convert).collect::<syn::Result<_>>()?),
        syn::Expr::Tuple(tuple) => ExprKind::List(tuple.elems.iter().map(convert).collect::<syn::Result<_>>()?),
        syn::Expr::Unary(unary) => match unary.op {
            syn::UnOp::Neg(minus) => ExprKind::Neg { op: Loc::of(&minus), expr: Box::new(convert(&unary.expr)?) },
            op => {
                let symbol = quote::quote!(#op).to_string();
                return Err(Loc::of(&op).error(format_args!("operator `{symbol}` is not supported in a graph")));
            }
        },
        syn::Expr::Binary(binary) => {
            let op_loc = Loc::of(&binary.op);
            let op = match binary.op {
                syn::BinOp::Add(_) => BinOp::Add,
                syn::BinOp::Sub(_) => BinOp::Sub,
                syn::BinOp::Mul(_) => BinOp::Mul,
                syn::BinOp::Div(_) => BinOp::Div,
                syn::BinOp::Gt(_) => BinOp::Gt,
                syn::BinOp::Lt(_) => BinOp::Lt,
                syn::BinOp::Ge(_) => BinOp::Ge,
                syn::BinOp::Le(_) => BinOp::Le,
                syn::BinOp::Eq(_) => BinOp::Eq,
                syn::BinOp::Ne(_) => BinOp::Ne,
                other => {
                    let symbol = quote::quote!(#other).to_string();
                    return Err(op_loc.error(format_args!("operator `{symbol}` is not supported in a graph")));
                }
            };
            ExprKind::Binary {
                op,
                op_loc,
                lhs: Box::new(convert(&binary.left)?),
                rhs: Box::new(convert(&binary.right)?),
            }
        }
        syn::Expr::MethodCall(call) => {
            if let Some(turbofish) = &call.turbofish {
                return Err(Loc::of(turbofish).error("generic arguments have no meaning in a graph"));
            }
            let args = convert_args(&call.args)?;
            match dotted(&call.receiver) {
                Ok(mut path) => {
                    path.push(call.method.clone());
                    let path_loc = Loc::of(&call.receiver).to(Loc::of(&call.method));
                    ExprKind::Call { path, path_loc, args }
                }
                Err(_) => {
                    ExprKind::Method { receiver: Box::new(convert(&call.receiver)?), method: call.method.clone(), args }
                }
            }
        }
        syn::Expr::Call(call) => {
            let path = dotted(&call.func)?;
            let path_loc = Loc::of(&call.func);
            ExprKind::Call { path, path_loc, args: convert_args(&call.args)? }
        }
        syn::Expr::Assign(assign) => {
            return Err(Loc::of(&assign.eq_token).error("`=` belongs in a call's keyword argument, such as `dtype = tf.float32`; to update a variable write `var.assign(value)`"));
        }
        syn::Expr::Index(index) => ExprKind::Index {
            base: Box::new(convert(&index.expr)?),
            index: Box::new(convert(&index.index)?),
            bracket: Loc::span(index.bracket_token.span.join()),
        },
        _ => {
            return Err(loc.error("expected a tensor expression: a name, a number, a list, an operator or a `tf.` call"))
        }
    };
    Ok(Expr { kind, loc })
}

/// `a.b.c` (or a single name) as a list of names.
fn dotted(expr: &syn::Expr) -> syn::Result<Vec<proc_macro2::Ident>> {
    match expr {
        syn::Expr::Path(path)
            if path.qself.is_none()
                && path.path.leading_colon.is_none()
                && path.path.segments.len() == 1
                && path.path.segments[0].arguments.is_none() =>
        {
            Ok(vec![path.path.segments[0].ident.clone()])
        }
        syn::Expr::Field(field) => {
            let mut path = dotted(&field.base)?;
            match &field.member {
                syn::Member::Named(name) => path.push(name.clone()),
                syn::Member::Unnamed(index) => {
                    return Err(Loc::of(index).error("tuple fields have no meaning in a graph"))
                }
            }
            Ok(path)
        }
        _ => Err(Loc::of(expr).error("expected a dotted name such as `tf.nn.softmax`")),
    }
}

fn convert_args(args: &Punctuated<syn::Expr, Token![,]>) -> syn::Result<Vec<Arg>> {
    args.iter()
        .map(|arg| {
            let loc = Loc::of(arg);
            match arg {
                syn::Expr::Assign(assign) => {
                    let syn::Expr::Path(key) = &*assign.left else {
                        return Err(Loc::of(&assign.left).error("expected a keyword, as in `dtype = tf.float32`"));
                    };
                    let Some(keyword) = key.path.get_ident() else {
                        return Err(Loc::of(&assign.left).error("expected a keyword, as in `dtype = tf.float32`"));
                    };
                    Ok(Arg { keyword: Some(keyword.clone()), value: convert(&assign.right)?, loc })
                }
                _ => Ok(Arg { keyword: None, value: convert(arg)?, loc }),
            }
        })
        .collect()
}

fn convert_lit(lit: &syn::Lit) -> syn::Result<ExprKind> {
    let loc = Loc::of(lit);
    Ok(match lit {
        syn::Lit::Int(int) => {
            if !int.suffix().is_empty() {
                return Err(loc.error("number suffixes have no meaning in a graph: a number takes the dtype of the tensor it meets, or use `tf.constant(2, dtype = tf.int64)`"));
            }
            ExprKind::Int(int.base10_parse::<u128>().map_err(|_| loc.error("integer literal too large"))?)
        }
        syn::Lit::Float(float) => {
            if !float.suffix().is_empty() {
                return Err(loc.error("number suffixes have no meaning in a graph: a number takes the dtype of the tensor it meets, or use `tf.constant(2.0, dtype = tf.float64)`"));
            }
            let value: f64 = float.base10_parse().map_err(|_| loc.error("invalid float literal"))?;
            if !value.is_finite() {
                return Err(loc.error("float literal out of range"));
            }
            ExprKind::Float(value)
        }
        syn::Lit::Bool(b) => ExprKind::Bool(b.value),
        syn::Lit::Str(s) => ExprKind::Str(s.value()),
        _ => return Err(loc.error("expected a number, a bool or a string")),
    })
}
