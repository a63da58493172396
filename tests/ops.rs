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
    reciprocal = { tf.math.reciprocal(v) }
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
    assert_eq!(both!(reciprocal(v)), vector![4.0, -2.0, 0.5]);
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

// The same products with their weights as constants, which the generated code stores in panels
// of eight lines for the matrix kernel (40 columns of `w`: five panels; 36 rows of `wt`: four and
// a narrower one), and as variables, stored as their `SMatrix`.
macro_rules! weight_graph {
    ($module:ident: $($wrap:tt)*) => {
        graph! {
            mod $module {
        let w = $($wrap)* (tf.constant([
            [0.258, 2.1631, 4.084867, 4.773857, -3.7889, -1.847689, -1.146, 0.800009, 1.505233, 3.453923, 6.3321, -3.9551, -2.166667, -0.2949, 0.3679, 2.289667, 4.220957, 4.9159, -3.642889, -2.9412, -0.995191, 0.952333, 1.658723, 4.5369, 5.992, -3.961867, -2.0901, -0.185, 0.494467, 2.425757, 3.1207, 5.061911, -3.4941, -2.790391, -0.842867, 1.105823, 2.7417, 4.1968, 4.742933, -3.8853],
            [-1.9802, -1.300733, 0.630557, 2.5678, 3.266711, 5.2107, -3.343291, -2.638067, -0.689377, 0.9465, 2.4016, 4.190033, 4.8195, -3.7754, -1.853633, -1.164643, 0.7726, 2.713811, 3.4155, 5.361509, -4.433267, -2.484577, 0.3936, 0.6064, 2.394833, 4.2666, 4.9294, -3.648833, -2.959843, -1.0226, 0.918611, 1.6203, 3.566309, 5.513833, -4.279777, -1.4016, 0.0535, 0.599633, 2.4714, 3.1342],
            [5.055967, -3.512743, -2.8178, -0.876589, 1.0674, 1.771109, 3.718633, 5.667323, -3.1968, -1.7417, -1.195567, 0.6762, 2.5813, 3.260767, 5.192057, -3.3707, -2.671789, -0.7278, -0.024091, 1.923433, 3.872123, 5.508, -3.5369, -1.748467, -1.119, 0.7861, 2.707867, 3.396857, 5.3341, -4.466989, -2.523, -0.576991, 0.128233, 2.076923, 4.9551, 5.1679, -3.543667, -1.6719, -1.0091, 0.912667],
            [1.601657, 3.5389, 5.480111, -4.3182, -2.372191, -0.424667, 0.281723, 3.1599, 4.615, 5.161133, -3.4671, -2.8043, -0.882533, 1.048757, 1.7437, 3.684911, 5.6289, -4.167391, -2.219867, -1.513477, 1.3647, 2.8198, 3.365933, 5.2377, -3.3572, -2.677733, -0.746443, 1.1908, 1.889711, 3.8337, 4.537409, -4.015067, -2.066377, -0.4305, 1.0246, 2.813033, 3.4425, 5.3476, -3.230633, -2.541643],
            [-0.6044, 0.094511, 2.0385, 3.984509, 4.689733, -3.861577, -0.9834, -0.7706, 1.017833, 1.6473, 3.5524, 5.474167, -4.336843, -2.3996, -0.458389, 0.2433, 2.189309, 4.136833, 4.843223, -2.7786, -2.5658, -0.777367, 1.0944, 1.7572, 3.678967, 5.610257, -4.1948, -2.253589, -0.3096, 0.394109, 2.341633, 3.048023, 5.9262, -3.1187, -2.572567, -0.7008, 1.2043, 1.883767, 3.815057, 4.51],
            [-4.048789, -2.1048, -1.401091, 0.546433, 2.495123, 4.131, 5.5861, -3.125467, -2.496, -0.5909, 0.088567, 2.019857, 3.9571, 4.656011, -3.9, -1.953991, -1.248767, 0.699923, 3.5781, 3.7909, 5.579333, -4.2912, -2.3861, -0.464333, 0.224657, 2.1619, 4.103111, 4.8048, -3.749191, -1.801667, -1.095277, 1.7829, 1.9957, 3.784133, 5.6559, -4.1813, -2.259533, -0.328243, 0.3667, 2.307911],
            [3.0096, 4.955609, -3.596867, -2.890477, -0.0123, 1.4428, 1.988933, 3.8607, 5.7658, -4.054733, -2.123443, -1.4285, 0.512711, 2.4567, 3.160409, 5.107933, -3.443377, -1.8075, -0.3524, 1.436033, 2.0655, 3.9706, 4.650067, -3.918643, -1.9814, -1.282489, 0.6615, 2.607509, 3.312733, 5.261423, -3.6027, -2.1476, -0.359167, 0.2703, 2.1754, 4.097167, 4.786157, -3.7766, -1.835389, -1.1337],
            [0.812309, 1.517533, 3.466223, 6.3444, -3.9428, -2.154367, -0.2826, 0.3802, 2.301967, 4.233257, 4.9282, -3.630589, -2.9289, -0.982891, 0.964633, 1.671023, 4.5492, 6.0043, -3.949567, -2.0778, -1.415, 0.506767, 2.438057, 3.133, 5.074211, -3.4818, -2.778091, -0.830567, 1.118123, 2.754, 4.2091, 4.755233, -3.873, -1.9679, -1.288433, 0.642857, 2.5801, 3.279011, 5.223, -3.330991],
            [-2.625767, -0.677077, 0.9588, 2.4139, 4.202333, 4.8318, -3.7631, -1.841333, -1.152343, 0.7849, 2.726111, 3.4278, 5.373809, -4.420967, -2.472277, 0.4059, 0.6187, 2.407133, 4.2789, 4.9417, -3.636533, -2.947543, -1.0103, 0.930911, 1.6326, 3.578609, 5.526133, -4.267477, -1.3893, 0.0658, 0.611933, 2.4837, 3.1465, 5.068267, -3.500443, -2.8055, -0.864289, 1.0797, 1.783409, 3.730933],
            [5.679623, -3.1845, -1.7294, -1.183267, 0.6885, 2.5936, 3.273067, 5.204357, -3.3584, -2.659489, -0.7155, -0.011791, 1.935733, 3.884423, 5.5203, -3.5246, -1.736167, -1.1067, 0.7984, 2.720167, 3.409157, 5.3464, -4.454689, -2.5107, -0.564691, 0.140533, 2.089223, 4.9674, 5.1802, -3.531367, -1.6596, -0.9968, 0.924967, 1.613957, 3.5512, 5.492411, -4.3059, -2.359891, -0.412367, 0.294023],
            [3.1722, 3.385, 5.173433, -3.4548, -2.792, -0.870233, 1.061057, 1.756, 3.697211, 5.6412, -4.155091, -2.207567, -1.501177, 1.377, 2.8321, 3.378233, 5.25, -3.3449, -2.665433, -0.734143, 1.2031, 1.902011, 3.846, 4.549709, -4.002767, -2.054077, -0.4182, 1.0369, 2.825333, 3.4548, 5.3599, -3.218333, -2.529343, -0.5921, 0.106811, 2.0508, 3.996809, 4.702033, -3.849277, -0.9711],
            [-0.7583, 1.030133, 1.6596, 3.5647, 5.486467, -4.324543, -2.3873, -0.446089, 0.2556, 2.201609, 4.149133, 4.855523, -2.7663, -2.5535, -0.765067, 1.1067, 1.7695, 3.691267, 5.622557, -4.1825, -2.241289, -0.2973, 0.406409, 2.353933, 3.060323, 5.9385, -3.1064, -2.560267, -0.6885, 1.2166, 1.896067, 3.827357, 4.5223, -4.036489, -2.0925, -1.388791, 0.558733, 2.507423, 4.1433, 5.5984],
            [-3.113167, -2.4837, -0.5786, 0.100867, 2.032157, 3.9694, 4.668311, -3.8877, -1.941691, -1.236467, 0.712223, 3.5904, 3.8032, 5.591633, -4.2789, -2.3738, -0.452033, 0.236957, 2.1742, 4.115411, 4.8171, -3.736891, -3.031667, -1.082977, 1.7952, 2.008, 3.796433, 5.6682, -4.169, -2.247233, -0.315943, 0.379, 2.320211, 3.0219, 4.967909, -3.584567, -2.878177, 0.0, 1.4551, 2.001233],
            [3.873, 5.7781, -4.042433, -2.111143, -1.4162, 0.525011, 2.469, 3.172709, 5.120233, -3.431077, -1.7952, -0.3401, 1.448333, 2.0778, 3.9829, 4.662367, -3.906343, -1.9691, -1.270189, 0.6738, 2.619809, 3.325033, 5.273723, -3.5904, -2.1353, -0.346867, 0.2826, 2.1877, 4.109467, 4.798457, -3.7643, -1.823089, -1.1214, 0.824609, 1.529833, 3.478523, 6.3567, -3.9305, -2.142067, -0.2703],
            [0.3925, 2.314267, 4.245557, 4.9405, -3.618289, -2.9166, -0.970591, 0.976933, 1.683323, 4.5615, 6.0166, -3.937267, -2.0655, -1.4027, 0.519067, 2.450357, 3.1453, 5.086511, -3.4695, -2.765791, -0.818267, 1.130423, 2.7663, 4.2214, 4.767533, -3.8607, -1.9556, -1.276133, 0.655157, 2.5924, 3.291311, 5.2353, -3.318691, -2.613467, -0.664777, 0.9711, 2.4262, 4.214633, 4.8441, -3.7508],
            [-1.829033, -1.140043, 0.7972, 1.496111, 3.4401, 5.386109, -4.408667, -2.459977, 0.4182, 0.631, 2.419433, 4.2912, 4.954, -3.624233, -2.935243, -0.998, 0.943211, 1.6449, 3.590909, 5.538433, -4.255177, -1.377, 0.0781, 0.624233, 2.496, 3.1588, 5.080567, -3.488143, -2.7932, -0.851989, 1.092, 1.795709, 3.743233, 5.691923, -3.1722, -1.7171, -1.170967, 0.7008, 2.6059, 3.285367],
        ]));
        let wt = $($wrap)* (tf.constant([
            [4.084867, 4.773857, -3.7889, -1.847689, -1.146, 0.800009, 1.505233, 3.453923, 6.3321, -3.9551, -2.166667, -0.2949, 0.3679, 2.289667, 4.220957, 4.9159],
            [-3.642889, -2.9412, -0.995191, 0.952333, 1.658723, 4.5369, 5.992, -3.961867, -2.0901, -0.185, 0.494467, 2.425757, 3.1207, 5.061911, -3.4941, -2.790391],
            [-0.842867, 1.105823, 2.7417, 4.1968, 4.742933, -3.8853, -1.9802, -1.300733, 0.630557, 2.5678, 3.266711, 5.2107, -3.343291, -2.638067, -0.689377, 0.9465],
            [2.4016, 4.190033, 4.8195, -3.7754, -1.853633, -1.164643, 0.7726, 2.713811, 3.4155, 5.361509, -4.433267, -2.484577, 0.3936, 0.6064, 2.394833, 4.2666],
            [4.9294, -3.648833, -2.959843, -1.0226, 0.918611, 1.6203, 3.566309, 5.513833, -4.279777, -1.4016, 0.0535, 0.599633, 2.4714, 3.1342, 5.055967, -3.512743],
            [-2.8178, -0.876589, 1.0674, 1.771109, 3.718633, 5.667323, -3.1968, -1.7417, -1.195567, 0.6762, 2.5813, 3.260767, 5.192057, -3.3707, -2.671789, -0.7278],
            [-0.024091, 1.923433, 3.872123, 5.508, -3.5369, -1.748467, -1.119, 0.7861, 2.707867, 3.396857, 5.3341, -4.466989, -2.523, -0.576991, 0.128233, 2.076923],
            [4.9551, 5.1679, -3.543667, -1.6719, -1.0091, 0.912667, 1.601657, 3.5389, 5.480111, -4.3182, -2.372191, -0.424667, 0.281723, 3.1599, 4.615, 5.161133],
            [-3.4671, -2.8043, -0.882533, 1.048757, 1.7437, 3.684911, 5.6289, -4.167391, -2.219867, -1.513477, 1.3647, 2.8198, 3.365933, 5.2377, -3.3572, -2.677733],
            [-0.746443, 1.1908, 1.889711, 3.8337, 4.537409, -4.015067, -2.066377, -0.4305, 1.0246, 2.813033, 3.4425, 5.3476, -3.230633, -2.541643, -0.6044, 0.094511],
            [2.0385, 3.984509, 4.689733, -3.861577, -0.9834, -0.7706, 1.017833, 1.6473, 3.5524, 5.474167, -4.336843, -2.3996, -0.458389, 0.2433, 2.189309, 4.136833],
            [4.843223, -2.7786, -2.5658, -0.777367, 1.0944, 1.7572, 3.678967, 5.610257, -4.1948, -2.253589, -0.3096, 0.394109, 2.341633, 3.048023, 5.9262, -3.1187],
            [-2.572567, -0.7008, 1.2043, 1.883767, 3.815057, 4.51, -4.048789, -2.1048, -1.401091, 0.546433, 2.495123, 4.131, 5.5861, -3.125467, -2.496, -0.5909],
            [0.088567, 2.019857, 3.9571, 4.656011, -3.9, -1.953991, -1.248767, 0.699923, 3.5781, 3.7909, 5.579333, -4.2912, -2.3861, -0.464333, 0.224657, 2.1619],
            [4.103111, 4.8048, -3.749191, -1.801667, -1.095277, 1.7829, 1.9957, 3.784133, 5.6559, -4.1813, -2.259533, -0.328243, 0.3667, 2.307911, 3.0096, 4.955609],
            [-3.596867, -2.890477, -0.0123, 1.4428, 1.988933, 3.8607, 5.7658, -4.054733, -2.123443, -1.4285, 0.512711, 2.4567, 3.160409, 5.107933, -3.443377, -1.8075],
            [-0.3524, 1.436033, 2.0655, 3.9706, 4.650067, -3.918643, -1.9814, -1.282489, 0.6615, 2.607509, 3.312733, 5.261423, -3.6027, -2.1476, -0.359167, 0.2703],
            [2.1754, 4.097167, 4.786157, -3.7766, -1.835389, -1.1337, 0.812309, 1.517533, 3.466223, 6.3444, -3.9428, -2.154367, -0.2826, 0.3802, 2.301967, 4.233257],
            [4.9282, -3.630589, -2.9289, -0.982891, 0.964633, 1.671023, 4.5492, 6.0043, -3.949567, -2.0778, -1.415, 0.506767, 2.438057, 3.133, 5.074211, -3.4818],
            [-2.778091, -0.830567, 1.118123, 2.754, 4.2091, 4.755233, -3.873, -1.9679, -1.288433, 0.642857, 2.5801, 3.279011, 5.223, -3.330991, -2.625767, -0.677077],
            [0.9588, 2.4139, 4.202333, 4.8318, -3.7631, -1.841333, -1.152343, 0.7849, 2.726111, 3.4278, 5.373809, -4.420967, -2.472277, 0.4059, 0.6187, 2.407133],
            [4.2789, 4.9417, -3.636533, -2.947543, -1.0103, 0.930911, 1.6326, 3.578609, 5.526133, -4.267477, -1.3893, 0.0658, 0.611933, 2.4837, 3.1465, 5.068267],
            [-3.500443, -2.8055, -0.864289, 1.0797, 1.783409, 3.730933, 5.679623, -3.1845, -1.7294, -1.183267, 0.6885, 2.5936, 3.273067, 5.204357, -3.3584, -2.659489],
            [-0.7155, -0.011791, 1.935733, 3.884423, 5.5203, -3.5246, -1.736167, -1.1067, 0.7984, 2.720167, 3.409157, 5.3464, -4.454689, -2.5107, -0.564691, 0.140533],
            [2.089223, 4.9674, 5.1802, -3.531367, -1.6596, -0.9968, 0.924967, 1.613957, 3.5512, 5.492411, -4.3059, -2.359891, -0.412367, 0.294023, 3.1722, 3.385],
            [5.173433, -3.4548, -2.792, -0.870233, 1.061057, 1.756, 3.697211, 5.6412, -4.155091, -2.207567, -1.501177, 1.377, 2.8321, 3.378233, 5.25, -3.3449],
            [-2.665433, -0.734143, 1.2031, 1.902011, 3.846, 4.549709, -4.002767, -2.054077, -0.4182, 1.0369, 2.825333, 3.4548, 5.3599, -3.218333, -2.529343, -0.5921],
            [0.106811, 2.0508, 3.996809, 4.702033, -3.849277, -0.9711, -0.7583, 1.030133, 1.6596, 3.5647, 5.486467, -4.324543, -2.3873, -0.446089, 0.2556, 2.201609],
            [4.149133, 4.855523, -2.7663, -2.5535, -0.765067, 1.1067, 1.7695, 3.691267, 5.622557, -4.1825, -2.241289, -0.2973, 0.406409, 2.353933, 3.060323, 5.9385],
            [-3.1064, -2.560267, -0.6885, 1.2166, 1.896067, 3.827357, 4.5223, -4.036489, -2.0925, -1.388791, 0.558733, 2.507423, 4.1433, 5.5984, -3.113167, -2.4837],
            [-0.5786, 0.100867, 2.032157, 3.9694, 4.668311, -3.8877, -1.941691, -1.236467, 0.712223, 3.5904, 3.8032, 5.591633, -4.2789, -2.3738, -0.452033, 0.236957],
            [2.1742, 4.115411, 4.8171, -3.736891, -3.031667, -1.082977, 1.7952, 2.008, 3.796433, 5.6682, -4.169, -2.247233, -0.315943, 0.379, 2.320211, 3.0219],
            [4.967909, -3.584567, -2.878177, 0.0, 1.4551, 2.001233, 3.873, 5.7781, -4.042433, -2.111143, -1.4162, 0.525011, 2.469, 3.172709, 5.120233, -3.431077],
            [-1.7952, -0.3401, 1.448333, 2.0778, 3.9829, 4.662367, -3.906343, -1.9691, -1.270189, 0.6738, 2.619809, 3.325033, 5.273723, -3.5904, -2.1353, -0.346867],
            [0.2826, 2.1877, 4.109467, 4.798457, -3.7643, -1.823089, -1.1214, 0.824609, 1.529833, 3.478523, 6.3567, -3.9305, -2.142067, -0.2703, 0.3925, 2.314267],
            [4.245557, 4.9405, -3.618289, -2.9166, -0.970591, 0.976933, 1.683323, 4.5615, 6.0166, -3.937267, -2.0655, -1.4027, 0.519067, 2.450357, 3.1453, 5.086511],
        ]));
        let x = tf.placeholder(tf.float32, [None, 16]);
        let y = tf.nn.relu(tf.matmul(x, w) + 0.5);
        let z = tf.matmul(x, wt, transpose_b = true);
            }
        }
    };
}

weight_graph!(constant_weights:);
weight_graph!(variable_weights: tf.Variable);

#[test]
fn constant_weights_give_the_bits_of_variables() {
    let (mut c, mut v) = (constant_weights::Session::new(), variable_weights::Session::new());
    assert_eq!(c.run(constant_weights::w), v.variables().w);
    assert_eq!(c.run(constant_weights::wt), v.variables().wt);
    let x = SMatrix::<f32, 7, 16>::from_fn(|i, j| ((i * 16 + j) as f32 * 0.37).sin() * 3.0);
    let bits = |m: &[f32]| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    // One row (a batch of one), then seven (tiles of several rows and a row left).
    let one = SMatrix::<f32, 1, 16>::from_fn(|_, j| x[(3, j)]);
    let (cy, vy) = (c.run(constant_weights::y { x: &one }), v.run(variable_weights::y { x: &one }));
    assert_eq!(bits(cy.as_slice()), bits(vy.as_slice()));
    let (cy, vy) = (c.run(constant_weights::y { x: &x }), v.run(variable_weights::y { x: &x }));
    assert_eq!(bits(cy.as_slice()), bits(vy.as_slice()));
    let (cz, vz) = (c.run(constant_weights::z { x: &x }), v.run(variable_weights::z { x: &x }));
    assert_eq!(bits(cz.as_slice()), bits(vz.as_slice()));
    // Fed with a run-time size: one dot product per element, reading the panels' lines.
    let dx = tfcore::nalgebra::DMatrix::from_fn(7, 16, |i, j| x[(i, j)]);
    let cd = c.run(constant_weights::z { x: &dx }).expect("fits");
    assert_eq!(bits(cd.as_slice()), bits(vz.as_slice()));
}

// A product reading a variable reads the session's copy of it in panels (made by the first fetch
// that needs it), except in a fetch that writes the variable; every write marks the copy stale.
graph! {
    pub mod held {
        let W = tf.Variable(tf.random_uniform([40, 16], -1.0, 1.0));
        let x = tf.placeholder(tf.float32, [None, 40]);
        let t = tf.placeholder(tf.float32, [None, 16]);
        let y = tf.nn.relu(tf.matmul(x, W) + 0.5);
        let loss = tf.reduce_sum(tf.square(tf.matmul(x, W) - t));
        let train = tf.train.GradientDescentOptimizer(0.01).minimize(loss);
        let double = W.assign(W * 2.0);
        let init = tf.global_variables_initializer();
    }
}

#[test]
fn a_variables_copy_in_panels_follows_every_write() {
    let x = SMatrix::<f32, 7, 40>::from_fn(|i, j| ((i * 40 + j) as f32 * 0.37).sin());
    let t = SMatrix::<f32, 7, 16>::from_fn(|i, j| ((i * 16 + j) as f32 * 0.11).cos());
    let one = SMatrix::<f32, 1, 40>::from_fn(|_, j| x[(2, j)]);
    let bits = |m: &[f32]| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut s = held::Session::new();
    // What a session that never made a copy gives for `s`'s current variables.
    let check = |s: &mut held::Session, when: &str| {
        let mut fresh = held::Session::from_variables(*s.variables());
        for (got, want) in [
            (s.run(held::y { x: &x }).as_slice().to_vec(), fresh.run(held::y { x: &x }).as_slice().to_vec()),
            (s.run(held::y { x: &one }).as_slice().to_vec(), fresh.run(held::y { x: &one }).as_slice().to_vec()),
        ] {
            assert_eq!(bits(&got), bits(&want), "{when}");
        }
    };
    let before = s.run(held::y { x: &x });
    check(&mut s, "at the start");
    s.run(held::train { x: &x, t: &t });
    assert_ne!(s.run(held::y { x: &x }), before, "training changed nothing");
    check(&mut s, "after a training step");
    s.run(held::double);
    check(&mut s, "after an assignment");
    s.variables_mut().W[(3, 5)] = 7.0;
    check(&mut s, "after variables_mut");
    s.run(held::init);
    check(&mut s, "after re-initialising");
}

graph! {
    /// Nodes named as the parameters and locals of the generated methods, each needing no feed
    /// (so a unit struct of the module, which a binding of the same name would match as a
    /// pattern).
    pub mod clashing {
        let f = tf.constant(1.5);
        let fetch = f + 1;
        let out = fetch * 2;
        let name = tf.Variable(3.0);
        let seed = name + 1;
        let variables = seed * 2;
        let path = tf.constant(2.0);
        let bytes = tf.identity(path);
        let npz = bytes * 3;
        let rng = tf.Variable(tf.random_uniform([2], -1, 1));
        let vars = rng * 2;
    }
}

#[test]
fn nodes_may_be_named_as_the_generated_parameters() {
    let mut sess = clashing::Session::with_seed(7);
    assert_eq!(sess.run(clashing::out), 5.0);
    assert_eq!(sess.run(clashing::variables), 8.0);
    assert_eq!(sess.run(clashing::npz), 6.0);
    let mut into = 0.0;
    sess.run_into(clashing::fetch, &mut into);
    assert_eq!(into, 2.5);
    let saved = sess.variables().to_npz();
    let restored = clashing::Variables::from_npz(&saved).unwrap();
    assert_eq!(&restored, sess.variables());
    assert!(sess.variables().to_rust_const("W").to_string().contains("name: 3"));
    assert!(sess.to_onnx("fetch").is_ok());
    let again = clashing::Session::from_variables(restored);
    assert_eq!(again.variables().rng, sess.variables().rng);
}

// `tf.log(tf.nn.softmax(z))`, the seed's spelling of log-probabilities, is computed as
// `tf.nn.log_softmax(z)`: the same bits, values and gradient, and finite where a probability
// underflows (TensorFlow's literal `log` gives `-inf` there, and NaN gradients).
graph! {
    pub mod log_of_softmax {
        let z = tf.placeholder(tf.float32, [2, 3]);
        let w = tf.Variable(tf.constant([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]]));
        let seed_spelling = tf.log(tf.nn.softmax(z * w));
        let fused = tf.nn.log_softmax(z * w);
        let grads_seed = tf.gradients(tf.reduce_sum(seed_spelling * z), [w]);
        let grads_fused = tf.gradients(tf.reduce_sum(fused * z), [w]);
    }
}

#[test]
fn the_log_of_a_softmax_is_its_log_softmax() {
    let mut sess = log_of_softmax::Session::new();
    let bits = |m: SMatrix<f32, 2, 3>| m.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let z = matrix![0.5f32, -1.25, 2.0; 100.0, -80.0, 3.0];
    let seed = sess.run(log_of_softmax::seed_spelling { z: &z });
    assert_eq!(bits(seed), bits(sess.run(log_of_softmax::fused { z: &z })));
    let (gs,) = sess.run(log_of_softmax::grads_seed { z: &z });
    let (gf,) = sess.run(log_of_softmax::grads_fused { z: &z });
    assert_eq!(bits(gs), bits(gf));
    // The second row's logits are 300, -80 and -3: the last two probabilities underflow, and their
    // logs are finite, -380 and -303, where `ln(softmax)` is `-inf`.
    assert!(seed.iter().all(|v| v.is_finite()), "{seed}");
    assert!((seed[(1, 1)] - -380.0).abs() < 1e-3 && (seed[(1, 2)] - -303.0).abs() < 1e-3, "{seed}");
    // And where nothing underflows, the literal definition, to a few ULP.
    let row: Vec<f64> = (0..3).map(|j| f64::from(z[(0, j)]) * [1.0, -2.0, 0.5][j]).collect();
    let total: f64 = row.iter().map(|v| v.exp()).sum();
    for j in 0..3 {
        let literal = (row[j].exp() / total).ln();
        assert!((f64::from(seed[(0, j)]) - literal).abs() < 1e-6, "{seed} at {j}: {literal}");
    }
}

// `tf.nn.sigmoid_cross_entropy_with_logits` and `tf.math.log_sigmoid` against TensorFlow's values
// and gradients (`tools/sigmoid_cross_entropy.py`), at logits of 0 (where the gradient depends on
// which side `where` puts 0), near 0, and where the sigmoid saturates; and the cross entropy spelt
// out with `tf.log(tf.sigmoid(..))`, computed through `log_sigmoid`, finite where TensorFlow's
// literal `log` gives `inf`.
graph! {
    pub mod sigmoid_cross_entropy {
        let z = tf.placeholder(tf.float32, [1, 12]);
        let y = tf.placeholder(tf.float32, [1, 12]);
        let w = tf.Variable(tf.zeros([1, 12]));
        let logits = z + w;
        let fused = tf.nn.sigmoid_cross_entropy_with_logits(labels = y, logits = logits);
        let spelt = -(y * tf.log(tf.sigmoid(logits)) + (1 - y) * tf.log(1 - tf.sigmoid(logits)));
        let log_sigmoid = tf.math.log_sigmoid(logits);
        let grads_fused = tf.gradients(tf.reduce_sum(fused), [w]);
        let grads_spelt = tf.gradients(tf.reduce_sum(spelt), [w]);
        let grads_log_sigmoid = tf.gradients(tf.reduce_sum(log_sigmoid * y), [w]);
    }
}

#[test]
fn the_sigmoid_cross_entropy_is_tensorflows() {
    let npz = tfcore::npy::Npz::parse(include_bytes!("data/sigmoid_cross_entropy.npz")).unwrap();
    let row = |key: &str| SMatrix::<f32, 1, 12>::from_row_slice(&npz.get(key).unwrap().to_vec::<f32>().unwrap());
    let (z, y) = (row("z"), row("y"));
    let close = |ours: SMatrix<f32, 1, 12>, theirs: SMatrix<f32, 1, 12>, what: &str| {
        for (j, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
            assert!(a.is_finite(), "{what} at {j}: {ours}");
            assert!((a - b).abs() <= 1e-7 + 1e-6 * b.abs(), "{what} at {j}: {a} against TensorFlow's {b}");
        }
    };
    let mut sess = sigmoid_cross_entropy::Session::new();
    close(sess.run(sigmoid_cross_entropy::fused { z: &z, y: &y }), row("loss"), "loss");
    close(sess.run(sigmoid_cross_entropy::spelt { z: &z, y: &y }), row("loss"), "the loss spelt out");
    close(sess.run(sigmoid_cross_entropy::log_sigmoid { z: &z }), row("log_sigmoid"), "log_sigmoid");
    close(sess.run(sigmoid_cross_entropy::grads_fused { z: &z, y: &y }).0, row("grad_loss"), "gradient");
    close(sess.run(sigmoid_cross_entropy::grads_spelt { z: &z, y: &y }).0, row("grad_loss"), "gradient spelt out");
    let (g,) = sess.run(sigmoid_cross_entropy::grads_log_sigmoid { z: &z, y: &y });
    close(g, row("grad_log_sigmoid"), "log_sigmoid's gradient");
}
