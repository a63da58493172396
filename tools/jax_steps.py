"""JAX's time for the training steps issue 30 compares with: the 784-128-10 MLP's Adam step at
batch 64 (`benches/mlp.rs`) and the digits CNN's Adam step at batch 32 (`benches/digits.rs`), the
same layers, loss and optimiser (TensorFlow's `ApplyAdam`), each step `jax.jit`-compiled, on one
thread, with random data of the same shapes. Run it right after the Rust benchmarks, on the same
machine, to quote ratios from one session:

    cargo bench --bench mlp && cargo bench --bench digits
    python3 tools/jax_steps.py

Needs `pip install jax`. Prints the median of 9 rounds of each step, in microseconds.
"""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import statistics  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def adam(params, grads, state, lr):
    """TensorFlow's ApplyAdam on every parameter; `state` is (t, m, v)."""
    t, m, v = state
    t = t + 1
    lr_t = lr * jnp.sqrt(1 - BETA2**t) / (1 - BETA1**t)
    m = jax.tree.map(lambda m, g: m + (g - m) * (1 - BETA1), m, grads)
    v = jax.tree.map(lambda v, g: v + (g * g - v) * (1 - BETA2), v, grads)
    params = jax.tree.map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + EPSILON), params, m, v)
    return params, (t, m, v)


def cross_entropy(logits, labels):
    return -jnp.mean(jnp.sum(jax.nn.one_hot(labels, 10) * jax.nn.log_softmax(logits), axis=1))


def mlp_loss(p, x, y):
    hidden = jax.nn.relu(x @ p["W1"] + p["b1"])
    return cross_entropy(hidden @ p["W2"] + p["b2"], y)


def cnn_loss(p, x, y):
    conv = jax.lax.conv_general_dilated(x, p["K1"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    conv = jax.nn.relu(conv + p["c1"])
    pooled = jax.lax.reduce_window(conv, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
    hidden = jax.nn.relu(pooled.reshape(x.shape[0], 256) @ p["W1"] + p["b1"])
    return cross_entropy(hidden @ p["W2"] + p["b2"], y)


def step_of(loss, lr):
    @jax.jit
    def step(params, state, x, y):
        grads = jax.grad(loss)(params, x, y)
        return adam(params, grads, state, lr)

    return step


def time_step(step, params, x, y, iterations):
    state = (0, jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params))
    out = step(params, state, x, y)
    jax.block_until_ready(out)
    rounds = []
    for _ in range(9):
        start = time.perf_counter()
        for _ in range(iterations):
            out = step(params, state, x, y)
        jax.block_until_ready(out)
        rounds.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(rounds)


def uniform(key, shape, limit):
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def main():
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    mlp = {
        "W1": uniform(keys[0], (784, 128), 0.0815),
        "b1": jnp.zeros(128),
        "W2": uniform(keys[1], (128, 10), 0.2085),
        "b2": jnp.zeros(10),
    }
    x = jax.random.uniform(keys[2], (64, 784))
    y = jax.random.randint(keys[3], (64,), 0, 10)
    us = time_step(step_of(mlp_loss, 0.001), mlp, x, y, 200)
    print(f"JAX (jit, 1 thread), MLP 784-128-10 Adam step, batch 64: {us:.1f} us (median of 9 rounds)")
    cnn = {
        "K1": uniform(keys[4], (3, 3, 1, 16), 0.198),
        "c1": jnp.zeros(16),
        "W1": uniform(keys[5], (256, 32), 0.144),
        "b1": jnp.zeros(32),
        "W2": uniform(keys[6], (32, 10), 0.378),
        "b2": jnp.zeros(10),
    }
    x = jax.random.uniform(keys[7], (32, 8, 8, 1))
    y = jax.random.randint(keys[3], (32,), 0, 10)
    us = time_step(step_of(cnn_loss, 0.01), cnn, x, y, 500)
    print(f"JAX (jit, 1 thread), digits CNN Adam step, batch 32: {us:.1f} us (median of 9 rounds)")


if __name__ == "__main__":
    main()
