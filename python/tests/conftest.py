"""Shared helpers of the attn Python tests: random inputs and comparison
against the float64 oracle."""

import pathlib
import subprocess

import numpy as np
import pytest

import attn

ATTN_AOT = pathlib.Path(attn.__file__).resolve().parents[2] / "bin" / "attn-aot"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def randn(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def assert_close(got, want, low_precision=False):
    """Elementwise |got - want| <= atol + rtol |want|, tolerances as the
    integration tests use (2e-5/2e-4 for f32, 2e-2 for f16/bf16)."""
    atol, rtol = (2e-2, 2e-2) if low_precision else (2e-5, 2e-4)
    got = np.asarray(got, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.all(np.isfinite(got)), "non-finite output"
    excess = np.abs(got - want) - (atol + rtol * np.abs(want))
    assert excess.max() <= 0, (
        f"max abs error {np.abs(got - want).max():.3e} "
        f"(at {np.unravel_index(excess.argmax(), excess.shape)})")


@pytest.fixture(scope="session")
def aot_library(tmp_path_factory):
    """An AOT library of causal attention, q [1, 4, 1, 16], k and v
    [1, 2, ?, 16] (Lk dynamic)."""
    assert ATTN_AOT.exists(), f"attn-aot not built at {ATTN_AOT}"
    work = tmp_path_factory.mktemp("aot")
    source = work / "model.mlir"
    source.write_text(attn.ir(np.empty((1, 4, 1, 16), np.float32),
                              np.empty((1, 2, 30, 16), np.float32),
                              np.empty((1, 2, 30, 16), np.float32),
                              causal=True, dynamic=("Lk",)))
    library = work / "libmodel.so"
    subprocess.run([str(ATTN_AOT), str(source), "-o", str(library)],
                   check=True)
    return library
