//! What the macro emits after an error, beside the errors: the module's public items with stub
//! bodies, so that the user's code that uses them does not fail in a cascade of secondary errors.
//!
//! Every name the graph defines gets a fetch type. A fetch whose placeholders are all known has
//! their fields with their real types; any other field's type is a generic parameter, so the
//! user's `bond::a_ { v_target: 100.0 }` compiles whatever the field's type was meant to be.
//! Outputs are the real type where inference found it, and otherwise a type that compares equal
//! with anything and prints, so that `assert_eq!` and `println!` on it do not report either.

use crate::emit::Names;
use crate::ir::{Graph, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub fn stubs(graph: &Graph) -> TokenStream {
    let names = Names::new(graph);
    let (vis, name, attrs) = (&graph.vis, &graph.name, &graph.attrs);
    let consts = graph.consts.iter().map(|c| {
        let (attrs, name, ty, value) = (&c.attrs, &c.name, &c.ty, &c.value_tokens);
        quote!(#(#attrs)* pub const #name: #ty = #value;)
    });
    let fetches = graph.fetches.iter().map(|f| {
        let name = &f.name;
        let feeds = graph.placeholders(f.node);
        let output = match &graph.nodes[f.node].ty {
            Some(ty) if known(ty) => names.type_of(ty),
            _ => quote!(::tfcore::__private::Unknown),
        };
        if feeds.is_empty() {
            return quote! {
                #[derive(Clone, Copy, Debug, Default)]
                #[allow(non_camel_case_types)]
                pub struct #name;
                impl ::tfcore::__private::Fetch<Session> for #name {
                    type Output = #output;
                    fn run(self, _: &mut Session) -> Self::Output {
                        ::core::unreachable!()
                    }
                }
            };
        }
        let params: Vec<_> = (0..feeds.len()).map(|k| format_ident!("__F{}", k)).collect();
        let fields = feeds.iter().map(|&p| graph.nodes[p].name.clone().expect("placeholders are named"));
        quote! {
            #[allow(non_camel_case_types, non_snake_case)]
            pub struct #name<#(#params),*> {
                #(pub #fields: #params,)*
            }
            impl<#(#params),*> ::tfcore::__private::Fetch<Session> for #name<#(#params),*> {
                type Output = #output;
                fn run(self, _: &mut Session) -> Self::Output {
                    ::core::unreachable!()
                }
            }
        }
    });
    let variables = graph.variables();
    let variable_fields = variables.iter().filter_map(|&v| {
        let name = graph.nodes[v].name.as_ref()?;
        let ty = match &graph.nodes[v].ty {
            Some(ty) if known(ty) => names.type_of(ty),
            _ => quote!(::tfcore::__private::Unknown),
        };
        Some(quote!(pub #name: #ty,))
    });
    quote! {
        #(#attrs)*
        #[allow(dead_code, unused_imports, non_snake_case, non_camel_case_types)]
        #vis mod #name {
            #(#consts)*
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Variables {
                #(#variable_fields)*
            }
            impl Variables {
                pub fn to_rust_const<'a>(&'a self, _: &'a str) -> &'a str {
                    ::core::unreachable!()
                }
            }
            #[derive(Clone, Debug, Default)]
            pub struct Session {}
            impl Session {
                pub fn new() -> Self { Session {} }
                pub fn with_seed(_: u64) -> Self { Session {} }
                pub fn from_variables(_: Variables) -> Self { Session {} }
                pub fn variables(&self) -> &Variables { ::core::unreachable!() }
                pub fn variables_mut(&mut self) -> &mut Variables { ::core::unreachable!() }
                pub fn run<F: ::tfcore::__private::Fetch<Self>>(&mut self, fetch: F) -> F::Output { fetch.run(self) }
            }
            #(#fetches)*
            pub const GRAPH_DOT: &str = "";
        }
    }
}

/// Whether a type has no `None` dimension (which would need a generic parameter).
fn known(ty: &Type) -> bool {
    let known = |t: &crate::ir::TensorType| t.shape.iter().all(|d| matches!(d, crate::ir::Dim::Known(_)));
    match ty {
        Type::Tensor(t) => known(t),
        Type::Tuple(ts) => ts.iter().all(known),
        Type::Unit => true,
    }
}
