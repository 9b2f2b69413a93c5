// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-convert-online-attention-to-linalg

// A tile op that carries a target's configuration is for that target's
// lowering; the portable lowering refuses it rather than drop the
// configuration unseen (for example a GPU-configured op in a CPU pipeline).

func.func @cpu_kernel(%q: tensor<1x1x4x8xf32>, %acc: tensor<1x1x4x8xf32>, %m: tensor<1x1x4xf32>, %i: index) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{carries attn.cpu_kernel, a configuration for attn-convert-online-attention-to-cpu-vector, which did not run before the portable lowering}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x1x4x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>)
      {scale = 1.0 : f32, attn.cpu_kernel = {}} -> tensor<1x1x4x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>
  return %a#0 : tensor<1x1x4x8xf32>
}

// -----

func.func @gpu_kernel(%q: tensor<1x1x4x8xf32>, %acc: tensor<1x1x4x8xf32>, %m: tensor<1x1x4xf32>, %i: index) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{carries attn.gpu_kernel, a configuration for attn-convert-online-attention-to-gpu, which did not run before the portable lowering}}
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x1x4x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>)
      {scale = 1.0 : f32, attn.gpu_kernel = {}} -> tensor<1x1x4x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>
  return %a#0 : tensor<1x1x4x8xf32>
}
