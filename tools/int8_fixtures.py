"""The int8 differential suite's cases: small random Keras models quantised by TensorFlow's
converter with a representative dataset, run by TensorFlow Lite Micro's own interpreter (its
reference kernels), saved under tests/data/int8/ for `tests/int8.rs`, which checks every output
bit for bit with no Python.

    pip install tensorflow-cpu tflite-micro
    python3 tools/int8_fixtures.py

Each case mixes the operators `tflite.load` reads with odd sizes, strides, dilations, SAME and
VALID padding, per-channel and per-tensor scales, fused ReLU and ReLU6, and inputs whose range
puts the zero point at an extreme. For case NAME it writes NAME.tflite, NAME_inputs.npy (the
inputs as the model takes them: int8, or float32 for a model that quantises its own input) and
NAME_expected.npy (TFLite Micro's outputs, one row per input). Seeds are fixed, but the converter's
output may change between TensorFlow versions; the script prints each model's input name, which
the test feeds.
"""

import os
import sys

import numpy as np
import tensorflow as tf
from tflite_micro.python.tflite_micro import runtime

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "int8")
SAMPLES = 6
layers = tf.keras.layers


def conv_stack():
    # Conv (stride 2, SAME, ReLU) -> depthwise (multiplier 2, VALID, ReLU6) -> average pool (SAME)
    # -> max pool (VALID) -> dense -> softmax.
    x = tf.keras.Input((11, 9, 3), batch_size=1, name="x")
    h = layers.Conv2D(5, 3, strides=2, padding="same", activation="relu")(x)
    h = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="valid", activation=tf.nn.relu6)(h)
    h = layers.AveragePooling2D(2, strides=1, padding="same")(h)
    h = layers.MaxPooling2D(2, strides=1, padding="valid")(h)
    h = layers.Flatten()(h)
    h = layers.Dense(7)(h)
    return tf.keras.Model(x, layers.Softmax()(h)), lambda r: r.normal(0.0, 2.0, (1, 11, 9, 3))


def residual():
    # Two branches added (ReLU fused into ADD), a dilated convolution, a pool over the whole
    # image, a dense layer without activation.
    x = tf.keras.Input((8, 8, 4), batch_size=1, name="x")
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    a = layers.Conv2D(4, 3, padding="same")(a)
    h = layers.ReLU()(layers.Add()([a, x]))
    h = layers.Conv2D(6, 3, dilation_rate=2, padding="same", activation="relu")(h)
    h = layers.Conv2D(8, 1, strides=2)(h)
    h = layers.AveragePooling2D(4)(h)
    h = layers.Flatten()(h)
    return tf.keras.Model(x, layers.Dense(6)(h)), lambda r: r.uniform(-1.0, 3.0, (1, 8, 8, 4))


def dense_positive():
    # Inputs all positive (zero point -128) into dense layers with ReLU, an output of any sign.
    x = tf.keras.Input((37,), batch_size=1, name="x")
    h = layers.Dense(13, activation="relu")(x)
    h = layers.Dense(9, activation="relu")(h)
    return tf.keras.Model(x, layers.Dense(5)(h)), lambda r: r.uniform(0.0, 10.0, (1, 37))


def float_io():
    # Float input and output: the converter adds QUANTIZE and DEQUANTIZE.
    x = tf.keras.Input((6, 5, 2), batch_size=1, name="x")
    h = layers.DepthwiseConv2D(2, strides=2, padding="same", activation="relu")(x)
    h = layers.Conv2D(3, 2, padding="valid")(h)
    h = layers.Flatten()(h)
    return tf.keras.Model(x, layers.Dense(4, activation="relu")(h)), lambda r: r.normal(1.0, 1.5, (1, 6, 5, 2))


def per_tensor():
    # The converter's per-tensor scales for convolutions too (no per-channel).
    x = tf.keras.Input((7, 7, 2), batch_size=1, name="x")
    h = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
    h = layers.DepthwiseConv2D(3, padding="same")(h)
    h = layers.AveragePooling2D(4)(h)
    h = layers.Flatten()(h)
    return tf.keras.Model(x, layers.Softmax()(layers.Dense(3)(h))), lambda r: r.normal(-2.0, 1.0, (1, 7, 7, 2))


def negative():
    # Inputs all negative (zero point near 127), a wide depthwise window, a max pool with SAME.
    x = tf.keras.Input((10, 10, 8), batch_size=1, name="x")
    h = layers.DepthwiseConv2D(5, padding="same", activation="relu")(x)
    h = layers.MaxPooling2D(3, strides=2, padding="same")(h)
    h = layers.Conv2D(16, 2, strides=2, padding="valid", activation="relu")(h)
    h = layers.Flatten()(h)
    return tf.keras.Model(x, layers.Softmax()(layers.Dense(10)(h))), lambda r: r.uniform(-8.0, -0.5, (1, 10, 10, 8))


def unsupported():
    # For the import's errors only: MEAN (a global average pool) and TANH are not read.
    x = tf.keras.Input((4, 4, 2), batch_size=1, name="x")
    h = layers.Conv2D(3, 2, activation="tanh")(x)
    h = layers.GlobalAveragePooling2D()(h)
    return tf.keras.Model(x, layers.Dense(2)(h)), lambda r: r.normal(0.0, 1.0, (1, 4, 4, 2))


CASES = [
    ("conv_stack", conv_stack, {}),
    ("residual", residual, {}),
    ("dense_positive", dense_positive, {}),
    ("float_io", float_io, {"float_io": True}),
    ("per_tensor", per_tensor, {"per_tensor": True}),
    ("negative", negative, {}),
]


def convert(model, draw, rng, float_io=False, per_tensor=False):
    def representative():
        for _ in range(64):
            yield [draw(rng).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    if per_tensor:
        converter._experimental_disable_per_channel = True
    return converter.convert()


def main():
    os.makedirs(OUT, exist_ok=True)
    # Models the import must refuse, with the errors `tfmacro/src/tests/expansion.rs` expects:
    # operators it does not read, and a file cut short.
    tf.keras.utils.set_random_seed(99)
    model, draw = unsupported()
    flat = convert(model, draw, np.random.default_rng(99))
    with open(os.path.join(OUT, "unsupported.tflite"), "wb") as f:
        f.write(flat)
    with open(os.path.join(OUT, "truncated.tflite"), "wb") as f:
        f.write(flat[: len(flat) // 3])
    for k, (name, build, options) in enumerate(CASES):
        tf.keras.utils.set_random_seed(100 + k)
        rng = np.random.default_rng(100 + k)
        model, draw = build()
        flat = convert(model, draw, rng, **options)
        interpreter = tf.lite.Interpreter(model_content=flat)
        detail = interpreter.get_input_details()[0]
        samples = [draw(rng).astype(np.float32) for _ in range(SAMPLES)]
        if detail["dtype"] == np.int8:
            scale, zero_point = detail["quantization"]
            samples = [np.clip(np.round(s / scale) + zero_point, -128, 127).astype(np.int8) for s in samples]
        micro = runtime.Interpreter.from_bytes(flat)
        outputs = []
        for s in samples:
            micro.set_input(s, 0)
            micro.invoke()
            outputs.append(micro.get_output(0).copy())
        with open(os.path.join(OUT, f"{name}.tflite"), "wb") as f:
            f.write(flat)
        np.save(os.path.join(OUT, f"{name}_inputs.npy"), np.concatenate(samples))
        np.save(os.path.join(OUT, f"{name}_expected.npy"), np.concatenate(outputs))
        ops = sorted({op["op_name"] for op in interpreter._get_ops_details()})
        print(f"{name}: input `{detail['name']}` {detail['dtype'].__name__} {[int(d) for d in detail['shape']]}, "
              f"output {outputs[0].dtype} {list(outputs[0].shape)}, {len(flat)} bytes, ops {', '.join(ops)}")


if __name__ == "__main__":
    sys.exit(main())
