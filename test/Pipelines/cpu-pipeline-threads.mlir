// The CPU pipeline's parallel regions run with the threads of the module's
// #attn.target: written by the module, or by the pipeline's `threads`. The
// target itself is gone from what the pipeline emits.
// RUN: attn-opt %s --attn-cpu-pipeline="strategy=tiled" | FileCheck %s --check-prefix=MODULE
// RUN: attn-opt %s --attn-cpu-pipeline="strategy=tiled threads=3" | FileCheck %s --check-prefix=MODULE
// RUN: not attn-opt %s --attn-cpu-pipeline="strategy=tiled threads=4" 2>&1 | FileCheck %s --check-prefix=DISAGREE
// RUN: sed -e 's/attributes {attn.target = .*} {/{/' %s | attn-opt --attn-cpu-pipeline="strategy=tiled threads=4" | FileCheck %s --check-prefix=OPTION
// RUN: sed -e 's/attributes {attn.target = .*} {/{/' %s | attn-opt --attn-cpu-pipeline="strategy=tiled" | FileCheck %s --check-prefix=DEFAULT

// MODULE-NOT: attn.target
// MODULE: %[[N:.*]] = llvm.mlir.constant(3 : i32) : i32
// MODULE: omp.parallel num_threads(%[[N]] : i32)
// MODULE-NOT: attn.target
// DISAGREE: error: attn-set-target: threads = 4 disagrees with the module's #attn.target threads = 3
// OPTION: %[[N:.*]] = llvm.mlir.constant(4 : i32) : i32
// OPTION: omp.parallel num_threads(%[[N]] : i32)
// DEFAULT-NOT: num_threads
// DEFAULT: omp.parallel {
// DEFAULT-NOT: num_threads
module attributes {attn.target = #attn.target<kind = "cpu", threads = 3>} {
func.func @main(%q: tensor<1x2x40x16xf32>, %k: tensor<1x2x40x16xf32>, %v: tensor<1x2x40x16xf32>) -> tensor<1x2x40x16xf32> {
  %init = tensor.empty() : tensor<1x2x40x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>) outs(%init : tensor<1x2x40x16xf32>) -> tensor<1x2x40x16xf32>
  return %o : tensor<1x2x40x16xf32>
}
}
