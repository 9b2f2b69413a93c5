// RUN: attn-opt %s -split-input-file --attn-cpu-pipeline > %t.default
// RUN: FileCheck %s < %t.default
// RUN: FileCheck %s --check-prefix=LOWERED < %t.default
// RUN: attn-opt %s -split-input-file --attn-cpu-pipeline="threads=2 vector-width=256 strategy=reference" > %t.reference
// RUN: FileCheck %s --check-prefixes=CHECK,REF < %t.reference
// RUN: FileCheck %s --check-prefix=LOWERED < %t.reference
// RUN: attn-opt %s -split-input-file --attn-strategy=reference --attn-cpu-pipeline | FileCheck %s --check-prefixes=CHECK,REF
// RUN: not attn-opt %s -split-input-file --attn-cpu-pipeline="strategy=nonexistent" 2>&1 | FileCheck %s --check-prefix=FORCED
// RUN: not attn-opt %s -split-input-file --attn-cpu-pipeline="override-strategy=tield" 2>&1 | FileCheck %s --check-prefix=OVERRIDE

// --attn-cpu-pipeline lowers attn ops on tensors, static or dynamic, all the
// way to the LLVM dialect (OpenMP regions, if any, stay as omp ops for the
// LLVM IR translation): nothing of attn, linalg, tensor, memref, vector, scf,
// cf, arith, math or func is left, whichever strategy selection picks. REF
// checks what the reference strategy leaves behind (a scalar exp per score
// element, the final division). The one attn name left is the module's
// attn.results_owned mark (test/Integration/prelowered-results.mlir).

// LOWERED-NOT: {{[^.a-z_{]}}attn.
// LOWERED-NOT: {{[^.a-z_]}}linalg.
// LOWERED-NOT: {{[^.a-z_]}}tensor.
// LOWERED-NOT: {{[^.a-z_]}}memref.
// LOWERED-NOT: {{[^.a-z_]}}bufferization.
// LOWERED-NOT: {{[^.a-z_]}}vector.
// LOWERED-NOT: {{[^.a-z_]}}scf.
// LOWERED-NOT: {{[^.a-z_]}}cf.
// LOWERED-NOT: {{[^.a-z_]}}arith.
// LOWERED-NOT: {{[^.a-z_]}}math.
// LOWERED-NOT: func.func
// LOWERED-NOT: unrealized_conversion_cast

// FORCED: error: attn-cpu-pipeline: strategy: unknown strategy 'nonexistent'; registered strategies: reference, tiled,
// OVERRIDE: error: attn-cpu-pipeline: override-strategy: unknown strategy 'tield'; registered strategies: reference, tiled,

// Static shapes, GQA, causal with Lq < Lk, Dv != D.
// CHECK-LABEL: llvm.func @main(
// CHECK-SAME:    -> !llvm.struct<(ptr, ptr, i64, array<4 x i64>, array<4 x i64>)>
// REF:           llvm.intr.exp
// REF:           llvm.fdiv
// CHECK:         llvm.return
func.func @main(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>) -> tensor<1x4x8x8xf32> {
  %init = tensor.empty() : tensor<1x4x8x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>)
                      outs(%init : tensor<1x4x8x8xf32>) {causal} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}

// -----

// Dynamic batch and lengths; the destination is sized with tensor.dim.
// CHECK-LABEL: llvm.func @main(
// CHECK-SAME:    -> !llvm.struct<(ptr, ptr, i64, array<4 x i64>, array<4 x i64>)>
// REF:           llvm.call @_mlir_memref_to_llvm_alloc
// CHECK:         llvm.return
func.func @main(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %m: tensor<1x1x?x?xi1>) -> tensor<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x16xf32>
  %lq = tensor.dim %q, %c2 : tensor<?x4x?x16xf32>
  %init = tensor.empty(%b, %lq) : tensor<?x4x?x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
                      mask(%m : tensor<1x1x?x?xi1>)
                      outs(%init : tensor<?x4x?x16xf32>)
                      {window = #attn.window<left = 8, right = 0>, sinks = 2 : i64} -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// f16 with a bias and softcap: f32 accumulation, then truncation to f16.
// CHECK-LABEL: llvm.func @main(
// CHECK:         llvm.fpext
// CHECK:         llvm.fptrunc
// CHECK:         llvm.return
func.func @main(%q: tensor<2x2x16x32xf16>, %b: tensor<1x2x16x16xf16>) -> tensor<2x2x16x32xf16> {
  %init = tensor.empty() : tensor<2x2x16x32xf16>
  %o = attn.attention ins(%q, %q, %q : tensor<2x2x16x32xf16>, tensor<2x2x16x32xf16>, tensor<2x2x16x32xf16>)
                      bias(%b : tensor<1x2x16x16xf16>)
                      outs(%init : tensor<2x2x16x32xf16>) {softcap = 20.0 : f32} -> tensor<2x2x16x32xf16>
  return %o : tensor<2x2x16x32xf16>
}

// -----

// Neighborhood 2-D and a kernel score in one function.
// CHECK-LABEL: llvm.func @main(
// CHECK:         llvm.return
func.func @main(%x: tensor<1x2x6x5x8xbf16>, %q: tensor<1x2x10x8xf32>) -> (tensor<1x2x6x5x8xbf16>, tensor<1x2x10x8xf32>) {
  %init = tensor.empty() : tensor<1x2x6x5x8xbf16>
  %n = attn.neighborhood ins(%x, %x, %x : tensor<1x2x6x5x8xbf16>, tensor<1x2x6x5x8xbf16>, tensor<1x2x6x5x8xbf16>)
                         outs(%init : tensor<1x2x6x5x8xbf16>)
                         {kernel = [3, 3], dilation = [2, 1], causal = [false, true], stride = [1, 2]} -> tensor<1x2x6x5x8xbf16>
  %init2 = tensor.empty() : tensor<1x2x10x8xf32>
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x10x8xf32>, tensor<1x2x10x8xf32>, tensor<1x2x10x8xf32>)
                      outs(%init2 : tensor<1x2x10x8xf32>) {score = #attn.score<kernel<elu1>>} -> tensor<1x2x10x8xf32>
  return %n, %o : tensor<1x2x6x5x8xbf16>, tensor<1x2x10x8xf32>
}

// -----

// An entry that returns its argument: deallocation clones it (the caller
// owns results), and the clone is lowered to an allocation and a copy; the
// allocation is the result's (attn-result-buffers), so the copy goes into a
// buffer the caller offers when it offers one.
// CHECK-LABEL: llvm.func @identity(
// CHECK:         llvm.call @attnAllocateResult
// CHECK:         "llvm.intr.memcpy"
// CHECK:         llvm.return
func.func @identity(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
