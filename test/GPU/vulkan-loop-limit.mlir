// lavapipe ends the loops of a shader once 65,535 iterations have run in
// all, silently. Vulkan kernels check that every loop ran as many
// iterations as its bounds ask for, so a case past that limit fails with
// one clear error instead of returning wrong numbers (here 32 queries read
// 20,000 keys in one thread block).
// REQUIRES: lavapipe, numpy
// RUN: rm -rf %t
// RUN: %python %S/../Integration/lib/check_case.py gen %t q=1x1x32x64:f32 k=1x1x20000x64:f32 v=1x1x20000x64:f32
// RUN: not attn-run %s --target vulkan --attn-strategy=tiled --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy 2>&1 | FileCheck %s
// RUN: not test -e %t/o.npy
// The same case with fewer keys is within the limit, and right.
// RUN: %python %S/../Integration/lib/check_case.py gen %t/small q=1x1x32x64:f32 k=1x1x2000x64:f32 v=1x1x2000x64:f32
// RUN: attn-run %s --target vulkan --attn-strategy=tiled --entry small --inputs %t/small/q.npy,%t/small/k.npy,%t/small/v.npy --output %t/small/o.npy
// RUN: %python %S/../Integration/lib/check_case.py attention %t/small %t/small/o.npy

// CHECK: attn-run: error: Vulkan: kernel main_kernel had loops cut short by Vulkan device 'llvmpipe{{.*}}: its results would be wrong

func.func @main(%q: tensor<1x1x32x64xf32>, %k: tensor<1x1x20000x64xf32>, %v: tensor<1x1x20000x64xf32>) -> tensor<1x1x32x64xf32> {
  %init = tensor.empty() : tensor<1x1x32x64xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x32x64xf32>, tensor<1x1x20000x64xf32>, tensor<1x1x20000x64xf32>) outs(%init : tensor<1x1x32x64xf32>) -> tensor<1x1x32x64xf32>
  return %o : tensor<1x1x32x64xf32>
}

func.func @small(%q: tensor<1x1x32x64xf32>, %k: tensor<1x1x2000x64xf32>, %v: tensor<1x1x2000x64xf32>) -> tensor<1x1x32x64xf32> {
  %init = tensor.empty() : tensor<1x1x32x64xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x32x64xf32>, tensor<1x1x2000x64xf32>, tensor<1x1x2000x64xf32>) outs(%init : tensor<1x1x32x64xf32>) -> tensor<1x1x32x64xf32>
  return %o : tensor<1x1x32x64xf32>
}
