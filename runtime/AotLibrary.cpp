//===- AotLibrary.cpp - Load and call attn AOT libraries ------------------===//

#include "attn/Runtime/AotLibrary.h"
#include "attn/Runtime/AttnAOT.h"
#include "attn/Runtime/Version.h"

#include <dlfcn.h>
#include <elf.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace attn::runtime {

static_assert(static_cast<int>(DType::F32) == ATTN_AOT_F32 &&
                  static_cast<int>(DType::BF16AsU16) == ATTN_AOT_BF16 &&
                  static_cast<int>(DType::I1) == ATTN_AOT_BOOL &&
                  static_cast<int>(DType::I64) == ATTN_AOT_I64 &&
                  static_cast<int>(DType::F8E4M3FNAsU8) == ATTN_AOT_F8E4M3FN,
              "DType and attn_aot_dtype must agree");

const char *attnVersion() { return ATTN_VERSION_STRING; }

std::string AotArraySpec::text() const {
  std::string out = std::string(dtypeTypeName(dtype)) + "[";
  for (size_t d = 0; d < shape.size(); ++d)
    out += (d ? "x" : "") +
           (shape[d] < 0 ? std::string("?") : std::to_string(shape[d]));
  return out + "]";
}

std::string AotEntry::text() const {
  auto list = [](const std::vector<AotArraySpec> &arrays) {
    std::string out;
    for (const AotArraySpec &a : arrays)
      out += (out.empty() ? "" : ", ") + a.text();
    return out;
  };
  return name + "(" + list(inputs) + ") -> " +
         (results.size() == 1 ? list(results) : "(" + list(results) + ")");
}

namespace {

bool parseArray(const std::string &field, AotArraySpec &array) {
  size_t open = field.find('[');
  if (open == std::string::npos || field.back() != ']' ||
      !parseDTypeTypeName(field.substr(0, open), array.dtype))
    return false;
  std::string sizes = field.substr(open + 1, field.size() - open - 2);
  array.shape.clear();
  if (sizes.empty())
    return true;
  std::istringstream parts(sizes);
  std::string part;
  while (std::getline(parts, part, 'x')) {
    if (part == "?") {
      array.shape.push_back(-1);
      continue;
    }
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return false;
    array.shape.push_back(std::stoll(part));
  }
  return sizes.back() != 'x';
}

bool parseCount(const std::string &field, size_t &count) {
  if (field.empty() || field.size() > 6 ||
      field.find_first_not_of("0123456789") != std::string::npos)
    return false;
  count = std::stoul(field);
  return true;
}

} // namespace

bool parseAotDescription(const std::string &text, std::string &target,
                         std::vector<AotEntry> &entries, std::string &error) {
  std::istringstream lines(text);
  std::string line;
  target.clear();
  entries.clear();
  for (int number = 1; std::getline(lines, line); ++number) {
    std::vector<std::string> fields;
    std::istringstream words(line);
    for (std::string word; words >> word;)
      fields.push_back(word);
    auto bad = [&](const std::string &why) {
      error = "line " + std::to_string(number) + " of its description (" +
              line + "): " + why;
      return false;
    };
    if (fields.empty())
      continue;
    if (fields[0] == "target") {
      if (fields.size() != 2)
        return bad("expected 'target <name>'");
      target = fields[1];
    } else if (fields[0] == "entry") {
      AotEntry entry;
      size_t numInputs = 0, numResults = 0;
      if (fields.size() < 4 || !parseCount(fields[2], numInputs) ||
          !parseCount(fields[3], numResults) ||
          fields.size() != 4 + numInputs + numResults)
        return bad("expected 'entry <name> <inputs> <results> <array>...'");
      entry.name = fields[1];
      for (size_t i = 0; i < numInputs + numResults; ++i) {
        AotArraySpec array;
        if (!parseArray(fields[4 + i], array))
          return bad("'" + fields[4 + i] + "' is not <dtype>[<sizes>]");
        (i < numInputs ? entry.inputs : entry.results).push_back(array);
      }
      entries.push_back(std::move(entry));
    }
  }
  if (target.empty()) {
    error = "its description names no target";
    return false;
  }
  return true;
}

std::string checkSharedObjectFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    return "cannot read '" + path + "'";
  uint64_t size = static_cast<uint64_t>(file.tellg());
  auto read = [&](uint64_t offset, void *out, size_t bytes) {
    if (offset > size || bytes > size - offset)
      return false;
    file.seekg(static_cast<std::streamoff>(offset));
    return static_cast<bool>(file.read(static_cast<char *>(out), bytes));
  };
  Elf64_Ehdr header;
  if (!read(0, &header, sizeof header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    return "'" + path + "' is not a shared library (no ELF header)";
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN)
    return "'" + path + "' is not a 64-bit ELF shared library";
  auto truncated = [&](uint64_t reach) {
    return "'" + path + "' is truncated: it is " + std::to_string(size) +
           " bytes long but its contents reach byte " + std::to_string(reach);
  };
  auto tableEnd = [](uint64_t offset, uint64_t count, uint64_t entrySize) {
    return offset + count * entrySize;
  };
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      tableEnd(header.e_phoff, header.e_phnum, header.e_phentsize) > size)
    return truncated(tableEnd(header.e_phoff, header.e_phnum,
                              header.e_phentsize));
  if (header.e_shoff &&
      tableEnd(header.e_shoff, header.e_shnum, header.e_shentsize) > size)
    return truncated(tableEnd(header.e_shoff, header.e_shnum,
                              header.e_shentsize));
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    if (!read(header.e_phoff + uint64_t(i) * sizeof segment, &segment,
              sizeof segment))
      return truncated(size + 1);
    if (segment.p_offset > size || segment.p_filesz > size - segment.p_offset)
      return truncated(segment.p_offset + segment.p_filesz);
  }
  return "";
}

AotLibrary::~AotLibrary() {
  if (handle)
    dlclose(handle);
}

std::unique_ptr<AotLibrary> AotLibrary::open(const std::string &path,
                                             std::string &error) {
  // A bare file name means the file here, not a search of library paths.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  // The loader maps the file: a truncated one would fault (SIGBUS) there.
  if (std::string why = checkSharedObjectFile(file); !why.empty()) {
    error = why;
    return nullptr;
  }
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
  library->callIntoFn = reinterpret_cast<decltype(library->callIntoFn)>(
      symbol("attn_aot_call_into"));
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
  // Present since ABI 4: checked once the version is known to be this one.
  if (!library->callIntoFn) {
    error = "'" + path + "' is not an attn AOT library (no attn_aot_call_into)";
    return nullptr;
  }
  library->description = describe();
  std::string why;
  if (!parseAotDescription(library->description, library->targetName,
                           library->entryList, why)) {
    error = "'" + path + "' is not a valid attn AOT library: " + why;
    return nullptr;
  }
  return library;
}

const AotEntry *AotLibrary::entry(const std::string &name) const {
  for (const AotEntry &e : entryList)
    if (e.name == name)
      return &e;
  return nullptr;
}

/// `arrays` as attn_aot_arrays; false with `error` set (naming them `what`)
/// when one has too many dimensions.
static bool toAotArrays(const std::vector<HostArray> &arrays, const char *what,
                        std::vector<attn_aot_array> &out, std::string &error) {
  out.assign(arrays.size(), attn_aot_array{});
  for (size_t i = 0; i < arrays.size(); ++i) {
    const HostArray &a = arrays[i];
    if (a.shape.size() > ATTN_AOT_MAX_RANK) {
      error = std::string(what) + " " + std::to_string(i) + " has rank " +
              std::to_string(a.shape.size()) + " (at most " +
              std::to_string(ATTN_AOT_MAX_RANK) + ")";
      return false;
    }
    out[i].data = a.data;
    out[i].base = nullptr;
    out[i].dtype = static_cast<int32_t>(a.dtype);
    out[i].rank = static_cast<int32_t>(a.shape.size());
    for (size_t d = 0; d < a.shape.size(); ++d)
      out[i].shape[d] = a.shape[d];
  }
  return true;
}

bool AotLibrary::call(const std::string &entry,
                      const std::vector<HostArray> &inputs,
                      std::vector<HostArray> &outputs,
                      std::string &error) const {
  const AotEntry *signature = this->entry(entry);
  if (!signature) {
    error = "no entry @" + entry + " in this library";
    return false;
  }
  int numOutputs = static_cast<int>(signature->results.size());
  std::vector<attn_aot_array> in, out(numOutputs);
  if (!toAotArrays(inputs, "input", in, error))
    return false;
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

bool AotLibrary::callInto(const std::string &entry,
                          const std::vector<HostArray> &inputs,
                          const std::vector<HostArray> &outputs,
                          std::string &error) const {
  if (!this->entry(entry)) {
    error = "no entry @" + entry + " in this library";
    return false;
  }
  std::vector<attn_aot_array> in, out;
  if (!toAotArrays(inputs, "input", in, error) ||
      !toAotArrays(outputs, "output", out, error))
    return false;
  char message[1024] = {0};
  if (callIntoFn(entry.c_str(), in.data(), static_cast<int>(in.size()),
                 out.data(), static_cast<int>(out.size()), message,
                 sizeof(message)) != 0) {
    error = message[0] ? message : "the AOT entry failed";
    return false;
  }
  return true;
}

} // namespace attn::runtime
