// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=4x8x1x16:f32 k=40x2x8x16:f32 v=40x2x8x24:f32 table=4x5:i32:pages40 klen=4:i32:lengths40
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --paged
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy -- attention --causal --paged
// The same op with dynamic sizes (batch, queries, pages, table width):
// RUN: attn-run %S/Inputs/paged-dynamic.mlir --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/table.npy,%t/klen.npy --output %t/o-dynamic.npy --bench 2 | FileCheck %s --check-prefix=BENCH
// RUN: %python %S/lib/check_case.py attention %t %t/o-dynamic.npy --causal --paged
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2" --attn-strategy=split_kv --attn-explain -o /dev/null 2>&1 | FileCheck %s --check-prefix=PAGES
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2" --attn-strategy=reference --attn-explain -o /dev/null 2>&1 | FileCheck %s --check-prefix=COPIES

// Decode over a paged KV cache: 4 requests of one query each, GQA (8 query
// heads on 2 KV heads), pages of 8 keys scattered over a 40-page cache, Dv
// != D. The requests hold 40 keys (the whole table), 1 key, no key (a row
// of zeros) and a random count that no page or tile divides. The CPU's
// tiled and split_kv kernels (CPU and GPU) read the pages through the table; the other
// strategies read gathered copies.

// CHECK: check: max_abs_err={{.*}} PASS
// --bench times the dynamic entry. Its FLOP count comes from each
// request's key_lengths value: a number, not nan (a slow machine may print
// 0.000 for this small op; test_paged_attention.py checks the count
// itself).
// BENCH: median_ms={{[0-9.]+}} gflops={{[0-9]+\.[0-9]+}} runs=2
// PAGES: paged K/V: read through the page table by the kernel
// COPIES: paged K/V: read from contiguous copies gathered before the op

func.func @main(%q: tensor<4x8x1x16xf32>, %kc: tensor<40x2x8x16xf32>, %vc: tensor<40x2x8x24xf32>,
                %table: tensor<4x5xi32>, %klen: tensor<4xi32>) -> tensor<4x8x1x24xf32> {
  %init = tensor.empty() : tensor<4x8x1x24xf32>
  %o = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : tensor<4x8x1x16xf32>, tensor<40x2x8x16xf32>, tensor<40x2x8x24xf32>, tensor<4x5xi32>, tensor<4xi32>)
         outs(%init : tensor<4x8x1x24xf32>) {causal} -> tensor<4x8x1x24xf32>
  return %o : tensor<4x8x1x24xf32>
}
