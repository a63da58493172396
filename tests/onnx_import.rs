//! `onnx.load` beyond the MLPerf Tiny models (`tests/mlperf.rs`): every operator the import
//! supports against ONNX Runtime, and an imported model fine-tuned.

use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

fn floats(bytes: &[u8], what: &str) -> Vec<f32> {
    Npy::parse(bytes).and_then(|a| a.to_vec::<f32>()).unwrap_or_else(|e| panic!("{what}: {e}"))
}

tfcore::graph! {
    /// `tools/onnx_fixtures.py`'s network over every operator the import supports, NCHW as a
    /// PyTorch export is; two of its values fetched by name.
    pub mod ops {
        let x = tf.placeholder(tf.float32, [None, 3, 6, 6]);
        let probs = onnx.load("tests/data/onnx/ops.onnx", x = x)["probs"];
        let features = onnx.load("tests/data/onnx/ops.onnx", x = x)["features"];
    }
}

#[test]
fn every_supported_operator_matches_onnx_runtime() {
    let x = floats(include_bytes!("data/onnx/ops_inputs.npy"), "ops_inputs.npy");
    let x: Array4<f32, 4, 3, 6, 6> = Array4::from_slice(&x).expect("[4, 3, 6, 6]");
    let mut sess = ops::Session::new();
    for (name, got, want) in [
        // nalgebra iterates column by column; NumPy's files are row by row.
        (
            "probs",
            sess.run(ops::probs { x: &x }).transpose().iter().copied().collect::<Vec<_>>(),
            &include_bytes!("data/onnx/ops_probs.npy")[..],
        ),
        (
            "features",
            sess.run(ops::features { x: &x }).transpose().iter().copied().collect(),
            &include_bytes!("data/onnx/ops_features.npy")[..],
        ),
    ] {
        let want = floats(want, name);
        assert_eq!(got.len(), want.len(), "{name}");
        let scale = want.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let d = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max) / scale;
        println!("{name} vs ONNX Runtime: {d:e}");
        assert!(d <= 1e-5, "{name}: {d:e} from ONNX Runtime's output (relative to its largest)");
    }
}

tfcore::graph! {
    /// The autoencoder imported with `trainable = True`: its weights are variables, and a
    /// hand-written loss and optimiser fine-tune them.
    pub mod fine_tune {
        let x = tf.placeholder(tf.float32, [None, 640]);
        let decoded = onnx.load("tests/data/models/autoencoder/model.onnx", input_1 = x, trainable = True);
        let loss = tf.reduce_mean(tf.square(decoded - x));
        let step = tf.train.AdamOptimizer(0.00001).minimize(loss);
    }
}

// The session holds 265,864 weights and Adam's two moments for each, inline (3.2 MB), and an
// unoptimised build copies it: a thread with room for that (the issue on dynamic shapes is about
// moving such state off the stack).
tfcore::graph! {
    /// A model in the form `torch.onnx.export` writes (`tools/onnx_fixtures.py`): NCHW input
    /// `input` with a symbolic batch, flattened by `x.view(x.size(0), -1)`. Not fed, the input is
    /// the module's placeholder `input`.
    pub mod pytorch_style {
        let logits = onnx.load("tests/data/onnx/pytorch_style.onnx");
        let probs = tf.nn.softmax(logits);
    }
}

#[test]
fn a_pytorch_export_matches_onnx_runtime() {
    let images = floats(include_bytes!("data/onnx/pytorch_style_inputs.npy"), "pytorch_style_inputs.npy");
    let want = floats(include_bytes!("data/onnx/pytorch_style_logits.npy"), "pytorch_style_logits.npy");
    let input: Array4<f32, 3, 1, 8, 8> = Array4::from_slice(&images).expect("[3, 1, 8, 8]");
    let mut sess = pytorch_style::Session::new();
    let got: Vec<f32> = sess.run(pytorch_style::logits { input: &input }).transpose().iter().copied().collect();
    let scale = want.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    let d = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max) / scale;
    println!("pytorch-style logits vs ONNX Runtime: {d:e}");
    assert!(d <= 1e-5, "{d:e}");
    let probs = sess.run(pytorch_style::probs { input: &input });
    assert!((probs.row(0).sum() - 1.0).abs() < 1e-6);
}

tfcore::graph! {
    /// The same model with constant weights.
    pub mod autoencoder {
        let x = tf.placeholder(tf.float32, [None, 640]);
        let decoded = onnx.load("tests/data/models/autoencoder/model.onnx", input_1 = x);
    }
}

#[test]
fn an_imported_model_can_be_fine_tuned() {
    let run = std::thread::Builder::new().stack_size(256 << 20).spawn(fine_tune_the_autoencoder).expect("a thread");
    run.join().expect("fine-tuning");
}

fn fine_tune_the_autoencoder() {
    let inputs = floats(include_bytes!("data/models/autoencoder/inputs.npy"), "inputs.npy");
    let x = SMatrix::<f32, 8, 640>::from_row_slice(&inputs);
    let mut constant = autoencoder::Session::new();
    let mut sess = fine_tune::Session::new();
    // Before training, the variables hold the file's weights: the outputs are the constant
    // import's, bit for bit.
    let (a, b) = (constant.run(autoencoder::decoded { x: &x }), sess.run(fine_tune::decoded { x: &x }));
    assert!(a.iter().zip(b.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
    // The weights are the module's variables, named after their ONNX initializers.
    let kernel = sess.variables().const_fold_opt__61;
    assert_eq!((kernel.nrows(), kernel.ncols()), (640, 128));
    let first = sess.run(fine_tune::loss { x: &x });
    for _ in 0..20 {
        sess.run(fine_tune::step { x: &x });
    }
    let last = sess.run(fine_tune::loss { x: &x });
    println!("fine-tuning the imported autoencoder: loss {first} -> {last} in 20 Adam steps");
    assert!(last < first * 0.99, "{first} -> {last}");
    // The tuned weights go out as ONNX.
    assert!(sess.to_onnx("decoded").is_ok_and(|model| model.len() > 4 * 265_864));
}
