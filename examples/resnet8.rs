//! MLPerf Tiny's image classifier (ResNet-8 on CIFAR-10) with its trained weights, read from
//! `tests/data/models/resnet8/weights.npz` when the example compiles: what it says about the
//! benchmark's sample image and the seven other inputs of `tests/data/models/resnet8/inputs.npy`.
//!
//! ```text
//! cargo run --release --example resnet8
//! ```

use std::process::ExitCode;
use tfcore::npy::Npy;
use tfcore::Array4;

include!("models/resnet8.rs");

const CLASSES: [&str; 10] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

fn main() -> ExitCode {
    let inputs =
        match Npy::parse(include_bytes!("../tests/data/models/resnet8/inputs.npy")).and_then(|a| a.to_vec::<f32>()) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("resnet8: tests/data/models/resnet8/inputs.npy: {e}");
                return ExitCode::FAILURE;
            }
        };
    let mut sess = resnet8::Session::new();
    for (n, image) in inputs.chunks_exact(32 * 32 * 3).enumerate() {
        let x: Array4<f32, 1, 32, 32, 3> = Array4::from_fn(|_, h, w, c| image[(h * 32 + w) * 3 + c]);
        let probs = sess.run(resnet8::probs { x: &x });
        let (class, p) = probs.transpose().argmax();
        let what = if n == 0 { "the benchmark's sample" } else { "a random input" };
        println!("input {n} ({what}): {} with probability {p:.2}", CLASSES[class]);
    }
    ExitCode::SUCCESS
}
