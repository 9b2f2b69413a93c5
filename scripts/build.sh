#!/usr/bin/env bash
# Installs the Debian packages attn needs (only those missing), then
# configures and builds attn into build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools libomp-22-dev
  python3 python3-dev python3-numpy python3-pytest pybind11-dev
  libopenblas0-pthread libgtest-dev zlib1g-dev libzstd-dev
  # Sequence parallelism across processes (attn-run --distribute, mpirun).
  openmpi-bin libopenmpi-dev
  # The Vulkan target: headers and loader, Mesa's lavapipe (a Vulkan device
  # on the CPU, on which the tests run every GPU kernel), spirv-val, the
  # Khronos validation layer, vulkaninfo.
  libvulkan-dev mesa-vulkan-drivers spirv-tools vulkan-validationlayers
  vulkan-tools
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs="${ATTN_JOBS:-$(nproc)}"
cmake -G Ninja -S . -B build \
  -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  ${ATTN_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$jobs"
