// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-set-target=target=cpu --attn-select-strategy=strategy=tiled --attn-apply-strategies --attn-distribute-sequence="mode=ring ranks=4"
// RUN: not attn-opt %s -split-input-file --attn-distribute-sequence="mode=star ranks=2" 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not attn-opt %s -split-input-file --attn-distribute-sequence="mode=ring ranks=0" 2>&1 | FileCheck %s --check-prefix=RANKS
// RUN: not attn-opt %s -split-input-file --attn-distribute-sequence="entry=nope" 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not attn-opt %s -split-input-file --attn-cpu-pipeline="ranks=2" 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: not attn-opt %s -split-input-file --attn-cpu-pipeline="distribute=mesh" 2>&1 | FileCheck %s --check-prefix=PIPELINE-MODE

// What attn-distribute-sequence does not distribute is an error that says
// why.

// MODE: attn-distribute-sequence: mode = 'star' must be ring or zigzag
// RANKS: attn-distribute-sequence: ranks = 0 must be at least 1
// ENTRY: attn-distribute-sequence: no function @nope to distribute
// PIPELINE: ranks applies with distribute=ring|zigzag, which is not given
// PIPELINE-MODE: distribute = 'mesh' must be ring or zigzag (or empty: one process)

func.func @main(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>, %mask: tensor<1x1x37x37xi1>) -> tensor<1x4x37x16xf32> {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  // expected-error @+1 {{attn-distribute-sequence: a mask or bias operand is not distributed (it spans the whole sequence)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      mask(%mask : tensor<1x1x37x37xi1>)
      outs(%init : tensor<1x4x37x16xf32>) -> tensor<1x4x37x16xf32>
  return %o : tensor<1x4x37x16xf32>
}

// -----

func.func @main(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>) -> (tensor<1x4x37x16xf32>, tensor<1x4x37xf32>) {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  // expected-error @+1 {{attn-distribute-sequence: return_entropy is not distributed}}
  %o, %h = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) {return_entropy} -> tensor<1x4x37x16xf32>, tensor<1x4x37xf32>
  return %o, %h : tensor<1x4x37x16xf32>, tensor<1x4x37xf32>
}

// -----

func.func @main(%x: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>) -> tensor<1x4x37x16xf32> {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  %q = arith.negf %x : tensor<1x4x37x16xf32>
  // expected-error @+1 {{attn-distribute-sequence: query must be an argument of @main, read from the rank's shard}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) -> tensor<1x4x37x16xf32>
  return %o : tensor<1x4x37x16xf32>
}

// -----

func.func @main(%q: tensor<1x4x37x16xf16>, %k: tensor<1x2x37x16xf16>, %v: tensor<1x2x37x16xf16>) -> tensor<1x4x37x16xf16> {
  %init = tensor.empty() : tensor<1x4x37x16xf16>
  // expected-error @+1 {{attn-distribute-sequence: query must be a static f32 tensor, got 'tensor<1x4x37x16xf16>' (MPI transfers are lowered for f32)}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf16>, tensor<1x2x37x16xf16>, tensor<1x2x37x16xf16>)
      outs(%init : tensor<1x4x37x16xf16>) -> tensor<1x4x37x16xf16>
  return %o : tensor<1x4x37x16xf16>
}

// -----

// 12 sink keys do not fit in a chunk of 10 (37 keys in 4 chunks).
func.func @main(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>) -> tensor<1x4x37x16xf32> {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  // expected-error @+1 {{attn-distribute-sequence: 12 sink keys do not fit in one chunk of 10 keys (ring over 4 ranks); use fewer ranks}}
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) {causal, window = #attn.window<left = 5>, sinks = 12 : i64} -> tensor<1x4x37x16xf32>
  return %o : tensor<1x4x37x16xf32>
}

// -----

func.func @main(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>) -> tensor<1x4x37x16xf32> {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) -> tensor<1x4x37x16xf32>
  // expected-error @+1 {{attn-distribute-sequence: the attention's results must be returned as they are (rank 0 gathers them)}}
  %r = arith.negf %o : tensor<1x4x37x16xf32>
  return %r : tensor<1x4x37x16xf32>
}

// -----

// expected-error @+1 {{attn-distribute-sequence: @main must hold exactly one attention to distribute, found 2}}
func.func @main(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>) -> (tensor<1x4x37x16xf32>, tensor<1x4x37x16xf32>) {
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) -> tensor<1x4x37x16xf32>
  %p = attn.attention ins(%q, %k, %v : tensor<1x4x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      outs(%init : tensor<1x4x37x16xf32>) {causal} -> tensor<1x4x37x16xf32>
  return %o, %p : tensor<1x4x37x16xf32>, tensor<1x4x37x16xf32>
}
