// Every GPU chip attn-gpu-pipeline accepts compiles all the way to a cubin
// (ptxas), from each chip's first PTX version and from the default; chips
// and PTX versions outside the supported set are one error line before
// anything is built (sm_100 ended in an LLVM fatal error, sm_70 in a ptxas
// dump).
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="chip=sm_80 features=+ptx70 format=bin" | FileCheck %s --check-prefix=BIN -DCHIP=sm_80 -DPTX=+ptx70
// RUN: attn-opt %s --attn-gpu-pipeline="chip=sm_86 features=+ptx71 format=bin" | FileCheck %s --check-prefix=BIN -DCHIP=sm_86 -DPTX=+ptx71
// RUN: attn-opt %s --attn-gpu-pipeline="chip=sm_89 features=+ptx78 format=bin" | FileCheck %s --check-prefix=BIN -DCHIP=sm_89 -DPTX=+ptx78
// RUN: attn-opt %s --attn-gpu-pipeline="chip=sm_90 format=bin" | FileCheck %s --check-prefix=BIN -DCHIP=sm_90 -DPTX=+ptx80
// RUN: attn-opt %s --attn-gpu-pipeline="chip=sm_80 features=+ptx70 format=bin tensor-cores=true" | FileCheck %s --check-prefix=BIN -DCHIP=sm_80 -DPTX=+ptx70
// RUN: not attn-opt %s --attn-gpu-pipeline="chip=sm_70" 2>&1 | FileCheck %s --check-prefix=SM70
// RUN: not attn-opt %s --attn-gpu-pipeline="chip=sm_100" 2>&1 | FileCheck %s --check-prefix=SM100
// RUN: not attn-opt %s --attn-gpu-pipeline="chip=sm_90 features=+ptx71" 2>&1 | FileCheck %s --check-prefix=OLD
// RUN: not attn-opt %s --attn-gpu-pipeline="features=+ptx99" 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: not attn-opt %s --attn-gpu-pipeline="format=xyz" -o %t.out 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not test -e %t.out
// attn-aot checks --gpu-chip the same way, and only with --target cuda.
// RUN: not attn-aot %s -o %t.so --target cuda --gpu-chip sm_70 2>&1 | FileCheck %s --check-prefix=AOT-SM70
// RUN: not attn-aot %s -o %t.so --gpu-chip sm_80 2>&1 | FileCheck %s --check-prefix=AOT-CPU

// BIN: gpu.binary @main_kernel  [#gpu.object<#nvvm.target<chip = "[[CHIP]]", features = "[[PTX]]">, {{.*}} bin = "\7FELF

// SM70: error: attn-gpu-pipeline: chip: GPU chip 'sm_70' is not supported (supported: sm_80, sm_86, sm_89 or sm_90)
// SM100: error: attn-gpu-pipeline: chip: GPU chip 'sm_100' is not supported
// OLD: error: attn-gpu-pipeline: features = '+ptx71' cannot target sm_90: its first PTX version is +ptx78
// PTX: error: attn-gpu-pipeline: features = '+ptx99' is not a PTX version for these chips (expected +ptx70, +ptx71,
// AOT-SM70: {{^}}attn-aot: error: --gpu-chip: GPU chip 'sm_70' is not supported (supported: sm_80, sm_86, sm_89 or sm_90){{$}}
// AOT-CPU: {{^}}attn-aot: error: --gpu-chip applies to --target cuda, not cpu{{$}}
// FORMAT: error: attn-gpu-pipeline: format = 'xyz' is not a kernel format (expected isa, bin or fatbin)

func.func @main(%q: tensor<1x2x40x32xf16>, %k: tensor<1x2x40x32xf16>, %v: tensor<1x2x40x32xf16>) -> tensor<1x2x40x32xf16> {
  %init = tensor.empty() : tensor<1x2x40x32xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x40x32xf16>, tensor<1x2x40x32xf16>, tensor<1x2x40x32xf16>)
                      outs(%init : tensor<1x2x40x32xf16>) {causal} -> tensor<1x2x40x32xf16>
  return %o : tensor<1x2x40x32xf16>
}
