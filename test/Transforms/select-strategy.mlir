// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-select-strategy | FileCheck %s --check-prefixes=CHECK,ANY
// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-select-strategy=strategy=reference | FileCheck %s --check-prefixes=CHECK,REF
// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-strategy=reference --attn-select-strategy | FileCheck %s --check-prefixes=CHECK,REF
// RUN: not attn-opt %s -split-input-file --attn-strategy=nonexistent --attn-select-strategy 2>&1 | FileCheck %s --check-prefix=FORCED
// RUN: not attn-opt %s -split-input-file --attn-select-strategy=strategy=nonexistent 2>&1 | FileCheck %s --check-prefix=FORCED

// --attn-select-strategy writes a registered strategy on every attn op
// without one (the cheapest applicable one by the cost model, which depends
// on the host; `reference` can compute every op), and keeps the ones the user
// wrote, parameters included. A forced strategy (the pass option, or
// attn-opt's --attn-strategy) writes that strategy instead, never overrides a
// user-written one, and is an error on each op without one if it is unknown.

// CHECK-LABEL: func.func @no_strategy(
// ANY:           attn.attention {{.*}} {causal, strategy = #attn.strategy<"{{[a-z_]+}}"{{.*}}>} -> tensor<1x4x8x16xf32>
// ANY:           attn.neighborhood {{.*}} {kernel = [3], strategy = #attn.strategy<"{{[a-z_]+}}"{{.*}}>} -> tensor<1x4x8x16xf32>
// REF:           attn.attention {{.*}} {causal, strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
// REF:           attn.neighborhood {{.*}} {kernel = [3], strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
func.func @no_strategy(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // FORCED: select-strategy.mlir:[[@LINE+1]]:8: error: 'attn.attention' op unknown forced strategy 'nonexistent'; registered strategies: {{.*}}reference
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%init : tensor<1x4x8x16xf32>) {causal} -> tensor<1x4x8x16xf32>
  // FORCED: select-strategy.mlir:[[@LINE+1]]:8: error: 'attn.neighborhood' op unknown forced strategy 'nonexistent'
  %n = attn.neighborhood ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                         outs(%o : tensor<1x4x8x16xf32>) {kernel = [3]} -> tensor<1x4x8x16xf32>
  return %n : tensor<1x4x8x16xf32>
}

// -----

// User-written strategies are kept, with the parameters the user gave, also
// when a strategy is forced; missing parameters may be filled in.
// CHECK-LABEL: func.func @user_written(
// CHECK:         attn.attention {{.*}} {strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
// CHECK:         attn.attention {{.*}} {strategy = #attn.strategy<"split_kv", {{.*}}splits = 2 : i64}>} -> tensor<1x4x8x16xf32>
// CHECK:         attn.attention {{.*}} {causal, strategy = #attn.strategy<"tiled", {{.*}}block_q = 12 : i64{{.*}}>} -> tensor<1x4x8x16xf32>
// CHECK:         attn.neighborhood {{.*}} {kernel = [3], strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
// No error for these ops: the first error after those of @no_strategy is
// that of @unknown_user_strategy.
// FORCED-NOT: error:
// FORCED:     error: 'attn.attention' op unknown strategy 'no_such_strategy'
func.func @user_written(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%init : tensor<1x4x8x16xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
  %p = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%o : tensor<1x4x8x16xf32>) {strategy = #attn.strategy<"split_kv", {splits = 2}>} -> tensor<1x4x8x16xf32>
  %t = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%p : tensor<1x4x8x16xf32>) {causal, strategy = #attn.strategy<"tiled", {block_q = 12}>} -> tensor<1x4x8x16xf32>
  %n = attn.neighborhood ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                         outs(%t : tensor<1x4x8x16xf32>) {kernel = [3], strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
  return %n : tensor<1x4x8x16xf32>
}

// -----

// Functions without attn ops are left alone.
// CHECK-LABEL: func.func @no_attn(
// CHECK-NEXT:    return %{{.*}} : tensor<4xf32>
func.func @no_attn(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// A user-written strategy that is not registered is an error that lists the
// registered ones.
func.func @unknown_user_strategy(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{unknown strategy 'no_such_strategy'; registered strategies: }}
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%init : tensor<1x4x8x16xf32>) {strategy = #attn.strategy<"no_such_strategy", {block_q = 64}>} -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @unknown_user_strategy_neighborhood(%q: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-error @+1 {{'attn.neighborhood' op unknown strategy 'no_such_strategy'}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>)
                         outs(%q : tensor<1x2x8x8x16xf32>) {kernel = [3, 3], strategy = #attn.strategy<"no_such_strategy">} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}
