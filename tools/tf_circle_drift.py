"""How far TensorFlow drifts from itself on the seed's circle classifier.

Replays tests/data/circle_tf_n64.json (TensorFlow 2.21, graph mode, float32, 2000 full-batch
gradient-descent steps) and prints, at each step the reference records, the relative difference
between this run's loss and the reference's. Run it twice to see what the summation order alone
does: once as the reference was made, once with oneDNN's kernels off.

    pip install tensorflow-cpu==2.21.*
    python3 tools/tf_circle_drift.py                         # oneDNN on (TensorFlow's default)
    TF_ENABLE_ONEDNN_OPTS=0 python3 tools/tf_circle_drift.py # Eigen's kernels

Not part of the test suite: it needs TensorFlow.
"""
import json
import os
import sys

import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
ref = json.load(open(os.path.join(os.path.dirname(__file__), "..", "tests", "data", "circle_tf_n64.json")))

X = tf.compat.v1.placeholder(tf.float32, [None, 2])
Y = tf.compat.v1.placeholder(tf.uint8)
W1 = tf.Variable(np.array(ref["initial"]["W1"], dtype=np.float32))
b1 = tf.Variable(np.array(ref["initial"]["b1"], dtype=np.float32))
W2 = tf.Variable(np.array(ref["initial"]["W2"], dtype=np.float32))
b2 = tf.Variable(np.array(ref["initial"]["b2"], dtype=np.float32))
onehot = tf.one_hot(Y, 2)
hidden = tf.sigmoid(tf.add(tf.matmul(X, W1), b1))
output = tf.nn.softmax(tf.add(tf.matmul(hidden, W2), b2))
loss = -tf.reduce_sum(onehot * tf.math.log(output))
step = tf.compat.v1.train.GradientDescentOptimizer(ref["LR"]).minimize(loss)

feed = {X: np.array(ref["X"], dtype=np.float32), Y: np.array(ref["Y"], dtype=np.uint8)}
want = dict((int(i), l) for i, l in ref["losses"])
worst = (0.0, 0)
with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    for i in range(ref["EPOCHS"]):
        if i in want:
            got = float(sess.run(loss, feed))
            rel = abs(got - want[i]) / abs(want[i])
            worst = max(worst, (rel, i))
            print(f"step {i}: {got:.6f} reference {want[i]:.6f} relative {rel:.2e}")
        sess.run(step, feed)
print(f"largest relative difference from the reference: {worst[0]:.2e} (before step {worst[1]})", file=sys.stderr)
