//! The module's state: `Variables` (with their `.npz`, serde and Rust-source forms), the
//! optimisers' slots, `Session`, and the functions computing initial values.

use super::*;

/// The variables of one kind (the user's, or the optimisers' slots): their nodes, and the name
/// and Rust type of each one's field.
struct Fields {
    ids: Vec<NodeId>,
    names: Vec<proc_macro2::TokenTree>,
    types: Vec<TokenStream>,
}

impl Fields {
    fn of(graph: &Graph, names: &Names, ids: Vec<NodeId>) -> Fields {
        let mut fields = Fields { ids, names: Vec::new(), types: Vec::new() };
        for &v in &fields.ids {
            let place = names.storage(graph, v);
            fields.names.push(place.into_iter().last().expect("a field name"));
            fields.types.push(graph.tensor(v).map(|t| names.rust_type(t)).unwrap_or_else(|| quote!(())));
        }
        fields
    }
}

/// `Variables`, the optimisers' state, `Session` and the functions computing initial values.
pub(super) fn state(graph: &Graph, names: &Names, statics: &mut BTreeSet<NodeId>) -> TokenStream {
    let all = graph.variables();
    let (user, slots): (Vec<NodeId>, Vec<NodeId>) =
        all.iter().partition(|&&v| matches!(&graph.nodes[v].op, Op::Variable(var) if var.storage == Storage::User));
    let user = Fields::of(graph, names, user);
    let slots = Fields::of(graph, names, slots);
    let npz = npz_items(graph, names, &user);
    let variables = variables_items(graph, names, &user);
    let slots_items = slots_items(graph, names, &slots, statics);
    let session = session_items(graph, names, &user, !slots.ids.is_empty(), statics);
    quote! {
        #npz
        #variables
        #slots_items
        #session
    }
}

/// The statements computing the initial values of `vars`, the values, and whether they draw at
/// random; adds the constants they read to `statics`.
fn initial_values(
    graph: &Graph,
    names: &Names,
    vars: &[NodeId],
    statics: &mut BTreeSet<NodeId>,
) -> (TokenStream, Vec<TokenStream>, bool) {
    let roots: Vec<NodeId> = vars
        .iter()
        .map(|&v| match &graph.nodes[v].op {
            Op::Variable(var) => var.init,
            _ => v,
        })
        .collect();
    let body = Body::new(graph, names, &roots);
    statics.extend(body.statics());
    let statements = body.lower().statements(Context::Init);
    let values: Vec<TokenStream> = roots.iter().map(|&r| body.lower().value(r)).collect();
    (statements, values, body.uses_rng())
}

/// `Variables::from_npz`, `load_npz`, `to_npz` and `save_npz` (with tfcore's `std` feature).
fn npz_items(graph: &Graph, names: &Names, user: &Fields) -> TokenStream {
    let user_names = &user.names;
    let [bytes, npz, path, out] = ["bytes", "npz", "path", "out"].map(|n| names.binding(n));
    let npz_keys: Vec<String> = user_names.iter().map(|n| n.to_string()).collect();
    let npz_shapes: Vec<TokenStream> = user
        .ids
        .iter()
        .map(|&v| {
            let dims = graph.tensor(v).map(|t| t.shape.iter().map(|d| names.dim(*d)).collect::<Vec<_>>());
            let dims = dims.unwrap_or_default();
            quote!(&[#(#dims),*])
        })
        .collect();
    quote! {
        ::tfcore::__private::with_std! {
            impl Variables {
                /// Reads the variables from the bytes of a `.npz` archive holding one array per
                /// variable, named as the variable, of its shape and dtype (what `np.savez(f,
                /// W1=..., b1=...)` writes, and [`Variables::to_npz`]).
                pub fn from_npz(#bytes: &[u8]) -> ::core::result::Result<Self, ::tfcore::__private::npy::NpyError> {
                    let #npz = ::tfcore::__private::npy::Npz::parse(#bytes)?;
                    ::core::result::Result::Ok(Variables {
                        #(#user_names: ::tfcore::__private::npy::NpyTensor::read(&#npz, #npz_keys, #npz_shapes)?,)*
                    })
                }

                /// [`Variables::from_npz`] of the file at `path`.
                pub fn load_npz(#path: impl ::core::convert::AsRef<::tfcore::__private::npy::Path>) -> ::core::result::Result<Self, ::tfcore::__private::npy::NpyError> {
                    Self::from_npz(&::tfcore::__private::npy::read_file(#path)?)
                }

                /// The variables as a `.npz` archive, one array per variable named as the
                /// variable, in TensorFlow's layout: what `np.load` reads.
                pub fn to_npz(&self) -> ::tfcore::__private::npy::Bytes {
                    let mut #out = ::tfcore::__private::npy::NpzWriter::new();
                    #(::tfcore::__private::npy::NpyTensor::write(&self.#user_names, &mut #out, #npz_keys, #npz_shapes);)*
                    #out.finish()
                }

                /// Writes [`Variables::to_npz`] to the file at `path`.
                pub fn save_npz(&self, #path: impl ::core::convert::AsRef<::tfcore::__private::npy::Path>) -> ::core::result::Result<(), ::tfcore::__private::npy::NpyError> {
                    ::tfcore::__private::npy::write_file(#path, &self.to_npz())
                }
            }
        }
        ::tfcore::__private::with_ndarray! {
            impl Variables {
                /// The variables as ndarray's arrays, one per variable, named as the variable,
                /// in TensorFlow's layout (tfcore's `ndarray` feature).
                pub fn to_ndarrays(&self) -> ::tfcore::__private::BTreeMap<::tfcore::__private::String, ::tfcore::__private::TypedArray> {
                    let mut #out = ::tfcore::__private::BTreeMap::new();
                    #(#out.insert(::tfcore::__private::String::from(#npz_keys), ::tfcore::__private::NdTensor::to_typed(&self.#user_names, #npz_shapes));)*
                    #out
                }

                /// The variables from ndarray's arrays, one per variable, named as the variable,
                /// of its shape and dtype ([`Variables::to_ndarrays`]); a missing array, or one of
                /// another shape or dtype, is an error naming it.
                pub fn from_ndarrays(#npz: &::tfcore::__private::BTreeMap<::tfcore::__private::String, ::tfcore::__private::TypedArray>) -> ::core::result::Result<Self, ::tfcore::__private::npy::NpyError> {
                    ::core::result::Result::Ok(Variables {
                        #(#user_names: ::tfcore::__private::NdTensor::from_typed(#npz, #npz_keys, #npz_shapes)?,)*
                    })
                }
            }
        }
    }
}

/// The `Variables` struct (serde's derives with tfcore's `serde` feature) and its Rust-source
/// form (`to_rust_const`, `ToRust`).
fn variables_items(graph: &Graph, names: &Names, user: &Fields) -> TokenStream {
    let module = &graph.name;
    let name_param = names.binding("name");
    let (user_names, user_types) = (&user.names, &user.types);
    let var_docs = user.ids.iter().map(|&v| {
        let t = graph
            .tensor(v)
            .map(|t| format!(" `{}` of shape {}", t.dtype, crate::ir::ShapeDoc(&t.shape)))
            .unwrap_or_default();
        format!(" The variable `{}`:{t}.", graph.nodes[v].name.as_ref().map(ToString::to_string).unwrap_or_default())
    });
    let variables_doc = format!(
        " The variables of graph `{module}`, one public field per `tf.Variable`, named as in the graph.\n\n A plain value: copy it out of a `Session` with `variables()`, change it with `variables_mut()`, start a session from one with `Session::from_variables`, or write one as a `const` to bake trained weights into a program."
    );
    let type_path = format!("{module}::Variables");
    let rust_fields = user_names.iter().enumerate().map(|(k, name)| {
        let prefix = format!("{}    {}: ", if k == 0 { " {\n" } else { ",\n" }, name);
        quote! {
            __f.write_str(#prefix)?;
            ::tfcore::__private::ToRust::fmt_rust(&self.#name, __f)?;
        }
    });
    let rust_close = if user_names.is_empty() { " {}" } else { ",\n}" };
    let to_rust_doc = format!(
        " These values as a Rust item, `pub const NAME: {type_path} = {type_path} {{ ... }};`, to write to a file another program `include!`s where the graph's module `{module}` is in scope (firmware baking in trained weights, say). Floats read back to the same bits."
    );
    quote! {
        ::tfcore::__private::with_serde! {
            #[doc = #variables_doc]
            #[derive(Clone, Copy, Debug, PartialEq)]
            #[allow(non_snake_case)]
            pub struct Variables {
                #(#[doc = #var_docs] pub #user_names: #user_types,)*
            }
        }

        impl Variables {
            #[doc = #to_rust_doc]
            pub fn to_rust_const<'a>(&'a self, #name_param: &'a str) -> ::tfcore::__private::RustConst<'a, Self> {
                ::tfcore::__private::RustConst::new(#name_param, self)
            }
        }

        impl ::tfcore::__private::ToRust for Variables {
            fn fmt_rust(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.write_str(#type_path)?;
                #(#rust_fields)*
                __f.write_str(#rust_close)
            }

            fn fmt_rust_type(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.write_str(#type_path)
            }
        }
    }
}

/// The optimisers' state, `__Slots`, and the function computing its initial value; nothing if
/// the graph has no optimiser with state.
fn slots_items(graph: &Graph, names: &Names, slots: &Fields, statics: &mut BTreeSet<NodeId>) -> Option<TokenStream> {
    if slots.ids.is_empty() {
        return None;
    }
    let (slot_names, slot_types) = (&slots.names, &slots.types);
    let (slot_init, slot_values, _) = initial_values(graph, names, &slots.ids, statics);
    Some(quote! {
        /// The optimisers' state: velocities, moments and step counts.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[allow(non_snake_case)]
        struct __Slots {
            #(#slot_names: #slot_types,)*
        }

        #[allow(non_snake_case, clippy::all)]
        fn __initial_slots() -> __Slots {
            #slot_init
            __Slots { #(#slot_names: #slot_values,)* }
        }
    })
}

/// `Session`, its methods, and the function computing the user's variables' initial values.
fn session_items(
    graph: &Graph,
    names: &Names,
    user: &Fields,
    has_slots: bool,
    statics: &mut BTreeSet<NodeId>,
) -> TokenStream {
    let module = &graph.name;
    let user_names = &user.names;
    let (user_init, user_values, uses_rng) = initial_values(graph, names, &user.ids, statics);
    let slots_field = has_slots.then(|| quote!(slots: __Slots,));
    let slots_new = has_slots.then(|| quote!(slots: __initial_slots(),));
    let run_method = run_methods(module, names);
    let (panels_items, panels_field, panels_new, panels_stale) = panels_items(graph, names);
    let [seed, variables] = ["seed", "variables"].map(|n| names.binding(n));
    let rng_param = if uses_rng { quote!(__rng) } else { quote!(_) };
    quote! {
        #panels_items

        #[allow(non_snake_case, unused_variables, clippy::all)]
        fn __initial_variables(#rng_param: &mut ::tfcore::__private::Rng) -> Variables {
            #user_init
            Variables { #(#user_names: #user_values,)* }
        }

        /// A session of the graph: it owns the variables (and the optimisers' state) and runs
        /// fetches.
        ///
        /// Every variable is initialised when the session starts, so a session can never read an
        /// uninitialised variable; running the graph's `tf.global_variables_initializer()` node
        /// initialises them again. Two sessions keep separate values.
        #[derive(Clone, Debug)]
        pub struct Session {
            vars: Variables,
            #slots_field
            #panels_field
            rng: ::tfcore::__private::Rng,
            ws: ::tfcore::__private::Workspace,
        }

        impl Session {
            /// A session whose variables hold their initial values, random ones drawn from
            /// `tfcore::DEFAULT_SEED`, so that runs repeat.
            pub fn new() -> Self {
                Self::with_seed(::tfcore::__private::DEFAULT_SEED)
            }

            /// A session whose random initial values are drawn from `seed`.
            pub fn with_seed(#seed: u64) -> Self {
                let mut __rng = ::tfcore::__private::rng(#seed);
                let __vars = __initial_variables(&mut __rng);
                Session { vars: __vars, #slots_new #panels_new rng: __rng, ws: ::tfcore::__private::Workspace::default() }
            }

            /// A session holding `variables` (the optimisers start afresh). Nothing is drawn at
            /// random: firmware that only runs trained weights links no initialisation code.
            pub fn from_variables(#variables: Variables) -> Self {
                Session {
                    vars: #variables,
                    #slots_new
                    #panels_new
                    rng: ::tfcore::__private::rng(::tfcore::__private::DEFAULT_SEED),
                    ws: ::tfcore::__private::Workspace::default(),
                }
            }

            /// The variables' current values.
            pub fn variables(&self) -> &Variables {
                &self.vars
            }

            /// The variables, to change them.
            pub fn variables_mut(&mut self) -> &mut Variables {
                #panels_stale
                &mut self.vars
            }

            #run_method
        }

        impl ::core::default::Default for Session {
            fn default() -> Self {
                Self::new()
            }
        }
    }
}

/// The session's copies of variables in panels ([`crate::ops::matmul::copied`]): the `__Panels`
/// struct, the `Session`'s field, its initial value, and the statement marking every copy stale
/// (in `variables_mut`). Nothing if no product reads a variable so.
fn panels_items(graph: &Graph, names: &Names) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
    let fields = names.copy_fields();
    if fields.is_empty() {
        return Default::default();
    }
    let (mut types, mut sizes) = (Vec::new(), Vec::new());
    for &(id, _) in &fields {
        let t = graph.tensor(id);
        let elem = crate::values::ident(t.map_or(DType::Float32, |t| t.dtype).rust());
        types.push(quote!(::tfcore::__private::PanelCopy<#elem>));
        sizes.push(names.count(&t.map(|t| t.shape.clone()).unwrap_or_default()));
    }
    let fields: Vec<Ident> = fields.into_iter().map(|(_, field)| field).collect();
    let items = quote! {
        /// Copies of the variables that matrix products read, in the panels a constant weight is
        /// stored in (`tfcore`'s `std` only): their memory taken with the session's, copied when a
        /// fetch needs one, marked stale when the variable is written.
        #[derive(Clone, Debug)]
        struct __Panels {
            #(#fields: #types,)*
        }

        impl __Panels {
            fn new() -> Self {
                __Panels { #(#fields: ::tfcore::__private::PanelCopy::new(#sizes),)* }
            }

            fn stale(&mut self) {
                #(self.#fields.stale();)*
            }
        }
    };
    (items, quote!(panels: __Panels,), quote!(panels: __Panels::new(),), quote!(self.panels.stale();))
}

/// `Session::run` and `Session::run_into`.
fn run_methods(module: &Ident, names: &Names) -> TokenStream {
    let [fetch, out] = ["fetch", "out"].map(|n| names.binding(n));
    // Spanned on the module's name, so that rustc's notes about `run`'s bound point there.
    quote_spanned! {module.span()=>
        /// Runs `fetch`: evaluates only the nodes it needs, each once, applies the assignments it
        /// triggers (after every value is computed), and returns its value.
        pub fn run<F: ::tfcore::__private::Fetch<Self>>(&mut self, #fetch: F) -> F::Output {
            #fetch.run(self)
        }

        /// Runs `fetch` as [`Session::run`] does and writes its value over `out`, which the
        /// caller owns: a result computed element by element (a dense layer, an activation) is
        /// written there directly, so a large result takes its own size of memory once, not
        /// twice (the value `run` returns is built, then moved). For firmware with little RAM.
        pub fn run_into<F: ::tfcore::__private::Fetch<Self>>(&mut self, #fetch: F, #out: &mut F::Output) {
            #fetch.run_into(self, #out)
        }
    }
}
