//! `Session::to_onnx` and `save_onnx` (with `std`): each fetch's ONNX model, written by
//! [`crate::onnx::export`] when the graph compiles, completed at run time with the session's
//! variables. Large constants are kept once for all fetches.

use crate::ir::Graph;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use std::collections::BTreeMap;

pub fn items(graph: &Graph) -> TokenStream {
    let mut blobs: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut arms = Vec::new();
    let mut names = Vec::new();
    for f in &graph.fetches {
        let name = crate::ast::unraw(&f.name);
        let arm = match crate::onnx::export::model(graph, f.node, &name) {
            Ok(written) => {
                let template = Literal::byte_string(&written.bytes);
                let variables: Vec<String> = written
                    .variables
                    .iter()
                    .filter_map(|&v| graph.nodes[v].name.as_ref().map(crate::ast::unraw))
                    .collect();
                let shared = written.blobs.iter().map(|(id, _)| {
                    let (key, data) = (format!("c{id}"), format_ident!("__ONNX_C{}", id));
                    quote!((#key, #data))
                });
                let shared: Vec<TokenStream> = shared.collect();
                for (id, data) in written.blobs {
                    blobs.entry(id).or_insert(data);
                }
                let npz = if variables.is_empty() {
                    quote!(&::tfcore::__private::npy::NpzWriter::new().finish())
                } else {
                    quote!(&self.variables().to_npz())
                };
                quote!(#name => ::tfcore::__private::onnx::model(#template, &[#(#shared),*], #npz, &[#(#variables),*]))
            }
            Err(why) => quote! {
                #name => ::core::result::Result::Err(::tfcore::__private::onnx::OnnxError::NotExportable {
                    fetch: fetch.into(),
                    why: #why,
                })
            },
        };
        arms.push(arm);
        names.push(name);
    }
    let statics = blobs.iter().map(|(id, data)| {
        let (name, data) = (format_ident!("__ONNX_C{}", id), Literal::byte_string(data));
        quote!(static #name: &[u8] = #data;)
    });
    quote! {
        ::tfcore::__private::with_std! {
            #(#statics)*

            impl Session {
                /// The model computing the fetch named `fetch` as ONNX (opset 17), the session's
                /// current variables as its initializers: what ONNX Runtime, tract, TensorRT or
                /// OpenVINO load. `Err` for a name that is not a fetch, or a fetch that computes
                /// no value (an assignment, a training step).
                pub fn to_onnx(&self, fetch: &str) -> ::core::result::Result<::tfcore::__private::npy::Bytes, ::tfcore::__private::onnx::OnnxError> {
                    match fetch {
                        #(#arms,)*
                        _ => ::core::result::Result::Err(::tfcore::__private::onnx::OnnxError::UnknownFetch {
                            fetch: fetch.into(),
                            fetches: &[#(#names),*],
                        }),
                    }
                }

                /// Writes [`Session::to_onnx`] to the file at `path`.
                pub fn save_onnx(&self, path: impl ::core::convert::AsRef<::tfcore::__private::npy::Path>, fetch: &str) -> ::core::result::Result<(), ::tfcore::__private::onnx::OnnxError> {
                    ::tfcore::__private::npy::write_file(path, &self.to_onnx(fetch)?)?;
                    ::core::result::Result::Ok(())
                }
            }
        }
    }
}
