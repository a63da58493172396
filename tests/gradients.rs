//! Every op's derived gradient against central finite differences, in float64.
//!
//! One table: each row is an expression over the variables `a` ([2, 3]), `b` ([3]), `c` ([2, 1]),
//! `s` (a scalar), `p` ([3, 2]), `q` ([2, 3], positive), `img` ([2, 4, 4, 2], a batch of two
//! 4 × 4 images of two channels) and `ker` ([3, 3, 2, 2], a filter). Its loss is
//! `reduce_sum(square(expr))`, so each output element weighs in with its own value, and the
//! gradient `tf.gradients` derives for every variable is compared with central differences of
//! the loss. To test another op, add a row.

use tfcore::graph;

macro_rules! gradient_table {
    ($($row:ident => { $($expr:tt)+ })*) => {
        mod table {
            pub mod losses {
                tfcore::graph! {
                    pub mod g {
                        let a = tf.Variable(tf.constant([[0.7, -1.3, 0.4], [1.1, 0.35, -0.6]], dtype = tf.float64));
                        let b = tf.Variable(tf.constant([0.5, -0.8, 1.6], dtype = tf.float64));
                        let c = tf.Variable(tf.constant([[0.9], [-0.45]], dtype = tf.float64));
                        let s = tf.Variable(tf.constant(1.25, dtype = tf.float64));
                        let p = tf.Variable(tf.constant([[0.3, -0.7], [1.2, 0.8], [-0.25, 0.6]], dtype = tf.float64));
                        let q = tf.Variable(tf.constant([[0.6, 1.4, 2.2], [0.9, 3.1, 0.45]], dtype = tf.float64));
                        let img = tf.Variable(tf.random_uniform([2, 4, 4, 2], -1, 1, dtype = tf.float64));
                        let ker = tf.Variable(tf.random_uniform([3, 3, 2, 2], -1, 1, dtype = tf.float64));
                        $(
                            let $row = tf.reduce_sum(tf.square($($expr)+));
                        )*
                    }
                }
            }
            pub mod grads {
                tfcore::graph! {
                    pub mod g {
                        let a = tf.Variable(tf.constant([[0.7, -1.3, 0.4], [1.1, 0.35, -0.6]], dtype = tf.float64));
                        let b = tf.Variable(tf.constant([0.5, -0.8, 1.6], dtype = tf.float64));
                        let c = tf.Variable(tf.constant([[0.9], [-0.45]], dtype = tf.float64));
                        let s = tf.Variable(tf.constant(1.25, dtype = tf.float64));
                        let p = tf.Variable(tf.constant([[0.3, -0.7], [1.2, 0.8], [-0.25, 0.6]], dtype = tf.float64));
                        let q = tf.Variable(tf.constant([[0.6, 1.4, 2.2], [0.9, 3.1, 0.45]], dtype = tf.float64));
                        let img = tf.Variable(tf.random_uniform([2, 4, 4, 2], -1, 1, dtype = tf.float64));
                        let ker = tf.Variable(tf.random_uniform([3, 3, 2, 2], -1, 1, dtype = tf.float64));
                        $(
                            let $row = tf.gradients(tf.reduce_sum(tf.square($($expr)+)), [a, b, c, s, p, q, img, ker]);
                        )*
                    }
                }
            }

            /// Every row: its name, its loss at perturbed variables, and its derived gradient
            /// (flattened in the order of `elements`).
            pub fn rows() -> Vec<(&'static str, fn(&losses::g::Variables) -> f64, fn() -> Vec<f64>)> {
                vec![$((
                    stringify!($row),
                    |v| losses::g::Session::from_variables(*v).run(losses::g::$row),
                    || {
                        let (a, b, c, s, p, q, img, ker) = grads::g::Session::new().run(grads::g::$row);
                        [a.as_slice(), b.as_slice(), c.as_slice(), &[s], p.as_slice(), q.as_slice(), img.as_slice(), ker.as_slice()].concat()
                    },
                )),*]
            }
        }
    };
}

gradient_table! {
    add_row_broadcast => { a + b }
    add_column_broadcast => { a + c }
    add_scalar => { s + a }
    subtract => { a - b }
    subtract_from_scalar => { s - a }
    multiply => { a * b }
    multiply_column => { a * c }
    multiply_scalar => { a * s }
    divide => { a / q }
    divide_broadcast => { b / q }
    divide_by_scalar => { q / s }
    negate => { -a }
    exp => { tf.exp(a) }
    log => { tf.log(q) }
    sqrt => { tf.sqrt(q) }
    square => { tf.square(a) }
    abs => { tf.abs(a) }
    sigmoid => { tf.sigmoid(a) }
    tanh => { tf.tanh(a) }
    relu => { tf.nn.relu(a) }
    relu6 => { tf.nn.relu6(a * 6) }
    softmax_rows => { tf.nn.softmax(a) * q }
    softmax_vector => { tf.nn.softmax(b) * b }
    matmul => { tf.matmul(a, p) }
    matmul_transpose_a => { tf.matmul(a, q, transpose_a = true) }
    matmul_transpose_b => { tf.matmul(a, q, transpose_b = true) }
    matmul_transpose_both => { tf.matmul(p, a, transpose_a = true, transpose_b = true) }
    transpose => { tf.transpose(a) * p }
    reduce_sum_all => { tf.reduce_sum(a * q) }
    reduce_sum_rows => { tf.reduce_sum(a * q, axis = 0) }
    reduce_sum_columns => { tf.reduce_sum(a * q, axis = 1) }
    reduce_sum_keepdims => { tf.reduce_sum(a, axis = -1, keepdims = true) * q }
    reduce_mean_all => { tf.reduce_mean(a * q) }
    reduce_mean_rows => { tf.reduce_mean(a * q, axis = 0) }
    where_branches => { tf.where(a > 0, a * s, tf.square(a) + b) }
    identity_and_cast => { tf.identity(tf.cast(a, tf.float64)) * b }
    one_hot_carries_none => { tf.one_hot(tf.constant([0, 2]), 3, dtype = tf.float64) * a }
    dense_layer => { tf.nn.softmax(tf.matmul(tf.sigmoid(tf.matmul(a, p) + c), tf.transpose(p)) + b) }
    conv2d_same => { tf.nn.conv2d(img, ker, strides = [1, 1, 1, 1], padding = "SAME") }
    conv2d_valid_strided => { tf.nn.conv2d(img, ker, strides = 2, padding = "VALID") }
    conv2d_same_strided => { tf.nn.conv2d(img, ker, strides = [2, 2], padding = "SAME") }
    conv2d_dilated => { tf.nn.conv2d(img, ker, strides = 1, padding = "SAME", dilations = [1, 2, 2, 1]) }
    depthwise_same => { tf.nn.depthwise_conv2d(img, ker, strides = [1, 1, 1, 1], padding = "SAME") }
    depthwise_valid_strided => { tf.nn.depthwise_conv2d(img, ker, strides = [1, 2, 2, 1], padding = "VALID") }
    conv_layer => { tf.sigmoid(tf.nn.conv2d(tf.tanh(img), ker, strides = 1, padding = "SAME") * s) }
    max_pool_same => { tf.nn.max_pool(img, ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "SAME") }
    max_pool_overlapping => { tf.nn.max_pool(img, ksize = 3, strides = 1, padding = "SAME") }
    avg_pool_same => { tf.nn.avg_pool(img, ksize = [1, 3, 3, 1], strides = [1, 2, 2, 1], padding = "SAME") }
    avg_pool_valid => { tf.nn.avg_pool(img, ksize = 2, strides = 1, padding = "VALID") }
    // Windows that tile the input (as wide as their stride), padded before and after.
    max_pool_tiles_padded => { tf.nn.max_pool(img, ksize = 3, strides = 3, padding = "SAME") }
    avg_pool_tiles => { tf.nn.avg_pool(img, ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "VALID") }
    avg_pool_tiles_padded => { tf.nn.avg_pool(img, ksize = 3, strides = 3, padding = "SAME") }
    bias_add => { tf.nn.bias_add(a, b) }
    bias_add_image => { tf.nn.bias_add(tf.nn.conv2d(img, ker, strides = 1, padding = "SAME"), tf.reduce_sum(p, axis = 0)) }
    reshape_flatten => { tf.reshape(img, [-1, 32]) * tf.reshape(tf.transpose(img), [2, 32]) }
    squeeze_and_expand => { tf.expand_dims(tf.squeeze(c), 1) * a }
    reduce_max_rows => { tf.reduce_max(a * q, axis = 0) }
    reduce_max_image => { tf.reduce_max(img, axis = [1, 2], keepdims = true) * img }
    concat_rows => { tf.concat([a, q], axis = 0) * tf.concat([q, a], 0) }
    concat_columns => { tf.concat([c, a, c * s], axis = -1) }
    rsqrt => { tf.math.rsqrt(q) }
    reciprocal => { tf.math.reciprocal(q + 2) * a }
    pad_image => { tf.pad(img, [[0, 0], [1, 2], [0, 1], [0, 0]], constant_values = 0.5) * 1.5 }
    pad_matrix => { tf.pad(a, [[1, 0], [0, 2]]) * tf.pad(q, [[0, 1], [2, 0]]) }
    batch_norm => { tf.nn.batch_normalization(img, tf.reduce_mean(a, axis = 1), tf.reduce_sum(q, axis = 1), tf.reduce_sum(c, axis = 1), tf.reduce_sum(p, axis = 0) * s, 0.001) }
    batch_norm_moments => { tf.nn.batch_normalization(a, b, tf.square(b) + 0.5, None, None, 0.01) }
    log_softmax => { tf.nn.log_softmax(a * 3) * q }
    softmax_cross_entropy => { tf.nn.softmax_cross_entropy_with_logits_v2(labels = tf.nn.softmax(q), logits = a * s) }
    softmax_cross_entropy_v1 => { tf.nn.softmax_cross_entropy_with_logits(labels = tf.one_hot(tf.constant([0, 3, 7, 1, 1, 2, 5, 4]), 8, dtype = tf.float64), logits = tf.reshape(img, [8, 8]) * 4) }
    cross_entropy => { -tf.reduce_sum(tf.one_hot(tf.constant([1, 0]), 3, dtype = tf.float64) * tf.log(tf.nn.softmax(a * s))) }
}

/// Every variable element of `v`, in the order the derived gradients are flattened.
fn elements(v: &mut table::losses::g::Variables) -> Vec<&mut f64> {
    let mut all: Vec<&mut f64> = Vec::new();
    all.extend(v.a.iter_mut());
    all.extend(v.b.iter_mut());
    all.extend(v.c.iter_mut());
    all.push(&mut v.s);
    all.extend(v.p.iter_mut());
    all.extend(v.q.iter_mut());
    all.extend(v.img.as_mut_slice().iter_mut());
    all.extend(v.ker.as_mut_slice().iter_mut());
    all
}

#[test]
fn derived_gradients_match_central_differences() {
    let start = *table::losses::g::Session::new().variables();
    let h = 1e-6;
    let mut failures = Vec::new();
    for (row, loss, derived) in table::rows() {
        let derived = derived();
        assert_eq!(derived.len(), elements(&mut start.clone()).len(), "{row}");
        for (k, derived) in derived.iter().enumerate() {
            let (mut plus, mut minus) = (start, start);
            *elements(&mut plus)[k] += h;
            *elements(&mut minus)[k] -= h;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
            let error = (numeric - derived).abs() / numeric.abs().max(1.0);
            if error > 1e-6 {
                failures.push(format!("{row}: element {k}: derived {derived}, central difference {numeric}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

graph! {
    pub mod stopped {
        let a = tf.Variable(tf.constant([1.5, -2.0], dtype = tf.float64));
        let n = tf.Variable(tf.constant([3, 4]), trainable = false);
        let y = tf.reduce_sum(a * tf.stop_gradient(a) + tf.cast(n, tf.float64) * a);
        let grads = tf.gradients(y, [a]);
        let unrelated = tf.gradients(tf.reduce_sum(tf.stop_gradient(a)), [a]);
    }
}

#[test]
fn stop_gradient_and_integers_carry_no_gradient() {
    let mut sess = stopped::Session::new();
    // d/da (a * stop(a) + n * a) = stop(a) + n: the stopped factor counts as a constant.
    let (g,) = sess.run(stopped::grads);
    assert_eq!(g.as_slice(), &[1.5 + 3.0, -2.0 + 4.0]);
    // Nothing flows through `tf.stop_gradient`: the gradient is zero.
    let (g,) = sess.run(stopped::unrelated);
    assert_eq!(g.as_slice(), &[0.0, 0.0]);
}
