// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/../../Integration/lib/check_case.py gen %t q=1x4x37x12:f32 k=1x2x53x12:f32 v=1x2x53x12:f32 mask=1x1x37x53:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy,%t/o-lse.npy,%t/o-entropy.npy
// RUN: %python %S/../../Integration/lib/check_case.py attention %t %t/o.npy --scale 0.25 --causal --mask --statistics lse,entropy

// The portable lowering (attn-convert-online-attention-to-linalg) of tile
// ops that carry the entropy part of the state: keys [0, 29) and [29, 53)
// of a grouped-query problem with causal and a mask whose row 0 allows no
// key, then attn.finalize with both statistics. The second tile moves the
// first one's entropy part to the new maxima; output, LSE and entropy must
// match the float64 oracle.

func.func @main(%q: tensor<1x4x37x12xf32>, %k: tensor<1x2x53x12xf32>, %v: tensor<1x2x53x12xf32>, %mask: tensor<1x1x37x53xi1>) -> (tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %qpos = arith.constant 16 : index
  %e = tensor.empty() : tensor<1x4x37x12xf32>
  %er = tensor.empty() : tensor<1x4x37xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x37x12xf32>) -> tensor<1x4x37x12xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x37xf32>) -> tensor<1x4x37xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x37xf32>) -> tensor<1x4x37xf32>
  %t0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x37xf32>) -> tensor<1x4x37xf32>
  %kpos0 = arith.constant 0 : index
  %k0 = tensor.extract_slice %k[0, 0, 0, 0] [1, 2, 29, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x29x12xf32>
  %v0 = tensor.extract_slice %v[0, 0, 0, 0] [1, 2, 29, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x29x12xf32>
  %mask0 = tensor.extract_slice %mask[0, 0, 0, 0] [1, 1, 37, 29] [1, 1, 1, 1] : tensor<1x1x37x53xi1> to tensor<1x1x37x29xi1>
  %s0:4 = attn.online_attention ins(%q, %k0, %v0 : tensor<1x4x37x12xf32>, tensor<1x2x29x12xf32>, tensor<1x2x29x12xf32>)
      mask(%mask0 : tensor<1x1x37x29xi1>) positions(%qpos, %kpos0)
      outs(%acc0, %m0, %l0 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>) entropy(%t0 : tensor<1x4x37xf32>)
      {scale = 0.25 : f32, causal} -> tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
  %kpos1 = arith.constant 29 : index
  %k1 = tensor.extract_slice %k[0, 0, 29, 0] [1, 2, 24, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x24x12xf32>
  %v1 = tensor.extract_slice %v[0, 0, 29, 0] [1, 2, 24, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x24x12xf32>
  %mask1 = tensor.extract_slice %mask[0, 0, 0, 29] [1, 1, 37, 24] [1, 1, 1, 1] : tensor<1x1x37x53xi1> to tensor<1x1x37x24xi1>
  %s1:4 = attn.online_attention ins(%q, %k1, %v1 : tensor<1x4x37x12xf32>, tensor<1x2x24x12xf32>, tensor<1x2x24x12xf32>)
      mask(%mask1 : tensor<1x1x37x24xi1>) positions(%qpos, %kpos1)
      outs(%s0#0, %s0#1, %s0#2 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>) entropy(%s0#3 : tensor<1x4x37xf32>)
      {scale = 0.25 : f32, causal} -> tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
  %o, %lse, %h = attn.finalize ins(%s1#0, %s1#2 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>) max(%s1#1 : tensor<1x4x37xf32>)
      outs(%e : tensor<1x4x37x12xf32>) lse(%er : tensor<1x4x37xf32>) entropy(%s1#3, %er : tensor<1x4x37xf32>, tensor<1x4x37xf32>)
      -> tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
  return %o, %lse, %h : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
}
