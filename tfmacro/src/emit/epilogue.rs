//! What follows a convolution in the graph, as data for its kernel's store: the
//! `tfcore::__private::Epilogue` of `activation(held + (value + bias))`, read off the graph where
//! the node fused into the kernel ([`super::plan::Plan::plan_fusion`]) has that form.
//!
//! The kernel applies each part with the operation the node's element code applies (an IEEE
//! addition, `if x < 0 { 0 } else { x }`, ...), in the same grouping, so the bits are the same.
//! A node of any other form keeps its element code: a loop of its own after the kernel, or a
//! closure called output by output.

use super::lower::Lower;
use crate::ir::{Binary, Dim, NodeId, Op, Scalar, Unary};
use crate::values::literal;
use proc_macro2::TokenStream;
use quote::quote;

/// A term of the sum before the activation: the kernel's value, or what the buffer held (the
/// tensor the node is written over), each perhaps plus a bias.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Value,
    Held,
}

impl Lower<'_, '_> {
    /// The `&Epilogue { .. }` computing node `x` from the value of `kernel`, which is fused into
    /// it, if `x` is `relu(sum)`, `relu6(sum)` or `sum`, with `sum` one of `value`, `value + b`,
    /// `held + value`, `held + (value + b)` or `(held + c) + (value + b)` (either operand first),
    /// `b` and `c` biases: stored vectors of the output's channels, added with `+` or
    /// `tf.nn.bias_add`.
    pub fn epilogue(&self, x: NodeId, kernel: NodeId) -> Option<TokenStream> {
        let node = &self.graph.nodes[x];
        let (sum, activation) = match node.op {
            Op::Unary(Unary::Relu) => (node.inputs[0], quote!(Relu)),
            Op::Unary(Unary::Relu6) => {
                let six = literal(Scalar::I(6), self.dtype(x));
                (node.inputs[0], quote!(ReluCapped(#six)))
            }
            _ => (x, quote!(Linear)),
        };
        if sum != x && !self.is_inlined(sum, kernel) {
            return None;
        }
        let channels = *self.shape(x).last()?;
        let (bias, held) = match self.term(sum, x, kernel, channels) {
            Some((Part::Value, bias)) => (bias, quote!(Ignored)),
            _ => {
                let [a, b] = self.sum_of(sum)?;
                let (value, held) = [(a, b), (b, a)].into_iter().find_map(|(v, h)| {
                    let value = self.term(v, x, kernel, channels).filter(|t| t.0 == Part::Value)?;
                    let held = self.term(h, x, kernel, channels).filter(|t| t.0 == Part::Held)?;
                    Some((value.1, held.1))
                })?;
                let held = match held {
                    Some(c) => quote!(AddedWithBias(#c)),
                    None => quote!(Added),
                };
                (value, held)
            }
        };
        let bias = match bias {
            Some(b) => quote!(::core::option::Option::Some(#b)),
            None => quote!(::core::option::Option::None),
        };
        Some(quote!(&::tfcore::__private::Epilogue {
            bias: #bias,
            held: ::tfcore::__private::Held::#held,
            activation: ::tfcore::__private::Activation::#activation,
        }))
    }

    /// Term `n` of node `x`'s sum: the kernel's value or what the buffer held, alone or plus a
    /// bias (its slice).
    fn term(&self, n: NodeId, x: NodeId, kernel: NodeId, channels: Dim) -> Option<(Part, Option<TokenStream>)> {
        if let Some(part) = self.part(n, kernel) {
            return Some((part, None));
        }
        if n != x && !self.is_inlined(n, kernel) {
            return None;
        }
        let [a, b] = self.sum_of(n)?;
        let bias_add = matches!(self.graph.nodes[n].op, Op::BiasAdd(_));
        // `tf.nn.bias_add(value, bias)` takes its operands in that order; `+` either.
        let orders = if bias_add { &[(a, b)][..] } else { &[(a, b), (b, a)][..] };
        orders.iter().find_map(|&(v, b)| Some((self.part(v, kernel)?, Some(self.bias(b, channels)?))))
    }

    /// The kernel's value, or what the buffer held, if node `n` is one of them.
    fn part(&self, n: NodeId, kernel: NodeId) -> Option<Part> {
        if n == kernel {
            Some(Part::Value)
        } else if self.written_over_here() == Some(n) {
            Some(Part::Held)
        } else {
            None
        }
    }

    /// The operands of node `n`, if it is an addition (`+` or `tf.nn.bias_add`).
    fn sum_of(&self, n: NodeId) -> Option<[NodeId; 2]> {
        let node = &self.graph.nodes[n];
        match node.op {
            Op::Binary(Binary::Add) | Op::BiasAdd(_) => Some([node.inputs[0], node.inputs[1]]),
            _ => None,
        }
    }

    /// Whether node `n`, between the kernel and the node fused into it, is computed inside that
    /// node's element (so that the epilogue computes it there too).
    fn is_inlined(&self, n: NodeId, kernel: NodeId) -> bool {
        n != kernel && self.form[n] == super::plan::Form::Inline
    }

    /// The slice of node `b`, if it is a stored vector of `channels` elements: a bias.
    fn bias(&self, b: NodeId, channels: Dim) -> Option<TokenStream> {
        if self.shape(b) != [channels] || !self.dtype(b).is_float() {
            return None;
        }
        if let Some(k) = self.flat[b] {
            let buffer = quote::format_ident!("__f{}", k);
            let flatten = self.flattens(k).map(|_| quote!(.as_flattened()));
            return Some(quote!(&#buffer #(#flatten)* [..]));
        }
        let local = self.local(b);
        self.is_stored(b).then(|| quote!(#local.as_slice()))
    }
}
