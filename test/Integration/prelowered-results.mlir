// REQUIRES: numpy
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x9x8:f32 k=1x2x9x8:f32 v=1x2x9x8:f32 x=13:f32
// RUN: attn-opt %s --attn-cpu-pipeline -o %t/lowered.mlir
// RUN: FileCheck %s < %t/lowered.mlir
// RUN: attn-run %t/lowered.mlir --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy
// RUN: attn-run %S/Inputs/lowered-identity.mlir --entry identity --inputs %t/x.npy --output %t/x-out.npy
// RUN: %python -c "import numpy as np; assert (np.load('%t/x.npy') == np.load('%t/x-out.npy')).all()"

// attn-run on a module that attn-opt already lowered: the pipeline marks the
// module (attn.results_owned), so attn-run frees the result that the compiled
// code allocated. Before the mark, every such run leaked its result
// (LeakSanitizer under scripts/sanitize.sh). A lowered module without the
// mark (Inputs/lowered-identity.mlir returns its argument) is copied from,
// never freed.

// CHECK: module attributes {{{.*}}attn.results_owned

func.func @main(%q: tensor<1x2x9x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>) -> tensor<1x2x9x8xf32> {
  %init = tensor.empty() : tensor<1x2x9x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>)
                      outs(%init : tensor<1x2x9x8xf32>) -> tensor<1x2x9x8xf32>
  return %o : tensor<1x2x9x8xf32>
}
