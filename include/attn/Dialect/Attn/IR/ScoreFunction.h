//===- ScoreFunction.h - The weight functions of attention ------*- C++ -*-===//
//
// A score function turns the scores s = scale q.k of a row into weights:
// softmax, softplus, and the kernel weights of linear attention. Each one is
// a class derived from ScoreFunction, in a file of its own under
// lib/Dialect/Attn/Scores/, listed in BuiltinScores.def: its name (as written
// in #attn.score), which family it belongs to, and its math as IR on f32
// scalars or vectors. #attn.score holds a pointer to the registered function;
// every strategy and every target's kernel asks it for the weight instead of
// knowing the functions by name.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_SCOREFUNCTION_H
#define ATTN_DIALECT_ATTN_IR_SCOREFUNCTION_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::attn {

class ScoreFunction {
public:
  /// How a function is written and computed.
  enum class Family {
    /// Weights relative to the row's running maximum m (with the rescale
    /// 2^(m_old - m_new) of the sums), always normalized: written
    /// `#attn.score<NAME>` (softmax, softplus).
    RowMax,
    /// Weights w(s) of the score alone, no running maximum, normalized
    /// unless `normalize = false`: written `#attn.score<kernel<NAME>>`.
    Kernel,
  };

  /// How the linear-attention kernels factor w(q.k) = f(q) . g(k) into a
  /// state of features. The kernels implement each form; a function names
  /// the one its weight equals, or None (then `linear` is not applicable).
  enum class LinearForm {
    None,
    /// w = phi(scale q) . phi(k) with phi of each element (featureMap).
    ElementwiseFeatures,
    /// w = s: the features are q and k themselves.
    Identity,
    /// w = 1 + s + s^2 / 2: the features [1, x, x_a x_b (a <= b, the
    /// diagonal divided by sqrt 2)].
    SecondOrderTaylor,
  };

  virtual ~ScoreFunction();

  /// The name written in #attn.score (`softmax`, or `elu1` of
  /// `kernel<elu1>`).
  virtual llvm::StringRef getName() const = 0;
  /// The weight as a formula, for documentation and diagnostics.
  virtual llvm::StringRef getFormula() const = 0;
  virtual Family getFamily() const = 0;

  /// True when the weight is phi(scale q) . phi(k) and the score s =
  /// scale q.k never exists: bias and softcap cannot apply, and the kernels
  /// map q and k through featureMap before their product.
  virtual bool isFeatureProduct() const { return false; }
  /// phi(x) of a feature product, elementwise on an f32 scalar or vector.
  virtual Value featureMap(OpBuilder &b, Location loc, Value x) const;
  /// Whether phi(0) = 0, so that zero padding stays zero features.
  virtual bool featureMapKeepsZero() const { return true; }

  /// RowMax functions whose weights are exponentials of the score take their
  /// finished scores in the log2 domain (s log2(e)): the kernels fold
  /// log2(e) into the scale when nothing comes between scale and weight.
  virtual bool scoresInLog2Domain() const { return false; }
  /// RowMax: the reference point of a row's weights from the maximum of its
  /// finished scores (a value of any f32 type; -inf for a row with no
  /// allowed key so far). The running maximum is the largest reference seen.
  virtual Value rowReference(OpBuilder &b, Location loc, Value rowMax) const;

  /// The weight of a finished score `s` (after scale, bias and softcap; in
  /// the log2 domain when scoresInLog2Domain). RowMax: relative to a
  /// finite `reference` of the type of `s`, so that a common factor of a
  /// row cancels in the normalization. Kernel: w(s), `reference` is null;
  /// for a feature product `s` is phi(q) . phi(k) already.
  virtual Value weight(OpBuilder &b, Location loc, Value s,
                       Value reference) const = 0;

  /// Functions whose backward forms each row's normalizer again (kernel
  /// scores, and RowMax functions outside the log2 domain): whether
  /// weightDerivative (and, for a feature product, featureMapDerivative)
  /// are written. Softmax's backward takes the forward's LSE instead.
  virtual bool hasWeightDerivative() const { return false; }
  /// d w / d s of the weight at the finished score `s`, with `reference`
  /// as `weight` takes it (held constant: it cancels in the normalization;
  /// null for kernel functions). For a feature product s = phi(q) . phi(k),
  /// and the derivative is 1: the default.
  virtual Value weightDerivative(OpBuilder &b, Location loc, Value s,
                                 Value reference) const;
  /// phi'(x) of a feature product, elementwise like featureMap.
  virtual Value featureMapDerivative(OpBuilder &b, Location loc, Value x) const;

  /// Kernel functions: how linear attention factors the weight.
  virtual LinearForm getLinearForm() const { return LinearForm::None; }
  /// Vector instructions per vector element of featureMap, for cost models.
  virtual double getFeatureMapCost() const { return 1.0; }
};

/// A constant `v` of the float type (scalar or vector) of `like`.
Value constantLike(OpBuilder &b, Location loc, Value like, double v);
/// 1 where x > 0, else `otherwise` (of x's type): the derivative of feature
/// maps that are x + c above 0.
Value oneAbovePositive(OpBuilder &b, Location loc, Value x, Value otherwise);

/// The registered function named `name` (`softmax`, `elu1`, ...), or null.
const ScoreFunction *lookupScoreFunction(llvm::StringRef name);
/// Every registered function, in registration order.
llvm::ArrayRef<const ScoreFunction *> getScoreFunctions();
/// The names of the registered functions of `family`, then `also` if given,
/// as a list for diagnostics ("elu1, relu, taylor2 or identity").
std::string listScoreFunctions(ScoreFunction::Family family,
                               llvm::StringRef also = "");

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_SCOREFUNCTION_H
