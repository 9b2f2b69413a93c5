// REQUIRES: numpy
//
// Fully masked rows and fully masked tiles: the mask is false on the first
// 64 keys of every row, on keys 128..191 of the first half of the rows, and
// on every row i with i % 5 == 1. Masked rows give zeros (never NaN); empty
// tiles are skipped or masked without changing any other row. Once with the
// mask as an argument (summarized at run time), once as a constant
// (block_sparse compresses it at compile time), and with an additive -inf
// bias in the same pattern instead of a mask.
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/a q=1x4x70x16:f32 k=1x2x200x16:f32 v=1x2x200x16:f32 mask=1x4x70x200:bool:tiles
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/a --inputs %t/a/q.npy,%t/a/k.npy,%t/a/v.npy,%t/a/mask.npy -- attention --causal --mask | FileCheck %s
// RUN: %python -c "import numpy as np; o = np.load('%t/a/out-tiled.npy'); assert (o[:, :, 1::5] == 0).all() and np.isfinite(o).all()"
//
// The constant mask of @constant (1x1x40x256, written in hex: bit-packed,
// least significant bit first) as a .npy file for the oracle.
// RUN: %python -c "import numpy as np, re; h = re.search(r'dense<\"0x([0-9A-F]+)\">', open('%s').read()).group(1); m = np.unpackbits(np.frombuffer(bytes.fromhex(h), np.uint8), bitorder='little')[:40 * 256].astype(bool).reshape(1, 1, 40, 256); assert not m[..., :64].any() and not m[..., 1::5, :].any(); np.save('%t/mask.npy', m)"
// RUN: %python %S/lib/check_case.py gen %t/c q=1x4x40x16:f32 k=1x2x256x16:f32 v=1x2x256x16:f32
// RUN: cp %t/mask.npy %t/c/mask.npy
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/c --entry constant --inputs %t/c/q.npy,%t/c/k.npy,%t/c/v.npy -- attention --mask | FileCheck %s
// RUN: attn-run %s --entry constant --attn-strategy=block_sparse --inputs %t/c/q.npy,%t/c/k.npy,%t/c/v.npy --output %t/c/o.npy
// RUN: %python %S/lib/check_case.py attention %t/c %t/c/o.npy --mask
//
// RUN: %python %S/lib/check_case.py gen %t/b q=1x4x70x16:f32 k=1x2x200x16:f32 v=1x2x200x16:f32 mask=1x1x70x200:bool:mask bias=1x1x70x200:f32:neginf
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/b --entry bias --inputs %t/b/q.npy,%t/b/k.npy,%t/b/v.npy,%t/b/mask.npy,%t/b/bias.npy -- attention --mask --bias | FileCheck %s
// RUN: %python -c "import numpy as np; o = np.load('%t/b/out-tiled.npy'); assert (o[:, :, 1::5] == 0).all() and np.isfinite(o).all()"

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled-odd: ok
// CHECK: tiled-wide: ok
// CHECK: split_kv: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: split_kv-odd: ok
// CHECK: block_sparse: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable-splits: ok {{.*}} nan=0 inf=0 outside_tolerance=0

func.func @main(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x4x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x4x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @constant(%q: tensor<1x4x40x16xf32>, %k: tensor<1x2x256x16xf32>, %v: tensor<1x2x256x16xf32>) -> tensor<1x4x40x16xf32> {
  %m = arith.constant dense<"0x0000000000000000DB6DB7DD76DB6DB700000000000000006DB7DD76DB6DB7DD000000000000000000000000000000000000000000000000000000000000000000000000000000006DB7DD76DB6DB7DD0000000000000000B7DD76DB6DB7DD760000000000000000DB6EBBEDB6DB6EBB00000000000000006EBBEDB6DB6EBBED0000000000000000B7DD76DB6DB7DD760000000000000000DD76DB6DB7DD76DB00000000000000006EBBEDB6DB6EBBED0000000000000000BBEDB6DB6EBBEDB600000000000000000000000000000000000000000000000000000000000000000000000000000000BBEDB6DB6EBBEDB60000000000000000EDB6DB6EBBEDB6DB000000000000000076DB6DB7DD76DB6D0000000000000000DB6DB7DD76DB6DB70000000000000000EDB6DB6EBBEDB6DB0000000000000000B6DB6EBBEDB6DB6E0000000000000000DB6DB7DD76DB6DB700000000000000006DB7DD76DB6DB7DD000000000000000000000000000000000000000000000000000000000000000000000000000000006DB7DD76DB6DB7DD0000000000000000B7DD76DB6DB7DD760000000000000000DB6EBBEDB6DB6EBB00000000000000006EBBEDB6DB6EBBED0000000000000000B7DD76DB6DB7DD760000000000000000DD76DB6DB7DD76DB00000000000000006EBBEDB6DB6EBBED0000000000000000BBEDB6DB6EBBEDB600000000000000000000000000000000000000000000000000000000000000000000000000000000BBEDB6DB6EBBEDB60000000000000000EDB6DB6EBBEDB6DB000000000000000076DB6DB7DD76DB6D0000000000000000DB6DB7DD76DB6DB70000000000000000EDB6DB6EBBEDB6DB0000000000000000B6DB6EBBEDB6DB6E0000000000000000DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD000000000000000000000000000000000000000000000000000000000000000000000000000000006DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD760000000000000000DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBED0000000000000000B7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB00000000000000006EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB600000000000000000000000000000000000000000000000000000000000000000000000000000000BBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB000000000000000076DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB70000000000000000EDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6E0000000000000000DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD000000000000000000000000000000000000000000000000000000000000000000000000000000006DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD760000000000000000DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBED0000000000000000B7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB00000000000000006EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB600000000000000000000000000000000000000000000000000000000000000000000000000000000BBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB000000000000000076DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB7DD76DB6DB70000000000000000EDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6EBBEDB6DB6E"> : tensor<1x1x40x256xi1>
  %init = tensor.empty() : tensor<1x4x40x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x40x16xf32>, tensor<1x2x256x16xf32>, tensor<1x2x256x16xf32>)
                      mask(%m : tensor<1x1x40x256xi1>)
                      outs(%init : tensor<1x4x40x16xf32>) -> tensor<1x4x40x16xf32>
  return %o : tensor<1x4x40x16xf32>
}

func.func @bias(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>, %b: tensor<1x1x70x200xf32>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>) bias(%b : tensor<1x1x70x200xf32>)
                      outs(%init : tensor<1x4x70x16xf32>) -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}
