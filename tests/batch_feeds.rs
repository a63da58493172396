//! Placeholders of rank 3 and 4 whose first dimension is `None`, fed batches of run-time size
//! (`DArrayView`, `&DArray`, ndarray's arrays and views): the same bits as the same images fed
//! one at a time in statically sized `Array4`s, `Err`s naming the placeholder for a wrong shape or
//! layout, and results of run-time size as `DArray`s.

use tfcore::nalgebra::DVector;
use tfcore::{Array4, DArray4, DArrayView4, FeedError};

include!("../examples/digits/net.rs");

/// `n` images of 8 × 8 pixels, row-major, of a fixed pseudo-random pattern.
fn images(n: usize) -> Vec<f32> {
    (0..n * 64).map(|k| ((k * 7919) % 17) as f32 / 16.0).collect()
}

#[test]
fn a_batch_gives_the_bits_of_one_image_at_a_time() {
    let mut sess = digits::Session::with_seed(3);
    let pixels = images(50);
    let batch = DArrayView4::from_slice([50, 8, 8, 1], &pixels).expect("50 images");
    let logits = sess.run(digits::logits { X: batch }).expect("fits [None, 8, 8, 1]");
    assert_eq!(logits.shape(), (50, 10));
    for n in 0..50 {
        let one: Array4<f32, 1, 8, 8, 1> = Array4::from_fn(|_, h, w, _| pixels[n * 64 + h * 8 + w]);
        let alone = sess.run(digits::logits { X: &one });
        for c in 0..10 {
            assert_eq!(logits[(n, c)].to_bits(), alone[(0, c)].to_bits(), "image {n}, class {c}");
        }
    }
}

#[test]
fn a_batch_of_rank_four_comes_back_as_a_darray() {
    let mut sess = digits::Session::with_seed(3);
    let pixels = images(5);
    let owned = DArray4::from_vec([5, 8, 8, 1], pixels.clone()).expect("5 images");
    let conv = sess.run(digits::conv { X: &owned }).expect("fits");
    assert_eq!(conv.shape(), [5, 8, 8, 16]);
    let one: Array4<f32, 1, 8, 8, 1> = Array4::from_fn(|_, h, w, _| pixels[4 * 64 + h * 8 + w]);
    let alone = sess.run(digits::conv { X: &one });
    for (h, w, c) in [(0, 0, 0), (3, 4, 7), (7, 7, 15)] {
        assert_eq!(conv[(4, h, w, c)].to_bits(), alone[(0, h, w, c)].to_bits());
    }
    // The placeholder itself, fetched: a copy of what was fed.
    assert_eq!(sess.run(digits::X { X: owned.view() }).expect("fits"), owned);
}

#[test]
fn wrong_shapes_are_errors_naming_the_placeholder() {
    let mut sess = digits::Session::new();
    let pixels = images(3);
    let wrong = DArrayView4::from_slice([3, 8, 4, 2], &pixels).expect("3 × 8 × 4 × 2 elements");
    let err = sess.run(digits::logits { X: wrong }).unwrap_err();
    assert_eq!(err.to_string(), "cannot feed a value of shape [3, 8, 4, 2] to `X`, which has shape [None, 8, 8, 1]");
    let batch = DArrayView4::from_slice([3, 8, 8, 1], &pixels).expect("3 images");
    let labels = DVector::from_vec(vec![1u8, 2]);
    let err = sess.run(digits::loss { X: batch, Y: &labels }).unwrap_err();
    assert!(matches!(err, FeedError::Disagree { placeholder: "Y", size: 2, first: "X", first_size: 3, .. }), "{err}");
}

#[test]
fn a_training_step_on_a_batch_of_run_time_size_gives_the_static_steps_bits() {
    use tfcore::nalgebra::SVector;
    let pixels = images(4);
    let labels = [3u8, 1, 4, 1];
    let mut fixed = digits::Session::with_seed(5);
    let x: Array4<f32, 4, 8, 8, 1> = Array4::from_fn(|n, h, w, _| pixels[n * 64 + h * 8 + w]);
    let y: SVector<u8, 4> = SVector::from_column_slice(&labels);
    fixed.run(digits::train_step { X: &x, Y: &y });
    let mut dynamic = digits::Session::with_seed(5);
    let batch = DArrayView4::from_slice([4, 8, 8, 1], &pixels).expect("4 images");
    dynamic.run(digits::train_step { X: batch, Y: &DVector::from_column_slice(&labels) }).expect("fits");
    let (a, b) = (fixed.variables(), dynamic.variables());
    assert_eq!(
        a.K1.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.K1.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(a, b);
    // The images and the labels as ndarray's arrays: the same step.
    let mut nd = digits::Session::with_seed(5);
    let images = ndarray::Array4::from_shape_vec((4, 8, 8, 1), pixels.clone()).expect("4 images");
    nd.run(digits::train_step { X: &images, Y: &ndarray::Array1::from_vec(labels.to_vec()) }).expect("fits");
    assert_eq!(fixed.variables(), nd.variables());
}

/// ndarray's arrays and views feed a batch directly; a view whose elements are not in row-major
/// order is an `Err` naming the placeholder; results convert into ndarray's arrays.
#[test]
fn ndarray_arrays_and_views_feed_a_batch() {
    use tfcore::IntoNdarray;
    let mut sess = digits::Session::with_seed(3);
    let pixels = images(6);
    let array = ndarray::Array4::from_shape_vec((6, 8, 8, 1), pixels.clone()).expect("6 images");
    let view = DArrayView4::from_slice([6, 8, 8, 1], &pixels).expect("6 images");
    let expected = sess.run(digits::logits { X: view }).expect("fits");
    assert_eq!(sess.run(digits::logits { X: &array }).expect("fits"), expected);
    assert_eq!(sess.run(digits::logits { X: array.view() }).expect("fits"), expected);
    // Images 1, 3 and 5: a view with a step along the batch.
    let strided = array.slice(ndarray::s![1..;2, .., .., ..]);
    let err = sess.run(digits::logits { X: strided }).unwrap_err();
    assert_eq!(err, FeedError::Layout { placeholder: "X" });
    assert_eq!(
        err.to_string(),
        "cannot feed `X` a view whose elements are not in row-major order: copy it into a standard-layout array first"
    );
    let copied = strided.to_owned();
    let logits = sess.run(digits::logits { X: &copied }).expect("fits").into_ndarray();
    assert_eq!(logits.shape(), [3, 10]);
    assert_eq!(logits[[1, 4]], expected[(3, 4)]);
    let conv = sess.run(digits::conv { X: &copied }).expect("fits").into_ndarray();
    assert_eq!(conv.shape(), [3, 8, 8, 16]);
}

mod kws {
    include!("../examples/models/kws.rs");
}

/// Keyword spotting, whose convolutions go through tfcore's window kernels: a batch of run-time
/// size gives each input's probabilities bit for bit as the input fed alone.
#[test]
fn keyword_spotting_in_a_batch_gives_the_bits_of_one_input_at_a_time() {
    use kws::keyword_spotting as model;
    let mut sess = model::Session::new();
    let features: Vec<f32> = (0..3 * 490).map(|k| ((k * 7919) % 101) as f32 / 10.0 - 5.0).collect();
    let batch = DArrayView4::from_slice([3, 49, 10, 1], &features).expect("3 inputs");
    let probs = sess.run(model::probs { x: batch }).expect("fits [None, 49, 10, 1]");
    for n in 0..3 {
        let one: Array4<f32, 1, 49, 10, 1> = Array4::from_fn(|_, h, w, _| features[n * 490 + h * 10 + w]);
        let alone = sess.run(model::probs { x: &one });
        for c in 0..12 {
            assert_eq!(probs[(n, c)].to_bits(), alone[(0, c)].to_bits(), "input {n}, class {c}");
        }
    }
}
