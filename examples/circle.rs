//! The seed's circle classifier: a network with one hidden layer learns which points of
//! [-1, 1]² lie inside the circle x² + y² < 0.5, trained by gradient descent with gradients the
//! `graph!` macro derived at compile time.
//!
//! ```text
//! cargo run --release --example circle
//! cargo run --release --example circle -- --help
//! ```

use plotters::prelude::*;
use rand::{RngExt, SeedableRng};
use std::path::PathBuf;
use std::process::ExitCode;
use tfcore::graph;
use tfcore::nalgebra::{SMatrix, SVector};

graph! {
    /// The seed's neural network, line for line. One line differs: the learning rate is a
    /// placeholder fed at each step (`GradientDescentOptimizer` takes a tensor as TensorFlow's
    /// does), so that `--learning-rate` can set it; `LEARNING_RATE` is its default.
    pub mod circle {
        const INPUT_LAYER_SIZE: usize = 2;
        const HIDDEN_LAYER_SIZE: usize = 3;
        const OUTPUT_LAYER_SIZE: usize = 2;
        const LEARNING_RATE: f32 = 0.002;

        // Starting values for weights and biases are drawn randomly and uniformly from [-1, 1]
        let W1 = tf.Variable(tf.random_uniform([INPUT_LAYER_SIZE, HIDDEN_LAYER_SIZE], -1, 1));
        let b1 = tf.Variable(tf.random_uniform([HIDDEN_LAYER_SIZE], -1, 1));
        let W2 = tf.Variable(tf.random_uniform([HIDDEN_LAYER_SIZE, OUTPUT_LAYER_SIZE], -1, 1));
        let b2 = tf.Variable(tf.random_uniform([OUTPUT_LAYER_SIZE], -1, 1));
        // Specifying that the placeholder X can expect a matrix of 2 columns (but any number of
        // rows) representing random spots
        let X = tf.placeholder(tf.float32, [None, INPUT_LAYER_SIZE]);
        // Placeholder Y can expect integers representing whether corresponding point is in the
        // circle or not (no shape specified)
        let Y = tf.placeholder(tf.uint8);
        // An op to convert to a one hot vector
        let onehot_output = tf.one_hot(Y, OUTPUT_LAYER_SIZE);
        // Op to perform matrix calculation X*W1 + b1
        let hidden_layer = tf.add(tf.matmul(X, W1), b1);
        // Use sigmoid activation function on the outcome
        let activated_hidden_layer = tf.sigmoid(hidden_layer);
        // Apply next weights and bias (W2, b2) to hidden layer and then apply softmax function
        // to get our output layer (each vector adding up to 1)
        let output_layer = tf.nn.softmax(tf.add(tf.matmul(activated_hidden_layer, W2), b2));
        // Calculate cross entropy for our loss function
        let loss = -tf.reduce_sum(onehot_output * tf.log(output_layer));
        // Use gradient descent optimizer at specified learning rate to minimize value given by
        // loss tensor
        let learning_rate = tf.placeholder(tf.float32, []);
        let train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss);
    }
}

/// The squared radius of the seed's circle: a point is inside if x² + y² < 0.5.
const CIRCLE_RADIUS: f32 = 0.5;

/// The training set sizes this example is compiled for: a size is the const generic of the
/// placeholder `X`'s `None` dimension, so each one is its own monomorphisation.
const POINT_COUNTS: [usize; 7] = [64, 100, 250, 500, 1000, 2000, 4000];

/// The map of the learned region: this many columns and rows, classified in one run.
const MAP_WIDTH: usize = 60;
const MAP_HEIGHT: usize = 24;
const MAP_POINTS: usize = MAP_WIDTH * MAP_HEIGHT;

/// The picture's region panel: this many pixels a side, classified in runs of one row.
const PICTURE_SIDE: usize = 400;

#[derive(Debug)]
struct Options {
    points: usize,
    epochs: usize,
    learning_rate: f32,
    seed: u64,
    picture: PathBuf,
    export_weights: Option<PathBuf>,
    save_checkpoint: Option<PathBuf>,
    load_checkpoint: Option<PathBuf>,
}

const HELP: &str = "\
The seed's circle classifier: learns which points of [-1, 1]² lie inside x² + y² < 0.5.

Usage: cargo run --release --example circle -- [OPTIONS]

Options:
  --points N          training points, one of 64, 100, 250, 500, 1000, 2000, 4000
                      (compiled-in sizes: a feed's row count is a const generic) [default: 1000]
  --epochs N          full-batch gradient-descent steps [default: 10000]
  --learning-rate LR  the optimiser's learning rate [default: circle::LEARNING_RATE = 0.002]
  --seed N            seed of the training points and of the initial weights [default: 1]
  --picture PATH      where to write the PNG of the learned region and the loss curve
                      [default: target/circle.png]
  --export-weights PATH
                      write the trained weights as Rust source, `pub const TRAINED:
                      circle::Variables = ...;`, for firmware to include (see firmware/)
  --save-checkpoint PATH
                      write the trained weights as JSON
  --load-checkpoint PATH
                      start from weights saved with --save-checkpoint instead of random ones
                      (with `--epochs 0`, only evaluate them)
  -h, --help          print this help";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        points: 1000,
        epochs: 10000,
        learning_rate: circle::LEARNING_RATE,
        seed: 1,
        picture: PathBuf::from("target/circle.png"),
        export_weights: None,
        save_checkpoint: None,
        load_checkpoint: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{HELP}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let invalid = |what: &str| format!("`{flag} {value}`: expected {what}");
        match flag.as_str() {
            "--points" => options.points = value.parse().map_err(|_| invalid("a number"))?,
            "--epochs" => options.epochs = value.parse().map_err(|_| invalid("a number"))?,
            "--learning-rate" => {
                options.learning_rate = value.parse().map_err(|_| invalid("a number"))?;
                if !(options.learning_rate > 0.0 && options.learning_rate.is_finite()) {
                    return Err(invalid("a positive number"));
                }
            }
            "--seed" => options.seed = value.parse().map_err(|_| invalid("a number"))?,
            "--picture" => options.picture = PathBuf::from(value),
            "--export-weights" => options.export_weights = Some(PathBuf::from(value)),
            "--save-checkpoint" => options.save_checkpoint = Some(PathBuf::from(value)),
            "--load-checkpoint" => options.load_checkpoint = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option `{flag}` (see --help)")),
        }
    }
    if !POINT_COUNTS.contains(&options.points) {
        return Err(format!("--points {}: this example is compiled for {:?} points", options.points, POINT_COUNTS));
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    // The training step keeps the whole batch on the stack: give it room.
    let run = std::thread::Builder::new().stack_size(64 << 20).spawn(move || match options.points {
        64 => train::<64>(&options),
        100 => train::<100>(&options),
        250 => train::<250>(&options),
        500 => train::<500>(&options),
        1000 => train::<1000>(&options),
        2000 => train::<2000>(&options),
        _ => train::<4000>(&options),
    });
    match run.map(|handle| handle.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(message))) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
        _ => {
            eprintln!("error: the training thread failed");
            ExitCode::FAILURE
        }
    }
}

/// `n` random points of [-1, 1]² and whether each is inside the circle, as the seed makes them.
fn training_set<const N: usize>(seed: u64) -> (Box<SMatrix<f32, N, 2>>, Box<SVector<u8, N>>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let random_spots = Box::new(SMatrix::<f32, N, 2>::from_fn(|_, _| rng.random::<f32>() * 2.0 - 1.0));
    let is_inside_circle = Box::new(SVector::<u8, N>::from_fn(|i, _| {
        let (x, y) = (random_spots[(i, 0)], random_spots[(i, 1)]);
        u8::from(x * x + y * y < CIRCLE_RADIUS)
    }));
    (random_spots, is_inside_circle)
}

fn train<const N: usize>(options: &Options) -> Result<(), String> {
    let (random_spots, is_inside_circle) = training_set::<N>(options.seed);
    let (x, y) = (&*random_spots, &*is_inside_circle);
    let mut sess = match &options.load_checkpoint {
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let variables =
                serde_json::from_str(&json).map_err(|e| format!("{} is not a checkpoint: {e}", path.display()))?;
            println!("Starting from the checkpoint {}", path.display());
            circle::Session::from_variables(variables)
        }
        None => circle::Session::with_seed(options.seed),
    };
    let mut losses = Vec::with_capacity(options.epochs + 1);
    println!(
        "Training on {N} points ({} inside the circle) for {} epochs at learning rate {}",
        y.iter().filter(|&&label| label == 1).count(),
        options.epochs,
        options.learning_rate
    );
    for i in 0..options.epochs {
        let loss = sess.run(circle::loss { X: x, Y: y });
        losses.push(loss);
        if i % 100 == 0 {
            println!("Loss after {i} runs: {loss:.6}");
        }
        sess.run(circle::train_step { X: x, Y: y, learning_rate: options.learning_rate });
    }
    let final_loss = sess.run(circle::loss { X: x, Y: y });
    losses.push(final_loss);
    println!("Final loss after {} runs: {final_loss:.6}", options.epochs);

    let one_one = sess.run(circle::output_layer { X: &tfcore::nalgebra::matrix![1.0, 1.0] });
    let zero_zero = sess.run(circle::output_layer { X: &tfcore::nalgebra::matrix![0.0, 0.0] });
    println!("Output for [1, 1]: {} (hopefully close to [1, 0]: outside)", tfcore::display(&one_one.transpose()));
    println!("Output for [0, 0]: {} (hopefully close to [0, 1]: inside)", tfcore::display(&zero_zero.transpose()));

    let output = sess.run(circle::output_layer { X: x });
    let correct = (0..N).filter(|&i| inside(&output, i) == (y[i] == 1)).count();
    let accuracy = correct as f64 / N as f64;
    println!("Training accuracy: {accuracy:.3} ({correct} of {N} points)");

    if let Some(path) = &options.save_checkpoint {
        let json = serde_json::to_string_pretty(sess.variables()).map_err(|e| e.to_string())?;
        write_file(path, &json)?;
        println!("Checkpoint written to {}", path.display());
    }
    if let Some(path) = &options.export_weights {
        let header = format!(
            "// The seed's circle classifier, trained by `cargo run --release --example circle -- --points {N} --epochs {} \
             --learning-rate {} --seed {}`:\n// training accuracy {accuracy:.3}. Written by `Variables::to_rust_const`.\n",
            options.epochs, options.learning_rate, options.seed
        );
        write_file(path, &(header + &sess.variables().to_rust_const("TRAINED").to_string()))?;
        println!("Weights written as Rust source to {}", path.display());
    }

    print_map(&mut sess);
    draw_picture(&mut sess, x, y, &losses, &options.picture)?;
    println!(
        "Picture: {} (left: the learned region, dark inside, the true circle in red, training points white inside \
         and black outside; right: the loss per epoch, log scale, grey lines at powers of ten)",
        options.picture.display()
    );
    Ok(())
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The seed's rule: a point is outside if the first output is greater than 0.5, inside otherwise.
fn inside<const R: usize>(output: &SMatrix<f32, R, 2>, i: usize) -> bool {
    output[(i, 0)] <= 0.5
}

/// The centre of cell `(column, row)` of a grid of `width × height` cells over [-1, 1]².
fn cell(column: usize, row: usize, width: usize, height: usize) -> (f32, f32) {
    let x = -1.0 + (column as f32 + 0.5) * 2.0 / width as f32;
    let y = 1.0 - (row as f32 + 0.5) * 2.0 / height as f32;
    (x, y)
}

/// Runs `output_layer` for a grid of points and prints what the network learned: `#` inside,
/// `.` outside, `!` where that disagrees with the true circle.
fn print_map(sess: &mut circle::Session) {
    let grid = Box::new(SMatrix::<f32, MAP_POINTS, 2>::from_fn(|k, j| {
        let (x, y) = cell(k % MAP_WIDTH, k / MAP_WIDTH, MAP_WIDTH, MAP_HEIGHT);
        if j == 0 {
            x
        } else {
            y
        }
    }));
    let output = sess.run(circle::output_layer { X: &*grid });
    println!("\nWhat the network learned over [-1, 1]² ('#' inside, '.' outside, '!' where it disagrees with the true circle):");
    for row in 0..MAP_HEIGHT {
        let line: String = (0..MAP_WIDTH)
            .map(|column| {
                let (x, y) = cell(column, row, MAP_WIDTH, MAP_HEIGHT);
                let learned = inside(&output, row * MAP_WIDTH + column);
                match (learned, x * x + y * y < CIRCLE_RADIUS) {
                    (true, true) => '#',
                    (false, false) => '.',
                    _ => '!',
                }
            })
            .collect();
        println!("  {line}");
    }
    println!();
}

/// A PNG: on the left the probability of "inside" over [-1, 1]² (dark inside), the true circle in
/// red and the training points (white inside, black outside); on the right the loss curve, on a
/// log scale with a grey line at each power of ten.
fn draw_picture<const N: usize>(
    sess: &mut circle::Session,
    x: &SMatrix<f32, N, 2>,
    y: &SVector<u8, N>,
    losses: &[f32],
    path: &std::path::Path,
) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let side = PICTURE_SIDE as i32;
    let root = BitMapBackend::new(path, (2 * PICTURE_SIDE as u32 + 30, PICTURE_SIDE as u32 + 20)).into_drawing_area();
    let error = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e:?}", path.display());
    root.fill(&WHITE).map_err(error)?;
    let origin = (10, 10);
    let to_pixel = |px: f32, py: f32| {
        (origin.0 + ((px + 1.0) / 2.0 * side as f32) as i32, origin.1 + ((1.0 - py) / 2.0 * side as f32) as i32)
    };
    for row in 0..PICTURE_SIDE {
        let points = SMatrix::<f32, PICTURE_SIDE, 2>::from_fn(|column, j| {
            let (px, py) = cell(column, row, PICTURE_SIDE, PICTURE_SIDE);
            if j == 0 {
                px
            } else {
                py
            }
        });
        let output = sess.run(circle::output_layer { X: &points });
        for column in 0..PICTURE_SIDE {
            let shade = (255.0 * output[(column, 0)]) as u8;
            let colour = RGBColor(shade / 2 + 100, shade / 2 + 110, shade / 3 + 170);
            root.draw_pixel((origin.0 + column as i32, origin.1 + row as i32), &colour).map_err(error)?;
        }
    }
    let circle_edge: Vec<(i32, i32)> = (0..=360)
        .map(|degree| {
            let angle = (degree as f32).to_radians();
            let r = CIRCLE_RADIUS.sqrt();
            to_pixel(r * angle.cos(), r * angle.sin())
        })
        .collect();
    root.draw(&PathElement::new(circle_edge, RED.stroke_width(2))).map_err(error)?;
    for i in 0..N {
        let colour = if y[i] == 1 { WHITE } else { BLACK };
        root.draw(&Circle::new(to_pixel(x[(i, 0)], x[(i, 1)]), 2, colour.filled())).map_err(error)?;
    }

    // The loss curve on a log scale between its smallest and largest value, a grey line at each
    // power of ten.
    let left = origin.0 + side + 10;
    root.draw(&Rectangle::new([(left, origin.1), (left + side, origin.1 + side)], BLACK.stroke_width(1)))
        .map_err(error)?;
    let logs: Vec<f32> = losses.iter().map(|loss| loss.max(f32::MIN_POSITIVE).log10()).collect();
    let (low, high) = logs.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    let span = (high - low).max(f32::EPSILON);
    let height = |log: f32| origin.1 + side - ((log - low) / span * (side - 4) as f32) as i32 - 2;
    for decade in (low.ceil() as i32)..=(high.floor() as i32) {
        let py = height(decade as f32);
        root.draw(&PathElement::new(vec![(left, py), (left + side, py)], RGBColor(200, 200, 200))).map_err(error)?;
    }
    let curve: Vec<(i32, i32)> = logs
        .iter()
        .enumerate()
        .map(|(i, &log)| (left + (i as f32 / (logs.len().max(2) - 1) as f32 * side as f32) as i32, height(log)))
        .collect();
    root.draw(&PathElement::new(curve, BLUE.stroke_width(2))).map_err(error)?;
    root.present().map_err(error)
}
