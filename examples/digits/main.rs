//! A convolutional network trained from scratch on scikit-learn's 1,797 handwritten digits (8 × 8
//! pixels, `tests/data/digits.npz`): every fifth image is held out, the rest train the graph of
//! `net.rs` (convolution, max pooling, a dense layer, softmax cross entropy, Adam) in batches of
//! 32 with the gradients `graph!` derived at compile time; the held-out fifth is classified in one
//! run, fed as one batch of run-time size.
//!
//! ```text
//! cargo run --release --example digits
//! cargo run --release --example digits -- --epochs 30 --seed 2
//! ```

use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::process::ExitCode;
use tfcore::nalgebra::SVector;
use tfcore::npy::Npz;
use tfcore::{Array4, DArrayView4};

include!("net.rs");

mod picture;

/// Images per training step.
const BATCH: usize = 32;

/// The data set, copied from `../shared/data/digits.npz`.
const DIGITS: &[u8] = include_bytes!("../../tests/data/digits.npz");

struct Options {
    epochs: usize,
    seed: u64,
    picture: std::path::PathBuf,
}

const HELP: &str = "\
usage: digits [--epochs N] [--seed S] [--picture FILE.png]

Trains a small CNN on the 8 x 8 digits and reports its accuracy on the held-out fifth.

  --epochs N   passes over the training images (default 15)
  --seed S     seed of the initial weights and of the batches' order (default 1)
  --picture F  where to write the picture (default target/digits.png)
  -h, --help   print this help";

fn parse_options() -> Result<Options, String> {
    let mut options = Options { epochs: 15, seed: 1, picture: "target/digits.png".into() };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{HELP}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("`{flag}` takes a whole number, not `{value}`"));
        match flag.as_str() {
            "--epochs" => options.epochs = number()? as usize,
            "--seed" => options.seed = number()?,
            "--picture" => options.picture = value.into(),
            _ => return Err(format!("unknown option `{flag}` (see --help)")),
        }
    }
    Ok(options)
}

/// The images (pixels scaled from 0..=16 to [0, 1]) and their digits.
struct Data {
    images: Vec<[f32; 64]>,
    labels: Vec<u8>,
}

fn load() -> Result<Data, String> {
    let npz = Npz::parse(DIGITS).map_err(|e| format!("tests/data/digits.npz: {e}"))?;
    let pixels = npz.get("images").and_then(|a| a.to_vec::<u8>()).map_err(|e| format!("images: {e}"))?;
    let labels = npz.get("labels").and_then(|a| a.to_vec::<u8>()).map_err(|e| format!("labels: {e}"))?;
    if pixels.len() != labels.len() * 64 {
        return Err(format!("{} labels for {} pixels", labels.len(), pixels.len()));
    }
    let images = pixels.chunks_exact(64).map(|p| core::array::from_fn(|k| f32::from(p[k]) / 16.0)).collect();
    Ok(Data { images, labels })
}

/// The digit the network gives each of `indices`, all of them in one run: the images as one
/// batch of run-time size (`[None, 8, 8, 1]` fed a `DArrayView4`).
fn predict(sess: &mut digits::Session, data: &Data, indices: &[usize]) -> Result<Vec<usize>, String> {
    let pixels: Vec<f32> = indices.iter().flat_map(|&i| data.images[i]).collect();
    let batch = DArrayView4::from_slice([indices.len(), 8, 8, 1], &pixels).ok_or("64 pixels an image")?;
    let logits = sess.run(digits::logits { X: batch }).map_err(|e| e.to_string())?;
    Ok((0..indices.len()).map(|n| logits.row(n).transpose().argmax().0).collect())
}

/// The fraction of `indices` whose `predicted` digit is their label.
fn accuracy(data: &Data, indices: &[usize], predicted: &[usize]) -> f64 {
    let right = indices.iter().zip(predicted).filter(|&(&i, &p)| p == usize::from(data.labels[i])).count();
    right as f64 / indices.len() as f64
}

fn main() -> ExitCode {
    match parse_options().and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("digits: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let data = load()?;
    let (test, mut train): (Vec<usize>, Vec<usize>) = (0..data.labels.len()).partition(|i| i % 5 == 4);
    println!("{} training images, {} held out; batches of {BATCH}", train.len(), test.len());

    let mut sess = digits::Session::with_seed(options.seed);
    let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
    let mut losses = Vec::with_capacity(options.epochs);
    for epoch in 1..=options.epochs {
        train.shuffle(&mut rng);
        let mut total = 0.0;
        let batches = train.len() / BATCH;
        for batch in train.chunks_exact(BATCH) {
            let x: Array4<f32, BATCH, 8, 8, 1> = Array4::from_fn(|n, h, w, _| data.images[batch[n]][h * 8 + w]);
            let y: SVector<u8, BATCH> = SVector::from_fn(|n, _| data.labels[batch[n]]);
            total += sess.run(digits::loss { X: &x, Y: &y });
            sess.run(digits::train_step { X: &x, Y: &y });
        }
        losses.push(total / batches as f32);
        let held_out = accuracy(&data, &test, &predict(&mut sess, &data, &test)?);
        println!("epoch {epoch:>3}: mean loss {:.4}, held-out accuracy {:.2}%", losses[epoch - 1], held_out * 100.0);
    }
    let train_accuracy = accuracy(&data, &train, &predict(&mut sess, &data, &train)?);
    let predicted = predict(&mut sess, &data, &test)?;
    let test_accuracy = accuracy(&data, &test, &predicted);
    println!("training accuracy {:.2}%, held-out accuracy {:.2}%", train_accuracy * 100.0, test_accuracy * 100.0);
    let held_out: Vec<picture::Digit> = test
        .iter()
        .zip(&predicted)
        .map(|(&i, &p)| picture::Digit { pixels: data.images[i], label: usize::from(data.labels[i]), predicted: p })
        .collect();
    picture::draw(&options.picture, &losses, &held_out)?;
    println!(
        "Picture: {} (the loss per epoch, the held-out confusion matrix, the misclassified held-out digits)",
        options.picture.display()
    );
    Ok(())
}
