//! The seed's circle classifier: a network with one hidden layer learns which points of
//! [-1, 1]² lie inside the circle x² + y² < 0.5, trained by gradient descent with gradients the
//! `graph!` macro derived at compile time.
//!
//! ```text
//! cargo run --release --example circle
//! cargo run --release --example circle -- --help
//! cargo run --release --example circle -- --points 1000000 --batch-size 1000 --epochs 20
//! ```
//!
//! The points are a `DMatrix` (any number of them, or the rows of a CSV file) fed to the
//! placeholder `X`, whose `[None, 2]` shape takes matrices of run-time size; mini-batches are
//! views of its rows, not copies.

use plotters::prelude::*;
use rand::{RngExt, SeedableRng};
use std::path::PathBuf;
use std::process::ExitCode;
use tfcore::graph;
use tfcore::nalgebra::{DMatrix, DVector};

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

/// The map of the learned region: this many columns and rows, classified in one run.
const MAP_WIDTH: usize = 60;
const MAP_HEIGHT: usize = 24;
const MAP_POINTS: usize = MAP_WIDTH * MAP_HEIGHT;

/// The picture's region panel: this many pixels a side, classified in runs of one row.
const PICTURE_SIDE: usize = 400;

#[derive(Debug)]
struct Options {
    points: usize,
    data: Option<PathBuf>,
    batch_size: Option<usize>,
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
  --points N          random training points [default: 1000]
  --data FILE.csv     train on the rows `x,y,label` of a CSV file instead (label 0 or 1;
                      a first line `x,y,label` is a header)
  --batch-size B      train by mini-batches of B points, shuffled every epoch
                      [default: the whole training set, one step per epoch]
  --epochs N          passes over the training set [default: 10000]
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
        data: None,
        batch_size: None,
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
            "--data" => options.data = Some(PathBuf::from(value)),
            "--batch-size" => match value.parse() {
                Ok(b) if b > 0 => options.batch_size = Some(b),
                _ => return Err(invalid("a positive number")),
            },
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
    if options.points == 0 {
        return Err("--points 0: there is nothing to train on".to_string());
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
    match train(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `n` random points of [-1, 1]² and whether each is inside the circle, as the seed makes them.
fn training_set(n: usize, seed: u64) -> (DMatrix<f32>, DVector<u8>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let random_spots = DMatrix::<f32>::from_fn(n, 2, |_, _| rng.random::<f32>() * 2.0 - 1.0);
    let is_inside_circle = DVector::<u8>::from_fn(n, |i, _| {
        let (x, y) = (random_spots[(i, 0)], random_spots[(i, 1)]);
        u8::from(x * x + y * y < CIRCLE_RADIUS)
    });
    (random_spots, is_inside_circle)
}

/// The rows `x,y,label` of the CSV file at `path`, read with the `csv` crate: every record a
/// point, or an error naming the line and what is wrong with it (no record is skipped but a first
/// one `x,y,label`; blank lines are not records).
fn read_csv(path: &std::path::Path) -> Result<(DMatrix<f32>, DVector<u8>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (mut points, mut labels) = (Vec::new(), Vec::new());
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
        let line = record.position().map_or(k as u64 + 1, csv::Position::line);
        let at = |what: String| format!("{}:{line}: {what}", path.display());
        let fields: Vec<&str> = record.iter().collect();
        if k == 0 && fields == ["x", "y", "label"] {
            continue;
        }
        let [x, y, label] = fields[..] else {
            let written = fields.join(",");
            return Err(at(format!("expected 3 fields `x,y,label`, found {}: `{written}`", fields.len())));
        };
        let coordinate = |name: &str, text: &str| match text.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(at(format!("{name} `{text}` is not a finite number"))),
        };
        points.push([coordinate("x", x)?, coordinate("y", y)?]);
        labels.push(match label {
            "0" => 0,
            "1" => 1,
            _ => return Err(at(format!("label `{label}` is not 0 or 1"))),
        });
    }
    if points.is_empty() {
        return Err(format!("{}: no rows `x,y,label`", path.display()));
    }
    Ok((DMatrix::from_fn(points.len(), 2, |i, j| points[i][j]), DVector::from_vec(labels)))
}

/// Shuffles the rows of `x` and `y` together (Fisher–Yates), in place.
fn shuffle(x: &mut DMatrix<f32>, y: &mut DVector<u8>, rng: &mut rand::rngs::StdRng) {
    for i in (1..x.nrows()).rev() {
        let j = rng.random_range(0..=i);
        x.swap_rows(i, j);
        y.swap_rows(i, j);
    }
}

/// A run of a fetch fed the shapes `train` builds, which cannot fail.
fn fed<T>(result: Result<T, tfcore::FeedError>) -> Result<T, String> {
    result.map_err(|e| e.to_string())
}

fn train(options: &Options) -> Result<(), String> {
    let (mut x, mut y) = match &options.data {
        Some(path) => read_csv(path)?,
        None => training_set(options.points, options.seed),
    };
    let n = x.nrows();
    let mut shuffler = rand::rngs::StdRng::seed_from_u64(options.seed ^ 0x5eed);
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
    let batch = options.batch_size.unwrap_or(n).min(n);
    println!(
        "Training on {n} points ({} inside the circle) for {} epochs at learning rate {}{}",
        y.iter().filter(|&&label| label == 1).count(),
        options.epochs,
        options.learning_rate,
        if batch < n { format!(", in mini-batches of {batch}") } else { String::new() }
    );
    let learning_rate = options.learning_rate;
    let every = if batch < n { 1 } else { 100 };
    for i in 0..options.epochs {
        let loss = fed(sess.run(circle::loss { X: &x, Y: &y }))?;
        losses.push(loss);
        if i % every == 0 {
            println!("Loss after {i} runs: {loss:.6}");
        }
        if batch < n {
            shuffle(&mut x, &mut y, &mut shuffler);
            for start in (0..n).step_by(batch) {
                let len = batch.min(n - start);
                let (bx, by) = (x.rows(start, len), y.rows(start, len));
                fed(sess.run(circle::train_step { X: &bx, Y: &by, learning_rate }))?;
            }
        } else {
            fed(sess.run(circle::train_step { X: &x, Y: &y, learning_rate }))?;
        }
    }
    let final_loss = fed(sess.run(circle::loss { X: &x, Y: &y }))?;
    losses.push(final_loss);
    println!("Final loss after {} runs: {final_loss:.6}", options.epochs);

    let one_one = sess.run(circle::output_layer { X: &tfcore::nalgebra::matrix![1.0, 1.0] });
    let zero_zero = sess.run(circle::output_layer { X: &tfcore::nalgebra::matrix![0.0, 0.0] });
    println!("Output for [1, 1]: {} (hopefully close to [1, 0]: outside)", tfcore::display(&one_one.transpose()));
    println!("Output for [0, 0]: {} (hopefully close to [0, 1]: inside)", tfcore::display(&zero_zero.transpose()));

    let output = fed(sess.run(circle::output_layer { X: &x }))?;
    let correct = (0..n).filter(|&i| inside(&output, i) == (y[i] == 1)).count();
    let accuracy = correct as f64 / n as f64;
    println!("Training accuracy: {accuracy:.3} ({correct} of {n} points)");

    if let Some(path) = &options.save_checkpoint {
        let json = serde_json::to_string_pretty(sess.variables()).map_err(|e| e.to_string())?;
        write_file(path, &json)?;
        println!("Checkpoint written to {}", path.display());
    }
    if let Some(path) = &options.export_weights {
        let header = format!(
            "// The seed's circle classifier, trained by `cargo run --release --example circle -- --points {n} --epochs {} \
             --learning-rate {} --seed {}`:\n// training accuracy {accuracy:.3}. Written by `Variables::to_rust_const`.\n",
            options.epochs, options.learning_rate, options.seed
        );
        write_file(path, &(header + &sess.variables().to_rust_const("TRAINED").to_string()))?;
        println!("Weights written as Rust source to {}", path.display());
    }

    print_map(&mut sess)?;
    draw_picture(&mut sess, &x, &y, &losses, &options.picture)?;
    println!(
        "Picture: {} (left: the learned region, darker inside, with the true circle and the training points, \
         misclassified ones crossed; right: the loss per epoch on a log axis)",
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
fn inside(output: &DMatrix<f32>, i: usize) -> bool {
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
fn print_map(sess: &mut circle::Session) -> Result<(), String> {
    let grid = DMatrix::<f32>::from_fn(MAP_POINTS, 2, |k, j| {
        let (x, y) = cell(k % MAP_WIDTH, k / MAP_WIDTH, MAP_WIDTH, MAP_HEIGHT);
        if j == 0 {
            x
        } else {
            y
        }
    });
    let output = fed(sess.run(circle::output_layer { X: &grid }))?;
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
    Ok(())
}

#[path = "shared/pictures.rs"]
mod pictures;

/// A PNG with a title and two labelled charts: on the left the probability of "inside" over
/// [-1, 1]² (dark inside), the true circle, and the training points, inside, outside and
/// misclassified, with a legend; on the right the loss per epoch on a log axis.
fn draw_picture(
    sess: &mut circle::Session,
    x: &DMatrix<f32>,
    y: &DVector<u8>,
    losses: &[f32],
    path: &std::path::Path,
) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    pictures::register_font()?;
    let side = PICTURE_SIDE as u32;
    let root = BitMapBackend::new(path, (2 * side + 260, side + 150)).into_drawing_area();
    let error = |e: DrawingAreaErrorKind<_>| format!("cannot draw {}: {e:?}", path.display());
    root.fill(&WHITE).map_err(error)?;
    let root =
        root.titled("The seed's circle classifier: what it learned, and how", ("sans-serif", 24)).map_err(error)?;
    let (left, right) = root.split_horizontally(side + 110);

    // The learned region: the probability of "inside" at each pixel, the true circle, the points.
    let mut map = ChartBuilder::on(&left)
        .caption("Learned region (darker: more likely inside)", ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-1f32..1f32, -1f32..1f32)
        .map_err(error)?;
    map.configure_mesh()
        .disable_mesh()
        .x_desc("x")
        .y_desc("y")
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(error)?;
    let cells = PICTURE_SIDE / 4;
    let step = 2.0 / cells as f32;
    let mut shades = Vec::with_capacity(cells * cells);
    for row in 0..cells {
        let points = DMatrix::<f32>::from_fn(cells, 2, |column, j| {
            let (px, py) = cell(column, row, cells, cells);
            if j == 0 {
                px
            } else {
                py
            }
        });
        let output = fed(sess.run(circle::output_layer { X: &points }))?;
        for column in 0..cells {
            let (px, py) = cell(column, row, cells, cells);
            let shade = (255.0 * output[(column, 1)]) as u8;
            let colour = RGBColor(255 - shade / 2, 255 - shade / 2, 255 - shade / 4);
            let corner = (px - step / 2.0, py + step / 2.0);
            shades.push(Rectangle::new([corner, (corner.0 + step, corner.1 - step)], colour.filled()));
        }
    }
    map.draw_series(shades).map_err(error)?;
    let r = CIRCLE_RADIUS.sqrt();
    let edge = (0..=360).map(|degree| {
        let angle = (degree as f32).to_radians();
        (r * angle.cos(), r * angle.sin())
    });
    map.draw_series(LineSeries::new(edge, RED.stroke_width(2)))
        .map_err(error)?
        .label("true circle")
        .legend(|(px, py)| PathElement::new(vec![(px, py), (px + 16, py)], RED.stroke_width(2)));
    let predicted = fed(sess.run(circle::output_layer { X: x }))?;
    let point = |i: usize| (x[(i, 0)], x[(i, 1)]);
    let wrong = |i: usize| u8::from(predicted[(i, 1)] > predicted[(i, 0)]) != y[i];
    let inside: Vec<usize> = (0..x.nrows()).filter(|&i| y[i] == 1 && !wrong(i)).collect();
    let outside: Vec<usize> = (0..x.nrows()).filter(|&i| y[i] == 0 && !wrong(i)).collect();
    let missed: Vec<usize> = (0..x.nrows()).filter(|&i| wrong(i)).collect();
    let green = RGBColor(0, 140, 60);
    map.draw_series(inside.iter().map(|&i| Circle::new(point(i), 2, green.filled())))
        .map_err(error)?
        .label(format!("inside, label 1 ({})", inside.len()))
        .legend(move |(px, py)| Circle::new((px + 8, py), 3, green.filled()));
    map.draw_series(outside.iter().map(|&i| Circle::new(point(i), 2, BLACK.filled())))
        .map_err(error)?
        .label(format!("outside, label 0 ({})", outside.len()))
        .legend(|(px, py)| Circle::new((px + 8, py), 3, BLACK.filled()));
    map.draw_series(missed.iter().map(|&i| Cross::new(point(i), 4, MAGENTA.stroke_width(2))))
        .map_err(error)?
        .label(format!("misclassified ({})", missed.len()))
        .legend(|(px, py)| Cross::new((px + 8, py), 4, MAGENTA.stroke_width(2)));
    map.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.95))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(error)?;

    // The loss per epoch, on a log axis.
    pictures::loss_chart(&right, losses, "Loss per epoch (the sum over all points)", "loss (log scale)", false)
        .map_err(error)?;
    root.present().map_err(error)
}
