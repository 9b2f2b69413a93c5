#!/usr/bin/env bash
# README command 1: install what is missing, build into build/, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
examples/demo/run_demo.sh build
