//! Each op's forward value against hand-computed values, broadcasting included.
//!
//! Every op is written once and built twice: on constants, which the macro folds at compile time,
//! and on placeholders, which run. Both must give the hand-computed values, and the same bits.

use tfcore::graph;
use tfcore::nalgebra::{matrix, vector, SMatrix, SVector};

/// Builds module `folded` (inputs are constants) and module `fed` (inputs are placeholders) from
/// one list of nodes over the inputs `m` ([2, 3]), `v` ([3]), `c` ([2, 1]), `s` (scalar) and `i`
/// ([3], int32).
macro_rules! twin_graphs {
    ($($name:ident = { $($tok:tt)+ })*) => {
        graph! {
            pub mod folded {
                let m = tf.constant([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]], dtype = tf.float64);
                let v = tf.constant([0.25, -0.5, 2.0], dtype = tf.float64);
                let c = tf.constant([[2.0], [-3.0]], dtype = tf.float64);
                let s = tf.constant(1.5, dtype = tf.float64);
                let i = tf.constant([0, 3, 1]);
                $(let $name = $($tok)+;)*
            }
        }
        graph! {
            pub mod fed {
                let m = tf.placeholder(tf.float64, [2, 3]);
                let v = tf.placeholder(tf.float64, [3]);
                let c = tf.placeholder(tf.float64, [2, 1]);
                let s = tf.placeholder(tf.float64, []);
                let i = tf.placeholder(tf.int32, [3]);
                $(let $name = $($tok)+;)*
            }
        }
    };
}

twin_graphs! {
    add_row = { m + v }
    add_col = { tf.add(m, c) }
    mul_scalar = { m * s }
    sub_literal = { v - 1 }
    div_literal = { m / 2 }
    neg = { -m }
    exp = { tf.exp(v) }
    log = { tf.log(tf.abs(v)) }
    sqrt = { tf.sqrt(tf.abs(v)) }
    square = { tf.square(v) }
    abs = { tf.abs(v) }
    sigmoid = { tf.sigmoid(v) }
    tanh = { tf.tanh(v) }
    relu = { tf.nn.relu(v) }
    relu6 = { tf.nn.relu6(m * 3) }
    softmax_rows = { tf.nn.softmax(m) }
    softmax_vector = { tf.nn.softmax(v) }
    matmul = { tf.matmul(m, tf.transpose(m)) }
    matmul_transposed = { tf.matmul(m, m, transpose_b = true) }
    matmul_vector = { tf.matmul(m, tf.transpose(tf.constant([[1.0, 2.0, 3.0]], dtype = tf.float64))) }
    transpose = { tf.transpose(m) }
    sum_all = { tf.reduce_sum(m) }
    sum_rows = { tf.reduce_sum(m, axis = 0) }
    sum_columns = { tf.reduce_sum(m, axis = 1) }
    sum_keep = { tf.reduce_sum(m, axis = -1, keepdims = true) }
    mean_all = { tf.reduce_mean(m) }
    mean_rows = { tf.reduce_mean(m, axis = 0) }
    greater = { m > 2 }
    equal = { tf.equal(v, 0.25) }
    select = { tf.where(m > 2, m, -m) }
    one_hot = { tf.one_hot(i, 4) }
    cast_int = { tf.cast(m, tf.int32) }
    cast_bool = { tf.cast(m > 0, tf.float64) }
    int_sum = { tf.reduce_sum(i * 2 - 1) }
}

fn feeds() -> (SMatrix<f64, 2, 3>, SVector<f64, 3>, SMatrix<f64, 2, 1>, f64, SVector<i32, 3>) {
    (matrix![1.5, -2.0, 3.25; 0.5, 4.0, -1.0], vector![0.25, -0.5, 2.0], matrix![2.0; -3.0], 1.5, vector![0, 3, 1])
}

/// Runs node `$name` in both graphs, checks the two agree to the bit, and returns the value.
macro_rules! both {
    ($name:ident ( $($feed:ident),* )) => {{
        let (m, v, c, s, i) = feeds();
        let _ = (&m, &v, &c, &s, &i);
        let folded = folded::Session::new().run(folded::$name);
        let fed = fed::Session::new().run(fed::$name { $($feed: feed!($feed, m, v, c, s, i)),* });
        assert_eq!(format!("{:?}", bits(&folded)), format!("{:?}", bits(&fed)), "{}: folded {:?} != fed {:?}", stringify!($name), folded, fed);
        fed
    }};
}

macro_rules! feed {
    (s, $m:ident, $v:ident, $c:ident, $s:ident, $i:ident) => {
        $s
    };
    (m, $m:ident, $v:ident, $c:ident, $s:ident, $i:ident) => {
        &$m
    };
    (v, $m:ident, $v:ident, $c:ident, $s:ident, $i:ident) => {
        &$v
    };
    (c, $m:ident, $v:ident, $c:ident, $s:ident, $i:ident) => {
        &$c
    };
    (i, $m:ident, $v:ident, $c:ident, $s:ident, $i:ident) => {
        &$i
    };
}

/// The bits of every element, so that `-0.0` and `0.0`, or two NaNs, are told apart.
fn bits<T: Bits>(x: &T) -> Vec<u64> {
    x.bits()
}

trait Bits {
    fn bits(&self) -> Vec<u64>;
}

impl Bits for f64 {
    fn bits(&self) -> Vec<u64> {
        vec![self.to_bits()]
    }
}

impl Bits for i32 {
    fn bits(&self) -> Vec<u64> {
        vec![*self as u64]
    }
}

impl<T: Bits + tfcore::nalgebra::Scalar, const R: usize, const C: usize> Bits for SMatrix<T, R, C> {
    fn bits(&self) -> Vec<u64> {
        self.iter().flat_map(Bits::bits).collect()
    }
}

impl Bits for f32 {
    fn bits(&self) -> Vec<u64> {
        vec![self.to_bits() as u64]
    }
}

impl Bits for bool {
    fn bits(&self) -> Vec<u64> {
        vec![*self as u64]
    }
}

fn close<const R: usize, const C: usize>(got: SMatrix<f64, R, C>, want: SMatrix<f64, R, C>) {
    for (g, w) in got.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-15 * w.abs().max(1.0), "got {got}, want {want}");
    }
}

#[test]
fn arithmetic_broadcasts_as_tensorflow() {
    assert_eq!(both!(add_row(m, v)), matrix![1.75, -2.5, 5.25; 0.75, 3.5, 1.0]);
    assert_eq!(both!(add_col(m, c)), matrix![3.5, 0.0, 5.25; -2.5, 1.0, -4.0]);
    assert_eq!(both!(mul_scalar(m, s)), matrix![2.25, -3.0, 4.875; 0.75, 6.0, -1.5]);
    assert_eq!(both!(sub_literal(v)), vector![-0.75, -1.5, 1.0]);
    assert_eq!(both!(div_literal(m)), matrix![0.75, -1.0, 1.625; 0.25, 2.0, -0.5]);
    assert_eq!(both!(neg(m)), matrix![-1.5, 2.0, -3.25; -0.5, -4.0, 1.0]);
}

#[test]
fn elementwise_functions() {
    let v = [0.25f64, -0.5, 2.0];
    close(both!(exp(v)), SVector::from_fn(|k, _| v[k].exp()));
    close(both!(log(v)), SVector::from_fn(|k, _| v[k].abs().ln()));
    close(both!(sqrt(v)), SVector::from_fn(|k, _| v[k].abs().sqrt()));
    assert_eq!(both!(square(v)), vector![0.0625, 0.25, 4.0]);
    assert_eq!(both!(abs(v)), vector![0.25, 0.5, 2.0]);
    close(both!(sigmoid(v)), SVector::from_fn(|k, _| 1.0 / (1.0 + (-v[k]).exp())));
    close(both!(tanh(v)), SVector::from_fn(|k, _| v[k].tanh()));
    assert_eq!(both!(relu(v)), vector![0.25, 0.0, 2.0]);
    // m * 3 is [[4.5, -6, 9.75], [1.5, 12, -3]]: clipped to [0, 6].
    assert_eq!(both!(relu6(m)), matrix![4.5, 0.0, 6.0; 1.5, 6.0, 0.0]);
}

#[test]
fn softmax_along_the_last_axis() {
    let m = feeds().0;
    let want = SMatrix::<f64, 2, 3>::from_fn(|i, j| {
        let total: f64 = (0..3).map(|k| m[(i, k)].exp()).sum();
        m[(i, j)].exp() / total
    });
    close(both!(softmax_rows(m)), want);
    let v = [0.25f64, -0.5, 2.0];
    let total: f64 = v.iter().map(|x| x.exp()).sum();
    close(both!(softmax_vector(v)), SVector::from_fn(|k, _| v[k].exp() / total));
}

#[test]
fn matmul_and_transpose() {
    assert_eq!(both!(matmul(m)), matrix![16.8125, -10.5; -10.5, 17.25]);
    assert_eq!(both!(matmul_transposed(m)), matrix![16.8125, -10.5; -10.5, 17.25]);
    assert_eq!(both!(matmul_vector(m)), matrix![7.25; 5.5]);
    assert_eq!(both!(transpose(m)), matrix![1.5, 0.5; -2.0, 4.0; 3.25, -1.0]);
}

#[test]
fn reductions() {
    assert_eq!(both!(sum_all(m)), 6.25);
    assert_eq!(both!(sum_rows(m)), vector![2.0, 2.0, 2.25]);
    assert_eq!(both!(sum_columns(m)), vector![2.75, 3.5]);
    assert_eq!(both!(sum_keep(m)), matrix![2.75; 3.5]);
    assert_eq!(both!(mean_all(m)), 6.25 / 6.0);
    assert_eq!(both!(mean_rows(m)), vector![1.0, 1.0, 1.125]);
    assert_eq!(both!(int_sum(i)), 5);
}

#[test]
fn comparisons_selection_one_hot_and_casts() {
    assert_eq!(both!(greater(m)), matrix![false, false, true; false, true, false]);
    assert_eq!(both!(equal(v)), vector![true, false, false]);
    assert_eq!(both!(select(m)), matrix![-1.5, 2.0, 3.25; -0.5, 4.0, 1.0]);
    assert_eq!(both!(one_hot(i)), matrix![1.0f32, 0.0, 0.0, 0.0; 0.0, 0.0, 0.0, 1.0; 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(both!(cast_int(m)), matrix![1, -2, 3; 0, 4, -1]);
    assert_eq!(both!(cast_bool(m)), matrix![1.0, 0.0, 1.0; 1.0, 1.0, 0.0]);
}

graph! {
    pub mod chain {
        let x = tf.placeholder(tf.float32, [None, 3]);
        let W = tf.Variable(tf.constant([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.125]]));
        let h0 = tf.matmul(x, W);
        let h1 = tf.sigmoid(h0);
        let h2 = tf.nn.relu(tf.tanh(h1 - 0.5));
        let h3 = tf.exp(tf.negative(h2));
        // Not a unary chain: computed whole, fused, from the feed (doubling changes no bit but
        // the exponent's).
        let doubled = tf.exp(tf.negative(h2)) * 2.0;
    }
}

/// A fetch that is a chain of unary ops over another fetch (`h3` over `h2`) calls that fetch and
/// writes the chain over its value: the bits of computing the whole subgraph in one expression.
#[test]
fn a_chain_over_another_fetch_gives_the_fused_bits() {
    let x = SMatrix::<f32, 5, 3>::from_fn(|i, j| (i as f32 - 2.0) * 0.7 + j as f32 * 0.3);
    let mut sess = chain::Session::new();
    let h3 = sess.run(chain::h3 { x: &x });
    let doubled = sess.run(chain::doubled { x: &x });
    assert_eq!(bits(&(h3 * 2.0)), bits(&doubled));
    let dynamic = sess.run(chain::h3 { x: &tfcore::nalgebra::DMatrix::from_column_slice(5, 3, x.as_slice()) });
    assert_eq!(dynamic.expect("the right shape").as_slice(), h3.as_slice());
    let wrong = sess.run(chain::h3 { x: &tfcore::nalgebra::DMatrix::<f32>::zeros(5, 2) });
    assert!(wrong.expect_err("a wrong shape").to_string().contains("`x`"));
}

graph! {
    mod updates {
        let a = tf.Variable(tf.constant([1.0, 2.0, 3.0]));
        let b = tf.Variable(tf.constant([10.0, 20.0, 30.0]));
        let w = tf.Variable(tf.constant([[1.0, 2.0], [3.0, 4.0]]));
        let g = tf.placeholder(tf.float32, [2, 2]);
        // Each reads the other's value from before the run.
        let swap = tf.group(a.assign(b * 2.0), b.assign(a * 2.0));
        // A new value reading its own variable at other indices (the transpose), and a sum of
        // the new value read after it.
        let turn = w.assign(tf.transpose(w) + g);
        let steps = tf.group(a.assign_sub(b), b.assign_add(tf.ones([3])));
    }
}

#[test]
fn assignments_read_the_values_from_before_the_run() {
    // Assignments the macro computes straight into the variable's storage (where nothing reads
    // the old value afterwards) give what computing them aside and writing at the end gives.
    let mut sess = updates::Session::new();
    sess.run(updates::swap);
    assert_eq!(sess.variables().a, vector![20.0, 40.0, 60.0]);
    assert_eq!(sess.variables().b, vector![2.0, 4.0, 6.0]);
    sess.run(updates::steps);
    assert_eq!(sess.variables().a, vector![18.0, 36.0, 54.0]);
    assert_eq!(sess.variables().b, vector![3.0, 5.0, 7.0]);
    sess.run(updates::turn { g: &matrix![0.5, 0.5; 0.5, 0.5] });
    assert_eq!(sess.variables().w, matrix![1.5, 3.5; 2.5, 4.5]);
}
