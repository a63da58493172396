//! Feeds of run-time size: `DMatrix`, `DVector` and views for `None` dimensions, and ndarray's
//! arrays and views (tfcore's `ndarray` feature), give the bits statically sized feeds give, in a
//! workspace the session owns, and wrong shapes are `Err`s.

use tfcore::nalgebra::{DMatrix, DVector, SMatrix, SVector};
use tfcore::FeedError;

include!("../examples/models/circle.rs");

/// The same elements in an ndarray array (row-major).
fn ndarray_of(m: &DMatrix<f32>) -> ndarray::Array2<f32> {
    ndarray::Array2::from_shape_fn(m.shape(), |(i, j)| m[(i, j)])
}

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

/// A training step and a loss over more rows than one chunk (`tfcore::__private::CHUNK_ROWS`,
/// 1024: these run in chunks of rows, the static feed over all its rows at once) give the same
/// bits, with a last chunk that is not a multiple of 8 rows.
#[test]
fn chunks_of_rows_give_the_bits_of_one_pass() {
    const N: usize = 2 * 1024 + 453;
    let (x, y) = points(N, 11);
    let xs = Box::new(SMatrix::<f32, N, 2>::from_fn(|i, j| x[(i, j)]));
    let ys = Box::new(SVector::<u8, N>::from_fn(|i, _| y[i]));
    let mut fixed = circle::Session::new();
    let mut dynamic = circle::Session::new();
    let loss = fixed.run(circle::loss { X: &*xs, Y: &*ys });
    assert_eq!(loss.to_bits(), dynamic.run(circle::loss { X: &x, Y: &y }).unwrap().to_bits());
    // One step: at this learning rate, a sum over 2,501 rows takes the weights far.
    fixed.run(circle::train_step { X: &*xs, Y: &*ys });
    dynamic.run(circle::train_step { X: &x, Y: &y }).unwrap();
    assert!(fixed.variables().W1.iter().all(|w| w.is_finite()));
    assert_eq!(fixed.variables(), dynamic.variables());
    // Fed as ndarray's arrays: the same bits, chunk by chunk.
    let mut nd = circle::Session::new();
    let (xn, yn) = (ndarray_of(&x), ndarray::Array1::from_iter(y.iter().copied()));
    assert_eq!(loss.to_bits(), nd.run(circle::loss { X: &xn, Y: &yn }).unwrap().to_bits());
    nd.run(circle::train_step { X: &xn, Y: &yn }).unwrap();
    assert_eq!(fixed.variables(), nd.variables());
    // Row ranges of it, one chunk and a few rows: the same as copies of them.
    for rows in [1024, 1031, 7] {
        let mut viewed = circle::Session::from_variables(*fixed.variables());
        let mut copied = circle::Session::from_variables(*fixed.variables());
        viewed.run(circle::train_step { X: &x.rows(5, rows), Y: &y.rows(5, rows) }).unwrap();
        let (cx, cy) = (x.rows(5, rows).clone_owned(), y.rows(5, rows).clone_owned());
        copied.run(circle::train_step { X: &cx, Y: &cy }).unwrap();
        assert_eq!(viewed.variables(), copied.variables(), "{rows} rows");
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
    assert_eq!(err, FeedError::Shape { placeholder: "X", fed: [1000, 3, 0, 0], rank: 2, expected: "[None, 2]" });
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

tfcore::graph! {
    /// Every op family that a `None` batch flows through, for `static_and_dynamic_feeds_agree`.
    pub mod ops {
        let X = tf.placeholder(tf.float32, [None, 4]);
        let Z = tf.placeholder(tf.float32, [None, 4]);
        let L = tf.placeholder(tf.int32, [None]);
        let W = tf.Variable(tf.random_uniform([4, 3], -1, 1));
        let b = tf.Variable(tf.random_uniform([3], -1, 1));
        let elementwise = tf.sqrt(tf.abs(X * 2.0 + Z)) - tf.exp(-tf.square(Z)) / (1.0 + tf.tanh(X));
        let rows = tf.reduce_sum(X, axis = 0);
        let means = tf.reduce_mean(X, axis = 1);
        let kept = tf.reduce_max(X - Z, axis = 1, keepdims = True);
        let total = tf.reduce_mean(X * Z);
        let layer = tf.nn.relu(tf.matmul(X, W) + b);
        let gram = tf.matmul(X, Z, transpose_a = True);
        let pairs = tf.matmul(X, Z, transpose_b = True);
        let probs = tf.nn.softmax(tf.matmul(X, W) + b);
        let log_probs = tf.nn.log_softmax(X);
        let joined = tf.concat([X, Z, X], axis = 1);
        let picked = tf.where(X > Z, X, Z);
        let onehot = tf.one_hot(L, 4, on_value = 2.0, off_value = -1.0);
        let turned = tf.transpose(X);
        let counted = tf.cast(L, tf.float32) * 0.5;
        let centred = X - tf.reduce_mean(X, axis = 0);
        let loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels = tf.one_hot(L, 3), logits = tf.matmul(X, W) + b));
        let grads = tf.gradients(loss, [W, b]);
        let adam = tf.train.AdamOptimizer(0.01).minimize(loss);
        let momentum = tf.train.MomentumOptimizer(0.1, 0.9).minimize(tf.reduce_sum(tf.square(tf.sigmoid(tf.matmul(Z, W)))));
    }
}

/// Every element of a fetched value as bits, in column-major order, for `SMatrix`, `DMatrix` and
/// scalars alike.
trait Bits {
    fn bits(&self) -> Vec<u32>;
}

impl Bits for f32 {
    fn bits(&self) -> Vec<u32> {
        vec![self.to_bits()]
    }
}

impl<R: tfcore::nalgebra::Dim, C: tfcore::nalgebra::Dim, S: tfcore::nalgebra::RawStorage<f32, R, C>> Bits
    for tfcore::nalgebra::Matrix<f32, R, C, S>
{
    fn bits(&self) -> Vec<u32> {
        self.iter().map(|x| x.to_bits()).collect()
    }
}

impl<A: Bits, B: Bits> Bits for (A, B) {
    fn bits(&self) -> Vec<u32> {
        let mut bits = self.0.bits();
        bits.extend(self.1.bits());
        bits
    }
}

#[test]
fn static_and_dynamic_feeds_agree() {
    const N: usize = 11;
    let x = DMatrix::<f32>::from_fn(N, 4, |i, j| ((i * 7 + j * 3) % 13) as f32 / 4.0 - 1.5);
    let z = DMatrix::<f32>::from_fn(N, 4, |i, j| ((i * 5 + j * 11) % 17) as f32 / 5.0 - 1.7);
    let l = DVector::<i32>::from_fn(N, |i, _| (i % 3) as i32);
    let xs = SMatrix::<f32, N, 4>::from_fn(|i, j| x[(i, j)]);
    let zs = SMatrix::<f32, N, 4>::from_fn(|i, j| z[(i, j)]);
    let ls = SVector::<i32, N>::from_fn(|i, _| l[i]);
    // ndarray's arrays (row-major), fed to the fetches' second implementation, and views of them.
    let (xn, zn) = (ndarray_of(&x), ndarray_of(&z));
    let ln = ndarray::Array1::from_iter(l.iter().copied());
    let (mut fixed, mut dynamic, mut nd) = (ops::Session::new(), ops::Session::new(), ops::Session::new());
    macro_rules! agree {
        ($fetch:ident { $($field:ident: ($s:expr, $d:expr, $n:expr)),* }) => {{
            let want = fixed.run(ops::$fetch { $($field: $s),* });
            let got = dynamic.run(ops::$fetch { $($field: $d),* }).unwrap();
            assert_eq!(want.bits(), got.bits(), "`{}`", stringify!($fetch));
            let got = nd.run(ops::$fetch { $($field: $n),* }).unwrap();
            assert_eq!(want.bits(), got.bits(), "`{}` fed ndarray's arrays", stringify!($fetch));
        }};
    }
    for _ in 0..3 {
        agree!(elementwise { X: (&xs, &x, &xn), Z: (&zs, &z, &zn.view()) });
        agree!(rows { X: (&xs, &x, &xn) });
        agree!(means { X: (&xs, &x, &xn.view()) });
        agree!(kept { X: (&xs, &x, &xn), Z: (&zs, &z, &zn) });
        agree!(total { X: (&xs, &x, &xn), Z: (&zs, &z, &zn) });
        agree!(layer { X: (&xs, &x, &xn) });
        agree!(gram { X: (&xs, &x, &xn), Z: (&zs, &z, &zn) });
        agree!(pairs { X: (&xs, &x, &xn), Z: (&zs, &z, &zn) });
        agree!(probs { X: (&xs, &x, &xn) });
        agree!(log_probs { X: (&xs, &x, &xn) });
        agree!(joined { X: (&xs, &x, &xn), Z: (&zs, &z, &zn) });
        agree!(picked { X: (&xs, &x, &xn), Z: (&zs, &z, &zn) });
        agree!(turned { X: (&xs, &x, &xn) });
        agree!(centred { X: (&xs, &x, &xn) });
        agree!(loss { X: (&xs, &x, &xn), L: (&ls, &l, &ln) });
        agree!(grads { X: (&xs, &x, &xn), L: (&ls, &l, &ln.view()) });
        fixed.run(ops::adam { X: &xs, L: &ls });
        dynamic.run(ops::adam { X: &x, L: &l }).unwrap();
        nd.run(ops::adam { X: &xn, L: &ln }).unwrap();
        fixed.run(ops::momentum { Z: &zs });
        dynamic.run(ops::momentum { Z: &z }).unwrap();
        nd.run(ops::momentum { Z: &zn }).unwrap();
        assert_eq!(fixed.variables(), dynamic.variables());
        assert_eq!(fixed.variables(), nd.variables());
    }
    let want = fixed.run(ops::onehot { L: &ls });
    assert_eq!(want.bits(), nd.run(ops::onehot { L: &ln }).unwrap().bits(), "`onehot` fed ndarray's");
    // A view of every other row is not row-major: an `Err` naming the placeholder.
    let strided = xn.slice(ndarray::s![..;2, ..]);
    assert_eq!(nd.run(ops::layer { X: &strided }).unwrap_err(), FeedError::Layout { placeholder: "X" });
    let err = nd.run(ops::layer { X: &ndarray::Array2::<f32>::zeros((N, 5)) }).unwrap_err();
    assert_eq!(err, FeedError::Shape { placeholder: "X", fed: [N, 5, 0, 0], rank: 2, expected: "[None, 4]" });
    // An `OMatrix` with a static column count, and a view of a block, feed `X` too.
    let xo = tfcore::nalgebra::OMatrix::<f32, tfcore::nalgebra::Dyn, tfcore::nalgebra::Const<4>>::from_fn(N, |i, j| {
        x[(i, j)]
    });
    let want = fixed.run(ops::layer { X: &xs });
    assert_eq!(want.bits(), dynamic.run(ops::layer { X: &xo }).unwrap().bits());
    let wide = DMatrix::<f32>::from_fn(N + 3, 6, |i, j| {
        if i >= 2 && j >= 1 && i - 2 < N && j - 1 < 4 {
            x[(i - 2, j - 1)]
        } else {
            f32::NAN
        }
    });
    assert_eq!(want.bits(), dynamic.run(ops::layer { X: &wide.view((2, 1), (N, 4)) }).unwrap().bits());
    let want = fixed.run(ops::onehot { L: &ls });
    let got = dynamic.run(ops::onehot { L: &l }).unwrap();
    assert_eq!(want.bits(), got.bits(), "`onehot`");
    let want = fixed.run(ops::counted { L: &ls });
    let got = dynamic.run(ops::counted { L: &l }).unwrap();
    assert_eq!(want.bits(), got.bits(), "`counted`");
}

/// A layer of many rows gives each row the bits that row gives in a batch of its own (views of ten
/// thousand rows, at different offsets).
#[test]
fn a_large_batch_gives_each_row_its_own_bits() {
    let (x, _) = points(100_000, 5);
    let mut sess = circle::Session::new();
    let whole = sess.run(circle::output_layer { X: &x }).unwrap();
    for start in (0..100_000).step_by(10_000) {
        let part = sess.run(circle::output_layer { X: &x.rows(start, 10_000) }).unwrap();
        assert_eq!(part.bits(), whole.rows(start, 10_000).bits(), "rows {start}..");
    }
}

/// With the `parallel` feature, rows beyond `RANGE_ROWS` are split into ranges on threads, and a
/// sum over the rows is the ranges' sums added in order: a loss over four ranges is exactly the
/// four ranges' losses added, and a training step gives the same bits run after run.
#[cfg(feature = "parallel")]
#[test]
fn ranges_on_threads_add_the_ranges_sums_in_order() {
    use tfcore::__private::RANGE_ROWS;
    let n = 3 * RANGE_ROWS + 5;
    let (x, y) = points(n, 13);
    let mut sess = circle::Session::new();
    let loss = sess.run(circle::loss { X: &x, Y: &y }).unwrap();
    let mut by_ranges = 0.0f32;
    for (k, first) in (0..n).step_by(RANGE_ROWS).enumerate() {
        let len = RANGE_ROWS.min(n - first);
        let part = sess.run(circle::loss { X: &x.rows(first, len), Y: &y.rows(first, len) }).unwrap();
        by_ranges = if k == 0 { part } else { by_ranges + part };
    }
    assert_eq!(loss.to_bits(), by_ranges.to_bits());
    let start = *sess.variables();
    let mut steps = Vec::new();
    for _ in 0..4 {
        let mut s = circle::Session::from_variables(start);
        s.run(circle::train_step { X: &x, Y: &y }).unwrap();
        steps.push(*s.variables());
    }
    assert!(steps.iter().all(|v| *v == steps[0]));
}

tfcore::graph! {
    /// Products large enough for the blocked kernel (`BLOCKED_FROM` multiply-adds or more).
    pub mod wide {
        let X = tf.placeholder(tf.float32, [None, 24]);
        let L = tf.placeholder(tf.int32, [None]);
        let W1 = tf.Variable(tf.random_uniform([24, 40], -0.3, 0.3));
        let W2 = tf.Variable(tf.random_uniform([40, 9], -0.3, 0.3));
        let hidden = tf.nn.relu(tf.matmul(X, W1));
        let logits = tf.matmul(hidden, W2);
        let loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels = tf.one_hot(L, 9), logits = logits));
        let train_step = tf.train.AdamOptimizer(0.01).minimize(loss);
    }
}

/// Fed with run-time sizes, products of a workspace buffer (and of an ndarray matrix fed) go
/// through the blocked kernel, as statically fed ones do: the same bits, over a batch of a few rows
/// and over one of several chunks of rows.
#[test]
fn blocked_products_of_run_time_size_give_the_static_bits() {
    fn check<const N: usize>() {
        let x = DMatrix::<f32>::from_fn(N, 24, |i, j| ((i * 13 + j * 7) % 29) as f32 / 9.0 - 1.5);
        let l = DVector::<i32>::from_fn(N, |i, _| (i % 9) as i32);
        let xs = Box::new(SMatrix::<f32, N, 24>::from_fn(|i, j| x[(i, j)]));
        let ls = Box::new(SVector::<i32, N>::from_fn(|i, _| l[i]));
        let (xn, ln) = (ndarray_of(&x), ndarray::Array1::from_iter(l.iter().copied()));
        let (mut fixed, mut dynamic, mut nd) =
            (wide::Session::with_seed(2), wide::Session::with_seed(2), wide::Session::with_seed(2));
        let want = fixed.run(wide::logits { X: &*xs });
        assert_eq!(want.bits(), dynamic.run(wide::logits { X: &x }).unwrap().bits(), "{N} rows, DMatrix");
        assert_eq!(want.bits(), nd.run(wide::logits { X: &xn }).unwrap().bits(), "{N} rows, Array2");
        // A view of a block of a larger matrix, copied row-major for the kernel.
        let larger = DMatrix::<f32>::from_fn(N + 3, 26, |i, j| {
            if (1..=N).contains(&i) && j >= 2 {
                x[(i - 1, j - 2)]
            } else {
                f32::NAN
            }
        });
        let view = larger.view((1, 2), (N, 24));
        assert_eq!(want.bits(), dynamic.run(wide::logits { X: &view }).unwrap().bits(), "{N} rows, a view");
        for _ in 0..2 {
            fixed.run(wide::train_step { X: &*xs, L: &*ls });
            dynamic.run(wide::train_step { X: &x, L: &l }).unwrap();
            nd.run(wide::train_step { X: &xn, L: &ln }).unwrap();
        }
        assert_eq!(fixed.variables(), dynamic.variables(), "{N} rows, DMatrix");
        assert_eq!(fixed.variables(), nd.variables(), "{N} rows, Array2");
    }
    check::<5>();
    // The static step holds its temporaries on the stack, a few hundred kilobytes at this size.
    let big = std::thread::Builder::new().stack_size(64 << 20).spawn(check::<{ 2 * 1024 + 77 }>);
    big.expect("a thread").join().expect("the same bits over chunks");
}
