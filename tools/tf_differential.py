#!/usr/bin/env python3
"""The differential suite's generator: random graphs over the whole `graph!` language, run through
TensorFlow, written out for `cargo test` to run through `graph!` and compare.

    pip install tensorflow-cpu
    python3 tools/tf_differential.py --seed 1 --cases 400

writes
  - tests/differential/cases.rs: one `graph!` module per case, with its feeds and a function running
    every fetch of it (every node of the graph, the gradients, the variables after two training or
    assignment steps);
  - tests/data/differential.json: TensorFlow's values for the same fetches, and what was generated.

`cargo test --test differential` then needs no Python. A case TensorFlow refuses (a kernel it lacks,
a conversion it will not make) is dropped and counted; every kept case must compile in `graph!`,
which is part of the test.

The graphs are built from a pool of typed tensors: placeholders (static shapes and `None` batch
dimensions), variables, constants written every way the language allows (nested lists, `dtype`,
`shape`, `tf.zeros`/`tf.ones`) and Python numbers, combined by every op of the README (elementwise
functions under every spelling, arithmetic and comparisons as operators and as calls, broadcasting
of every rank pattern, `tf.where`, casts, `tf.matmul` with transposes, `tf.transpose` (any permutation), reductions
over every axis list with and without `keepdims`, `tf.one_hot` with numbers and tensors as values,
softmax, `tf.identity`, `tf.stop_gradient`), plus `tf.gradients`, assignments grouped by
`tf.group`, and optimiser steps. Feeds include NaN, infinities and signed zeros.

Kept away, because they are deliberate differences listed in the README (or compile errors of
`graph!`): integer `/`, numbers out of their dtype's range, casts of out-of-range floats to
integers, zero-size dimensions, ranks above 2.
"""

import argparse
import json
import os
import random
import struct
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow's portable kernels (Eigen), the same on every CPU. On x86 it otherwise routes some
# float32 ops to oneDNN, whose softmax treats NaN and infinities differently from its own Eigen
# kernel (and from its float64 softmax); the README lists that difference.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FLOATS = ["float32", "float64"]
INTS = ["int32", "int64", "uint8"]
RUST = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64", "uint8": "u8", "bool": "bool"}
SHAPES = [[], [1], [3], [2, 3], [3, 2], [1, 3], [2, 1], [2, 2], [1, 1], [2, 3, 2], [1, 3, 3, 1], [2, 4, 4, 2], [1, 5, 4, 3], [2, 1, 1, 2]]


class Tensor:
    """A node of the graph being generated: its name, dtype, shape (a `None` batch dimension is
    written as -1), and what it is built from."""

    def __init__(self, name, dtype, shape, rust, py, deps, bounded=False, variables=()):
        self.name, self.dtype, self.shape = name, dtype, shape
        self.rust, self.py = rust, py
        self.deps = set(deps)  # placeholders it reads, in the graph as written
        self.bounded = bounded  # a leaf of finite values in [-3, 3] (safe to cast to integers)
        self.variables = set(variables)
        self.single = dtype == "float32"  # computed in float32 somewhere: compared at float32's precision
        # Computed by IEEE-exact operations only (`+ - * /`, `sqrt`, casts, selections), so both
        # sides hold the same bits. Only such floats are compared with `==`, `>`...: a comparison of
        # `log(exp(x))` with `x` flips on the last bit of libm's and Eigen's `exp`.
        self.exact = True
        # May hold NaN or an infinity: fed specials, or made by `log`, `sqrt`, `exp`, `/`. Max
        # pooling of NaN differs between TensorFlow's float32 and float64 kernels (README), so
        # it pools only tensors free of them.
        self.maybe_nan = False


def broadcast(a, b):
    rank = max(len(a), len(b))
    a = [1] * (rank - len(a)) + a
    b = [1] * (rank - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return out


def rust_float(x, dtype):
    """A Rust literal for a float: the shortest text that reads back to the same float32 or
    float64."""
    import numpy as np

    t = RUST[dtype]
    if x != x:
        return f"{t}::NAN"
    if x in (float("inf"), float("-inf")):
        return f"{t}::INFINITY" if x > 0 else f"{t}::NEG_INFINITY"
    text = str(np.float32(x)) if dtype == "float32" else repr(float(x))
    if not any(c in text for c in ".e"):
        text += ".0"
    return f"{text}{t}"


def rust_value(x, dtype):
    if dtype == "bool":
        return "true" if x else "false"
    if dtype in FLOATS:
        return rust_float(x, dtype)
    return f"{int(x)}{RUST[dtype]}"


def value_text(x, dtype):
    """A value as the JSON holds it: a string, so that NaN, infinities, -0 and int64 survive."""
    if dtype == "bool":
        return "true" if x else "false"
    if dtype in FLOATS:
        x = float(x)
        if x != x:
            return "nan"
        if x in (float("inf"), float("-inf")):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    return str(int(x))


class Generator:
    def __init__(self, rng, index):
        self.rng = rng
        self.index = index
        self.pool = []
        self.lines = []  # (name, rust expression, python expression)
        self.placeholders = []  # (tensor, feed values (flat, row-major), concrete shape)
        self.variables = []  # (tensor, initial values)
        self.count = 0
        self.batch = rng.choice([2, 3])
        self.inputs = []  # the inputs of the node being added (set by `combine`)
        self.consts = {}  # `const` items: name -> (Rust type, value)

    def fresh(self):
        self.count += 1
        return f"n{self.count}"

    def add(self, dtype, shape, rust, py, deps=(), variables=(), bounded=False, name=None, inexact=False, nan=False):
        name = name or self.fresh()
        t = Tensor(name, dtype, shape, rust, py, deps, bounded, variables)
        t.single = t.single or any(u.single for u in self.inputs)
        t.exact = not inexact and all(u.exact for u in self.inputs)
        t.maybe_nan = nan or any(u.maybe_nan for u in self.inputs)
        self.inputs = []
        self.lines.append((name, rust, py))
        self.pool.append(t)
        return t

    # --- values ---------------------------------------------------------------------------------

    def element(self, dtype, special):
        r = self.rng
        if dtype == "bool":
            return r.random() < 0.5
        if dtype == "uint8":
            return r.choice([0, 1, 2, 7, 100, 200, 255]) if r.random() < 0.3 else r.randint(0, 12)
        if dtype in ("int32", "int64"):
            if r.random() < 0.05:
                return r.choice([2147483647, -2147483648]) if dtype == "int32" else r.choice([2**62, -(2**62)])
            return r.randint(-6, 6)
        if special and r.random() < 0.2:
            return r.choice([float("nan"), float("inf"), float("-inf"), -0.0, 0.0])
        x = round(r.uniform(-3, 3), 3)
        return struct.unpack("f", struct.pack("f", x))[0] if dtype == "float32" else x

    def concrete(self, shape):
        return [self.batch if d == -1 else d for d in shape]

    # --- leaves ---------------------------------------------------------------------------------

    def placeholder(self, dtype=None):
        r = self.rng
        dtype = dtype or r.choice(FLOATS * 3 + INTS + ["bool"])
        shape = list(r.choice(SHAPES))
        if shape and r.random() < 0.3:
            shape[0] = -1
        special = dtype in FLOATS and r.random() < 0.25
        dims = ", ".join("None" if d == -1 else str(d) for d in shape)
        rust_dims = dims
        if 3 in shape and r.random() < 0.5:
            # a dimension named by a `usize` const
            self.consts["WIDTH"] = ("usize", "3")
            rust_dims = ", ".join("None" if d == -1 else "WIDTH" if d == 3 else str(d) for d in shape)
        spell = r.choice([f"tf.{dtype}"] + (['"float"'] if dtype == "float32" else []))
        t = self.add(dtype, shape, f"tf.placeholder({spell}, [{rust_dims}])", f"tf.placeholder(tf.{dtype}, [{dims}])")
        t.deps = {t.name}
        t.bounded = not special and dtype in FLOATS
        t.maybe_nan = special
        size = 1
        for d in self.concrete(shape):
            size *= d
        values = [self.element(dtype, special) for _ in range(size)]
        self.placeholders.append((t, values, self.concrete(shape)))
        return t

    def literal_list(self, values, shape, dtype):
        def nested(vals, dims):
            if not dims:
                v = vals[0]
                if dtype == "bool":
                    return "true" if v else "false", "True" if v else "False"
                text = repr(v) if dtype in FLOATS else str(v)
                return text, text
            step = len(vals) // dims[0]
            parts = [nested(vals[k * step:(k + 1) * step], dims[1:]) for k in range(dims[0])]
            return "[" + ", ".join(p[0] for p in parts) + "]", "[" + ", ".join(p[1] for p in parts) + "]"

        return nested(values, shape)

    def constant(self, dtype=None):
        r = self.rng
        dtype = dtype or r.choice(FLOATS + ["int32", "int64", "uint8", "bool"])
        shape = list(r.choice(SHAPES))
        size = 1
        for d in shape:
            size *= d
        form = r.random()
        if form < 0.15 and shape:
            one = dtype != "bool" and r.random() < 0.5
            fill = "ones" if one else "zeros"
            if dtype == "bool":
                dtype = "float32"
            return self.add(dtype, shape, f"tf.{fill}({shape}, dtype = tf.{dtype})", f"tf.{fill}({shape}, dtype=tf.{dtype})", bounded=dtype in FLOATS)
        values = []
        for _ in range(size):
            v = self.element(dtype, False)
            if dtype in FLOATS:
                v = round(r.uniform(-3, 3), 2)
            values.append(v)
        if form < 0.3 and size > 1 and dtype != "bool":
            # `shape =` filling from one value
            v = values[0]
            text = repr(v) if dtype in FLOATS else str(v)
            return self.add(dtype, shape, f"tf.constant({text}, dtype = tf.{dtype}, shape = {shape})", f"tf.constant({text}, dtype=tf.{dtype}, shape={shape})", bounded=dtype in FLOATS)
        rust, py = self.literal_list(values, shape, dtype)
        inferred = dtype == "bool" or (dtype == "float32" and any(isinstance(v, float) and v != int(v) for v in values))
        if dtype == "int32" and r.random() < 0.5:
            inferred = True  # a list of small integers is int32 without being told
        if inferred:
            return self.add(dtype, shape, f"tf.constant({rust})", f"tf.constant({py})", bounded=dtype in FLOATS)
        return self.add(dtype, shape, f"tf.constant({rust}, dtype = tf.{dtype})", f"tf.constant({py}, dtype=tf.{dtype})", bounded=dtype in FLOATS)

    def variable(self):
        r = self.rng
        dtype = r.choice(FLOATS * 3 + ["int32"])
        shape = list(r.choice(SHAPES))
        size = 1
        for d in shape:
            size *= d
        values = [round(r.uniform(-2, 2), 2) if dtype in FLOATS else r.randint(-4, 4) for _ in range(size)]
        rust, py = self.literal_list(values, shape, dtype)
        trainable = r.random() < 0.85
        t_rust = "" if trainable else ", trainable = false"
        t_py = "" if trainable else ", trainable=False"
        name = f"v{len(self.variables)}"
        t = self.add(dtype, shape, f"tf.Variable(tf.constant({rust}, dtype = tf.{dtype}){t_rust})", f"tf.Variable(tf.constant({py}, dtype=tf.{dtype}){t_py})", variables=[name], name=name)
        t.trainable = trainable
        self.variables.append((t, values))
        return t

    # --- ops ------------------------------------------------------------------------------------

    def pick(self, pred):
        choices = [t for t in self.pool if pred(t)]
        return self.rng.choice(choices) if choices else None

    def combine(self, *ts):
        self.inputs = list(ts)
        deps, variables = set(), set()
        for t in ts:
            deps |= t.deps
            variables |= t.variables
        return deps, variables

    def number(self, dtype):
        r = self.rng
        if dtype in FLOATS:
            x = r.choice([0.5, 2.0, -1.5, 3.0, 0.25, 1.0, 0.0, -0.0])
            if r.random() < 0.2:
                # Python folds arithmetic between numbers first: `1 / 4` is 0.25
                return "(1 / 4)", "(1 / 4)"
            text = repr(x)
            return (f"({text})", f"({text})") if x < 0 or text == "-0.0" else (text, text)
        if dtype == "uint8":
            v = r.randint(0, 3)
        else:
            v = r.randint(-3, 3)
        if r.random() < 0.15 and dtype != "uint8":
            return "(2 * 3)", "(2 * 3)"
        return (f"({v})", f"({v})") if v < 0 else (str(v), str(v))

    def step(self):
        r = self.rng
        kind = r.choice(["unary"] * 4 + ["binary"] * 5 + ["compare"] * 2 + ["where", "cast", "matmul", "transpose", "reduce", "reduce", "one_hot", "softmax", "identity", "number_op", "conv", "conv", "pool", "pool", "bias_add", "reshape", "reshape", "concat", "pad", "batch_norm", "log_softmax"])
        return getattr(self, "op_" + kind)()

    def op_unary(self):
        r = self.rng
        spellings = {
            "exp": ["tf.exp", "tf.math.exp"], "log": ["tf.log", "tf.math.log"], "sqrt": ["tf.sqrt"], "rsqrt": ["tf.math.rsqrt", "tf.rsqrt"],
            "square": ["tf.square", "tf.math.square"], "abs": ["tf.abs"], "sigmoid": ["tf.sigmoid", "tf.nn.sigmoid", "tf.math.sigmoid"],
            "tanh": ["tf.tanh", "tf.nn.tanh"], "relu": ["tf.nn.relu"], "relu6": ["tf.nn.relu6"], "negative": ["tf.negative", "-"],
        }
        op = r.choice(list(spellings))
        floats_only = op in ("exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh")
        x = self.pick(lambda t: t.dtype in FLOATS or (not floats_only and t.dtype in ("int32", "int64", "uint8") and not (op in ("negative", "abs") and t.dtype == "uint8")))
        if x is None:
            return None
        spell = r.choice(spellings[op])
        py = {"relu": "tf.nn.relu", "relu6": "tf.nn.relu6", "negative": "tf.negative"}.get(op, f"tf.math.{op}")
        rust = f"-{x.name}" if spell == "-" else f"{spell}({x.name})"
        # TensorFlow's float32 `rsqrt` is Eigen's estimate refined by a Newton step, not `1 / sqrt`
        inexact = op in ("exp", "log", "sigmoid", "tanh", "rsqrt")
        nan = op in ("exp", "log", "sqrt", "rsqrt")
        return self.add(x.dtype, x.shape, rust, f"{py}({x.name})", *self.combine(x), inexact=inexact, nan=nan)

    def operands(self, allowed):
        x = self.pick(lambda t: t.dtype in allowed)
        if x is None:
            return None
        # A `None` dimension (-1) broadcasts with itself and with 1 only, as in `graph!`.
        y = self.pick(lambda t: t.dtype == x.dtype and broadcast(t.shape, x.shape) is not None)
        return x, y

    def op_binary(self):
        r = self.rng
        op = r.choice(["+", "-", "*", "/", "tf.add", "tf.subtract", "tf.multiply", "tf.divide"])
        allowed = FLOATS if op in ("/", "tf.divide") else FLOATS + ["int32", "int64", "uint8"]
        pair = self.operands(allowed)
        if pair is None:
            return None
        x, y = pair
        if op in ("/", "tf.divide") and not y.exact:
            # Dividing by a computed sum near zero would amplify its last-bit differences.
            return None
        py_op = op
        shape = broadcast(x.shape, y.shape)
        # Python's operators where the graph writes operators: `1.0 + x` converts `1.0` to `x`'s
        # dtype (`__radd__`), while `tf.add(1.0, x)` converts it on its own.
        def py(a, b):
            return f"{py_op}({a}, {b})" if op.startswith("tf.") else f"{a} {op} {b}"

        if r.random() < 0.3:
            # with a Python number on one side
            text, py_text = self.number(x.dtype)
            if op.startswith("tf.") or r.random() < 0.5:
                rust = f"{op}({x.name}, {text})" if op.startswith("tf.") else f"{x.name} {op} {text}"
                return self.add(x.dtype, x.shape, rust, py(x.name, py_text), *self.combine(x), nan=op in ("/", "tf.divide"))
            return self.add(x.dtype, x.shape, f"{text} {op} {x.name}", py(py_text, x.name), *self.combine(x), nan=op in ("/", "tf.divide"))
        rust = f"{op}({x.name}, {y.name})" if op.startswith("tf.") else f"{x.name} {op} {y.name}"
        return self.add(x.dtype, shape, rust, py(x.name, y.name), *self.combine(x, y), nan=op in ("/", "tf.divide"))

    def op_compare(self):
        r = self.rng
        ops = {">": "tf.greater", "<": "tf.less", ">=": "tf.greater_equal", "<=": "tf.less_equal", "==": "tf.equal", "!=": "tf.not_equal"}
        op = r.choice(list(ops) + list(ops.values()))
        eq = op in ("==", "!=", "tf.equal", "tf.not_equal")
        pair = self.operands(FLOATS + ["int32", "int64", "uint8"] + (["bool"] if eq else []))
        if pair is None:
            return None
        x, y = pair
        if not (x.exact and y.exact):
            return None
        rust = f"{op}({x.name}, {y.name})" if op.startswith("tf.") else f"{x.name} {op} {y.name}"
        # Graph-mode `Tensor.__eq__` compares identity, so `==` and `!=` are written as calls.
        py = rust if op not in ("==", "!=") else f"{ops[op]}({x.name}, {y.name})"
        return self.add("bool", broadcast(x.shape, y.shape), rust, py, *self.combine(x, y))

    def op_where(self):
        c = self.pick(lambda t: t.dtype == "bool")
        if c is None:
            return None
        x = self.pick(lambda t: broadcast(t.shape, c.shape) is not None)
        if x is None:
            return None
        y = self.pick(lambda t: t.dtype == x.dtype and broadcast(broadcast(c.shape, x.shape), t.shape) is not None)
        if y is None:
            return None
        shape = broadcast(broadcast(c.shape, x.shape), y.shape)
        return self.add(x.dtype, shape, f"tf.where({c.name}, {x.name}, {y.name})", f"tf.where_v2({c.name}, {x.name}, {y.name})", *self.combine(c, x, y))

    def op_cast(self):
        r = self.rng
        x = self.pick(lambda t: True)
        if x is None:
            return None
        to = r.choice(FLOATS + ["int32", "int64", "bool"])
        if x.dtype in FLOATS and to in INTS and not x.bounded:
            to = r.choice(FLOATS + ["bool"])  # out-of-range floats to integers: a documented difference
        if x.dtype in FLOATS and to == "bool" and not x.bounded:
            to = "float64"  # NaN to bool: TensorFlow gives true, Rust's `!= 0` too; kept simple
        return self.add(to, x.shape, f"tf.cast({x.name}, tf.{to})", f"tf.cast({x.name}, tf.{to})", *self.combine(x))

    def op_matmul(self):
        r = self.rng
        a = self.pick(lambda t: len(t.shape) == 2 and t.dtype in FLOATS + ["int32", "int64"])
        if a is None:
            return None
        ta, tb = r.random() < 0.3, r.random() < 0.3
        m, k = (a.shape[1], a.shape[0]) if ta else (a.shape[0], a.shape[1])
        if k == -1:
            return None
        b = self.pick(lambda t: len(t.shape) == 2 and t.dtype == a.dtype and (t.shape[1] if tb else t.shape[0]) == k)
        if b is None:
            return None
        n = b.shape[0] if tb else b.shape[1]
        flags_r = "".join([", transpose_a = true" if ta else "", ", transpose_b = true" if tb else ""])
        flags_p = "".join([", transpose_a=True" if ta else "", ", transpose_b=True" if tb else ""])
        return self.add(a.dtype, [m, n], f"tf.matmul({a.name}, {b.name}{flags_r})", f"tf.matmul({a.name}, {b.name}{flags_p})", *self.combine(a, b), inexact=a.dtype in FLOATS)

    def op_transpose(self):
        x = self.pick(lambda t: len(t.shape) >= 2)
        if x is None:
            return None
        if self.rng.random() < 0.5:
            perm = list(range(len(x.shape)))
            self.rng.shuffle(perm)
            shape = [x.shape[p] for p in perm]
            return self.add(x.dtype, shape, f"tf.transpose({x.name}, perm = {perm})", f"tf.transpose({x.name}, perm={perm})", *self.combine(x))
        perm = self.rng.choice(["", ", perm = [1, 0]"]) if len(x.shape) == 2 else ""
        return self.add(x.dtype, x.shape[::-1], f"tf.transpose({x.name}{perm})", f"tf.transpose({x.name})", *self.combine(x))

    def op_reduce(self):
        r = self.rng
        x = self.pick(lambda t: t.dtype != "bool")
        if x is None:
            return None
        name = r.choice(["reduce_mean", "reduce_sum", "reduce_max"])
        rank = len(x.shape)
        choices = [None] + [[a] for a in range(-rank, rank)] + ([[0, 1]] if rank == 2 else []) + ([[1, 2], [0, 3]] if rank == 4 else [])
        axes = r.choice(choices)
        keep = r.random() < 0.3
        if axes is None:
            shape = [1] * rank if keep else []
        else:
            norm = sorted({a % rank for a in axes})
            shape = [1 if k in norm else d for k, d in enumerate(x.shape)] if keep else [d for k, d in enumerate(x.shape) if k not in norm]
        args_r, args_p = "", ""
        if axes is not None:
            text = str(axes[0]) if len(axes) == 1 and r.random() < 0.5 else str(axes)
            args_r += f", axis = {text}"
            args_p += f", axis={text}"
        if keep:
            args_r += ", keepdims = true"
            args_p += ", keepdims=True"
        spell = r.choice([f"tf.{name}", f"tf.math.{name}"])
        return self.add(x.dtype, shape, f"{spell}({x.name}{args_r})", f"tf.{name}({x.name}{args_p})", *self.combine(x), inexact=x.dtype in FLOATS)

    def op_one_hot(self):
        r = self.rng
        i = self.pick(lambda t: t.dtype in ("int32", "int64", "uint8") and len(t.shape) <= 1)
        if i is None:
            return None
        depth = r.choice([2, 3, 4])
        args_r, args_p = "", ""
        dtype = "float32"
        style = r.choice(["default", "numbers", "dtype", "tensor"])
        if style == "numbers":
            on, off = r.choice([(5, 1), (2.5, -1.0), (1, 0)])
            dtype = "float32" if isinstance(on, float) else "int32"
            args_r = f", on_value = {on}, off_value = {off}"
            args_p = f", on_value={on}, off_value={off}"
        elif style == "dtype":
            dtype = r.choice(["float64", "int32", "int64", "uint8"])
            args_r = f", on_value = 3, dtype = tf.{dtype}"
            args_p = f", on_value=3, dtype=tf.{dtype}"
        elif style == "tensor":
            v = self.pick(lambda t: t.shape == [] and t.dtype != "bool")
            if v is None:
                return None
            dtype = v.dtype
            # TensorFlow converts a number beside a tensor on its own (`0` is int32), so
            # `off_value` is a tensor too; `graph!` would convert a number to the dtype.
            args_r = f", on_value = {v.name}, off_value = tf.constant(0, dtype = tf.{dtype})"
            args_p = f", on_value={v.name}, off_value=tf.constant(0, dtype=tf.{dtype})"
            deps, variables = self.combine(i, v)
            return self.add(dtype, i.shape + [depth], f"tf.one_hot({i.name}, {depth}{args_r})", f"tf.one_hot({i.name}, {depth}{args_p})", deps, variables)
        return self.add(dtype, i.shape + [depth], f"tf.one_hot({i.name}, {depth}{args_r})", f"tf.one_hot({i.name}, {depth}{args_p})", *self.combine(i))

    def op_conv(self):
        """`tf.nn.conv2d` or `tf.nn.depthwise_conv2d` of a rank-4 float tensor with a new
        trainable filter, under every form of `strides`, `dilations` and `padding`."""
        r = self.rng
        x = self.pick(lambda t: t.dtype in FLOATS and len(t.shape) == 4 and -1 not in t.shape[1:])
        if x is None:
            return None
        depthwise = r.random() < 0.35
        kh, kw = r.choice([1, 2, 3]), r.choice([1, 2, 3])
        cin = x.shape[3]
        m = r.choice([1, 2, 3])
        stride = r.choice([1, 1, 2])
        dilation = r.choice([1, 1, 2]) if stride == 1 else 1
        sh = sw = stride
        padding = r.choice(["SAME", "VALID"])
        for size, k in ((x.shape[1], kh), (x.shape[2], kw)):
            if padding == "VALID" and size < (k - 1) * dilation + 1:
                padding = "SAME"
        size = kh * kw * cin * m
        values = [round(r.uniform(-1, 1), 2) for _ in range(size)]
        rust_f, py_f = self.literal_list(values, [kh, kw, cin, m], x.dtype)
        name = f"v{len(self.variables)}"
        f = self.add(x.dtype, [kh, kw, cin, m], f"tf.Variable(tf.constant({rust_f}, dtype = tf.{x.dtype}))", f"tf.Variable(tf.constant({py_f}, dtype=tf.{x.dtype}))", variables=[name], name=name)
        f.trainable = True
        self.variables.append((f, values))

        def out(size, k):
            span = (k - 1) * dilation + 1
            return -(-size // stride) if padding == "SAME" else (size - span) // stride + 1

        shape = [x.shape[0], out(x.shape[1], kh), out(x.shape[2], kw), cin * m if depthwise else m]
        strides_r = r.choice([f"[1, {sh}, {sw}, 1]", f"{stride}", f"[{sh}, {sw}]"]) if not depthwise else f"[1, {sh}, {sw}, 1]"
        dil_r = "" if dilation == 1 and r.random() < 0.5 else f", dilations = [1, {dilation}, {dilation}, 1]" if not depthwise else f", dilations = [{dilation}, {dilation}]"
        dil_p = dil_r.replace(" = ", "=")
        if depthwise:
            rust = f'tf.nn.depthwise_conv2d({x.name}, {f.name}, strides = {strides_r}, padding = "{padding}"{dil_r})'
            py = f'tf.nn.depthwise_conv2d({x.name}, {f.name}, strides=[1, {sh}, {sw}, 1], padding="{padding}"{dil_p})'
        else:
            rust = f'tf.nn.conv2d({x.name}, {f.name}, strides = {strides_r}, padding = "{padding}"{dil_r})'
            py = f'tf.nn.conv2d({x.name}, {f.name}, strides=[1, {sh}, {sw}, 1], padding="{padding}"{dil_p})'
        return self.add(x.dtype, shape, rust, py, *self.combine(x, f), inexact=True)

    def op_pool(self):
        """`tf.nn.max_pool` or `tf.nn.avg_pool` of a rank-4 tensor, every form of `ksize`,
        `strides` and `padding`."""
        r = self.rng
        x = self.pick(lambda t: len(t.shape) == 4 and -1 not in t.shape[1:] and (t.dtype in FLOATS or t.dtype in ("int32", "int64")) and not t.maybe_nan)
        if x is None:
            return None
        kind = "max_pool" if x.dtype not in FLOATS or r.random() < 0.5 else "avg_pool"
        kh, kw = r.choice([1, 2, 3]), r.choice([1, 2, 3])
        sh, sw = r.choice([1, 2]), r.choice([1, 2])
        padding = r.choice(["SAME", "VALID"])
        if padding == "VALID" and (x.shape[1] < kh or x.shape[2] < kw):
            padding = "SAME"

        def out(size, k, s):
            return -(-size // s) if padding == "SAME" else (size - k) // s + 1

        shape = [x.shape[0], out(x.shape[1], kh, sh), out(x.shape[2], kw, sw), x.shape[3]]
        ksize_r = r.choice([f"[1, {kh}, {kw}, 1]", f"[{kh}, {kw}]"]) if kh != kw else r.choice([f"{kh}", f"[1, {kh}, {kw}, 1]"])
        strides_r = r.choice([f"[1, {sh}, {sw}, 1]", f"[{sh}, {sw}]"]) if sh != sw else r.choice([f"{sh}", f"[1, {sh}, {sw}, 1]"])
        rust = f'tf.nn.{kind}({x.name}, ksize = {ksize_r}, strides = {strides_r}, padding = "{padding}")'
        py = f'tf.nn.{kind}({x.name}, ksize=[1, {kh}, {kw}, 1], strides=[1, {sh}, {sw}, 1], padding="{padding}")'
        return self.add(x.dtype, shape, rust, py, *self.combine(x), inexact=kind == "avg_pool")

    def op_bias_add(self):
        """`tf.nn.bias_add` of a tensor of rank 2 or more and a bias: a tensor of the right length
        when there is one, else a new constant."""
        r = self.rng
        x = self.pick(lambda t: len(t.shape) >= 2 and t.shape[-1] != -1 and t.dtype in FLOATS + ["int32", "int64"])
        if x is None:
            return None
        bias = self.pick(lambda t: t.shape == [x.shape[-1]] and t.dtype == x.dtype)
        if bias is None:
            values = [round(r.uniform(-2, 2), 2) if x.dtype in FLOATS else r.randint(-3, 3) for _ in range(x.shape[-1])]
            rust, py = self.literal_list(values, [x.shape[-1]], x.dtype)
            bias = self.add(x.dtype, [x.shape[-1]], f"tf.constant({rust}, dtype = tf.{x.dtype})", f"tf.constant({py}, dtype=tf.{x.dtype})", bounded=x.dtype in FLOATS)
        return self.add(x.dtype, x.shape, f"tf.nn.bias_add({x.name}, {bias.name})", f"tf.nn.bias_add({x.name}, {bias.name})", *self.combine(x, bias))

    def op_reshape(self):
        """`tf.reshape` (with and without -1, keeping a `None` batch), `tf.squeeze` or
        `tf.expand_dims`."""
        r = self.rng
        x = self.pick(lambda t: -1 not in t.shape[1:])
        if x is None:
            return None
        batch = x.shape[:1] == [-1]
        rest = 1
        for d in x.shape[1 if batch else 0:]:
            rest *= d
        kind = r.choice(["reshape", "reshape", "squeeze", "expand_dims"])
        if kind == "reshape":
            factors = [f for f in range(1, rest + 1) if rest % f == 0]
            a = r.choice(factors)
            tails = [[rest], [a, rest // a], [rest // a, a], [1, rest]]
            tail = r.choice([t for t in tails if len(t) <= 3])
            if batch:
                dims = [-1] + tail
                shape = [-1] + tail
            else:
                # `tail` has `rest` elements, so a -1 in place of its first size stands for it.
                dims = r.choice([[-1], tail, [-1] + tail[1:]])
                shape = [rest] if dims == [-1] else tail
            if len(shape) > 4:
                return None
            return self.add(x.dtype, shape, f"tf.reshape({x.name}, {dims})", f"tf.reshape({x.name}, {dims})", *self.combine(x))
        if kind == "squeeze":
            ones = [k for k, d in enumerate(x.shape) if d == 1]
            if not ones:
                return None
            if r.random() < 0.5:
                shape = [d for d in x.shape if d != 1]
                return self.add(x.dtype, shape, f"tf.squeeze({x.name})", f"tf.squeeze({x.name})", *self.combine(x))
            k = r.choice(ones)
            shape = [d for j, d in enumerate(x.shape) if j != k]
            return self.add(x.dtype, shape, f"tf.squeeze({x.name}, axis = [{k}])", f"tf.squeeze({x.name}, axis=[{k}])", *self.combine(x))
        if len(x.shape) >= 4:
            return None
        axis = r.randint(-len(x.shape) - 1, len(x.shape))
        at = axis % (len(x.shape) + 1)
        shape = x.shape[:at] + [1] + x.shape[at:]
        return self.add(x.dtype, shape, f"tf.expand_dims({x.name}, {axis})", f"tf.expand_dims({x.name}, {axis})", *self.combine(x))

    def op_concat(self):
        """`tf.concat` of two or three tensors of one dtype and rank, along an axis of known sizes
        where they may differ."""
        r = self.rng
        x = self.pick(lambda t: len(t.shape) >= 1)
        if x is None:
            return None
        axis = r.randrange(len(x.shape))
        if x.shape[axis] == -1:
            return None
        same = lambda t: t.dtype == x.dtype and len(t.shape) == len(x.shape) and t.shape[axis] != -1 and all(a == b for k, (a, b) in enumerate(zip(t.shape, x.shape)) if k != axis)
        parts = [x] + [self.pick(same) for _ in range(r.choice([1, 2]))]
        shape = list(x.shape)
        shape[axis] = sum(t.shape[axis] for t in parts)
        names = ", ".join(t.name for t in parts)
        written = r.choice([axis, axis - len(x.shape)])
        return self.add(x.dtype, shape, f"tf.concat([{names}], axis = {written})", f"tf.concat([{names}], axis={written})", *self.combine(*parts))

    def op_pad(self):
        """`tf.pad` of a tensor of known shape, with or without `constant_values`."""
        r = self.rng
        x = self.pick(lambda t: len(t.shape) >= 1 and -1 not in t.shape and t.dtype != "bool")
        if x is None:
            return None
        pads = [[r.randint(0, 2), r.randint(0, 2)] for _ in x.shape]
        shape = [d + a + b for d, (a, b) in zip(x.shape, pads)]
        if r.random() < 0.5:
            text, py = self.number(x.dtype)
            rust = f"tf.pad({x.name}, {pads}, constant_values = {text})"
            py = f"tf.pad({x.name}, {pads}, constant_values={py})"
        else:
            mode = r.choice(["", ', mode = "CONSTANT"', ', "constant"'])
            rust = f"tf.pad({x.name}, {pads}{mode})"
            py = f"tf.pad({x.name}, {pads}{mode.replace(' = ', '=')})"
        return self.add(x.dtype, shape, rust, py, *self.combine(x))

    def op_batch_norm(self):
        """`tf.nn.batch_normalization` over the last axis, with per-channel constants (a positive
        variance), `offset` and `scale` each given or `None`."""
        r = self.rng
        x = self.pick(lambda t: t.dtype in FLOATS and len(t.shape) >= 1 and t.shape[-1] != -1)
        if x is None:
            return None
        n = x.shape[-1]
        def channel(lo, hi):
            values = [round(r.uniform(lo, hi), 2) for _ in range(n)]
            rust, py = self.literal_list(values, [n], x.dtype)
            return self.add(x.dtype, [n], f"tf.constant({rust}, dtype = tf.{x.dtype})", f"tf.constant({py}, dtype=tf.{x.dtype})", bounded=True)
        mean = self.pick(lambda t: t.dtype == x.dtype and t.shape == [n] and t.bounded) or channel(-1, 1)
        variance = channel(0.1, 2)
        offset = channel(-1, 1) if r.random() < 0.7 else None
        scale = channel(0.5, 2) if r.random() < 0.7 else None
        eps = r.choice(["0.001", "1e-5", "0.5"])
        args = [x.name, mean.name, variance.name, offset.name if offset else "None", scale.name if scale else "None", eps]
        text = ", ".join(args)
        given = [t for t in (x, mean, variance, offset, scale) if t is not None]
        return self.add(x.dtype, x.shape, f"tf.nn.batch_normalization({text})", f"tf.nn.batch_normalization({text})", *self.combine(*given), inexact=True)

    def op_log_softmax(self):
        """`tf.nn.log_softmax`, or the cross entropy of a softmax of one tensor against the logits
        of another of the same shape."""
        r = self.rng
        x = self.pick(lambda t: t.dtype in FLOATS and len(t.shape) >= 1)
        if x is None:
            return None
        if r.random() < 0.5:
            spell = r.choice(["tf.nn.log_softmax", "tf.math.log_softmax"])
            return self.add(x.dtype, x.shape, f"{spell}({x.name})", f"tf.nn.log_softmax({x.name})", *self.combine(x), inexact=True)
        y = self.pick(lambda t: t.dtype == x.dtype and t.shape == x.shape)
        v2 = r.random() < 0.5
        op = "tf.nn.softmax_cross_entropy_with_logits" + ("_v2" if v2 else "")
        py_op = "tf.nn.softmax_cross_entropy_with_logits" if v2 else "tf.compat.v1.nn.softmax_cross_entropy_with_logits_v2"
        labels = f"tf.nn.softmax({y.name})"
        py_labels = labels if v2 else f"tf.stop_gradient({labels})"
        rust = f"{op}(labels = {labels}, logits = {x.name})"
        py = f"{py_op}(labels={py_labels}, logits={x.name})"
        return self.add(x.dtype, x.shape[:-1], rust, py, *self.combine(x, y), inexact=True)

    def op_softmax(self):
        x = self.pick(lambda t: t.dtype in FLOATS and len(t.shape) >= 1)
        if x is None:
            return None
        return self.add(x.dtype, x.shape, f"tf.nn.softmax({x.name})", f"tf.nn.softmax({x.name})", *self.combine(x), inexact=True)

    def op_identity(self):
        x = self.pick(lambda t: True)
        if x is None:
            return None
        op = self.rng.choice(["tf.identity", "tf.stop_gradient"])
        return self.add(x.dtype, x.shape, f"{op}({x.name})", f"{op}({x.name})", *self.combine(x))

    def op_number_op(self):
        # a weakly typed number meeting a tensor through a function of two
        x = self.pick(lambda t: t.dtype in FLOATS)
        if x is None:
            return None
        text, py = self.number(x.dtype)
        if x.dtype == "float32" and self.rng.random() < 0.4:
            # a typed `const` is a float32 scalar tensor
            self.consts["SCALE"] = ("f32", "0.75")
            text, py = "SCALE", "tf.constant(0.75, dtype=tf.float32)"
        return self.add(x.dtype, x.shape, f"{x.name} * {text} + {x.name}", f"tf.add(tf.multiply({x.name}, {py}), {x.name})", *self.combine(x))

    # --- the case -------------------------------------------------------------------------------

    def build(self):
        r = self.rng
        for _ in range(r.randint(1, 3)):
            self.placeholder()
        for _ in range(r.randint(0, 2)):
            self.variable()
        for _ in range(r.randint(0, 2)):
            self.constant()
        for _ in range(r.randint(3, 9)):
            self.step()
        self.extras = []
        floats = [t for t in self.pool if t.dtype in FLOATS and t.variables and not t.name.startswith("v")]
        trainable = [v for v, _ in self.variables if v.dtype in FLOATS and v.trainable]
        kind = r.choice(["gradients", "assign", "minimize", "none"])
        if kind == "gradients" and floats and trainable:
            y = r.choice(floats)
            xs = [v for v in trainable if v.dtype == y.dtype] or trainable[:1]
            names = ", ".join(v.name for v in xs)
            self.lines.append(("grads", f"tf.gradients({y.name}, [{names}])", f"tf.gradients({y.name}, [{names}])"))
            self.extras.append(("grads", xs, y.deps))
        elif kind == "assign" and self.variables:
            assigns_r, assigns_p, deps = [], [], set()
            for v in r.sample([v for v, _ in self.variables], k=min(2, len(self.variables))):
                # The value reads no other assigned variable: TensorFlow leaves the order of a
                # group's assignments open, and `graph!` reads every value before writing.
                values = [t for t in self.pool if t.dtype == v.dtype and broadcast(t.shape, v.shape) == v.shape and -1 not in t.shape and not (t.variables - {v.name})]
                if not values:
                    continue
                value = r.choice(values)
                method = r.choice(["assign", "assign_add", "assign_sub"])
                expr_r, expr_p = value.name, value.name
                if value.shape != v.shape:
                    expr_r = f"{value.name} + tf.zeros({v.shape}, dtype = tf.{v.dtype})"
                    expr_p = f"tf.add({value.name}, tf.zeros({v.shape}, dtype=tf.{v.dtype}))"
                assigns_r.append(f"{v.name}.{method}({expr_r})")
                assigns_p.append(f"tf.{method}({v.name}, {expr_p})")
                deps |= value.deps
            if assigns_r:
                self.lines.append(("step", f"tf.group({', '.join(assigns_r)})", f"tf.group({', '.join(assigns_p)})"))
                self.extras.append(("step", None, deps))
        elif kind == "minimize" and trainable:
            y = self.pick(lambda t: t.dtype in FLOATS and t.variables and t.dtype == trainable[0].dtype)
            if y is not None and any(v.name in y.variables for v in trainable):
                opt_r, opt_p = r.choice([
                    ("tf.train.GradientDescentOptimizer(0.1)", "tf.train.GradientDescentOptimizer(0.1)"),
                    ("tf.train.MomentumOptimizer(0.1, 0.9)", "tf.train.MomentumOptimizer(0.1, 0.9)"),
                    ("tf.train.MomentumOptimizer(0.05, 0.5, use_nesterov = true)", "tf.train.MomentumOptimizer(0.05, 0.5, use_nesterov=True)"),
                    ("tf.train.AdamOptimizer(0.01)", "tf.train.AdamOptimizer(0.01)"),
                ])
                # Never flat by construction: the gradient of `reduce_sum(softmax(v))` is zero,
                # and Adam would turn either side's rounding noise into a full step.
                # Plus the variables' own squares, which no rounding cancels.
                trained = [v.name for v in trainable if v.name in y.variables and v.dtype == y.dtype]
                loss = " + ".join([f"tf.reduce_sum(tf.square({y.name}))"] + [f"tf.reduce_sum(tf.square({v}))" for v in trained])
                self.lines.append(("loss", loss, loss))
                self.lines.append(("step", f"{opt_r}.minimize(loss)", f"{opt_p}.minimize(loss)"))
                self.extras.append(("step", None, y.deps))
        if self.variables and r.random() < 0.3:
            # re-initialises every variable, the optimisers' state too
            self.lines.append(("init", "tf.global_variables_initializer()", "tf.global_variables_initializer()"))
            self.extras.append(("init", None, set()))


def rust_case(g, index):
    """The Rust module of one case: the graph, its feeds, and the function running its fetches."""
    out = [f"pub mod c{index} {{", "    #![allow(non_snake_case, unused_imports)]", "    use super::*;", "    tfcore::graph! {", "        pub mod g {"]
    for name, (ty, value) in g.consts.items():
        out.append(f"            const {name}: {ty} = {value};")
    for name, rust, _ in g.lines:
        out.append(f"            let {name} = {rust};")
    out += ["        }", "    }", "", "    pub fn run() -> Vec<(&'static str, Vec<Value>)> {", "        let mut sess = g::Session::new();", "        let mut out = Vec::new();"]
    for t, values, shape in g.placeholders:
        ty = RUST[t.dtype]
        items = ", ".join(rust_value(v, t.dtype) for v in values)
        if not shape:
            out.append(f"        let {t.name}: {ty} = {items};")
        elif len(shape) > 2:
            # Nested array literals, row-major: `Array4([[[[a, b]]]])`, which cannot fail.
            def nested(vals, dims):
                if not dims:
                    return rust_value(vals[0], t.dtype)
                step = len(vals) // dims[0]
                return "[" + ", ".join(nested(vals[k * step:(k + 1) * step], dims[1:]) for k in range(dims[0])) + "]"

            dims = ", ".join(str(d) for d in shape)
            out.append(f"        let {t.name} = tfcore::Array{len(shape)}::<{ty}, {dims}>({nested(values, shape)});")
        elif len(shape) == 1:
            out.append(f"        let {t.name} = SVector::<{ty}, {shape[0]}>::from_row_slice(&[{items}]);")
        else:
            out.append(f"        let {t.name} = SMatrix::<{ty}, {shape[0]}, {shape[1]}>::from_row_slice(&[{items}]);")
    by_name = {t.name: t for t in g.pool}

    def fields(deps):
        parts = []
        for p, _, shape in g.placeholders:
            if p.name in deps:
                parts.append(p.name if not shape else f"{p.name}: &{p.name}")
        return " { " + ", ".join(parts) + " }" if parts else ""

    for name, _, _ in g.lines:
        t = by_name.get(name)
        if t is None or name in ("grads", "step", "loss", "init"):
            continue
        out.append(f'        out.push(("{name}", flat(&sess.run(g::{name}{fields(t.deps)}))));')
    for kind, xs, deps in g.extras:
        if kind == "grads":
            out.append(f"        let grads = sess.run(g::grads{fields(deps)});")
            for k in range(len(xs)):
                out.append(f'        out.push(("grads.{k}", flat(&grads.{k})));')
        if kind == "step":
            out.append(f"        sess.run(g::step{fields(deps)});")
            out.append(f"        sess.run(g::step{fields(deps)});")
            for v, _ in g.variables:
                out.append(f'        out.push(("after.{v.name}", flat(&sess.variables().{v.name})));')
        if kind == "init":
            out.append("        sess.run(g::init);")
            for v, _ in g.variables:
                out.append(f'        out.push(("init.{v.name}", flat(&sess.variables().{v.name})));')
    out += ["        out", "    }", "}", ""]
    return "\n".join(out)


def run_tensorflow(g):
    """TensorFlow's values for the case's fetches, in the order `rust_case` fetches them; `None`
    if TensorFlow refuses the graph."""
    import numpy as np
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        scope = {"tf": tf, "WIDTH": 3}
        try:
            for name, _, py in g.lines:
                scope[name] = eval(py, scope)
        except Exception as e:  # TensorFlow refuses to build it
            return None, f"build: {type(e).__name__}: {getattr(e, 'message', str(e)).strip().splitlines()[-1][:200]}"
        feed = {}
        for t, values, shape in g.placeholders:
            feed[scope[t.name]] = np.array(values, dtype=t.dtype).reshape(shape)
        results = []
        try:
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                by_name = {t.name: t for t in g.pool}
                # Gradients and training steps mix every value of the graph.
                any_single = any(t.single for t in g.pool)
                for name, _, _ in g.lines:
                    if name in ("grads", "step", "loss", "init") or name not in by_name:
                        continue
                    results.append((name, by_name[name].dtype, sess.run(scope[name], feed), by_name[name].single))
                for kind, xs, _ in g.extras:
                    if kind == "grads":
                        grads = scope["grads"]
                        values = sess.run([gr for gr in grads if gr is not None], feed)
                        it = iter(values)
                        for k, (x, gr) in enumerate(zip(xs, grads)):
                            # TensorFlow's None (unconnected) is zeros in `graph!` (README).
                            v = next(it) if gr is not None else np.zeros(g.concrete(x.shape), dtype=x.dtype)
                            results.append((f"grads.{k}", x.dtype, v, any_single))
                    if kind == "step":
                        sess.run(scope["step"], feed)
                        sess.run(scope["step"], feed)
                        for v, _ in g.variables:
                            results.append((f"after.{v.name}", v.dtype, sess.run(scope[v.name]), any_single))
                    if kind == "init":
                        sess.run(scope["init"])
                        for v, _ in g.variables:
                            results.append((f"init.{v.name}", v.dtype, sess.run(scope[v.name]), any_single))
        except Exception as e:
            return None, f"run: {type(e).__name__}: {getattr(e, 'message', str(e)).strip().splitlines()[-1][:200]}"
    out = []
    for name, dtype, value, single in results:
        arr = np.asarray(value)
        rtol = 1e-5 if single else 1e-9
        out.append({"name": name, "dtype": dtype, "shape": list(arr.shape), "rtol": rtol, "values": [value_text(x, dtype) for x in arr.reshape(-1).tolist()]})
    return out, None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=400)
    args = parser.parse_args()
    import tensorflow as tf_top

    rng = random.Random(args.seed)
    cases, dropped, modules = [], [], []
    attempt = 0
    while len(cases) < args.cases:
        attempt += 1
        g = Generator(random.Random(rng.getrandbits(64)), len(cases))
        g.build()
        results, why = run_tensorflow(g)
        if results is None:
            dropped.append(why + " | " + " ".join(f"let {n} = {r};" for n, r, _ in g.lines))
            continue
        index = len(cases)
        modules.append(rust_case(g, index))
        cases.append({"case": index, "graph": [f"let {n} = {r};" for n, r, _ in g.lines], "fetches": results})
    header = (
        "// @generated by tools/tf_differential.py --seed {seed} --cases {cases}; do not edit.\n"
        "// TensorFlow {version} refused {dropped} of {attempts} generated graphs (dropped).\n"
        "// Random feeds can look like 2.718 or 3.14; they are data, not approximations of e or pi.\n"
        "#![allow(clippy::approx_constant)]\n\n"
    ).format(seed=args.seed, cases=args.cases, version=tf_top.__version__, dropped=len(dropped), attempts=attempt)
    listing = "pub const CASES: &[Run] = &[" + ", ".join(f"c{k}::run" for k in range(len(cases))) + "];\n\n"
    with open(os.path.join(ROOT, "tests", "differential", "cases.rs"), "w") as f:
        f.write(header + "use super::{flat, Run, Value};\nuse tfcore::nalgebra::{SMatrix, SVector};\n\n" + listing + "\n".join(modules))
    data = {"seed": args.seed, "tensorflow": tf_top.__version__, "attempts": attempt, "dropped": dropped, "cases": cases}
    with open(os.path.join(ROOT, "tests", "data", "differential.json"), "w") as f:
        # One case a line: compact, and a regeneration's diff stays readable.
        head = json.dumps({k: v for k, v in data.items() if k != "cases"})[:-1]
        f.write(head + ', "cases": [\n' + ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases) + "\n]}\n")
    reasons = {}
    for why in dropped:
        key = why.split(" | ")[0]
        reasons[key] = reasons.get(key, 0) + 1
    print(f"{len(cases)} cases kept, {len(dropped)} of {attempt} refused by TensorFlow: {reasons}", file=sys.stderr)


if __name__ == "__main__":
    main()
