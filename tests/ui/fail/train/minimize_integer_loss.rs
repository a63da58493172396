use tfcore::graph;

graph! {
    pub mod counts {
        let n = tf.Variable(3);
        let loss = n * n;
        let train_step = tf.train.GradientDescentOptimizer(0.1).minimize(loss);
    }
}

fn main() {}
