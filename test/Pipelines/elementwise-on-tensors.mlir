// Elementwise ops on whole tensors (math.tanh of an attention output, an
// arith.mulf of two tensors) lower through the CPU pipeline: upstream's
// convert-elementwise-to-linalg makes them linalg.generic, which bufferizes
// (they stopped with "op was not bufferized"). The values are checked under
// mlir-runner: q = k = 0 and v rows 0.5 and 1.5 give 1.0 everywhere before
// tanh; then 2 * tanh(1) = 1.523188.
// RUN: attn-opt %s --attn-cpu-pipeline -o %t.mlir
// RUN: mlir-runner %t.mlir -e main -entry-point-result=void \
// RUN:     --shared-libs=%attn_lib_dir/libattn_runtime.so,%llvm_lib_dir/libmlir_c_runner_utils.so,%llvm_lib_dir/libomp.so \
// RUN: | FileCheck %s

// CHECK: 1.5231{{[89]}}
// CHECK-NEXT: 1.5231{{[89]}}

func.func @main() {
  %zero = arith.constant dense<0.0> : tensor<1x1x2x4xf32>
  %v = arith.constant dense<[[[[0.5, 0.5, 0.5, 0.5], [1.5, 1.5, 1.5, 1.5]]]]> : tensor<1x1x2x4xf32>
  %two = arith.constant dense<2.0> : tensor<1x1x2x4xf32>
  %init = tensor.empty() : tensor<1x1x2x4xf32>
  %o = attn.attention ins(%zero, %zero, %v : tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>)
                      outs(%init : tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  %t = math.tanh %o : tensor<1x1x2x4xf32>
  %s = arith.mulf %t, %two : tensor<1x1x2x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %a = tensor.extract %s[%c0, %c0, %c0, %c0] : tensor<1x1x2x4xf32>
  %b = tensor.extract %s[%c0, %c0, %c1, %c3] : tensor<1x1x2x4xf32>
  vector.print %a : f32
  vector.print %b : f32
  return
}
