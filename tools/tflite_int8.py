"""Times TensorFlow Lite's interpreter on the MLPerf Tiny int8 models, one thread, with its default
delegate (XNNPACK, whose int8 kernels it uses), at batch 1, beside `cargo bench --bench int8` (run
it right after, on the same machine).

    pip install tensorflow-cpu
    python3 tools/tflite_int8.py

For each model: the median of five rounds of the mean time per inference over 2,000 inferences
(each a `set_tensor`, `invoke` and `get_tensor`, as the Rust benchmark's `run` takes the input and
returns the output), and how many outputs differ from TensorFlow Lite Micro's `expected_int8.npy`
(desktop TFLite rounds differently: it is not the reference).
"""
import os
import time

import numpy as np
import tensorflow as tf

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "tests", "data", "models")

for name in ["kws", "resnet8", "autoencoder"]:
    folder = os.path.join(models, name)
    interpreter = tf.lite.Interpreter(model_path=os.path.join(folder, "model_int8.tflite"), num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    inputs = np.load(os.path.join(folder, "inputs_int8.npy"))
    expected = np.load(os.path.join(folder, "expected_int8.npy"))

    def run(x):
        interpreter.set_tensor(inp["index"], x.reshape(inp["shape"]))
        interpreter.invoke()
        return interpreter.get_tensor(out["index"])

    differ = sum(int(np.sum(run(inputs[n]).reshape(expected[n].shape) != expected[n])) for n in range(len(inputs)))
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for k in range(2000):
            run(inputs[k % len(inputs)])
        rounds.append((time.perf_counter() - start) / 2000)
    print(f"{name}: TFLite int8 (1 thread, default delegate), batch 1: {np.median(rounds) * 1e6:.2f} us "
          f"per inference (median of 5 rounds); {differ} of {expected.size} outputs differ from TFLite Micro's")
