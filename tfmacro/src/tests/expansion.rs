//! Expansion tests: expand a graph, re-parse the output as Rust, and assert on what it must and
//! must not hold.

use crate::expand::expand;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// The expansion of a graph that must compile, parsed.
fn expand_ok(tokens: TokenStream) -> syn::File {
    let out = expand(tokens);
    let text = out.to_string();
    assert!(!text.contains("compile_error"), "unexpected errors: {text}");
    syn::parse2::<syn::File>(out).unwrap_or_else(|e| panic!("output does not parse: {e}\n{text}"))
}

/// The error messages a graph gets.
fn errors_of(tokens: TokenStream) -> Vec<String> {
    let mut errors = crate::error::Errors::default();
    if let Some(def) = crate::parse::parse(tokens, &mut errors) {
        let mut graph = crate::resolve::resolve(def, &mut errors);
        crate::infer::infer(&mut graph, &mut errors);
    }
    errors.messages()
}

/// The methods of fetch type `fetch` for feeds of static size, as text: its `Fetch` impl's and
/// those of the `Compute` impl they call through `dispatch`, which computes the value.
fn run_body(file: &syn::File, fetch: &str) -> String {
    let syn::Item::Mod(module) = &file.items[0] else { panic!("expected a module") };
    let mut text = String::new();
    let mut found = false;
    for item in &module.content.as_ref().expect("inline module").1 {
        if let syn::Item::Impl(imp) = item {
            let self_ty = imp.self_ty.to_token_stream().to_string();
            if !(self_ty == fetch || self_ty.starts_with(&format!("{fetch} <"))) {
                continue;
            }
            let trait_is =
                |name: &str| imp.trait_.as_ref().is_some_and(|t| t.1.to_token_stream().to_string().contains(name));
            let is_fetch = trait_is("Fetch");
            // The body for feeds of run-time size returns a `Result` of a `FeedError`.
            let computes = trait_is("Compute") && !imp.to_token_stream().to_string().contains("FeedError");
            if (is_fetch && !found) || computes {
                found |= is_fetch;
                text.extend(imp.items.iter().map(|i| i.to_token_stream().to_string()));
            }
        }
    }
    assert!(found, "no fetch `{fetch}`");
    text
}

fn bond() -> TokenStream {
    quote! {
        pub mod bond {
            let C = tf.constant(5.0);
            let P = tf.constant(100.0);
            let a = tf.Variable(-10.0);
            let b = tf.Variable(10.0);
            let v_target = tf.placeholder("float");
            let y = (a + b) / 2;
            let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y);
            let a_ = tf.where(v_guess > v_target, y, a);
            let b_ = tf.where(v_guess < v_target, y, b);
            let step = tf.group(a.assign(a_), b.assign(b_));
        }
    }
}

#[test]
fn fetches_run_only_what_they_need() {
    let file = expand_ok(bond());
    let y = run_body(&file, "y");
    assert!(!y.contains("expf") && !y.contains("v_target"), "`y` needs neither `v_guess` nor the feed: {y}");
    let a_ = run_body(&file, "a_");
    assert!(!a_.contains("__v_b_") && !a_.contains(" < "), "`a_` does not compute `b_`: {a_}");
    assert!(!a_.contains("__session . vars . a ="), "`a_` assigns nothing: {a_}");
}

#[test]
fn each_node_is_computed_once() {
    let file = expand_ok(bond());
    let step = run_body(&file, "step");
    // `v_guess` feeds both `a_` and `b_` but is computed once: four exponentials in all.
    assert_eq!(step.matches("expf").count(), 4, "{step}");
    assert_eq!(step.matches("let __v_v_guess").count(), 1, "{step}");
    // Both assignments read the variables before either writes.
    let first_write = step.find("__session . vars . a =").expect("writes a");
    assert!(step.rfind("__v_a").unwrap() < first_write || step[first_write..].matches("__v_a").count() == 0);
}

#[test]
fn constants_are_folded() {
    let file = expand_ok(bond());
    let step = run_body(&file, "step");
    assert!(step.contains("105f32"), "`C + P` is folded: {step}");
    let file = expand_ok(quote! {
        pub mod first {
            let a = tf.constant([2.5, 2]);
            let b = tf.constant([3, 6], dtype = tf.float32);
            let total = tf.add(a, b);
        }
    });
    let total = run_body(&file, "total");
    // The folded value is a `static` of the module, which the fetch reads.
    let text = file.to_token_stream().to_string();
    assert!(text.contains("5.5f32") && text.contains("8f32") && !total.contains("+"), "{total}");
    assert!(total.contains("& __C"), "{total}");
}

#[test]
fn shared_subexpressions_are_merged() {
    let file = expand_ok(quote! {
        pub mod twice {
            let x = tf.placeholder(tf.float32, [3]);
            let a = tf.exp(x * 2);
            let b = tf.exp(x * 2);
            let both = a + b;
        }
    });
    let both = run_body(&file, "both");
    assert_eq!(both.matches("expf").count(), 1, "{both}");
}

#[test]
fn elementwise_chains_are_fused_into_one_loop() {
    let file = expand_ok(quote! {
        pub mod layer {
            let W = tf.Variable(tf.ones([2, 3]));
            let b = tf.Variable(tf.zeros([3]));
            let X = tf.placeholder(tf.float32, [None, 2]);
            let hidden = tf.sigmoid(tf.matmul(X, W) + b);
        }
    });
    let hidden = run_body(&file, "hidden");
    // Written element by element into the caller's `out` (`run` passes one of its own).
    assert_eq!(
        hidden.matches("fill2").count() + hidden.matches("from_fn").count(),
        1,
        "one loop computes the matmul, the bias and the sigmoid: {hidden}"
    );
}

#[test]
fn large_products_go_through_the_tiled_kernel() {
    let file = model("mlp.rs");
    let step = run_body(&file, "train_step");
    // All five products (the forward two, `X · W1` and `H · W2`, and the backward three, 784 · 128
    // or 128 · 10 multiply-adds per row of the batch, the batch counted as 1) go through the
    // kernel.
    assert_eq!(step.matches("__private :: matmul (").count(), 5, "{step}");
    assert_eq!(step.matches("__private :: dot (").count(), 0, "{step}");
    // Lines that are not contiguous are packed into a scratch on the stack: the rows of the fed
    // `X` (column-major, 784 terms: room for the tiles' lines only), and the columns of `dZ1` (a
    // row-major buffer, a batch of terms, so the scratch is sized with the batch's const generic,
    // with room for a panel: few terms go through panels).
    assert!(step.contains("[[0f32 ; 784] ; :: tfcore :: __private :: packed_lines (784usize)]"), "{step}");
    assert!(step.contains("[[0f32 ; N] ; :: tfcore :: __private :: PACKED_LINES]"), "{step}");
    // `H · W2` (both operands contiguous, 128 terms) gets a scratch where there are lines of `H`
    // enough for a tile: for panels with few terms, for paired tiles with many.
    assert!(step.contains("if N < :: tfcore :: __private :: PANEL {"), "{step}");
    assert!(!step.contains("unsafe"), "{step}");
    // A product the fetched value reads is computed into the caller's value, and the bias and
    // ReLU written over it there: no buffer of its size. It reads the session's copy of `W1` in
    // panels (the fetch does not write `W1`).
    let hidden = run_body(&file, "hidden");
    assert_eq!(hidden.matches("__private :: matmul_copied (").count(), 1, "{hidden}");
    assert!(hidden.contains("__v_hidden . as_mut_slice ()") && !hidden.contains("let mut __f"), "{hidden}");
}

/// How many calls of tfcore's kernel `name` (`conv2d`, `depthwise_conv2d`) `body` makes: with a
/// closure storing each output, and storing the outputs as they are (`_plain`).
fn kernel_calls(body: &str, name: &str) -> (usize, usize) {
    (
        body.matches(&format!("__private :: {name} (")).count(),
        body.matches(&format!("__private :: {name}_plain (")).count(),
    )
}

#[test]
fn convolutions_go_through_the_window_kernels() {
    // Keyword spotting's first convolution (10 × 4, stride 2, 64 channels out), its four 1 × 1
    // ones (64 channels in and out, 25 × 5 pixels) and its four depthwise ones; ResNet-8's nine,
    // 3 × 3 or 1 × 1 of stride 2, all of 16, 32 or 64 channels. None is a matrix product.
    // Each followed by a bias and a ReLU only: stored as they are, the bias and the ReLU
    // computed by a loop of their own.
    let probs = run_body(&model("kws.rs"), "probs");
    // The first layer through the kernel for first layers, compiled for its window's width (4),
    // its channel, 32 output channels at a time and its rows' five pixels.
    assert_eq!(kernel_calls(&probs, "conv2d"), (0, 0), "{probs}");
    assert!(probs.contains("conv2d_rows_plain :: < _ , 4usize , 1usize , 32usize , 5usize > ("), "{probs}");
    // The 1 × 1 ones, each output pixel reading its own input pixel, through a kernel of their
    // own; not ResNet-8's, moved by 2.
    assert_eq!(kernel_calls(&probs, "pointwise_conv2d"), (0, 4), "{probs}");
    assert!(!probs.contains("__private :: matmul ("), "{probs}");
    assert_eq!(kernel_calls(&probs, "depthwise_conv2d"), (0, 4), "{probs}");
    assert!(probs.contains("kernel : [10usize , 4usize] , strides : [2usize , 2usize]"), "{probs}");
    // The three residual adds through the kernel's closure, over the buffer they add.
    let probs = run_body(&model("resnet8.rs"), "probs");
    assert_eq!(kernel_calls(&probs, "conv2d"), (3, 6), "{probs}");
    assert!(!probs.contains("conv2d_rows"), "{probs}");
    assert_eq!(kernel_calls(&probs, "pointwise_conv2d"), (0, 0), "{probs}");
    // The line of zeros a tap in the padding reads, as long as a pixel's channels.
    assert!(probs.contains("& [0f32 ; 16usize]"), "{probs}");
    // Every filter read as it is stored, in TensorFlow's layout: none is packed, when the graph
    // compiles or when the fetch runs.
    for k in 0..9 {
        assert!(probs.contains(&format!("__v_conv{k}_filter . as_slice ()")), "conv{k}: {probs}");
    }
    assert!(!probs.contains("__packed"), "{probs}");
}

#[test]
fn generated_code_stays_in_core_and_private_api() {
    let text = expand_ok(bond()).to_token_stream().to_string();
    for forbidden in ["unsafe", ":: std ::", "Vec", "Box", "alloc"] {
        assert!(!text.contains(forbidden), "generated code mentions `{forbidden}`");
    }
    for (k, _) in text.match_indices(":: tfcore ::") {
        assert!(text[k..].starts_with(":: tfcore :: __private"), "reaches past __private: {}", &text[k..k + 60]);
    }
}

#[test]
fn unit_and_feed_fetch_types() {
    let text = expand_ok(bond()).to_token_stream().to_string();
    assert!(text.contains("pub struct y ;"), "{text}");
    // `a_`'s field is a type parameter bounded by `v_target`'s trait, which `f32` implements.
    assert!(text.contains("pub struct a_ < VTargetFeed : feeds :: v_target >"), "{text}");
    assert!(text.contains("pub v_target : VTargetFeed"), "{text}");
    assert!(text.contains("pub trait v_target { } impl v_target for f32 { }"), "{text}");
    assert!(text.contains("Fetch < Session > for a_ < f32 >"), "{text}");
}

#[test]
fn the_seed_mismatch_is_reported_once_with_both_dtypes() {
    let errors = errors_of(quote! {
        pub mod first {
            let a = tf.constant([2.5, 2]);
            let b = tf.constant([3, 6]);
            let total = tf.add(a, b);
            let doubled = total * 2;
        }
    });
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("`tf.add`") && errors[0].contains("`float32`") && errors[0].contains("`int32`"));
}

#[test]
fn independent_mistakes_are_all_reported() {
    let errors = errors_of(quote! {
        pub mod three {
            let a = tf.constant([1.0, 2.0]);
            let b = tf.sigmod(a);
            let c = a + tf.constant([1, 2]);
            let d = tf.matmul(a, a);
        }
    });
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn unshaped_placeholders_take_the_shape_their_uses_need() {
    let file = expand_ok(quote! {
        pub mod circle {
            let X = tf.placeholder(tf.float32, [None, 2]);
            let Y = tf.placeholder(tf.uint8);
            let W = tf.Variable(tf.ones([2, 2]));
            let output_layer = tf.nn.softmax(tf.matmul(X, W));
            let loss = -tf.reduce_sum(tf.one_hot(Y, 2) * tf.log(output_layer));
        }
    });
    let text = file.to_token_stream().to_string();
    assert!(
        text.contains("impl < 'a , const N : usize > Y for & 'a :: tfcore :: __private :: SVector < u8 , N >"),
        "{text}"
    );
    // `X` and `Y` share their `None` dimension: the feeds of `loss` must agree on it.
    assert!(text.contains("where (XFeed , YFeed ,) : feeds :: loss"), "{text}");
}

#[test]
fn malformed_input_gets_errors_not_panics() {
    let cases = [
        quote!(),
        quote!(mod),
        quote!(pub mod m),
        quote!(pub mod m { let }),
        quote!(pub mod m { let x = ; }),
        quote!(pub mod m { let x = tf.constant(); }),
        quote!(pub mod m { let x = tf.constant([[1], [2, 3]]); }),
        quote!(pub mod m { let x = tf.placeholder(tf.float32, [0]); }),
        quote!(pub mod m { let x = tf.one_hot(tf.constant([1]), 0); }),
        quote!(pub mod m { const N: usize = 1 / 0; let x = tf.zeros([N]); }),
        quote!(pub mod m { let x = 1 / 0; }),
        quote!(pub mod m { let x = tf.reduce_sum(tf.constant(1.0), axis = 0); }),
        quote!(pub mod m { let x = tf.constant(99999999999999999999999999999999); }),
        quote!(pub mod m { let v = tf.Variable(tf.placeholder(tf.float32, [2])); }),
        quote!(pub mod m { let r = tf.random_uniform([2], 0, 1); }),
        quote!(pub mod m { let x = tf.constant(1.0); let s = x.assign(2.0); }),
        quote!(pub mod m { let s = tf.train.AdamOptimizer(0.1).minimize(tf.constant(1.0)); }),
        quote!(pub mod m { let x = tf.constant(true) + tf.constant(false); }),
        quote!(pub mod m { let x = tf.where(tf.constant(true)); }),
    ];
    for case in cases {
        let out = expand(case.clone()).to_string();
        assert!(out.contains("compile_error"), "no error for `{case}`: {out}");
    }
}

// `np.load` paths are relative to `CARGO_MANIFEST_DIR`, which `cargo test` sets to `tfmacro/`.

#[test]
fn weights_from_files_become_statics_and_the_files_are_tracked() {
    let file = expand_ok(quote! {
        pub mod dense {
            let x = tf.placeholder(tf.float32, [None, 64]);
            let kernel = np.load("../tests/data/models/kws/weights.npz")["fc0/kernel"];
            let logits = tf.matmul(x, kernel) + tf.constant(np.load("../tests/data/models/kws/weights.npz")["fc0/bias"]);
        }
    });
    let text = file.to_token_stream().to_string();
    assert!(text.contains("include_bytes !"), "the file is not tracked: {text}");
    assert_eq!(text.matches("include_bytes !").count(), 1, "one file, named once");
    let body = run_body(&file, "logits");
    assert!(body.contains("& __C") && !body.contains("static"), "the kernel is not the module's static: {body}");
    // Each constant once in the module, however many fetches (here `logits` and, fed a run-time
    // size, its second impl) read it.
    let statics = text.matches("static __C").count();
    assert!((1..=2).contains(&statics), "{statics} statics: {text}");
    // The kernel, 64 terms for each of 12 outputs, is written once, in panels of eight outputs
    // (a flat array), which the product reads through the panel kernel; the module checks that
    // tfcore lays panels out the same way. Like every static, it starts a cache line.
    assert_eq!(
        text.matches(": :: tfcore :: __private :: Aligned < [f32 ; 768] > =").count(),
        1,
        "written once: {text}"
    );
    assert!(text.contains("__private :: PANEL_WIDTH == 8"), "{text}");
    let body = run_body(&file, "logits");
    assert!(body.contains("__private :: matmul_panels (N , 12 , 64 ,"), "{body}");
}

#[test]
fn a_batch_of_one_reads_constant_weights_in_panels() {
    let file = model("autoencoder.rs");
    let fc9 = run_body(&file, "fc9");
    // All ten layers through the panel kernel, none through the kernel of two stored operands.
    assert_eq!(fc9.matches("__private :: matmul_panels (").count(), 10, "{fc9}");
    assert_eq!(fc9.matches("__private :: matmul (").count(), 0, "{fc9}");
    // The fed rows are copied aside only when they are strided: not for a batch of one.
    assert!(fc9.contains("if N == 1 { & mut [] }"), "{fc9}");
    // A fetch of a weight itself unpacks it into its `SMatrix`.
    let kernel = run_body(&file, "fc0_kernel");
    assert!(kernel.contains("from_fn") && kernel.contains("panel_at (128 , 640 ,"), "{kernel}");
}

/// `let w = np.load("weights.npz")` binds the archive; `w["key"]` is the array
/// `np.load("weights.npz")["key"]` is, to the byte of the expansion.
#[test]
fn an_archive_bound_once_reads_as_the_call_does() {
    let bound = expand_ok(quote! {
        pub mod dense {
            let x = tf.placeholder(tf.float32, [None, 64]);
            let w = np.load("../tests/data/models/kws/weights.npz");
            let kernel = w["fc0/kernel"];
            let logits = tf.matmul(x, kernel) + tf.constant(w["fc0/bias"], shape = [12]);
        }
    });
    let called = expand_ok(quote! {
        pub mod dense {
            let x = tf.placeholder(tf.float32, [None, 64]);
            let kernel = np.load("../tests/data/models/kws/weights.npz")["fc0/kernel"];
            let logits = tf.matmul(x, kernel) + tf.constant(np.load("../tests/data/models/kws/weights.npz")["fc0/bias"], shape = [12]);
        }
    });
    assert_eq!(bound.to_token_stream().to_string(), called.to_token_stream().to_string());
}

#[test]
fn archive_mistakes_name_the_binding_the_file_and_the_key() {
    let errors = errors_of(quote! {
        pub mod broken {
            let x = tf.placeholder(tf.float32, [None, 64]);
            let gone = np.load("../tests/data/models/nope.npz");
            let a = gone["w"];
            let b = gone["b"];
            let w = np.load("../tests/data/models/kws/weights.npz");
            let misspelt = w["fc0/kernal"];
            let whole = w + 1;
            let method = w.get("fc0/kernel");
            let number = w[0];
            let w = np.load("../tests/data/models/kws/weights.npz");
        }
    });
    let has = |pattern: &[&str]| errors.iter().any(|e| pattern.iter().all(|p| e.contains(p)));
    // The missing file once, at its `let`, not again at each array read from it.
    assert_eq!(errors.iter().filter(|e| e.contains("nope.npz")).count(), 1, "{errors:#?}");
    assert!(has(&["cannot read `../tests/data/models/nope.npz`: no such file"]), "{errors:#?}");
    assert!(
        has(&["no array `fc0/kernal` in `../tests/data/models/kws/weights.npz`", "did you mean `fc0/kernel`?"]),
        "{errors:#?}"
    );
    assert!(has(&["`w` is a NumPy archive, not a tensor: read one of its arrays, as in `w[\"key\"]`"]), "{errors:#?}");
    assert!(has(&["`w` is a NumPy archive, which has no method `get`"]), "{errors:#?}");
    assert!(has(&["an archive's array is named by a string"]), "{errors:#?}");
    assert!(has(&["`w` is defined twice in this graph"]), "{errors:#?}");
    assert_eq!(errors.len(), 6, "{errors:#?}");
}

#[test]
fn file_mistakes_name_the_file_the_key_and_both_shapes() {
    let errors = errors_of(quote! {
        pub mod broken {
            let x = tf.placeholder(tf.float32, [None, 32]);
            let missing = np.load("../tests/data/models/nope.npz")["w"];
            let again = np.load("../tests/data/models/nope.npz")["b"];
            let misspelt = np.load("../tests/data/models/kws/weights.npz")["fc0/kernal"];
            let whole = tf.constant(np.load("../tests/data/models/kws/weights.npz"));
            let wrong = tf.matmul(x, np.load("../tests/data/models/kws/weights.npz")["fc0/kernel"]);
            let as_f64 = tf.constant(np.load("../tests/data/models/kws/weights.npz")["fc0/bias"], dtype = tf.float64);
            let reshaped = tf.constant(np.load("../tests/data/models/kws/weights.npz")["fc0/kernel"], shape = [12, 64]);
        }
    });
    assert_eq!(errors.len(), 6, "{errors:#?}");
    let has = |pattern: &[&str]| errors.iter().any(|e| pattern.iter().all(|p| e.contains(p)));
    assert!(has(&["cannot read `../tests/data/models/nope.npz`: no such file"]), "{errors:#?}");
    assert!(has(&["no array `fc0/kernal`", "did you mean `fc0/kernel`?"]), "{errors:#?}");
    assert!(has(&["is an archive of arrays: pick one"]), "{errors:#?}");
    assert!(
        has(&["`np.load(\"../tests/data/models/kws/weights.npz\")[\"fc0/kernel\"]` is [64, 12]", "`x` is [None, 32]"]),
        "{errors:#?}"
    );
    assert!(has(&["is `float32`, not `float64`"]), "{errors:#?}");
    assert!(has(&["has shape [64, 12], not [12, 64]"]), "{errors:#?}");
}

/// The code of the fetch implementation whose header `header` starts, in `text` (an expansion as
/// `to_string` prints it), up to the value its `compute` returns.
fn fetch_body<'t>(text: &'t str, header: &str) -> &'t str {
    let at = text.find(header).unwrap_or_else(|| panic!("no `{header}`"));
    let end = text[at..].find("Result :: Ok (__result)").map_or(text.len(), |e| at + e);
    &text[at..end]
}

/// The expansion of an MLPerf Tiny model of `examples/models/`, its `np.load` paths made
/// relative to `tfmacro/`.
fn model(file: &str) -> syn::File {
    graph_in(&format!("../examples/models/{file}"))
}

/// The expansion of the first `graph! { ... }` in the file at `path`, its `np.load` paths made
/// relative to `tfmacro/`.
fn graph_in(path: &str) -> syn::File {
    let text = std::fs::read_to_string(path).expect("the graph's file");
    let start = text.find("graph!").expect("a graph");
    let file: syn::File = syn::parse_str(&text[start..]).expect("parses");
    let Some(syn::Item::Macro(m)) = file.items.first() else { panic!("expected `graph! {{ ... }}`") };
    let tokens: TokenStream =
        m.mac.tokens.to_string().replace("\"tests/data", "\"../tests/data").parse().expect("tokens");
    expand_ok(tokens)
}

/// The `probs` body of an MLPerf Tiny model.
fn model_body(file: &str) -> String {
    run_body(&model(file), "probs")
}

/// The memory line of the documentation of fetch type `fetch`.
fn memory_doc(file: &syn::File, fetch: &str) -> String {
    let text = file.to_token_stream().to_string();
    let at = text.find(&format!("pub struct {fetch} <")).expect("the fetch type");
    let start = text[..at].rfind("Memory:").expect("a memory line");
    text[start..at].split('"').next().unwrap_or_default().to_string()
}

/// Fed a batch of run-time size, keyword spotting's convolutions still go through tfcore's window
/// and depthwise kernels, reading the fed view and the workspace's buffers as row-major slices.
#[test]
fn a_batch_of_run_time_size_goes_through_the_convolution_kernels() {
    let text = model("kws.rs").to_token_stream().to_string();
    let body = fetch_body(&text, "for probs < XBatch >");
    assert!(body.contains("let N : usize = __v_x . shape () [0usize] ;"), "{body}");
    // The first convolution, the four 1 × 1 ones (each output pixel reading its own input
    // pixel) and the four depthwise ones (with run-time sizes, the bias and the ReLU are never
    // fused into the kernel).
    assert_eq!(kernel_calls(body, "conv2d"), (0, 0), "{body}");
    assert_eq!(body.matches("conv2d_rows_plain ::").count(), 1, "{body}");
    assert_eq!(kernel_calls(body, "pointwise_conv2d"), (0, 4), "{body}");
    assert_eq!(kernel_calls(body, "depthwise_conv2d"), (0, 4), "{body}");
    assert!(body.contains("__v_x . as_slice ()"), "{body}");
}

#[test]
fn memory_is_planned_like_an_arena() {
    // Keyword spotting: nine layers of one shape, in two buffers.
    let kws = model_body("kws.rs");
    assert_eq!(kws.matches("let mut __f").count(), 2, "{kws}");
    // ResNet-8: three shapes take turns in three buffers; the first residual add,
    // `relu(conv0 + conv2)`, is written over `conv0` by `conv2`'s kernel as it stores each output
    // (the others add the 1 × 1 convolution's buffer to the 3 × 3's outputs the same way); every
    // other bias and ReLU after a convolution is computed in place over the kernel's outputs.
    let resnet = model_body("resnet8.rs");
    assert_eq!(resnet.matches("let mut __f").count(), 3, "{resnet}");
    assert!(resnet.contains("(__old + (__acc + __v_conv2_bias [__l]))"), "the add is not in place: {resnet}");
    assert_eq!(resnet.matches("| __old : f32 , __acc : f32 ,").count(), 3, "{resnet}");
    assert_eq!(resnet.matches("let __acc = * __slot ;").count(), 4, "{resnet}");
    assert!(!resnet.contains("(__out [__at] +"), "{resnet}");
    // The anomaly detector: ten layers in two buffers (the last layer's input too, which the
    // returned layer reads as it is computed), the result written into the caller's `out`.
    let autoencoder = run_body(&model("autoencoder.rs"), "fc9");
    assert_eq!(autoencoder.matches("let mut __f").count(), 2, "{autoencoder}");
    assert!(autoencoder.contains("fn run_into") && !autoencoder.contains("from_fn"), "{autoencoder}");
}

#[test]
fn the_memory_bound_and_plan_are_documented_on_each_fetch() {
    // Keyword spotting: the largest layer's input and output, 2 × 32,000 bytes per input; the
    // plan adds the pooled, flattened and output tensors.
    let kws = memory_doc(&model("kws.rs"), "probs");
    assert!(kws.contains("at least 64000 × `N` bytes"), "{kws}");
    // ResNet-8: three 64 KiB tensors at once, fewer with the add written in place.
    let resnet = memory_doc(&model("resnet8.rs"), "probs");
    assert!(resnet.contains("at least 196608 × `N` bytes"), "{resnet}");
    // The anomaly detector: the last layer's 128 inputs and 640 outputs.
    let autoencoder = memory_doc(&model("autoencoder.rs"), "fc9");
    assert!(autoencoder.contains("at least 3072 × `N` bytes"), "{autoencoder}");
}

#[test]
fn onnx_ops_fixture_expands() {
    expand_ok(quote! {
        pub mod ops {
            let x = tf.placeholder(tf.float32, [None, 3, 6, 6]);
            let probs = onnx.load("../tests/data/onnx/ops.onnx", x = x)["probs"];
        }
    });
}

#[test]
fn onnx_mistakes_name_the_file_the_node_and_what_is_supported() {
    let errors = errors_of(quote! {
        pub mod broken {
            let x = tf.placeholder(tf.float32, [None, 4]);
            let image = tf.placeholder(tf.float32, [None, 3, 7, 6]);
            let unsupported = onnx.load("../tests/data/onnx/unsupported.onnx", x = x);
            let truncated = onnx.load("../tests/data/onnx/truncated.onnx", x = x);
            let missing = onnx.load("../tests/data/onnx/nope.onnx", x = x);
            let x_taken = onnx.load("../tests/data/onnx/ops.onnx");
            let misnamed = onnx.load("../tests/data/onnx/ops.onnx", X = image);
            let wrong_shape = onnx.load("../tests/data/onnx/ops.onnx", x = image)["probs"];
            let good = tf.placeholder(tf.float32, [None, 3, 6, 6]);
            let no_such_value = onnx.load("../tests/data/onnx/ops.onnx", x = good)["prob"];
            let two_outputs = onnx.load("../tests/data/onnx/ops.onnx", x = good);
            let numpy = onnx.load("../tests/data/models/kws/weights.npz", x = x);
        }
    });
    let has = |pattern: &[&str]| errors.iter().any(|e| pattern.iter().all(|p| e.contains(p)));
    assert!(
        has(&["unsupported.onnx`: node `erf_0` (Erf): the operator `Erf` is not supported; supported: Add,"]),
        "{errors:#?}"
    );
    assert!(has(&["node `leaky_0` (LeakyRelu): the operator `LeakyRelu` is not supported"]), "{errors:#?}");
    assert!(has(&["truncated.onnx` is not an ONNX model"]), "{errors:#?}");
    assert!(has(&["cannot read `../tests/data/onnx/nope.onnx`: no such file"]), "{errors:#?}");
    assert!(
        has(&["the model's input `x` would be the placeholder `x`, but the graph has a `x` already"]),
        "{errors:#?}"
    );
    assert!(has(&["has no input `X`", "did you mean `x`?"]), "{errors:#?}");
    assert!(has(&["input `x` has shape [None, 3, 6, 6]", "the tensor fed has [None, 3, 7, 6]"]), "{errors:#?}");
    assert!(has(&["has no value `prob`", "did you mean `probs`?"]), "{errors:#?}");
    assert!(has(&["has 2 outputs: pick one, as in `onnx.load(...)[\"probs\"]`"]), "{errors:#?}");
    assert!(has(&["weights.npz` is a NumPy file, not an ONNX model"]), "{errors:#?}");
    // Each mistake once, and nothing else: `x_taken` is two (`x` taken, no output picked).
    assert_eq!(errors.len(), 12, "{errors:#?}");
}

#[test]
fn tflite_mistakes_name_the_file_the_operator_and_what_is_supported() {
    let errors = errors_of(quote! {
        pub mod broken {
            let x = tf.placeholder(tf.int8, [1, 11, 9, 3]);
            let image = tf.placeholder(tf.float32, [1, 11, 9, 3]);
            let small = tf.placeholder(tf.int8, [1, 4, 4, 2]);
            let unsupported = tflite.load("../tests/data/int8/unsupported.tflite", serving_default_x_0 = small);
            let truncated = tflite.load("../tests/data/int8/truncated.tflite", serving_default_x_0 = x);
            let missing = tflite.load("../tests/data/int8/nope.tflite", serving_default_x_0 = x);
            let misnamed = tflite.load("../tests/data/int8/conv_stack.tflite", serving_default_y_0 = x);
            let wrong_type = tflite.load("../tests/data/int8/conv_stack.tflite", serving_default_x_0 = image);
            let no_such_tensor = tflite.load("../tests/data/int8/conv_stack.tflite", serving_default_x_0 = x)["StatefulPartitionedCall_1:9"];
            let numpy = tflite.load("../tests/data/models/kws/weights.npz", serving_default_x_0 = x);
            let onnx = tflite.load("../tests/data/onnx/ops.onnx", x = x);
        }
    });
    let has = |pattern: &[&str]| errors.iter().any(|e| pattern.iter().all(|p| e.contains(p)));
    assert!(
        has(&["unsupported.tflite`: operator 1 (TANH) is not supported (the import reads CONV_2D, DEPTHWISE_CONV_2D,"]),
        "{errors:#?}"
    );
    assert!(has(&["unsupported.tflite`: operator 2 (MEAN) is not supported"]), "{errors:#?}");
    assert!(has(&["truncated.tflite` is not a TensorFlow Lite model"]), "{errors:#?}");
    assert!(has(&["cannot read `../tests/data/int8/nope.tflite`: no such file"]), "{errors:#?}");
    assert!(has(&["has no input `serving_default_y_0`", "did you mean `serving_default_x_0`?"]), "{errors:#?}");
    assert!(has(&["the int8 `CONV_2D` reads `int8` of shape [1, 11, 9, 3], but `image` is `float32`"]), "{errors:#?}");
    assert!(
        has(&["has no tensor `StatefulPartitionedCall_1:9`", "did you mean `StatefulPartitionedCall_1:0`?"]),
        "{errors:#?}"
    );
    assert!(has(&["weights.npz` is a NumPy file, not a TensorFlow Lite model"]), "{errors:#?}");
    assert!(
        has(&["ops.onnx` is an ONNX model, not a TensorFlow Lite model: import it with `onnx.load`"]),
        "{errors:#?}"
    );
    // Each mistake once, and nothing else.
    assert_eq!(errors.len(), 9, "{errors:#?}");
}

/// Every shape in the generated documentation is in code quotes: rustdoc reads a bare `[None]`
/// (the seed's shapeless `Y`, inferred to one dimension of run-time size) as a link to
/// `Option::None` and shows "shape None".
#[test]
fn generated_docs_quote_every_shape() {
    for file in ["circle.rs", "mlp.rs", "kws.rs"] {
        let docs: Vec<String> = model(file)
            .to_token_stream()
            .to_string()
            .split("# [doc = \"")
            .skip(1)
            .map(|d| d.split("\"]").next().unwrap_or_default().to_string())
            .collect();
        assert!(
            docs.iter().any(|d| d.contains("of shape `[None]`") || d.contains("of shape `[None, ")),
            "{file}: {docs:#?}"
        );
        for doc in &docs {
            assert!(!doc.contains("shape None") && !doc.contains("shape ["), "{file}: {doc}");
        }
    }
}

/// Fed with run-time sizes, the circle's training step keeps every tensor of a `None` dimension in
/// the session's workspace (nine floats per row in four buffers, where the statically fed step
/// holds thirteen), reads its `None` dimension off `X` and checks `Y` against it. It runs in chunks
/// of rows (the workspace one chunk long), its weights' gradients partial sums over the chunks;
/// the output layer, a result of a `None` dimension, is computed over all the rows at once. Its
/// second implementation, for ndarray's arrays, reads `X` as a row-major view, a column of it a
/// line with a step.
#[test]
fn dynamic_feeds_compute_in_the_workspace() {
    let text = model("circle.rs").to_token_stream().to_string();
    let body = fetch_body(&text, "for train_step < & 'a :: tfcore :: __private :: Matrix");
    assert!(body.contains("let N : usize = __v_X . nrows () ;"), "{body}");
    assert!(body.contains("if __v_Y . nrows () != N"), "{body}");
    assert!(body.contains(
        "let [__f0 , __f1 , __f2 , __f3] = :: tfcore :: __private :: split (& mut __ws . f32 , [(1usize * N * 2) , (1usize * N * 3) , (1usize * N * 3) , (1usize * N * 1)]) ;"
    ), "{body}");
    assert!(!body.contains("SMatrix < f32 , N"), "no tensor of a `None` dimension outside the workspace: {body}");
    // The seed's `tf.log(output_layer)` of the softmax, computed as `log_softmax`: the
    // exponentials of the logits shifted by their maximum, written over the logits, a line at a
    // time, each logit read as the element its exponential replaces.
    assert!(body.contains("expf ((__acc - __f3 [(0usize) * N + __i]))"), "{body}");
    assert!(body.contains("sums_over_rows :: < f32 , 17usize , _ >"), "{body}");
    assert!(
        body.contains("let N = :: core :: cmp :: min (__end - __begin , :: tfcore :: __private :: CHUNK_ROWS) ;"),
        "{body}"
    );
    assert!(body.contains("while __first < __end {"), "{body}");
    assert!(body.contains("let __v_X = __v_X . rows (__first , N) ;"), "{body}");
    assert!(body.matches("] . dot (N ,").count() == 2 && body.matches("] . add (N ,").count() == 2, "{body}");
    let body = fetch_body(&text, "for train_step < & 'a :: tfcore :: ndarray :: ArrayBase");
    assert!(body.contains("match :: tfcore :: __private :: BatchFeed :: batch (& __v_X)"), "{body}");
    assert!(body.contains("FeedError :: Layout { placeholder : \"X\" }"), "{body}");
    assert!(body.contains(". dot (N , __v_X . as_slice () , __o0 , 2 ,"), "{body}");
    let body = fetch_body(&text, "for output_layer < & 'a :: tfcore :: __private :: Matrix");
    assert!(!body.contains("CHUNK_ROWS"), "{body}");
}

#[test]
fn a_unary_chain_over_another_fetch_calls_it() {
    let file = expand_ok(quote! {
        pub mod chain {
            let x = tf.placeholder(tf.float32, [None, 4]);
            let W = tf.Variable(tf.ones([4, 4]));
            let h0 = tf.matmul(x, W);
            let h1 = tf.sigmoid(h0);
            let h2 = tf.tanh(h1);
            let doubled = h2 * 2.0;
        }
    });
    // `h2` computes `h1` through `h1`'s fetch and writes its tanh over it: no product, no sigmoid.
    let h2 = run_body(&file, "h2");
    assert!(h2.contains("Fetch :: run_into (h1 {"), "{h2}");
    assert!(h2.contains("tanhf") && !h2.contains("sigmoidf") && !h2.contains("__v_W"), "{h2}");
    let h1 = run_body(&file, "h1");
    assert!(h1.contains("Fetch :: run_into (h0 {") && !h1.contains("__v_W"), "{h1}");
    // A root that is not a unary op computes its whole chain, fused.
    let doubled = run_body(&file, "doubled");
    assert!(!doubled.contains("run_into (h") && doubled.contains("sigmoidf") && doubled.contains("tanhf"), "{doubled}");
    // Fed a run-time size, the same: `h1`'s value, then the tanh over it.
    let text = file.to_token_stream().to_string();
    assert!(text.contains("Fetch :: run (h1 {"), "{text}");
}

#[test]
fn an_optimiser_updates_its_variables_in_place() {
    let file = model("mlp.rs");
    let step = run_body(&file, "train_step");
    // Adam's three updates of each weight (its two moments, then the weight, reading them) are
    // each written over the variable's storage in the session, once: no local of their size, no
    // copy into the assignment and no move into the session at the end.
    for place in ["vars . W1", "slots . W1_adam_m_1", "slots . W1_adam_v_1", "vars . b2", "slots . b2_adam_v_1"] {
        assert!(step.contains(&format!("__session . {place} . as_mut_slice ()")), "{place}: {step}");
        assert!(!step.contains(&format!("__session . {place} =")), "{place}: {step}");
    }
    assert!(!step.contains("SMatrix < f32 , 784 , 128 > > :: from_fn"), "{step}");
    // The scalar beta powers are still written at the end.
    assert!(step.contains("__session . slots . beta1_power_1 ="), "{step}");
    // A variable read after its new value is computed is not written over: `a.assign(b)`
    // beside `b.assign(a)` swaps them.
    let file = expand_ok(quote! {
        mod swap {
            let a = tf.Variable(tf.zeros([3]));
            let b = tf.Variable(tf.ones([3]));
            let swap = tf.group(a.assign(b * 1.0), b.assign(a * 1.0));
        }
    });
    let swap = run_body(&file, "swap");
    assert!(!swap.contains("__session . vars . a . as_mut_slice"), "{swap}");
    assert!(swap.contains("__session . vars . a ="), "{swap}");
}

/// Fed with run-time sizes, the MLP's training step computes its products through the blocked
/// kernel: the hidden layer's of an ndarray matrix fed, whose rows are slices, or of a nalgebra one
/// copied row-major into the workspace first; the output layer's, of the hidden layer in the
/// workspace, and the weights' gradients, sums over the rows, packing lines into the workspace.
#[test]
fn products_of_run_time_size_go_through_the_blocked_kernel() {
    let text = model("mlp.rs").to_token_stream().to_string();
    let body = |feed: &str| fetch_body(&text, &format!("for train_step < & 'a :: tfcore :: {feed}")).to_string();
    for body in [body("__private :: Matrix"), body("ndarray :: ArrayBase")] {
        // Forward two, backward three: `dlogits · W2ᵀ`, and `Xᵀ · dhidden` and `hiddenᵀ · dlogits`
        // over the rows, whose strided lines are packed into `__scratch_f32`.
        assert_eq!(body.matches("__private :: matmul (").count(), 5, "{body}");
        let x_w1 = "__private :: matmul (N , 128 , 784 , :: tfcore :: __private :: Lines { data : __v_X . as_slice ()";
        assert_eq!(body.matches(x_w1).count(), 1, "{body}");
        assert!(body.contains("__private :: PACKED_LINES * (0usize + N)"), "{body}");
        assert_eq!(body.matches("& mut __scratch_f32 [..]").count(), 2, "{body}");
    }
    assert!(body("__private :: Matrix").contains("let __v_X = :: tfcore :: __private :: rows_of (__v_X , __fed"));
}

/// A batch of run-time size read element by element (a 2 × 2 convolution of one channel, too
/// small for the window kernels) is read from its slice at a row-major index written out, the
/// sizes known when the graph compiles as constants, not through `DArrayView`'s checked `Index`.
#[test]
fn a_batch_read_element_by_element_is_read_from_its_slice() {
    let text = expand_ok(quote! {
        mod small {
            let X = tf.placeholder(tf.float32, [None, 8, 8, 1]);
            let K = tf.Variable(tf.random_uniform([2, 2, 1, 4], -1.0, 1.0));
            let h = tf.nn.relu(tf.nn.conv2d(X, K, strides = [1, 1, 1, 1], padding = "SAME"));
            let W = tf.Variable(tf.random_uniform([256, 10], -1.0, 1.0));
            let y = tf.matmul(tf.reshape(h, [-1, 256]), W);
        }
    })
    .to_token_stream()
    .to_string();
    let body = fetch_body(&text, "for y < XBatch >");
    assert!(body.contains("__v_X . as_slice () [("), "{body}");
    assert!(!body.contains("__v_X [("), "{body}");
    assert!(!body.contains("__private :: conv2d ("), "{body}");
}

/// The digits CNN's 3 × 3 convolution of one channel (9 terms) goes through the window kernel,
/// in the training step fed a batch of fixed size and in the one of run-time size.
#[test]
fn the_digits_cnn_trains_through_the_window_kernel() {
    let text = model("../digits/net.rs").to_token_stream().to_string();
    let fixed = text.find("for train_step < & 'a :: tfcore :: __private :: Array4").expect("the step of a fixed batch");
    let dynamic = text.find("for train_step < XBatch").expect("the step of a run-time batch");
    // The fixed batch's step ends where the run-time batch's begins; that one at its `Ok`.
    for body in [&text[fixed..dynamic], fetch_body(&text, "for train_step < XBatch")] {
        let (closure, plain) = kernel_calls(body, "conv2d");
        let rows = body.matches("conv2d_rows").count();
        assert_eq!(closure + plain + rows, 1, "{body}");
    }
}

/// A product reading a variable as its weight reads the session's copy of it in panels, except in
/// a fetch that writes the variable, which reads the variable itself and marks the copy stale.
#[test]
fn a_variables_product_reads_its_copy_in_panels_unless_the_fetch_writes_it() {
    let file = expand_ok(quote! {
        mod held {
            let W = tf.Variable(tf.random_uniform([40, 16], -1.0, 1.0));
            let x = tf.placeholder(tf.float32, [7, 40]);
            let t = tf.placeholder(tf.float32, [7, 16]);
            let y = tf.nn.relu(tf.matmul(x, W) + 0.5);
            let loss = tf.reduce_sum(tf.square(tf.matmul(x, W) - t));
            let train = tf.train.GradientDescentOptimizer(0.01).minimize(loss);
        }
    });
    let text = file.to_token_stream().to_string();
    assert!(text.contains("struct __Panels"), "{text}");
    assert!(text.contains("fn variables_mut (& mut self) -> & mut Variables { self . panels . stale () ;"), "{text}");
    let y = run_body(&file, "y");
    assert_eq!(y.matches("__private :: matmul_copied (").count(), 1, "{y}");
    assert_eq!(y.matches(". panels (16 , 40 ,").count(), 1, "{y}");
    assert!(!y.contains("stale ()"), "{y}");
    let train = run_body(&file, "train");
    assert!(train.contains("__session . panels . v"), "{train}");
    assert!(train.contains(". stale () ;"), "{train}");
    assert!(!train.contains("matmul_copied"), "{train}");
}

/// The digits CNN's training step computes its filter's gradient through tfcore's kernel, over
/// the stored gradient of the convolution's output (its element-by-element code had found each
/// term's indices and padding anew, weight by weight).
#[test]
fn a_filters_gradient_goes_through_its_kernel() {
    let body = run_body(&graph_in("../examples/digits/net.rs"), "train_step");
    assert_eq!(body.matches("conv2d_filter_gradient (").count(), 1, "{body}");
}

/// Poolings of windows of eight taps or more go through tfcore's pooling kernels, which keep a
/// vector of channels side by side: keyword spotting's and ResNet-8's average pooling, fed a
/// batch of fixed size or of run-time size. The digits CNN's 2 × 2 max pooling is written out
/// element by element.
///
/// Each model's flattening of the pooled tensor is then a copy of the kernel's buffer, which
/// the dense layer reads by lines.
#[test]
fn poolings_go_through_the_pooling_kernels() {
    for file in ["kws.rs", "resnet8.rs"] {
        let text = model(file).to_token_stream().to_string();
        let body = run_body(&model(file), "probs");
        assert_eq!(body.matches("__private :: avg_pool2d (").count(), 1, "{file}: {body}");
        // The flattening after it is stored, and the dense layer reads it by lines.
        assert_eq!(body.matches("__private :: dot (").count(), 1, "{file}: {body}");
        let body = fetch_body(&text, "for probs < XBatch >");
        assert_eq!(body.matches("__private :: avg_pool2d (").count(), 1, "{file}: {body}");
    }
    let body = run_body(&graph_in("../examples/digits/net.rs"), "train_step");
    assert!(!body.contains("__private :: max_pool2d ("), "{body}");
}

/// A fetched value that is a chain of elementwise ops over a convolution or a pooling (one
/// layer's `relu(conv2d(x, f) + b)`) has the kernel compute into the caller's value and the chain
/// written over it there, as a product's: not the window's sums element by element. Fed a batch
/// of run-time size, the kernel computes into the session's workspace; a fetched value reading
/// it otherwise reads it from a buffer.
#[test]
fn a_fetched_chain_over_a_window_kernel_is_written_over_its_output() {
    let file = expand_ok(quote! {
        mod layer {
            let x = tf.placeholder(tf.float32, [None, 32, 32, 16]);
            let K = tf.Variable(tf.random_uniform([3, 3, 16, 16], -1.0, 1.0));
            let b = tf.Variable(tf.zeros([16]));
            let y = tf.nn.relu(tf.nn.conv2d(x, K, strides = [1, 1, 1, 1], padding = "SAME") + b);
            let p = tf.nn.relu(tf.nn.avg_pool(x, ksize = [1, 3, 3, 1], strides = 1, padding = "SAME") - 0.5);
            let pooled = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, K, strides = 1, padding = "SAME") + b), ksize = 2, strides = 2, padding = "VALID");
            let summed = tf.reduce_sum(tf.nn.conv2d(x, K, strides = 1, padding = "SAME"), axis = 3);
        }
    });
    // Read by the fetched value otherwise (a pooling, a sum): from a buffer the kernel fills.
    for fetch in ["pooled", "summed"] {
        let body = run_body(&file, fetch);
        assert!(body.contains("conv2d_plain (") && !body.contains("in_order"), "{body}");
    }
    for (fetch, kernel) in [("y", "conv2d_plain ("), ("p", "avg_pool2d (")] {
        let body = run_body(&file, fetch);
        assert!(body.contains("fn run_into") && body.contains(kernel), "{body}");
        assert!(body.contains(&format!("__v_{fetch} . as_mut_slice ())")), "{body}");
        assert!(!body.contains("in_order") && !body.contains("fill4"), "{body}");
    }
    let text = file.to_token_stream().to_string();
    for (fetch, kernel) in [("y", "conv2d_plain ("), ("p", "avg_pool2d (")] {
        let body = fetch_body(&text, &format!("for {fetch} < XBatch >"));
        assert!(body.contains(kernel) && body.contains("& mut __f0 ["), "{body}");
        assert!(!body.contains("in_order"), "{body}");
    }
}

/// A product the fetched value reads, in a fetch of run-time size (a `DMatrix` or an ndarray
/// array fed), goes through the matrix kernel into the session's workspace: not a sum or a dot
/// product per element of the value.
#[test]
fn a_fetched_product_of_a_run_time_batch_goes_through_the_matrix_kernel() {
    let text = expand_ok(quote! {
        mod dense {
            let x = tf.placeholder(tf.float32, [None, 784]);
            let W = tf.Variable(tf.random_uniform([784, 128], -1.0, 1.0));
            let b = tf.Variable(tf.zeros([128]));
            let y = tf.nn.relu(tf.matmul(x, W) + b);
            let p = tf.nn.softmax(tf.matmul(x, W) + b);
        }
    })
    .to_token_stream()
    .to_string();
    for fetch in ["y", "p"] {
        for fed in [":: tfcore :: __private :: Matrix <", ":: tfcore :: ndarray :: ArrayBase <"] {
            let body = fetch_body(&text, &format!("for {fetch} < & 'a {fed}"));
            assert!(body.contains("__private :: matmul"), "{body}");
            assert!(!body.contains("__private :: sum (") && !body.contains("__private :: dot ("), "{body}");
        }
    }
}

/// The seed's spelling of the MLP's loss (`uint8` labels, `tf.one_hot`, `tf.log` of the softmax,
/// summed, negated, averaged: `benches/mlp.rs`) trains with the code of the fused
/// `softmax_cross_entropy_with_logits_v2` (`examples/models/mlp.rs`): statement for statement
/// the same training step, but for the labels' read (an index compared, where the fused loss
/// reads a float) and where the loss's sign is applied to its gradient.
#[test]
fn the_seeds_spelling_of_a_loss_trains_as_the_fused_loss_does() {
    let fused = run_body(&model("mlp.rs"), "train_step");
    let text = std::fs::read_to_string("../benches/mlp.rs").expect("the benchmark's file");
    let start = text.find("tfcore::graph! {").expect("the seed's graph") + "tfcore::".len();
    let file: syn::File = syn::parse_str(&text[start..]).expect("parses");
    let Some(syn::Item::Macro(m)) = file.items.first() else { panic!("expected `graph! {{ ... }}`") };
    let seed = run_body(&expand_ok(m.mac.tokens.clone()), "train_step");
    // The temporaries' numbers differ (the seed's graph has more nodes before the fold).
    let statements = |body: &str| -> Vec<String> { unnumbered(body).split(" ; ").map(str::to_string).collect() };
    let (fused, seed) = (statements(&fused), statements(&seed));
    assert_eq!(fused.len(), seed.len(), "{fused:#?}\n{seed:#?}");
    let differ: Vec<(&String, &String)> = fused.iter().zip(&seed).filter(|(a, b)| a != b).collect();
    assert_eq!(differ.len(), 3, "{differ:#?}");
    assert!(differ.iter().any(|(_, s)| s.contains("if (__v_Y [__i]) as i64 == __j as i64")), "{differ:#?}");
    assert!(differ.iter().all(|(f, s)| !f.contains("matmul") && !s.contains("matmul")), "{differ:#?}");
}

/// `body` with every `__t` temporary's number dropped.
fn unnumbered(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("__t") {
        out.push_str(&rest[..at + 3]);
        rest = rest[at + 3..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}
