//===- HarnessSupport.h - What the program-driven harnesses share -*- C++ -*-===//
//
// The compile and strategy harnesses both turn fuzzer bytes into one attn
// program (ProgramGenerator) and must agree on what a bug is before they go
// their own ways: a valid program rejected, an invalid one accepted, or one
// rejected without a message. This holds the dialect registry they parse
// with, the collector of error diagnostics and the parse-and-judge step.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_FUZZ_HARNESSSUPPORT_H
#define ATTN_FUZZ_HARNESSSUPPORT_H

#include "ProgramGenerator.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace attn::fuzz {

/// Every upstream dialect, extension and LLVM IR translation, and attn.
void initRegistry(mlir::DialectRegistry &registry);

/// The registry above, built once per process; the built-in strategies are
/// registered with it.
const mlir::DialectRegistry &sharedRegistry();

/// Prints `what` and the program, then aborts (libFuzzer keeps the input).
[[noreturn]] void fail(const char *harness, const GeneratedProgram &program,
                       const std::string &what);

/// Collects the text of the error diagnostics of a context while alive.
class ErrorCollector {
public:
  explicit ErrorCollector(mlir::MLIRContext *context);
  const std::string &text() const { return errors; }

private:
  std::string errors;
  mlir::ScopedDiagnosticHandler handler;
};

/// A fresh context for one program (the shared registry, no threads, no
/// ops printed on diagnostics) and the errors emitted in it.
struct ProgramContext {
  ProgramContext();
  mlir::MLIRContext context;
  ErrorCollector errors;

  /// Parses and verifies `program.text`. A valid program must parse; an
  /// invalid one must be rejected with a message (else `fail`). Returns the
  /// module, or null for an invalid program rejected as it should be.
  mlir::OwningOpRef<mlir::ModuleOp> parse(const char *harness,
                                          const GeneratedProgram &program);
};

} // namespace attn::fuzz

#endif // ATTN_FUZZ_HARNESSSUPPORT_H
