"""Times TensorFlow Lite's interpreter on single layers of the MLPerf Tiny models, one thread, its
default delegate (XNNPACK), batch 1, for the layer table of docs/internals/speed.md beside
`cargo bench --bench convolutions` (run it right after, on the same machine).

    pip install tensorflow-cpu
    python3 tools/tflite_layers.py

Each layer is a one-layer Keras model (its bias and ReLU included, as the models fuse them),
converted to a float `.tflite`. Prints the median of five rounds of the mean time per call over
3,000 calls, Python's `set_tensor`/`invoke`/`get_tensor` included; the first line, a model of one
ReLU, is what that call costs by itself.
"""
import time

import numpy as np
import tensorflow as tf

L = tf.keras.layers
LAYERS = [
    ("one ReLU (the call's own cost)", (25, 5, 64), lambda: L.ReLU()),
    ("KWS first layer (10 x 4 x 1, 64, stride 2)", (49, 10, 1), lambda: L.Conv2D(64, (10, 4), strides=2, padding="same", activation="relu")),
    ("KWS depthwise (3 x 3 x 64)", (25, 5, 64), lambda: L.DepthwiseConv2D(3, padding="same", activation="relu")),
    ("KWS pointwise (1 x 1 x 64, 64)", (25, 5, 64), lambda: L.Conv2D(64, 1, activation="relu")),
    ("ResNet-8 conv1 (3 x 3 x 16, 16)", (32, 32, 16), lambda: L.Conv2D(16, 3, padding="same", activation="relu")),
    ("ResNet-8 conv0 (3 x 3 x 3, 16)", (32, 32, 3), lambda: L.Conv2D(16, 3, padding="same", activation="relu")),
]


def time_layer(shape, make):
    inp = tf.keras.Input(shape=shape, batch_size=1)
    model = tf.keras.Model(inp, make()(inp))
    interpreter = tf.lite.Interpreter(model_content=tf.lite.TFLiteConverter.from_keras_model(model).convert(), num_threads=1)
    interpreter.allocate_tensors()
    i, o = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(3000):
            interpreter.set_tensor(i["index"], x)
            interpreter.invoke()
            interpreter.get_tensor(o["index"])
        rounds.append((time.perf_counter() - start) / 3000)
    return float(np.median(rounds)) * 1e6


for name, shape, make in LAYERS:
    print(f"{name}: {time_layer(shape, make):.2f} us per call (median of 5 rounds)", flush=True)
