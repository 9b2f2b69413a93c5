// -debug-only=TYPE,... prints the decisions of the passes and strategies
// named (attn/Support/Debug.h): attn's tools register the option when
// LLVM, a release build, has not. Without it nothing is printed.
// RUN: attn-opt %s --attn-raise --attn-set-target="target=cpu threads=2 vector-width=512" --attn-select-strategy --attn-apply-strategies -debug-only=attn-raise,attn-strategy-selection,attn-select-strategy,attn-apply-strategies,attn-strategy-tiled,attn-strategy-reference -o /dev/null 2>&1 | FileCheck %s
// RUN: attn-opt %s --attn-raise --attn-set-target="target=cpu threads=2 vector-width=512" --attn-select-strategy --attn-apply-strategies -debug-only=attn-strategy-tiled -o /dev/null 2>&1 | FileCheck %s --check-prefix=ONLY
// RUN: attn-opt %s --attn-raise --attn-set-target="target=cpu threads=2 vector-width=512" --attn-select-strategy --attn-apply-strategies -o /dev/null 2>&1 | count 0

// The TOSA function is raised; every strategy is weighed for both ops; the
// written strategy is completed; tiled's kernel configuration is printed.
// CHECK-DAG: [attn-raise] raised to
// CHECK-DAG: [attn-strategy-selection] 'attn.attention' at {{.*}}: tiled {{.*}} ms (flops
// CHECK-DAG: [attn-strategy-selection] 'attn.attention' at {{.*}}: block_sparse not applicable: needs a mask operand
// CHECK-DAG: [attn-strategy-selection] chose #attn.strategy<"tiled"
// CHECK-DAG: [attn-strategy-selection] 'attn.attention' at {{.*}}: selecting by written on the op
// CHECK-DAG: [attn-strategy-selection] asked #attn.strategy<"reference">, the cost model completed it as #attn.strategy<"reference"
// CHECK-DAG: [attn-select-strategy] 'attn.attention' at {{.*}} gets #attn.strategy<"tiled"
// CHECK-DAG: [attn-apply-strategies] 'attn.attention' at {{.*}}: applying #attn.strategy<"tiled"
// CHECK-DAG: [attn-strategy-tiled] CPU kernel {block_q = {{[0-9]+}}, block_k = 64, micro_q = 6, lanes = 16,
// CHECK-DAG: [attn-strategy-reference] materializes the scores of 'attn.attention'

// ONLY-NOT: [attn-strategy-selection]
// ONLY: [attn-strategy-tiled] CPU kernel
// ONLY-NOT: [attn-

func.func @written(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  %init = tensor.empty() : tensor<1x2x64x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) outs(%init : tensor<1x2x64x32xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

func.func @tosa(%q: tensor<2x512x32xf32>, %k: tensor<2x512x32xf32>, %v: tensor<2x512x32xf32>) -> tensor<2x512x32xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<2x512x32xf32>) -> tensor<2x32x512xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<2x512x32xf32>, tensor<2x32x512xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x512x512xf32>
  %max = tosa.reduce_max %s {axis = 2 : i32} : (tensor<2x512x512xf32>) -> tensor<2x512x1xf32>
  %sub = tosa.sub %s, %max : (tensor<2x512x512xf32>, tensor<2x512x1xf32>) -> tensor<2x512x512xf32>
  %exp = tosa.exp %sub : (tensor<2x512x512xf32>) -> tensor<2x512x512xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<2x512x512xf32>) -> tensor<2x512x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<2x512x1xf32>) -> tensor<2x512x1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %p = tosa.mul %exp, %inv, %shift : (tensor<2x512x512xf32>, tensor<2x512x1xf32>, tensor<1xi8>) -> tensor<2x512x512xf32>
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<2x512x512xf32>, tensor<2x512x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x512x32xf32>
  return %o : tensor<2x512x32xf32>
}
