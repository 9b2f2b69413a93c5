//===- Compiler.cpp - Compile and run attn programs -----------------------===//
//
// Parses MLIR text, records each entry's signature and the attn ops it calls
// (for FLOP counting), runs the CPU pipeline when the input is above the LLVM
// dialect, JIT-compiles with MLIR's ExecutionEngine for the host CPU, and
// calls entries through their packed interface with memref descriptors built
// from host arrays. Ahead-of-time object files are AotCompiler.cpp's, the
// strategy reports ExplainSelection.cpp's; CompilerInternals.h holds what
// they share.
//
//===----------------------------------------------------------------------===//

#include "CompilerInternals.h"
#include "attn/CAPI/GpuLayer.h"
#include "attn/Runtime/CpuRuntime.h"
#include "attn/Runtime/EntryCheck.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Strategies/Strategy.h"
#include "attn/Transforms/Passes.h"
#include "attn/Transforms/SequenceShards.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Target/TargetMachine.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "llvm/ADT/SmallPtrSet.h"

extern "C" void omp_set_num_threads(int);
extern "C" int omp_get_num_procs(void);


namespace attn::api {

CompiledModule::~CompiledModule() = default;

void setNumThreads(int threads) {
  omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
}

namespace detail {

/// The operands of an attn op that size rules and FLOP terms read.
struct AttnOperands {
  Value query, key, value, mask, bias;
  bool neighborhood = false;
  /// attn.paged_attention: key and value are the caches.
  Value pageTable, keyLengths, keyScale, valueScale;
};
static AttnOperands operandsOf(Operation *op) {
  if (auto paged = dyn_cast<PagedAttentionOp>(op)) {
    AttnOperands p;
    p.query = paged.getQuery();
    p.key = paged.getKCache();
    p.value = paged.getVCache();
    p.pageTable = paged.getPageTable();
    p.keyLengths = paged.getKeyLengths();
    p.keyScale = paged.getKScale();
    p.valueScale = paged.getVScale();
    return p;
  }
  if (auto attention = dyn_cast<AttentionOp>(op))
    return {attention.getQuery(), attention.getKey(), attention.getValue(),
            attention.getMask(), attention.getBias(), false};
  if (auto backward = dyn_cast<AttentionBackwardOp>(op))
    return {backward.getQuery(), backward.getKey(),  backward.getValue(),
            backward.getMask(),  backward.getBias(), false};
  if (auto backward = dyn_cast<NeighborhoodBackwardOp>(op))
    return {backward.getQuery(),
            backward.getKey(),
            backward.getValue(),
            Value(),
            Value(),
            true};
  auto neighborhood = cast<NeighborhoodOp>(op);
  return {neighborhood.getQuery(), neighborhood.getKey(),
          neighborhood.getValue(), Value(), Value(), true};
}

/// The argument number of `value` when it is an argument of `func`, or -1.
static int entryArgNumber(func::FuncOp func, Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg || arg.getOwner()->getParentOp() != func.getOperation())
    return -1;
  return static_cast<int>(arg.getArgNumber());
}

/// Rules between the dynamic sizes of entry inputs that attn ops of the
/// entry read directly: what the op verifier checks statically, checked
/// again on the actual arrays.
static std::vector<SizeRule> collectSizeRules(func::FuncOp func) {
  std::vector<SizeRule> rules;
  auto argNumber = [&](Value tensor) { return entryArgNumber(func, tensor); };
  auto rule = [&](Value a, int da, Value b, int db, bool orOne,
                  std::string what) {
    int ra = argNumber(a), rb = argNumber(b);
    if (ra >= 0 && rb >= 0)
      rules.push_back({ra, da, rb, db, orOne, std::move(what)});
  };
  func.walk([&](Operation *op) {
    if (!isAttnOp(op))
      return;
    AttnOperands p = operandsOf(op);
    std::string name = op->getName().getStringRef().str();
    int rank = cast<RankedTensorType>(p.query.getType()).getRank();
    if (p.pageTable) {
      rule(p.query, 0, p.pageTable, 0, false,
           name + " needs the batch sizes of 'query' and 'page_table' equal");
      rule(p.query, 0, p.keyLengths, 0, false,
           name + " needs the batch sizes of 'query' and 'key_lengths' "
                  "equal");
      rule(p.key, 0, p.value, 0, false,
           name + " needs the pages of 'k_cache' and 'v_cache' equal");
      for (Value scale : {p.keyScale, p.valueScale})
        if (scale && cast<RankedTensorType>(scale.getType()).getRank() == 3)
          rule(p.key, 0, scale, 0, false,
               name + " needs the pages of 'k_cache' and its scales equal");
      return;
    }
    for (auto [tensor, label] : {std::pair<Value, const char *>{p.key, "key"},
                                 {p.value, "value"}}) {
      rule(p.query, 0, tensor, 0, false,
           name + " needs the batch sizes of 'query' and '" + label +
               "' equal");
      for (int d = 2; d < rank - 1; ++d)
        if (p.neighborhood || tensor == p.value)
          rule(p.neighborhood ? p.query : p.key, d, tensor, d, false,
               name + " needs the " +
                   (p.neighborhood ? std::string("spatial sizes of 'query'")
                                     : std::string("lengths of 'key'")) +
                   " and '" + label + "' equal");
    }
    for (auto [tensor, label] : {std::pair<Value, const char *>{p.mask, "mask"},
                                 {p.bias, "bias"}}) {
      if (!tensor)
        continue;
      rule(tensor, 0, p.query, 0, true,
           name + " needs the batch size of '" + label +
               "' to be 1 or that of 'query'");
      rule(tensor, 2, p.query, 2, false,
           name + " needs dimension 2 of '" + label + "' equal to Lq");
      rule(tensor, 3, p.key, 2, false,
           name + " needs dimension 3 of '" + label + "' equal to Lk");
    }
  });
  return rules;
}

/// The paged ops of `func` whose table, lengths and K cache are its
/// arguments: the values checked on every call.
static std::vector<PagedRule> collectPagedRules(func::FuncOp func) {
  std::vector<PagedRule> rules;
  auto argNumber = [&](Value tensor) { return entryArgNumber(func, tensor); };
  func.walk([&](PagedAttentionOp op) {
    PagedRule rule;
    rule.tableArg = argNumber(op.getPageTable());
    rule.lengthsArg = argNumber(op.getKeyLengths());
    rule.cacheArg = argNumber(op.getKCache());
    rule.pageSize =
        cast<RankedTensorType>(op.getKCache().getType()).getDimSize(2);
    rule.op = op->getName().getStringRef().str();
    if (rule.tableArg >= 0 && rule.lengthsArg >= 0 && rule.cacheArg >= 0)
      rules.push_back(std::move(rule));
  });
  return rules;
}

void CompiledModuleImpl::recordEntries(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isDeclaration() || func.isPrivate())
      continue;
    EntrySignature sig;
    sig.name = func.getName().str();
    auto spec = [](Type type) {
      TensorSpec t;
      t.typeString = typeString(type);
      if (auto shaped = dyn_cast<ShapedType>(type)) {
        if (auto dtype = dtypeOf(shaped.getElementType()))
          t.dtype = *dtype;
        else
          t.typeString += " (unsupported element type)";
        if (shaped.hasRank())
          t.shape.assign(shaped.getShape().begin(), shaped.getShape().end());
      } else {
        t.typeString += " (not a tensor or memref)";
      }
      return t;
    };
    for (Type type : func.getArgumentTypes())
      sig.inputs.push_back(spec(type));
    for (Type type : func.getResultTypes())
      sig.results.push_back(spec(type));
    names.push_back(sig.name);

    std::vector<FlopTerm> terms;
    // The entry's own attn ops, then those of the functions it calls (whose
    // sizes count only where static).
    llvm::SmallPtrSet<Operation *, 8> visited;
    std::function<void(func::FuncOp)> collect = [&](func::FuncOp current) {
      if (!visited.insert(current.getOperation()).second)
        return;
      current.walk([&](Operation *op) {
        if (auto call = dyn_cast<func::CallOp>(op)) {
          if (auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee()))
            if (!callee.isDeclaration())
              collect(callee);
          return;
        }
        if (!isAttnOp(op))
          return;
        attnOps = true;
        AttnOperands p = operandsOf(op);
        FlopTerm term{AttentionWork(op)};
        term.batch = dimSource(p.query, 0, func);
        for (size_t d = 0; d < term.work.queryRank(); ++d)
          term.queryShape.push_back(dimSource(p.query, 2 + d, func));
        if (p.pageTable) {
          // Paged: each request's keys are its key_lengths entry, read
          // from the call's array; the table's capacity bounds them.
          int64_t pageSize =
              cast<RankedTensorType>(p.key.getType()).getDimSize(2);
          DimSource pages = dimSource(p.pageTable, 1, func);
          term.keyShape.push_back(pages);
          term.pageSize = pageSize;
          if (auto arg = dyn_cast<BlockArgument>(p.keyLengths))
            if (arg.getOwner()->getParentOp() == func.getOperation())
              term.keyLengthsArg = arg.getArgNumber();
        } else {
          for (size_t d = 0; d < term.work.keyRank(); ++d)
            term.keyShape.push_back(dimSource(p.key, 2 + d, func));
        }
        if (p.mask)
          if (auto arg = dyn_cast<BlockArgument>(p.mask))
            if (arg.getOwner()->getParentOp() == func.getOperation())
              term.maskArg = arg.getArgNumber();
        terms.push_back(std::move(term));
      });
    };
    collect(func);
    sig.sizeRules = collectSizeRules(func);
    sig.pagedRules = collectPagedRules(func);
    flopTerms[sig.name] = std::move(terms);
    signatures[sig.name] = std::move(sig);
  }
  if (!names.empty())
    return;
  // LLVM-dialect input: ranks come from the inputs at run time.
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (func.isExternal() || func.getName().starts_with("_mlir"))
      continue;
    auto ranks =
        descriptorRanks(func.getFunctionType().getReturnType());
    if (!ranks)
      continue;
    EntrySignature sig;
    sig.name = func.getName().str();
    sig.known = false;
    names.push_back(sig.name);
    llvmResultRanks[sig.name] = *ranks;
    signatures[sig.name] = std::move(sig);
  }
}

void CompiledModuleImpl::shardEntry(ModuleOp module,
                                    const CompileOptions &options) {
  auto func = module.lookupSymbol<func::FuncOp>(options.distributeEntry);
  auto found = signatures.find(options.distributeEntry);
  std::optional<SequenceDistribution> mode =
      parseSequenceDistribution(options.distribute);
  if (!func || found == signatures.end() || !mode)
    return; // the pipeline reports it
  EntrySignature &sig = found->second;
  // The q, k and v arguments of the entry's attention: what the
  // distribution pass shards (it reports the forms it does not take).
  func.walk([&](AttentionOp op) {
    int64_t lq = op.getQueryType().getDimSize(2);
    int64_t lk = op.getKeyType().getDimSize(2);
    for (auto [operand, length] :
         {std::pair(op.getQuery(), lq), std::pair(op.getKey(), lk),
          std::pair(op.getValue(), lk)}) {
      auto arg = dyn_cast<BlockArgument>(operand);
      if (!arg || arg.getOwner()->getParentOp() != func ||
          ShapedType::isDynamic(length))
        continue;
      int index = arg.getArgNumber();
      if (llvm::any_of(sig.sharded, [&](auto &s) { return s.first == index; }))
        continue;
      SequenceShards shards{*mode, options.ranks, length};
      sig.inputs[index].shape[2] = shards.shardLength();
      sig.sharded.push_back({index, length});
    }
    return WalkResult::interrupt();
  });
}

bool CompiledModuleImpl::build(const std::string &source,
                               const std::string &bufferName,
                               const CompileOptions &options,
                               const RegistryInit &init, std::string &error,
                               bool jit) {
  ompError = initializeJitOnce();
  if (!checkTarget(options.target, error))
    return false;

  context = makeContext(init);
  SourceDiagnostics diagnostics(context.get(), source, bufferName);
  // Raised first, so that entries count the raised ops' FLOPs and an
  // override (--check's reference) applies to them too.
  OwningOpRef<ModuleOp> module = diagnostics.parseAndRaise(
      context.get(), options.raise, bufferName, error);
  if (!module)
    return false;
  recordEntries(*module);
  if (names.empty()) {
    error = "'" + bufferName + "' defines no public function to run";
    return false;
  }
  if (!options.distribute.empty())
    shardEntry(*module, options);

  bool lowLevel = true;
  module->walk([&](Operation *op) {
    if (!isa<ModuleOp>(op) && !isa<LLVM::LLVMDialect>(op->getDialect()))
      lowLevel = false;
  });
  if (!lowLevel) {
    // Entry arguments are the caller's arrays (Python passes numpy memory
    // without copying): bufferization must never write into them in place.
    StringRef writable = bufferization::BufferizationDialect::kWritableAttrName;
    for (auto func : module->getOps<func::FuncOp>())
      if (!func.isDeclaration() && !func.isPrivate())
        for (unsigned i = 0; i < func.getNumArguments(); ++i)
          if (isa<TensorType>(func.getArgument(i).getType()) &&
              !func.getArgAttr(i, writable))
            func.setArgAttr(i, writable, BoolAttr::get(context.get(), false));
    if (!jit) {
      // Ahead of time: a C interface (_mlir_ciface_<name>) for each entry.
      for (auto func : module->getOps<func::FuncOp>())
        if (!func.isDeclaration() && !func.isPrivate())
          func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                        UnitAttr::get(context.get()));
    }
    PassManager pm(context.get());
    if (isGpuTarget(options.target)) {
      GpuPipelineOptions pipeline;
      if (!gpuPipelineOptions(options, jit, *module, pipeline, error))
        return false;
      buildGpuPipeline(pm, pipeline);
    } else {
      CpuPipelineOptions pipeline;
      pipeline.threads = options.threads;
      pipeline.vectorWidth = options.vectorWidth;
      pipeline.strategy = options.strategy;
      pipeline.overrideStrategy = options.overrideStrategy;
      pipeline.raise = false; // done above
      if (!options.distribute.empty()) {
        pipeline.distribute = options.distribute;
        pipeline.ranks = options.ranks;
        pipeline.distributeEntry = options.distributeEntry;
      }
      if (std::string why = checkCpuPipelineOptions(pipeline); !why.empty()) {
        error = why;
        return false;
      }
      // The code is compiled for this CPU (JIT and AOT alike): a target
      // that promises instructions it lacks would stop in LLVM's code
      // generator.
      if (auto target = dyn_cast_or_null<TargetAttr>(
              (*module)->getAttr(TargetAttr::kAttrName));
          target && target.getBf16Dot() && target.getBf16Dot().getValue() &&
          !TargetDescription::host().bf16Dot) {
        error = "the module's #attn.target bf16_dot = true asks for "
                "AVX512-BF16 dot products, which this CPU lacks (code is "
                "compiled for the CPU it runs on)";
        return false;
      }
      buildCpuPipeline(pm, pipeline);
    }
    if (failed(pm.run(*module))) {
      error = diagnostics.message("compilation failed");
      return false;
    }
    ownsResults = true;
  } else {
    // Already lowered: results are ours to free only where attn's pipeline
    // marked them fresh allocations (otherwise one might be an argument or
    // a global, and it is copied instead).
    ownsResults = (*module)->hasAttr(kResultsOwnedAttrName);
  }
  {
    llvm::raw_string_ostream os(lowered);
    module->print(os);
  }
  if (!jit) {
    lowered_module = std::move(module);
    return true;
  }

  std::unique_ptr<llvm::TargetMachine> machine =
      createHostTargetMachine(/*pic=*/false, error);
  if (!machine)
    return false;
  auto transformer = makeOptimizingTransformer(options.optLevel, 0,
                                               machine.get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto created = ExecutionEngine::create(*module, engineOptions);
  if (!created) {
    error = "JIT compilation failed: " + llvm::toString(created.takeError());
    if (!diagnostics.text.empty())
      error += "\n" + diagnostics.text;
    return false;
  }
  engine = std::move(*created);
  // Runtime functions that compiled code may call and no system library
  // provides.
  engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto addPointer = [&](const char *name, void *function) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                                 llvm::JITSymbolFlags::Exported};
    };
    auto add = [&](const char *name, auto *function) {
      addPointer(name, reinterpret_cast<void *>(function));
    };
    add("memrefCopy", &memrefCopy);
    add("_mlir_memref_to_llvm_alloc", &_mlir_memref_to_llvm_alloc);
    add("_mlir_memref_to_llvm_aligned_alloc",
        &_mlir_memref_to_llvm_aligned_alloc);
    add("_mlir_memref_to_llvm_free", &_mlir_memref_to_llvm_free);
    add("attnAllocateResult", &attnAllocateResult);
    // The GPU layers' functions (GpuLayers/): what the host code of each
    // API calls, and the module loads and launches they share.
    addSharedGpuJitSymbols(addPointer);
    for (const GpuLayer *layer : getGpuLayers())
      layer->addJitSymbols(addPointer);
    return symbols;
  });
  // Compilation is over: release the context's worker threads (a host such
  // as Python keeps many compiled modules alive).
  context->disableMultithreading();
  return true;
}

bool CompiledModuleImpl::checkInputs(const std::string &name,
                                     const std::vector<HostArray> &inputs,
                                     std::string &error) const {
  const EntrySignature *sig = signature(name);
  if (!sig) {
    error = "no entry '" + name + "'";
    return false;
  }
  if (!sig->known)
    return true;
  for (size_t i = 0; i < sig->inputs.size(); ++i) {
    const TensorSpec &spec = sig->inputs[i];
    if (spec.typeString.find("(unsupported") != std::string::npos ||
        spec.typeString.find("(not a") != std::string::npos) {
      error = "@" + name + " argument " + std::to_string(i) + " has type " +
              spec.typeString + ", which cannot be passed from an array";
      return false;
    }
  }
  // The checks every AOT library runs too (runtime/EntryCheck.cpp).
  std::vector<runtime::ArraySpec> specs;
  for (const TensorSpec &spec : sig->inputs)
    specs.push_back({static_cast<int32_t>(spec.dtype),
                     static_cast<int32_t>(spec.shape.size()),
                     spec.shape.data(), spec.typeString.c_str()});
  std::vector<runtime::SizeRuleSpec> rules;
  for (const SizeRule &rule : sig->sizeRules)
    rules.push_back({rule.firstArg, rule.firstDim, rule.secondArg,
                     rule.secondDim, rule.orOne, rule.what.c_str()});
  std::vector<runtime::ArrayArg> args;
  for (const HostArray &in : inputs)
    args.push_back({in.data, static_cast<int32_t>(in.dtype),
                    static_cast<int32_t>(in.shape.size()), in.shape.data()});
  error = runtime::checkEntryArguments(
      name.c_str(), specs.data(), static_cast<int>(specs.size()),
      rules.data(), static_cast<int>(rules.size()), args.data(),
      static_cast<int>(args.size()));
  if (!error.empty())
    return false;
  std::vector<runtime::PagedRuleSpec> paged;
  for (const PagedRule &rule : sig->pagedRules)
    paged.push_back({rule.tableArg, rule.lengthsArg, rule.cacheArg,
                     rule.pageSize, rule.op.c_str()});
  error = runtime::checkPagedValues(paged.data(),
                                    static_cast<int>(paged.size()),
                                    args.data());
  return error.empty();
}

bool CompiledModuleImpl::call(const std::string &name,
                              const std::vector<HostArray> &inputs,
                              std::vector<AttnResultSlot> &slots,
                              std::vector<ReturnedResult> &results,
                              std::string &error) {
  if (!checkInputs(name, inputs, error))
    return false;
  const EntrySignature *sig = signature(name);
  std::vector<int> resultRanks;
  std::vector<DType> resultTypes;
  if (sig->known) {
    for (const TensorSpec &spec : sig->results) {
      if (spec.typeString.find("(") != std::string::npos) {
        error = "@" + name + " returns " + spec.typeString +
                ", which cannot be returned as an array";
        return false;
      }
      resultRanks.push_back(spec.shape.size());
      resultTypes.push_back(spec.dtype);
    }
  } else {
    resultRanks = llvmResultRanks.at(name);
    DType dtype = inputs.empty() ? DType::F32 : inputs.front().dtype;
    resultTypes.assign(resultRanks.size(), dtype);
  }

  // Memref descriptors of the inputs: allocated, aligned, offset, sizes,
  // strides, each passed by address.
  std::vector<std::vector<int64_t>> fields(inputs.size());
  std::vector<void *> pointers(inputs.size());
  std::vector<void *> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const HostArray &in = inputs[i];
    pointers[i] = in.data;
    std::vector<int64_t> &f = fields[i];
    f.push_back(0); // offset
    f.insert(f.end(), in.shape.begin(), in.shape.end());
    std::vector<int64_t> strides(in.shape.size(), 1);
    for (int d = static_cast<int>(in.shape.size()) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * in.shape[d + 1];
    f.insert(f.end(), strides.begin(), strides.end());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    args.push_back(&pointers[i]);
    args.push_back(&pointers[i]);
    for (int64_t &value : fields[i])
      args.push_back(&value);
  }
  size_t resultFields = 0;
  for (int rank : resultRanks)
    resultFields += 3 + 2 * rank;
  std::vector<int64_t> resultStorage(std::max<size_t>(resultFields, 1), 0);
  if (!resultRanks.empty())
    args.push_back(resultStorage.data());

  // The module's global constructors (GPU module loads) run once, before
  // the first call; invokePacked would do this, lookupPacked does not.
  engine->initialize();
  auto packed = engine->lookupPacked(name);
  if (!packed) {
    error = "cannot call @" + name + ": " +
            llvm::toString(packed.takeError());
    if (!ompError.empty())
      error += " (" + ompError + ")";
    return false;
  }
  // Compiled code that runs out of memory returns here with an error
  // instead of ending the process (a Python host survives it).
  struct PackedCall {
    void (*function)(void **);
    void **args;
  } call{*packed, args.data()};
  char message[256] = {0};
  slots.resize(resultRanks.size(), AttnResultSlot{nullptr, 0, 0});
  for (AttnResultSlot &slot : slots)
    slot.taken = 0;
  attnOfferResultBuffers(slots.data(), static_cast<int32_t>(slots.size()));
  int failed = attnCallGuarded(
      [](void *context) {
        auto *c = static_cast<PackedCall *>(context);
        c->function(c->args);
      },
      &call, message, sizeof message);
  attnOfferResultBuffers(nullptr, 0);
  if (failed) {
    error = message;
    return false;
  }

  results.clear();
  size_t at = 0;
  for (size_t r = 0; r < resultRanks.size(); ++r) {
    int rank = resultRanks[r];
    ReturnedResult result;
    result.allocated = reinterpret_cast<uint8_t *>(resultStorage[at]);
    auto *aligned = reinterpret_cast<uint8_t *>(resultStorage[at + 1]);
    int64_t offset = resultStorage[at + 2];
    result.shape.assign(resultStorage.begin() + at + 3,
                        resultStorage.begin() + at + 3 + rank);
    result.strides.assign(resultStorage.begin() + at + 3 + rank,
                          resultStorage.begin() + at + 3 + 2 * rank);
    at += 3 + 2 * rank;
    result.dtype = resultTypes[r];
    result.data = aligned + offset * runtime::dtypeSize(result.dtype);
    result.offset = offset;
    int64_t expected = 1;
    for (int d = rank - 1; d >= 0; --d) {
      if (result.shape[d] != 1 && result.strides[d] != expected)
        result.contiguous = false;
      expected *= result.shape[d];
    }
    // A buffer that an offer gave is the offerer's, never freed here.
    result.owned = ownsResults;
    for (const AttnResultSlot &slot : slots)
      if (slot.taken && slot.data == result.allocated)
        result.owned = false;
    results.push_back(std::move(result));
  }
  if (std::string gpuError = takeGpuError(); !gpuError.empty()) {
    error = gpuError;
    // The host code still returned its results: free the ones we own.
    std::set<void *> freed;
    for (const ReturnedResult &result : results)
      if (result.owned && freed.insert(result.allocated).second)
        std::free(result.allocated);
    return false;
  }
  return true;
}

/// Copies `result` into `out`'s dense memory of the same shape.
static void copyResult(const ReturnedResult &result, uint8_t *out) {
  size_t elementSize = runtime::dtypeSize(result.dtype);
  int64_t count = 1;
  for (int64_t size : result.shape)
    count *= size;
  if (result.contiguous) {
    std::memmove(out, result.data, count * elementSize);
    return;
  }
  int rank = static_cast<int>(result.shape.size());
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t rest = linear, offsetElems = 0;
    for (int d = rank - 1; d >= 0; --d) {
      offsetElems += (rest % result.shape[d]) * result.strides[d];
      rest /= result.shape[d];
    }
    std::memcpy(out + linear * elementSize,
                result.data + offsetElems * elementSize, elementSize);
  }
}

/// Bytes of a dense array of `result`'s shape.
static int64_t denseBytes(const ReturnedResult &result) {
  int64_t count = 1;
  for (int64_t size : result.shape)
    count *= size;
  return count * static_cast<int64_t>(runtime::dtypeSize(result.dtype));
}

bool CompiledModuleImpl::run(const std::string &name,
                             const std::vector<HostArray> &inputs,
                             std::vector<HostArray> &outputs,
                             std::string &error) {
  // Buffers that earlier results of this entry released are offered again.
  std::vector<int64_t> sizes;
  {
    std::lock_guard<std::mutex> lock(resultMutex);
    sizes = lastResultBytes[name];
  }
  std::vector<AttnResultSlot> slots(sizes.size(),
                                    AttnResultSlot{nullptr, 0, 0});
  for (size_t r = 0; r < sizes.size(); ++r)
    if (void *buffer = resultPool->take(sizes[r]))
      slots[r] = {buffer, sizes[r], 0};
  std::vector<ReturnedResult> results;
  bool ok = call(name, inputs, slots, results, error);
  // Offered buffers that no result took go back.
  for (const AttnResultSlot &slot : slots)
    if (slot.data && !slot.taken)
      resultPool->give(slot.data, slot.bytes);
  if (!ok) {
    for (const AttnResultSlot &slot : slots)
      if (slot.data && slot.taken)
        resultPool->give(slot.data, slot.bytes);
    return false;
  }

  outputs.clear();
  sizes.assign(results.size(), -1);
  std::set<void *> adopted;
  for (size_t r = 0; r < results.size(); ++r) {
    const ReturnedResult &result = results[r];
    HostArray out;
    out.dtype = result.dtype;
    out.shape = result.shape;
    bool fromSlot =
        r < slots.size() && slots[r].taken && slots[r].data == result.allocated;
    bool mine = (result.owned || fromSlot) && result.offset == 0;
    if (result.contiguous && mine && !adopted.count(result.allocated)) {
      // The buffer returns to the pool when the last array over it goes.
      adopted.insert(result.allocated);
      int64_t bytes = fromSlot ? slots[r].bytes : denseBytes(result);
      out.storage = resultPool->adopt(result.allocated, bytes);
      out.data = result.data;
      sizes[r] = bytes;
    } else {
      if (!out.allocate(out.dtype, out.shape)) {
        error = "out of memory copying result " + std::to_string(r);
        return false;
      }
      copyResult(result, out.data);
    }
    outputs.push_back(std::move(out));
  }
  // Owned buffers that no array took (a view, a result returned twice).
  for (size_t r = 0; r < results.size(); ++r) {
    const ReturnedResult &result = results[r];
    bool fromSlot =
        r < slots.size() && slots[r].taken && slots[r].data == result.allocated;
    if ((result.owned || fromSlot) && adopted.insert(result.allocated).second)
      std::free(result.allocated);
  }
  std::lock_guard<std::mutex> lock(resultMutex);
  lastResultBytes[name] = sizes;
  return true;
}

bool CompiledModuleImpl::runInto(const std::string &name,
                                 const std::vector<HostArray> &inputs,
                                 const std::vector<HostArray> &outputs,
                                 std::string &error) {
  const EntrySignature *sig = signature(name);
  if (!sig) {
    error = "no entry '" + name + "'";
    return false;
  }
  if (sig->known) {
    if (outputs.size() != sig->results.size()) {
      error =
          "@" + name + " returns " + std::to_string(sig->results.size()) +
          (sig->results.size() == 1 ? " result" : " results") + " but " +
          std::to_string(outputs.size()) +
          (outputs.size() == 1 ? " output array was" : " output arrays were") +
          " given";
      return false;
    }
    for (size_t r = 0; r < outputs.size(); ++r) {
      const TensorSpec &spec = sig->results[r];
      const HostArray &out = outputs[r];
      bool shapeFits = out.shape.size() == spec.shape.size();
      for (size_t d = 0; shapeFits && d < spec.shape.size(); ++d)
        shapeFits = spec.shape[d] < 0 || spec.shape[d] == out.shape[d];
      if (out.dtype != spec.dtype || !shapeFits) {
        error = "output " + std::to_string(r) + " is " +
                runtime::dtypeName(out.dtype) + " " + out.shapeString() +
                " but @" + name + " returns " + spec.typeString;
        return false;
      }
    }
  }
  for (size_t r = 0; r < outputs.size(); ++r)
    if (!outputs[r].data && outputs[r].numElements() > 0) {
      error = "output " + std::to_string(r) + " has no memory";
      return false;
    }
  std::vector<AttnResultSlot> slots;
  for (const HostArray &out : outputs)
    slots.push_back({out.data, static_cast<int64_t>(out.numBytes()), 0});
  std::vector<ReturnedResult> results;
  if (!call(name, inputs, slots, results, error))
    return false;
  auto release = [&] {
    std::set<void *> freed;
    for (const ReturnedResult &result : results)
      if (result.owned && freed.insert(result.allocated).second)
        std::free(result.allocated);
  };
  if (results.size() != outputs.size()) {
    release();
    error = "@" + name + " returned " + std::to_string(results.size()) +
            " results but " + std::to_string(outputs.size()) +
            " output arrays were given";
    return false;
  }
  for (size_t r = 0; r < results.size(); ++r) {
    const ReturnedResult &result = results[r];
    const HostArray &out = outputs[r];
    if (result.shape != out.shape || result.dtype != out.dtype) {
      HostArray got;
      got.dtype = result.dtype;
      got.shape = result.shape;
      release();
      error = "result " + std::to_string(r) + " of @" + name + " is " +
              runtime::dtypeName(got.dtype) + " " + got.shapeString() +
              " but output " + std::to_string(r) + " is " +
              runtime::dtypeName(out.dtype) + " " + out.shapeString();
      return false;
    }
    // Computed in place: nothing to copy.
    if (result.data != out.data)
      copyResult(result, out.data);
  }
  release();
  return true;
}

double CompiledModuleImpl::usefulFlops(
    const std::string &name, const std::vector<HostArray> &inputs) const {
  auto it = flopTerms.find(name);
  if (it == flopTerms.end() || it->second.empty())
    return -1;
  double total = 0;
  for (const FlopTerm &term : it->second) {
    int64_t batch = term.batch.resolve(inputs);
    std::vector<int64_t> qShape, kShape;
    for (const DimSource &d : term.queryShape)
      qShape.push_back(d.resolve(inputs));
    for (const DimSource &d : term.keyShape)
      kShape.push_back(d.resolve(inputs));
    if (batch < 0 || llvm::is_contained(qShape, -1) ||
        llvm::is_contained(kShape, -1))
      return -1;
    if (term.pageSize > 0) {
      // Paged: the pages per request times the page size bound each
      // request's key_lengths value, which must be given.
      const HostArray *lengths =
          term.keyLengthsArg >= 0 &&
                  term.keyLengthsArg < static_cast<int>(inputs.size())
              ? &inputs[term.keyLengthsArg]
              : nullptr;
      if (!lengths || lengths->dtype != DType::I32 ||
          lengths->numElements() != batch)
        return -1;
      int64_t capacity = kShape[0] * term.pageSize;
      const int32_t *values = reinterpret_cast<const int32_t *>(lengths->data);
      for (int64_t b = 0; b < batch; ++b)
        total += term.work.flops(1, qShape,
                                 {std::clamp<int64_t>(values[b], 0, capacity)});
      continue;
    }
    // With the mask an argument, its values decide which pairs count.
    const HostArray *mask =
        term.maskArg >= 0 && term.maskArg < static_cast<int>(inputs.size())
            ? &inputs[term.maskArg]
            : nullptr;
    total += term.work.flops(batch, qShape, kShape,
                             mask ? mask->data : nullptr,
                             mask ? ArrayRef<int64_t>(mask->shape)
                                  : ArrayRef<int64_t>());
  }
  return total;
}

} // namespace detail

using namespace detail;

std::unique_ptr<CompiledModule>
CompiledModule::compile(const std::string &source,
                        const std::string &bufferName,
                        const CompileOptions &options,
                        const RegistryInit &init, std::string &error) {
  auto module = std::make_unique<CompiledModuleImpl>();
  if (!module->build(source, bufferName, options, init, error))
    return nullptr;
  return module;
}

bool setGpuKernelTiming(const std::string &target, bool enable,
                        std::string &error) {
  if (!checkTarget(target, error))
    return false;
  if (!isGpuTarget(target)) {
    error = "target '" + target + "' runs no GPU kernels to time";
    return false;
  }
  lookupGpuLayer(target)->setKernelTiming(enable);
  error = takeGpuError();
  return error.empty();
}

double gpuKernelMilliseconds(const std::string &target) {
  const GpuLayer *layer = lookupGpuLayer(target);
  return layer ? layer->kernelMilliseconds() : -1;
}

} // namespace attn::api
