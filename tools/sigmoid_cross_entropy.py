"""TensorFlow's values for tests/ops.rs' sigmoid cross entropy test: `tf.nn.sigmoid_cross_entropy_with_logits`
and `tf.math.log_sigmoid` of `logits = z + w` (`w` a variable of zeros), and their gradients with respect
to `w`, over logits at 0, near it, moderate, and where the sigmoid saturates in float32.

    pip install tensorflow-cpu
    python3 tools/sigmoid_cross_entropy.py    # writes tests/data/sigmoid_cross_entropy.npz
"""
import os

import numpy as np
import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))
z = np.array([[0.0, 1e-3, -1e-3, 0.5, -2.0, 5.0, -7.5, 17.0, -20.0, 40.0, -90.0, 100.0]], np.float32)
y = np.array([[0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0, 0.0, 0.25, 1.0, 0.0, 0.75]], np.float32)

w = tf.Variable(tf.zeros([1, 12]))
with tf.GradientTape(persistent=True) as tape:
    logits = z + w
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)
    log_sigmoid = tf.math.log_sigmoid(logits)
    total = tf.reduce_sum(loss)
    total_log = tf.reduce_sum(log_sigmoid * y)
np.savez(
    os.path.join(here, "..", "tests", "data", "sigmoid_cross_entropy.npz"),
    z=z,
    y=y,
    loss=loss.numpy(),
    grad_loss=tape.gradient(total, w).numpy(),
    log_sigmoid=log_sigmoid.numpy(),
    grad_log_sigmoid=tape.gradient(total_log, w).numpy(),
)
print("loss", loss.numpy())
print("grad", tape.gradient(total, w).numpy())
