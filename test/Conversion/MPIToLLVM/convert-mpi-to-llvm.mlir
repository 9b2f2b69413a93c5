// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-convert-mpi-to-llvm | FileCheck %s

// attn-convert-mpi-to-llvm: upstream's patterns for comm_world, comm_rank
// and send, and attn's for comm_size, isend, irecv, wait and barrier, in
// OpenMPI's ABI.

// CHECK-DAG: llvm.mlir.global external @ompi_mpi_comm_world() {{.*}} : !llvm.struct<"ompi_communicator_t", opaque>
// CHECK-DAG: llvm.mlir.global external @ompi_mpi_float() {{.*}} : !llvm.struct<"ompi_predefined_datatype_t", opaque>
// CHECK-DAG: llvm.func @MPI_Isend(!llvm.ptr, i32, !llvm.ptr, i32, i32, !llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG: llvm.func @MPI_Irecv(!llvm.ptr, i32, !llvm.ptr, i32, i32, !llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG: llvm.func @MPI_Wait(!llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG: llvm.func @MPI_Comm_size(!llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG: llvm.func @MPI_Barrier(!llvm.ptr) -> i32
// CHECK-LABEL: func.func @ring
// The request slots are allocated once, on entry.
// CHECK-COUNT-2: llvm.alloca {{.*}} x !llvm.ptr
// CHECK: llvm.call @MPI_Comm_size
// CHECK: %[[SEND:.*]] = llvm.call @MPI_Isend(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SREQ:.*]]) :
// CHECK: llvm.call @MPI_Irecv
// CHECK: llvm.call @MPI_Barrier
// CHECK: llvm.call @MPI_Wait
// CHECK: llvm.call @MPI_Wait
module attributes {dlti.map = #dlti.map<"MPI:Implementation" = "OpenMPI">} {
  func.func @ring(%send: memref<64xf32>, %recv: memref<64xf32>) -> i32 {
    %comm = mpi.comm_world : !mpi.comm
    %size = mpi.comm_size(%comm) : i32
    %tag = arith.constant 7 : i32
    %peer = arith.constant 1 : i32
    %r1 = mpi.isend(%send, %tag, %peer, %comm) : memref<64xf32>, i32, i32 -> !mpi.request
    %r2 = mpi.irecv(%recv, %tag, %peer, %comm) : memref<64xf32>, i32, i32 -> !mpi.request
    mpi.barrier(%comm)
    mpi.wait(%r1) : !mpi.request
    mpi.wait(%r2) : !mpi.request
    return %size : i32
  }
}

// -----

// expected-error @+1 {{attn-convert-mpi-to-llvm: the module must name its MPI with the DLTI entry "MPI:Implementation" = "OpenMPI"}}
module {
  func.func @untagged() {
    %comm = mpi.comm_world : !mpi.comm
    mpi.barrier(%comm)
    return
  }
}
