// RUN: attn-opt %s -split-input-file --attn-set-target=target=cpu --attn-select-strategy=strategy=tiled --attn-apply-strategies --attn-distribute-sequence="mode=zigzag ranks=2" | FileCheck %s --check-prefix=ZIGZAG
// RUN: attn-opt %s -split-input-file --attn-set-target=target=cpu --attn-select-strategy=strategy=tiled --attn-apply-strategies --attn-distribute-sequence="mode=ring ranks=3" | FileCheck %s --check-prefix=RING

// attn-distribute-sequence on the tiled strategy's tile-op form. zigzag over
// 2 ranks: 4 chunks of 10 of the 37 rows, each rank holding 2 (20 rows of
// q, k and v); ring over 3 ranks: 3 chunks of 13 rows.

// ZIGZAG: module attributes {{{.*}}dlti.map = #dlti.map<"MPI:Implementation" = "OpenMPI">
// ZIGZAG: func.func @main(%[[Q:arg0]]: tensor<1x4x20x16xf32>, %[[K:arg1]]: tensor<1x2x20x16xf32>, %[[V:arg2]]: tensor<1x2x20x16xf32>) -> tensor<1x4x37x16xf32>
// ZIGZAG: %[[COMM:.*]] = mpi.comm_world
// ZIGZAG: mpi.comm_rank(%[[COMM]])
// ZIGZAG: bufferization.to_buffer %[[K]] read_only
// ZIGZAG-COUNT-2: memref.alloc() {alignment = 64 : i64} : memref<1x2x20x16xf32>
// ZIGZAG: bufferization.to_buffer %[[V]] read_only
// ZIGZAG: scf.for
// The block passes on while the step computes; the wait ends the step.
// ZIGZAG: mpi.isend
// ZIGZAG: mpi.irecv
// ZIGZAG: mpi.isend
// ZIGZAG: mpi.irecv
// A query chunk of the first half folds only the block's first chunk
// (causal rules out the second half): 3 tile ops per step.
// ZIGZAG-COUNT-3: attn.online_attention ins({{.*}} : tensor<1x4x10x16xf32>, tensor<1x2x10x16xf32>, tensor<1x2x10x16xf32>) positions
// ZIGZAG-NOT: attn.online_attention
// ZIGZAG-COUNT-4: mpi.wait
// ZIGZAG: scf.yield
// The last step, after the loop, folds the block it holds and passes
// nothing on.
// ZIGZAG-NOT: mpi.isend
// ZIGZAG-COUNT-3: attn.online_attention
// ZIGZAG-NOT: mpi.wait
// ZIGZAG-COUNT-2: attn.finalize
// Rank 0 receives every other rank's rows; the others send theirs.
// ZIGZAG: scf.if
// ZIGZAG: mpi.recv
// ZIGZAG: } else {
// ZIGZAG: mpi.send
// ZIGZAG: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 4, 37, 16] [1, 1, 1, 1] : tensor<1x4x40x16xf32> to tensor<1x4x37x16xf32>

// RING: func.func @main(%arg0: tensor<1x4x13x16xf32>, %arg1: tensor<1x2x13x16xf32>, %arg2: tensor<1x2x13x16xf32>) -> tensor<1x4x37x16xf32>
// RING: scf.for
// RING: mpi.isend
// RING: attn.online_attention
// RING: mpi.wait
// RING: scf.yield
// RING-NOT: mpi.isend
// RING: attn.online_attention
// RING-NOT: attn.online_attention
// RING: attn.finalize
func.func @main(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>) -> tensor<1x4x37x16xf32> {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) {causal} -> tensor<1x4x37x16xf32>
  return %o : tensor<1x4x37x16xf32>
}

// -----

// Sink keys: the block at key position 0 is folded with them at the
// constant position 0, every other block without them. Non-causal with
// keys padded past 44: the last chunk's tile op masks them.

// RING-LABEL: func.func @main(%arg0: tensor<1x4x15x16xf32>
// RING: scf.for
// RING: scf.if
// RING: attn.online_attention {{.*}} positions(%{{.*}}, %c0{{.*}}) {{.*}}sinks = 3 : i64
// RING: } else {
// RING: scf.if
// RING: attn.online_attention {{.*}} mask(%{{.*}} : tensor<1x1x15x15xi1>)
// RING: } else {
// RING: attn.online_attention
// RING-NOT: sinks
// RING: mpi.wait
func.func @main(%q: tensor<1x4x44x16xf32>, %k: tensor<1x2x44x16xf32>, %v: tensor<1x2x44x16xf32>) -> tensor<1x4x44x16xf32> {
  %init = tensor.empty() : tensor<1x4x44x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x44x16xf32>, tensor<1x2x44x16xf32>, tensor<1x2x44x16xf32>)
      outs(%init : tensor<1x4x44x16xf32>) {window = #attn.window<left = 11, right = 4>, sinks = 3 : i64} -> tensor<1x4x44x16xf32>
  return %o : tensor<1x4x44x16xf32>
}
