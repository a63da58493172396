//! MLPerf Tiny's keyword spotting model (DS-CNN) with its trained weights, read from
//! `tests/data/models/kws/weights.npz` when the example compiles: what it says about the
//! benchmark's sample input and the seven other inputs of `tests/data/models/kws/inputs.npy`.
//!
//! ```text
//! cargo run --release --example kws
//! ```

use std::process::ExitCode;
use tfcore::npy::Npy;
use tfcore::Array4;

include!("models/kws.rs");

const WORDS: [&str; 12] = ["Down", "Go", "Left", "No", "Off", "On", "Right", "Stop", "Up", "Yes", "Silence", "Unknown"];

fn main() -> ExitCode {
    let inputs = match Npy::parse(include_bytes!("../tests/data/models/kws/inputs.npy")).and_then(|a| a.to_vec::<f32>())
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("kws: tests/data/models/kws/inputs.npy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut sess = keyword_spotting::Session::new();
    for (n, features) in inputs.chunks_exact(49 * 10).enumerate() {
        let x: Array4<f32, 1, 49, 10, 1> = Array4::from_fn(|_, t, k, _| features[t * 10 + k]);
        let probs = sess.run(keyword_spotting::probs { x: &x });
        let (class, p) = probs.transpose().argmax();
        let what = if n == 0 { "the benchmark's sample" } else { "a random input" };
        println!("input {n} ({what}): \"{}\" with probability {p:.5}", WORDS[class]);
    }
    ExitCode::SUCCESS
}
