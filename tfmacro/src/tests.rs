//! Expansion tests: expand a graph, re-parse the output as Rust, and look at what it holds.

use crate::expand::expand;
use quote::quote;

fn expand_ok(tokens: proc_macro2::TokenStream) -> String {
    let out = expand(tokens);
    let text = out.to_string();
    assert!(!text.contains("compile_error"), "unexpected errors: {text}");
    syn::parse2::<syn::File>(out).unwrap_or_else(|e| panic!("output does not parse: {e}\n{text}"));
    text
}

#[test]
fn first_graph_folds_to_a_constant() {
    let text = expand_ok(quote! {
        pub mod first {
            let a = tf.constant([2.5, 2]);
            let b = tf.constant([3, 6], dtype = tf.float32);
            let total = tf.add(a, b);
        }
    });
    assert!(text.contains("5.5f32"), "{text}");
}
