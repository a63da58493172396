//! Feeds of run-time size (issue 9): the seed's circle classifier's training step fed a `DMatrix`
//! beside the same step fed an `SMatrix` at 1000 points, and fed `DMatrix`es of 10³ to 10⁶ rows
//! (criterion reports the time per row: `Throughput::Elements`).
//!
//! ```text
//! cargo bench --bench feeds
//! ```
//!
//! Every iteration starts from the same weights (a session built from them), so that training's
//! own course does not differ between contenders.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use tfcore::nalgebra::{DMatrix, DVector, SMatrix, SVector};

include!("../examples/models/circle.rs");

/// `n` random points of [-1, 1]² and their labels (inside x² + y² < 0.5).
fn points(n: usize) -> (DMatrix<f32>, DVector<u8>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let x = DMatrix::<f32>::from_fn(n, 2, |_, _| rng.random::<f32>() * 2.0 - 1.0);
    let y = DVector::<u8>::from_fn(n, |i, _| u8::from(x[(i, 0)] * x[(i, 0)] + x[(i, 1)] * x[(i, 1)] < 0.5));
    (x, y)
}

fn static_and_dynamic(c: &mut Criterion) {
    const N: usize = 1000;
    let (x, y) = points(N);
    let xs = SMatrix::<f32, N, 2>::from_fn(|i, j| x[(i, j)]);
    let ys = SVector::<u8, N>::from_fn(|i, _| y[i]);
    let start = *circle::Session::new().variables();
    let mut group = c.benchmark_group("step_1000");
    let mut sess = circle::Session::from_variables(start);
    group.bench_function("SMatrix", |b| {
        b.iter(|| {
            *sess.variables_mut() = start;
            sess.run(circle::train_step { X: black_box(&xs), Y: black_box(&ys) })
        })
    });
    let mut sess = circle::Session::from_variables(start);
    group.bench_function("DMatrix", |b| {
        b.iter(|| {
            *sess.variables_mut() = start;
            sess.run(circle::train_step { X: black_box(&x), Y: black_box(&y) }).unwrap()
        })
    });
    group.finish();
}

fn rows(c: &mut Criterion) {
    let mut group = c.benchmark_group("rows");
    group.sample_size(10);
    for n in [1_000, 10_000, 100_000, 1_000_000] {
        let (x, y) = points(n);
        let start = *circle::Session::new().variables();
        let mut sess = circle::Session::from_variables(start);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("train_step", n), &n, |b, _| {
            b.iter(|| {
                *sess.variables_mut() = start;
                sess.run(circle::train_step { X: black_box(&x), Y: black_box(&y) }).unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("output_layer", n), &n, |b, _| {
            b.iter(|| sess.run(circle::output_layer { X: black_box(&x) }).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, static_and_dynamic, rows);
criterion_main!(benches);
