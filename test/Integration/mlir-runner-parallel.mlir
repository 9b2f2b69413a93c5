// A tiled, multi-threaded case under upstream mlir-runner: q = k = 0, so
// every allowed key weighs the same, and v[j] = j, so causal row i is the
// mean of 0..i, i / 2. The lowered code has OpenMP regions (libomp) and
// allocates through libattn_runtime.so.
// RUN: attn-opt %s --attn-cpu-pipeline="threads=2" -o %t.mlir
// RUN: grep -q omp.parallel %t.mlir
// RUN: mlir-runner %t.mlir -e main -entry-point-result=void \
// RUN:     --shared-libs=%attn_lib_dir/libattn_runtime.so,%llvm_lib_dir/libmlir_c_runner_utils.so,%llvm_lib_dir/libomp.so \
// RUN: | FileCheck %s

// CHECK: 0
// CHECK-NEXT: 49.5
// CHECK-NEXT: 99.5

#id = affine_map<(b, h, j, d) -> (b, h, j, d)>
func.func @main() {
  %zero = arith.constant dense<0.0> : tensor<1x4x200x16xf32>
  %e = tensor.empty() : tensor<1x4x200x16xf32>
  %v = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      outs(%e : tensor<1x4x200x16xf32>) {
  ^bb0(%out: f32):
    %j = linalg.index 2 : index
    %ji = arith.index_cast %j : index to i64
    %jf = arith.sitofp %ji : i64 to f32
    linalg.yield %jf : f32
  } -> tensor<1x4x200x16xf32>
  %init = tensor.empty() : tensor<1x4x200x16xf32>
  %o = attn.attention ins(%zero, %zero, %v : tensor<1x4x200x16xf32>, tensor<1x4x200x16xf32>, tensor<1x4x200x16xf32>)
                      outs(%init : tensor<1x4x200x16xf32>) {causal} -> tensor<1x4x200x16xf32>
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c15 = arith.constant 15 : index
  %c99 = arith.constant 99 : index
  %c199 = arith.constant 199 : index
  %a = tensor.extract %o[%c0, %c0, %c0, %c0] : tensor<1x4x200x16xf32>
  %b = tensor.extract %o[%c0, %c3, %c99, %c15] : tensor<1x4x200x16xf32>
  %c = tensor.extract %o[%c0, %c3, %c199, %c15] : tensor<1x4x200x16xf32>
  vector.print %a : f32
  vector.print %b : f32
  vector.print %c : f32
  return
}
