//! Where the tiled matrix kernel starts to pay: `tfcore::__private::matmul` beside one
//! `tfcore::__private::dot` per element (the code `graph!` emits for a product under its
//! threshold), on `m × k` by `k × n` products of contiguous lines, in one criterion group per
//! size, so that the crossover comes from one run on one machine. The two give the same bits
//! (checked before timing). Then where copying `b` into panels pays (`PANELS_BELOW`): the tiles
//! beside `matmul_via_panels` on 784 × 128 outputs (the MLP's weight gradient) of 16 to 192 terms.
//! Then `matmul` alone on products of 0.5 to 17 million multiply-adds, for the `parallel`
//! feature's threads (run with it, and again under `RAYON_NUM_THREADS=1`).
//!
//! ```text
//! cargo bench --bench products
//! cargo bench --bench products --features parallel -- threads_
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tfcore::__private::{dot, matmul, matmul_via_panels, Lines, PACKED_LINES};

/// One product both ways: `(m, n, k)`, `a`'s rows and `b`'s columns contiguous, `c` column-major.
fn bench_size(c: &mut Criterion, (m, n, k): (usize, usize, usize)) {
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01).collect();
    let b: Vec<f32> = (0..n * k).map(|i| ((i * 53 % 97) as f32 - 48.0) * 0.02).collect();
    let mut tiled = vec![0.0f32; m * n];
    let mut by_dot = vec![0.0f32; m * n];
    let lines = |data| Lines { data, line_step: k, step: 1 };
    matmul(m, n, k, lines(&a), lines(&b), &mut tiled, 1, m, &mut []);
    for j in 0..n {
        for i in 0..m {
            by_dot[i + j * m] = dot(k, &a, i * k, 1, &b, j * k, 1);
        }
    }
    assert!(tiled.iter().zip(&by_dot).all(|(x, y)| x.to_bits() == y.to_bits()), "the two disagree at {m}x{n}x{k}");

    let mut group = c.benchmark_group(format!("product_{m}x{n}x{k}_{}", m * n * k));
    group.bench_function("tiled", |bench| {
        bench.iter(|| matmul(m, n, k, lines(black_box(&a)), lines(black_box(&b)), &mut tiled, 1, m, &mut []))
    });
    group.bench_function("dot_per_element", |bench| {
        bench.iter(|| {
            let (a, b) = (black_box(&a), black_box(&b));
            for j in 0..n {
                for i in 0..m {
                    by_dot[i + j * m] = dot(k, a, i * k, 1, b, j * k, 1);
                }
            }
            black_box(&by_dot);
        })
    });
    group.finish();
}

/// `(m, n, k)` through the tiles and through panels copied from `b`, both operands' lines
/// contiguous (so the tiles need no scratch, and without one `matmul` copies no panel), `c`
/// column-major.
fn bench_panels(c: &mut Criterion, (m, n, k): (usize, usize, usize)) {
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01).collect();
    let b: Vec<f32> = (0..n * k).map(|i| ((i * 53 % 97) as f32 - 48.0) * 0.02).collect();
    let lines = |data| Lines { data, line_step: k, step: 1 };
    let (mut tiled, mut panels) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
    let mut scratch = vec![0.0f32; PACKED_LINES * k];
    matmul(m, n, k, lines(&a), lines(&b), &mut tiled, 1, m, &mut []);
    matmul_via_panels(m, n, k, lines(&a), lines(&b), &mut panels, 1, m, &mut scratch);
    assert!(tiled.iter().zip(&panels).all(|(x, y)| x.to_bits() == y.to_bits()), "the two disagree at {m}x{n}x{k}");

    let mut group = c.benchmark_group(format!("panels_{m}x{n}x{k}"));
    group.bench_function("tiled", |bench| {
        bench.iter(|| matmul(m, n, k, lines(black_box(&a)), lines(black_box(&b)), &mut tiled, 1, m, &mut []))
    });
    group.bench_function("panels", |bench| {
        bench.iter(|| {
            let (a, b) = (lines(black_box(&a)), lines(black_box(&b)));
            matmul_via_panels(m, n, k, a, b, &mut panels, 1, m, &mut scratch)
        })
    });
    group.finish();
}

/// `(m, n, k)` through `matmul` alone, `c` column-major: with the `parallel` feature, where a
/// product starts to pay on threads (`SPLIT_WORK`), run beside the same binary under
/// `RAYON_NUM_THREADS=1` (which keeps every product on one thread).
fn bench_threads(c: &mut Criterion, (m, n, k): (usize, usize, usize)) {
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01).collect();
    let b: Vec<f32> = (0..n * k).map(|i| ((i * 53 % 97) as f32 - 48.0) * 0.02).collect();
    let lines = |data| Lines { data, line_step: k, step: 1 };
    let mut out = vec![0.0f32; m * n];
    let mut scratch = vec![0.0f32; PACKED_LINES * k];
    c.bench_function(&format!("threads_{m}x{n}x{k}_{}", m * n * k), |bench| {
        bench.iter(|| {
            let (a, b) = (lines(black_box(&a)), lines(black_box(&b)));
            matmul(m, n, k, a, b, &mut out, 1, m, &mut scratch)
        })
    });
}

fn benches(c: &mut Criterion) {
    // Multiply-adds from 512 to 32,768 around the threshold (4,096), in the shapes of a batch of
    // one (a matrix-vector product) and of a batch of a few rows.
    for size in [(1, 8, 64), (1, 32, 64), (1, 64, 64), (1, 128, 128), (4, 8, 16), (4, 16, 32), (8, 16, 32), (8, 32, 64)]
    {
        bench_size(c, size);
    }
    for k in [16, 32, 64, 96, 128, 192, 256, 384, 784] {
        bench_panels(c, (784, 128, k));
    }
    // The MLP's `X · W1` as `matmul` computes it (its transpose), and a square product.
    bench_panels(c, (128, 64, 784));
    bench_panels(c, (256, 256, 256));
    // Half a million to 17 million multiply-adds, for the `parallel` feature's threshold.
    for size in [(64, 64, 128), (64, 64, 256), (128, 64, 256), (128, 128, 256), (128, 64, 784), (256, 256, 256)] {
        bench_threads(c, size);
    }
}

criterion_group!(products, benches);
criterion_main!(products);
