//===- AttnPlugin.cpp - attn as an mlir-opt plugin ------------------------===//
//
// Loads the attn dialect (--load-dialect-plugin) and attn's passes and
// pipelines (--load-pass-plugin) into upstream tools such as mlir-opt.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Strategies/Common/OnlineAttentionTiling.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "AttnDialect", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            registry->insert<mlir::attn::AttnDialect>();
            mlir::attn::registerOnlineAttentionTilingInterface(*registry);
            // attn-gpu-pipeline serializes gpu.modules through LLVM IR.
            mlir::registerAllToLLVMIRTranslations(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "AttnPasses", LLVM_VERSION_STRING, []() {
            mlir::attn::registerAttnPasses();
            mlir::attn::registerAttnConversionPasses();
            mlir::attn::registerAttnPipelines();
          }};
}
