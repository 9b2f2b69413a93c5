"""The custom-variant examples in examples/custom_variants/: each runs
under every strategy that computes it, on the CPU and on Vulkan (when a
device is present), and matches its own float64 reference."""

import importlib
import os
import sys

import pytest

import attn

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                        "custom_variants")
sys.path.insert(0, os.path.abspath(EXAMPLES))

NAMES = sorted(name[:-3] for name in os.listdir(EXAMPLES)
               if name.endswith(".py") and name != "example.py")


def test_every_example_is_listed():
    assert NAMES == ["alibi", "documents", "music_transformer", "natten_rpb",
                     "prefix_lm", "sink_logits", "softcap", "t5_buckets"]


@pytest.mark.parametrize("name", NAMES)
def test_example_on_cpu(name):
    importlib.import_module(name).run(("cpu",))


@pytest.mark.skipif(not attn.vulkan_available(), reason="no Vulkan device")
@pytest.mark.parametrize("name", NAMES)
def test_example_on_vulkan(name):
    importlib.import_module(name).run(("vulkan",))
