// The target lives on the module as #attn.target. attn-set-target writes it
// from its options (0 and false left out) and fills in what a written one
// leaves out; attn-select-strategy (like attn-explain and
// attn-apply-strategies) reads the nearest one around each op, else the
// host. set-target-errors.mlir has the disagreements.
// RUN: attn-opt %s -split-input-file --attn-set-target="vector-width=512 l1-bytes=65536" | FileCheck %s --check-prefix=SET
// RUN: attn-opt %s -split-input-file --attn-set-target="target=gpu tensor-cores=true gpu-shared-memory=65536" | FileCheck %s --check-prefix=GPU
// RUN: attn-opt %s -split-input-file --attn-select-strategy | FileCheck %s --check-prefix=SELECT

// No target written: the options' (cpu unless they say gpu).
// SET: module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, l1_bytes = 65536>}
// GPU: module attributes {attn.target = #attn.target<kind = "gpu", tensor_cores = true, shared_memory = 65536>}
// Selection without one plans for the host CPU (micro_q is a CPU parameter).
// SELECT-LABEL: func.func @host
// SELECT: strategy = #attn.strategy<"{{[a-z_]+}}", {{.*}}micro_q
func.func @host(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  %init = tensor.empty() : tensor<1x2x64x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) outs(%init : tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

// A written target stays; the options fill in what it leaves out.
// SET: module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024, vector_width = 512, l1_bytes = 65536>}
// GPU: module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024, tensor_cores = true, shared_memory = 65536>}
// Selection plans for the written gpu target (its kernel's parameters, tensor_cores
// and no micro_q).
// SELECT-LABEL: func.func @written_gpu
// SELECT-NOT: micro_q
// SELECT: strategy = #attn.strategy<"{{[a-z_]+}}", {{.*}}tensor_cores = 0 : i64
// SELECT-NOT: micro_q
module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024>} {
func.func @written_gpu(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  %init = tensor.empty() : tensor<1x2x64x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) outs(%init : tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}
}
