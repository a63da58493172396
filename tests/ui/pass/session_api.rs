// The generated API: seeds, variables in and out of sessions, a `const` of `Variables`,
// re-initialisation, the DOT graph, and every dtype.
use tfcore::graph;
use tfcore::nalgebra::{matrix, vector};

graph! {
    /// A layer with random weights.
    pub mod layer {
        const UNITS: usize = 3;
        let W = tf.Variable(tf.random_uniform([2, UNITS], -1, 1));
        let b = tf.Variable(tf.zeros([UNITS]));
        let steps = tf.Variable(0, dtype = tf.int64, trainable = false);
        let flags = tf.Variable(tf.constant([true, false]));
        let pixels = tf.Variable(tf.constant([[1, 2], [3, 255]], dtype = tf.uint8));
        let x = tf.placeholder(tf.float32, [1, 2]);
        /// The layer's output.
        let out = tf.matmul(x, W) + b;
        let count = steps.assign_add(1);
        let bright = tf.cast(pixels, tf.int32) > 128;
        let init = tf.global_variables_initializer();
    }
}

/// Weights a program can carry without training.
const TRAINED: layer::Variables = layer::Variables {
    W: matrix![1.0, 0.0, -1.0; 0.0, 1.0, 2.0],
    b: vector![0.5, 0.5, 0.5],
    steps: 7,
    flags: vector![false, true],
    pixels: matrix![1, 2; 3, 255],
};

fn main() {
    // Fixed default seed: two new sessions agree; another seed differs.
    let w1 = layer::Session::new().variables().W;
    assert_eq!(w1, layer::Session::new().variables().W);
    assert_ne!(w1, layer::Session::with_seed(7).variables().W);
    assert!(w1.iter().all(|w| (-1.0..1.0).contains(w)));

    let mut sess = layer::Session::from_variables(TRAINED);
    let out = sess.run(layer::out { x: &matrix![1.0, 2.0] });
    assert_eq!(out, matrix![1.5, 2.5, 3.5]);
    assert_eq!(sess.run(layer::count), 8);
    assert_eq!(sess.variables().steps, 8);
    sess.variables_mut().b = vector![0.0, 0.0, 0.0];
    assert_eq!(sess.run(layer::out { x: &matrix![1.0, 2.0] }), matrix![1.0, 2.0, 3.0]);
    assert_eq!(sess.run(layer::bright), matrix![false, false; false, true]);

    // The initializer puts back initial values (random ones drawn afresh).
    sess.run(layer::init);
    assert_eq!(sess.variables().steps, 0);
    assert_eq!(sess.variables().b, vector![0.0, 0.0, 0.0]);

    assert!(layer::GRAPH_DOT.starts_with("digraph layer {"));
    assert!(layer::GRAPH_DOT.contains("out\\ntf.add"));
    assert_eq!(layer::UNITS, 3);
    println!("{}", tfcore::display(&out));
}
