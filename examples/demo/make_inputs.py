#!/usr/bin/env python3
"""Writes the demo's input and weights (seeded, scaled like an initialized
model) as .npy files into the directory given as the only argument."""

import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(2026)
shapes = {
    "x": (256, 256),
    "wq1": (256, 256), "wk1": (256, 64), "wv1": (256, 64), "wo1": (256, 256),
    "wq2": (256, 256), "wk2": (256, 256), "wv2": (256, 256), "wo2": (256, 256),
}
for name, shape in shapes.items():
    scale = 1.0 if name == "x" else 1.0 / np.sqrt(shape[0])
    np.save(os.path.join(out, name + ".npy"),
            (rng.standard_normal(shape) * scale).astype(np.float32))
print(",".join(os.path.join(out, n + ".npy") for n in shapes))
