//! Graphs written as ONNX by `Session::to_onnx`, run in tract (a real ONNX engine), against
//! `Session::run` within 1e-5 (relative to the largest output): the seed's circle classifier with
//! trained weights, and the three MLPerf Tiny models written by hand.

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;
use tract_onnx::prelude::*;

include!("../../examples/models/kws.rs");
include!("../../examples/models/resnet8.rs");
include!("../../examples/models/autoencoder.rs");

include!("../../examples/models/circle.rs");

/// The firmware's trained circle weights.
mod trained {
    use super::circle;
    include!("../../firmware/src/trained.rs");
}

/// Runs `model` in tract on one input of `shape`; its one output, row-major.
fn tract_run(model: &[u8], shape: &[usize], input: &[f32]) -> Vec<f32> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &model[..])
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract loads the model: {e:?}"));
    let input = Tensor::from_shape(shape, input).expect("the input's shape");
    let outputs = model.run(tvec!(input.into())).unwrap_or_else(|e| panic!("tract runs the model: {e:?}"));
    outputs[0].to_plain_array_view::<f32>().expect("float32").iter().copied().collect()
}

/// The largest difference of `got` from `want`, relative to `want`'s largest element.
fn difference(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max) / scale
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    Npy::parse(bytes).and_then(|a| a.to_vec::<f32>()).expect("a float32 .npy")
}

#[test]
fn the_trained_circle_classifier_runs_in_tract() {
    let mut sess = circle::Session::from_variables(trained::TRAINED);
    let model = sess.to_onnx("output_layer").expect("written");
    let points = [[0.1f32, 0.2], [0.9, -0.8], [-1.2, 0.3], [0.0, 1.1], [0.5, 0.5]];
    let x = SMatrix::<f32, 5, 2>::from_fn(|i, j| points[i][j]);
    let want: Vec<f32> = sess.run(circle::output_layer { X: &x }).transpose().iter().copied().collect();
    let got = tract_run(&model, &[5, 2], &points.concat());
    let d = difference(&got, &want);
    println!("circle: {d:e}");
    assert!(d <= 1e-5, "circle: {d:e}");
    // A training step is not a value.
    assert!(sess.to_onnx("train_step").is_err());
}

#[test]
fn the_mlperf_models_run_in_tract() {
    let kws_in = floats(include_bytes!("../../tests/data/models/kws/inputs.npy"));
    let resnet_in = floats(include_bytes!("../../tests/data/models/resnet8/inputs.npy"));
    let auto_in = floats(include_bytes!("../../tests/data/models/autoencoder/inputs.npy"));
    // `Session::run`'s output (row-major) and the written model, on one input of `shape`.
    let compare = |model: &str, n: usize, shape: &[usize], x: &[f32], want: Vec<f32>, written: Vec<u8>| {
        let d = difference(&tract_run(&written, shape, x), &want);
        println!("{model}, input {n}: {d:e}");
        assert!(d <= 1e-5, "{model}: {d:e}");
    };
    for n in [0, 5] {
        let mut kws = keyword_spotting::Session::new();
        let x = &kws_in[n * 490..(n + 1) * 490];
        let want = kws
            .run(keyword_spotting::probs { x: &Array4::<f32, 1, 49, 10, 1>::from_slice(x).expect("[1, 49, 10, 1]") })
            .iter()
            .copied()
            .collect();
        compare("kws", n, &[1, 49, 10, 1], x, want, kws.to_onnx("probs").unwrap());

        let mut resnet = resnet8::Session::new();
        let x = &resnet_in[n * 3072..(n + 1) * 3072];
        let want = resnet
            .run(resnet8::probs { x: &Array4::<f32, 1, 32, 32, 3>::from_slice(x).expect("[1, 32, 32, 3]") })
            .iter()
            .copied()
            .collect();
        compare("resnet8", n, &[1, 32, 32, 3], x, want, resnet.to_onnx("probs").unwrap());

        let mut auto = autoencoder::Session::new();
        let x = &auto_in[n * 640..(n + 1) * 640];
        let want =
            auto.run(autoencoder::fc9 { x: &SMatrix::<f32, 1, 640>::from_row_slice(x) }).iter().copied().collect();
        compare("autoencoder", n, &[1, 640], x, want, auto.to_onnx("fc9").unwrap());
    }
}

// The round trip: the models `to_onnx` wrote, committed to `tests/data/onnx/` (the test below
// checks that they are what `to_onnx` writes today; `TFGRAPH_BLESS=1` rewrites them), imported
// back with `onnx.load`, give the hand-written graphs' outputs bit for bit.
tfcore::graph! {
    pub mod kws_round_trip {
        let x = tf.placeholder(tf.float32, [None, 49, 10, 1]);
        let probs = onnx.load("tests/data/onnx/kws_exported.onnx", x = x);
    }
}

tfcore::graph! {
    pub mod circle_round_trip {
        let X = tf.placeholder(tf.float32, [None, 2]);
        let output_layer = onnx.load("tests/data/onnx/circle_exported.onnx", X = X);
    }
}

#[test]
fn exported_models_import_back_to_the_same_bits() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/onnx");
    let written = [
        ("kws_exported.onnx", keyword_spotting::Session::new().to_onnx("probs").unwrap()),
        ("circle_exported.onnx", circle::Session::from_variables(trained::TRAINED).to_onnx("output_layer").unwrap()),
    ];
    for (file, bytes) in &written {
        if std::env::var_os("TFGRAPH_BLESS").is_some() {
            std::fs::write(root.join(file), bytes).unwrap();
        }
        let committed = std::fs::read(root.join(file)).unwrap();
        assert!(committed == *bytes, "{file} is not what `to_onnx` writes now: rerun with TFGRAPH_BLESS=1");
    }
    let kws_in = floats(include_bytes!("../../tests/data/models/kws/inputs.npy"));
    let (mut hand, mut imported) = (keyword_spotting::Session::new(), kws_round_trip::Session::new());
    for n in 0..8 {
        let x = Array4::<f32, 1, 49, 10, 1>::from_slice(&kws_in[n * 490..(n + 1) * 490]).unwrap();
        let (a, b) = (hand.run(keyword_spotting::probs { x: &x }), imported.run(kws_round_trip::probs { x: &x }));
        assert!(a.iter().zip(b.iter()).all(|(a, b)| a.to_bits() == b.to_bits()), "kws, input {n}: {a} vs {b}");
    }
    let (mut hand, mut imported) =
        (circle::Session::from_variables(trained::TRAINED), circle_round_trip::Session::new());
    let x = SMatrix::<f32, 4, 2>::new(0.1, 0.2, 0.9, -0.8, -1.2, 0.3, 0.0, 1.1);
    let (a, b) = (hand.run(circle::output_layer { X: &x }), imported.run(circle_round_trip::output_layer { X: &x }));
    assert!(a.iter().zip(b.iter()).all(|(a, b)| a.to_bits() == b.to_bits()), "circle: {a} vs {b}");
}

tfcore::graph! {
    /// Every op of the language that computes a value, in one graph; each fetch is written as
    /// ONNX and run in tract.
    pub mod every_op {
        let x = tf.placeholder(tf.float32, [2, 5, 5, 3]);
        let m = tf.placeholder(tf.float32, [4, 3]);
        let labels = tf.placeholder(tf.int32, [4]);
        let filter = tf.Variable(tf.random_uniform([3, 3, 3, 4], -1, 1));
        let depthwise = tf.Variable(tf.random_uniform([3, 3, 3, 2], -1, 1));
        let bias = tf.Variable(tf.random_uniform([4], -1, 1));
        let w = tf.Variable(tf.random_uniform([3, 5], -1, 1));
        let conv = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, filter, strides = [1, 2, 2, 1], padding = "SAME"), bias));
        let dilated = tf.nn.relu6(tf.nn.conv2d(x, filter, strides = 1, padding = "VALID", dilations = [1, 2, 2, 1]));
        let dw = tf.nn.depthwise_conv2d(x, depthwise, strides = [1, 1, 1, 1], padding = "SAME");
        let max_pool = tf.nn.max_pool(dw, ksize = [1, 3, 3, 1], strides = [1, 2, 2, 1], padding = "SAME");
        let avg_pool = tf.nn.avg_pool(dw, ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "SAME");
        let padded = tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]], constant_values = 0.5);
        let joined = tf.concat([conv, tf.reduce_max(conv, axis = 3, keepdims = True)], 3);
        let normalized = tf.nn.batch_normalization(x, 0.1, 2.0, 0.3, 1.5, 0.001);
        let flat = tf.reshape(avg_pool, [2, -1]);
        let permuted = tf.transpose(x, perm = [0, 3, 1, 2]);
        let squeezed = tf.squeeze(tf.expand_dims(m, 0), axis = 0);
        let elementwise = tf.exp(-tf.abs(m)) + tf.log(tf.square(m) + 1.0) * tf.sqrt(tf.abs(m)) - tf.math.rsqrt(tf.abs(m) + 1.0) / tf.sigmoid(m) + tf.tanh(m);
        let compared = tf.cast(m > 0.2, tf.float32) + tf.cast(m <= -0.1, tf.float32) * 2.0 + tf.cast(tf.not_equal(m, m * 2.0), tf.float32) + tf.cast(tf.equal(tf.greater_equal(m, 0.0), tf.less(m, 0.5)), tf.float32);
        let selected = tf.where(m > 0.0, m, tf.negative(m) * 3.0);
        let product = tf.matmul(m, w) + tf.matmul(tf.transpose(m), w, transpose_a = True) - tf.matmul(m, tf.transpose(w), transpose_b = True);
        let probs = tf.nn.softmax(product);
        let log_probs = tf.nn.log_softmax(product);
        let one_hot = tf.one_hot(labels, 5, on_value = 2.0, off_value = -1.0);
        let loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels = one_hot, logits = product);
        let sums = tf.reduce_sum(m, axis = 1) + tf.reduce_mean(m, axis = 1) + tf.reduce_max(m, axis = 1);
        let mean_all = tf.reduce_mean(x);
        let kept = tf.stop_gradient(tf.identity(m)) * 2.0;
    }
}

#[test]
fn every_op_runs_in_tract() {
    let mut sess = every_op::Session::with_seed(5);
    let xs: Vec<f32> = (0..150).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
    let ms: Vec<f32> = (0..12).map(|i| ((i * 7 % 13) as f32 / 6.0) - 1.0).collect();
    let x = Array4::<f32, 2, 5, 5, 3>::from_slice(&xs).unwrap();
    let m = SMatrix::<f32, 4, 3>::from_row_slice(&ms);
    let labels = tfcore::nalgebra::SVector::<i32, 4>::new(0, 4, -1, 2);
    macro_rules! check {
        ($($name:ident { $($feed:ident: $value:expr),* }),* $(,)?) => {$({
            let want: Vec<f32> = row_major(&sess.run(every_op::$name { $($feed: $value),* }));
            let model = sess.to_onnx(stringify!($name)).unwrap_or_else(|e| panic!("{e}"));
            let got = tract_run_all(&model, &[(&[2, 5, 5, 3], &xs), (&[4, 3], &ms)], &[0, 4, -1, 2]);
            let d = difference(&got, &want);
            println!("{}: {d:e}", stringify!($name));
            assert!(d <= 1e-5, "{}: {d:e}\n{got:?}\n{want:?}", stringify!($name));
        })*};
    }
    check!(
        conv { x: &x },
        dilated { x: &x },
        dw { x: &x },
        max_pool { x: &x },
        avg_pool { x: &x },
        padded { x: &x },
        joined { x: &x },
        normalized { x: &x },
        flat { x: &x },
        permuted { x: &x },
        mean_all { x: &x },
        squeezed { m: &m },
        elementwise { m: &m },
        compared { m: &m },
        selected { m: &m },
        product { m: &m },
        probs { m: &m },
        log_probs { m: &m },
        sums { m: &m },
        kept { m: &m },
        one_hot { labels: &labels },
        loss { m: &m, labels: &labels },
    );
}

/// A fetched value's elements in row-major order, whatever its rank.
fn row_major(value: &dyn RowMajor) -> Vec<f32> {
    value.row_major()
}

trait RowMajor {
    fn row_major(&self) -> Vec<f32>;
}

impl RowMajor for f32 {
    fn row_major(&self) -> Vec<f32> {
        vec![*self]
    }
}

impl<const R: usize, const C: usize> RowMajor for SMatrix<f32, R, C> {
    fn row_major(&self) -> Vec<f32> {
        self.transpose().iter().copied().collect()
    }
}

impl<const A: usize, const B: usize, const C: usize, const D: usize> RowMajor for Array4<f32, A, B, C, D> {
    fn row_major(&self) -> Vec<f32> {
        self.as_slice().to_vec()
    }
}

/// Runs `model` in tract, each input it declares fed by name: `x` and `m` from `floats`, `labels`.
fn tract_run_all(model: &[u8], floats: &[(&[usize], &[f32])], labels: &[i32]) -> Vec<f32> {
    let model = tract_onnx::onnx().model_for_read(&mut &model[..]).unwrap_or_else(|e| panic!("tract reads it: {e:?}"));
    let mut inputs = TVec::new();
    for outlet in &model.inputs {
        let tensor = match model.node(outlet.node).name.as_str() {
            "x" => Tensor::from_shape(floats[0].0, floats[0].1),
            "m" => Tensor::from_shape(floats[1].0, floats[1].1),
            "labels" => Tensor::from_shape(&[labels.len()], labels),
            other => panic!("an input `{other}`"),
        };
        inputs.push(tensor.expect("the input's shape").into());
    }
    let model =
        model.into_optimized().and_then(|m| m.into_runnable()).unwrap_or_else(|e| panic!("tract optimises it: {e:?}"));
    let outputs = model.run(inputs).unwrap_or_else(|e| panic!("tract runs it: {e:?}"));
    outputs[0].to_plain_array_view::<f32>().expect("float32").iter().copied().collect()
}

#[test]
fn a_fetch_s_model_holds_only_what_the_fetch_reads() {
    // The macro writes one model of every fetch; `to_onnx` cuts it to the fetch asked for.
    let mut sess = every_op::Session::with_seed(5);
    let graph = |sess: &every_op::Session, fetch: &str| {
        let bytes = sess.to_onnx(fetch).unwrap_or_else(|e| panic!("{e}"));
        let model = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]).expect("an ONNX model");
        let graph = model.graph.expect("a graph");
        let names =
            |values: &[tract_onnx::pb::ValueInfoProto]| values.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
        let initializers: Vec<String> = graph.initializer.iter().map(|i| i.name.clone()).collect();
        (names(&graph.input), names(&graph.output), initializers, graph.node.len(), bytes)
    };
    let (inputs, outputs, initializers, _, _) = graph(&sess, "conv");
    assert_eq!((inputs, outputs), (vec!["x".to_string()], vec!["conv".to_string()]));
    for variable in ["filter", "bias"] {
        assert!(initializers.iter().any(|i| i == variable), "conv reads `{variable}`: {initializers:?}");
    }
    for variable in ["depthwise", "w"] {
        assert!(!initializers.iter().any(|i| i == variable), "conv does not read `{variable}`: {initializers:?}");
    }
    let (inputs, outputs, initializers, _, _) = graph(&sess, "squeezed");
    assert_eq!((inputs, outputs), (vec!["m".to_string()], vec!["squeezed".to_string()]));
    assert!(
        initializers.iter().all(|i| !["filter", "bias", "depthwise", "w"].contains(&i.as_str())),
        "{initializers:?}"
    );
    // A fetch of a variable is its initializer, with no node; of a placeholder, its input.
    let (inputs, outputs, initializers, nodes, bytes) = graph(&sess, "w");
    assert_eq!((inputs.len(), outputs, initializers, nodes), (0, vec!["w".to_string()], vec!["w".to_string()], 0));
    let want = row_major(&sess.run(every_op::w {}));
    assert_eq!(tract_run_all(&bytes, &[], &[]), want);
    let (inputs, outputs, _, nodes, _) = graph(&sess, "m");
    assert_eq!((inputs, outputs, nodes), (vec!["m".to_string()], vec!["m".to_string()], 0));
}
