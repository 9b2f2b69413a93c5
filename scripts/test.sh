#!/usr/bin/env bash
# README command 2: build if needed, then run every test (lit: dialect,
# strategies, pipelines, plugin, integration against float64 numpy; unit
# tests; Python tests). Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
echo "== lit"
/usr/lib/llvm-22/bin/lit -sv --time-tests build/test
echo "== python"
PYTHONPATH=build/python /usr/bin/python3 -m pytest -q python/tests
