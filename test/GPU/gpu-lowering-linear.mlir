// REQUIRES: ptxas
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy --attn-apply-strategies --attn-gpu-device-buffers | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX
// RUN: attn-opt %s --attn-gpu-pipeline="format=bin chip=sm_80" -o /dev/null

// The linear strategy on a GPU target: one thread block per (batch, query
// head) with Dv + 1 threads (the value columns and the normalizer), the
// state [B Hq, F, Dv + 1] in device memory, the features of one key or
// query in shared memory. taylor2 has F = 1 + D + D^2 = 273 features for
// D = 16; causal keys join the state as the first query that may see them
// comes up (j <= i + Lk - Lq).

// CHECK-LABEL: func.func @causal_taylor2_gqa(
// CHECK:         %[[STATE:.*]] = gpu.alloc{{ *}}(%{{.*}}) : memref<?x273x25xf32>
// CHECK:         gpu.launch blocks(%[[BH:[a-z0-9]+]], {{.*}} = %c1, {{.*}} = %c1) threads(%[[TID:[a-z0-9]+]], {{.*}} = %c25, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-SAME:        workgroup(%[[RAW:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[FEAT:.*]] : memref<273xf32, #gpu.address_space<workgroup>>, %[[Z:.*]] : memref<1xf32, #gpu.address_space<workgroup>>)
// The state column starts at 0.
// CHECK:           scf.for
// CHECK:             memref.store %{{.*}}, %[[STATE]][%[[BH]], %{{.*}}, %[[TID]]]
// One loop over the queries, carrying the number of keys absorbed.
// CHECK:           scf.for %[[I:.*]] = %{{.*}} to %c37{{.*}} step %{{.*}} iter_args(%[[NEXT:.*]] = %{{.*}}) -> (index)
// CHECK:             arith.addi %[[I]]
// CHECK:             arith.minsi
// CHECK:             scf.for %{{.*}} = %[[NEXT]] to
// CHECK:               memref.store %{{.*}}, %[[RAW]]
// CHECK:               gpu.barrier
// CHECK:               arith.constant 0.707106769 : f32
// CHECK:               memref.store %{{.*}}, %[[FEAT]]
// CHECK:               gpu.barrier
// CHECK:               scf.for
// CHECK:                 memref.load %[[FEAT]]
// CHECK:                 arith.mulf
// CHECK:                 arith.addf
// CHECK:                 memref.store %{{.*}}, %[[STATE]][%[[BH]], %{{.*}}, %[[TID]]]
// The query's features, its dot products with the state, the normalizer.
// CHECK:             gpu.barrier
// CHECK:             gpu.barrier
// CHECK:             scf.for {{.*}} iter_args
// CHECK:             scf.if
// CHECK:               memref.store %{{.*}}, %[[Z]]
// CHECK:             gpu.barrier
// CHECK:             arith.cmpf oeq
// CHECK:             arith.divf
// CHECK:             arith.truncf %{{.*}} : f32 to f16
// CHECK:             scf.yield %{{.*}} : index
// CHECK:         gpu.dealloc
func.func @causal_taylor2_gqa(%q: tensor<2x4x37x16xf16>, %k: tensor<2x2x45x16xf16>, %v: tensor<2x2x45x24xf16>) -> tensor<2x4x37x24xf16> {
  %init = tensor.empty() : tensor<2x4x37x24xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x37x16xf16>, tensor<2x2x45x16xf16>, tensor<2x2x45x24xf16>)
                      outs(%init : tensor<2x4x37x24xf16>) {causal, score = #attn.score<kernel<taylor2>>, strategy = #attn.strategy<"linear">} -> tensor<2x4x37x24xf16>
  return %o : tensor<2x4x37x24xf16>
}

// Without causal every key joins the state before the first query; elu1
// features (exp of the negative part); dynamic batch and lengths.
// CHECK-LABEL: func.func @elu1_dynamic(
// CHECK:         gpu.launch
// CHECK-SAME:        workgroup(%{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1xf32, #gpu.address_space<workgroup>>)
// CHECK:           scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step
// CHECK:             math.exp
// CHECK:             gpu.barrier
// CHECK:           scf.for %{{.*}} iter_args
func.func @elu1_dynamic(%q: tensor<?x2x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x32xf32>) -> tensor<?x2x?x32xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x2x?x32xf32>
  %l = tensor.dim %q, %c2 : tensor<?x2x?x32xf32>
  %init = tensor.empty(%b, %l) : tensor<?x2x?x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>)
                      outs(%init : tensor<?x2x?x32xf32>) {score = #attn.score<kernel<elu1>>, strategy = #attn.strategy<"linear">} -> tensor<?x2x?x32xf32>
  return %o : tensor<?x2x?x32xf32>
}

// The backward of a causal elu1 with GQA (LinearGpuBackwardKernel.cpp):
// launch 1 over the queries with the keys' state (dQ; Z and D' per row
// into [B Hq, Lq] buffers), launch 2 over the keys from the last with the
// queries' state (dK and dV per query head into f32 partials), launch 3 the
// sums over each group of 2 query heads.
// CHECK-LABEL: func.func @backward_causal_elu1_gqa(
// CHECK-DAG:     gpu.alloc{{ *}}(%{{.*}}) : memref<?x16x9xf32>
// CHECK-DAG:     %[[NORMS:.*]] = gpu.alloc{{ *}}(%{{.*}}) : memref<?x?xf32>
// CHECK:         gpu.launch blocks({{.*}}) threads(%{{.*}}, {{.*}} = %c9, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) workgroup(%{{.*}} : memref<16xf32, {{.*}}>, %{{.*}} : memref<16xf32, {{.*}}>, %{{.*}} : memref<8xf32, {{.*}}>, %{{.*}} : memref<16xf32, {{.*}}>, %{{.*}} : memref<16xf32, {{.*}}>)
// CHECK:             memref.store %{{.*}}, %[[NORMS]]
// CHECK:           gpu.terminator
// CHECK:         gpu.launch
// CHECK:             memref.load %[[NORMS]]
// CHECK:           gpu.terminator
// CHECK:         gpu.launch blocks({{.*}}) threads(%{{.*}}, {{.*}} = %c128, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
// CHECK:             memref.load %{{.*}} : memref<?x4x?x16xf32>
// CHECK:             memref.store %{{.*}} : memref<1x2x30x16xf32>
// CHECK:             memref.load %{{.*}} : memref<?x4x?x8xf32>
// CHECK:             memref.store %{{.*}} : memref<1x2x30x8xf32>
// CHECK-NOT:     gpu.launch
// CHECK:         return
func.func @backward_causal_elu1_gqa(%q: tensor<1x4x30x16xf32>, %k: tensor<1x2x30x16xf32>,
                                    %v: tensor<1x2x30x8xf32>, %o: tensor<1x4x30x8xf32>)
    -> (tensor<1x4x30x16xf32>, tensor<1x2x30x16xf32>, tensor<1x2x30x8xf32>) {
  %dqi = tensor.empty() : tensor<1x4x30x16xf32>
  %dki = tensor.empty() : tensor<1x2x30x16xf32>
  %dvi = tensor.empty() : tensor<1x2x30x8xf32>
  %g:3 = attn.attention_backward ins(%q, %k, %v, %o, %o : tensor<1x4x30x16xf32>, tensor<1x2x30x16xf32>, tensor<1x2x30x8xf32>, tensor<1x4x30x8xf32>, tensor<1x4x30x8xf32>)
      outs(%dqi, %dki, %dvi : tensor<1x4x30x16xf32>, tensor<1x2x30x16xf32>, tensor<1x2x30x8xf32>)
      {causal, score = #attn.score<kernel<elu1>>, strategy = #attn.strategy<"linear">}
      -> tensor<1x4x30x16xf32>, tensor<1x2x30x16xf32>, tensor<1x2x30x8xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x30x16xf32>, tensor<1x2x30x16xf32>, tensor<1x2x30x8xf32>
}

// PTX: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
// PTX-SAME: .shared
// PTX-SAME: bar.sync
