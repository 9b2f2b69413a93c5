"""Loads an attn AOT library (attn-aot -o lib.so) with ctypes and calls its
entries on numpy arrays: the C ABI of runtime/include/attn/Runtime/AttnAOT.h,
with nothing else needed (no LLVM, no attn build), so it runs on a machine
that only has numpy and the NVIDIA driver."""

import ctypes
import re

import numpy as np

ABI_VERSION = 4
MAX_RANK = 8
# attn_aot_dtype -> numpy dtype (bf16 travels as uint16 bits).
DTYPES = {0: np.float32, 1: np.float16, 2: np.uint16, 3: np.float64,
          4: np.bool_, 5: np.int8, 6: np.int32, 7: np.int64}
CODES = {np.dtype(np.float32): 0, np.dtype(np.float16): 1,
         np.dtype(np.float64): 3, np.dtype(np.bool_): 4,
         np.dtype(np.int8): 5, np.dtype(np.int32): 6, np.dtype(np.int64): 7}


class Array(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("base", ctypes.c_void_p),
                ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.c_int64 * MAX_RANK)]


class AotError(RuntimeError):
    pass


class AotLibrary:
    def __init__(self, path):
        self.path = path
        self.lib = ctypes.CDLL(path)
        lib = self.lib
        lib.attn_aot_abi_version.restype = ctypes.c_int
        lib.attn_aot_describe.restype = ctypes.c_char_p
        lib.attn_aot_call.restype = ctypes.c_int
        lib.attn_aot_call.argtypes = [
            ctypes.c_char_p, ctypes.POINTER(Array), ctypes.c_int,
            ctypes.POINTER(Array), ctypes.c_int, ctypes.c_char_p,
            ctypes.c_size_t]
        lib.attn_aot_free.argtypes = [ctypes.c_void_p]
        lib.attn_aot_gpu_timing.argtypes = [ctypes.c_int]
        lib.attn_aot_gpu_kernel_ms.restype = ctypes.c_double
        version = lib.attn_aot_abi_version()
        if version != ABI_VERSION:
            raise AotError(f"{path}: ABI version {version}, this loader "
                           f"speaks {ABI_VERSION}")

    def describe(self):
        return self.lib.attn_aot_describe().decode()

    def signature(self, entry):
        """(input dtype names, result dtype names) of `entry`, e.g.
        (["f32", "bf16"], ["f32"]), from the description's line
        "entry <name> <inputs> <results> <dtype>[<sizes>]..."."""
        for line in self.describe().splitlines():
            fields = line.split(" ")
            if fields[0] == "entry" and fields[1] == entry:
                inputs, results = int(fields[2]), int(fields[3])
                kinds = [f[:f.index("[")] for f in fields[4:]]
                return kinds[:inputs], kinds[inputs:inputs + results]
        raise AotError(f"no entry {entry} in {self.path}")

    def call(self, entry, inputs):
        """Runs `entry` on numpy arrays (bfloat16 inputs as uint16 bits);
        returns its results as numpy arrays (copied, the library's buffers
        freed)."""
        in_types, out_types = self.signature(entry)
        bf16 = {i for i, t in enumerate(in_types) if t == "bf16"}
        num_outputs = len(out_types)
        keep = [np.ascontiguousarray(x) for x in inputs]
        arrays = (Array * max(1, len(keep)))()
        for i, x in enumerate(keep):
            if x.ndim > MAX_RANK:
                raise AotError(f"input {i}: rank {x.ndim} > {MAX_RANK}")
            arrays[i].data = x.ctypes.data
            arrays[i].dtype = 2 if i in bf16 else CODES[x.dtype]
            arrays[i].rank = x.ndim
            for d, n in enumerate(x.shape):
                arrays[i].shape[d] = n
        outputs = (Array * num_outputs)()
        error = ctypes.create_string_buffer(1024)
        status = self.lib.attn_aot_call(entry.encode(), arrays, len(keep),
                                        outputs, num_outputs, error, 1024)
        if status != 0:
            raise AotError(error.value.decode())
        results = []
        for out in outputs:
            shape = tuple(out.shape[d] for d in range(out.rank))
            dtype = np.dtype(DTYPES[out.dtype])
            count = int(np.prod(shape)) if shape else 1
            buffer = (ctypes.c_char * (count * dtype.itemsize)).from_address(
                out.data)
            results.append(np.frombuffer(buffer, dtype=dtype).reshape(shape)
                           .copy())
            self.lib.attn_aot_free(out.base)
        return results

    def gpu_timing(self, enable):
        self.lib.attn_aot_gpu_timing(1 if enable else 0)

    def gpu_kernel_ms(self):
        """Kernel milliseconds since the last call (-1 without GPU code)."""
        return self.lib.attn_aot_gpu_kernel_ms()
