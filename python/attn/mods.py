"""score_mod and mask_mod from plain Python functions.

attn.attention(q, k, v, score_mod=lambda s, b, h, i, j: s + slopes[h] * (j - i))

The function is called once, at trace time, with symbolic values in place of
its arguments: each operation on them writes one arith/math op of the
region's body, as FlexAttention traces torch functions. What traces:

- arithmetic + - * / // % ** (a constant integer power), unary - and abs();
- comparisons < <= > >= == != (a boolean value) and &, |, ^, ~ on booleans
  (and on integers, bitwise);
- np.where / attn.where, np.exp, np.exp2, np.log, np.log2, np.sqrt,
  np.tanh, np.abs, np.floor, np.ceil, np.minimum, np.maximum, np.clip;
- x.astype(int | np.int32 | np.int64 | float | np.float32);
- indexing a numpy array the function captures (a closure variable, a global
  it names, or a default argument) with one integer per dimension, as in
  slopes[h] or segments[b, j]: the array becomes an argument of the compiled
  function and the read a tensor.extract. Tables are float32, int32, int64
  or bool. An index is checked at trace time against the table's extent
  from the value ranges the tracer knows (b, h, i, j, constants, and the
  values stored in integer tables): a negative index counts from the end as
  in numpy, and an index that may fall outside [-n, n) is an error (bound
  it with np.clip).

Anything else is a ModTraceError naming the construct: Python's if/and/or/
not, min() and max() (they need a truth value the trace does not have),
math.* functions, indexing an array the function does not capture, other
numpy functions.

Types: b, h, i, j and integer results are `index` (int32/int64 table
entries stay in their type until mixed with an index); s and float results
are f32, as the op computes them.
"""

import builtins
import inspect
import math
import numbers
import struct
import types

import numpy as np


class ModTraceError(ValueError):
    """A score_mod or mask_mod uses something the tracer cannot write as IR."""


_TABLE_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.int32): "i32",
                np.dtype(np.int64): "i64", np.dtype(np.bool_): "i1"}
_INTEGER = ("index", "i32", "i64")
# An integer's range is (lo, hi) with infinite ends where unknown.
_UNKNOWN = (-math.inf, math.inf)


def _f32_constant(value):
    """An exact f32 constant (hex bits: also infinities)."""
    bits = struct.unpack("<I", struct.pack("<f", np.float32(value)))[0]
    return f"0x{bits:08X}"


class _Trace:
    """The body being written: lines, fresh names, the captured tables."""

    def __init__(self, what, tables, pair_bounds):
        self.what = what          # "score_mod" or "mask_mod", for messages
        self.tables = tables      # id(array) -> _TableArg, shared by both mods
        # (key arg, query arg) -> [lo, hi] of key - query at the pairs where
        # the mod is evaluated (a neighborhood's score_mod: its window).
        self.pair_bounds = pair_bounds
        self.lines = []
        self.count = 0
        self.constants = {}

    def fresh(self):
        self.count += 1
        return f"%v{self.count}"

    def emit(self, text, type_, range_=None):
        name = self.fresh()
        self.lines.append(f"{name} = {text}")
        return Value(self, name, type_, range_)

    def constant(self, value, type_):
        key = (type_, value)
        if key not in self.constants:
            if type_ == "f32":
                text = f"arith.constant {_f32_constant(value)} : f32"
                range_ = None
            elif type_ == "i1":
                text = f"arith.constant {'true' if value else 'false'}"
                range_ = (int(value), int(value))
            else:
                text = f"arith.constant {int(value)} : {type_}"
                range_ = (int(value), int(value))
            self.constants[key] = self.emit(text, type_, range_)
            if type_ == "index":
                self.constants[key].affine = ({}, int(value))
        return self.constants[key]

    def error(self, message):
        return ModTraceError(f"{self.what}: {message}")


class _TableArg:
    """A captured numpy array: an argument of the compiled function."""

    def __init__(self, array, name, index):
        self.array = array
        self.name = name
        self.ssa = f"%t{index}_{''.join(c if c.isalnum() else '_' for c in name)}"
        self.element = _TABLE_TYPES[array.dtype]
        self.type = ("tensor<" + "".join(f"{d}x" for d in array.shape)
                     + self.element + ">")
        self.range = _UNKNOWN  # what its elements may be
        if self.element in _INTEGER:
            self.range = (int(array.min()), int(array.max()))


def _range_add(a, b):
    return (a[0] + b[0], a[1] + b[1])


def _range_neg(a):
    return (-a[1], -a[0])


def _times(x, y):
    return 0 if x == 0 or y == 0 else x * y


def _range_mul(a, b):
    products = [_times(x, y) for x in a for y in b]
    return (builtins.min(products), builtins.max(products))


def _range_floordiv(a, c):
    ends = [x // c if math.isfinite(x) else x * (1 if c > 0 else -1)
            for x in a]
    return (builtins.min(ends), builtins.max(ends))


def _range_text(r):
    return "[" + ", ".join(str(x) if math.isfinite(x) else "unbounded"
                           for x in r) + "]"


class Value:
    """A traced scalar: its SSA name, its MLIR type, and for integers the
    range (lo, hi) of the values it may take (infinite ends: unknown)."""

    __array_priority__ = 1000

    def __init__(self, trace, name, type_, range_=None):
        self.trace, self.name, self.type = trace, name, type_
        self.range = _UNKNOWN if range_ is None else range_
        # An index value that is an affine function of the block arguments:
        # ({argument: coefficient}, constant); None otherwise.
        self.affine = None

    def index_range(self):
        """The range of this index value, narrowed by what the trace knows
        of key - query differences when it is affine in the arguments."""
        if self.affine is None or not self.trace.pair_bounds:
            return self.range
        coefs, lo = dict(self.affine[0]), self.affine[1]
        hi = lo
        for (key, query), (dlo, dhi) in self.trace.pair_bounds.items():
            c = coefs.get(key, 0)
            if c and coefs.get(query, 0) == -c:
                ends = (c * dlo, c * dhi)
                lo, hi = lo + builtins.min(ends), hi + builtins.max(ends)
                del coefs[key], coefs[query]
        for name, c in coefs.items():
            arg = self.trace.arguments[name].range
            ends = (c * arg[0], c * arg[1])
            lo, hi = lo + builtins.min(ends), hi + builtins.max(ends)
        return (builtins.max(lo, self.range[0]), builtins.min(hi, self.range[1]))

    # --- conversions -------------------------------------------------------

    def _lift(self, other):
        """other as a Value of this trace (a Python or numpy number becomes a
        constant of a matching type)."""
        if isinstance(other, Value):
            if other.trace is not self.trace:
                raise self.trace.error(
                    "a value traced by another function was used here")
            return other
        if isinstance(other, (bool, np.bool_)):
            return self.trace.constant(bool(other), "i1")
        if isinstance(other, numbers.Integral):
            if self.type == "f32":
                return self.trace.constant(float(other), "f32")
            type_ = self.type if self.type in _INTEGER else "index"
            return self.trace.constant(int(other), type_)
        if isinstance(other, numbers.Real):
            return self.trace.constant(float(other), "f32")
        if isinstance(other, np.ndarray) and other.ndim == 0:
            return self._lift(other.item())
        raise self.trace.error(
            f"cannot combine a traced value with {type(other).__name__} "
            f"{other!r}; only numbers and traced values mix")

    def _to(self, type_):
        if self.type == type_:
            return self
        t = self.trace
        if self.type == "i1":
            return self._bool_as_int()._to(type_)
        if type_ == "f32":
            v = self
            if v.type == "index":
                v = t.emit(f"arith.index_cast {v.name} : index to i64", "i64",
                           v.range)
            return t.emit(f"arith.sitofp {v.name} : {v.type} to f32", "f32")
        if self.type == "f32":
            raise t.error("a float is not an integer; convert it with "
                          ".astype(int) (which truncates toward zero)")
        if type_ == "index" or self.type == "index":
            return t.emit(f"arith.index_cast {self.name} : {self.type} to "
                          f"{type_}", type_, self.range)
        op = "arith.extsi" if type_ == "i64" else "arith.trunci"
        return t.emit(f"{op} {self.name} : {self.type} to {type_}", type_,
                      self.range)

    def _unify(self, other, float_=False):
        """(a, b) converted to one type: f32 when either is a float (or when
        float_), index when integer types differ."""
        a, b = self, self._lift(other)
        if a.type == b.type == "i1" and not float_:
            return a, b
        # In arithmetic a boolean counts as 0 or 1, as in numpy.
        if a.type == "i1":
            a = a._bool_as_int()
        if b.type == "i1":
            b = b._bool_as_int()
        if float_ or "f32" in (a.type, b.type):
            return a._to("f32"), b._to("f32")
        if a.type != b.type:
            return a._to("index"), b._to("index")
        return a, b

    def __bool__(self):
        raise self.trace.error(
            "a traced value has no truth value while tracing: Python's if, "
            "and, or, not, min() and max() cannot be traced; use "
            "np.where / attn.where, &, |, ~, np.minimum and np.maximum")

    def _no_number(self, *_):
        raise self.trace.error(
            "a traced value is not a Python number: math.* functions, int(), "
            "float() and indexing an array the function does not capture "
            "cannot be traced; use np.exp/np.log/..., .astype(), and index "
            "a numpy array the function captures")

    __float__ = __int__ = __index__ = __complex__ = _no_number

    def __iter__(self):
        raise self.trace.error("a traced value is a scalar; it cannot be "
                               "iterated")

    def __repr__(self):
        return f"<traced {self.type} {self.name}>"

    __hash__ = object.__hash__

    # --- arithmetic -------------------------------------------------------

    def _binary(self, other, int_op, float_op, range_fn=None, swap=False):
        a, b = self._unify(other)
        if swap:
            a, b = b, a
        if a.type == "f32":
            return self.trace.emit(f"{float_op} {a.name}, {b.name} : f32",
                                   "f32")
        range_ = range_fn(a.range, b.range) if range_fn else None
        out = self.trace.emit(f"{int_op} {a.name}, {b.name} : {a.type}",
                              a.type, range_)
        out.affine = _affine(int_op, a.affine, b.affine)
        return out

    def __add__(self, other):
        return self._binary(other, "arith.addi", "arith.addf", _range_add)

    def __radd__(self, other):
        return self._binary(other, "arith.addi", "arith.addf", _range_add,
                            swap=True)

    def __sub__(self, other):
        return self._binary(other, "arith.subi", "arith.subf",
                            lambda a, b: _range_add(a, _range_neg(b)))

    def __rsub__(self, other):
        return self._binary(other, "arith.subi", "arith.subf",
                            lambda a, b: _range_add(a, _range_neg(b)),
                            swap=True)

    def __mul__(self, other):
        return self._binary(other, "arith.muli", "arith.mulf", _range_mul)

    def __rmul__(self, other):
        return self._binary(other, "arith.muli", "arith.mulf", _range_mul,
                            swap=True)

    def __truediv__(self, other):
        a, b = self._unify(other, float_=True)
        return self.trace.emit(f"arith.divf {a.name}, {b.name} : f32", "f32")

    def __rtruediv__(self, other):
        a, b = self._unify(other, float_=True)
        return self.trace.emit(f"arith.divf {b.name}, {a.name} : f32", "f32")

    def _divisor(self, other, op):
        """An integer divisor must be a nonzero constant: a division by a
        traced value could trap on zero, which a region may not do."""
        if isinstance(other, Value) or isinstance(other, (bool, np.bool_)) \
                or not isinstance(other, numbers.Integral) or other == 0:
            raise self.trace.error(
                f"integer '{op}' needs a nonzero integer constant divisor "
                f"(a traced divisor could be zero), got {other!r}; divide "
                f"floats with '/' instead")
        return int(other)

    def _float_division(self, other):
        """Whether `self // other` or `self % other` divides floats."""
        return self.type == "f32" or isinstance(
            other, (float, np.floating)) or (isinstance(other, Value) and
                                             other.type == "f32")

    def __floordiv__(self, other):
        if self._float_division(other):
            return np.floor(self / other)
        c = self._divisor(other, "//")
        b = self._lift(c)
        range_ = _range_floordiv(self.range, c)
        return self.trace.emit(f"arith.floordivsi {self.name}, {b.name} : "
                               f"{self.type}", self.type, range_)

    def __rfloordiv__(self, other):
        if isinstance(other, (float, np.floating)) or self.type == "f32":
            return np.floor(other / self)
        raise self.trace.error("integer '//' needs a nonzero integer "
                               "constant divisor, not a traced value")

    def __mod__(self, other):
        if self._float_division(other):
            return self - np.floor(self / other) * other
        c = self._divisor(other, "%")
        if c < 0:
            raise self.trace.error(f"integer '%' needs a positive constant "
                                   f"divisor, got {c}")
        t = self.trace
        b = self._lift(c)
        rem = t.emit(f"arith.remsi {self.name}, {b.name} : {self.type}",
                     self.type)
        if self.range[0] >= 0:
            rem.range = (0, builtins.min(c - 1, self.range[1]))
            return rem
        # Python's % takes the divisor's sign: a negative remainder gets +c.
        zero = self._lift(0)
        negative = t.emit(f"arith.cmpi slt, {rem.name}, {zero.name} : "
                          f"{self.type}", "i1")
        shifted = t.emit(f"arith.addi {rem.name}, {b.name} : {self.type}",
                         self.type)
        return t.emit(f"arith.select {negative.name}, {shifted.name}, "
                      f"{rem.name} : {self.type}", self.type, (0, c - 1))

    def __rmod__(self, other):
        raise self.trace.error("'%' by a traced value is not supported; the "
                               "divisor must be a constant")

    def __pow__(self, other):
        if isinstance(other, numbers.Integral) and not isinstance(
                other, bool) and 0 < other <= 8:
            result = self
            for _ in range(int(other) - 1):
                result = result * self
            return result
        a, b = self._unify(other, float_=True)
        return self.trace.emit(f"math.powf {a.name}, {b.name} : f32", "f32")

    def __rpow__(self, other):
        a, b = self._unify(other, float_=True)
        return self.trace.emit(f"math.powf {b.name}, {a.name} : f32", "f32")

    def __neg__(self):
        if self.type == "f32":
            return self.trace.emit(f"arith.negf {self.name} : f32", "f32")
        return self._lift(0) - self

    def __pos__(self):
        return self

    def __abs__(self):
        if self.type == "f32":
            return self.trace.emit(f"math.absf {self.name} : f32", "f32")
        if self.type == "i1":
            return self  # abs(True) is True, as in numpy
        lo, hi = self.range
        range_ = ((0 if lo <= 0 <= hi else builtins.min(abs(lo), abs(hi))),
                  builtins.max(abs(lo), abs(hi)))
        return self.trace.emit(f"math.absi {self.name} : {self.type}",
                               self.type, range_)

    # --- comparisons and logic --------------------------------------------

    def _compare(self, other, int_pred, float_pred):
        a, b = self._unify(other)
        if a.type == "i1":
            a, b = a._bool_as_int(), b._bool_as_int()
        if a.type == "f32":
            return self.trace.emit(f"arith.cmpf {float_pred}, {a.name}, "
                                   f"{b.name} : f32", "i1")
        return self.trace.emit(f"arith.cmpi {int_pred}, {a.name}, {b.name} "
                               f": {a.type}", "i1")

    def _bool_as_int(self):
        return self.trace.emit(f"arith.extui {self.name} : i1 to i32", "i32",
                               (0, 1))

    def __lt__(self, other):
        return self._compare(other, "slt", "olt")

    def __le__(self, other):
        return self._compare(other, "sle", "ole")

    def __gt__(self, other):
        return self._compare(other, "sgt", "ogt")

    def __ge__(self, other):
        return self._compare(other, "sge", "oge")

    def __eq__(self, other):
        return self._compare(other, "eq", "oeq")

    def __ne__(self, other):
        return self._compare(other, "ne", "une")

    def _logic(self, other, op, swap=False):
        a, b = self._unify(other)
        if a.type == "f32":
            raise self.trace.error(f"'{op}' applies to booleans and integers, "
                                   f"not floats")
        if swap:
            a, b = b, a
        name = {"&": "arith.andi", "|": "arith.ori", "^": "arith.xori"}[op]
        return self.trace.emit(f"{name} {a.name}, {b.name} : {a.type}",
                               a.type, (0, 1) if a.type == "i1" else None)

    def __and__(self, other):
        return self._logic(other, "&")

    def __rand__(self, other):
        return self._logic(other, "&", swap=True)

    def __or__(self, other):
        return self._logic(other, "|")

    def __ror__(self, other):
        return self._logic(other, "|", swap=True)

    def __xor__(self, other):
        return self._logic(other, "^")

    def __rxor__(self, other):
        return self._logic(other, "^", swap=True)

    def __invert__(self):
        if self.type != "i1":
            raise self.trace.error("'~' applies to booleans (comparisons)")
        return self._logic(True, "^")

    # --- numpy ------------------------------------------------------------

    def astype(self, dtype):
        if dtype in (int, np.int64, np.intp, "int", "int64"):
            target = "index"
        elif dtype in (np.int32, "int32"):
            target = "i32"
        elif dtype in (float, np.float32, np.float64, "float", "float32"):
            return self._to("f32")
        else:
            raise self.trace.error(f"astype({dtype!r}) is not traced; use "
                                   f"int, np.int32, np.int64 or np.float32")
        if self.type == "f32":
            truncated = self.trace.emit(f"arith.fptosi {self.name} : f32 to "
                                        f"i64", "i64")
            return truncated._to(target)
        if self.type == "i1":
            return self._bool_as_int()._to(target)
        return self._to(target)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            raise self.trace.error(f"np.{ufunc.__name__}.{method} with "
                                   f"{sorted(kwargs)} is not traced")
        handler = _UFUNCS.get(ufunc.__name__)
        if handler is None:
            raise self.trace.error(f"np.{ufunc.__name__} is not traced; the "
                                   f"tracer knows {', '.join(sorted(_UFUNCS))}")
        return handler(self, *inputs)

    def __array_function__(self, func, types_, args, kwargs):
        if func is np.where and len(args) == 3 and not kwargs:
            return where(*args)
        if func is np.clip and len(args) == 3 and not kwargs:
            return np.minimum(np.maximum(args[0], args[1]), args[2])
        raise self.trace.error(f"np.{func.__name__} is not traced; the "
                               f"tracer knows np.where, np.clip and the "
                               f"functions {', '.join(sorted(_UFUNCS))}")


def _affine(op, a, b):
    """The affine form of `a op b` (None: not affine)."""
    if a is None or b is None:
        return None
    if op == "arith.muli":
        if a[0] and b[0]:
            return None
        (coefs, c), k = (a, b[1]) if not b[0] else (b, a[1])
        return ({n: x * k for n, x in coefs.items()}, c * k)
    sign = {"arith.addi": 1, "arith.subi": -1}.get(op)
    if sign is None:
        return None
    coefs = dict(a[0])
    for n, x in b[0].items():
        coefs[n] = coefs.get(n, 0) + sign * x
    return ({n: x for n, x in coefs.items() if x}, a[1] + sign * b[1])


def _any_value(items):
    return next(x for x in items if isinstance(x, Value))


def _float_unary(op):
    def apply(self, x):
        x = _any_value([x])
        x = x._to("f32")
        return x.trace.emit(f"{op} {x.name} : f32", "f32")
    return apply


def _min_max(float_op, int_op, pick):
    def apply(self, a, b):
        v = _any_value([a, b])
        a, b = v._lift(a), v._lift(b)
        a, b = a._unify(b)
        if a.type == "f32":
            return v.trace.emit(f"{float_op} {a.name}, {b.name} : f32", "f32")
        range_ = (pick(a.range[0], b.range[0]), pick(a.range[1], b.range[1]))
        return v.trace.emit(f"{int_op} {a.name}, {b.name} : {a.type}", a.type,
                            range_)
    return apply


_MIRRORED = {"__lt__": "__gt__", "__le__": "__ge__", "__gt__": "__lt__",
             "__ge__": "__le__", "__eq__": "__eq__", "__ne__": "__ne__"}


def _arith_ufunc(method):
    def apply(self, a, b):
        v = _any_value([a, b])
        if v is a:
            return getattr(v, method)(b)
        return getattr(v, _MIRRORED.get(method, "__r" + method[2:]))(a)
    return apply


_UFUNCS = {
    "exp": _float_unary("math.exp"), "exp2": _float_unary("math.exp2"),
    "log": _float_unary("math.log"), "log2": _float_unary("math.log2"),
    "sqrt": _float_unary("math.sqrt"), "tanh": _float_unary("math.tanh"),
    "floor": _float_unary("math.floor"), "ceil": _float_unary("math.ceil"),
    "absolute": lambda self, x: abs(x),
    "negative": lambda self, x: -x,
    "minimum": _min_max("arith.minimumf", "arith.minsi", builtins.min),
    "maximum": _min_max("arith.maximumf", "arith.maxsi", builtins.max),
    "add": _arith_ufunc("__add__"), "subtract": _arith_ufunc("__sub__"),
    "multiply": _arith_ufunc("__mul__"),
    "true_divide": _arith_ufunc("__truediv__"),
    "floor_divide": _arith_ufunc("__floordiv__"),
    "remainder": _arith_ufunc("__mod__"), "power": _arith_ufunc("__pow__"),
    "less": _arith_ufunc("__lt__"), "less_equal": _arith_ufunc("__le__"),
    "greater": _arith_ufunc("__gt__"), "greater_equal": _arith_ufunc("__ge__"),
    "equal": _arith_ufunc("__eq__"), "not_equal": _arith_ufunc("__ne__"),
    "logical_and": _arith_ufunc("__and__"), "logical_or": _arith_ufunc("__or__"),
    "bitwise_and": _arith_ufunc("__and__"), "bitwise_or": _arith_ufunc("__or__"),
    "logical_not": lambda self, x: ~x, "invert": lambda self, x: ~x,
}


def where(condition, a, b):
    """condition ? a : b on traced values (np.where does the same)."""
    values = [x for x in (condition, a, b) if isinstance(x, Value)]
    if not values:
        return np.where(condition, a, b)
    v = values[0]
    if not isinstance(condition, Value):
        return a if condition else b
    if condition.type != "i1":
        raise v.trace.error("where() needs a boolean condition (a "
                            "comparison)")
    x, y = v._lift(a)._unify(b)
    range_ = (builtins.min(x.range[0], y.range[0]),
              builtins.max(x.range[1], y.range[1]))
    return v.trace.emit(f"arith.select {condition.name}, {x.name}, {y.name} "
                        f": {x.type}", x.type, range_)


class _Table:
    """A captured numpy array while tracing: indexing it reads one element."""

    def __init__(self, trace, arg):
        self.trace, self.arg = trace, arg

    def __getitem__(self, index):
        t, arg = self.trace, self.arg
        index = index if isinstance(index, tuple) else (index,)
        shape = arg.array.shape
        if len(index) != len(shape):
            raise t.error(f"'{arg.name}' has {len(shape)} dimension(s) "
                          f"{tuple(shape)}; index it with {len(shape)} "
                          f"integer(s) to read one element, got {len(index)}")
        names = []
        for axis, (x, n) in enumerate(zip(index, shape)):
            if isinstance(x, (bool, np.bool_)) or not isinstance(
                    x, (Value, numbers.Integral)):
                raise t.error(f"'{arg.name}' index {axis} must be an integer "
                              f"(slices and arrays are not traced), got "
                              f"{x!r}")
            if not isinstance(x, Value):
                if not -n <= x < n:
                    raise t.error(f"'{arg.name}' index {axis} is {x}, outside "
                                  f"[-{n}, {n})")
                names.append(t.constant(int(x) % n, "index").name)
                continue
            if x.type in ("f32", "i1"):
                raise t.error(f"'{arg.name}' index {axis} is a "
                              f"{'float' if x.type == 'f32' else 'boolean'}; "
                              f"convert it with .astype(int)")
            x = x._to("index")
            bounds = x.index_range()
            if bounds[0] < -n or bounds[1] >= n:
                raise t.error(
                    f"'{arg.name}' index {axis} may fall outside [-{n}, {n}) "
                    f"(as traced, it lies in {_range_text(bounds)}); bound "
                    f"it, e.g. with np.clip(index, 0, {n - 1})")
            if bounds[0] < 0:
                # numpy's negative indices count from the end.
                zero = t.constant(0, "index")
                size = t.constant(n, "index")
                negative = t.emit(f"arith.cmpi slt, {x.name}, {zero.name} : "
                                  f"index", "i1")
                wrapped = t.emit(f"arith.addi {x.name}, {size.name} : index",
                                 "index")
                x = t.emit(f"arith.select {negative.name}, {wrapped.name}, "
                           f"{x.name} : index", "index")
            names.append(x.name)
        return t.emit(f"tensor.extract {arg.ssa}[{', '.join(names)}] : "
                      f"{arg.type}", arg.element, arg.range)

    def __getattr__(self, name):
        if name in ("shape", "ndim", "size", "dtype"):
            return getattr(self.arg.array, name)
        raise self.trace.error(f"'{self.arg.name}.{name}' is not traced; a "
                               f"captured array can only be indexed")

    def __len__(self):
        return len(self.arg.array)


def _capture(trace, array, name):
    """The table argument of `array` (one per array, shared by the mods)."""
    if array.ndim == 0:
        return None  # a number: it mixes into the trace as a constant
    if array.dtype not in _TABLE_TYPES:
        raise trace.error(f"captured array '{name}' has dtype {array.dtype}; "
                          f"tables must be float32, int32, int64 or bool "
                          f"(convert it with .astype())")
    if min(array.shape) < 1:
        raise trace.error(f"captured array '{name}' is empty: shape "
                          f"{array.shape}")
    arg = trace.tables.get(id(array))
    if arg is None:
        arg = _TableArg(np.ascontiguousarray(array), name, len(trace.tables))
        trace.tables[id(array)] = arg
    return _Table(trace, arg)


def _with_tables(trace, fn):
    """fn with the numpy arrays it captures replaced by _Table readers."""
    if not isinstance(fn, types.FunctionType):
        return fn  # a callable object: its arrays are not rebound
    code = fn.__code__
    globals_ = fn.__globals__
    replaced = {}
    for name in code.co_names:
        value = globals_.get(name)
        if isinstance(value, np.ndarray):
            table = _capture(trace, value, name)
            if table is not None:
                replaced[name] = table
    if replaced:
        globals_ = dict(globals_)
        globals_.update(replaced)
    closure = fn.__closure__
    if closure:
        cells = []
        for name, cell in zip(code.co_freevars, closure):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                cells.append(cell)
                continue
            table = (_capture(trace, value, name)
                     if isinstance(value, np.ndarray) else None)
            cells.append(types.CellType(table) if table is not None else cell)
        closure = tuple(cells)
    defaults = fn.__defaults__
    if defaults:
        names = code.co_varnames[code.co_argcount - len(defaults):
                                 code.co_argcount]
        defaults = tuple(
            (_capture(trace, d, n) or d) if isinstance(d, np.ndarray) else d
            for n, d in zip(names, defaults))
    traced = types.FunctionType(code, globals_, fn.__name__, defaults,
                                closure)
    traced.__kwdefaults__ = fn.__kwdefaults__
    return traced


def trace(fn, what, arguments, result, tables, pair_bounds=None):
    """The region text of `fn` called with block arguments `arguments`
    (pairs of name and (type, range)) yielding `result` ("f32" or "i1").
    `tables` collects the captured arrays (id -> _TableArg); pair_bounds
    as _Trace takes it."""
    if not callable(fn):
        raise ModTraceError(f"{what} must be a function, got {fn!r}")
    names = [name for name, _ in arguments]
    try:
        inspect.signature(fn).bind(*names)
    except TypeError:
        raise ModTraceError(
            f"{what} must take {len(names)} positional arguments "
            f"({', '.join(names)})") from None
    except ValueError:
        pass  # no signature to inspect (a builtin): the call tells
    t = _Trace(what, tables, pair_bounds or {})
    values = [Value(t, f"%{name}", type_, range_)
              for name, (type_, range_) in arguments]
    t.arguments = {name: value for (name, _), value in zip(arguments, values)}
    for value in values:
        if value.type == "index":
            value.affine = ({value.name[1:]: 1}, 0)
    out = _with_tables(t, fn)(*values)
    if isinstance(out, _Table):
        raise t.error("it returned a captured array, not a scalar")
    if result == "i1":
        if isinstance(out, (bool, np.bool_)):
            out = t.constant(bool(out), "i1")
        if not isinstance(out, Value) or out.type != "i1":
            raise t.error(f"it must return a boolean (a comparison, or "
                          f"True/False), got {out!r}")
    else:
        if isinstance(out, (bool, np.bool_)) or (
                isinstance(out, Value) and out.type == "i1"):
            raise t.error(f"it must return a number (the new score), "
                          f"got a boolean {out!r}")
        if not isinstance(out, Value):
            if not isinstance(out, numbers.Real):
                raise t.error(f"it must return a number (the new "
                              f"score), got {out!r}")
            out = t.constant(float(out), "f32")
        out = out._to("f32")
    header = ", ".join(f"%{name}: {type_}" for name, (type_, _) in arguments)
    body = "".join(f"    {line}\n" for line in t.lines)
    return (f"{what} {{\n  ^bb0({header}):\n{body}"
            f"    attn.yield {out.name} : {result}\n  }}")
