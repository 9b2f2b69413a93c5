//===- AotCompiler.cpp - Compile attn programs to object files ------------===//
//
// compileToObject: the JIT's lowering, then LLVM code generation for the
// host into an object file that attn-aot links into a library.
//
//===----------------------------------------------------------------------===//

#include "CompilerInternals.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Target/TargetMachine.h"

namespace attn::api {
using namespace detail;

bool compileToObject(const std::string &source, const std::string &bufferName,
                     const CompileOptions &options, const RegistryInit &init,
                     const std::string &objectPath,
                     std::vector<EntrySignature> &entries,
                     std::string &error) {
  auto module = std::make_unique<CompiledModuleImpl>();
  if (!module->build(source, bufferName, options, init, error, /*jit=*/false))
    return false;
  entries = module->entrySignatures();
  for (const EntrySignature &entry : entries)
    if (!entry.known) {
      error = "ahead-of-time compilation needs the entry signatures: give "
              "attn or func-level IR, not the LLVM dialect";
      return false;
    }
  std::unique_ptr<llvm::TargetMachine> machine =
      createHostTargetMachine(/*pic=*/true, error);
  if (!machine)
    return false;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module->lowered_module, llvmContext);
  if (!llvmModule) {
    error = "cannot translate the lowered module to LLVM IR";
    return false;
  }
  // Only the C interfaces are the library's; everything else (a function
  // named `main`, for one) must not interpose on the host's symbols.
  for (llvm::Function &function : *llvmModule)
    if (!function.isDeclaration() &&
        !function.getName().starts_with("_mlir_ciface_"))
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &global : llvmModule->globals())
    if (!global.isDeclaration() && !global.hasAppendingLinkage())
      global.setLinkage(llvm::GlobalValue::InternalLinkage);
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple());
  auto optimize = makeOptimizingTransformer(options.optLevel, 0,
                                            machine.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    error = "LLVM optimization failed: " + llvm::toString(std::move(err));
    return false;
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + objectPath + "': " + ec.message();
    return false;
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                      llvm::CodeGenFileType::ObjectFile)) {
    error = "the host target cannot emit object files";
    return false;
  }
  codegen.run(*llvmModule);
  out.flush();
  return true;
}

} // namespace attn::api
