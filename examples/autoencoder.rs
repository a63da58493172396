//! MLPerf Tiny's anomaly detector (a dense autoencoder over 640 log-mel values) with its 265,864
//! trained weights, read from `tests/data/models/autoencoder/weights.npz` when the example
//! compiles: the anomaly score (the mean squared error of the reconstruction) of the benchmark's
//! sample input and of the seven other inputs of `tests/data/models/autoencoder/inputs.npy`.
//!
//! ```text
//! cargo run --release --example autoencoder
//! ```

use std::process::ExitCode;
use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;

include!("models/autoencoder.rs");

fn main() -> ExitCode {
    let inputs = match Npy::parse(include_bytes!("../tests/data/models/autoencoder/inputs.npy"))
        .and_then(|a| a.to_vec::<f32>())
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("autoencoder: tests/data/models/autoencoder/inputs.npy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut sess = autoencoder::Session::new();
    for (n, frames) in inputs.chunks_exact(640).enumerate() {
        let x: SMatrix<f32, 1, 640> = SMatrix::from_row_slice(frames);
        let reconstruction = sess.run(autoencoder::fc9 { x: &x });
        let score = (reconstruction - x).map(|d| d * d).mean();
        let what = if n == 0 { "the benchmark's sample" } else { "a random input" };
        println!("input {n} ({what}): anomaly score {score:.4}");
    }
    ExitCode::SUCCESS
}
