"""The inputs of tests/rank4.rs's pointwise-convolution test (`tests/data/pointwise.npz`): random
values of mixed magnitudes, so that sums in different orders round differently.

    python3 tools/pointwise_data.py
"""
import os

import numpy as np

rng = np.random.default_rng(7)
scales = np.array([1e3, 1e-3, 1, 7, 1e2, 0.1, 3, 1e4, 1e-2, 5, 2, 1e3, 0.5])
x = (rng.standard_normal((2, 3, 5, 13)) * scales).astype(np.float32)
f = (rng.standard_normal((1, 1, 13, 7)) * 3).astype(np.float32)
np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "pointwise.npz"), x=x, f=f)
