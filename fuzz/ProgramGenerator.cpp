//===- ProgramGenerator.cpp - attn programs from fuzzer bytes -------------===//
//
// Each choice consumes a few fuzzer bytes, so that libFuzzer's mutations map
// onto nearby programs. Mask contents and input values come from a seeded
// generator (one seed from the bytes), not byte by byte.
//
//===----------------------------------------------------------------------===//

#include "ProgramGenerator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

using attn::runtime::DType;
using attn::runtime::HostArray;

namespace attn::fuzz {

const char *dataModeName(DataMode mode) {
  switch (mode) {
  case DataMode::Normal: return "normal";
  case DataMode::Large: return "large";
  case DataMode::Equal: return "equal";
  case DataMode::Dominant: return "dominant";
  case DataMode::NearF16: return "near-f16";
  case DataMode::WithNaN: return "nan";
  }
  return "?";
}

namespace {

/// Largest size the verifier accepts for lengths, heads, head dims, windows.
constexpr int64_t kMaxSize = 2147483647;

/// splitmix64: small, seedable, good enough for test data.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  int64_t below(int64_t n) { return n <= 1 ? 0 : int64_t(next() % uint64_t(n)); }
  double normal() {
    double u = uniform(), w = uniform();
    return std::sqrt(-2.0 * std::log(u + 1e-300)) * std::cos(6.283185307179586 * w);
  }
};

template <typename T> T pick(FuzzedDataProvider &data, std::initializer_list<T> list) {
  size_t index = data.ConsumeIntegralInRange<size_t>(0, list.size() - 1);
  return *(list.begin() + index);
}

bool chance(FuzzedDataProvider &data, int outOf) {
  return data.ConsumeIntegralInRange<int>(0, outOf - 1) == 0;
}

const char *typeName(DType dtype) {
  switch (dtype) {
  case DType::F16: return "f16";
  case DType::BF16AsU16: return "bf16";
  case DType::I1: return "i1";
  default: return "f32";
  }
}

/// `tensor<1x?x8xf32>`; `dynamic[d]` writes `?` for dimension d.
std::string tensorType(const std::vector<int64_t> &shape,
                       const std::vector<bool> &dynamic, const char *element) {
  std::string s = "tensor<";
  for (size_t d = 0; d < shape.size(); ++d)
    s += (dynamic[d] ? std::string("?") : std::to_string(shape[d])) + "x";
  return s + element + ">";
}

/// A parameter value for a strategy: usually sensible, sometimes not.
int64_t parameter(FuzzedDataProvider &data, std::initializer_list<int64_t> good) {
  if (chance(data, 12))
    return pick<int64_t>(data, {0, -1, -64, 1, 3, 1000, int64_t(1) << 40,
                                std::numeric_limits<int64_t>::max()});
  return pick<int64_t>(data, good);
}

/// `#attn.strategy<...>` or "" (left to selection); `ok` is false when the
/// strategy may refuse the op or its parameters.
std::string strategyAttr(FuzzedDataProvider &data, bool neighborhood, bool &ok) {
  ok = true;
  int which = data.ConsumeIntegralInRange<int>(0, 11);
  auto params = [&](std::initializer_list<const char *> keys,
                    std::initializer_list<std::initializer_list<int64_t>> values) {
    if (chance(data, 3))
      return std::string();
    std::string s = ", {";
    bool first = true;
    auto value = values.begin();
    for (const char *key : keys) {
      if (!chance(data, 4)) {
        s += std::string(first ? "" : ", ") + key + " = " +
             std::to_string(parameter(data, *value));
        first = false;
      }
      ++value;
    }
    return first ? std::string() : s + "}";
  };
  std::string name, body;
  switch (which) {
  case 0: case 1: case 2: case 3:
    return ""; // selection chooses
  case 4:
    name = "reference";
    break;
  case 5: case 6:
    name = "tiled";
    body = params({"block_q", "block_k", "micro_q"},
                  {{1, 5, 18, 30, 64, 128}, {8, 16, 32, 48, 64}, {1, 2, 3, 5, 6}});
    ok = false;
    break;
  case 7:
    name = "split_kv";
    body = params({"splits", "block_k", "micro_q", "block_q"},
                  {{1, 2, 3, 7}, {8, 16, 32, 64}, {1, 3, 6}, {1, 4, 16}});
    ok = false;
    break;
  case 8:
    name = "block_sparse";
    body = params({"block_q", "block_k", "micro_q"},
                  {{1, 12, 64, 128}, {16, 32, 64}, {1, 3, 6}});
    ok = false;
    break;
  case 9:
    name = "neighborhood";
    if (chance(data, 2)) {
      body = ", {tile = " + std::to_string(parameter(data, {1, 2, 3, 5, 8, 16})) + "}";
    } else if (chance(data, 2)) {
      body = ", {tile = [" + std::to_string(parameter(data, {1, 2, 4})) + ", " +
             std::to_string(parameter(data, {2, 3, 8})) + "]}";
    }
    ok = false;
    break;
  case 10:
    name = pick<const char *>(data, {"linear", "no_such_strategy", ""});
    ok = false;
    break;
  default:
    name = "tiled";
    ok = false;
    break;
  }
  (void)neighborhood;
  return "#attn.strategy<\"" + name + "\"" + body + ">";
}

/// Whether an op of extreme sizes must still compile with `strategy`: a
/// written kernel strategy may rightly refuse sizes beyond its kernel (D >
/// 1024, scratch beyond the stack); selection and `reference` may not.
bool extremeMustCompile(bool extreme, const std::string &strategy) {
  return !extreme || strategy.empty() ||
         strategy.find("\"reference\"") != std::string::npos;
}

/// A constant i1 mask as a dense literal, shape [Bm, Hm, Lq, Lk]. Styles:
/// 0, 1, 2: random with density 5%, 50%, 95%; 3: whole 16- or 64-key tiles
/// on or off. About one row in ten is fully masked.
std::string maskLiteral(const std::vector<int64_t> &shape, Rng &rng, int style) {
  int64_t lq = shape[2], lk = shape[3];
  double density = style == 0 ? 0.05 : style == 1 ? 0.5 : 0.95;
  std::string s = "dense<[";
  for (int64_t b = 0; b < shape[0]; ++b) {
    s += b ? ", [" : "[";
    for (int64_t h = 0; h < shape[1]; ++h) {
      s += h ? ", [" : "[";
      int64_t tile = rng.below(2) ? 16 : 64;
      std::vector<bool> tileOn((lk + tile - 1) / tile);
      for (size_t t = 0; t < tileOn.size(); ++t)
        tileOn[t] = rng.uniform() < 0.4;
      for (int64_t i = 0; i < lq; ++i) {
        s += i ? ", [" : "[";
        bool emptyRow = rng.uniform() < 0.1;
        for (int64_t j = 0; j < lk; ++j) {
          bool on = style == 3 ? tileOn[j / tile] : rng.uniform() < density;
          s += j ? ", " : "";
          s += (on && !emptyRow) ? "true" : "false";
        }
        s += "]";
      }
      s += "]";
    }
    s += "]";
  }
  return s + "]>";
}

struct OpShapes {
  std::vector<int64_t> q, k, v, out;
  std::vector<bool> qDyn, kDyn, vDyn, outDyn;
};

/// tensor.dim ops for the dynamic sizes of `out` (read from q's dims), and
/// the tensor.empty that makes the destination.
std::string emptyInit(const OpShapes &s, const std::string &outType,
                      const std::string &qType) {
  std::string text, operands;
  for (size_t d = 0; d < s.out.size(); ++d) {
    if (!s.outDyn[d])
      continue;
    text += "  %c" + std::to_string(d) + " = arith.constant " +
            std::to_string(d) + " : index\n";
    text += "  %d" + std::to_string(d) + " = tensor.dim %q, %c" +
            std::to_string(d) + " : " + qType + "\n";
    operands += (operands.empty() ? "%d" : ", %d") + std::to_string(d);
  }
  text += "  %init = tensor.empty(" + operands + ") : " + outType + "\n";
  return text;
}

/// Sizes near the limits the verifier accepts (2^31 - 1), or beyond what
/// the CPU kernels unroll (D > 1024), for programs that are never run.
int64_t extremeSize(FuzzedDataProvider &data) {
  return pick<int64_t>(data, {1, 1024, 1025, 65536, 46341, kMaxSize});
}

void generateAttention(FuzzedDataProvider &data, GeneratedProgram &p,
                       bool extremeSizes) {
  bool extreme = extremeSizes && chance(data, 4);
  int64_t batch = pick<int64_t>(data, {1, 1, 2, 3});
  int64_t hkv = data.ConsumeIntegralInRange<int64_t>(1, 3);
  int64_t group = pick<int64_t>(data, {1, 1, 2, 3, 4});
  auto length = [&](int64_t most) {
    if (chance(data, 3))
      return pick<int64_t>(data, {1, 2, 15, 16, 17, 63, 64, 65, 128, 129});
    return data.ConsumeIntegralInRange<int64_t>(1, most);
  };
  int64_t lq = length(70), lk = length(140);
  int64_t d = pick<int64_t>(data, {1, 3, 8, 16, 16, 32, 40, 64});
  int64_t dv = pick<int64_t>(data, {1, 5, 8, 16, 16, 24, 40});
  if (extreme) {
    batch = chance(data, 2) ? extremeSize(data) : batch;
    hkv = chance(data, 2) ? 1 : hkv;
    group = chance(data, 2) ? extremeSize(data) : group;
    lq = chance(data, 2) ? extremeSize(data) : lq;
    lk = chance(data, 2) ? extremeSize(data) : lk;
    d = chance(data, 2) ? extremeSize(data) : d;
    dv = chance(data, 2) ? extremeSize(data) : dv;
  }
  int64_t hq = hkv * group;
  DType dtype = pick<DType>(data, {DType::F32, DType::F32, DType::F32,
                                   DType::F16, DType::BF16AsU16});
  bool dynB = chance(data, 6), dynLq = chance(data, 5), dynLk = chance(data, 5);

  OpShapes s;
  s.q = {batch, hq, lq, d};
  s.k = {batch, hkv, lk, d};
  s.v = {batch, hkv, lk, dv};
  s.out = {batch, hq, lq, dv};
  s.qDyn = {dynB, false, dynLq, false};
  s.kDyn = {dynB, false, dynLk, false};
  s.vDyn = s.kDyn;
  s.outDyn = {dynB, false, dynLq, false};

  // Score kind.
  std::string score;
  int kind = data.ConsumeIntegralInRange<int>(0, 9);
  const char *feature = nullptr;
  bool normalize = true;
  if (kind <= 4) {
    score = "#attn.score<softmax>";
  } else if (kind == 5) {
    score = "#attn.score<softplus>";
  } else {
    feature = pick<const char *>(data, {"elu1", "relu", "taylor2", "identity"});
    normalize = !chance(data, 3);
    score = std::string("#attn.score<kernel<") + feature + ">" +
            (normalize ? "" : ", normalize = false") + ">";
  }
  bool featureProduct = feature && (std::string(feature) == "elu1" ||
                                    std::string(feature) == "relu");
  p.nonNegativeInputs = feature && std::string(feature) == "identity";
  p.boundedWeights = normalize;

  std::vector<std::string> attrs;
  bool positiveScale = true;
  if (!chance(data, 2)) {
    double scale = pick<double>(data, {0.3, 0.125, 1.0, 0.0, -0.5, 1e-3, 4.0});
    positiveScale = scale > 0;
    std::ostringstream os;
    os << "scale = " << std::scientific << scale << " : f32";
    attrs.push_back(os.str());
  }
  if (chance(data, 3))
    attrs.push_back("causal");
  bool window = chance(data, 3), sinks = false;
  if (window) {
    std::string w;
    bool left = !chance(data, 3), right = !left || chance(data, 2);
    if (left)
      w += "left = " + std::to_string(data.ConsumeIntegralInRange<int64_t>(
                           0, std::min(lk + 2, kMaxSize)));
    if (right)
      w += std::string(left ? ", " : "") + "right = " +
           std::to_string(data.ConsumeIntegralInRange<int64_t>(
               0, std::min(lk + 2, kMaxSize)));
    attrs.push_back("window = #attn.window<" + w + ">");
    if ((sinks = chance(data, 2)))
      attrs.push_back("sinks = " +
                      std::to_string(data.ConsumeIntegralInRange<int64_t>(
                          0, std::min(lk + 1, kMaxSize))) +
                      " : i64");
  }
  if (!featureProduct && chance(data, 5))
    attrs.push_back("softcap = " +
                    std::string(pick<const char *>(data, {"5.000000e-01", "5.000000e+00",
                                                          "3.000000e+01"})) +
                    " : f32");
  if (kind != 0 || chance(data, 2))
    attrs.push_back("score = " + score);

  // Mask and bias.
  bool useMask = chance(data, 3);
  bool constMask = useMask && !extreme && !dynLq && !dynLk && !dynB &&
                   chance(data, 3);
  int64_t mb = pick<int64_t>(data, {1, batch}), mh = pick<int64_t>(data, {1, hq});
  std::vector<int64_t> maskShape = {mb, mh, lq, lk};
  std::vector<bool> maskDyn = {dynB && mb != 1, false, dynLq, dynLk};
  bool useBias = !featureProduct && chance(data, 5);
  int64_t bb = pick<int64_t>(data, {1, batch}), bh = pick<int64_t>(data, {1, hq});
  DType biasType = pick<DType>(data, {DType::F32, DType::F32, DType::F16,
                                      DType::BF16AsU16});
  std::vector<int64_t> biasShape = {bb, bh, lq, lk};
  std::vector<bool> biasDyn = {dynB && bb != 1, false, dynLq, dynLk};
  if (useBias && p.nonNegativeInputs && !positiveScale) {
    // Keep identity scores of one sign (no cancellation in the normalizer).
    attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                               [](const std::string &a) {
                                 return a.rfind("scale", 0) == 0;
                               }),
                attrs.end());
  }

  bool strategyOk;
  std::string strategy = strategyAttr(data, false, strategyOk);
  if (!strategy.empty())
    attrs.push_back("strategy = " + strategy);

  // Deliberate mistakes, which the verifier must reject with a message.
  int mistake = chance(data, 16) ? data.ConsumeIntegralInRange<int>(1, 8) : 0;
  std::string elem = typeName(dtype);
  std::string kElem = elem, maskElem = "i1";
  switch (mistake) {
  case 1: s.k[3] = d + 1; break;                       // head dims differ
  case 2: s.out[3] = dv + 1; break;                    // init shape wrong
  case 3: if (hkv > 1 || group > 1) s.q[1] = hq + 1; else s.k[1] = 2; break; // GQA rule
  case 4: // sinks without a window, or twice
    attrs.push_back("sinks = 2 : i64");
    if (window && !sinks)
      attrs.push_back("sinks = 3 : i64");
    break;
  case 5: kElem = elem == "f32" ? "f16" : "f32"; break; // element types differ
  case 6: maskElem = "f32"; useMask = true; constMask = false; break; // mask not i1
  case 7: attrs.push_back("softcap = 0.000000e+00 : f32"); break;
  case 8: s.v[2] = lk + 1; s.vDyn[2] = s.kDyn[2] = false; break; // value length (K's static too: a dynamic one is checked at run time)
  default: break;
  }
  // Extreme sizes stay within the verifier's limits except for query heads
  // (Hkv x group may pass 2^31 - 1), and value dims changed by mistakes.
  p.valid = mistake == 0 && hq <= kMaxSize;
  p.mustCompile =
      p.valid && strategyOk && extremeMustCompile(extreme, strategy);

  std::string qT = tensorType(s.q, s.qDyn, elem.c_str());
  std::string kT = tensorType(s.k, s.kDyn, kElem.c_str());
  std::string vT = tensorType(s.v, s.vDyn, elem.c_str());
  std::string oT = tensorType(s.out, s.outDyn, elem.c_str());
  std::string mT = tensorType(maskShape, maskDyn, maskElem.c_str());
  std::string bT = tensorType(biasShape, biasDyn, typeName(biasType));

  std::string args = "%q: " + qT + ", %k: " + kT + ", %v: " + vT;
  p.args.push_back({GeneratedArg::Query, dtype, s.q});
  p.args.push_back({GeneratedArg::Key, kElem == elem ? dtype : DType::F32, s.k});
  p.args.push_back({GeneratedArg::Value, dtype, s.v});
  if (useMask && !constMask) {
    args += ", %m: " + mT;
    p.args.push_back({GeneratedArg::Mask, maskElem == "i1" ? DType::I1 : DType::F32,
                      maskShape});
  }
  if (useBias) {
    args += ", %b: " + bT;
    p.args.push_back({GeneratedArg::Bias, biasType, biasShape});
  }

  std::string text = "func.func @main(" + args + ") -> " + oT + " {\n";
  if (constMask) {
    Rng rng{data.ConsumeIntegral<uint64_t>()};
    int style = data.ConsumeIntegralInRange<int>(0, 3);
    if (mb * mh * lq * lk > 16384) {
      text += "  %m = arith.constant dense<" +
              std::string(style == 0 ? "false" : "true") + "> : " + mT + "\n";
    } else {
      text += "  %m = arith.constant " + maskLiteral(maskShape, rng, style) +
              " : " + mT + "\n";
    }
    p.constantMaskElements = mb * mh * lq * lk;
  }
  text += emptyInit(s, oT, qT);
  text += "  %o = attn.attention ins(%q, %k, %v : " + qT + ", " + kT + ", " + vT + ")";
  if (useMask)
    text += " mask(%m : " + mT + ")";
  if (useBias)
    text += " bias(%b : " + bT + ")";
  text += " outs(%init : " + oT + ")";
  if (!attrs.empty()) {
    text += " {";
    for (size_t i = 0; i < attrs.size(); ++i)
      text += (i ? ", " : "") + attrs[i];
    text += "}";
  }
  text += " -> " + oT + "\n  return %o : " + oT + "\n}\n";
  p.text = text;
  p.work = double(batch) * hq * lq * lk * (d + dv);
}

void generateNeighborhood(FuzzedDataProvider &data, GeneratedProgram &p,
                          bool extremeSizes) {
  bool extreme = extremeSizes && chance(data, 4);
  int rank = data.ConsumeIntegralInRange<int>(1, 3);
  int64_t most = rank == 1 ? 40 : rank == 2 ? 10 : 6;
  std::vector<int64_t> extent, kernel, dilation, stride;
  std::vector<bool> causal;
  for (int a = 0; a < rank; ++a) {
    int64_t n = data.ConsumeIntegralInRange<int64_t>(1, most);
    int64_t k = data.ConsumeIntegralInRange<int64_t>(1, n);
    int64_t dil = data.ConsumeIntegralInRange<int64_t>(1, std::max<int64_t>(1, n / k));
    int64_t st = data.ConsumeIntegralInRange<int64_t>(1, k);
    if (chance(data, 20)) { // kernel * dilation > extent, or stride > kernel
      if (chance(data, 2))
        dil = n + 1;
      else
        st = k + 1;
    }
    if (extreme && chance(data, 2)) { // window sizes near 2^31, on '?' extents
      k = extremeSize(data);
      dil = chance(data, 2) ? 1 : extremeSize(data);
      st = chance(data, 2) ? 1 : k;
    }
    extent.push_back(n);
    kernel.push_back(k);
    dilation.push_back(dil);
    stride.push_back(st);
    causal.push_back(chance(data, 3));
  }
  int64_t batch = pick<int64_t>(data, {1, 1, 2});
  int64_t hkv = data.ConsumeIntegralInRange<int64_t>(1, 2);
  int64_t group = pick<int64_t>(data, {1, 2});
  int64_t hq = hkv * group;
  int64_t d = pick<int64_t>(data, {1, 4, 16, 20});
  int64_t dv = pick<int64_t>(data, {1, 4, 16, 24});
  DType dtype = pick<DType>(data, {DType::F32, DType::F32, DType::F16,
                                   DType::BF16AsU16});
  bool dynB = chance(data, 6);
  bool dynSpatial = chance(data, 8);

  OpShapes s;
  s.q = {batch, hq};
  s.k = {batch, hkv};
  s.out = {batch, hq};
  for (int64_t n : extent) {
    s.q.push_back(n);
    s.k.push_back(n);
    s.out.push_back(n);
  }
  s.v = s.k;
  s.q.push_back(d);
  s.k.push_back(d);
  s.v.push_back(dv);
  s.out.push_back(dv);

  auto list = [](const std::vector<int64_t> &values) {
    std::string t = "[";
    for (size_t i = 0; i < values.size(); ++i)
      t += (i ? ", " : "") + std::to_string(values[i]);
    return t + "]";
  };
  std::vector<std::string> attrs = {"kernel = " + list(kernel)};
  if (!chance(data, 3))
    attrs.push_back("dilation = " + list(dilation));
  else
    for (int64_t &x : dilation) x = 1;
  if (!chance(data, 3))
    attrs.push_back("stride = " + list(stride));
  else
    for (int64_t &x : stride) x = 1;
  if (!chance(data, 2)) {
    std::string c = "causal = [";
    for (int a = 0; a < rank; ++a)
      c += std::string(a ? ", " : "") + (causal[a] ? "true" : "false");
    attrs.push_back(c + "]");
  }
  if (chance(data, 3))
    attrs.push_back("scale = " +
                    std::string(pick<const char *>(data, {"3.000000e-01", "1.000000e+00",
                                                          "-5.000000e-01"})) +
                    " : f32");
  bool valid = true;
  if (chance(data, 20)) { // wrong number of entries
    attrs[0] = "kernel = " + list(std::vector<int64_t>(rank + 1, 1));
    valid = false;
  }
  if (extreme) {
    // Extents are dynamic; the window's span over the axes must still fit
    // 32 bits (in doubles: kernel * dilation may reach 2^62).
    double span = 1;
    for (int a = 0; a < rank; ++a) {
      span *= double(kernel[a]) * double(dilation[a]);
      valid &= stride[a] <= kernel[a];
    }
    valid &= span <= double(kMaxSize);
    dynSpatial = true;
    if (chance(data, 2)) {
      d = extremeSize(data);
      dv = extremeSize(data);
    }
  } else {
    for (int a = 0; a < rank; ++a)
      valid &= kernel[a] * dilation[a] <= extent[a] && stride[a] <= kernel[a];
    // Dynamic extents are checked at run time only: keep those valid.
    if (!valid)
      dynSpatial = false;
  }
  s.qDyn.assign(s.q.size(), false);
  s.qDyn[0] = dynB;
  for (int a = 0; a < rank; ++a)
    s.qDyn[2 + a] = dynSpatial;
  s.kDyn = s.vDyn = s.outDyn = s.qDyn;
  bool strategyOk;
  std::string strategy = strategyAttr(data, true, strategyOk);
  if (!strategy.empty())
    attrs.push_back("strategy = " + strategy);
  p.valid = valid;
  p.mustCompile = valid && strategyOk && extremeMustCompile(extreme, strategy);
  p.neighborhood = true;

  std::string elem = typeName(dtype);
  std::string qT = tensorType(s.q, s.qDyn, elem.c_str());
  std::string kT = tensorType(s.k, s.kDyn, elem.c_str());
  std::string vT = tensorType(s.v, s.vDyn, elem.c_str());
  std::string oT = tensorType(s.out, s.outDyn, elem.c_str());
  p.args.push_back({GeneratedArg::Query, dtype, s.q});
  p.args.push_back({GeneratedArg::Key, dtype, s.k});
  p.args.push_back({GeneratedArg::Value, dtype, s.v});
  std::string text = "func.func @main(%q: " + qT + ", %k: " + kT + ", %v: " + vT +
                     ") -> " + oT + " {\n";
  text += emptyInit(s, oT, qT);
  text += "  %o = attn.neighborhood ins(%q, %k, %v : " + qT + ", " + kT + ", " +
          vT + ") outs(%init : " + oT + ") {";
  for (size_t i = 0; i < attrs.size(); ++i)
    text += (i ? ", " : "") + attrs[i];
  text += "} -> " + oT + "\n  return %o : " + oT + "\n}\n";
  p.text = text;
  double positions = 1;
  for (int64_t n : extent)
    positions *= n;
  p.work = double(batch) * hq * positions * positions * (d + dv);
}

void store(HostArray &array, int64_t index, double value) {
  uint8_t *at = array.data + index * runtime::dtypeSize(array.dtype);
  switch (array.dtype) {
  case DType::F32: { float f = float(value); std::memcpy(at, &f, 4); break; }
  case DType::F16: { uint16_t h = runtime::floatToHalf(float(value)); std::memcpy(at, &h, 2); break; }
  case DType::BF16AsU16: {
    float f = float(value);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    uint16_t h = std::isnan(f) ? uint16_t(0x7fc0)
                               : uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
    std::memcpy(at, &h, 2);
    break;
  }
  case DType::I1: *at = value != 0; break;
  default: break;
  }
}

} // namespace

GeneratedProgram generateProgram(FuzzedDataProvider &data, bool extremeSizes) {
  GeneratedProgram program;
  if (data.ConsumeIntegralInRange<int>(0, 4) == 0)
    generateNeighborhood(data, program, extremeSizes);
  else
    generateAttention(data, program, extremeSizes);
  return program;
}

std::vector<HostArray> generateInputs(const GeneratedProgram &program,
                                      uint64_t seed, DataMode mode) {
  Rng rng{seed};
  std::vector<HostArray> inputs;
  for (const GeneratedArg &arg : program.args) {
    HostArray array;
    array.allocate(arg.dtype, arg.shape);
    int64_t count = array.numElements();
    int64_t rowLength = arg.shape.back();
    int64_t rows = rowLength ? count / rowLength : 0;
    // Per (batch, head): one dominant key row, and for Equal mode one shared
    // key row.
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t e = 0; e < rowLength; ++e) {
        int64_t index = r * rowLength + e;
        double x = rng.normal();
        if (program.nonNegativeInputs && arg.kind != GeneratedArg::Mask)
          x = std::fabs(x);
        switch (arg.kind) {
        case GeneratedArg::Mask:
          store(array, index, rng.uniform() < 0.6);
          continue;
        case GeneratedArg::Bias:
          store(array, index, mode == DataMode::Large ? 30 * x : x);
          continue;
        default:
          break;
        }
        switch (mode) {
        case DataMode::Large:
          if (arg.kind != GeneratedArg::Value)
            x *= 30.0;
          break;
        case DataMode::Equal:
          if (arg.kind == GeneratedArg::Key)
            x = 0.5 + 0.01 * e;
          break;
        case DataMode::Dominant:
          if (arg.kind == GeneratedArg::Key && r % 7 == 3)
            x = 40.0;
          if (arg.kind == GeneratedArg::Query)
            x = std::fabs(x) + 0.5;
          break;
        case DataMode::NearF16:
          if (arg.kind == GeneratedArg::Value)
            x = (rng.below(2) ? 1 : -1) * (60000.0 + 5000.0 * rng.uniform());
          else
            x *= 200.0;
          break;
        case DataMode::WithNaN:
          if (rng.uniform() < 0.01)
            x = std::numeric_limits<double>::quiet_NaN();
          break;
        case DataMode::Normal:
          break;
        }
        store(array, index, x);
      }
    }
    inputs.push_back(std::move(array));
  }
  return inputs;
}

} // namespace attn::fuzz
