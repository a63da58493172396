// A small graph shared by the export test and the trybuild case that compiles its output.
tfcore::graph! {
    /// A layer whose weights have awkward values: a third, a tiny one, a huge one.
    pub mod layer {
        let W = tf.Variable(tf.constant([[1.0, -0.333333343], [1e-30, 3e38]]));
        let b = tf.Variable(tf.constant([0.1, -2.5], dtype = tf.float64));
        let count = tf.Variable(tf.constant(-7, dtype = tf.int64));
        let mask = tf.Variable(tf.constant([true, false]));
        let pixels = tf.Variable(tf.constant([0, 255], dtype = tf.uint8));
    }
}
