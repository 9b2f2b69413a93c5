//===- HarnessSupport.cpp - What the program-driven harnesses share -------===//

#include "HarnessSupport.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Strategies/Strategy.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include <cstdio>
#include <cstdlib>

using namespace mlir;

namespace attn::fuzz {

void initRegistry(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::attn::AttnDialect>();
}

const DialectRegistry &sharedRegistry() {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    initRegistry(*r);
    mlir::attn::registerBuiltinStrategies();
    return r;
  }();
  return *registry;
}

void fail(const char *harness, const GeneratedProgram &program,
          const std::string &what) {
  std::fprintf(stderr, "%s: %s\n--- program ---\n%s\n", harness, what.c_str(),
               program.text.c_str());
  std::abort();
}

ErrorCollector::ErrorCollector(MLIRContext *context)
    : handler(context, [this](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error)
          errors += diag.str() + "\n";
        return success();
      }) {}

ProgramContext::ProgramContext()
    : context(sharedRegistry(), MLIRContext::Threading::DISABLED),
      errors(&context) {
  context.printOpOnDiagnostic(false);
}

OwningOpRef<ModuleOp> ProgramContext::parse(const char *harness,
                                            const GeneratedProgram &program) {
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(program.text, ParserConfig(&context));
  if (!module) {
    if (program.valid)
      fail(harness, program, "a valid program was rejected: " + errors.text());
    if (errors.text().empty())
      fail(harness, program, "an invalid program was rejected without a message");
    return nullptr;
  }
  if (!program.valid)
    fail(harness, program, "the verifier accepted an invalid program");
  return module;
}

} // namespace attn::fuzz
