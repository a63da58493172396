//! Feeds of run-time size: `DMatrix`, `DVector` and views for `None` dimensions give the bits
//! statically sized feeds give, in a workspace the session owns, and wrong shapes are `Err`s.

use tfcore::nalgebra::{DMatrix, DVector, SMatrix, SVector};
use tfcore::FeedError;

include!("../examples/models/circle.rs");

/// The seed's circle data: `n` points of [-1, 1]², labelled 1 inside x² + y² < 0.5.
fn points(n: usize, seed: u64) -> (DMatrix<f32>, DVector<u8>) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    let x = DMatrix::from_fn(n, 2, |_, _| next());
    let y = DVector::from_fn(n, |i, _| u8::from(x[(i, 0)] * x[(i, 0)] + x[(i, 1)] * x[(i, 1)] < 0.5));
    (x, y)
}

#[test]
fn dynamic_feeds_give_the_bits_static_feeds_give() {
    const N: usize = 250;
    let (x, y) = points(N, 7);
    let xs = SMatrix::<f32, N, 2>::from_fn(|i, j| x[(i, j)]);
    let ys = SVector::<u8, N>::from_fn(|i, _| y[i]);
    let mut fixed = circle::Session::new();
    let mut dynamic = circle::Session::new();
    for _ in 0..50 {
        fixed.run(circle::train_step { X: &xs, Y: &ys });
        dynamic.run(circle::train_step { X: &x, Y: &y }).unwrap();
    }
    assert_eq!(fixed.variables(), dynamic.variables());
    let loss = fixed.run(circle::loss { X: &xs, Y: &ys });
    let dynamic_loss = dynamic.run(circle::loss { X: &x, Y: &y }).unwrap();
    assert_eq!(loss.to_bits(), dynamic_loss.to_bits());
    let out = fixed.run(circle::output_layer { X: &xs });
    let dynamic_out: DMatrix<f32> = dynamic.run(circle::output_layer { X: &x }).unwrap();
    assert_eq!((dynamic_out.nrows(), dynamic_out.ncols()), (N, 2));
    for i in 0..N {
        for j in 0..2 {
            assert_eq!(out[(i, j)].to_bits(), dynamic_out[(i, j)].to_bits(), "output_layer[{i}, {j}]");
        }
    }
}

#[test]
fn views_and_row_ranges_feed_mini_batches() {
    let (x, y) = points(1000, 3);
    let mut whole = circle::Session::new();
    let mut viewed = circle::Session::new();
    for start in (0..1000).step_by(100) {
        let (bx, by) = (x.rows(start, 100).clone_owned(), y.rows(start, 100).clone_owned());
        whole.run(circle::train_step { X: &bx, Y: &by }).unwrap();
        viewed.run(circle::train_step { X: &x.rows(start, 100), Y: &y.rows(start, 100) }).unwrap();
    }
    assert_eq!(whole.variables(), viewed.variables());
}

#[test]
fn wrong_shapes_are_errors_that_name_the_placeholder() {
    let mut sess = circle::Session::new();
    let before = *sess.variables();
    let x = DMatrix::<f32>::zeros(1000, 3);
    let y = DVector::<u8>::zeros(1000);
    let err = sess.run(circle::train_step { X: &x, Y: &y }).unwrap_err();
    assert_eq!(err, FeedError::Shape { placeholder: "X", fed: [1000, 3], rank: 2, expected: "[None, 2]" });
    assert_eq!(err.to_string(), "cannot feed a value of shape [1000, 3] to `X`, which has shape [None, 2]");
    let x = DMatrix::<f32>::zeros(1000, 2);
    let y = DVector::<u8>::zeros(999);
    let err = sess.run(circle::train_step { X: &x, Y: &y }).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`Y` was fed 999 along its dimension 0 and `X` 1000 along its dimension 0: they share a `None` dimension, so they must be fed the same size"
    );
    assert_eq!(sess.variables(), &before, "a failed run changes nothing");
}

#[test]
fn an_empty_batch_runs() {
    let mut sess = circle::Session::new();
    let x = DMatrix::<f32>::zeros(0, 2);
    let y = DVector::<u8>::zeros(0);
    assert_eq!(sess.run(circle::loss { X: &x, Y: &y }).unwrap(), 0.0);
    let out = sess.run(circle::output_layer { X: &x }).unwrap();
    assert_eq!(out.shape(), (0, 2));
}
