//! The MLPerf Tiny int8 models (`examples/models/int8.rs`, imported with `tflite.load`) at batch
//! 1, one criterion group, for the ratio to TensorFlow Lite's int8 interpreter on the same files:
//!
//! ```text
//! cargo bench --bench int8
//! python3 tools/tflite_int8.py      # TFLite (XNNPACK, one thread) on the same files, right after
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tfcore::nalgebra::SMatrix;
use tfcore::npy::Npy;
use tfcore::Array4;

include!("../examples/models/int8.rs");

/// The first of a model's quantised inputs.
fn first(npy: &[u8]) -> Vec<i8> {
    let a = Npy::parse(npy).expect("inputs_int8.npy");
    let per = a.shape()[1..].iter().product();
    a.to_vec::<i8>().expect("int8")[..per].to_vec()
}

fn int8_batch_1(c: &mut Criterion) {
    let mut group = c.benchmark_group("int8, batch 1");
    let x: Array4<i8, 1, 49, 10, 1> =
        Array4::from_slice(&first(include_bytes!("../tests/data/models/kws/inputs_int8.npy"))).expect("[1, 49, 10, 1]");
    let mut sess = kws_int8::Session::new();
    group.bench_function("keyword spotting", |b| b.iter(|| sess.run(kws_int8::probs { x: black_box(&x) })));
    let x: Array4<i8, 1, 32, 32, 3> =
        Array4::from_slice(&first(include_bytes!("../tests/data/models/resnet8/inputs_int8.npy")))
            .expect("[1, 32, 32, 3]");
    let mut sess = resnet8_int8::Session::new();
    group.bench_function("ResNet-8", |b| b.iter(|| sess.run(resnet8_int8::probs { x: black_box(&x) })));
    let x = SMatrix::<i8, 1, 640>::from_row_slice(&first(include_bytes!(
        "../tests/data/models/autoencoder/inputs_int8.npy"
    )));
    let mut sess = autoencoder_int8::Session::new();
    group.bench_function("autoencoder", |b| b.iter(|| sess.run(autoencoder_int8::decoded { input_1: black_box(&x) })));
    group.finish();
}

criterion_group!(benches, int8_batch_1);
criterion_main!(benches);
