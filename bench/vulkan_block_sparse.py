#!/usr/bin/env python3
"""block_sparse against tiled on the Vulkan target, in one run: the kernel
time of each on the same sparse mask (B=1 H=4 Lq=256 Lk=1024 D=32, blocks
of 64 rows by 32 keys; each 64-row block sees 2 of the 32 key tiles, 70% of
their keys), and both results against each other.

    /usr/bin/python3 bench/vulkan_block_sparse.py [--bench 5] [--full-tiles]
        [--before path/to/attn-run]

--full-tiles allows every key of the visited tiles (the kernel then skips
the mask test on them); --before runs block_sparse of another build too
(say, one from an earlier commit), so a kernel change is measured before
and after in one run.

On lavapipe (the CPU) this shows how many tiles the kernel visits rather
than what a GPU would do; the same script runs on any Vulkan device
(ATTN_VULKAN_DEVICE picks one). Not part of the test run.
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATTN_RUN = os.path.join(ROOT, "build", "bin", "attn-run")
WORK = os.path.join(ROOT, "build", "bench", "vulkan-block-sparse")

SOURCE = """func.func @main(%q: tensor<1x4x256x32xf32>, %k: tensor<1x4x1024x32xf32>, %v: tensor<1x4x1024x32xf32>, %m: tensor<1x1x256x1024xi1>) -> tensor<1x4x256x32xf32> {{
  %init = tensor.empty() : tensor<1x4x256x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x256x32xf32>, tensor<1x4x1024x32xf32>, tensor<1x4x1024x32xf32>) mask(%m : tensor<1x1x256x1024xi1>) outs(%init : tensor<1x4x256x32xf32>) {{strategy = #attn.strategy<"{strategy}", {{block_q = 64, block_k = 32}}>}} -> tensor<1x4x256x32xf32>
  return %o : tensor<1x4x256x32xf32>
}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=int, default=5)
    parser.add_argument("--full-tiles", action="store_true")
    parser.add_argument("--before", help="another attn-run to compare")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "q": rng.standard_normal((1, 4, 256, 32), dtype=np.float32),
        "k": rng.standard_normal((1, 4, 1024, 32), dtype=np.float32),
        "v": rng.standard_normal((1, 4, 1024, 32), dtype=np.float32),
    }
    mask = np.zeros((1, 1, 256, 1024), bool)
    for block in range(4):
        for tile in (block * 3 % 32, (block * 7 + 5) % 32):
            mask[0, 0, block * 64:(block + 1) * 64, tile * 32:(tile + 1) * 32] = (
                1.0 if args.full_tiles else rng.random((64, 32)) < 0.7)
    arrays["mask"] = mask
    for name, array in arrays.items():
        np.save(os.path.join(WORK, name + ".npy"), array)
    inputs = ",".join(os.path.join(WORK, n + ".npy")
                      for n in ("q", "k", "v", "mask"))
    print(f"mask density {mask.mean():.3f}; 2 of 32 key tiles per block")
    times, outputs = {}, {}
    runs = [("tiled", "tiled", ATTN_RUN), ("block_sparse", "block_sparse", ATTN_RUN)]
    if args.before:
        runs.append(("block_sparse", "before", args.before))
    for strategy, label, attn_run in runs:
        source = os.path.join(WORK, strategy + ".mlir")
        with open(source, "w") as f:
            f.write(SOURCE.format(strategy=strategy))
        out = os.path.join(WORK, label + ".npy")
        run = subprocess.run(
            [attn_run, source, "--target", "vulkan", "--entry", "main",
             "--inputs", inputs, "--output", out, "--bench", str(args.bench)],
            capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"vulkan_block_sparse.py: {label}: {run.stderr.strip()}")
        match = re.search(r"kernel_median_ms=([0-9.]+)", run.stdout)
        times[label] = float(match.group(1))
        outputs[label] = np.load(out)
        print(f"{label:13s} kernel {times[label]:9.3f} ms")
    diff = float(np.abs(outputs["tiled"] - outputs["block_sparse"]).max())
    print(f"block_sparse speed-up over tiled: "
          f"{times['tiled'] / times['block_sparse']:.2f}x "
          f"(max |difference| {diff:.1e})")
    if args.before:
        print(f"block_sparse before / after: "
              f"{times['before'] / times['block_sparse']:.2f}x")


if __name__ == "__main__":
    main()
