//! How placeholders are fed: the feed types of a fetch's fields (fixed-size and run-time-size),
//! and the module `feeds` of traits whose messages name a placeholder fed the wrong value.

use super::*;

/// How a placeholder is fed: its type with `None` dimensions named (`&SMatrix<f32, N, 2>`), for
/// messages and docs.
pub(super) fn feed_type_text(names: &Names, t: &TensorType) -> String {
    let dims: Vec<String> = t.shape.iter().map(|d| names.dim(*d).to_string()).collect();
    let elem = t.dtype.rust();
    match &dims[..] {
        [] => elem.to_string(),
        [n] => format!("&SVector<{elem}, {n}>"),
        [r, c] => format!("&SMatrix<{elem}, {r}, {c}>"),
        dims => format!("&Array{}<{elem}, {}>", dims.len(), dims.join(", ")),
    }
}

/// The Rust type a placeholder is fed as, with `'a` for references.
pub(super) fn feed_type(names: &Names, t: &TensorType) -> TokenStream {
    let ty = names.rust_type(t);
    if t.shape.is_empty() {
        ty
    } else {
        quote!(&'a #ty)
    }
}

/// The type a placeholder takes in a fetch fed with run-time sizes, and the type parameters it
/// introduces (named after the placeholder, spanned on `span`): a `None` dimension is nalgebra's `Dyn`, so `[None, 2]` takes
/// `&Matrix<f32, Dyn, C, S>` (a `DMatrix`, an `OMatrix<f32, Dyn, Const<2>>`, a view, rows of a
/// bigger matrix) and `[None]` takes `&Matrix<f32, Dyn, U1, S>` (a `DVector`, a view). A
/// placeholder without a `None` dimension takes its static type. The storage's rows are one element
/// apart (nalgebra's `RStride = U1`: every matrix and every view but one with a row step), so that
/// a matrix product reads a column of a feed as a slice. `None` for rank 3 or more with a
/// `None` dimension, which nalgebra's matrices cannot hold. With `rows_fed`, a placeholder of
/// rank 1 or 2 takes a reference to an ndarray array of its rank, of any storage (`&Array2`,
/// `&ArrayView2`), read as a row-major `DArrayView` (tfcore's `BatchFeed`).
pub(super) fn dynamic_feed_type(
    names: &Names,
    t: &TensorType,
    placeholder: &Ident,
    span: Span,
    rows_fed: bool,
) -> Option<(TokenStream, Vec<TokenStream>)> {
    if !has_sym(t) {
        return Some((feed_type(names, t), Vec::new()));
    }
    let elem = Ident::new(t.dtype.rust(), span);
    let camel = feed_param(placeholder, &mut Vec::new()).to_string();
    let camel = camel.trim_end_matches("Feed");
    let p = quote_spanned!(span=> ::tfcore::__private);
    if rows_fed && rows_feed(t) {
        // Concrete, as nalgebra's matrices are, so that rustc names the types a feed can be.
        let data = Ident::new(&format!("{camel}Data"), span);
        let rank = t.shape.len();
        let nd = quote_spanned!(span=> ::tfcore::ndarray);
        let ty = quote_spanned!(span=> &'a #nd::ArrayBase<#data, #nd::Dim<[usize; #rank]>>);
        return Some((ty, vec![quote_spanned!(span=> #data: #nd::Data<Elem = #elem>)]));
    }
    if batch_feed(t) {
        // Any type of `feeds::__dynamic::<placeholder>`, the graph's own trait (see
        // `batch_feed_traits`).
        let param = Ident::new(&format!("{camel}Batch"), span);
        return Some((quote!(#param), vec![quote_spanned!(span=> #param: feeds::__dynamic::#placeholder)]));
    }
    let storage = Ident::new(&format!("{camel}Storage"), span);
    let (rows, cols, dim) = match t.shape[..] {
        [_] => (quote_spanned!(span=> #p::Dyn), quote_spanned!(span=> #p::U1), None),
        [Dim::Sym(_), _] => {
            let c = Ident::new(&format!("{camel}Cols"), span);
            (quote_spanned!(span=> #p::Dyn), quote!(#c), Some(c))
        }
        [_, _] => {
            let r = Ident::new(&format!("{camel}Rows"), span);
            (quote!(#r), quote_spanned!(span=> #p::Dyn), Some(r))
        }
        _ => return None,
    };
    let mut params: Vec<TokenStream> = dim.iter().map(|d| quote_spanned!(span=> #d: #p::Dim)).collect();
    // Rows one element apart (a `DMatrix`, a view of rows or of a block): each column is a slice.
    params.push(quote_spanned!(span=> #storage: #p::RawStorage<#elem, #rows, #cols, RStride = #p::U1>));
    Some((quote_spanned!(span=> &'a #p::Matrix<#elem, #rows, #cols, #storage>), params))
}

/// Whether a placeholder of type `t` is fed a batch of run-time size of rank 3 or 4: its first
/// dimension `None`, the others known.
pub(super) fn batch_feed(t: &TensorType) -> bool {
    matches!(t.shape.len(), 3 | 4)
        && matches!(t.shape[0], Dim::Sym(_))
        && t.shape[1..].iter().all(|d| matches!(d, Dim::Known(_)))
}

/// For each placeholder fed a batch of run-time size ([`batch_feed`]), the trait of what it can be
/// fed then, named after it, in the module `feeds::__dynamic` (graph names cannot start with
/// `__`): tfcore implements it for `DArrayView`, `&DArray` and, with its `ndarray` feature,
/// ndarray's arrays and views, type by type.
fn batch_feed_traits(graph: &Graph, names: &Names) -> TokenStream {
    let traits = graph.nodes.iter().filter_map(|node| {
        let (Op::Placeholder { .. }, Some(name), Some(Type::Tensor(t))) = (&node.op, &node.name, &node.ty) else {
            return None;
        };
        if !batch_feed(t) {
            return None;
        }
        let elem = crate::values::ident(t.dtype.rust());
        let rank = t.shape.len();
        let doc = format!(" What placeholder `{name}` can be fed with a batch of run-time size.");
        // The placeholder's message, for the error on a fetch fed something else.
        let (message, label) = feed_message(names, name, t, true);
        // Type by type (no blanket impl over tfcore's `BatchFeed`, which rustc would take to
        // overlap the static `&Array4` a fetch also takes).
        let p = quote!(::tfcore::__private);
        let nd = quote!(::tfcore::ndarray);
        let batch = quote! {
            fn batch(&self) -> ::core::option::Option<#p::DArrayView<'_, #elem, #rank>> {
                #p::BatchFeed::batch(self)
            }
        };
        let impls = quote! {
            impl<'a> #name for #p::DArrayView<'a, #elem, #rank> { #batch }
            impl<'a> #name for &'a #p::DArray<#elem, #rank> { #batch }
            #p::with_ndarray! {
                impl<'a, S: #nd::Data<Elem = #elem>> #name for &'a #nd::ArrayBase<S, #nd::Dim<[usize; #rank]>> { #batch }
                impl<'a> #name for #nd::ArrayView<'a, #elem, #nd::Dim<[usize; #rank]>> { #batch }
            }
        };
        Some(quote! {
            #[doc = #doc]
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            pub trait #name {
                /// The fed elements in row-major order, if they are laid out so.
                fn batch(&self) -> ::core::option::Option<::tfcore::__private::DArrayView<'_, #elem, #rank>>;
            }
            #impls
        })
    });
    let traits: Vec<TokenStream> = traits.collect();
    if traits.is_empty() {
        return TokenStream::new();
    }
    quote! {
        ::tfcore::__private::with_alloc! {
            #[doc(hidden)]
            pub mod __dynamic {
                #(#traits)*
            }
        }
    }
}

/// Whether a placeholder of type `t` of rank 1 or 2 has a `None` dimension: with tfcore's
/// `ndarray` feature, a fetch of it also takes ndarray's arrays of its rank ([`rows_fed_types`]).
pub(super) fn rows_feed(t: &TensorType) -> bool {
    matches!(t.shape.len(), 1 | 2) && has_sym(t)
}

/// The feed types and type parameters of a fetch's implementation for run-time sizes, and the
/// macro gating it: for nalgebra's matrices (`with_alloc`), or with `ndarray` for ndarray's
/// ([`rows_fed_types`], `with_ndarray`).
pub(super) fn dynamic_variant(
    graph: &Graph,
    names: &Names,
    feeds: &[NodeId],
    ndarray: bool,
) -> Option<(Vec<TokenStream>, Vec<TokenStream>, TokenStream)> {
    if ndarray {
        let (types, params) = rows_fed_types(graph, names, feeds)?;
        Some((types, params, quote!(with_ndarray)))
    } else {
        let (types, params) = dynamic_feed_types(graph, names, feeds, false)?;
        Some((types, params, quote!(with_alloc)))
    }
}

/// [`dynamic_feed_types`] with `rows_fed`, if any of `feeds` is a [`rows_feed`]: the types of a
/// fetch's second implementation for run-time sizes, with tfcore's `ndarray` feature.
pub(super) fn rows_fed_types(
    graph: &Graph,
    names: &Names,
    feeds: &[NodeId],
) -> Option<(Vec<TokenStream>, Vec<TokenStream>)> {
    let any = feeds.iter().any(|&p| graph.tensor(p).is_some_and(rows_feed));
    any.then(|| dynamic_feed_types(graph, names, feeds, true)).flatten()
}

/// [`dynamic_feed_type`] of each of `feeds`, and all their type parameters; `None` if a feed
/// has none or none of them has a `None` dimension.
pub(super) fn dynamic_feed_types(
    graph: &Graph,
    names: &Names,
    feeds: &[NodeId],
    rows_fed: bool,
) -> Option<(Vec<TokenStream>, Vec<TokenStream>)> {
    let mut types = Vec::new();
    let mut params = Vec::new();
    let mut any = false;
    for &p in feeds {
        let t = graph.tensor(p)?;
        any |= has_sym(t);
        let (ty, ps) =
            dynamic_feed_type(names, t, graph.nodes[p].name.as_ref()?, graph.nodes[p].op_loc.start, rows_fed)?;
        types.push(ty);
        params.extend(ps);
    }
    any.then_some((types, params))
}

/// `<'a, const N: usize>` for the given lifetime use and const generics, or nothing.
pub(super) fn impl_generics(lifetime: bool, generics: &[Ident]) -> TokenStream {
    if !lifetime && generics.is_empty() {
        return TokenStream::new();
    }
    let lt = lifetime.then(|| quote!('a,));
    quote!(<#lt #(const #generics: usize),*>)
}

/// The message and label of a placeholder's traits of what it can be fed, when a fetch is fed
/// something else: what it takes, statically sized, and with `dynamic` of run-time size.
fn feed_message(names: &Names, name: &Ident, t: &TensorType, dynamic: bool) -> (String, String) {
    let fed_as = feed_type_text(names, t);
    let what = format!("a `{}` tensor of shape {}", t.dtype, crate::ir::ShapeDisplay(&t.shape));
    let or_dynamic = match (dynamic, t.shape.len()) {
        (true, rank @ (1 | 2)) => {
            let (nalgebra, ndarray) = if rank == 1 { ("DVector", "Array1") } else { ("DMatrix", "Array2") };
            format!(
                ", or with tfcore's `alloc` feature `&{nalgebra}<{0}>` or a view (and with its `ndarray` feature `&ndarray::{ndarray}<{0}>` or a view)",
                t.dtype.rust()
            )
        }
        (true, rank) => format!(
            ", or with tfcore's `alloc` feature `&DArray{rank}<{0}>` or a `DArrayView{rank}<{0}>` (and with its `ndarray` feature `&ndarray::Array{rank}<{0}>` or a view)",
            t.dtype.rust()
        ),
        _ => String::new(),
    };
    let message = format!("placeholder `{name}` takes {what}, fed as `{fed_as}`{or_dynamic}, not `{{Self}}`");
    (message, format!("expected `{fed_as}`"))
}

/// The module `feeds`: for each placeholder a trait the values it can be fed implement, whose
/// message names the placeholder, its dtype and its shape when something else is fed; and for
/// each fetch whose placeholders share a `None` dimension, a trait the tuple of its feeds
/// implements when they agree on it.
pub(super) fn feeds_module(graph: &Graph, names: &Names) -> TokenStream {
    let mut items = Vec::new();
    for node in &graph.nodes {
        let (Op::Placeholder { .. }, Some(name), Some(Type::Tensor(t))) = (&node.op, &node.name, &node.ty) else {
            continue;
        };
        let span = node.op_loc.start;
        let fed_as = feed_type_text(names, t);
        let what_doc = format!("a `{}` tensor of shape {}", t.dtype, crate::ir::ShapeDoc(&t.shape));
        let dynamic = dynamic_feed_type(names, t, name, span, false).filter(|_| has_sym(t));
        // With tfcore's `ndarray` feature, a matrix or vector of run-time size is also fed as an
        // ndarray array or view.
        let ndarray = dynamic_feed_type(names, t, name, span, true).filter(|_| rows_feed(t)).map(|(ty, params)| {
            quote_spanned! {span=>
                ::tfcore::__private::with_ndarray! {
                    impl<'a, #(#params),*> #name for #ty {}
                }
            }
        });
        let (message, label) = feed_message(names, name, t, dynamic.is_some());
        let doc = format!(" What placeholder `{name}` can be fed: {what_doc}, as `{fed_as}`.");
        let mut generics = Vec::new();
        names.generics_of(t, &mut generics);
        let params = impl_generics(!t.shape.is_empty(), &generics);
        let ty = feed_type(names, t);
        let dynamic = dynamic.map(|(ty, params)| {
            quote_spanned! {span=>
                ::tfcore::__private::with_alloc! {
                    impl<'a, #(#params),*> #name for #ty {}
                }
            }
        });
        items.push(quote_spanned! {span=>
            #[doc = #doc]
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            pub trait #name {}
            impl #params #name for #ty {}
            #dynamic
            #ndarray
        });
    }
    for f in &graph.fetches {
        let feeds = &f.feeds;
        let Some(Agreement { name: trait_name, message, types, generics, borrows }) =
            shared_dims(graph, names, f, feeds)
        else {
            continue;
        };
        let doc = format!(" The feeds of `{}` agree on the `None` dimensions they share.", f.name);
        let params = impl_generics(borrows, &generics);
        let span = f.name.span();
        // Fed with run-time sizes, they are compared when the fetch runs.
        let dynamic = dynamic_feed_types(graph, names, feeds, false).map(|(types, params)| {
            quote_spanned! {span=>
                ::tfcore::__private::with_alloc! {
                    impl<'a, #(#params),*> #trait_name for (#(#types,)*) {}
                }
            }
        });
        let ndarray = rows_fed_types(graph, names, feeds).map(|(types, params)| {
            quote_spanned! {span=>
                ::tfcore::__private::with_ndarray! {
                    impl<'a, #(#params),*> #trait_name for (#(#types,)*) {}
                }
            }
        });
        items.push(quote_spanned! {span=>
            #[doc = #doc]
            #[diagnostic::on_unimplemented(message = #message, label = "fed different sizes")]
            pub trait #trait_name {}
            impl #params #trait_name for (#(#types,)*) {}
            #dynamic
            #ndarray
        });
    }
    let batches = batch_feed_traits(graph, names);
    quote! {
        /// What each placeholder can be fed. Fetch types bound their fields by these traits, so
        /// that a feed of the wrong dtype or shape is reported in the graph's terms.
        #[allow(non_camel_case_types)]
        pub mod feeds {
            // Types of `feeds::__dynamic::x` are named the same way here and in the graph's
            // module.
            #[allow(unused_imports)]
            use super::feeds;
            #(#items)*
            #batches
        }
    }
}

/// The trait a fetch's feeds implement together when they agree on the `None` dimensions they
/// share.
pub(super) struct Agreement {
    /// Named after the fetch.
    pub(super) name: Ident,
    pub(super) message: String,
    /// The feeds' types, in field order.
    pub(super) types: Vec<TokenStream>,
    pub(super) generics: Vec<Ident>,
    pub(super) borrows: bool,
}

/// The agreement trait of a fetch whose placeholders share a `None` dimension, if they do.
pub(super) fn shared_dims(graph: &Graph, names: &Names, f: &crate::ir::Fetch, feeds: &[NodeId]) -> Option<Agreement> {
    let mut uses: Vec<(usize, Vec<String>)> = Vec::new();
    for &p in feeds {
        let t = graph.tensor(p)?;
        for (k, d) in t.shape.iter().enumerate() {
            if let crate::ir::Dim::Sym(s) = d {
                let place = format!("`{}`'s dimension {k}", graph.nodes[p].name.as_ref()?);
                match uses.iter_mut().find(|(sym, _)| sym == s) {
                    Some((_, places)) => places.push(place),
                    None => uses.push((*s, vec![place])),
                }
            }
        }
    }
    let shared: Vec<String> =
        uses.iter().filter(|(_, places)| places.len() > 1).map(|(_, places)| places.join(" and ")).collect();
    let crossing = feeds.len() > 1 && !shared.is_empty();
    if !crossing {
        return None;
    }
    let message = format!(
        "the feeds of `{}` disagree on a `None` dimension they share: {} must be equal, but they were fed `{{Self}}`",
        f.name,
        shared.join("; ")
    );
    let (types, generics, lifetime) = feed_types(graph, names, feeds);
    Some(Agreement { name: f.name.clone(), message, types, generics, borrows: lifetime })
}

/// The fixed-size feed types of `feeds` ([`feed_type`]), the const generics they mention, and
/// whether any is a reference (so takes the lifetime `'a`).
pub(super) fn feed_types(graph: &Graph, names: &Names, feeds: &[NodeId]) -> (Vec<TokenStream>, Vec<Ident>, bool) {
    let mut generics = Vec::new();
    let mut lifetime = false;
    let types = feeds
        .iter()
        .map(|&p| {
            let t = graph.tensor(p).expect("typed placeholder");
            names.generics_of(t, &mut generics);
            lifetime |= !t.shape.is_empty();
            feed_type(names, t)
        })
        .collect();
    (types, generics, lifetime)
}

/// The type parameter of a fetch struct for a placeholder's feed: `VTargetFeed` for `v_target`.
pub(super) fn feed_param(name: &Ident, taken: &mut Vec<String>) -> Ident {
    let text = name.to_string();
    let mut camel: String = text
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect();
    camel.push_str("Feed");
    while taken.contains(&camel) {
        camel.push('_');
    }
    taken.push(camel.clone());
    Ident::new(&camel, name.span())
}
