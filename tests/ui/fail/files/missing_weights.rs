// A weight file that is not there is a compile error on the path the graph names, once per file,
// however many arrays the graph takes from it.
use tfcore::graph;

graph! {
    pub mod model {
        let x = tf.placeholder(tf.float32, [None, 64]);
        let kernel = np.load("weights/trained.npz")["dense/kernel"];
        let bias = np.load("weights/trained.npz")["dense/bias"];
        let logits = tf.matmul(x, kernel) + bias;
    }
}

fn main() {}
