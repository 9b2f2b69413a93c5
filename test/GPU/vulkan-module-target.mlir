// A module whose #attn.target writes its own shared_memory compiles for
// Vulkan with it: selection plans for it and the Vulkan conversion checks
// kernels against it, exactly as when the pipeline's `shared-memory` says
// so; the API's default (32 KiB) fills in only where neither writes one.
// RUN: attn-opt %s --attn-gpu-pipeline="api=vulkan" --mlir-print-ir-after=attn-deallocate-host-buffers -o /dev/null 2> %t.module
// RUN: sed -e 's/attributes {attn.target = .*} {/{/' %s | attn-opt --attn-gpu-pipeline="api=vulkan shared-memory=16384" --mlir-print-ir-after=attn-deallocate-host-buffers -o /dev/null 2> %t.option
// RUN: sed -e 's/attributes {attn.target = .*} {/{/' %s | attn-opt --attn-gpu-pipeline="api=vulkan" --mlir-print-ir-after=attn-deallocate-host-buffers -o /dev/null 2> %t.default
// RUN: %python %S/gpu_modules.py %t.module > %t.module.kernels
// RUN: %python %S/gpu_modules.py %t.option > %t.option.kernels
// RUN: %python %S/gpu_modules.py %t.default > %t.default.kernels
// RUN: diff %t.module.kernels %t.option.kernels
// RUN: not diff -q %t.module.kernels %t.default.kernels
// The plans differ in the key tile that fits (D = 128 in f32).
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy | FileCheck %s --check-prefix=PLAN
// RUN: sed -e 's/attributes {attn.target = .*} {/{/' %s | attn-opt --attn-set-target="target=gpu default-gpu-shared-memory=32768" --attn-select-strategy | FileCheck %s --check-prefix=PLAN-DEFAULT
// The whole pipeline, whose output names no attn attribute:
// RUN: attn-opt %s --attn-gpu-pipeline="api=vulkan" | FileCheck %s
// A pipeline value that disagrees with the module's is an error naming both.
// RUN: not attn-opt %s --attn-gpu-pipeline="api=vulkan shared-memory=32768" 2>&1 | FileCheck %s --check-prefix=DISAGREE
// RUN: not attn-opt %s --attn-set-target="target=gpu default-gpu-shared-memory=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not attn-opt %s --attn-set-target="target=cpu default-gpu-shared-memory=4096" 2>&1 | FileCheck %s --check-prefix=CPU

// PLAN: block_k = 16
// PLAN-DEFAULT: block_k = 32
// CHECK-NOT: attn.target
// CHECK: gpu.binary @main_kernel
// CHECK-NOT: attn.target
// DISAGREE: error: attn-set-target: gpu-shared-memory = 32768 disagrees with the module's #attn.target shared_memory = 16384
// NEGATIVE: error: attn-set-target: default-gpu-shared-memory = -1 must be 0 or positive
// CPU: error: attn-set-target: default-gpu-shared-memory = 4096 applies to target gpu, not cpu

module attributes {attn.target = #attn.target<kind = "gpu", shared_memory = 16384>} {
func.func @main(%q: tensor<1x2x256x128xf32>, %k: tensor<1x2x256x128xf32>, %v: tensor<1x2x256x128xf32>) -> tensor<1x2x256x128xf32> {
  %init = tensor.empty() : tensor<1x2x256x128xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x256x128xf32>, tensor<1x2x256x128xf32>, tensor<1x2x256x128xf32>) outs(%init : tensor<1x2x256x128xf32>) {causal} -> tensor<1x2x256x128xf32>
  return %o : tensor<1x2x256x128xf32>
}
}
