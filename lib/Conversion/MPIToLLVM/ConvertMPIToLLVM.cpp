//===- ConvertMPIToLLVM.cpp - attn-convert-mpi-to-llvm --------------------===//
//
// The mpi dialect to calls of the MPI library: upstream's patterns
// (mpi::populateMPIToLLVMConversionPatterns: init, comm_world, comm_rank,
// send, recv, allreduce, finalize, ...) and, for the ops that MLIR 22 does
// not lower yet, attn's own: comm_size, isend, irecv, wait and barrier, in
// OpenMPI's ABI (the library Debian ships): MPI_Comm and MPI_Datatype are
// addresses of the library's predefined objects, MPI_Request a pointer,
// MPI_STATUS_IGNORE null. A module whose DLTI names another MPI
// implementation is an error here.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MPIToLLVM/MPIToLLVM.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTMPITOLLVM
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// What every OpenMPI call below needs: declarations and constants.
struct OpenMPICalls {
  ConversionPatternRewriter &rewriter;
  Operation *op;
  Location loc = op->getLoc();
  MLIRContext *ctx = op->getContext();
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  Type i32 = rewriter.getI32Type();

  LLVM::LLVMFuncOp declare(StringRef name, Type result,
                           ArrayRef<Type> arguments) {
    auto module = op->getParentOfType<ModuleOp>();
    if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
      return existing;
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(module.getBody());
    return LLVM::LLVMFuncOp::create(
        rewriter, loc, name, LLVM::LLVMFunctionType::get(result, arguments));
  }
  /// The address of the library's predefined object `name`.
  Value predefined(StringRef name, StringRef structName) {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module.lookupSymbol<LLVM::GlobalOp>(name)) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      LLVM::GlobalOp::create(
          rewriter, loc, LLVM::LLVMStructType::getOpaque(structName, ctx),
          /*isConstant=*/false, LLVM::Linkage::External, name, Attribute());
    }
    return LLVM::AddressOfOp::create(rewriter, loc, ptr, name);
  }
  /// A communicator (i64 after upstream's type conversion) as MPI_Comm.
  Value comm(Value converted) {
    return LLVM::IntToPtrOp::create(rewriter, loc, ptr, converted);
  }
  /// One slot of `type` on the function's stack, allocated on entry.
  Value slot(Type type) {
    auto function = op->getParentOfType<FunctionOpInterface>();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(&function.getFunctionBody().front());
    Value one = LLVM::ConstantOp::create(rewriter, loc, i32,
                                         rewriter.getI32IntegerAttr(1));
    return LLVM::AllocaOp::create(rewriter, loc, ptr, type, one);
  }
  /// Address and element count of a 1-D memref descriptor, and its MPI
  /// datatype; failure for an element type without one.
  FailureOr<std::array<Value, 3>> buffer(Value descriptor, MemRefType type) {
    Type element = type.getElementType();
    StringRef name;
    if (element.isF32())
      name = "ompi_mpi_float";
    else if (element.isF64())
      name = "ompi_mpi_double";
    else if (element.isInteger(32))
      name = "ompi_mpi_int32_t";
    else if (element.isInteger(64))
      name = "ompi_mpi_int64_t";
    else if (element.isInteger(8))
      name = "ompi_mpi_int8_t";
    else
      return failure();
    MemRefDescriptor d(descriptor);
    Value address = LLVM::GEPOp::create(rewriter, loc, ptr, element,
                                        d.alignedPtr(rewriter, loc),
                                        ValueRange{d.offset(rewriter, loc)});
    Value count =
        LLVM::TruncOp::create(rewriter, loc, i32, d.size(rewriter, loc, 0));
    return std::array<Value, 3>{address, count,
                                predefined(name, "ompi_predefined_datatype_t")};
  }
  /// Replaces `op` by `call`'s result where it has a retval, else erases
  /// it; `more` are the results after the retval.
  void finish(LLVM::CallOp call, ValueRange more = {}) {
    SmallVector<Value> results;
    if (op->getNumResults() > more.size())
      results.push_back(call.getResult());
    results.append(more.begin(), more.end());
    rewriter.replaceOp(op, results);
  }
};

/// A pattern that lowers `Op` to OpenMPI calls through `lower`. The pass
/// adds these patterns only to a module that names OpenMPI.
template <typename Op> struct OpenMPIPattern : ConvertOpToLLVMPattern<Op> {
  using ConvertOpToLLVMPattern<Op>::ConvertOpToLLVMPattern;
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const final {
    OpenMPICalls calls{rewriter, op};
    return lower(op, adaptor, calls);
  }
  virtual LogicalResult lower(Op op, typename Op::Adaptor adaptor,
                              OpenMPICalls &c) const = 0;
};

/// MPI_Comm_size(comm, &size).
struct CommSizeLowering : OpenMPIPattern<mpi::CommSizeOp> {
  using OpenMPIPattern::OpenMPIPattern;
  LogicalResult lower(mpi::CommSizeOp, OpAdaptor adaptor,
                      OpenMPICalls &c) const override {
    Value out = c.slot(c.i32);
    auto call = LLVM::CallOp::create(
        c.rewriter, c.loc, c.declare("MPI_Comm_size", c.i32, {c.ptr, c.ptr}),
        ValueRange{c.comm(adaptor.getComm()), out});
    c.finish(call,
             LLVM::LoadOp::create(c.rewriter, c.loc, c.i32, out).getResult());
    return success();
  }
};

/// mpi.isend and mpi.irecv: MPI_Isend / MPI_Irecv(buf, count, datatype,
/// peer, tag, comm, &request).
template <typename Op> struct NonblockingLowering : OpenMPIPattern<Op> {
  using OpenMPIPattern<Op>::OpenMPIPattern;
  LogicalResult lower(Op op, typename Op::Adaptor adaptor,
                      OpenMPICalls &c) const override {
    auto type = cast<MemRefType>(op.getRef().getType());
    if (type.getRank() != 1)
      return c.rewriter.notifyMatchFailure(op, "needs a 1-D buffer");
    FailureOr<std::array<Value, 3>> buffer = c.buffer(adaptor.getRef(), type);
    if (failed(buffer))
      return c.rewriter.notifyMatchFailure(op, "no MPI datatype");
    Value peer;
    if constexpr (std::is_same_v<Op, mpi::ISendOp>)
      peer = adaptor.getDest();
    else
      peer = adaptor.getSource();
    StringRef name =
        std::is_same_v<Op, mpi::ISendOp> ? "MPI_Isend" : "MPI_Irecv";
    Value request = c.slot(c.ptr);
    auto call = LLVM::CallOp::create(
        c.rewriter, c.loc,
        c.declare(name, c.i32,
                  {c.ptr, c.i32, c.ptr, c.i32, c.i32, c.ptr, c.ptr}),
        ValueRange{(*buffer)[0], (*buffer)[1], (*buffer)[2], peer,
                   adaptor.getTag(), c.comm(adaptor.getComm()), request});
    c.finish(
        call,
        LLVM::LoadOp::create(c.rewriter, c.loc, c.ptr, request).getResult());
    return success();
  }
};

/// MPI_Wait(&request, MPI_STATUS_IGNORE).
struct WaitLowering : OpenMPIPattern<mpi::Wait> {
  using OpenMPIPattern::OpenMPIPattern;
  LogicalResult lower(mpi::Wait, OpAdaptor adaptor,
                      OpenMPICalls &c) const override {
    Value request = c.slot(c.ptr);
    LLVM::StoreOp::create(c.rewriter, c.loc, adaptor.getReq(), request);
    Value statusIgnore = LLVM::ZeroOp::create(c.rewriter, c.loc, c.ptr);
    c.finish(LLVM::CallOp::create(c.rewriter, c.loc,
                                  c.declare("MPI_Wait", c.i32, {c.ptr, c.ptr}),
                                  ValueRange{request, statusIgnore}));
    return success();
  }
};

/// MPI_Barrier(comm).
struct BarrierLowering : OpenMPIPattern<mpi::Barrier> {
  using OpenMPIPattern::OpenMPIPattern;
  LogicalResult lower(mpi::Barrier, OpAdaptor adaptor,
                      OpenMPICalls &c) const override {
    c.finish(LLVM::CallOp::create(c.rewriter, c.loc,
                                  c.declare("MPI_Barrier", c.i32, {c.ptr}),
                                  ValueRange{c.comm(adaptor.getComm())}));
    return success();
  }
};

struct ConvertMPIToLLVMPass
    : mlir::attn::impl::AttnConvertMPIToLLVMBase<ConvertMPIToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool hasMPI = false;
    module.walk([&](Operation *op) {
      if (isa<mpi::MPIDialect>(op->getDialect()))
        hasMPI = true;
    });
    if (!hasMPI)
      return;
    FailureOr<Attribute> implementation =
        dlti::query(module, {"MPI:Implementation"}, /*emitError=*/false);
    auto name = succeeded(implementation)
                    ? dyn_cast<StringAttr>(*implementation)
                    : StringAttr();
    if (!name || name.getValue() != "OpenMPI") {
      module.emitError()
          << "attn-convert-mpi-to-llvm: the module must name its MPI with "
             "the DLTI entry \"MPI:Implementation\" = \"OpenMPI\" (the ABI "
             "attn lowers to; Debian's MPI)";
      return signalPassFailure();
    }
    LLVMTypeConverter converter(&getContext());
    converter.addConversion([&](mpi::RequestType type) -> Type {
      return LLVM::LLVMPointerType::get(type.getContext());
    });
    RewritePatternSet patterns(&getContext());
    mpi::populateMPIToLLVMConversionPatterns(converter, patterns);
    patterns
        .add<CommSizeLowering, NonblockingLowering<mpi::ISendOp>,
             NonblockingLowering<mpi::IRecvOp>, WaitLowering, BarrierLowering>(
            converter);
    ConversionTarget target(getContext());
    target.addLegalDialect<LLVM::LLVMDialect>();
    target.addIllegalDialect<mpi::MPIDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
