// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x40x8:f32:big k=1x2x40x8:f32:big v=1x2x40x8:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry elu1 --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score elu1 --atol 0 --rtol 0 --kappa 1e-6
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry taylor2 --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score taylor2 --no-normalize --atol 0 --rtol 0 --kappa 1e-6
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry identity --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score identity --atol 0 --rtol 0 --kappa 1e-6
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry identity_all --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --score identity --atol 0 --rtol 0 --kappa 1e-6

// Adversarial inputs: q and k of magnitude 30 sigma. elu1 weights reach
// e^20-ish products and taylor2 weights s^2/2 ~ 1e6 (unnormalized sums of
// them); identity weights are large with both signs, so normalized rows
// divide by sums that cancel (condition numbers up to 7e4). Every strategy
// must stay within 1e-6 cond of float64, cond being each element's condition
// number (check_case.py --kappa; measured: at most 4.3e-7 cond, linear and
// the others alike).

func.func @elu1(%q: tensor<1x2x40x8xf32>, %k: tensor<1x2x40x8xf32>, %v: tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32> {
  %init = tensor.empty() : tensor<1x2x40x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>)
                      outs(%init : tensor<1x2x40x8xf32>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}

func.func @taylor2(%q: tensor<1x2x40x8xf32>, %k: tensor<1x2x40x8xf32>, %v: tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32> {
  %init = tensor.empty() : tensor<1x2x40x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>)
                      outs(%init : tensor<1x2x40x8xf32>) {causal, score = #attn.score<kernel<taylor2>, normalize = false>} -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}

func.func @identity(%q: tensor<1x2x40x8xf32>, %k: tensor<1x2x40x8xf32>, %v: tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32> {
  %init = tensor.empty() : tensor<1x2x40x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>)
                      outs(%init : tensor<1x2x40x8xf32>) {causal, score = #attn.score<kernel<identity>>} -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}

func.func @identity_all(%q: tensor<1x2x40x8xf32>, %k: tensor<1x2x40x8xf32>, %v: tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32> {
  %init = tensor.empty() : tensor<1x2x40x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>)
                      outs(%init : tensor<1x2x40x8xf32>) {score = #attn.score<kernel<identity>>} -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}
