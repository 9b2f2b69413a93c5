"""Shared helpers of the attn Python tests: random inputs and comparison
against the float64 oracle."""

import numpy as np
import pytest


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
