//===- ParseFuzzer.cpp - The parser and verifier on arbitrary bytes -------===//
//
// libFuzzer harness: parses the input as MLIR with the attn dialect (and the
// func, arith and tensor dialects that attn programs use) registered, and
// verifies it. Nothing may crash or abort. A module that parses is printed in
// custom and generic form and each print must parse again (our printers
// write what our parsers read), and every attn op in it goes through strategy
// ranking (isApplicable, chooseParameters and estimateCost of every
// strategy), which reads shapes and attributes that only the verifier has
// checked.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Strategies/Strategy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mlir;

namespace {

const DialectRegistry &registry() {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    r->insert<mlir::attn::AttnDialect, func::FuncDialect, arith::ArithDialect,
              tensor::TensorDialect>();
    mlir::attn::registerBuiltinStrategies();
    return r;
  }();
  return *registry;
}

/// Parses `text`; diagnostics are dropped.
OwningOpRef<ModuleOp> parse(MLIRContext &context, llvm::StringRef text) {
  ParserConfig config(&context, /*verifyAfterParse=*/true);
  return parseSourceString<ModuleOp>(text, config);
}

std::string print(ModuleOp module, bool generic) {
  std::string text;
  llvm::raw_string_ostream os(text);
  OpPrintingFlags flags;
  if (generic)
    flags.printGenericOpForm();
  module.print(os, flags);
  return text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MLIRContext context(registry(), MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler ignore(&context,
                                 [](Diagnostic &) { return success(); });
  // MLIR's lexer reads up to a terminating NUL (as files and std::string
  // buffers have), not up to the end of the StringRef: libFuzzer's input
  // has none, so copy it.
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parse(context, text);
  if (!module)
    return 0;

  for (bool generic : {false, true}) {
    std::string printed = print(*module, generic);
    if (!parse(context, printed)) {
      std::fprintf(stderr,
                   "attn-parse-fuzzer: the %s form does not parse again:\n%s\n",
                   generic ? "generic" : "custom", printed.c_str());
      std::abort();
    }
  }

  mlir::attn::TargetDescription target = mlir::attn::TargetDescription::host();
  module->walk([&](Operation *op) {
    if (mlir::attn::isAttnOp(op))
      (void)mlir::attn::rankStrategies(op, target);
  });
  return 0;
}
