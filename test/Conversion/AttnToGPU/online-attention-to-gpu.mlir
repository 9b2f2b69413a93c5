// RUN: attn-opt %s -split-input-file --attn-convert-online-attention-to-gpu | FileCheck %s

// The GPU lowering of the tile op: an op that carries attn.gpu_kernel,
// from the empty state, with the attn.finalize after it, becomes the flash
// kernel's launch over host buffers (its output buffer the finalize's
// result); with splits a second launch merges the partial states. Any
// other op that carries it updates its state. Ops without the attribute
// stay.

// CHECK-LABEL: func.func @fused(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x9x8xf32>, %[[K:[^:]+]]: tensor<1x2x11x8xf32>
// CHECK-DAG:     bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG:     bufferization.to_buffer %[[K]] read_only
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<1x4x9x8xf32>
// CHECK:         gpu.launch
// CHECK:           gpu.barrier
// CHECK:           math.exp2
// CHECK:           arith.divf
// CHECK:           memref.store {{.*}}, %[[OUT]]
// CHECK:         %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT:     attn.
// CHECK:         return %[[R]]
func.func @fused(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, causal, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

// Two splits: each writes its normalized state (O, LSE) into [split, B,
// Hq, Lq, ...] scratch, and attn.merge_states becomes a launch that reads
// the scratch buffers at each split, writing the result straight into the
// output (its LSE unused: not written).
// CHECK-LABEL: func.func @splits(
// CHECK:         %[[PO:.*]] = memref.alloc({{.*}}) : memref<2x?x4x?x8xf32>
// CHECK:         %[[PL:.*]] = memref.alloc({{.*}}) : memref<2x?x4x?xf32>
// CHECK:         gpu.launch
// CHECK:           math.log2
// CHECK:         %[[TL:.*]] = bufferization.to_tensor %[[PL]]
// CHECK:         %[[TO:.*]] = bufferization.to_tensor %[[PO]]
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<1x4x9x8xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         gpu.launch
// CHECK:           arith.maximumf
// CHECK:           memref.store {{.*}}, %[[OUT]]
// CHECK-NOT:     attn.
// CHECK:         %[[R:.*]] = bufferization.to_tensor %[[OUT]]
// CHECK:         return %[[R]]
func.func @splits(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 2 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

// A state given as arguments: each row's thread reads it (split 0 of two)
// and the op becomes the updated state, three fresh buffers that the
// launches write: the splits' launch, the merge's, then one that writes the
// merged state (O, m = LSE log2 e, l = 1), no division.
// CHECK-LABEL: func.func @state(
// CHECK-SAME:    %[[ACC:[^:]+]]: tensor<1x4x9x8xf32>, %[[M:[^:]+]]: tensor<1x4x9xf32>, %[[L:[^:]+]]: tensor<1x4x9xf32>)
// CHECK-DAG:     %[[ACCB:.*]] = bufferization.to_buffer %[[ACC]] read_only
// CHECK-DAG:     %[[MB:.*]] = bufferization.to_buffer %[[M]] read_only
// CHECK-DAG:     %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only
// CHECK:         %[[ACCO:.*]] = memref.alloc() : memref<1x4x9x8xf32>
// CHECK:         %[[MO:.*]] = memref.alloc() : memref<1x4x9xf32>
// CHECK:         %[[LO:.*]] = memref.alloc() : memref<1x4x9xf32>
// CHECK:         gpu.launch
// CHECK:           memref.load %[[ACCB]]
// CHECK:           memref.load %[[MB]]
// CHECK:           memref.load %[[LB]]
// CHECK:         gpu.launch
// CHECK:           arith.maximumf
// CHECK:         gpu.launch
// CHECK-NOT:       arith.divf
// CHECK:           memref.store {{.*}}, %[[ACCO]]
// CHECK:           memref.store {{.*}}, %[[MO]]
// CHECK:           memref.store {{.*}}, %[[LO]]
// CHECK:         %[[RA:.*]] = bufferization.to_tensor %[[ACCO]]
// CHECK:         %[[RM:.*]] = bufferization.to_tensor %[[MO]]
// CHECK:         %[[RL:.*]] = bufferization.to_tensor %[[LO]]
// CHECK-NOT:     attn.
// CHECK:         return %[[RA]], %[[RM]], %[[RL]]
func.func @state(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>) {
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 2 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0, %s#1, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
}

// -----

// From the empty state, its max used: the state is written, not read.
// CHECK-LABEL: func.func @max_used(
// CHECK-NOT:     bufferization.to_buffer %{{.*}} : tensor<1x4x9xf32>
// CHECK:         gpu.launch
// CHECK-NOT:       arith.divf
// CHECK-NOT:     attn.
// CHECK:         return
func.func @max_used(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0, %s#1, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
}

// -----

// Without attn.gpu_kernel the op is left to the portable lowering.
// CHECK-LABEL: func.func @unmarked(
// CHECK:         attn.online_attention
// CHECK:         attn.finalize
func.func @unmarked(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}
