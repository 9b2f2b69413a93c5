#!/usr/bin/env bash
# Regenerates the op, attribute and pass docs (add_mlir_doc) and copies
# them into docs/generated/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target attn-docs
mkdir -p docs/generated
cp build/docs/Dialects/AttnOps.md build/docs/Dialects/AttnAttrs.md build/docs/AttnPasses.md \
  build/docs/AttnConversionPasses.md docs/generated/
echo "docs/generated updated"
