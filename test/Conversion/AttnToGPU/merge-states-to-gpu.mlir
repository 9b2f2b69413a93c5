// RUN: attn-opt %s -split-input-file --attn-convert-online-attention-to-gpu | FileCheck %s

// attn.merge_states on a GPU: one launch, a thread per row (128 per block),
// over buffers of the states; the row's multi-index taken apart from the
// flat row; its factors, LSE and entropy once, then O over Dv, rounded to
// the output's f16.
// CHECK-LABEL: func.func @merge_user_states(
// CHECK-DAG:     %[[O1:.*]] = bufferization.to_buffer %arg0
// CHECK-DAG:     %[[H2:.*]] = bufferization.to_buffer %arg5
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<2x5x8xf16>
// CHECK:         %[[LSE:.*]] = memref.alloc() : memref<2x5xf32>
// CHECK:         %[[ENT:.*]] = memref.alloc() : memref<2x5xf32>
// CHECK:         gpu.launch
// CHECK:           arith.remui
// CHECK:           memref.load %[[H2]]
// CHECK:           arith.maximumf
// CHECK:           memref.store {{.*}}, %[[LSE]]
// CHECK:           memref.store {{.*}}, %[[ENT]]
// CHECK:           scf.for
// CHECK:             memref.load %[[O1]]
// CHECK:             arith.truncf
// CHECK:             memref.store {{.*}}, %[[OUT]]
// CHECK-NOT:     attn.merge_states
// CHECK:         return
func.func @merge_user_states(%o1: tensor<2x5x8xf32>, %l1: tensor<2x5xf32>, %h1: tensor<2x5xf32>, %o2: tensor<2x5x8xf32>, %l2: tensor<2x5xf32>, %h2: tensor<2x5xf32>,
                             %oi: tensor<2x5x8xf16>, %li: tensor<2x5xf32>, %hi: tensor<2x5xf32>) -> (tensor<2x5x8xf16>, tensor<2x5xf32>, tensor<2x5xf32>) {
  %o, %lse, %h = attn.merge_states ins(%o1, %l1, %o2, %l2 : tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x5xf32>)
      entropy(%h1, %h2 : tensor<2x5xf32>, tensor<2x5xf32>)
      outs(%oi, %li, %hi : tensor<2x5x8xf16>, tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5x8xf16>, tensor<2x5xf32>, tensor<2x5xf32>
  return %o, %lse, %h : tensor<2x5x8xf16>, tensor<2x5xf32>, tensor<2x5xf32>
}

// -----

// States that are whole slices of one stacked tensor (as split-KV writes
// them) are read from that tensor's buffer at their slice: one to_buffer,
// no copy of the slices. An LSE that nothing reads is not written.
// CHECK-LABEL: func.func @merge_stacked(
// CHECK-SAME:    %[[STACK:[^:]+]]: tensor<3x?x8xf32>, %[[LSES:[^:]+]]: tensor<3x?xf32>
// CHECK-DAG:     %[[SB:.*]] = bufferization.to_buffer %[[STACK]]
// CHECK-DAG:     %[[LB:.*]] = bufferization.to_buffer %[[LSES]]
// CHECK-NOT:     tensor.extract_slice
// CHECK:         %[[OUT:.*]] = memref.alloc({{.*}}) : memref<?x8xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         gpu.launch
// CHECK-DAG:       memref.load %[[LB]][%c2{{.*}}, %{{.*}}]
// CHECK-DAG:       memref.load %[[SB]][%c1{{.*}}, %{{.*}}, %{{.*}}]
// CHECK:           memref.store {{.*}}, %[[OUT]]
// CHECK:         return
func.func @merge_stacked(%stack: tensor<3x?x8xf32>, %lses: tensor<3x?xf32>, %oi: tensor<?x8xf32>, %li: tensor<?xf32>) -> tensor<?x8xf32> {
  %c1 = arith.constant 1 : index
  %n = tensor.dim %stack, %c1 : tensor<3x?x8xf32>
  %m = tensor.dim %lses, %c1 : tensor<3x?xf32>
  %o0 = tensor.extract_slice %stack[0, 0, 0] [1, %n, 8] [1, 1, 1] : tensor<3x?x8xf32> to tensor<?x8xf32>
  %o1 = tensor.extract_slice %stack[1, 0, 0] [1, %n, 8] [1, 1, 1] : tensor<3x?x8xf32> to tensor<?x8xf32>
  %o2 = tensor.extract_slice %stack[2, 0, 0] [1, %n, 8] [1, 1, 1] : tensor<3x?x8xf32> to tensor<?x8xf32>
  %l0 = tensor.extract_slice %lses[0, 0] [1, %m] [1, 1] : tensor<3x?xf32> to tensor<?xf32>
  %l1 = tensor.extract_slice %lses[1, 0] [1, %m] [1, 1] : tensor<3x?xf32> to tensor<?xf32>
  %l2 = tensor.extract_slice %lses[2, 0] [1, %m] [1, 1] : tensor<3x?xf32> to tensor<?xf32>
  %o, %lse = attn.merge_states ins(%o0, %l0, %o1, %l1, %o2, %l2 : tensor<?x8xf32>, tensor<?xf32>, tensor<?x8xf32>, tensor<?xf32>, tensor<?x8xf32>, tensor<?xf32>)
      outs(%oi, %li : tensor<?x8xf32>, tensor<?xf32>) -> tensor<?x8xf32>, tensor<?xf32>
  return %o : tensor<?x8xf32>
}
