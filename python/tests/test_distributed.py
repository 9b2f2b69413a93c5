"""attn.distributed: attention over MPI ranks (attn-run --distribute under
mpirun), against float64 and against one process."""

import os
import shutil
import subprocess

import numpy as np
import pytest

import attn
import attn.distributed as dist
from oracle import attention as oracle


def _mpi_ready():
    try:
        attn_run = dist.find_attn_run()
        dist.find_mpirun()
    except FileNotFoundError:
        return False
    # An attn-run built without MPI refuses --distribute.
    proc = subprocess.run([attn_run, "--help"], capture_output=True, text=True)
    return "--distribute" in proc.stdout


pytestmark = pytest.mark.skipif(not _mpi_ready(),
                                reason="needs mpirun and an attn-run with MPI")


def _qkv(rng, lq, lk, hq=4, hkv=2, d=16):
    q = rng.standard_normal((1, hq, lq, d), dtype=np.float32)
    k = rng.standard_normal((1, hkv, lk, d), dtype=np.float32)
    v = rng.standard_normal((1, hkv, lk, d), dtype=np.float32)
    return q, k, v


@pytest.mark.parametrize("ranks,mode", [(2, "zigzag"), (3, "ring")])
def test_causal_gqa_matches_float64_and_one_process(ranks, mode):
    q, k, v = _qkv(np.random.default_rng(1), 41, 41)
    got = dist.attention(q, k, v, ranks=ranks, mode=mode, causal=True,
                         threads=1)
    want = oracle(q, k, v, causal=True)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    one = attn.attention(q, k, v, causal=True)
    np.testing.assert_allclose(got, one, rtol=2e-5, atol=2e-6)


def test_lse_and_window_with_sinks():
    q, k, v = _qkv(np.random.default_rng(2), 30, 30)
    o, lse = dist.attention(q, k, v, ranks=2, mode="zigzag", causal=True,
                            window=(6, 0), sinks=2, return_lse=True,
                            threads=1)
    want_o, want_lse = oracle(q, k, v, causal=True, window=(6, 0), sinks=2,
                              statistics=True)[:2]
    np.testing.assert_allclose(o, want_o, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lse, want_lse, rtol=1e-4, atol=1e-5)


def test_command_line():
    argv = dist.command("m.mlir", ["q.npy", "k.npy", "v.npy"], ["o.npy"],
                        ranks=3, mode="zigzag", threads=1,
                        mpirun_args=["--oversubscribe"])
    assert argv[1:4] == ["--oversubscribe", "-np", "3"]
    assert argv[4].endswith("attn-run")
    assert argv[5:] == ["m.mlir", "--entry", "main", "--distribute=zigzag",
                        "--inputs", "q.npy,k.npy,v.npy", "--output", "o.npy",
                        "--threads", "1"]


@pytest.mark.parametrize("options,message", [
    (dict(ranks=2, mode="star"), "mode='star' must be one of"),
    (dict(ranks=0), "ranks=0 must be an int >= 1"),
    (dict(ranks=2, target="vulkan"), "target= does not apply"),
])
def test_bad_options(options, message):
    q, k, v = _qkv(np.random.default_rng(3), 8, 8)
    with pytest.raises(ValueError, match=message):
        dist.attention(q, k, v, **options)


def test_refusal_is_one_line():
    q, k, v = _qkv(np.random.default_rng(4), 16, 16)
    mask = np.ones((1, 1, 16, 16), dtype=bool)
    with pytest.raises(attn.CompileError,
                       match="attn-run: error: .*a mask or bias operand is "
                             "not distributed"):
        dist.attention(q, k, v, ranks=2, mask=mask, threads=1)


def test_run_reports_a_missing_input(tmp_path):
    path = tmp_path / "m.mlir"
    q, k, v = _qkv(np.random.default_rng(5), 8, 8)
    path.write_text(attn.ir(q, k, v))
    with pytest.raises(RuntimeError, match="attn-run: error: .*cannot open"):
        dist.run(path, [tmp_path / "missing.npy"] * 3, [tmp_path / "o.npy"],
                 ranks=2, threads=1)
