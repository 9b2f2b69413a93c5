#!/usr/bin/env bash
# Regenerates docs/generated/ from the code:
# - AttnOps.md, AttnAttrs.md, AttnPasses.md, AttnConversionPasses.md: the op,
#   attribute and pass docs that add_mlir_doc writes into build/docs/ (the
#   attn-docs target), copied here;
# - StrategyParameters.md and Pipelines.md: what
#   `attn-opt --attn-print-strategy-parameters` and
#   `attn-opt --attn-print-pipelines` print. attn-opt writes their first line,
#   a comment saying that this script generates them and not to edit them.
#
# Usage:
#   scripts/update-docs.sh
#       builds attn-docs and attn-opt, then rewrites all six files.
#   scripts/update-docs.sh --printed DIR [ATTN_OPT]
#       builds nothing; writes only StrategyParameters.md and Pipelines.md
#       into DIR with ATTN_OPT (default: build/bin/attn-opt).
#       test/Tools/generated-docs-current.test runs this and diffs the two
#       files against docs/generated/, so the checked-in copies cannot drift.
set -euo pipefail

# write_printed_docs DIR ATTN_OPT: the two references attn-opt prints, each
# written in full or not at all.
write_printed_docs() {
  local dir=$1 attn_opt=$2 flag name
  for pair in "--attn-print-strategy-parameters StrategyParameters.md" \
              "--attn-print-pipelines Pipelines.md"; do
    read -r flag name <<<"$pair"
    "$attn_opt" "$flag" >"$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
  done
}

if [[ "${1:-}" == "--printed" ]]; then
  if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 --printed DIR [ATTN_OPT]" >&2
    exit 2
  fi
  attn_opt=${3:-"$(dirname "$0")/../build/bin/attn-opt"}
  write_printed_docs "$2" "$attn_opt"
  exit 0
fi
if [[ $# -ne 0 ]]; then
  echo "usage: $0 [--printed DIR [ATTN_OPT]]" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
cmake --build build --target attn-docs attn-opt
mkdir -p docs/generated
cp build/docs/Dialects/AttnOps.md build/docs/Dialects/AttnAttrs.md build/docs/AttnPasses.md \
  build/docs/AttnConversionPasses.md docs/generated/
write_printed_docs docs/generated build/bin/attn-opt
echo "docs/generated updated"
