// block_sparse on the GPU skips the key tiles its mask allows no key of: the
// host counts the allowed keys of each (block_q x block_k) tile (one
// parallel pass over the mask, a task per query block, MaskTiles.h), copies the counts to the device,
// and each thread block visits a tile only when its count is not 0 (the
// same counts the CPU kernel uses), and reads the mask per key only when the
// count says the tile is not full. tiled reads the mask per key and visits
// every tile. Results on a device: run-on-vulkan.test and
// block-sparse-runtime-aligned.mlir.
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-apply-strategies --attn-convert-online-attention-to-gpu --attn-gpu-device-buffers | FileCheck %s

// CHECK-LABEL: func.func @main(
// CHECK: %[[COUNTS:.*]] = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 4, %{{.*}}) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x4x?x?xi32>)
// CHECK: %[[HOST:.*]] = bufferization.to_buffer %[[COUNTS]]
// CHECK: %[[DEVICE:.*]] = gpu.alloc {{.*}} : memref<1x4x?x?xi32>
// CHECK: gpu.memcpy %[[DEVICE]], %[[HOST]]
// CHECK: gpu.launch blocks(%[[BLOCK:[^,]*]],
// CHECK: %[[COUNT:.*]] = memref.load %[[DEVICE]][%{{.*}}, %{{.*}}, %[[BLOCK]], %{{.*}}] : memref<1x4x?x?xi32>
// CHECK: arith.cmpi ne, %[[COUNT]]
// A tile whose 16 x 8 keys the mask all allows is not read per key.
// CHECK: %[[FULL:.*]] = arith.cmpi eq, %[[COUNT]], %c128_i32
// CHECK: scf.if %[[FULL]] -> (i1)
// CHECK-NEXT: arith.constant true
// CHECK: } else {
// CHECK-NEXT: memref.load %{{.*}} : memref<1x4x48x64xi1>

// CHECK-LABEL: func.func @tiled(
// CHECK-NOT: xi32>
// CHECK: gpu.launch

func.func @main(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>, %m: tensor<1x4x48x64xi1>) -> tensor<1x4x48x16xf32> {
  %init = tensor.empty() : tensor<1x4x48x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x48x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      mask(%m : tensor<1x4x48x64xi1>)
                      outs(%init : tensor<1x4x48x16xf32>) {strategy = #attn.strategy<"block_sparse", {block_q = 16, block_k = 8}>} -> tensor<1x4x48x16xf32>
  return %o : tensor<1x4x48x16xf32>
}

func.func @tiled(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>, %m: tensor<1x4x48x64xi1>) -> tensor<1x4x48x16xf32> {
  %init = tensor.empty() : tensor<1x4x48x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x48x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      mask(%m : tensor<1x4x48x64xi1>)
                      outs(%init : tensor<1x4x48x16xf32>) {strategy = #attn.strategy<"tiled", {block_q = 16, block_k = 8}>} -> tensor<1x4x48x16xf32>
  return %o : tensor<1x4x48x16xf32>
}

// A constant mask is counted at compile time: the counts of its 16 x 8
// tiles (2 x 2 of them for 20 x 12) are a constant, and no reduction runs
// on the host per call.
// CHECK-LABEL: func.func @constant_mask(
// CHECK-NOT:     linalg.generic
// CHECK:         %[[COUNTS:.*]] = arith.constant dense<{{\[\[\[\[}}128, 0], [32, 16]]]]> : tensor<1x1x2x2xi32>
// CHECK:         tensor.cast %[[COUNTS]] : tensor<1x1x2x2xi32> to tensor<1x1x?x?xi32>
// CHECK:         gpu.launch
func.func @constant_mask(%q: tensor<1x2x20x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x16xf32>) -> tensor<1x2x20x16xf32> {
  %init = tensor.empty() : tensor<1x2x20x16xf32>
  // Rows 0-15 see keys 0-7; rows 16-19 see all 12 keys.
  %m = arith.constant dense<[[[
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, false, false, false, false],
    [true, true, true, true, true, true, true, true, true, true, true, true],
    [true, true, true, true, true, true, true, true, true, true, true, true],
    [true, true, true, true, true, true, true, true, true, true, true, true],
    [true, true, true, true, true, true, true, true, true, true, true, true]]]]> : tensor<1x1x20x12xi1>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x20x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x16xf32>)
                      mask(%m : tensor<1x1x20x12xi1>)
                      outs(%init : tensor<1x2x20x16xf32>) {strategy = #attn.strategy<"block_sparse", {block_q = 16, block_k = 8}>} -> tensor<1x2x20x16xf32>
  return %o : tensor<1x2x20x16xf32>
}
