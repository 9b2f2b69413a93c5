// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-raise=explain=true | FileCheck %s

// attn-raise on masks and biases that a linalg exporter (torch-mlir)
// computes from aranges, linalg.index and small tables: attributes,
// mask_mod and score_mod regions, never Lq x Lk tensors.

// torch-mlir's form of an iota causal mask: aranges as linalg.index generics,
// a broadcast comparison, where(m, 0, -inf), added to the scores.
// CHECK-LABEL: func.func @arange_causal(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 1.000000e+00 : f32} -> tensor<1x4x8x16xf32>
// CHECK-NOT:     mask_mod
// CHECK-NOT:     linalg.generic
func.func @arange_causal(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ea = tensor.empty() : tensor<8xi64>
  %arange = linalg.generic {indexing_maps = [affine_map<(n) -> (n)>], iterator_types = ["parallel"]} outs(%ea : tensor<8xi64>) {
  ^bb0(%out: i64):
    %n = linalg.index 0 : index
    %c = arith.index_cast %n : index to i64
    linalg.yield %c : i64
  } -> tensor<8xi64>
  %eb = tensor.empty() : tensor<8x8xi1>
  %lower = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%arange, %arange : tensor<8xi64>, tensor<8xi64>) outs(%eb : tensor<8x8xi1>) {
  ^bb0(%i: i64, %j: i64, %out: i1):
    %ok = arith.cmpi sge, %i, %j : i64
    linalg.yield %ok : i1
  } -> tensor<8x8xi1>
  %ef = tensor.empty() : tensor<8x8xf32>
  %add = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%lower : tensor<8x8xi1>) outs(%ef : tensor<8x8xf32>) {
  ^bb0(%m: i1, %out: f32):
    %r = arith.select %m, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %add : tensor<4x8x8xf32>, tensor<8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %m: f32, %out: f32):
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{the computed mask is the causal rule}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Documents from segment ids gathered in the mask's own generic (tensor.extract
// at linalg.index), causal within each document: the causal conjunct becomes
// the attribute, a mask_mod reads the ids.
// CHECK-LABEL: func.func @gathered_documents(
// CHECK-SAME:      %[[SEG:[a-zA-Z0-9_]+]]: tensor<8xi32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 1.000000e+00 : f32} mask_mod {
// CHECK-NEXT:    ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       tensor.extract %[[SEG]][%[[I]]] : tensor<8xi32>
// CHECK-DAG:       tensor.extract %[[SEG]][%[[J]]] : tensor<8xi32>
// CHECK:           arith.cmpi eq
// CHECK-NOT:       arith.cmpi sle
// CHECK:           attn.yield
func.func @gathered_documents(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %seg: tensor<8xi32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ef = tensor.empty() : tensor<8x8xf32>
  %add = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} outs(%ef : tensor<8x8xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %si = tensor.extract %seg[%i] : tensor<8xi32>
    %sj = tensor.extract %seg[%j] : tensor<8xi32>
    %same = arith.cmpi eq, %si, %sj : i32
    %before = arith.cmpi sle, %j, %i : index
    %ok = arith.andi %same, %before : i1
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %add : tensor<4x8x8xf32>, tensor<8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %m: f32, %out: f32):
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// ALiBi in one generic: slope[h] * (j - i) with the slopes an input and the
// positions from linalg.index: a score_mod.
// CHECK-LABEL: func.func @alibi_generic(
// CHECK-SAME:      %[[SLOPES:[a-zA-Z0-9_]+]]: tensor<4xf32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {scale = 1.000000e+00 : f32} score_mod {
// CHECK-NEXT:    ^bb0(%[[S:.+]]: f32, %[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       tensor.extract %[[SLOPES]][%[[H]]] : tensor<4xf32>
// CHECK-DAG:       arith.subi %[[J]], %[[I]] : index
// CHECK:           attn.yield
func.func @alibi_generic(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %slopes: tensor<4xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bias = linalg.generic {indexing_maps = [affine_map<(h, i, j) -> (h)>, affine_map<(h, i, j) -> (h, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%slopes : tensor<4xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%slope: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %d = arith.subi %j, %i : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %r = arith.mulf %slope, %df : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %sm = linalg.add ins(%s, %bias : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{the computed bias became the score_mod}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// The scale, an ALiBi bias and a causal mask computed in the generic that
// adds them to the scores (as elementwise fusion leaves them): the bias
// becomes a score_mod, the mask the causal rule.
// CHECK-LABEL: func.func @fused_bias_and_mask(
// CHECK-SAME:      %[[SLOPES:[a-zA-Z0-9_]+]]: tensor<4xf32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32} score_mod {
// CHECK-NEXT:    ^bb0(%[[S:.+]]: f32, %[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       tensor.extract %[[SLOPES]][%[[H]]] : tensor<4xf32>
// CHECK-DAG:       arith.subi %[[J]], %[[I]] : index
// CHECK:           attn.yield
// CHECK-NOT:     linalg.generic
func.func @fused_bias_and_mask(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %slopes: tensor<4xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %quarter = arith.constant 0.25 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(h, i, j) -> (h, i, j)>, affine_map<(h, i, j) -> (h)>, affine_map<(h, i, j) -> (h, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %slopes : tensor<4x8x8xf32>, tensor<4xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%score: f32, %slope: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %d = arith.subi %j, %i : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %b = arith.mulf %slope, %df : f32
    %scaled = arith.mulf %score, %quarter : f32
    %biased = arith.addf %scaled, %b : f32
    %seen = arith.cmpi sge, %i, %j : index
    %r = arith.select %seen, %biased, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{the computed bias became the score_mod}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Documents as masked_fill in the generic that scales the scores: the ids
// are read with tensor.extract at i and j; the mask becomes the mask_mod.
// CHECK-LABEL: func.func @fused_documents(
// CHECK-SAME:      %[[SEG:[a-zA-Z0-9_]+]]: tensor<8xi32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {scale = 2.500000e-01 : f32} mask_mod {
// CHECK-NEXT:    ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       tensor.extract %[[SEG]][%[[I]]] : tensor<8xi32>
// CHECK-DAG:       tensor.extract %[[SEG]][%[[J]]] : tensor<8xi32>
// CHECK:           attn.yield
// CHECK-NOT:     linalg.generic
func.func @fused_documents(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %seg: tensor<8xi32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %quarter = arith.constant 0.25 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(h, i, j) -> (h, i, j)>, affine_map<(h, i, j) -> (h, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%score: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %si = tensor.extract %seg[%i] : tensor<8xi32>
    %sj = tensor.extract %seg[%j] : tensor<8xi32>
    %same = arith.cmpi eq, %si, %sj : i32
    %scaled = arith.mulf %score, %quarter : f32
    %r = arith.select %same, %scaled, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Sinks in linalg: tensor.concat of a per-head column, linalg.softmax over
// both, tensor.extract_slice of the keys.
// CHECK-LABEL: func.func @sink_concat(
// CHECK-SAME:      %[[SL:[a-zA-Z0-9_]+]]: tensor<4xf32>)
// CHECK:         attn.attention ins({{.*}}) sink_logits(%[[SL]] : tensor<4xf32>) outs({{.*}}) {scale = 1.000000e+00 : f32} -> tensor<1x4x8x16xf32>
// CHECK-NOT:     tensor.concat
func.func @sink_concat(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %sl: tensor<4xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ec = tensor.empty() : tensor<4x8x1xf32>
  %col = linalg.broadcast ins(%sl : tensor<4xf32>) outs(%ec : tensor<4x8x1xf32>) dimensions = [1, 2]
  %cat = tensor.concat dim(2) %s, %col : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x9xf32>
  %e9 = tensor.empty() : tensor<4x8x9xf32>
  %p9 = linalg.softmax dimension(2) ins(%cat : tensor<4x8x9xf32>) outs(%e9 : tensor<4x8x9xf32>) -> tensor<4x8x9xf32>
  %sm = tensor.extract_slice %p9[0, 0, 0] [4, 8, 8] [1, 1, 1] : tensor<4x8x9xf32> to tensor<4x8x8xf32>
  %p = tensor.extract_slice %p9[0, 0, 0] [4, 8, 8] [1, 1, 1] : tensor<4x8x9xf32> to tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{the column concatenated to the scores became sink_logits}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
