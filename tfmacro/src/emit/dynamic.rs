//! A fetch's implementation for feeds of run-time size: the feeds' shapes checked, temporaries
//! in the session's workspace, values of a `None` dimension returned as `DMatrix`/`DVector`.

use super::*;

/// The fetch's implementation for feeds of run-time size (behind tfcore's `alloc` feature), if
/// any of its placeholders has a `None` dimension and its computation has a form for them: the
/// feeds' shapes are checked first (an `Err(FeedError)` names the placeholder and both shapes),
/// every computed tensor of a `None` dimension lives in the session's workspace, and values of a
/// `None` dimension come back as `DMatrix` or `DVector`. With the constants it reads from
/// `static`s.
pub(super) fn dynamic_fetch(
    graph: &Graph,
    names: &Names,
    f: &crate::ir::Fetch,
    has_slots: bool,
) -> Option<(TokenStream, Vec<NodeId>)> {
    let (code, statics) = dynamic_impl(graph, names, f, has_slots, false)?;
    // With tfcore's `ndarray` feature, a second implementation for ndarray's matrices and
    // vectors, read in row-major order; its constants are the first's.
    let ndarray = dynamic_impl(graph, names, f, has_slots, true).map(|(code, _)| code);
    Some((quote!(#code #ndarray), statics))
}

/// One implementation of [`dynamic_fetch`]: for nalgebra's matrices and vectors, or with
/// `ndarray` for ndarray's ([`rows_fed_types`], `None` if the fetch has no such feed).
fn dynamic_impl(
    graph: &Graph,
    names: &Names,
    f: &crate::ir::Fetch,
    has_slots: bool,
    ndarray: bool,
) -> Option<(TokenStream, Vec<NodeId>)> {
    let name = &f.name;
    let feeds = &f.feeds;
    let (types, params, gate) = dynamic_variant(graph, names, feeds, ndarray)?;
    let fed = if ndarray { Fed::Ndarray } else { Fed::Copied };
    let body = Body::new_dynamic(graph, names, &[f.node], feeds, fed)?;
    let p = quote!(::tfcore::__private);
    let field_names: Vec<Ident> = feeds.iter().map(|&p| graph.nodes[p].name.clone()).collect::<Option<_>>()?;
    let locals: Vec<Ident> = feeds.iter().map(|&p| body.lower().local(p)).collect();
    let checks = feed_checks(graph, names, feeds, &locals, ndarray)?;
    let output = graph.nodes[f.node].ty.as_ref().map(|t| names.dynamic_type_of(t)).unwrap_or_else(|| quote!(()));
    let statements = body.lower().statements(Context::Run);
    let value = body.lower().value(f.node);
    let writes = body.lower().writes_to_session(has_slots);
    let span = name.span();
    let header = quote_spanned!(span=> impl<'a, #(#params),*> #p::Fetch<Session> for #name<#(#types),*>);
    let code = quote! {
        #p::#gate! {
            #header {
                type Output = ::core::result::Result<#output, #p::FeedError>;

                fn run(self, __session: &mut Session) -> Self::Output {
                    #p::dispatch(self, __session)
                }
            }

            impl<'__s, 'a, #(#params),*> #p::Compute<&'__s mut Session> for #name<#(#types),*> {
                type Output = ::core::result::Result<#output, #p::FeedError>;

                #[inline(always)]
                #[allow(non_snake_case, unused_parens, unused_braces, unused_variables, clippy::all)]
                fn compute(self, __session: &mut Session) -> Self::Output {
                    let #name { #(#field_names: #locals),* } = self;
                    #checks
                    #statements
                    let __result = #value;
                    #writes
                    ::core::result::Result::Ok(__result)
                }
            }
        }
    };
    Some((code, body.statics()))
}

/// The statements checking the feeds bound to `locals` before anything is computed: each
/// `None` dimension is read off the first feed that has it (`let N: usize = x.nrows();`), and
/// every other dimension checked against the placeholder's or the first feed's, returning
/// `Err(FeedError)` naming the placeholder and both shapes. With `rows_fed`, feeds of rank 1 and
/// 2 are read as batches are, through their trait, as row-major views.
fn feed_checks(
    graph: &Graph,
    names: &Names,
    feeds: &[NodeId],
    locals: &[Ident],
    rows_fed: bool,
) -> Option<TokenStream> {
    let p = quote!(::tfcore::__private);
    let mut checks = TokenStream::new();
    let mut first: Vec<(usize, String, usize, Ident)> = Vec::new();
    for (&id, local) in feeds.iter().zip(locals) {
        let t = graph.tensor(id)?;
        if !has_sym(t) {
            continue;
        }
        let placeholder = graph.nodes[id].name.as_ref()?.to_string();
        let expected = crate::ir::ShapeDisplay(&t.shape).to_string();
        let rank = t.shape.len();
        let name = graph.nodes[id].name.as_ref()?;
        // A batch through the graph's trait of what it can be fed, an ndarray array of rank 1 or 2
        // through tfcore's: as a row-major view.
        let view = if batch_feed(t) {
            Some(quote!(feeds::__dynamic::#name::batch(&#local)))
        } else {
            (rows_fed && rows_feed(t)).then(|| quote!(#p::BatchFeed::batch(&#local)))
        };
        let viewed = view.is_some();
        let sizes: Vec<TokenStream> = match view {
            Some(view) => {
                checks.extend(quote! {
                    let #local = match #view {
                        ::core::option::Option::Some(__view) => __view,
                        ::core::option::Option::None => {
                            return ::core::result::Result::Err(#p::FeedError::Layout { placeholder: #placeholder });
                        }
                    };
                });
                (0..rank).map(|k| quote!(#local.shape()[#k])).collect()
            }
            None => vec![quote!(#local.nrows()), quote!(#local.ncols())],
        };
        let fed = match rank {
            1 if viewed => quote!([#local.shape()[0], 0, 0, 0]),
            2 if viewed => quote!({ let [__a, __b] = #local.shape(); [__a, __b, 0, 0] }),
            1 => quote!([#local.nrows(), 0, 0, 0]),
            2 => quote!([#local.nrows(), #local.ncols(), 0, 0]),
            3 => quote!({ let [__a, __b, __c] = #local.shape(); [__a, __b, __c, 0] }),
            _ => quote!(#local.shape()),
        };
        for (k, d) in t.shape.iter().enumerate() {
            let size = &sizes[k];
            match d {
                Dim::Known(n) => checks.extend(quote! {
                    if #size != #n {
                        return ::core::result::Result::Err(#p::FeedError::Shape {
                            placeholder: #placeholder, fed: #fed, rank: #rank, expected: #expected,
                        });
                    }
                }),
                Dim::Sym(s) => match first.iter().find(|f| f.0 == *s) {
                    None => {
                        let n = match names.dim(*d).into_iter().next() {
                            Some(proc_macro2::TokenTree::Ident(n)) => n,
                            _ => return None,
                        };
                        checks.extend(quote!(let #n: usize = #size;));
                        first.push((*s, placeholder.clone(), k, n));
                    }
                    Some((_, by, at, n)) => checks.extend(quote! {
                        if #size != #n {
                            return ::core::result::Result::Err(#p::FeedError::Disagree {
                                placeholder: #placeholder, dim: #k, size: #size,
                                first: #by, first_dim: #at, first_size: #n,
                            });
                        }
                    }),
                },
            }
        }
    }
    Some(checks)
}
