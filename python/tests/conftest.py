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


def central_differences(x, loss, h=1e-6):
    """d loss / d x by central differences in float64."""
    x = np.asarray(x, np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (loss(plus) - loss(minus)) / (2 * h)
    return grad


def numeric_gradients(forward, dout, args, names):
    """d sum(dout * forward(**args)) / d args[name] for each of `names`, by
    central differences in float64."""
    def loss_of(name):
        def loss(x):
            call = dict(args)
            call[name] = x
            return float((forward(**call) * dout).sum())
        return loss

    return [central_differences(args[name], loss_of(name)) for name in names]


def assert_gradient_close(got, want, what):
    """A gradient within f32 rounding of float64: |got - want| <= 1e-4
    (max |want|) + 1e-4 |want|, finite, of want's shape."""
    got = np.asarray(got, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert np.all(np.isfinite(got)), f"{what}: non-finite gradient"
    bound = 1e-4 * np.abs(want).max() + 1e-4 * np.abs(want) + 1e-7
    excess = np.abs(got - want) - bound
    assert excess.max() <= 0, (
        f"{what}: max abs error {np.abs(got - want).max():.3e} at "
        f"{np.unravel_index(excess.argmax(), excess.shape)}")


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
