"""attn: compile and run attention from numpy.

    import numpy as np, attn
    q = k = v = np.random.rand(1, 4, 128, 64).astype(np.float32)
    o = attn.attention(q, k, v, causal=True)          # built, compiled, cached
    mod = attn.compile("model.mlir", threads=2)       # or MLIR text
    o = mod.main(q, k, v)                             # or mod["main"](...)
    lib = attn.load_library("libmodel.so")            # from attn-aot
    o = attn.attention(q, k, v, dynamic=("Lk",))      # one compile, any Lk
    o, lse = attn.attention(q, k, v, causal=True, return_lse=True)
    dq, dk, dv = attn.attention_backward(q, k, v, o, do, lse, causal=True)
    o = attn.paged_attention(q, k_cache, v_cache, page_table, key_lengths)
    attn.explain(q, k, v, causal=True)                # candidates and costs
    import attn.distributed                           # over MPI ranks:
    o = attn.distributed.attention(q, k, v, ranks=4, mode="zigzag", causal=True)
    o = attn.attention(q, k, v, causal=True,          # custom variants:
                       score_mod=lambda s, b, h, i, j: s + slopes[h] * (j - i),
                       mask_mod=lambda b, h, i, j: seg[b, i] == seg[b, j])

bfloat16 arrays travel as uint16 bit patterns. Compilation errors raise
attn.CompileError (the MLIR diagnostics); bad shapes or dtypes raise
ValueError naming the argument.
"""

import ctypes
import os

from .compiler import (Candidate, CompileError, Entry, Module, OpReport,
                       compile, explain_source, load_library,
                       supported_gpu_chips, vulkan_available)
from .builder import (SCORES, attention, attention_backward, cache_info,
                      clear_cache, explain, ir, merge_states, neighborhood,
                      neighborhood_backward, paged_attention)
from .mods import ModTraceError, where
from . import _attn


def set_num_threads(threads):
    """Threads compiled code runs with from now on (0: all cores); entries
    of modules compiled with threads=N still use N."""
    _attn.set_num_threads(threads)


def load_strategy_library(path):
    """Loads a shared library that registers more strategies (built against
    attn's headers, as test/lib/ExampleStrategy is)."""
    # Such a library takes attn's symbols (the Strategy class) from the
    # process; Python opened this extension with RTLD_LOCAL, so make its
    # symbols global first (RTLD_NOLOAD: it is loaded already).
    ctypes.CDLL(_attn.__file__,
                mode=os.RTLD_NOW | os.RTLD_GLOBAL | os.RTLD_NOLOAD)
    _attn.load_strategy_library(os.fspath(path))


__all__ = ["Candidate", "CompileError", "Entry", "ModTraceError", "Module",
           "OpReport",
           "SCORES", "attention", "cache_info", "clear_cache", "compile",
           "explain", "explain_source", "ir", "load_library",
           "load_strategy_library", "merge_states", "neighborhood",
           "neighborhood_backward",
           "set_num_threads",
           "supported_gpu_chips", "vulkan_available", "where"]
