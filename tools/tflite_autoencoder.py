"""Times TensorFlow Lite's interpreter on the MLPerf Tiny anomaly detector, one thread, with its
default delegate (XNNPACK), at batch 1, for the README's speed table beside
`cargo bench --bench models` (run it right after, on the same machine).

    pip install tensorflow-cpu
    python3 tools/tflite_autoencoder.py [path/to/model.tflite]

Prints the median of five rounds of the mean time per inference over 2,000 inferences, and checks
the output against TensorFlow's `expected.npy` beside the model.
"""
import os
import sys
import time

import numpy as np
import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))
model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "models", "autoencoder", "model.tflite")
folder = os.path.dirname(model)

interpreter = tf.lite.Interpreter(model_path=model, num_threads=1)
interpreter.allocate_tensors()
inp = interpreter.get_input_details()[0]
out = interpreter.get_output_details()[0]
inputs = np.load(os.path.join(folder, "inputs.npy")).astype(np.float32)
expected = np.load(os.path.join(folder, "expected.npy"))

def run(x):
    if inp["dtype"] == np.int8:
        scale, zero = inp["quantization"]
        x = np.round(x / scale + zero).astype(np.int8)
    interpreter.set_tensor(inp["index"], x.reshape(inp["shape"]))
    interpreter.invoke()
    y = interpreter.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        scale, zero = out["quantization"]
        y = (y.astype(np.float32) - zero) * scale
    return y

worst = max(float(np.max(np.abs(run(inputs[n]) - expected[n]))) for n in range(len(inputs)))
print(f"input dtype {np.dtype(inp['dtype']).name}; largest difference from expected.npy: {worst:.3g}")
rounds = []
for _ in range(5):
    start = time.perf_counter()
    for k in range(2000):
        run(inputs[k % len(inputs)])
    rounds.append((time.perf_counter() - start) / 2000)
print(f"TFLite interpreter (1 thread, default delegate), batch 1: {np.median(rounds) * 1e6:.2f} us per inference (median of 5 rounds)")
