"""The digits CNN's reference from TensorFlow: `tests/data/digits_tf.npz`.

Builds `examples/digits/net.rs`'s graph in TensorFlow 1 graph mode (float32, Eigen kernels),
starts it from initial weights drawn here (Glorot-uniform, NumPy seed 7), runs STEPS Adam steps on
the first STEPS batches of the training images in their stored order (every image whose index is
not 4 modulo 5; the others are the held-out fifth), and saves: the initial weights (`init/NAME`),
each step's loss before its update (`losses`), the weights after the last step (`final/NAME`), the
logits of the first batch at the initial weights (`logits0`), and TensorFlow's version.

    pip install tensorflow-cpu
    TF_ENABLE_ONEDNN_OPTS=0 python3 tools/tf_digits.py   # from the repository's root

With `--time`, it writes nothing and instead times one training step on a batch of 32 and the
classification of one image (median of 5 rounds of `timeit`, one thread), to set beside
`cargo bench --bench digits`.

`tests/data/digits.npz` is a copy of `../shared/data/digits.npz` (scikit-learn's 8 x 8 digits).
"""
import os
import sys
import timeit

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1
tf1.disable_eager_execution()

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BATCH, STEPS, LEARNING_RATE = 32, 20, 0.01

data = np.load(os.path.join(ROOT, "tests", "data", "digits.npz"))
images = (data["images"].astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)
labels = data["labels"]
train = np.array([i for i in range(len(labels)) if i % 5 != 4])

rng = np.random.default_rng(7)


def glorot(shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


init = {
    "K1": glorot([3, 3, 1, 16], 9, 9 * 16),
    "c1": np.zeros([16], np.float32),
    "W1": glorot([256, 32], 256, 32),
    "b1": np.zeros([32], np.float32),
    "W2": glorot([32, 10], 32, 10),
    "b2": np.zeros([10], np.float32),
}

graph = tf1.Graph()
with graph.as_default():
    v = {k: tf1.Variable(a, name=k) for k, a in init.items()}
    X = tf1.placeholder(tf.float32, [None, 8, 8, 1])
    Y = tf1.placeholder(tf.uint8, [None])
    conv = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(X, v["K1"], strides=[1, 1, 1, 1], padding="SAME"), v["c1"]))
    pooled = tf.nn.max_pool2d(conv, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    flat = tf.reshape(pooled, [-1, 256])
    hidden = tf.nn.relu(tf.matmul(flat, v["W1"]) + v["b1"])
    logits = tf.matmul(hidden, v["W2"]) + v["b2"]
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot(Y, 10), logits=logits))
    train_step = tf1.train.AdamOptimizer(LEARNING_RATE).minimize(loss)
    config = tf1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with tf1.Session(config=config) as sess:
        sess.run(tf1.global_variables_initializer())
        if "--time" in sys.argv:
            batch, one = train[:BATCH], train[:1]
            for name, fetch, feed, n in [
                ("train_step_32", train_step, {X: images[batch], Y: labels[batch]}, 2000),
                ("classify_one", logits, {X: images[one]}, 20000),
            ]:
                rounds = timeit.repeat(lambda: sess.run(fetch, feed), number=n, repeat=5)
                print(f"TensorFlow {tf.__version__} {name}: {sorted(rounds)[2] / n * 1e6:.1f} us")
            sys.exit(0)
        first = train[:BATCH]
        logits0 = sess.run(logits, {X: images[first]})
        losses = []
        for step in range(STEPS):
            batch = train[step * BATCH:(step + 1) * BATCH]
            l, _ = sess.run([loss, train_step], {X: images[batch], Y: labels[batch]})
            losses.append(l)
        final = sess.run(v)

out = {f"init/{k}": a for k, a in init.items()}
out.update({f"final/{k}": a for k, a in final.items()})
out["losses"] = np.array(losses, np.float32)
out["logits0"] = logits0.astype(np.float32)
out["version"] = np.frombuffer(tf.__version__.encode(), np.uint8)
np.savez(os.path.join(ROOT, "tests", "data", "digits_tf.npz"), **out)
print("losses", np.array(losses))
