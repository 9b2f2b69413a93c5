"""attn.compile(): MLIR text (or a file) to a module of callable entries;
attn.load_library(): the same for an AOT library that attn-aot wrote.

Entries take and return numpy arrays. C-contiguous, aligned inputs are
passed to compiled code as they are (no copy); other layouts are copied
once into C order. Each result is a numpy array over the buffer the
compiled code allocated, kept alive by a capsule (no copy either).
bfloat16 travels as uint16 arrays holding the bf16 bit patterns.
"""

import ctypes
import dataclasses
import os
import shutil
import subprocess

import numpy as np

from . import _attn

CompileError = _attn.CompileError
CompileError.__module__ = "attn"
CompileError.__doc__ = ("Compilation failed; str(error) is the MLIR "
                        "diagnostic text.")

# The compiler's own list (attn::api::knownTargets).
_TARGETS = tuple(_attn.known_targets())
_PIPELINE_OPTIONS = ("threads", "vector_width", "opt_level",
                     "override_strategy", "chip", "tensor_cores")
# Options of the GPU pipeline only.
_GPU_OPTIONS = ("chip", "tensor_cores")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One strategy's answer for one attn op, as --attn-explain prints it."""
    strategy: str
    applicable: bool
    reason: str          # why it cannot compute the op ("" if it can)
    seconds: float       # roofline estimate on the target
    flops: float
    bytes: float         # moved to and from memory
    parallelism: float   # independent work items for threads
    extra_bytes: float   # scratch memory beyond inputs and result
    efficiency: float    # fraction of peak the cost model assumes
    parameters: str      # the #attn.strategy<...> it would use, as text
    chosen: bool         # the one compilation would use


@dataclasses.dataclass(frozen=True)
class OpReport:
    """The candidates of one attn op in a source, cheapest first."""
    op: str
    location: str
    written: str         # strategy written on the op, or ""
    candidates: list

    @property
    def chosen(self):
        return next((c for c in self.candidates if c.chosen), None)


def vulkan_available():
    """Whether target="vulkan" has a device to run on here (Mesa's lavapipe
    counts): the Vulkan loader loads and `vulkaninfo --summary` (Debian's
    vulkan-tools, which scripts/build.sh installs) lists a device."""
    try:
        ctypes.CDLL("libvulkan.so.1")
    except OSError:
        return False
    if not shutil.which("vulkaninfo"):
        return False
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    summary = subprocess.run(["vulkaninfo", "--summary"], capture_output=True,
                             text=True, env=env).stdout
    return "deviceName" in summary


def check_target(target):
    if target not in _TARGETS:
        raise ValueError(f"'target' must be one of {', '.join(_TARGETS)}, "
                         f"got {target!r}")


def check_threads(threads):
    if not isinstance(threads, (int, np.integer)) or isinstance(
            threads, bool) or threads < 0:
        raise ValueError(f"'threads' must be a non-negative int (0: all "
                         f"cores), got {threads!r}")
    return int(threads)


def strategy_name(strategy, what="strategy"):
    if strategy is None:
        return ""
    if not isinstance(strategy, str) or not strategy:
        raise ValueError(f"'{what}' must be a strategy name, got "
                         f"{strategy!r}")
    return strategy


def _read_source(source):
    """(text, buffer name) of MLIR text or a path to a file."""
    if isinstance(source, bytes):
        source = source.decode()
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        with open(path) as f:
            return f.read(), path
    if not isinstance(source, str):
        raise ValueError(f"'source' must be MLIR text or a path, got "
                         f"{type(source).__name__}")
    if "\n" not in source and "{" not in source:
        if os.path.isfile(source):
            with open(source) as f:
                return f.read(), source
        if source.endswith(".mlir"):
            raise FileNotFoundError(f"'source': no file {source!r}")
    return source, "<source>"


def supported_gpu_chips():
    """The GPU architectures compile(target="cuda", chip=...) accepts."""
    return list(_attn.supported_gpu_chips())


def _pipeline_options(options, target):
    out = {}
    for key, value in options.items():
        name = key.replace("-", "_")
        if name not in _PIPELINE_OPTIONS:
            raise TypeError(f"unknown pipeline option {key!r} (known: "
                            f"{', '.join(_PIPELINE_OPTIONS)})")
        if name in _GPU_OPTIONS and target == "cpu":
            raise ValueError(f"pipeline option '{key}' applies to a GPU "
                             f"target, not {target!r}")
        if name == "override_strategy":
            out[name] = strategy_name(value, key)
        elif name == "threads":
            out[name] = check_threads(value)
        elif name == "chip":
            chips = supported_gpu_chips()
            if value not in chips:
                raise ValueError(f"'chip' must be one of {', '.join(chips)}, "
                                 f"got {value!r}")
            out["gpu_chip"] = value
        elif name == "tensor_cores":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"'tensor_cores' must be a bool, got "
                                 f"{value!r}")
            out[name] = bool(value)
        elif (isinstance(value, bool) or
              not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError(f"pipeline option '{key}' must be a "
                             f"non-negative int, got {value!r}")
        else:
            out[name] = int(value)
    return out


def compile(source, target="cpu", strategy=None, **pipeline_options):
    """Compiles MLIR text (or the file at path `source`) for `target`.

    strategy: forced on every attn op that carries none ("reference",
    "tiled", "split_kv", ...). pipeline_options: threads (0: all cores; the
    code is tuned for and runs with this many), vector_width (SIMD bits:
    128, 256 or 512; 0: the host's), opt_level (LLVM, default 3),
    override_strategy (replaces every op's strategy); for target="cuda",
    chip (one of supported_gpu_chips(), default "sm_90") and tensor_cores
    (f16/bf16 Q K^T on tensor cores). Raises CompileError with the
    diagnostics.
    """
    text, name = _read_source(source)
    check_target(target)
    options = _pipeline_options(pipeline_options, target)
    native = _attn.compile(text, name, target=target,
                           strategy=strategy_name(strategy), **options)
    return Module(native, name)


def load_library(path):
    """Loads an AOT library that attn-aot wrote (`attn-aot model.mlir -o
    lib.so`): a Module whose entries run the library's compiled code, with
    the same checks of shapes and dtypes as compiled modules. Raises
    ValueError when the file is not a whole attn AOT library of this
    version."""
    path = os.fspath(path)
    return Module(_attn.load_library(path), path)


def explain_source(source, target="cpu", strategy=None, threads=0,
                   vector_width=0):
    """Strategy selection for every attn op of `source`, as OpReports."""
    text, name = _read_source(source)
    check_target(target)
    reports = _attn.explain(text, name, target=target,
                            strategy=strategy_name(strategy),
                            threads=check_threads(threads),
                            vector_width=int(vector_width))
    return [OpReport(op=r["op"], location=r["location"],
                     written=r["written"],
                     candidates=[Candidate(**c) for c in r["candidates"]])
            for r in reports]


class Module:
    """A compiled module: `mod.main(...)` or `mod["main"](...)` runs @main."""

    def __init__(self, native, name="<source>"):
        self._native = native
        self._name = name
        self._entries = {n: Entry(self, n) for n in native.entries()}

    @property
    def entries(self):
        """Names of the public functions, in source order."""
        return list(self._entries)

    @property
    def threads(self):
        return self._native.threads

    def lowered_ir(self):
        """The module after compilation (LLVM dialect), as text (not for
        an AOT library)."""
        if not hasattr(self._native, "lowered_ir"):
            raise TypeError(f"{self._name} is an AOT library: its code is "
                            f"compiled, there is no IR")
        return self._native.lowered_ir()

    def __getitem__(self, name):
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"no entry @{name} in {self._name} (entries: "
                           f"{', '.join('@' + e for e in self._entries)})"
                           ) from None

    def __getattr__(self, name):
        entries = self.__dict__.get("_entries", {})
        if name in entries:
            return entries[name]
        raise AttributeError(f"no entry @{name} in this module (entries: "
                             f"{', '.join('@' + e for e in entries)})")

    def __contains__(self, name):
        return name in self._entries

    def __dir__(self):
        return list(super().__dir__()) + list(self._entries)

    def __repr__(self):
        return f"<attn.Module {self._name}: {', '.join(self._entries)}>"


class Entry:
    """One callable function of a compiled module."""

    def __init__(self, module, name):
        self._module = module
        self.name = name
        self.signature = module._native.signature(name)

    def _prepare(self, arrays):
        sig = self.signature
        if sig["known"] and len(arrays) != len(sig["inputs"]):
            raise ValueError(f"@{self.name} takes {len(sig['inputs'])} "
                             f"arrays, got {len(arrays)}")
        prepared = []
        for i, array in enumerate(arrays):
            array = np.asarray(array)
            if sig["known"]:
                spec = sig["inputs"][i]
                if spec["dtype"] is None:
                    raise ValueError(f"@{self.name} input {i} has type "
                                     f"{spec['type']}, which no array can "
                                     f"be passed as")
                want = np.dtype(spec["dtype"])
                if array.dtype != want:
                    hint = (" (bfloat16 travels as uint16 bit patterns)"
                            if "bf16" in spec["type"] else "")
                    raise ValueError(
                        f"@{self.name} input {i} has dtype {array.dtype} "
                        f"but the entry expects {want} for {spec['type']}"
                        f"{hint}")
                if array.ndim != len(spec["shape"]) or any(
                        w >= 0 and w != g
                        for w, g in zip(spec["shape"], array.shape)):
                    raise ValueError(
                        f"@{self.name} input {i} has shape {array.shape} "
                        f"but the entry expects {spec['type']}")
            prepared.append(np.require(array, requirements=("C", "A")))
        return prepared

    def _prepare_out(self, out):
        """The output arrays of `out` (one array, or one per result)."""
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        sig = self.signature
        if sig["known"] and len(outs) != len(sig["results"]):
            raise ValueError(f"@{self.name} returns {len(sig['results'])} "
                             f"results, got {len(outs)} output arrays")
        for i, array in enumerate(outs):
            if not isinstance(array, np.ndarray):
                raise TypeError(f"output {i} is a {type(array).__name__}, "
                                f"not a numpy array")
            if not array.flags.c_contiguous or not array.flags.writeable:
                raise ValueError(f"output {i} must be a C-contiguous, "
                                 f"writable array")
            if not sig["known"]:
                continue
            spec = sig["results"][i]
            want = np.dtype(spec["dtype"]) if spec["dtype"] else None
            if want is None or array.dtype != want:
                raise ValueError(f"output {i} has dtype {array.dtype} but "
                                 f"@{self.name} returns {spec['type']}")
            if array.ndim != len(spec["shape"]) or any(
                    w >= 0 and w != g
                    for w, g in zip(spec["shape"], array.shape)):
                raise ValueError(f"output {i} has shape {array.shape} but "
                                 f"@{self.name} returns {spec['type']}")
        return outs

    def __call__(self, *arrays, out=None):
        """Runs the entry: one result -> an array, several -> a tuple.

        With `out` (an array, or a tuple of one array per result, of the
        results' dtypes and shapes, C-contiguous and writable), the results
        are written into those arrays, which are returned: a caller that
        passes the same arrays call after call allocates nothing for the
        results. Without it, each call returns new arrays, whose buffers
        the module reuses once they are released."""
        inputs = self._prepare(arrays)
        if out is not None:
            outs = self._prepare_out(out)
            self._module._native.run_into(self.name, inputs, outs)
            return out if isinstance(out, np.ndarray) else tuple(outs)
        results = self._module._native.run(self.name, inputs)
        if len(results) == 1:
            return results[0]
        return tuple(results) if results else None

    def useful_flops(self, *arrays):
        """2 (D + Dv) per allowed query-key pair and head (< 0: unknown)."""
        native = self._module._native
        if not hasattr(native, "useful_flops"):
            return -1.0  # an AOT library does not know its attn ops
        return native.useful_flops(self.name,
                                                 self._prepare(arrays))

    def __repr__(self):
        sig = self.signature
        ins = ", ".join(s["type"] for s in sig["inputs"])
        outs = ", ".join(s["type"] for s in sig["results"])
        return f"<attn entry @{self.name}({ins}) -> ({outs})>"
