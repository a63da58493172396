//! `Session::run` allocates nothing on the heap: a counting global allocator watches every run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tfcore::graph;
use tfcore::nalgebra::{SMatrix, SVector};

/// Counts the allocations made by the current thread, so that other threads of the test harness
/// do not disturb the count.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers every call to the system allocator unchanged; counting touches only a
// thread-local `Cell<usize>` with a const initialiser, which neither allocates nor re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `f` made on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

include!("shared/bond.rs");

graph! {
    pub mod classifier {
        let W = tf.Variable(tf.random_uniform([2, 3], -1, 1));
        let b = tf.Variable(tf.zeros([3]));
        let X = tf.placeholder(tf.float32, [None, 2]);
        let Y = tf.placeholder(tf.uint8, [None]);
        let output = tf.nn.softmax(tf.matmul(X, W) + b);
        let loss = -tf.reduce_sum(tf.one_hot(Y, 3) * tf.log(output));
        let nudge = b.assign_add(tf.reduce_mean(output, axis = 0));
        let train_step = tf.train.GradientDescentOptimizer(0.01).minimize(loss);
        let adam_step = tf.train.AdamOptimizer(0.01).minimize(loss);
        let grads = tf.gradients(loss, [W, b]);
    }
}

#[test]
fn running_fetches_allocates_nothing() {
    let mut sess = bond::Session::new();
    assert_eq!(allocations(|| sess.run(bond::step { v_target: 95.0 })), 0);
    assert_eq!(
        allocations(|| {
            sess.run(bond::a_ { v_target: 100.0 });
        }),
        0
    );
    assert_eq!(allocations(|| sess.run(bond::init)), 0);

    let mut sess = classifier::Session::new();
    let x = SMatrix::<f32, 64, 2>::from_fn(|i, j| (i as f32 - 32.0) / 32.0 + j as f32);
    let y = SVector::<u8, 64>::from_fn(|i, _| (i % 3) as u8);
    let mut loss = 0.0;
    assert_eq!(allocations(|| loss = sess.run(classifier::loss { X: &x, Y: &y })), 0);
    assert!(loss.is_finite() && loss > 0.0);
    assert_eq!(
        allocations(|| {
            sess.run(classifier::nudge { X: &x });
        }),
        0
    );
    // The count is real: a heap allocation made here is seen.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
}

// A weight in a variable read by a large product, and a training step that writes it.
graph! {
    pub mod dense {
        let W = tf.Variable(tf.random_uniform([40, 16], -1, 1));
        let X = tf.placeholder(tf.float32, [1, 40]);
        let T = tf.placeholder(tf.float32, [1, 16]);
        let y = tf.nn.relu(tf.matmul(X, W));
        let train_step = tf.train.GradientDescentOptimizer(0.01).minimize(tf.reduce_sum(tf.square(tf.matmul(X, W) - T)));
    }
}

/// The session's copy of a variable in panels, which a product reads in its place, takes its
/// memory when the session starts: the runs that copy into it, the first and the first after each
/// training step, allocate nothing.
#[test]
fn a_variables_copy_in_panels_is_made_in_the_sessions_memory() {
    let mut sess = dense::Session::new();
    let x = SMatrix::<f32, 1, 40>::from_fn(|_, j| (j as f32 * 0.3).sin());
    let t = SMatrix::<f32, 1, 16>::from_fn(|_, j| (j as f32 * 0.2).cos());
    let first = sess.run(dense::y { X: &x });
    assert_eq!(
        allocations(|| {
            std::hint::black_box(sess.run(dense::y { X: &x }));
        }),
        0
    );
    assert_eq!(allocations(|| sess.run(dense::train_step { X: &x, T: &t })), 0);
    let mut after = first;
    assert_eq!(allocations(|| after = sess.run(dense::y { X: &x })), 0);
    assert_ne!(after, first, "the step changed the weight");
}

/// Fed with run-time sizes, the temporaries live in the session's workspace: a run that needs more
/// than it holds (the first, a larger batch, a fetch with more temporaries) grows it, and any run
/// after that of the same size or a smaller one allocates nothing.
#[test]
fn a_workspace_grows_once_and_is_reused() {
    use tfcore::nalgebra::{DMatrix, DVector};
    let mut sess = classifier::Session::new();
    let x = DMatrix::<f32>::from_fn(500, 2, |i, j| (i as f32 - 250.0) / 250.0 + j as f32);
    let y = DVector::<u8>::from_fn(500, |i, _| (i % 3) as u8);
    assert!(allocations(|| sess.run(classifier::train_step { X: &x, Y: &y }).unwrap()) > 0);
    assert_eq!(allocations(|| sess.run(classifier::train_step { X: &x, Y: &y }).unwrap()), 0);
    sess.run(classifier::adam_step { X: &x, Y: &y }).unwrap();
    assert_eq!(allocations(|| sess.run(classifier::adam_step { X: &x, Y: &y }).unwrap()), 0);
    assert_eq!(allocations(|| sess.run(classifier::train_step { X: &x, Y: &y }).unwrap()), 0);
    let (small_x, small_y) = (x.rows(100, 200), y.rows(100, 200));
    assert_eq!(allocations(|| sess.run(classifier::train_step { X: &small_x, Y: &small_y }).unwrap()), 0);
    let mut loss = 0.0;
    assert_eq!(allocations(|| loss = sess.run(classifier::loss { X: &small_x, Y: &small_y }).unwrap()), 0);
    assert!(loss.is_finite() && loss > 0.0);
    // A fetched value of run-time size is a new `DMatrix`: its one allocation.
    assert_eq!(allocations(|| drop(sess.run(classifier::output { X: &x }).unwrap())), 1);
    // ndarray's arrays, read in place: the same workspace, nothing allocated.
    let nx = ndarray::Array2::from_shape_fn((500, 2), |(i, j)| x[(i, j)]);
    let ny = ndarray::Array1::from_iter(y.iter().copied());
    assert_eq!(allocations(|| sess.run(classifier::train_step { X: &nx, Y: &ny }).unwrap()), 0);
}

include!("../examples/digits/net.rs");

/// Batches of images of run-time size follow the same rule: the first run grows the workspace,
/// later runs of the same or a smaller batch allocate nothing but the value they return.
#[test]
fn a_batch_of_images_reuses_the_workspace() {
    use tfcore::nalgebra::DVector;
    use tfcore::DArrayView4;
    let mut sess = digits::Session::with_seed(2);
    let pixels: Vec<f32> = (0..40 * 64).map(|k| (k % 17) as f32 / 16.0).collect();
    let labels = DVector::<u8>::from_fn(40, |i, _| (i % 10) as u8);
    let batch = DArrayView4::from_slice([40, 8, 8, 1], &pixels).expect("40 images");
    assert!(allocations(|| sess.run(digits::train_step { X: batch, Y: &labels }).unwrap()) > 0);
    assert_eq!(allocations(|| sess.run(digits::train_step { X: batch, Y: &labels }).unwrap()), 0);
    let (fewer, fewer_labels) = (batch.rows(5, 20), labels.rows(5, 20));
    assert_eq!(allocations(|| sess.run(digits::train_step { X: fewer, Y: &fewer_labels }).unwrap()), 0);
    // The logits of a batch: a new `DMatrix`, its one allocation; the feature maps a new `DArray`.
    assert_eq!(allocations(|| drop(sess.run(digits::logits { X: batch }).unwrap())), 1);
    assert_eq!(allocations(|| drop(sess.run(digits::conv { X: fewer }).unwrap())), 1);
}
