//===- AttnAttrs.td - Attributes of the attn dialect -------*- tablegen -*-===//
//
// #attn.window (a sliding window), #attn.score (the weight function),
// #attn.strategy (how an op is computed, with its parameters) and
// #attn.target (the machine strategies are chosen and built for).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
#define ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD

include "attn/Dialect/Attn/IR/AttnDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Attn_WindowAttr : Attn_Attr<"Window", "window"> {
  let summary = "Sliding window: how far a query may look left and right";
  let description = [{
    `#attn.window<left = L, right = R>` allows key `j` for query `i` when
    `i' - L <= j <= i' + R`, where `i' = i + (Lk - Lq)` (bottom-right aligned).
    Either side may be left out, and is then unbounded
    (`#attn.window<left = 128>` is a causal-style look-back window when combined
    with `causal`). Both bounds must be non-negative.
  }];
  let parameters = (ins
    OptionalParameter<"std::optional<int64_t>", "keys allowed left of the diagonal">:$left,
    OptionalParameter<"std::optional<int64_t>", "keys allowed right of the diagonal">:$right
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_ScoreAttr : Attn_Attr<"Score", "score"> {
  let summary = "Weight function: softmax, softplus, or kernel feature maps";
  let description = [{
    Written forms: `#attn.score<softmax>`, `#attn.score<softplus>`,
    `#attn.score<kernel<elu1>>`, `#attn.score<kernel<relu>>`,
    `#attn.score<kernel<taylor2>>`, `#attn.score<kernel<identity>>`,
    `#attn.score<kernel<sigmoid>>`, each kernel form optionally followed by
    `, normalize = false`.

    - `softmax`: w = exp(s - max s) / sum exp(...), over allowed keys.
    - `softplus`: w = softplus(s) / sum softplus(s).
    - `kernel<elu1>`: w = phi(scale q) . phi(k), phi(x) = elu(x) + 1.
    - `kernel<relu>`: w = phi(scale q) . phi(k), phi(x) = relu(x).
    - `kernel<taylor2>`: w = 1 + s + s^2 / 2.
    - `kernel<identity>`: w = s.
    - `kernel<sigmoid>`: w = 1 / (1 + exp(-s)).
    Kernel weights are divided by their sum over allowed keys unless
    `normalize = false`. A row whose weights sum to zero (or that has no
    allowed key) produces zeros.

    Each name is a registered `ScoreFunction` (ScoreFunction.h; one file per
    function in lib/Dialect/Attn/Scores): the attribute holds the function,
    which gives every kernel its weight as IR.
  }];
  let parameters = (ins
    AttrParameter<"const ::mlir::attn::ScoreFunction *",
                  "the registered weight function">:$function,
    "bool":$normalize
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static ScoreAttr getSoftmax(::mlir::MLIRContext *ctx);
    /// The name written in the attribute (`softmax`, `elu1`, ...).
    ::llvm::StringRef getName() const { return getFunction()->getName(); }
    /// Softmax and softplus: weights relative to the row's running maximum
    /// m, with the rescale 2^(m_old - m_new) of the sums.
    bool tracksRowMax() const {
      return getFunction()->getFamily() == ScoreFunction::Family::RowMax;
    }
    /// Written `kernel<...>`: weights of the score alone.
    bool isKernel() const {
      return getFunction()->getFamily() == ScoreFunction::Family::Kernel;
    }
    /// Feature maps that never form the score s = scale q.k (elu1, relu):
    /// bias and softcap cannot apply to them.
    bool isFeatureProduct() const { return getFunction()->isFeatureProduct(); }
  }];
}

def Attn_StrategyAttr : Attn_Attr<"Strategy", "strategy"> {
  let summary = "How an attention op is computed, and with which parameters";
  let description = [{
    `#attn.strategy<"tiled", {block_q = 64, block_k = 64}>` names a registered
    strategy and its parameters; `#attn.strategy<"tiled">` leaves the parameters
    to the cost model. A strategy never changes the meaning of the op.
  }];
  let parameters = (ins
    StringRefParameter<"registered strategy name">:$name,
    OptionalParameter<"::mlir::DictionaryAttr", "strategy parameters">:$params
  );
  let assemblyFormat = "`<` $name (`,` $params^)? `>`";
  let extraClassDeclaration = [{
    /// Integer parameter `key`, or `fallback` when it is absent.
    int64_t getIntParam(::llvm::StringRef key, int64_t fallback) const;
  }];
}

def Attn_TargetAttr : Attn_Attr<"Target", "target"> {
  let summary = "The machine that strategies are chosen and built for";
  let description = [{
    `#attn.target<kind = "cpu", threads = 4, vector_width = 512>`, written on a
    module as `attn.target`, describes the machine to attn-select-strategy,
    attn-explain and attn-apply-strategies for every attn op inside it; the
    nearest enclosing one counts. `kind` is `"cpu"` or `"gpu"`. Each other
    field may be left out, and is then the host's (cpu) or the GPU model's:

    - `threads`: hardware threads to use, 1 to 65536;
    - `vector_width`: SIMD width in bits, 128, 256 or 512 (cpu);
    - `l1_bytes`, `l2_bytes`, `l3_bytes`: cache sizes, at least 1;
    - `tensor_cores`: compute f16/bf16 Q K^T with tensor-core mma.sync where a
      strategy can (gpu);
    - `shared_memory`: bytes of shared memory a thread block may use, at
      least 1 (gpu);
    - `bf16_dot`: whether the CPU has AVX512-BF16 dot products
      (`vdpbf16ps`), which the flash kernels use for bf16 Q K^T and P V
      (cpu; the host's features when left out).

    `attn-set-target` writes it from its options, and the pipelines run that
    pass first.
  }];
  let parameters = (ins
    StringRefParameter<"cpu or gpu">:$kind,
    OptionalParameter<"std::optional<int64_t>", "hardware threads">:$threads,
    OptionalParameter<"std::optional<int64_t>", "SIMD width in bits">:$vector_width,
    OptionalParameter<"std::optional<int64_t>", "L1 data cache bytes">:$l1_bytes,
    OptionalParameter<"std::optional<int64_t>", "L2 cache bytes">:$l2_bytes,
    OptionalParameter<"std::optional<int64_t>", "L3 cache bytes">:$l3_bytes,
    OptionalParameter<"::mlir::BoolAttr", "tensor-core mma.sync">:$tensor_cores,
    OptionalParameter<"std::optional<int64_t>", "shared memory per thread block">:$shared_memory,
    OptionalParameter<"::mlir::BoolAttr", "AVX512-BF16 dot products">:$bf16_dot
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The name of the attribute that carries it on a module.
    static constexpr ::llvm::StringLiteral kAttrName = "attn.target";
  }];
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNATTRS_TD
