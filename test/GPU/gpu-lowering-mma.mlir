// REQUIRES: ptxas
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-apply-strategies --attn-convert-online-attention-to-gpu | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa chip=sm_80 features=+ptx70" | FileCheck %s --check-prefix=PTX
// RUN: attn-opt %s --attn-gpu-pipeline="format=bin chip=sm_90" -o /dev/null

// Tensor cores for f16 and bf16 (tiled, tensor_cores = 1): the block's Q rows, the K
// tile (head dimension padded from 72 to 80, the mma k step) and the V tile
// staged in shared memory as f16; per key tile, each warp's 32 x 32 scores
// as 2 x 4 mma.sync m16n8k16 with f32 accumulators, iterated over the head
// dimension, stored to a shared score tile that the online softmax reads.

// CHECK-LABEL: func.func @mma_f16(
// CHECK:         gpu.launch
// CHECK-SAME:        workgroup(%[[KT:.*]] : memref<32x80xf16, #gpu.address_space<workgroup>>, %[[VT:.*]] : memref<32x72xf16, #gpu.address_space<workgroup>>, %[[QT:.*]] : memref<64x80xf16, #gpu.address_space<workgroup>>, %[[ST:.*]] : memref<64x32xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME:        private(%{{.*}} : memref<72xf32, #gpu.address_space<private>>)
// CHECK:           memref.store %{{.*}}, %[[QT]]
// CHECK:           scf.for
// CHECK:             gpu.barrier
// CHECK:             %{{.*}}:8 = scf.for %{{.*}} = %{{.*}} to %c80 step %c16 iter_args(
// CHECK:               vector.from_elements {{.*}} : vector<4x2xf16>
// CHECK:               vector.from_elements {{.*}} : vector<2x2xf16>
// CHECK-COUNT-8:       nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:             memref.store %{{.*}}, %[[ST]]
// CHECK:             gpu.barrier
// CHECK:             memref.load %[[ST]]
// CHECK:             math.exp2

// bf16 the same way, as nvgpu.mma.sync on bf16 fragments: no NVVM in what
// the strategy builds (attn-convert-bf16-mma-sync-to-nvvm lowers it in the
// CUDA pipeline, where the PTX below comes from).
// CHECK-LABEL: func.func @mma_bf16(
// CHECK:         gpu.launch
// CHECK-SAME:        workgroup(%{{.*}} : memref<32x64xbf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x64xbf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<64x64xbf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<64x32xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT:         nvvm.
// CHECK-COUNT-8:     nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-NOT:         nvvm.
// CHECK:             math.exp2

// Without tensor_cores, scores stay SIMT dot products (f32 inputs with
// tensor_cores = 1 are an error: invalid-parameters.mlir).
// CHECK-LABEL: func.func @simt_f32(
// CHECK-NOT:     nvgpu.mma.sync
// CHECK:         return

// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @mma_f16(%q: tensor<1x4x200x72xf16>, %k: tensor<1x2x150x72xf16>, %v: tensor<1x2x150x72xf16>) -> tensor<1x4x200x72xf16> {
  %init = tensor.empty() : tensor<1x4x200x72xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x200x72xf16>, tensor<1x2x150x72xf16>, tensor<1x2x150x72xf16>)
                      outs(%init : tensor<1x4x200x72xf16>)
                      {causal, strategy = #attn.strategy<"tiled", {block_q = 64, block_k = 32, tensor_cores = 1}>} -> tensor<1x4x200x72xf16>
  return %o : tensor<1x4x200x72xf16>
}

func.func @mma_bf16(%q: tensor<2x2x100x64xbf16>, %k: tensor<2x2x90x64xbf16>, %v: tensor<2x2x90x64xbf16>) -> tensor<2x2x100x64xbf16> {
  %init = tensor.empty() : tensor<2x2x100x64xbf16>
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x100x64xbf16>, tensor<2x2x90x64xbf16>, tensor<2x2x90x64xbf16>)
                      outs(%init : tensor<2x2x100x64xbf16>)
                      {strategy = #attn.strategy<"tiled", {block_q = 64, block_k = 32, tensor_cores = 1}>} -> tensor<2x2x100x64xbf16>
  return %o : tensor<2x2x100x64xbf16>
}

func.func @simt_f32(%q: tensor<1x4x200x72xf32>, %k: tensor<1x2x150x72xf32>, %v: tensor<1x2x150x72xf32>) -> tensor<1x4x200x72xf32> {
  %init = tensor.empty() : tensor<1x4x200x72xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x200x72xf32>, tensor<1x2x150x72xf32>, tensor<1x2x150x72xf32>)
                      outs(%init : tensor<1x4x200x72xf32>)
                      {strategy = #attn.strategy<"tiled", {block_q = 64, block_k = 32, tensor_cores = 0}>} -> tensor<1x4x200x72xf32>
  return %o : tensor<1x4x200x72xf32>
}
