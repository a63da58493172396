"""Writes the ONNX fixtures of `tests/onnx_import.rs` and `tests/ui/fail/onnx/` into
`tests/data/onnx/`, with ONNX Runtime's outputs as the reference.

    pip install onnx onnxruntime
    python3 tools/onnx_fixtures.py

- `ops.onnx`: a small network over every operator the import supports, in the NCHW layout a
  PyTorch export has (input `x` [batch, 3, 6, 6]); outputs `probs` and `features`.
  `ops_inputs.npy` holds 4 inputs and `ops_probs.npy`, `ops_features.npy` ONNX Runtime's outputs.
- `pytorch_style.onnx`: a small CNN in the form `torch.onnx.export` gives a model that flattens
  with `x.view(x.size(0), -1)` (`Shape`, `Gather`, `Unsqueeze`, `Concat`, `Reshape`), with
  PyTorch's names (`input`, `/conv1/Conv`, `onnx::Gemm_...`), plus `Squeeze`/`Unsqueeze` and
  `Cast`; `pytorch_style_inputs.npy` holds 3 inputs and `pytorch_style_logits.npy` ONNX Runtime's
  outputs.
- `unsupported.onnx`: a model with operators the import does not support (`Erf`, `LeakyRelu`).
- `truncated.onnx`: the first 1000 bytes of `ops.onnx`.
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "onnx")
rng = np.random.default_rng(7)


def const(name, shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def ops_model():
    inits = [
        const("w1", [8, 3, 3, 3]), const("b1", [8], 0.1),
        const("bn_scale", [8]), const("bn_bias", [8], 0.1), const("bn_mean", [8], 0.1),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, [8]).astype(np.float32), "bn_var"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6.0, np.float32), "six"),
        const("w2", [8, 1, 3, 3]), const("b2", [8], 0.1),
        numpy_helper.from_array(np.array([0, -1], np.int64), "flat_shape"),
        const("w3", [16, 40], 0.3), const("c3", [16], 0.1),
        const("m4", [16], 1.0),
        numpy_helper.from_array(np.array(3.0, np.float32), "three"),
        const("w5", [16, 4], 0.5), const("b5", [4], 0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], epsilon=1e-3),
        helper.make_node("Clip", ["bn", "zero", "six"], ["r6"]),
        helper.make_node("Conv", ["r6", "w2", "b2"], ["dw"], group=8, strides=[2, 2], pads=[0, 0, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Sigmoid", ["dw"], ["sg"]),
        helper.make_node("MaxPool", ["sg"], ["mp"], kernel_shape=[2, 2], strides=[1, 1]),
        helper.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[2, 2], pads=[1, 1, 0, 0], count_include_pad=1),
        helper.make_node("GlobalAveragePool", ["r6"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["gap_flat"]),
        helper.make_node("Transpose", ["ap"], ["ap_t"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["ap_t", "flat_shape"], ["ap_flat"]),
        helper.make_node("Concat", ["ap_flat", "gap_flat"], ["cat"], axis=1),
        helper.make_node("Gemm", ["cat", "w3", "c3"], ["features"], transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Tanh", ["features"], ["th"]),
        helper.make_node("Mul", ["th", "m4"], ["mul"]),
        helper.make_node("Constant", [], ["one"], value=numpy_helper.from_array(np.array(1.0, np.float32))),
        helper.make_node("Sub", ["mul", "one"], ["sub"]),
        helper.make_node("Div", ["sub", "three"], ["div"]),
        helper.make_node("Identity", ["div"], ["id"]),
        helper.make_node("MatMul", ["id", "w5"], ["mm"]),
        helper.make_node("Add", ["mm", "b5"], ["logits"]),
        helper.make_node("Relu", ["logits"], ["relu"]),
        helper.make_node("Softmax", ["relu"], ["probs"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 6, 6])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 16])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tools/onnx_fixtures.py")
    onnx.checker.check_model(model)
    return model


def pytorch_style_model():
    inits = [
        const("conv1.weight", [4, 1, 3, 3]), const("conv1.bias", [4], 0.1),
        const("fc.weight", [5, 64], 0.3), const("fc.bias", [5], 0.1),
        numpy_helper.from_array(np.array(0, np.int64), "onnx::Gather_7"),
        numpy_helper.from_array(np.array([0], np.int64), "onnx::Unsqueeze_9"),
        numpy_helper.from_array(np.array([-1], np.int64), "onnx::Concat_11"),
        numpy_helper.from_array(np.array([1], np.int64), "axis_one"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["/conv1/Conv_output_0"], name="/conv1/Conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["/conv1/Conv_output_0"], ["/relu/Relu_output_0"], name="/relu/Relu"),
        helper.make_node("MaxPool", ["/relu/Relu_output_0"], ["/pool/MaxPool_output_0"], name="/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["/pool/MaxPool_output_0"], ["/Shape_output_0"], name="/Shape"),
        helper.make_node("Gather", ["/Shape_output_0", "onnx::Gather_7"], ["/Gather_output_0"], name="/Gather", axis=0),
        helper.make_node("Unsqueeze", ["/Gather_output_0", "onnx::Unsqueeze_9"], ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        helper.make_node("Concat", ["/Unsqueeze_output_0", "onnx::Concat_11"], ["/Concat_output_0"], name="/Concat", axis=0),
        helper.make_node("Reshape", ["/pool/MaxPool_output_0", "/Concat_output_0"], ["/Reshape_output_0"], name="/Reshape"),
        helper.make_node("Gemm", ["/Reshape_output_0", "fc.weight", "fc.bias"], ["/fc/Gemm_output_0"], name="/fc/Gemm", alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Unsqueeze", ["/fc/Gemm_output_0", "axis_one"], ["/Unsqueeze_1_output_0"], name="/Unsqueeze_1"),
        helper.make_node("Squeeze", ["/Unsqueeze_1_output_0", "axis_one"], ["/Squeeze_output_0"], name="/Squeeze"),
        helper.make_node("Cast", ["/Squeeze_output_0"], ["logits"], name="/Cast", to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch_size", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch", producer_version="2.5.0")
    onnx.checker.check_model(model)
    return model


def unsupported_model():
    nodes = [
        helper.make_node("Erf", ["x"], ["e"], name="erf_0"),
        helper.make_node("LeakyRelu", ["e"], ["y"], name="leaky_0"),
    ]
    graph = helper.make_graph(
        nodes, "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    os.makedirs(OUT, exist_ok=True)
    model = ops_model()
    path = os.path.join(OUT, "ops.onnx")
    onnx.save(model, path)
    x = rng.standard_normal([4, 3, 6, 6]).astype(np.float32)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    probs, features = sess.run(["probs", "features"], {"x": x})
    np.save(os.path.join(OUT, "ops_inputs.npy"), x)
    np.save(os.path.join(OUT, "ops_probs.npy"), probs)
    np.save(os.path.join(OUT, "ops_features.npy"), features)
    onnx.save(unsupported_model(), os.path.join(OUT, "unsupported.onnx"))
    torch_path = os.path.join(OUT, "pytorch_style.onnx")
    onnx.save(pytorch_style_model(), torch_path)
    images = rng.standard_normal([3, 1, 8, 8]).astype(np.float32)
    (logits,) = ort.InferenceSession(torch_path, providers=["CPUExecutionProvider"]).run(["logits"], {"input": images})
    np.save(os.path.join(OUT, "pytorch_style_inputs.npy"), images)
    np.save(os.path.join(OUT, "pytorch_style_logits.npy"), logits)
    with open(path, "rb") as f:
        head = f.read(1000)
    with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
        f.write(head)
    print("onnxruntime", ort.__version__, "probs", probs[0], "features", features[0][:4])


if __name__ == "__main__":
    main()
