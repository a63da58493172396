//! The digits CNN of `examples/digits/`: one Adam step on a batch of 32 images (forward,
//! backward, update), the classification of one image in a statically sized `Array4`, and the
//! classification of batches of run-time size (`DArrayView4`: 1, 32 and 1,000 images, reported as
//! images per second), as the example classifies its held-out fifth.
//!
//! ```text
//! cargo bench --bench digits
//! ```
//!
//! Every iteration of the step starts from the same weights and optimiser state (a clone of one
//! session), so that training does not move the work under the measurement.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tfcore::nalgebra::SVector;
use tfcore::npy::Npz;
use tfcore::{Array4, DArrayView4};

include!("../examples/digits/net.rs");

const BATCH: usize = 32;

fn bench(c: &mut Criterion) {
    let data = Npz::parse(include_bytes!("../tests/data/digits.npz")).expect("tests/data/digits.npz reads");
    let pixels = data.get("images").and_then(|a| a.to_vec::<u8>()).expect("images");
    let labels = data.get("labels").and_then(|a| a.to_vec::<u8>()).expect("labels");
    let x: Array4<f32, BATCH, 8, 8, 1> = Array4::from_fn(|n, h, w, _| f32::from(pixels[n * 64 + h * 8 + w]) / 16.0);
    let y: SVector<u8, BATCH> = SVector::from_fn(|n, _| labels[n]);
    let one: Array4<f32, 1, 8, 8, 1> = Array4::from_fn(|_, h, w, _| f32::from(pixels[h * 8 + w]) / 16.0);

    let mut trained = digits::Session::with_seed(1);
    for _ in 0..10 {
        trained.run(digits::train_step { X: &x, Y: &y });
    }
    let mut group = c.benchmark_group("digits");
    group.bench_function("train_step_32", |b| {
        b.iter_batched_ref(
            || trained.clone(),
            |sess| sess.run(digits::train_step { X: black_box(&x), Y: black_box(&y) }),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("classify_one", |b| b.iter(|| trained.run(digits::logits { X: black_box(&one) })));
    group.finish();

    // The first 1,000 images, fed as batches of run-time size.
    let scaled: Vec<f32> = pixels[..1000 * 64].iter().map(|&p| f32::from(p) / 16.0).collect();
    let mut group = c.benchmark_group("digits_batch");
    for n in [1usize, 32, 1000] {
        let batch = DArrayView4::from_slice([n, 8, 8, 1], &scaled[..n * 64]).expect("n images");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("classify_{n}"), |b| {
            b.iter(|| trained.run(digits::logits { X: black_box(batch) }).expect("fits"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
