//===- AotLibrary.cpp - Load and call attn AOT libraries ------------------===//

#include "attn/Runtime/AotLibrary.h"
#include "attn/Runtime/AttnAOT.h"
#include "attn/Runtime/Version.h"

#include <dlfcn.h>

#include <cstring>
#include <sstream>

namespace attn::runtime {

static_assert(static_cast<int>(DType::F32) == ATTN_AOT_F32 &&
                  static_cast<int>(DType::BF16AsU16) == ATTN_AOT_BF16 &&
                  static_cast<int>(DType::I1) == ATTN_AOT_BOOL &&
                  static_cast<int>(DType::I64) == ATTN_AOT_I64,
              "DType and attn_aot_dtype must agree");

const char *attnVersion() { return ATTN_VERSION_STRING; }

AotLibrary::~AotLibrary() {
  if (handle)
    dlclose(handle);
}

std::unique_ptr<AotLibrary> AotLibrary::open(const std::string &path,
                                             std::string &error) {
  // A bare file name means the file here, not a search of library paths.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    error = "cannot load '" + path + "': " + (why ? why : "unknown error");
    return nullptr;
  }
  auto symbol = [&](const char *name) { return dlsym(handle, name); };
  auto abi = reinterpret_cast<int (*)()>(symbol("attn_aot_abi_version"));
  auto version =
      reinterpret_cast<const char *(*)()>(symbol("attn_aot_attn_version"));
  auto describe =
      reinterpret_cast<const char *(*)()>(symbol("attn_aot_describe"));
  std::unique_ptr<AotLibrary> library(new AotLibrary());
  library->handle = handle;
  library->callFn =
      reinterpret_cast<decltype(library->callFn)>(symbol("attn_aot_call"));
  library->freeFn =
      reinterpret_cast<decltype(library->freeFn)>(symbol("attn_aot_free"));
  if (!abi || !version || !describe || !library->callFn ||
      !library->freeFn) {
    error = "'" + path + "' is not an attn AOT library (no attn_aot_* "
            "functions)";
    return nullptr;
  }
  if (abi() != ATTN_AOT_ABI_VERSION ||
      std::strcmp(version(), attnVersion()) != 0) {
    error = "'" + path + "' was built by " + version() + " (AOT ABI " +
            std::to_string(abi()) + "); this is " + attnVersion() +
            " (AOT ABI " + std::to_string(ATTN_AOT_ABI_VERSION) +
            "): rebuild it with this attn-aot";
    return nullptr;
  }
  library->description = describe();
  return library;
}

std::string AotLibrary::describe() const { return description; }

int AotLibrary::numResults(const std::string &entry) const {
  std::istringstream lines(description);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(entry + ":", 0) != 0)
      continue;
    size_t arrow = line.find("->");
    if (arrow == std::string::npos)
      return 0;
    std::istringstream results(line.substr(arrow + 2));
    int count = 0;
    std::string word;
    while (results >> word)
      ++count;
    return count;
  }
  return -1;
}

bool AotLibrary::hasEntry(const std::string &entry) const {
  return numResults(entry) >= 0;
}

bool AotLibrary::call(const std::string &entry,
                      const std::vector<HostArray> &inputs,
                      std::vector<HostArray> &outputs, int numOutputs,
                      std::string &error) const {
  std::vector<attn_aot_array> in(inputs.size()), out(numOutputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const HostArray &a = inputs[i];
    if (a.shape.size() > ATTN_AOT_MAX_RANK) {
      error = "input " + std::to_string(i) + " has rank " +
              std::to_string(a.shape.size()) + " (at most " +
              std::to_string(ATTN_AOT_MAX_RANK) + ")";
      return false;
    }
    in[i].data = a.data;
    in[i].base = nullptr;
    in[i].dtype = static_cast<int32_t>(a.dtype);
    in[i].rank = static_cast<int32_t>(a.shape.size());
    for (size_t d = 0; d < a.shape.size(); ++d)
      in[i].shape[d] = a.shape[d];
  }
  char message[1024] = {0};
  if (callFn(entry.c_str(), in.data(), static_cast<int>(in.size()),
             out.data(), numOutputs, message, sizeof(message)) != 0) {
    error = message[0] ? message : "the AOT entry failed";
    return false;
  }
  outputs.clear();
  for (attn_aot_array &o : out) {
    HostArray array;
    array.dtype = static_cast<DType>(o.dtype);
    array.shape.assign(o.shape, o.shape + o.rank);
    void (*release)(void *) = freeFn;
    void *base = o.base;
    array.storage = std::shared_ptr<uint8_t>(
        static_cast<uint8_t *>(base), [release](uint8_t *p) { release(p); });
    array.data = static_cast<uint8_t *>(o.data);
    outputs.push_back(std::move(array));
  }
  return true;
}

} // namespace attn::runtime
