//===- PassRegistration.cpp - attn's passes and the strategies they use ---===//
//
// registerAttnPasses: the passes generated from Passes.td, and the built-in
// strategies, registered together, so that no pass fills the strategy
// registry while it runs.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"

void mlir::attn::registerAttnPasses() {
  registerBuiltinStrategies();
  registerAttnTransformsPasses();
}
