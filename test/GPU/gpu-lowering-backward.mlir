// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy | FileCheck %s --check-prefix=SELECT
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy --attn-apply-strategies | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="chip=sm_90 format=bin" | FileCheck %s --check-prefix=BIN
// RUN: attn-opt %s --attn-gpu-pipeline="api=vulkan" | FileCheck %s --check-prefix=SPIRV

// attn.attention_backward on a GPU target: the tiled strategy's GPU
// backward, with no L x L matrix and no atomics. Launches: D = rowsum(dO O)
// (one thread per query row); dK and dV (one thread per key, Q and dO
// rows staged in shared memory, the GQA group's heads summed in the
// thread); with a bias, dS set to 0; dQ (one thread per query row, K and V
// staged); here also the bias's sum over heads, and dSink (one thread per
// head).

// Selection picks tiled, whose GPU backward has no tensor cores.
// SELECT-LABEL: func.func @causal_gqa_bias_sinks(
// SELECT: attn.attention_backward {{.*}}strategy = #attn.strategy<"tiled", {block_k = 32 : i64, block_q = 128 : i64, tensor_cores = 0 : i64}>

// CHECK-LABEL: func.func @causal_gqa_bias_sinks(
// CHECK:         gpu.launch
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
// CHECK:         gpu.launch
// CHECK-SAME:        workgroup(%[[QT:.*]] : memref<32x16xf32, #gpu.address_space<workgroup>>, %[[DOT:.*]] : memref<32x8xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME:        private(%{{.*}} : memref<16xf32, #gpu.address_space<private>>, %{{.*}} : memref<8xf32, #gpu.address_space<private>>, %{{.*}} : memref<16xf32, #gpu.address_space<private>>, %{{.*}} : memref<8xf32, #gpu.address_space<private>>)
// CHECK:             memref.store %{{.*}}, %[[QT]]
// CHECK:             gpu.barrier
// CHECK:             math.exp
// CHECK:             gpu.barrier
// The f32 dS for the bias's sum set to 0 (launch 3 writes the tiles it
// visits).
// CHECK:         gpu.launch
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.store
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
// CHECK:         gpu.launch
// CHECK-SAME:        workgroup(%{{.*}} : memref<32x16xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x8xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME:        private(%{{.*}} : memref<16xf32, #gpu.address_space<private>>, %{{.*}} : memref<8xf32, #gpu.address_space<private>>, %{{.*}} : memref<16xf32, #gpu.address_space<private>>)
// CHECK:             math.exp
// CHECK:         gpu.launch
// CHECK:         gpu.launch
// CHECK-NOT:     gpu.launch
// CHECK-NOT:     atomic
// CHECK:         return

// BIN: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<chip = "sm_90"{{.*}}bin = "
// BIN-NOT: attn.attention_backward
// SPIRV: gpu.binary @{{.*}} [#gpu.object<#spirv.target_env
// SPIRV-NOT: attn.attention_backward
func.func @causal_gqa_bias_sinks(%q: tensor<2x4x50x16xf32>, %k: tensor<2x2x70x16xf32>,
                                 %v: tensor<2x2x70x8xf32>, %o: tensor<2x4x50x8xf32>,
                                 %do: tensor<2x4x50x8xf32>, %lse: tensor<2x4x50xf32>,
                                 %bias: tensor<2x1x50x70xf32>, %sl: tensor<4xf32>)
    -> (tensor<2x4x50x16xf32>, tensor<2x2x70x16xf32>, tensor<2x2x70x8xf32>, tensor<2x1x50x70xf32>, tensor<4xf32>) {
  %dqi = tensor.empty() : tensor<2x4x50x16xf32>
  %dki = tensor.empty() : tensor<2x2x70x16xf32>
  %dvi = tensor.empty() : tensor<2x2x70x8xf32>
  %dbi = tensor.empty() : tensor<2x1x50x70xf32>
  %dsi = tensor.empty() : tensor<4xf32>
  %g:5 = attn.attention_backward ins(%q, %k, %v, %o, %do, %lse : tensor<2x4x50x16xf32>, tensor<2x2x70x16xf32>, tensor<2x2x70x8xf32>, tensor<2x4x50x8xf32>, tensor<2x4x50x8xf32>, tensor<2x4x50xf32>)
      bias(%bias : tensor<2x1x50x70xf32>) sink_logits(%sl : tensor<4xf32>)
      outs(%dqi, %dki, %dvi, %dbi, %dsi : tensor<2x4x50x16xf32>, tensor<2x2x70x16xf32>, tensor<2x2x70x8xf32>, tensor<2x1x50x70xf32>, tensor<4xf32>)
      {causal}
      -> tensor<2x4x50x16xf32>, tensor<2x2x70x16xf32>, tensor<2x2x70x8xf32>, tensor<2x1x50x70xf32>, tensor<4xf32>
  return %g#0, %g#1, %g#2, %g#3, %g#4 : tensor<2x4x50x16xf32>, tensor<2x2x70x16xf32>, tensor<2x2x70x8xf32>, tensor<2x1x50x70xf32>, tensor<4xf32>
}

// A 2-D neighborhood's backward: the same launches over the flattened
// positions (collapsed before, expanded after), NATTEN's rule per pair.
// CHECK-LABEL: func.func @neighborhood_2d(
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4]] : tensor<1x2x9x11x8xf32> into tensor<1x2x99x8xf32>
// CHECK:         gpu.launch
// CHECK:         gpu.launch
// CHECK:           arith.remui
// CHECK:           math.exp
// CHECK:         gpu.launch
// CHECK-NOT:     gpu.launch
// CHECK:         tensor.expand_shape
// SELECT-LABEL: func.func @neighborhood_2d(
// SELECT: attn.neighborhood_backward {{.*}}strategy = #attn.strategy<"tiled"
func.func @neighborhood_2d(%q: tensor<1x2x9x11x8xf32>, %lse: tensor<1x2x9x11xf32>)
    -> (tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>) {
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11xf32>)
      outs(%q, %q, %q : tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>)
      {kernel = [3, 5], dilation = [2, 1]}
      -> tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>, tensor<1x2x9x11x8xf32>
}

// A kernel score (causal elu1) has no LSE: the first launch forms each
// row's normalizer Z (phi of the query row in a private array, phi of each
// key on the fly: math.exp) and D' = (dO / Z) . O; the others stage
// phi(scale q) and phi(k) and weigh each pair by w / Z. Selection picks the
// same tiled GPU backward.
// SELECT-LABEL: func.func @causal_elu1(
// SELECT: attn.attention_backward {{.*}}strategy = #attn.strategy<"tiled", {block_k = 32 : i64, block_q = 128 : i64, tensor_cores = 0 : i64}>

// CHECK-LABEL: func.func @causal_elu1(
// CHECK:         gpu.launch
// CHECK-SAME:        private(%{{.*}} : memref<16xf32, #gpu.address_space<private>>)
// CHECK:             math.exp
// CHECK:             arith.divf
// CHECK:           gpu.terminator
// CHECK:         gpu.launch
// CHECK:             gpu.barrier
// CHECK:         gpu.launch
// CHECK:             gpu.barrier
// CHECK-NOT:     gpu.launch
// CHECK:         return
func.func @causal_elu1(%q: tensor<1x4x40x16xf32>, %k: tensor<1x2x40x16xf32>,
                       %v: tensor<1x2x40x8xf32>, %o: tensor<1x4x40x8xf32>)
    -> (tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>) {
  %dqi = tensor.empty() : tensor<1x4x40x16xf32>
  %dki = tensor.empty() : tensor<1x2x40x16xf32>
  %dvi = tensor.empty() : tensor<1x2x40x8xf32>
  %g:3 = attn.attention_backward ins(%q, %k, %v, %o, %o : tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>, tensor<1x4x40x8xf32>, tensor<1x4x40x8xf32>)
      outs(%dqi, %dki, %dvi : tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>)
      {causal, score = #attn.score<kernel<elu1>>}
      -> tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>
}

// Softplus has no LSE either: the first launch forms each row's largest
// allowed score (arith.maximumf) over its keys, then Z from the weights
// relative to the row's reference (math.log1p), and stores both; the
// pairs of the other two launches read them.
// SELECT-LABEL: func.func @causal_softplus(
// SELECT: attn.attention_backward {{.*}}strategy = #attn.strategy<"tiled", {block_k = 32 : i64, block_q = 128 : i64, tensor_cores = 0 : i64}>

// CHECK-LABEL: func.func @causal_softplus(
// CHECK:         gpu.launch
// CHECK:             arith.maximumf
// CHECK:             math.log1p
// CHECK:           gpu.terminator
// CHECK:         gpu.launch
// CHECK:             gpu.barrier
// CHECK:         gpu.launch
// CHECK:             gpu.barrier
// CHECK-NOT:     gpu.launch
// CHECK:         return
func.func @causal_softplus(%q: tensor<1x4x40x16xf32>, %k: tensor<1x2x40x16xf32>,
                           %v: tensor<1x2x40x8xf32>, %o: tensor<1x4x40x8xf32>)
    -> (tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>) {
  %dqi = tensor.empty() : tensor<1x4x40x16xf32>
  %dki = tensor.empty() : tensor<1x2x40x16xf32>
  %dvi = tensor.empty() : tensor<1x2x40x8xf32>
  %g:3 = attn.attention_backward ins(%q, %k, %v, %o, %o : tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>, tensor<1x4x40x8xf32>, tensor<1x4x40x8xf32>)
      outs(%dqi, %dki, %dvi : tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>)
      {causal, score = #attn.score<softplus>}
      -> tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>
}
