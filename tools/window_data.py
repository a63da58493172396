"""The inputs of tests/rank4.rs's window-kernel test (`tests/data/windows.npz`): random values of
mixed magnitudes, so that sums in different orders round differently.

    python3 tools/window_data.py
"""
import os

import numpy as np

rng = np.random.default_rng(11)
scales = np.array([1e3, 1e-3, 1, 7, 1e2, 0.1, 3, 1e4, 1e-2, 5, 2, 1e3, 0.5])
x = (rng.standard_normal((2, 10, 6, 13)) * scales).astype(np.float32)
f = (rng.standard_normal((3, 3, 13, 16)) * 3).astype(np.float32)
tall = (rng.standard_normal((9, 2, 13, 8)) * 3).astype(np.float32)
depthwise = (rng.standard_normal((3, 3, 16, 1)) * 3).astype(np.float32)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "windows.npz")
np.savez(path, x=x, f=f, tall=tall, depthwise=depthwise)
