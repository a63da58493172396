//! `Session::to_onnx` and `save_onnx` (with `std`): one ONNX model of every fetch, written by
//! [`crate::onnx::export`] when the graph compiles, cut to the fetch asked for and completed with
//! the session's variables at run time. Each node, and each large constant, is written once
//! however many fetches read it.

use crate::ir::Graph;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

pub fn items(graph: &Graph, names: &super::Names) -> TokenStream {
    let [fetch, path] = ["fetch", "path"].map(|n| names.binding(n));
    let fetches: Vec<_> = graph.fetches.iter().map(|f| (f.node, crate::ast::unraw(&f.name))).collect();
    let written = crate::onnx::export::model(graph, &fetches);
    let npz = if written.variables.is_empty() {
        quote!(&::tfcore::__private::npy::NpzWriter::new().finish())
    } else {
        quote!(&self.variables().to_npz())
    };
    let mut arms = Vec::new();
    for ((_, name), result) in fetches.iter().zip(&written.fetches) {
        arms.push(match result {
            Ok(()) => quote! {
                #name => ::tfcore::__private::onnx::model(__ONNX_MODEL, __ONNX_BLOBS, #npz, __ONNX_VARIABLES, #name)
            },
            Err(why) => quote! {
                #name => ::core::result::Result::Err(::tfcore::__private::onnx::OnnxError::NotExportable {
                    fetch: #fetch.into(),
                    why: #why,
                })
            },
        });
    }
    let names = fetches.iter().map(|(_, name)| name);
    // The model is written only if a fetch reads it.
    let statics = written.fetches.iter().any(Result::is_ok).then(|| {
        let template = Literal::byte_string(&written.bytes);
        let blobs = written.blobs.iter().map(|(id, data)| {
            let (key, data) = (format!("c{id}"), Literal::byte_string(data));
            quote!((#key, #data))
        });
        let variables = written.variables.iter().filter_map(|&v| graph.nodes[v].name.as_ref().map(crate::ast::unraw));
        quote! {
            static __ONNX_MODEL: &[u8] = #template;
            static __ONNX_BLOBS: &[(&str, &[u8])] = &[#(#blobs),*];
            static __ONNX_VARIABLES: &[&str] = &[#(#variables),*];
        }
    });
    quote! {
        ::tfcore::__private::with_std! {
            #statics

            impl Session {
                /// The model computing the fetch named `fetch` as ONNX (opset 17), the session's
                /// current variables as its initializers: what ONNX Runtime, tract, TensorRT or
                /// OpenVINO load. `Err` for a name that is not a fetch, or a fetch that computes
                /// no value (an assignment, a training step).
                pub fn to_onnx(&self, #fetch: &str) -> ::core::result::Result<::tfcore::__private::npy::Bytes, ::tfcore::__private::onnx::OnnxError> {
                    match #fetch {
                        #(#arms,)*
                        _ => ::core::result::Result::Err(::tfcore::__private::onnx::OnnxError::UnknownFetch {
                            fetch: #fetch.into(),
                            fetches: &[#(#names),*],
                        }),
                    }
                }

                /// Writes [`Session::to_onnx`] to the file at `path`.
                pub fn save_onnx(&self, #path: impl ::core::convert::AsRef<::tfcore::__private::npy::Path>, #fetch: &str) -> ::core::result::Result<(), ::tfcore::__private::onnx::OnnxError> {
                    ::tfcore::__private::npy::write_file(#path, &self.to_onnx(#fetch)?)?;
                    ::core::result::Result::Ok(())
                }
            }
        }
    }
}
