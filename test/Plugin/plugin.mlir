// The attn dialect and passes inside upstream mlir-opt, loaded as plugins.
//
// Lowering with the registered pipeline:
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so --load-pass-plugin=%attn_lib_dir/AttnPlugin.so --pass-pipeline="builtin.module(attn-cpu-pipeline)" > %t.llvm
// RUN: FileCheck %s --check-prefix=LLVM < %t.llvm
// RUN: FileCheck %s --check-prefix=LOWERED < %t.llvm
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so --load-pass-plugin=%attn_lib_dir/AttnPlugin.so --pass-pipeline="builtin.module(attn-cpu-pipeline{strategy=reference threads=2})" | FileCheck %s --check-prefix=LLVM
//
// The passes by name, with options:
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so --load-pass-plugin=%attn_lib_dir/AttnPlugin.so --pass-pipeline="builtin.module(attn-select-strategy)" | FileCheck %s --check-prefix=SELECT
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so --load-pass-plugin=%attn_lib_dir/AttnPlugin.so --pass-pipeline="builtin.module(attn-select-strategy{strategy=reference})" | FileCheck %s --check-prefix=SELECT-REF
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so --load-pass-plugin=%attn_lib_dir/AttnPlugin.so --pass-pipeline="builtin.module(func.func(attn-apply-strategies,attn-convert-online-attention-to-cpu-vector))" | FileCheck %s --check-prefix=APPLY
//
// Round trip with only the dialect plugin, in custom and generic form, and
// through attn-opt:
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so | %mlir_opt_upstream --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so | FileCheck %s --check-prefix=ROUND
// RUN: %mlir_opt_upstream %s --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so --mlir-print-op-generic | attn-opt | FileCheck %s --check-prefix=ROUND
// RUN: attn-opt %s | %mlir_opt_upstream --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so | FileCheck %s --check-prefix=ROUND
//
// The dialect plugin attaches the tile op's tiling interfaces, so upstream's
// transform ops tile attn.online_attention inside mlir-opt too (the CHECK
// lines of that test):
// RUN: %mlir_opt_upstream %S/../Dialect/online-attention-tiling.mlir --load-dialect-plugin=%attn_lib_dir/AttnPlugin.so -transform-interpreter -split-input-file -canonicalize -cse | FileCheck %S/../Dialect/online-attention-tiling.mlir
//
// Without the plugin, upstream mlir-opt does not know the dialect:
// RUN: not %mlir_opt_upstream %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN

// LLVM-LABEL: llvm.func @main(
// LLVM:         llvm.return
// The module keeps one attn name, its attn.results_owned mark.
// LOWERED-NOT: {{[^.a-z_{]}}attn.
// LOWERED-NOT: {{[^.a-z_]}}linalg.
// LOWERED-NOT: {{[^.a-z_]}}tensor.
// LOWERED-NOT: {{[^.a-z_]}}memref.
// LOWERED-NOT: func.func

// SELECT-LABEL: func.func @main(
// SELECT:         attn.attention {{.*}} {causal, scale = 2.500000e-01 : f32, strategy = #attn.strategy<"{{[a-z_]+}}"{{.*}}>}
// SELECT:         attn.neighborhood {{.*}} {dilation = [1, 2], kernel = [3, 2], strategy = #attn.strategy<"{{[a-z_]+}}"{{.*}}>}
// SELECT-REF-LABEL: func.func @main(
// SELECT-REF:         attn.attention {{.*}} {causal, scale = 2.500000e-01 : f32, strategy = #attn.strategy<"reference">}
// SELECT-REF:         attn.neighborhood {{.*}} {dilation = [1, 2], kernel = [3, 2], strategy = #attn.strategy<"reference">}

// APPLY-LABEL: func.func @main(
// APPLY-NOT:     attn.
// APPLY:         return

// ROUND-LABEL: func.func @main(
// ROUND:         attn.attention ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x16xf32>) mask(%{{.*}} : tensor<1x1x8x12xi1>) outs(%{{.*}} : tensor<1x4x8x16xf32>)
// ROUND-SAME:      {causal, scale = 2.500000e-01 : f32} -> tensor<1x4x8x16xf32>
// ROUND:         attn.neighborhood ins({{.*}}) outs({{.*}}) {dilation = [1, 2], kernel = [3, 2]} -> tensor<1x2x6x8x16xf32>

// NOPLUGIN: error: Dialect `attn' not found for custom op 'attn.attention'

func.func @main(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %m: tensor<1x1x8x12xi1>, %x: tensor<1x2x6x8x16xf32>)
    -> (tensor<1x4x8x16xf32>, tensor<1x2x6x8x16xf32>) {
  %init = tensor.empty() : tensor<1x4x8x16xf32>
  %o = attn.attention ins(%q, %k, %k : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x16xf32>)
                      mask(%m : tensor<1x1x8x12xi1>)
                      outs(%init : tensor<1x4x8x16xf32>) {scale = 0.25 : f32, causal} -> tensor<1x4x8x16xf32>
  %init2 = tensor.empty() : tensor<1x2x6x8x16xf32>
  %n = attn.neighborhood ins(%x, %x, %x : tensor<1x2x6x8x16xf32>, tensor<1x2x6x8x16xf32>, tensor<1x2x6x8x16xf32>)
                         outs(%init2 : tensor<1x2x6x8x16xf32>) {kernel = [3, 2], dilation = [1, 2]} -> tensor<1x2x6x8x16xf32>
  return %o, %n : tensor<1x4x8x16xf32>, tensor<1x2x6x8x16xf32>
}
