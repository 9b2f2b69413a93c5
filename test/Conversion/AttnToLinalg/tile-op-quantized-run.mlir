// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/../../Integration/lib/check_case.py gen %t q=1x4x9x16:f32 k=1x2x21x16:i8 v=1x2x21x16:i8 ks=1x2x21:f32:qscale vs=1x2x21:f32:qscale
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/ks.npy,%t/vs.npy --output %t/o.npy
// RUN: %python %S/../../Integration/lib/check_case.py attention %t %t/o.npy --scale 0.25 --causal --quantized

// The portable lowering (attn-convert-online-attention-to-linalg) of tile
// ops over i8 K/V: keys [0, 13) and [13, 21), each with its slice of the
// per-key scales, then attn.finalize; the output must match the float64
// oracle over the dequantized K/V.

func.func @main(%q: tensor<1x4x9x16xf32>, %k: tensor<1x2x21x16xi8>, %v: tensor<1x2x21x16xi8>,
                %ks: tensor<1x2x21xf32>, %vs: tensor<1x2x21xf32>) -> tensor<1x4x9x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %qpos = arith.constant 12 : index
  %e = tensor.empty() : tensor<1x4x9x16xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x16xf32>) -> tensor<1x4x9x16xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %kpos0 = arith.constant 0 : index
  %k0 = tensor.extract_slice %k[0, 0, 0, 0] [1, 2, 13, 16] [1, 1, 1, 1] : tensor<1x2x21x16xi8> to tensor<1x2x13x16xi8>
  %v0 = tensor.extract_slice %v[0, 0, 0, 0] [1, 2, 13, 16] [1, 1, 1, 1] : tensor<1x2x21x16xi8> to tensor<1x2x13x16xi8>
  %ks0 = tensor.extract_slice %ks[0, 0, 0] [1, 2, 13] [1, 1, 1] : tensor<1x2x21xf32> to tensor<1x2x13xf32>
  %vs0 = tensor.extract_slice %vs[0, 0, 0] [1, 2, 13] [1, 1, 1] : tensor<1x2x21xf32> to tensor<1x2x13xf32>
  %s0:3 = attn.online_attention ins(%q, %k0, %v0 : tensor<1x4x9x16xf32>, tensor<1x2x13x16xi8>, tensor<1x2x13x16xi8>)
      k_scale(%ks0 : tensor<1x2x13xf32>) v_scale(%vs0 : tensor<1x2x13xf32>) positions(%qpos, %kpos0)
      outs(%acc0, %m0, %l0 : tensor<1x4x9x16xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.25 : f32, causal} -> tensor<1x4x9x16xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %kpos1 = arith.constant 13 : index
  %k1 = tensor.extract_slice %k[0, 0, 13, 0] [1, 2, 8, 16] [1, 1, 1, 1] : tensor<1x2x21x16xi8> to tensor<1x2x8x16xi8>
  %v1 = tensor.extract_slice %v[0, 0, 13, 0] [1, 2, 8, 16] [1, 1, 1, 1] : tensor<1x2x21x16xi8> to tensor<1x2x8x16xi8>
  %ks1 = tensor.extract_slice %ks[0, 0, 13] [1, 2, 8] [1, 1, 1] : tensor<1x2x21xf32> to tensor<1x2x8xf32>
  %vs1 = tensor.extract_slice %vs[0, 0, 13] [1, 2, 8] [1, 1, 1] : tensor<1x2x21xf32> to tensor<1x2x8xf32>
  %s1:3 = attn.online_attention ins(%q, %k1, %v1 : tensor<1x4x9x16xf32>, tensor<1x2x8x16xi8>, tensor<1x2x8x16xi8>)
      k_scale(%ks1 : tensor<1x2x8xf32>) v_scale(%vs1 : tensor<1x2x8xf32>) positions(%qpos, %kpos1)
      outs(%s0#0, %s0#1, %s0#2 : tensor<1x4x9x16xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.25 : f32, causal} -> tensor<1x4x9x16xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s1#0, %s1#2 : tensor<1x4x9x16xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x16xf32>) -> tensor<1x4x9x16xf32>
  return %o : tensor<1x4x9x16xf32>
}
