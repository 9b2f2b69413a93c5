//===- AttnModule.cpp - The attn._attn extension module -------------------===//
//
// pybind11 bindings over the compiler facade (attn/CAPI/Compiler.h): compile
// MLIR text, run an entry on numpy arrays without copying them (C-contiguous
// arrays become HostArray views), return each result as a numpy array that
// owns the compiled code's buffer through a capsule, and report strategy
// selection as dicts; and load AOT libraries (attn-aot) with the same entry
// interface. The pure-Python package `attn` is built on this.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/Compiler.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Runtime/AotLibrary.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <stdexcept>
#include <tuple>

namespace py = pybind11;
using attn::api::CompiledModule;
using attn::api::CompileOptions;
using attn::runtime::DType;
using attn::runtime::HostArray;

namespace {

void initRegistry(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::attn::AttnDialect>();
}

/// Raised as attn.CompileError; the message is the diagnostic text.
struct CompileFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

/// A compiled module and the thread count its entries run with (0: the
/// process default).
struct Module {
  std::unique_ptr<CompiledModule> compiled;
  int threads = 0;
};

/// Threads for modules compiled with threads = 0 (set_num_threads; 0: all
/// cores). Read and written with the GIL held.
int defaultThreads = 0;

/// The numpy dtype of arrays of `dtype` (bfloat16 travels as uint16 bits,
/// float8_e4m3fn as uint8 bits).
const char *numpyName(DType dtype) {
  if (dtype == DType::F8E4M3FNAsU8)
    return "uint8";
  return dtype == DType::BF16AsU16 ? "uint16" : attn::runtime::dtypeName(dtype);
}

std::optional<DType> dtypeOf(const py::array &array) {
  py::dtype dtype = array.dtype();
  if (dtype.byteorder() == '>')
    return std::nullopt;
  switch (dtype.kind()) {
  case 'f':
    if (dtype.itemsize() == 4) return DType::F32;
    if (dtype.itemsize() == 2) return DType::F16;
    if (dtype.itemsize() == 8) return DType::F64;
    break;
  case 'u':
    if (dtype.itemsize() == 2) return DType::BF16AsU16;
    if (dtype.itemsize() == 1) return DType::F8E4M3FNAsU8;
    break;
  case 'b':
    return DType::I1;
  case 'i':
    if (dtype.itemsize() == 1) return DType::I8;
    if (dtype.itemsize() == 4) return DType::I32;
    if (dtype.itemsize() == 8) return DType::I64;
    break;
  }
  return std::nullopt;
}

/// Views over the arrays' memory; the arrays must stay alive while used.
/// `what` names them in errors ("input", "output"); outputs must be
/// writable.
std::vector<HostArray> viewsOf(const std::vector<py::array> &arrays,
                               const char *what = "input") {
  std::vector<HostArray> views;
  bool output = std::string(what) == "output";
  for (size_t i = 0; i < arrays.size(); ++i) {
    const py::array &array = arrays[i];
    std::optional<DType> dtype = dtypeOf(array);
    std::string which = what + (" " + std::to_string(i));
    if (output && !array.writeable())
      throw py::value_error(which + " is read-only");
    if (!dtype)
      throw py::value_error(which + " has dtype " +
                            py::str(array.dtype()).cast<std::string>() +
                            ", which attn cannot pass");
    if (!(array.flags() & py::array::c_style) ||
        reinterpret_cast<uintptr_t>(array.data()) % array.itemsize() != 0)
      throw py::value_error(which + " is not a C-contiguous, aligned array");
    std::vector<int64_t> shape(array.shape(), array.shape() + array.ndim());
    views.push_back(
        HostArray::view(*dtype, std::move(shape), const_cast<void *>(array.data())));
  }
  return views;
}

/// A numpy array over `out`'s memory that keeps it alive (no copy).
py::array toNumpy(const HostArray &out) {
  py::dtype dtype(numpyName(out.dtype));
  std::vector<py::ssize_t> shape(out.shape.begin(), out.shape.end());
  if (!out.storage) // Not owned: numpy copies it.
    return py::array(dtype, shape, out.data);
  auto *keep = new std::shared_ptr<uint8_t>(out.storage);
  py::capsule owner(keep, [](void *p) {
    delete static_cast<std::shared_ptr<uint8_t> *>(p);
  });
  return py::array(dtype, shape, out.data, owner);
}

py::dict specDict(const attn::api::TensorSpec &spec) {
  py::dict d;
  bool usable = spec.typeString.find('(') == std::string::npos;
  d["dtype"] = usable ? py::object(py::str(numpyName(spec.dtype))) : py::none();
  d["shape"] = spec.shape; // -1: dynamic
  d["type"] = spec.typeString;
  return d;
}

/// An AOT library (attn-aot); its entries run with the process default
/// thread count (set_num_threads).
struct AotModule {
  std::unique_ptr<attn::runtime::AotLibrary> library;
};

py::dict aotSpecDict(const attn::runtime::AotArraySpec &spec) {
  py::dict d;
  d["dtype"] = py::str(numpyName(spec.dtype));
  d["shape"] = spec.shape; // -1: dynamic
  d["type"] = spec.text();
  return d;
}

/// The entries' results as numpy arrays that own the buffers.
py::list toNumpyList(const std::vector<HostArray> &outputs) {
  py::list results;
  for (const HostArray &out : outputs)
    results.append(toNumpy(out));
  return results;
}

CompileOptions makeOptions(const std::string &target,
                           const std::string &strategy,
                           const std::string &overrideStrategy, int threads,
                           int vectorWidth, int optLevel,
                           const std::string &gpuChip = "sm_90",
                           bool tensorCores = false) {
  CompileOptions options;
  options.target = target;
  options.gpuChip = gpuChip;
  options.tensorCores = tensorCores;
  options.strategy = strategy;
  options.overrideStrategy = overrideStrategy;
  options.threads = threads;
  options.vectorWidth = vectorWidth;
  options.optLevel = optLevel;
  return options;
}

} // namespace

PYBIND11_MODULE(_attn, m) {
  m.doc() = "attn compiler facade (use the `attn` package instead)";
  py::register_exception<CompileFailure>(m, "CompileError", PyExc_Exception);

  py::class_<Module>(m, "CompiledModule")
      .def("entries",
           [](const Module &self) { return self.compiled->entryNames(); })
      .def("signature",
           [](const Module &self, const std::string &name) -> py::object {
             const attn::api::EntrySignature *sig =
                 self.compiled->signature(name);
             if (!sig)
               return py::none();
             py::dict d;
             d["name"] = sig->name;
             py::list inputs, results;
             for (const auto &spec : sig->inputs)
               inputs.append(specDict(spec));
             for (const auto &spec : sig->results)
               results.append(specDict(spec));
             d["inputs"] = inputs;
             d["results"] = results;
             d["known"] = sig->known;
             return d;
           })
      .def("run",
           [](Module &self, const std::string &name,
              const std::vector<py::array> &arrays) {
             std::vector<HostArray> inputs = viewsOf(arrays);
             std::string error;
             if (!self.compiled->checkInputs(name, inputs, error))
               throw py::value_error(error);
             std::vector<HostArray> outputs;
             bool ok;
             {
               py::gil_scoped_release release;
               attn::api::setNumThreads(self.threads > 0 ? self.threads
                                                         : defaultThreads);
               ok = self.compiled->run(name, inputs, outputs, error);
             }
             if (!ok)
               throw std::runtime_error(error);
             return toNumpyList(outputs);
           },
           py::arg("name"), py::arg("inputs"))
      .def("run_into",
           [](Module &self, const std::string &name,
              const std::vector<py::array> &arrays,
              const std::vector<py::array> &outArrays) {
             std::vector<HostArray> inputs = viewsOf(arrays);
             std::vector<HostArray> outputs = viewsOf(outArrays, "output");
             std::string error;
             if (!self.compiled->checkInputs(name, inputs, error))
               throw py::value_error(error);
             bool ok;
             {
               py::gil_scoped_release release;
               attn::api::setNumThreads(self.threads > 0 ? self.threads
                                                         : defaultThreads);
               ok = self.compiled->runInto(name, inputs, outputs, error);
             }
             if (!ok)
               throw std::runtime_error(error);
           },
           py::arg("name"), py::arg("inputs"), py::arg("outputs"))
      .def("useful_flops",
           [](const Module &self, const std::string &name,
              const std::vector<py::array> &arrays) {
             return self.compiled->usefulFlops(name, viewsOf(arrays));
           })
      .def("lowered_ir",
           [](const Module &self) { return self.compiled->loweredIR(); })
      .def("has_attn_ops",
           [](const Module &self) { return self.compiled->hasAttnOps(); })
      .def_readonly("threads", &Module::threads);

  py::class_<AotModule>(m, "AotModule")
      .def("entries",
           [](const AotModule &self) {
             std::vector<std::string> names;
             for (const auto &entry : self.library->entries())
               names.push_back(entry.name);
             return names;
           })
      .def("signature",
           [](const AotModule &self, const std::string &name) -> py::object {
             const attn::runtime::AotEntry *entry = self.library->entry(name);
             if (!entry)
               return py::none();
             py::dict d;
             d["name"] = entry->name;
             py::list inputs, results;
             for (const auto &spec : entry->inputs)
               inputs.append(aotSpecDict(spec));
             for (const auto &spec : entry->results)
               results.append(aotSpecDict(spec));
             d["inputs"] = inputs;
             d["results"] = results;
             d["known"] = true;
             return d;
           })
      .def("run",
           [](AotModule &self, const std::string &name,
              const std::vector<py::array> &arrays) {
             std::vector<HostArray> inputs = viewsOf(arrays);
             std::vector<HostArray> outputs;
             std::string error;
             bool ok;
             {
               py::gil_scoped_release release;
               attn::api::setNumThreads(defaultThreads);
               ok = self.library->call(name, inputs, outputs, error);
             }
             if (!ok)
               throw py::value_error(error);
             return toNumpyList(outputs);
           },
           py::arg("name"), py::arg("inputs"))
      .def("run_into",
           [](AotModule &self, const std::string &name,
              const std::vector<py::array> &arrays,
              const std::vector<py::array> &outArrays) {
             std::vector<HostArray> inputs = viewsOf(arrays);
             std::vector<HostArray> outputs = viewsOf(outArrays, "output");
             std::string error;
             bool ok;
             {
               py::gil_scoped_release release;
               attn::api::setNumThreads(defaultThreads);
               ok = self.library->callInto(name, inputs, outputs, error);
             }
             if (!ok)
               throw py::value_error(error);
           },
           py::arg("name"), py::arg("inputs"), py::arg("outputs"))
      .def("describe",
           [](const AotModule &self) { return self.library->describe(); })
      .def_property_readonly(
          "target", [](const AotModule &self) { return self.library->target(); })
      .def_property_readonly("threads", [](const AotModule &) { return 0; });

  m.def(
      "load_library",
      [](const std::string &path) {
        auto module = std::make_unique<AotModule>();
        std::string error;
        module->library = attn::runtime::AotLibrary::open(path, error);
        if (!module->library)
          throw py::value_error(error);
        return module;
      },
      py::arg("path"));

  m.def("known_targets", [] {
    std::vector<std::string> names;
    for (const attn::api::TargetInfo &info : attn::api::knownTargets())
      names.push_back(info.name);
    return names;
  });

  // The registered score functions (ScoreFunction.h): name, whether it is
  // written kernel<name>, whether it is a feature product (no q.k formed).
  m.def("score_functions", [] {
    std::vector<std::tuple<std::string, bool, bool>> functions;
    for (const mlir::attn::ScoreFunction *function :
         mlir::attn::getScoreFunctions())
      functions.emplace_back(function->getName().str(),
                             function->getFamily() ==
                                 mlir::attn::ScoreFunction::Family::Kernel,
                             function->isFeatureProduct());
    return functions;
  });

  m.def("supported_gpu_chips", [] {
    std::vector<std::string> chips;
    for (llvm::StringRef chip : mlir::attn::supportedGpuChips())
      chips.push_back(chip.str());
    return chips;
  });

  m.def(
      "compile",
      [](const std::string &source, const std::string &bufferName,
         const std::string &target, const std::string &strategy,
         const std::string &overrideStrategy, int threads, int vectorWidth,
         int optLevel, const std::string &gpuChip, bool tensorCores) {
        std::string error;
        auto compiled = CompiledModule::compile(
            source, bufferName,
            makeOptions(target, strategy, overrideStrategy, threads,
                        vectorWidth, optLevel, gpuChip, tensorCores),
            initRegistry, error);
        if (!compiled)
          throw CompileFailure(trimmed(error));
        auto module = std::make_unique<Module>();
        module->compiled = std::move(compiled);
        module->threads = threads;
        return module;
      },
      py::arg("source"), py::arg("buffer_name"), py::arg("target") = "cpu",
      py::arg("strategy") = "", py::arg("override_strategy") = "",
      py::arg("threads") = 0, py::arg("vector_width") = 0,
      py::arg("opt_level") = 3, py::arg("gpu_chip") = "sm_90",
      py::arg("tensor_cores") = false);

  m.def(
      "explain",
      [](const std::string &source, const std::string &bufferName,
         const std::string &target, const std::string &strategy, int threads,
         int vectorWidth) {
        std::vector<attn::api::OpExplanation> ops;
        std::string error;
        if (!attn::api::explain(
                source, bufferName,
                makeOptions(target, strategy, "", threads, vectorWidth, 3),
                initRegistry, ops, error))
          throw CompileFailure(trimmed(error));
        py::list result;
        for (const auto &op : ops) {
          py::list candidates;
          for (const auto &c : op.candidates) {
            py::dict d;
            d["strategy"] = c.strategy;
            d["applicable"] = c.applicable;
            d["reason"] = c.reason;
            d["seconds"] = c.seconds;
            d["flops"] = c.flops;
            d["bytes"] = c.bytes;
            d["parallelism"] = c.parallelism;
            d["extra_bytes"] = c.extraBytes;
            d["efficiency"] = c.efficiency;
            d["parameters"] = c.parameters;
            d["chosen"] = c.chosen;
            candidates.append(d);
          }
          py::dict d;
          d["op"] = op.op;
          d["location"] = op.location;
          d["written"] = op.written;
          d["candidates"] = candidates;
          result.append(d);
        }
        return result;
      },
      py::arg("source"), py::arg("buffer_name"), py::arg("target") = "cpu",
      py::arg("strategy") = "", py::arg("threads") = 0,
      py::arg("vector_width") = 0);

  m.def(
      "set_num_threads",
      [](int threads) {
        if (threads < 0)
          throw py::value_error("'threads' must be >= 0");
        defaultThreads = threads;
      },
      py::arg("threads"));
  m.def("load_strategy_library", [](const std::string &path) {
    std::string error;
    if (!attn::api::loadStrategyLibrary(path, error))
      throw py::value_error(error);
  });
}
