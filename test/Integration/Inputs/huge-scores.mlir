// Input of attn-run-errors.test: the reference strategy materializes the
// score matrix, here 2^20 x 2^20 f32 (4 TiB), from 4 MiB inputs. The
// allocation fails and compiled code must report it, not write through null.

func.func @main(%q: tensor<1x1x1048576x1xf32>, %k: tensor<1x1x1048576x1xf32>, %v: tensor<1x1x1048576x1xf32>) -> tensor<1x1x1048576x1xf32> {
  %init = tensor.empty() : tensor<1x1x1048576x1xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x1048576x1xf32>, tensor<1x1x1048576x1xf32>, tensor<1x1x1048576x1xf32>)
                      outs(%init : tensor<1x1x1048576x1xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x1x1048576x1xf32>
  return %o : tensor<1x1x1048576x1xf32>
}
