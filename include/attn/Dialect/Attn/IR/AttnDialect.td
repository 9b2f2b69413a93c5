//===- AttnDialect.td - The attn dialect -------------------*- tablegen -*-===//
//
// The `attn` dialect: high-level attention operations whose meaning is fixed
// exactly by their definition, and strategy attributes that say how to compute
// them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
#define ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention operations and the strategies that compute them";
  let description = [{
    The `attn` dialect holds attention as one operation per attention layer:
    `attn.attention` (dense, causal, grouped-query, sliding window with sink
    tokens, masks, biases, softcapping, softmax/softplus/kernel scores) and
    `attn.neighborhood` (NATTEN-style 1-D/2-D/3-D neighborhood attention with
    dilation, per-axis causality and stride).

    Layout: `q : [B, Hq, Lq, D]`, `k : [B, Hkv, Lk, D]`, `v : [B, Hkv, Lk, Dv]`,
    result `[B, Hq, Lq, Dv]`; query head `h` reads KV head `h / (Hq / Hkv)`.
    Elements are f32, f16 or bf16; math accumulates in f32.

    A `#attn.strategy` attribute says how an op is computed. A strategy never
    changes the meaning of an op: every strategy computes the same numbers as
    `reference`, up to floating-point rounding.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::index::IndexDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
