//===- attn-opt.cpp - mlir-opt with the attn dialect and passes -----------===//
//
// Every upstream dialect, extension and pass, plus the attn dialect, its
// passes, its pipelines, and the --attn-strategy / --attn-load-strategy
// flags. --attn-print-strategy-parameters and --attn-print-pipelines write
// the generated references in docs/generated/ (scripts/update-docs.sh).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Strategies/Common/OnlineAttentionTiling.h"
#include "attn/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/WithColor.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

static llvm::cl::opt<bool> printStrategyParameters(
    "attn-print-strategy-parameters",
    llvm::cl::desc("Print the parameter reference of every registered "
                   "strategy (Markdown) and exit"),
    llvm::cl::cat(mlir::attn::getAttnOptionCategory()));
static llvm::cl::opt<bool> printPipelines(
    "attn-print-pipelines",
    llvm::cl::desc("Print the passes of attn's pipelines (Markdown) and exit"),
    llvm::cl::cat(mlir::attn::getAttnOptionCategory()));

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::attn::registerAttnPasses();
  mlir::attn::registerAttnConversionPasses();
  mlir::attn::registerAttnPipelines();
  mlir::attn::registerAttnCommandLineOptions();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // Serializing gpu.modules to PTX/cubin translates them to LLVM IR.
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::attn::AttnDialect>();
  mlir::attn::registerOnlineAttentionTilingInterface(registry);

  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv, "attn optimizer driver: MLIR passes plus attn\n", registry);
  if (std::string error;
      !mlir::attn::loadCommandLineStrategyLibraries(error)) {
    llvm::WithColor::error(llvm::errs(), "attn-opt") << error << "\n";
    return 1;
  }
  if (printStrategyParameters) {
    mlir::attn::printStrategyParameterReference(llvm::outs());
    return 0;
  }
  if (printPipelines) {
    mlir::attn::printPipelineReference(llvm::outs());
    return 0;
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputFile, outputFile, registry));
}
