// Lowered attn IR runs under upstream mlir-runner with libattn_runtime.so
// (the allocation functions the CPU pipeline's code calls) and libomp
// (its parallel loops): no shim to write. A small causal case printed whole,
// checked against values worked out by hand (row i averages v over the keys
// j <= i with weights exp(q_i . k_j)).
// RUN: attn-opt %s --attn-cpu-pipeline="threads=2" \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     --shared-libs=%attn_lib_dir/libattn_runtime.so,%llvm_lib_dir/libmlir_runner_utils.so,%llvm_lib_dir/libmlir_c_runner_utils.so,%llvm_lib_dir/libomp.so \
// RUN: | FileCheck %s

// CHECK: sizes = [1, 1, 3, 2]
// CHECK-NEXT: {{\[\[\[\[}}1, 2],
// CHECK-NEXT: [2.46212, 3.46212],
// CHECK-NEXT: [3.72835, 4.72835]]]]

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %q = arith.constant dense<[[[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]]]> : tensor<1x1x3x2xf32>
  %k = arith.constant dense<[[[[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]]]> : tensor<1x1x3x2xf32>
  %v = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]]> : tensor<1x1x3x2xf32>
  %init = tensor.empty() : tensor<1x1x3x2xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>)
                      outs(%init : tensor<1x1x3x2xf32>) {scale = 1.0 : f32, causal} -> tensor<1x1x3x2xf32>
  %m = bufferization.to_buffer %o : tensor<1x1x3x2xf32> to memref<1x1x3x2xf32>
  %u = memref.cast %m : memref<1x1x3x2xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}
