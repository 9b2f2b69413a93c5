"""Sequence parallelism across processes: attn-run --distribute under mpirun.

    import attn.distributed as dist
    o = dist.attention(q, k, v, ranks=4, mode="zigzag", causal=True)
    argv = dist.command("model.mlir", ["q.npy", "k.npy", "v.npy"], ["o.npy"],
                        ranks=4, mode="zigzag")     # to launch it yourself
    dist.run("model.mlir", [...], ["o.npy"], ranks=4)

The sequence axis (axis 2) of q, k and v is split over `ranks` MPI
processes that mpirun starts: `ring` gives rank r chunk r of N, `zigzag`
chunks r and 2N - 1 - r of 2N (balanced causal work). Each rank reads only
its rows of the .npy files, K/V blocks travel around the ring while each
rank computes, partial states merge in f32, and rank 0 writes the whole
result, equal to one process's within f32 rounding. Python only launches the
processes: this module writes the IR and the inputs, runs mpirun, and reads
rank 0's results back.

attn-run is looked up in `attn_run=`, then $ATTN_RUN, then next to this
package (a build tree's bin/), then on PATH; mpirun in `mpirun=`, then
$ATTN_MPIRUN, then on PATH.
"""

import os
import shutil
import subprocess
import tempfile

import numpy as np

from .builder import _attention_plan
from .compiler import CompileError, check_threads

MODES = ("ring", "zigzag")


def find_attn_run(attn_run=None):
    """The attn-run executable that --distribute runs."""
    candidates = [attn_run, os.environ.get("ATTN_RUN"),
                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               os.pardir, os.pardir, "bin", "attn-run"),
                  shutil.which("attn-run")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
    if attn_run:
        raise FileNotFoundError(f"attn_run={attn_run!r} is not an executable")
    raise FileNotFoundError("attn-run not found: pass attn_run= or set "
                            "$ATTN_RUN")


def find_mpirun(mpirun=None):
    """The mpirun that starts the ranks."""
    path = mpirun or os.environ.get("ATTN_MPIRUN") or shutil.which("mpirun")
    if not path or not shutil.which(path):
        raise FileNotFoundError(
            "mpirun not found: install OpenMPI (scripts/setup.sh does) or "
            "pass mpirun=")
    return shutil.which(path)


def command(mlir_file, inputs, outputs, *, ranks, mode="ring", entry="main",
            threads=None, mpirun=None, mpirun_args=None, attn_run=None):
    """The argv of `mpirun -np RANKS attn-run FILE --distribute=MODE ...`.

    inputs: one .npy path per argument of `entry`, in order; outputs: one
    per result (rank 0 writes them). threads: per rank (default: the cores
    of a node shared among its ranks). mpirun_args: options for mpirun
    itself; by default --allow-run-as-root when running as root and
    --oversubscribe when `ranks` exceeds the cores here.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} must be one of {MODES}")
    if not isinstance(ranks, int) or isinstance(ranks, bool) or ranks < 1:
        raise ValueError(f"ranks={ranks!r} must be an int >= 1")
    if mpirun_args is None:
        mpirun_args = []
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            mpirun_args.append("--allow-run-as-root")
        if ranks > (os.cpu_count() or 1):
            mpirun_args.append("--oversubscribe")
    argv = [find_mpirun(mpirun)] + list(mpirun_args) + [
        "-np", str(ranks), find_attn_run(attn_run), os.fspath(mlir_file),
        "--entry", entry, "--distribute=" + mode,
        "--inputs", ",".join(os.fspath(p) for p in inputs)]
    if outputs:
        argv += ["--output", ",".join(os.fspath(p) for p in outputs)]
    if threads is not None:
        argv += ["--threads", str(check_threads(threads))]
    return argv


def run(mlir_file, inputs, outputs, **options):
    """Runs command(...) and waits. A failure raises RuntimeError with
    attn-run's error line (or mpirun's output when there is none)."""
    argv = command(mlir_file, inputs, outputs, **options)
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        lines = [l for l in text.splitlines()
                 if l.startswith("attn-run: error:")]
        raise RuntimeError(lines[0] if lines else text.strip())


def attention(q, k, v, *, ranks, mode="ring", threads=None, mpirun=None,
              mpirun_args=None, attn_run=None, **kwargs):
    """attn.attention(q, k, v, **kwargs) computed by `ranks` MPI processes
    (q, k, v f32 [B, H, L, D]; kwargs as attn.attention's, without mask,
    bias, score_mod, mask_mod or return_entropy, which are not distributed).
    Returns what attn.attention returns; a failure raises attn.CompileError
    with attn-run's error line."""
    for name in ("target", "strategy"):
        if name in kwargs:
            raise ValueError(f"{name}= does not apply: the ranks run the "
                             "tiled strategy on the CPU")
    text, arrays = _attention_plan(q, k, v, **kwargs)
    with tempfile.TemporaryDirectory(prefix="attn-distributed-") as work:
        mlir_file = os.path.join(work, "attention.mlir")
        with open(mlir_file, "w") as f:
            f.write(text)
        inputs = []
        for n, array in enumerate(arrays):
            inputs.append(os.path.join(work, f"in{n}.npy"))
            np.save(inputs[-1], np.ascontiguousarray(array))
        results = 1 + bool(kwargs.get("return_lse"))
        outputs = [os.path.join(work, f"out{n}.npy") for n in range(results)]
        try:
            run(mlir_file, inputs, outputs, ranks=ranks, mode=mode,
                threads=threads, mpirun=mpirun, mpirun_args=mpirun_args,
                attn_run=attn_run)
        except RuntimeError as error:
            raise CompileError(str(error)) from None
        values = [np.load(path) for path in outputs]
    return values[0] if len(values) == 1 else tuple(values)
