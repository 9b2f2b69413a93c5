// REQUIRES: numpy
//
// NaN and infinity in the inputs. A NaN reaches exactly the outputs of the
// queries that read it, and is never turned into a finite number: a NaN in
// q_i makes row i NaN (if it has an allowed key); a NaN in k_j (or in the
// bias of an allowed key) makes NaN every row that allows key j; a NaN in
// element e of v_j makes column e NaN in those rows. A key that is not
// allowed (causal, window, mask) is never read. An allowed key whose
// weight is 0 (a -inf bias, or a weight below the f32 range) is read:
// 0 * NaN is NaN, as written in DESIGN.md's formula and computed by the
// reference strategy. check_case.py --nan-reach states this rule directly,
// besides comparing with the float64 oracle.
//
// Here q row 5, key 170 and value 60 (element 0) hold NaN; the layout is
// causal (bottom-right: row i sees keys up to i + 130), with a 100-key
// window, a random mask with a fully masked row, and an additive bias with
// -inf entries (full rows, keys 64..127, and 20% at random).
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/nan q=1x4x70x16:f32:nan@5 k=1x2x200x16:f32:nan@170 v=1x2x200x16:f32:nan@60 mask=1x1x70x200:bool:mask bias=1x1x70x200:f32:neginf
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/nan --inputs %t/nan/q.npy,%t/nan/k.npy,%t/nan/v.npy,%t/nan/mask.npy,%t/nan/bias.npy -- attention --causal --window 100,- --mask --bias --nan-reach | FileCheck %s --check-prefix=NAN
// Rows below 40 never see key 170; row 5 reads its own NaN; rows up to 30
// can see value 60.
// RUN: %python -c "import numpy as np; o = np.load('%t/nan/out-tiled.npy'); assert np.isnan(o[:, :, 5]).all() and np.isfinite(o[:, :, 31:40]).all() and np.isfinite(o[:, :, :40, 1:][:, :, [i for i in range(40) if i != 5]]).all()"
//
// Without the -inf bias (kernel<relu> scores: numerics-nan-inf-relu.mlir).
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/nan --entry nobias --inputs %t/nan/q.npy,%t/nan/k.npy,%t/nan/v.npy,%t/nan/mask.npy -- attention --causal --window 100,- --mask --nan-reach | FileCheck %s --check-prefix=NAN
//
// +inf in value 150 and -inf in value 20 (element 0): rows that read one
// of them get that infinity in column 0; rows that read both get NaN
// (inf - inf), here through keys of weight 0 under the -inf bias.
// RUN: %python %S/lib/check_case.py gen %t/inf q=1x4x70x16:f32 k=1x2x200x16:f32 v=1x2x200x16:f32:inf@150+-inf@20 mask=1x1x70x200:bool:mask bias=1x1x70x200:f32:neginf
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/inf --inputs %t/inf/q.npy,%t/inf/k.npy,%t/inf/v.npy,%t/inf/mask.npy,%t/inf/bias.npy -- attention --causal --window 100,- --mask --bias | FileCheck %s --check-prefix=INF
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/inf --entry nobias --inputs %t/inf/q.npy,%t/inf/k.npy,%t/inf/v.npy,%t/inf/mask.npy -- attention --causal --window 100,- --mask | FileCheck %s --check-prefix=INF

// NAN: reference: ok {{.*}} nan={{[1-9][0-9]*}} inf=0 outside_tolerance=0
// NAN-NEXT: nan-reach: nan_elements={{[1-9][0-9]*}} rows_with_nan={{[1-9][0-9]*}} rows_without={{[1-9][0-9]*}} mismatches=0
// NAN: tiled: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0
// NAN: tiled-odd: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0
// NAN: tiled-wide: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0
// NAN: split_kv: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0
// NAN: split_kv-odd: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0
// NAN: block_sparse: ok
// NAN-NEXT: nan-reach: {{.*}} mismatches=0

// INF: reference: ok {{.*}} inf={{[1-9][0-9]*}} outside_tolerance=0
// INF: tiled: ok {{.*}} inf={{[1-9][0-9]*}} outside_tolerance=0
// INF: tiled-odd: ok
// INF: tiled-wide: ok
// INF: split_kv: ok
// INF: split_kv-odd: ok
// INF: block_sparse: ok

func.func @main(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>, %b: tensor<1x1x70x200xf32>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>) bias(%b : tensor<1x1x70x200xf32>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal, window = #attn.window<left = 100>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @nobias(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal, window = #attn.window<left = 100>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}
