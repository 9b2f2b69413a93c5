// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-raise=explain=true | FileCheck %s

// attn-raise on masks, biases and sinks that a TOSA exporter computes from
// iotas, small tables and elementwise ops: they become attributes, mask_mod
// and score_mod regions, and sink_logits, never Lq x Lk tensors.

// An iota comparison added as select(m, 0, -inf): the causal attribute.
// CHECK-LABEL: func.func @iota_causal(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32} -> tensor<1x4x8x16xf32>
// CHECK-NOT:     mask_mod
// CHECK-NOT:     tosa.
func.func @iota_causal(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %m = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %zero = "tosa.const"() <{values = dense<0.0> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %add = tosa.select %m, %zero, %ninf : (tensor<1x8x8xi1>, tensor<1x1x1xf32>, tensor<1x1x1xf32>) -> tensor<1x8x8xf32>
  %sm = tosa.add %s, %add : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask is the causal rule}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// masked_fill(~m, -inf) with m = (i >= j) and (i - j <= 2): causal and a
// window of two keys to the left.
// CHECK-LABEL: func.func @iota_window(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32, window = #attn.window<left = 2>} -> tensor<1x4x8x16xf32>
// CHECK-NOT:     mask_mod
func.func @iota_window(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %lower = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %d = tosa.sub %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi32>
  %two = "tosa.const"() <{values = dense<2> : tensor<1x1x1xi32>}> : () -> tensor<1x1x1xi32>
  %near = tosa.greater_equal %two, %d : (tensor<1x1x1xi32>, tensor<1x8x8xi32>) -> tensor<1x8x8xi1>
  %m = tosa.logical_and %lower, %near : (tensor<1x8x8xi1>, tensor<1x8x8xi1>) -> tensor<1x8x8xi1>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sm = tosa.select %m, %s, %ninf : (tensor<1x8x8xi1>, tensor<4x8x8xf32>, tensor<1x1x1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask is the causal rule and a window}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Prefix-LM: keys before 3 are seen by every query, the rest causally. No
// attribute says that: a mask_mod.
// CHECK-LABEL: func.func @iota_prefix(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {scale = 2.500000e-01 : f32} mask_mod {
// CHECK-NEXT:    ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       arith.index_cast %[[I]] : index to i32
// CHECK-DAG:       arith.index_cast %[[J]] : index to i32
// CHECK:           arith.cmpi sge
// CHECK:           arith.cmpi sgt
// CHECK:           %[[OK:.+]] = arith.ori
// CHECK:           attn.yield %[[OK]] : i1
// CHECK-NOT:     tosa.
func.func @iota_prefix(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %lower = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %three = "tosa.const"() <{values = dense<3> : tensor<1x1x1xi32>}> : () -> tensor<1x1x1xi32>
  %prefix = tosa.greater %three, %kj : (tensor<1x1x1xi32>, tensor<1x1x8xi32>) -> tensor<1x1x8xi1>
  %m = tosa.logical_or %lower, %prefix : (tensor<1x8x8xi1>, tensor<1x1x8xi1>) -> tensor<1x8x8xi1>
  %zero = "tosa.const"() <{values = dense<0.0> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %add = tosa.select %m, %zero, %ninf : (tensor<1x8x8xi1>, tensor<1x1x1xf32>, tensor<1x1x1xf32>) -> tensor<1x8x8xf32>
  %sm = tosa.add %s, %add : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Documents of packed sequences: segment ids compared at i and j, causal
// within each document. The ids are read in the mask_mod; the causal
// conjunct, of positions only, becomes the attribute; nothing is Lq x Lk.
// CHECK-LABEL: func.func @documents(
// CHECK-SAME:      %[[SEG:[a-zA-Z0-9_]+]]: tensor<8xi32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32} mask_mod {
// CHECK-NEXT:    ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       tensor.extract %[[SEG]][%[[I]]] : tensor<8xi32>
// CHECK-DAG:       tensor.extract %[[SEG]][%[[J]]] : tensor<8xi32>
// CHECK:           arith.cmpi eq
// CHECK-NOT:       arith.cmpi sge
// CHECK:           attn.yield
// CHECK-NOT:     tosa.
func.func @documents(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %seg: tensor<8xi32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %lower = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %sq = tosa.reshape %seg, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %sk = tosa.reshape %seg, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %same = tosa.equal %sq, %sk : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %m = tosa.logical_and %same, %lower : (tensor<1x8x8xi1>, tensor<1x8x8xi1>) -> tensor<1x8x8xi1>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sm = tosa.select %m, %s, %ninf : (tensor<1x8x8xi1>, tensor<4x8x8xf32>, tensor<1x1x1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Documents from gathered ids, as torch's `ids[positions]` exports to TOSA:
// tosa.gather of the ids (reshaped to [1, K, 1]) at an iota. The gather
// becomes a read of the ids at i and at j themselves, so the tile classes
// summarize it per tile.
// CHECK-LABEL: func.func @gathered_documents(
// CHECK-SAME:      %[[SEG:[a-zA-Z0-9_]+]]: tensor<8xi32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32} mask_mod {
// CHECK-NEXT:    ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG:       tensor.extract %[[SEG]][%[[I]]] : tensor<8xi32>
// CHECK-DAG:       tensor.extract %[[SEG]][%[[J]]] : tensor<8xi32>
// CHECK:           arith.cmpi eq
// CHECK:           attn.yield
// CHECK-NOT:     tosa.
func.func @gathered_documents(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %seg: tensor<8xi32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %is = tosa.const_shape {values = dense<[1, 8]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %lower = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %ids = tosa.reshape %seg, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %at = tosa.reshape %iota, %is : (tensor<8xi32>, !tosa.shape<2>) -> tensor<1x8xi32>
  %g = tosa.gather %ids, %at : (tensor<1x8x1xi32>, tensor<1x8xi32>) -> tensor<1x8x1xi32>
  %sq = tosa.reshape %g, %rs : (tensor<1x8x1xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %sk = tosa.reshape %g, %cs : (tensor<1x8x1xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %same = tosa.equal %sq, %sk : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %m = tosa.logical_and %same, %lower : (tensor<1x8x8xi1>, tensor<1x8x8xi1>) -> tensor<1x8x8xi1>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sm = tosa.select %m, %s, %ninf : (tensor<1x8x8xi1>, tensor<4x8x8xf32>, tensor<1x1x1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Ids gathered at a table of positions that is no plain iota (the packed
// order reversed): the index is computed, then clamped into the table.
// CHECK-LABEL: func.func @gathered_reversed(
// CHECK-SAME:      %[[SEG:[a-zA-Z0-9_]+]]: tensor<8xi32>)
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32} mask_mod {
// CHECK:           arith.maxsi
// CHECK:           arith.minsi
// CHECK:           tensor.extract %[[SEG]][%{{.+}}] : tensor<8xi32>
// CHECK:           attn.yield
// CHECK-NOT:     tosa.
func.func @gathered_reversed(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %seg: tensor<8xi32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %back = "tosa.const"() <{values = dense<[[7, 6, 5, 4, 3, 2, 1, 0]]> : tensor<1x8xi32>}> : () -> tensor<1x8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %lower = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %ids = tosa.reshape %seg, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %g = tosa.gather %ids, %back : (tensor<1x8x1xi32>, tensor<1x8xi32>) -> tensor<1x8x1xi32>
  %sk = tosa.reshape %g, %cs : (tensor<1x8x1xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %same = tosa.equal %g, %sk : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %m = tosa.logical_and %same, %lower : (tensor<1x8x8xi1>, tensor<1x8x8xi1>) -> tensor<1x8x8xi1>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sm = tosa.select %m, %s, %ninf : (tensor<1x8x8xi1>, tensor<4x8x8xf32>, tensor<1x1x1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// ALiBi: slope[h] * (j - i) from an iota, with an iota causal mask. The bias
// becomes a score_mod reading the slopes per head; the mask the causal rule.
// CHECK-LABEL: func.func @alibi(
// CHECK:         %[[SLOPES:.+]] = arith.constant dense<{{.*}}> : tensor<4x1x1xf32>
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32} score_mod {
// CHECK-NEXT:    ^bb0(%[[S:.+]]: f32, %[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK:           tensor.extract %[[SLOPES]][%[[H]], %{{.+}}, %{{.+}}] : tensor<4x1x1xf32>
// CHECK:           arith.sitofp
// CHECK:           %[[T:.+]] = arith.mulf
// CHECK:           %[[R:.+]] = arith.addf %[[S]], %[[T]] : f32
// CHECK:           attn.yield %[[R]] : f32
// CHECK-NOT:     mask_mod
// CHECK-NOT:     tosa.
func.func @alibi(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %m = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %d = tosa.sub %kj, %qi : (tensor<1x1x8xi32>, tensor<1x8x1xi32>) -> tensor<1x8x8xi32>
  %df = tosa.cast %d : (tensor<1x8x8xi32>) -> tensor<1x8x8xf32>
  %slopes = "tosa.const"() <{values = dense<[[[0.5]], [[0.25]], [[0.125]], [[0.0625]]]> : tensor<4x1x1xf32>}> : () -> tensor<4x1x1xf32>
  %bias = tosa.mul %slopes, %df, %shift : (tensor<4x1x1xf32>, tensor<1x8x8xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %sb = tosa.add %s, %bias : (tensor<4x8x8xf32>, tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sm = tosa.select %m, %sb, %ninf : (tensor<1x8x8xi1>, tensor<4x8x8xf32>, tensor<1x1x1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed bias became the score_mod}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Learnable sinks as gpt-oss writes them: one logit per head tiled into a
// column, concatenated to the scores, softmax over both, column sliced off.
// CHECK-LABEL: func.func @sink_column(
// CHECK-SAME:      %[[SL:[a-zA-Z0-9_]+]]: tensor<4xf32>)
// CHECK:         attn.attention ins({{.*}}) sink_logits(%[[SL]] : tensor<4xf32>) outs({{.*}}) {scale = 2.500000e-01 : f32} -> tensor<1x4x8x16xf32>
// CHECK-NOT:     tosa.
func.func @sink_column(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %sl: tensor<4xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %ss = tosa.const_shape {values = dense<[4, 1, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %sr = tosa.reshape %sl, %ss : (tensor<4xf32>, !tosa.shape<3>) -> tensor<4x1x1xf32>
  %mul = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %st = tosa.tile %sr, %mul : (tensor<4x1x1xf32>, !tosa.shape<3>) -> tensor<4x8x1xf32>
  %cat = tosa.concat %s, %st {axis = 2 : i32} : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x9xf32>
  %max = tosa.reduce_max %cat {axis = 2 : i32} : (tensor<4x8x9xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %cat, %max : (tensor<4x8x9xf32>, tensor<4x8x1xf32>) -> tensor<4x8x9xf32>
  %exp = tosa.exp %sub : (tensor<4x8x9xf32>) -> tensor<4x8x9xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x9xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p9 = tosa.mul %exp, %inv, %shift : (tensor<4x8x9xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x9xf32>
  %start = tosa.const_shape {values = dense<[0, 0, 0]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %size = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %p = tosa.slice %p9, %start, %size : (tensor<4x8x9xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the column concatenated to the scores became sink_logits}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Blocks of 4 positions (i // 4 == j // 4, tosa.int_div by a constant) with
// causality inside: a mask_mod (classified into tiles at compile time).
// CHECK-LABEL: func.func @blocks(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {scale = 2.500000e-01 : f32} mask_mod {
// CHECK:           arith.divsi %{{.+}}, %c4_i32 : i32
// CHECK:           attn.yield
// CHECK-NOT:     tosa.
func.func @blocks(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %lower = tosa.greater_equal %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %four = "tosa.const"() <{values = dense<4> : tensor<1x1x1xi32>}> : () -> tensor<1x1x1xi32>
  %bi = tosa.intdiv %qi, %four : (tensor<1x8x1xi32>, tensor<1x1x1xi32>) -> tensor<1x8x1xi32>
  %bj = tosa.intdiv %kj, %four : (tensor<1x1x8xi32>, tensor<1x1x1xi32>) -> tensor<1x1x8xi32>
  %same = tosa.equal %bi, %bj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %m = tosa.logical_and %same, %lower : (tensor<1x8x8xi1>, tensor<1x8x8xi1>) -> tensor<1x8x8xi1>
  %zero = "tosa.const"() <{values = dense<0.0> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %add = tosa.select %m, %zero, %ninf : (tensor<1x8x8xi1>, tensor<1x1x1xf32>, tensor<1x1x1xf32>) -> tensor<1x8x8xf32>
  %sm = tosa.add %s, %add : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the computed mask became the mask_mod}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
