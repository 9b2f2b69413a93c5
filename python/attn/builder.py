"""attn.attention() and attn.neighborhood(): attention on numpy arrays.

Each call checks its arguments (ValueError naming the argument), writes the
attn IR for the arrays' shapes and dtypes and the attributes (the written
forms of docs/design.md), compiles it once per signature (an LRU cache keyed
by the IR text, the target and the thread count), and runs it. Sizes named
in `dynamic` are written as `?`, so that one compiled function serves every
value of them (a decode loop whose Lk grows compiles once).

dtypes: float32, float16, and bfloat16 as uint16 arrays of bf16 bits (the
result then is uint16 bits too). k and v have q's dtype; a bias may be any
of the three. Quantized k and v (attention only) are int8 with float32
scales [B, Hkv, Lk], or uint8 arrays of float8_e4m3fn bits with float32
scales [Hkv].
"""

import collections
import math
import numbers
import threading

import numpy as np

from . import _attn, mods
from .compiler import check_target, check_threads, compile, explain_source

_ELEMENT_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16",
                  np.dtype(np.uint16): "bf16"}
# The score functions the compiler registers: (name, written kernel<name>,
# feature product: phi(q).phi(k), which never forms q.k).
_SCORE_FUNCTIONS = tuple(_attn.score_functions())
_KERNEL_SCORES = tuple(name for name, kernel, _ in _SCORE_FUNCTIONS if kernel)
_FEATURE_PRODUCTS = tuple(name for name, _, product in _SCORE_FUNCTIONS
                          if product)
SCORES = tuple(name for name, _, _ in _SCORE_FUNCTIONS)

CacheInfo = collections.namedtuple("CacheInfo", "hits misses size maxsize")


class _Cache:
    """Compiled modules by signature, least recently used dropped first."""

    def __init__(self, maxsize=64):
        self.maxsize = maxsize
        self.modules = collections.OrderedDict()
        self.hits = self.misses = 0
        self.lock = threading.Lock()

    def get(self, text, target, threads):
        key = (text, target, threads)
        with self.lock:
            module = self.modules.get(key)
            if module is not None:
                self.hits += 1
                self.modules.move_to_end(key)
                return module
            self.misses += 1
        # A failed compile raises here, before anything is stored.
        module = compile(text, target=target, threads=threads)
        with self.lock:
            self.modules[key] = module
            while len(self.modules) > self.maxsize:
                self.modules.popitem(last=False)
        return module


_cache = _Cache()


def cache_info():
    """(hits, misses, size, maxsize) of the compiled-module cache."""
    return CacheInfo(_cache.hits, _cache.misses, len(_cache.modules),
                     _cache.maxsize)


def clear_cache():
    """Drops every compiled module (and resets the counters)."""
    with _cache.lock:
        _cache.modules.clear()
        _cache.hits = _cache.misses = 0


# --- argument checks -------------------------------------------------------

def _as_array(name, x):
    """x itself when it has .shape and .dtype (ir/explain read only those),
    else np.asarray(x)."""
    if x is None:
        raise ValueError(f"'{name}' is required")
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        x = np.asarray(x)
    return x


def _dims(x):
    return tuple(int(d) for d in x.shape)


def _float_dtype(name, x):
    dtype = np.dtype(x.dtype)
    if dtype not in _ELEMENT_TYPES:
        raise ValueError(f"'{name}' has dtype {dtype}; attn takes float32, "
                         f"float16, or uint16 holding bfloat16 bits")
    return dtype


def _check_qkv(q, k, v, spatial, quantized=()):
    """Shapes and dtypes of q, k, v. spatial: None for attention (rank 4),
    else the neighborhood's allowed spatial ranks. quantized: the names
    among "k", "v" whose dtype _quantized_element checks instead."""
    q, k, v = _as_array("q", q), _as_array("k", k), _as_array("v", v)
    if spatial is None:
        layouts = {4: "[B, H, L, D]"}
    else:
        layouts = {2 + r + 1: "[B, H, " + ", ".join("XYZ"[:r]) + ", D]"
                   for r in spatial}
    for name, x in (("q", q), ("k", k), ("v", v)):
        if len(_dims(x)) not in layouts:
            raise ValueError(f"'{name}' must have the layout "
                             f"{' or '.join(layouts.values())}, got shape "
                             f"{_dims(x)}")
        if min(_dims(x)) < 1:
            raise ValueError(f"'{name}' has an empty dimension: shape "
                             f"{_dims(x)}")
    for name, x in (("k", k), ("v", v)):
        if len(_dims(x)) != len(_dims(q)):
            raise ValueError(f"'{name}' has rank {len(_dims(x))} but 'q' has "
                             f"rank {len(_dims(q))}")
    dtype = _float_dtype("q", q)
    for name, x in (("k", k), ("v", v)):
        if np.dtype(x.dtype) != dtype and name not in quantized:
            raise ValueError(f"'{name}' has dtype {np.dtype(x.dtype)} but "
                             f"'q' has dtype {dtype}; they must match")
    qs, ks, vs = _dims(q), _dims(k), _dims(v)
    for name, s in (("k", ks), ("v", vs)):
        if s[0] != qs[0]:
            raise ValueError(f"'{name}' batch size {s[0]} must equal 'q' "
                             f"batch size {qs[0]}")
    if vs[1] != ks[1]:
        raise ValueError(f"'v' heads {vs[1]} must equal 'k' heads {ks[1]}")
    if qs[1] % ks[1]:
        raise ValueError(f"'q' heads {qs[1]} must be a multiple of 'k' heads "
                         f"{ks[1]} (grouped-query rule Hq % Hkv == 0)")
    if ks[-1] != qs[-1]:
        raise ValueError(f"'k' head dimension {ks[-1]} must equal 'q' head "
                         f"dimension {qs[-1]}")
    if vs[2:-1] != ks[2:-1]:
        raise ValueError(f"'v' positions {vs[2:-1]} must equal 'k' "
                         f"positions {ks[2:-1]}")
    if spatial is not None and ks[2:-1] != qs[2:-1]:
        raise ValueError(f"'k' spatial shape {ks[2:-1]} must equal 'q' "
                         f"spatial shape {qs[2:-1]}")
    return q, k, v


# Quantized K/V: numpy dtype -> (element type, the scales' dimensions of
# k's [B, Hkv, Lk, D], what they are).
_QUANTIZED = {np.dtype(np.int8): ("i8", (0, 1, 2), "[B, Hkv, Lk]"),
              np.dtype(np.uint8): ("f8E4M3FN", (1,), "[Hkv]")}


def _quantized_element(name, x, scale, k):
    """The element type of quantized `name` (k or v) and its checked
    float32 scales; x's element is q's (None, None) without scales."""
    scale_name = name + "_scale"
    dtype = np.dtype(x.dtype)
    if scale is None:
        if dtype in _QUANTIZED:
            raise ValueError(f"'{name}' has dtype {dtype}, a quantized "
                             f"type: it needs '{scale_name}'")
        return None, None
    if dtype not in _QUANTIZED:
        raise ValueError(f"'{scale_name}' needs a quantized '{name}': int8, "
                         f"or uint8 holding float8_e4m3fn bits; got {dtype}")
    element, dims, layout = _QUANTIZED[dtype]
    scale = _as_array(scale_name, scale)
    want = tuple(_dims(k)[d] for d in dims)
    if np.dtype(scale.dtype) != np.float32 or _dims(scale) != want:
        raise ValueError(f"'{scale_name}' must be float32 of shape {want} "
                         f"({layout} for {dtype} '{name}'), got "
                         f"{np.dtype(scale.dtype)} of shape {_dims(scale)}")
    return element, scale


def _broadcast_operand(name, x, q, k, dtypes):
    """mask or bias: [Bx, Hx, Lq, Lk] with Bx in {1, B}, Hx in {1, Hq};
    lower ranks get leading 1s (a view, no copy)."""
    x = _as_array(name, x)
    dtype = np.dtype(x.dtype)
    if dtype not in dtypes:
        raise ValueError(f"'{name}' has dtype {dtype}; it must be "
                         f"{' or '.join(str(d) for d in dtypes)}")
    b, hq, lq = _dims(q)[:3]
    lk = _dims(k)[2]
    rank = len(_dims(x))
    if rank > 4:
        raise ValueError(f"'{name}' must have at most 4 dimensions "
                         f"[B, H, Lq, Lk], got shape {_dims(x)}")
    shape = (1,) * (4 - rank) + _dims(x)
    if (shape[0] not in (1, b) or shape[1] not in (1, hq) or
            shape[2] != lq or shape[3] != lk):
        raise ValueError(f"'{name}' has shape {_dims(x)}, which does not "
                         f"broadcast to [B, H, Lq, Lk] = {[b, hq, lq, lk]} "
                         f"(B and H may be 1; Lq and Lk must match)")
    if rank < 4:
        x = x.reshape(shape) if isinstance(x, np.ndarray) else np.empty(
            shape, dtype)
    return x


def _f32_literal(name, value):
    """An MLIR float literal that round-trips `value` as f32."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"'{name}' must be a number, got {value!r}")
    with np.errstate(over="ignore"):
        x = float(np.float32(value))
    if not math.isfinite(x):
        raise ValueError(f"'{name}' must be finite in float32, got {value!r}")
    f = np.float32(x)
    if x == 0 or 1e-4 <= abs(x) < 1e7:
        return np.format_float_positional(f, unique=True, trim="0")
    return np.format_float_scientific(f, unique=True, trim="0")


def _int(name, value, minimum):
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise ValueError(f"'{name}' must be an int >= {minimum}, got "
                         f"{value!r}")
    return int(value)


def _window(window):
    """(left, right), either None (unbounded), or None for no window.
    An int w means (w, 0): w keys back and none ahead."""
    if window is None:
        return None
    if isinstance(window, numbers.Integral) and not isinstance(window, bool):
        window = (window, 0)
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise ValueError(f"'window' must be None, an int, or (left, right) "
                         f"with None for an unbounded side, got {window!r}")
    left, right = (None if w is None else _int("window", w, 0)
                   for w in window)
    if left is None and right is None:
        return None
    return left, right


def _rule_attrs(scale, causal, window, sinks=0):
    """The written scale, causal, window and sinks attributes (checked), and
    the window's bounds (None without one)."""
    attrs = []
    if scale is not None:
        attrs.append(f"scale = {_f32_literal('scale', scale)} : f32")
    if not isinstance(causal, (bool, np.bool_)):
        raise ValueError(f"'causal' must be a bool, got {causal!r}")
    if causal:
        attrs.append("causal")
    bounds = _window(window)
    if bounds is not None:
        sides = [f"{side} = {n}" for side, n in zip(("left", "right"), bounds)
                 if n is not None]
        attrs.append(f"window = #attn.window<{', '.join(sides)}>")
    sinks = _int("sinks", sinks, 0)
    if sinks and bounds is None:
        raise ValueError("'sinks' exempts keys from a window; it needs "
                         "'window'")
    if sinks:
        attrs.append(f"sinks = {sinks} : i64")
    return attrs, bounds


def _softcap_literal(softcap):
    text = _f32_literal("softcap", softcap)
    if float(text) <= 0:
        raise ValueError(f"'softcap' must be positive, got {softcap!r}")
    return text


def _strategy_attr(strategy):
    """#attn.strategy<...> for a name or (name, {param: value})."""
    if strategy is None:
        return None
    params = {}
    if isinstance(strategy, (tuple, list)) and len(strategy) == 2:
        strategy, params = strategy
    if not isinstance(strategy, str) or not strategy or not isinstance(
            params, dict):
        raise ValueError(f"'strategy' must be a name or (name, {{param: "
                         f"value}}), got {strategy!r}")
    if not params:
        return f'#attn.strategy<"{strategy}">'
    items = []
    for key, value in params.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"'strategy' parameter names must be "
                             f"identifiers, got {key!r}")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, numbers.Integral):
            text = str(int(value))
        elif isinstance(value, numbers.Real):
            text = _f32_literal("strategy", value) + " : f32"
        else:
            raise ValueError(f"'strategy' parameter {key} must be an int, "
                             f"float or bool, got {value!r}")
        items.append(f"{key} = {text}")
    return f'#attn.strategy<"{strategy}", {{{", ".join(items)}}}>'


def _per_axis(name, value, rank, minimum):
    """An int (broadcast to every axis) or one int per spatial axis."""
    values = [value] * rank if isinstance(value, numbers.Integral) else value
    if (isinstance(value, bool) or not isinstance(values, (tuple, list)) or
            len(values) != rank):
        raise ValueError(f"'{name}' must be an int or {rank} ints (one per "
                         f"spatial axis), got {value!r}")
    return [_int(name, v, minimum) for v in values]


def _tensor_type(shape, element):
    """None in `shape` is a dynamic size; () is a 0-d tensor."""
    return "tensor<" + "".join(("?" if d is None else str(d)) + "x"
                               for d in shape) + element + ">"


def _dynamic(dynamic, names):
    """The set of size names in `dynamic` (True: all of `names`)."""
    if dynamic is None or dynamic is False:
        return frozenset()
    if dynamic is True:
        return frozenset(names)
    if isinstance(dynamic, str):
        dynamic = (dynamic,)
    try:
        chosen = frozenset(dynamic)
    except TypeError:
        chosen = None
    if chosen is None or not chosen <= frozenset(names):
        raise ValueError(f"'dynamic' must be True or a collection of "
                         f"{', '.join(repr(n) for n in names)}, got "
                         f"{dynamic!r}")
    return chosen


def _written_shape(name, shape, dynamic):
    """`shape` of the operand `name` with the sizes named in `dynamic` as
    None (`?`): B in q, k, v (and o, do, lse: q's rows) and in a mask or
    bias whose batch is not 1 (a broadcast), Lq and Lk where they appear."""
    shape = list(shape)
    if name == "sink_logits":
        return shape
    if name in ("k_scale", "v_scale"):
        # i8's [B, Hkv, Lk] follows k; f8E4M3FN's [Hkv] has no size to vary.
        if len(shape) == 3:
            if "B" in dynamic:
                shape[0] = None
            if "Lk" in dynamic:
                shape[2] = None
        return shape
    rows = ("q", "o", "do", "lse")
    if "B" in dynamic and (name in rows + ("k", "v") or shape[0] != 1):
        shape[0] = None
    if name in rows and "Lq" in dynamic:
        shape[2] = None
    if name in ("k", "v") and "Lk" in dynamic:
        shape[2] = None
    if name in ("mask", "bias"):
        if "Lq" in dynamic:
            shape[2] = None
        if "Lk" in dynamic:
            shape[3] = None
    return shape


def _entry_text(op, args, tables, ins, extra, inits, results, attrs,
                strategy, regions):
    """func @main applying `op` to its arguments, returning its results.
    args: (name, type) of the arguments, then the arrays the mods capture
    (`tables`, mods._TableArg); the first `ins` arguments are the op's
    `ins`, those named in `extra` (mask, bias, sink_logits) its clauses;
    inits: (name, type, shape, source) of the op's `outs`, each a
    tensor.empty whose dynamic sizes (None in `shape`) are those of the
    argument `source`; results: the op's result types; regions: the mods'
    region texts."""
    strategy_attr = _strategy_attr(strategy)
    if strategy_attr:
        attrs = attrs + [f"strategy = {strategy_attr}"]
    types = dict(args)
    params = ", ".join([f"%{name}: {type_}" for name, type_ in args] +
                       [f"{table.ssa}: {table.type}" for table in tables])
    lines = []
    for name, type_, shape, source in inits:
        operands = []
        for d, size in enumerate(shape):
            if size is None:
                lines.append(f"  %{name}_c{d} = arith.constant {d} : index\n"
                             f"  %{name}_d{d} = tensor.dim %{source}, "
                             f"%{name}_c{d} : {types[source]}\n")
                operands.append(f"%{name}_d{d}")
        lines.append(f"  %{name} = tensor.empty({', '.join(operands)}) : "
                     f"{type_}\n")
    clauses = [f"ins({', '.join('%' + name for name, _ in args[:ins])} : "
               f"{', '.join(type_ for _, type_ in args[:ins])})"]
    clauses += [f"{name}(%{name} : {types[name]})" for name in extra]
    clauses.append(f"outs({', '.join('%' + init[0] for init in inits)} : "
                   f"{', '.join(init[1] for init in inits)})")
    attr_dict = " {" + ", ".join(attrs) + "}" if attrs else ""
    body = f"\n{' ' * (len(op) + 8)}".join(clauses)
    region_text = "".join(f"\n  {region}" for region in regions)
    result_text = ", ".join(results)
    if len(results) == 1:
        defined = values = "%r"
    else:
        defined = f"%r:{len(results)}"
        values = ", ".join(f"%r#{n}" for n in range(len(results)))
    return (f"func.func @main({params}) -> ({result_text}) {{\n" +
            "".join(lines) +
            f"  {defined} = {op} {body}{attr_dict}{region_text} -> "
            f"{result_text}\n"
            f"  return {values} : {result_text}\n"
            f"}}\n")


def _operand_types(args, dynamic):
    """(name, type) and written shapes of (name, shape, element) operands,
    the sizes named in `dynamic` written as `?`."""
    shapes = {name: _written_shape(name, shape, dynamic)
              for name, shape, _ in args}
    return ([(name, _tensor_type(shapes[name], element))
             for name, _, element in args], shapes)


def _backward_function(q, k, v, attrs, strategy, extra, dynamic, tables,
                       regions, op="attn.attention_backward", with_lse=True):
    """func @main(%q, %k, %v, %o, %do, %lse, *extra, *tables) returning the
    gradients of `op` (attn.attention_backward or
    attn.neighborhood_backward): dq, dk, dv, then dbias and dsink when
    extra has bias and sink_logits. Without `with_lse` (kernel scores)
    there is no %lse."""
    element = _ELEMENT_TYPES[np.dtype(q.dtype)]
    out = _dims(q)[:-1] + (_dims(v)[-1],)
    inputs = [("q", _dims(q), element), ("k", _dims(k), element),
              ("v", _dims(v), element), ("o", out, element),
              ("do", out, element)]
    if with_lse:
        inputs.append(("lse", out[:-1], "f32"))
    args, shapes = _operand_types(inputs + list(extra), dynamic)
    types = dict(args)
    differentiated = ["q", "k", "v"] + [name for name, _, _ in extra
                                        if name in ("bias", "sink_logits")]
    inits = [(f"d{name}_init", types[name], shapes[name], name)
             for name in differentiated]
    return _entry_text(op, args, tables, len(inputs),
                       [name for name, _, _ in extra], inits,
                       [types[name] for name in differentiated], attrs,
                       strategy, regions)


def _function(op, q, k, v, attrs, strategy, extra=(), dynamic=frozenset(),
              tables=(), regions=(), statistics=0, kv_elements=(None, None)):
    """func @main(%q, %k, %v, *extra, *tables) applying `op` with `attrs`,
    the strategy and the mod regions (text); extra: (name, shape, element
    type) of mask, bias and sink_logits, each written as a clause; tables:
    the arrays the mods capture (mods._TableArg). Sizes named in `dynamic`
    are written as `?` (_written_shape). statistics: how many f32
    [B, Hq, Lq] results (LSE, entropy) follow the output. kv_elements: the
    element types of quantized k and v (None: q's)."""
    element = _ELEMENT_TYPES[np.dtype(q.dtype)]
    args, shapes = _operand_types(
        [("q", _dims(q), element), ("k", _dims(k), kv_elements[0] or element),
         ("v", _dims(v), kv_elements[1] or element)] + list(extra), dynamic)
    result_shape = shapes["q"][:-1] + [_dims(v)[-1]]
    result = _tensor_type(result_shape, element)
    row_type = _tensor_type(result_shape[:-1], "f32")
    # The destination's dynamic sizes are q's.
    return _entry_text(op, args, tables, 3, [name for name, _, _ in extra],
                       [("init", result, result_shape, "q")],
                       [result] + [row_type] * statistics, attrs, strategy,
                       regions)


def _mod_regions(score_mod, mask_mod, positions, pair_bounds=None):
    """(region texts, captured tables) of the mods traced over the block
    arguments b, h and `positions`: (name, range or None) pairs, the range
    being [lo, hi] of that index (None: a dynamic size). pair_bounds: what
    score_mod may assume of key - query coordinates (mods._Trace)."""
    tables = {}
    regions = []
    index_args = [(name, ("index", range_)) for name, range_ in positions]
    if score_mod is not None:
        regions.append(mods.trace(score_mod, "score_mod",
                                  [("s", ("f32", None))] + index_args, "f32",
                                  tables, pair_bounds))
    if mask_mod is not None:
        regions.append(mods.trace(mask_mod, "mask_mod", index_args, "i1",
                                  tables))
    return regions, list(tables.values())


def _upto(size, dynamic):
    return None if dynamic else (0, size - 1)


# --- attention ------------------------------------------------------------

def _attention_plan(q, k, v, *, scale=None, causal=False, window=None,
                    sinks=0, softcap=None, score="softmax", normalize=True,
                    mask=None, bias=None, score_mod=None, mask_mod=None,
                    sink_logits=None, return_lse=False, return_entropy=False,
                    strategy=None, dynamic=None, backward=None, k_scale=None,
                    v_scale=None):
    """(IR text, arrays to pass) of attn.attention for these arguments; with
    backward = (out, grad_out, lse), of attn.attention_backward."""
    # Quantized k / v: given a scale, or of a quantized dtype (which
    # _quantized_element then asks a scale for).
    quantized = [name for name, x, scale in (("k", k, k_scale),
                                             ("v", v, v_scale))
                 if scale is not None or
                 np.dtype(getattr(x, "dtype", None)) in _QUANTIZED]
    if quantized and backward is not None:
        raise ValueError("quantized k and v ('k_scale', 'v_scale') have no "
                         "backward: attention_backward takes float k and v")
    q, k, v = _check_qkv(q, k, v, None, quantized)
    dynamic = _dynamic(dynamic, ("B", "Lq", "Lk"))
    attrs, bounds = _rule_attrs(scale, causal, window, sinks)
    if score not in SCORES:
        raise ValueError(f"'score' must be one of {', '.join(SCORES)}, got "
                         f"{score!r}")
    if not isinstance(normalize, (bool, np.bool_)):
        raise ValueError(f"'normalize' must be a bool, got {normalize!r}")
    if not normalize and score not in _KERNEL_SCORES:
        raise ValueError(f"'normalize' = False applies to kernel scores "
                         f"({', '.join(_KERNEL_SCORES)}), not {score!r}")
    if softcap is not None:
        text = _softcap_literal(softcap)
        if score in _FEATURE_PRODUCTS:
            raise ValueError(f"'softcap' cannot apply to score {score!r}: "
                             f"that feature map never forms q.k")
        attrs.append(f"softcap = {text} : f32")
    if score in _KERNEL_SCORES:
        suffix = "" if normalize else ", normalize = false"
        attrs.append(f"score = #attn.score<kernel<{score}>{suffix}>")
    elif score != "softmax":
        attrs.append(f"score = #attn.score<{score}>")

    arrays = [q, k, v]
    extra = []
    kv_elements = []
    for name, x, scale in (("k", k, k_scale), ("v", v, v_scale)):
        element, scale = _quantized_element(name, x, scale, k)
        kv_elements.append(element)
        if element is not None:
            extra.append((name + "_scale", _dims(scale), "f32"))
            arrays.append(scale)
    if mask is not None:
        mask = _broadcast_operand("mask", mask, q, k, (np.dtype(np.bool_),))
        extra.append(("mask", _dims(mask), "i1"))
        arrays.append(mask)
    if bias is not None:
        if score in _FEATURE_PRODUCTS:
            raise ValueError(f"'bias' cannot apply to score {score!r}: that "
                             f"feature map never forms q.k")
        bias = _broadcast_operand("bias", bias, q, k, tuple(_ELEMENT_TYPES))
        extra.append(("bias", _dims(bias),
                      _ELEMENT_TYPES[np.dtype(bias.dtype)]))
        arrays.append(bias)
    if sink_logits is not None:
        if score != "softmax":
            raise ValueError(f"'sink_logits' applies to score 'softmax' "
                             f"only, not {score!r}")
        hq = _dims(q)[1]
        extra.append(("sink_logits", (hq,), "f32"))
        arrays.append(_sink_logits_array(sink_logits, hq))
    if score_mod is not None and score in _FEATURE_PRODUCTS:
        raise ValueError(f"'score_mod' cannot apply to score {score!r}: "
                         f"that feature map never forms q.k")
    for name, flag in (("return_lse", return_lse),
                       ("return_entropy", return_entropy)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"'{name}' must be a bool, got {flag!r}")
    if return_lse and score != "softmax":
        raise ValueError(f"'return_lse' applies to score 'softmax' only, "
                         f"not {score!r}")
    if return_entropy and not normalize:
        raise ValueError("'return_entropy' needs normalized weights "
                         "(normalize=True)")
    attrs += [name for name, flag in (("return_lse", return_lse),
                                      ("return_entropy", return_entropy))
              if flag]
    b, hq, lq = _dims(q)[:3]
    regions, tables = _mod_regions(
        score_mod, mask_mod,
        [("b", _upto(b, "B" in dynamic)), ("h", (0, hq - 1)),
         ("i", _upto(lq, "Lq" in dynamic)),
         ("j", _upto(_dims(k)[2], "Lk" in dynamic))])
    if backward is not None:
        backward = [array for array in backward if array is not None]
        text = _backward_function(q, k, v, attrs, strategy, extra, dynamic,
                                  tables, regions,
                                  with_lse=len(backward) == 3)
        return text, (arrays[:3] + backward + arrays[3:] +
                      [table.array for table in tables])
    text = _function("attn.attention", q, k, v, attrs, strategy, extra,
                     dynamic, tables, regions,
                     statistics=int(bool(return_lse)) + int(bool(return_entropy)),
                     kv_elements=kv_elements)
    return text, arrays + [table.array for table in tables]


def attention(q, k, v, *, scale=None, causal=False, window=None, sinks=0,
              softcap=None, score="softmax", normalize=True, mask=None,
              bias=None, score_mod=None, mask_mod=None, sink_logits=None,
              return_lse=False, return_entropy=False, strategy=None,
              target="cpu", threads=0, dynamic=None, k_scale=None,
              v_scale=None, out=None):
    """attn.attention on numpy arrays; returns [B, Hq, Lq, Dv] in q's dtype,
    or with return_lse / return_entropy the tuple (out, lse, entropy) of
    those asked for.

    q [B, Hq, Lq, D], k [B, Hkv, Lk, D], v [B, Hkv, Lk, Dv], Hq % Hkv == 0.
    scale: default 1/sqrt(D). causal: bottom-right aligned (j <= i + Lk-Lq).
    window: None; (left, right) with None for an unbounded side; or an int
    w, meaning (w, 0). sinks: keys j < sinks are exempt from the window.
    softcap: s -> c tanh(s / c). score: one of SCORES, the score functions
    the compiler registers: "softmax", "softplus", or a kernel score
    "elu1", "relu", "taylor2", "identity", "sigmoid"; normalize=False drops
    the division by the weights' sum (kernel scores only).
    mask: bool, True = may attend, [Bm, Hm, Lq, Lk] (Bm, Hm: 1 or full;
    fewer dimensions get leading 1s). bias: added to the scores, same
    shapes. score_mod(s, b, h, i, j) -> new score and mask_mod(b, h, i, j)
    -> bool: plain Python functions, traced into the op's regions (see
    attn.mods for what traces; numpy arrays they capture, such as slopes or
    segment ids, are passed to the compiled code, never an Lq x Lk tensor).
    score_mod sees the scaled score after bias and softcap; mask_mod joins
    causal, window and mask. sink_logits: float32 [Hq], a learnable logit
    per head that joins each row's normalization and carries no value.
    return_lse: also return each row's log-sum-exp of its scores, natural
    log, float32 [B, Hq, Lq] (-inf where no key is allowed; softmax only),
    for merge_states. return_entropy: also return each row's entropy
    -sum_j w ln w of its weights (0 where no key is allowed).
    strategy: a name or (name, {param: value}), written on the op.
    threads: 0 = all cores. dynamic: sizes compiled as run-time values,
    True or any of "B", "Lq", "Lk": calls that differ only in those reuse
    one compiled function (a decode loop with a growing Lk compiles once;
    the cost model then assumes typical sizes for them).
    k_scale, v_scale: quantized K/V. k (or v) int8 with float32 scales
    [B, Hkv, Lk] (element = scale * int), or uint8 holding float8_e4m3fn
    bits with float32 scales [Hkv]; dequantized as they are read, math in
    float32.
    out: arrays to write the results into instead of new ones (one array,
    or a tuple with one per result), C-contiguous and writable, of the
    results' dtypes and shapes; they are returned. A loop that passes the
    same arrays each call allocates nothing for its results.
    """
    text, arrays = _attention_plan(
        q, k, v, scale=scale, causal=causal, window=window, sinks=sinks,
        softcap=softcap, score=score, normalize=normalize, mask=mask,
        bias=bias, score_mod=score_mod, mask_mod=mask_mod,
        sink_logits=sink_logits, return_lse=return_lse,
        return_entropy=return_entropy, strategy=strategy, dynamic=dynamic,
        k_scale=k_scale, v_scale=v_scale)
    return _run(text, arrays, target, threads, out)


def attention_backward(q, k, v, out, grad_out, lse=None, *, scale=None,
                       causal=False, window=None, sinks=0, softcap=None,
                       score="softmax", normalize=True, mask=None, bias=None,
                       score_mod=None, mask_mod=None, sink_logits=None,
                       strategy=None, target="cpu", threads=0, dynamic=None):
    """attn.attention_backward: the gradients of sum(grad_out * out) for
    attention, where (out, lse) = attention(q, k, v, ...,
    return_lse=True) with the same keyword arguments (softmax), or out =
    attention(q, k, v, ..., score=score, normalize=normalize) and no lse
    (kernel scores and softplus: the backward forms each row's normalizer
    again). Returns (dq, dk, dv) in the dtypes of q, k, v, then
    dbias (bias's shape and dtype, summed
    over its broadcast dimensions) when `bias` is given and dsink (float32
    [Hq]) when `sink_logits` is. score_mod is differentiated with respect
    to its score; captured tables get no gradient. Grouped-query heads sum
    dk and dv over their group; rows with no allowed key contribute
    nothing. out and grad_out: q's dtype, [B, Hq, Lq, Dv]; lse: float32
    [B, Hq, Lq]."""
    q, k, v = _check_qkv(q, k, v, None)
    # Softmax takes the forward's LSE; every other score forms each row's
    # normalizer again.
    takes_lse = score == "softmax"
    if not takes_lse and score in SCORES and lse is not None:
        raise ValueError(f"'lse' must be None with the score {score!r}: its "
                         f"backward forms each row's normalizer again")
    if takes_lse and lse is None:
        raise ValueError(f"'lse' (the forward's return_lse result) is "
                         f"needed with score {score!r}")
    out, grad_out, lse = _check_backward_inputs(q, v, out, grad_out, lse)
    text, arrays = _attention_plan(
        q, k, v, scale=scale, causal=causal, window=window, sinks=sinks,
        softcap=softcap, score=score, normalize=normalize, mask=mask,
        bias=bias, score_mod=score_mod, mask_mod=mask_mod,
        sink_logits=sink_logits, strategy=strategy, dynamic=dynamic,
        backward=(out, grad_out, lse))
    return _run(text, arrays, target, threads)


# --- neighborhood ---------------------------------------------------------

def _neighborhood_plan(q, k, v, kernel, dilation=1, causal=False, stride=1,
                       scale=None, score_mod=None, mask_mod=None,
                       strategy=None, dynamic=None, return_lse=False,
                       backward=None):
    """(IR text, arrays to pass) of attn.neighborhood for these arguments;
    with backward = (out, grad_out, lse), of attn.neighborhood_backward."""
    q, k, v = _check_qkv(q, k, v, (1, 2, 3))
    spatial = _dims(q)[2:-1]
    rank = len(spatial)
    kernel = _per_axis("kernel", kernel, rank, 1)
    dilation = _per_axis("dilation", dilation, rank, 1)
    stride = _per_axis("stride", stride, rank, 1)
    if isinstance(causal, (bool, np.bool_)):
        causal = [bool(causal)] * rank
    if (not isinstance(causal, (tuple, list)) or len(causal) != rank or
            not all(isinstance(c, (bool, np.bool_)) for c in causal)):
        raise ValueError(f"'causal' must be a bool or {rank} bools (one per "
                         f"spatial axis), got {causal!r}")
    for axis in range(rank):
        if kernel[axis] * dilation[axis] > spatial[axis]:
            raise ValueError(
                f"'kernel' {kernel[axis]} * 'dilation' {dilation[axis]} on "
                f"axis {axis} exceeds the extent {spatial[axis]}")
        if stride[axis] > kernel[axis]:
            raise ValueError(f"'stride' {stride[axis]} on axis {axis} must "
                             f"not exceed the kernel size {kernel[axis]}")
    ints = lambda xs: "[" + ", ".join(str(x) for x in xs) + "]"
    attrs = [f"kernel = {ints(kernel)}"]
    if any(d != 1 for d in dilation):
        attrs.append(f"dilation = {ints(dilation)}")
    if any(causal):
        attrs.append("causal = [" + ", ".join(
            "true" if c else "false" for c in causal) + "]")
    if any(s != 1 for s in stride):
        attrs.append(f"stride = {ints(stride)}")
    if scale is not None:
        attrs.append(f"scale = {_f32_literal('scale', scale)} : f32")
    dynamic = _dynamic(dynamic, ("B",))
    positions = [("b", _upto(_dims(q)[0], "B" in dynamic)),
                 ("h", (0, _dims(q)[1] - 1))]
    for prefix in "qk":
        positions += [(f"{prefix}{axis}", (0, n - 1))
                      for axis, n in enumerate(spatial)]
    # score_mod runs at the pairs a neighborhood allows (docs/design.md), so
    # on each axis key - query lies within the window, which a stride may
    # move by s - 1 group positions (a causal window never passes i).
    pair_bounds = {}
    for axis, n in enumerate(spatial):
        reach = (kernel[axis] - 1 + (0 if causal[axis] else stride[axis] - 1)
                 ) * dilation[axis]
        pair_bounds[(f"k{axis}", f"q{axis}")] = (
            -min(reach, n - 1), 0 if causal[axis] else min(reach, n - 1))
    regions, tables = _mod_regions(score_mod, mask_mod, positions,
                                   pair_bounds)
    table_arrays = [table.array for table in tables]
    if backward is not None:
        text = _backward_function(q, k, v, attrs, strategy, [], dynamic,
                                  tables, regions,
                                  op="attn.neighborhood_backward")
        return text, [q, k, v] + list(backward) + table_arrays
    if not isinstance(return_lse, (bool, np.bool_)):
        raise ValueError(f"'return_lse' must be a bool, got {return_lse!r}")
    if return_lse:
        attrs.append("return_lse")
    text = _function("attn.neighborhood", q, k, v, attrs, strategy,
                     dynamic=dynamic, tables=tables, regions=regions,
                     statistics=int(bool(return_lse)))
    return text, [q, k, v] + table_arrays


def neighborhood(q, k, v, kernel, dilation=1, causal=False, *, stride=1,
                 scale=None, score_mod=None, mask_mod=None, return_lse=False,
                 strategy=None, target="cpu", threads=0, dynamic=None,
                 out=None):
    """attn.neighborhood (NATTEN semantics) on numpy arrays.

    q [B, Hq, *spatial, D], k and v [B, Hkv, *spatial, D or Dv], with 1, 2
    or 3 spatial axes. kernel, dilation, stride: an int for every axis or
    one per axis; causal: a bool for every axis or one per axis. dynamic:
    True or ("B",) compiles the batch size as a run-time value.
    score_mod(s, b, h, *query_coords, *key_coords) and mask_mod(b, h,
    *query_coords, *key_coords), traced as in attention(): NATTEN-style
    relative positional bias on a 2-D neighborhood is
    score_mod=lambda s, b, h, qx, qy, kx, ky:
        s + rpb[h, kx - qx + kernel - 1, ky - qy + kernel - 1].
    return_lse: also return each query's log-sum-exp of its scores, natural
    log, float32 [B, Hq, *spatial], which neighborhood_backward takes.
    out: arrays to write the results into, as in attention().
    """
    text, arrays = _neighborhood_plan(q, k, v, kernel, dilation, causal,
                                      stride, scale, score_mod, mask_mod,
                                      strategy, dynamic, return_lse)
    return _run(text, arrays, target, threads, out)


def _check_backward_inputs(q, v, out, grad_out, lse):
    """out, grad_out and lse as arrays, checked against q and v: out and
    grad_out of q's dtype and shape with v's last dimension, lse float32 of
    q's shape without its last dimension (or None: kernel scores)."""
    rows = _dims(q)[:-1]
    shape = rows + (_dims(v)[-1],)
    out = _as_array("out", out)
    grad_out = _as_array("grad_out", grad_out)
    for name, array in (("out", out), ("grad_out", grad_out)):
        if array.dtype != q.dtype or _dims(array) != shape:
            raise ValueError(f"'{name}' must be {q.dtype} of shape {shape} "
                             f"(q's rows, v's head dimension), got "
                             f"{array.dtype} of shape {_dims(array)}")
    if lse is None:
        return out, grad_out, None
    lse = _as_array("lse", lse)
    if np.dtype(lse.dtype) != np.float32 or _dims(lse) != rows:
        raise ValueError(f"'lse' must be float32 of shape {rows} (the "
                         f"forward's return_lse result), got {lse.dtype} "
                         f"of shape {_dims(lse)}")
    return out, grad_out, lse


def neighborhood_backward(q, k, v, out, grad_out, lse, kernel, dilation=1,
                          causal=False, *, stride=1, scale=None,
                          score_mod=None, mask_mod=None, strategy=None,
                          target="cpu", threads=0, dynamic=None):
    """attn.neighborhood_backward: the gradients of sum(grad_out * out) for
    neighborhood attention, where (out, lse) = neighborhood(q, k, v, ...,
    return_lse=True) with the same arguments. Returns (dq, dk, dv) in the
    dtypes of q, k, v; score_mod is differentiated with respect to its
    score (captured tables get no gradient); grouped-query heads sum dk and
    dv over their group. out and grad_out: q's dtype, [B, Hq, *spatial,
    Dv]; lse: float32 [B, Hq, *spatial]."""
    q, k, v = _check_qkv(q, k, v, (1, 2, 3))
    if lse is None:
        raise ValueError("'lse' (the forward's return_lse result) is needed")
    backward = _check_backward_inputs(q, v, out, grad_out, lse)
    text, arrays = _neighborhood_plan(q, k, v, kernel, dilation, causal,
                                      stride, scale, score_mod, mask_mod,
                                      strategy, dynamic, backward=backward)
    return _run(text, arrays, target, threads)


# --- shared ---------------------------------------------------------------

# --- merge_states ---------------------------------------------------------

def merge_states(states, *, target="cpu", threads=0):
    """attn.merge_states: the exact merge of attention states over disjoint
    key sets. states: a sequence of (out, lse) pairs, as attention(...,
    return_lse=True) returns them: out [..., Dv] (float32, float16 or
    bfloat16 as uint16, all alike), lse float32 [...] (out's shape without
    its last dimension). Returns (out, lse) of attention over the union of
    the key sets: lse = ln sum_k exp(lse_k), out = sum_k exp(lse_k - lse)
    out_k (0 and -inf where every lse_k is -inf). With (out, lse, entropy)
    triples (entropy float32 of lse's shape, as return_entropy=True gives
    it), every state must be one and the result is (out, lse, entropy): the
    entropy of the merged weights, sum_k w_k (H_k - ln w_k) with
    w_k = exp(lse_k - lse)."""
    states = list(states)
    if not states:
        raise ValueError("'states' must hold at least one (out, lse) pair")
    arrays, entropies = [], []
    with_entropy = isinstance(states[0], (tuple, list)) and len(states[0]) == 3
    width = 3 if with_entropy else 2
    for n, state in enumerate(states):
        if not isinstance(state, (tuple, list)) or len(state) != width:
            raise ValueError(
                f"state {n} must be " +
                ("a triple (out, lse, entropy), as state 0 is"
                 if with_entropy else "a pair (out, lse)") +
                f", got {type(state).__name__}" +
                (f" of {len(state)}" if isinstance(state, (tuple, list))
                 else ""))
        out = _as_array(f"state {n} out", state[0])
        lse = _as_array(f"state {n} lse", state[1])
        if np.dtype(out.dtype) not in _ELEMENT_TYPES or out.ndim < 1:
            raise ValueError(f"state {n}: out must be float32, float16 or "
                             f"bfloat16 (uint16) of rank >= 1, got "
                             f"{out.dtype} of shape {out.shape}")
        first = arrays[0] if arrays else out
        if out.dtype != first.dtype or out.shape != first.shape:
            raise ValueError(f"state {n}: out is {out.dtype} {out.shape}, "
                             f"state 0's {first.dtype} {first.shape}")
        for name, rows in [("lse", lse)] + (
                [("entropy", _as_array(f"state {n} entropy", state[2]))]
                if with_entropy else []):
            if np.dtype(rows.dtype) != np.float32 or \
                    rows.shape != out.shape[:-1]:
                raise ValueError(f"state {n}: {name} must be float32 of "
                                 f"shape {out.shape[:-1]}, got {rows.dtype} "
                                 f"{rows.shape}")
            if name == "entropy":
                entropies.append(rows)
        arrays += [out, lse]
    out_type = _tensor_type(arrays[0].shape,
                            _ELEMENT_TYPES[np.dtype(arrays[0].dtype)])
    rows_type = _tensor_type(arrays[1].shape, "f32")
    operands = arrays + entropies
    params = ", ".join(
        f"%s{n}: {out_type if n < len(arrays) and n % 2 == 0 else rows_type}"
        for n in range(len(operands)))
    names = ", ".join(f"%s{n}" for n in range(len(arrays)))
    types = ", ".join([out_type, rows_type] * len(states))
    result_types = [out_type, rows_type] + ([rows_type] if with_entropy
                                            else [])
    results = ["%o", "%lse"] + (["%h"] if with_entropy else [])
    inits = ["%oi", "%li"] + (["%hi"] if with_entropy else [])
    clause = ""
    if with_entropy:
        entropy_names = ", ".join(f"%s{n}" for n in
                                  range(len(arrays), len(operands)))
        clause = (f" entropy({entropy_names} : "
                  f"{', '.join([rows_type] * len(states))})")
    text = (f"func.func @main({params}) -> ({', '.join(result_types)}) {{\n"
            f"  %oi = tensor.empty() : {out_type}\n"
            f"  %li = tensor.empty() : {rows_type}\n" +
            (f"  %hi = tensor.empty() : {rows_type}\n" if with_entropy
             else "") +
            f"  {', '.join(results)} = attn.merge_states ins({names} : "
            f"{types}){clause}\n"
            f"      outs({', '.join(inits)} : {', '.join(result_types)}) -> "
            f"{', '.join(result_types)}\n"
            f"  return {', '.join(results)} : {', '.join(result_types)}\n"
            f"}}\n")
    return _run(text, operands, target, threads)


# A paged cache's quantized scales: dtype -> (the scales' dimensions of the
# cache's [pages, Hkv, page_size, D], what they are).
_PAGED_SCALES = {np.dtype(np.int8): ((0, 1, 2), "[pages, Hkv, page_size]"),
                 np.dtype(np.uint8): ((1,), "[Hkv]")}


def _sink_logits_array(sink_logits, hq):
    """sink_logits as an array: float32 [Hq], one logit per query head."""
    sink_logits = _as_array("sink_logits", sink_logits)
    if np.dtype(sink_logits.dtype) != np.float32 or _dims(
            sink_logits) != (hq,):
        raise ValueError(f"'sink_logits' must be float32 of shape ({hq},) "
                         f"(one logit per query head), got "
                         f"{np.dtype(sink_logits.dtype)} of shape "
                         f"{_dims(sink_logits)}")
    return sink_logits


def _paged_plan(q, k_cache, v_cache, page_table, key_lengths, *, scale=None,
                causal=False, window=None, sinks=0, softcap=None,
                strategy=None,
                dynamic=None, k_scale=None, v_scale=None, sink_logits=None,
                return_lse=False):
    """(IR text, arrays to pass) of attn.paged_attention."""
    q = _as_array("q", q)
    caches = {"k_cache": _as_array("k_cache", k_cache),
              "v_cache": _as_array("v_cache", v_cache)}
    table = _as_array("page_table", page_table)
    lengths = _as_array("key_lengths", key_lengths)
    dtype = _float_dtype("q", q)
    if len(_dims(q)) != 4 or min(_dims(q)) < 1:
        raise ValueError(f"'q' must be a non-empty [B, Hq, Lq, D], got shape "
                         f"{_dims(q)}")
    b, hq, lq, d = _dims(q)
    scales = {"k_cache": k_scale, "v_cache": v_scale}
    elements, arrays, extra = {}, [], []
    for name, cache in caches.items():
        if len(_dims(cache)) != 4 or min(_dims(cache)) < 1:
            raise ValueError(f"'{name}' must be a non-empty [pages, Hkv, "
                             f"page_size, D], got shape {_dims(cache)}")
        scale_name = name[0] + "_scale"
        cache_dtype = np.dtype(cache.dtype)
        given = scales[name]
        if cache_dtype in _PAGED_SCALES:
            if given is None:
                raise ValueError(f"'{name}' has dtype {cache_dtype}, a "
                                 f"quantized type: it needs '{scale_name}'")
            dims, layout = _PAGED_SCALES[cache_dtype]
            given = _as_array(scale_name, given)
            want = tuple(_dims(cache)[x] for x in dims)
            if np.dtype(given.dtype) != np.float32 or _dims(given) != want:
                raise ValueError(
                    f"'{scale_name}' must be float32 of shape {want} "
                    f"({layout} for {cache_dtype} '{name}'), got "
                    f"{np.dtype(given.dtype)} of shape {_dims(given)}")
            elements[name] = _QUANTIZED[cache_dtype][0]
            extra.append((scale_name, want))
            arrays.append(given)
        elif given is not None:
            raise ValueError(f"'{scale_name}' needs a quantized '{name}': "
                             f"int8, or uint8 holding float8_e4m3fn bits; "
                             f"got {cache_dtype}")
        elif cache_dtype != dtype:
            raise ValueError(f"'{name}' has dtype {cache_dtype} but 'q' has "
                             f"dtype {dtype}; they must match")
        else:
            elements[name] = _ELEMENT_TYPES[dtype]
    ks, vs = _dims(caches["k_cache"]), _dims(caches["v_cache"])
    if vs[:3] != ks[:3]:
        raise ValueError(f"'v_cache' pages, heads and page size {vs[:3]} "
                         f"must equal 'k_cache' {ks[:3]}")
    if hq % ks[1]:
        raise ValueError(f"'q' heads {hq} must be a multiple of 'k_cache' "
                         f"heads {ks[1]} (grouped-query rule Hq % Hkv == 0)")
    if ks[3] != d:
        raise ValueError(f"'k_cache' head dimension {ks[3]} must equal 'q' "
                         f"head dimension {d}")
    if np.dtype(table.dtype) != np.int32 or len(_dims(table)) != 2 or \
            _dims(table)[0] != b:
        raise ValueError(f"'page_table' must be int32 of shape ({b}, T), "
                         f"got {np.dtype(table.dtype)} of shape "
                         f"{_dims(table)}")
    if np.dtype(lengths.dtype) != np.int32 or _dims(lengths) != (b,):
        raise ValueError(f"'key_lengths' must be int32 of shape ({b},), got "
                         f"{np.dtype(lengths.dtype)} of shape "
                         f"{_dims(lengths)}")
    if sink_logits is not None:
        extra.append(("sink_logits", (hq,)))
        arrays.append(_sink_logits_array(sink_logits, hq))
    if not isinstance(return_lse, (bool, np.bool_)):
        raise ValueError(f"'return_lse' must be a bool, got {return_lse!r}")
    # Lengths and the pages they use are checked on every call, by the
    # runtime (runtime/EntryCheck.cpp), for every caller alike.
    dynamic = _dynamic(dynamic, ("B", "Lq", "pages", "T"))
    attrs, _ = _rule_attrs(scale, causal, window, sinks)
    if softcap is not None:
        attrs.append(f"softcap = {_softcap_literal(softcap)} : f32")
    if return_lse:
        attrs.append("return_lse")

    def shape(dims, names):
        return [None if n in dynamic else x for x, n in zip(dims, names)]
    element = _ELEMENT_TYPES[dtype]
    cache_names = ("pages", "", "", "")
    args = [("q", _tensor_type(shape((b, hq, lq, d), ("B", "", "Lq", "")),
                               element)),
            ("k_cache", _tensor_type(shape(ks, cache_names),
                                     elements["k_cache"])),
            ("v_cache", _tensor_type(shape(vs, cache_names),
                                     elements["v_cache"])),
            ("page_table", _tensor_type(shape(_dims(table), ("B", "T")),
                                        "i32")),
            ("key_lengths", _tensor_type(shape((b,), ("B",)), "i32"))]
    args += [(name, _tensor_type(shape(want, cache_names if len(want) == 3
                                       else ("",)), "f32"))
             for name, want in extra]
    result_shape = shape((b, hq, lq, vs[3]), ("B", "", "Lq", ""))
    result = _tensor_type(result_shape, element)
    results = [result]
    if return_lse:
        results.append(_tensor_type(result_shape[:-1], "f32"))
    text = _entry_text("attn.paged_attention", args, (), 5,
                       [name for name, _ in extra],
                       [("init", result, result_shape, "q")], results,
                       attrs, strategy, ())
    return text, [q, caches["k_cache"], caches["v_cache"], table,
                  lengths] + arrays


def paged_attention(q, k_cache, v_cache, page_table, key_lengths, *,
                    scale=None, causal=False, window=None, sinks=0,
                    softcap=None,
                    strategy=None, target="cpu", threads=0, dynamic=None,
                    k_scale=None, v_scale=None, sink_logits=None,
                    return_lse=False, out=None):
    """attn.paged_attention: attention of each request over its keys in a
    paged KV cache (serving: decode, Lq = 1, and chunked prefill, Lq > 1).
    Returns [B, Hq, Lq, Dv] in q's dtype, or with return_lse the tuple
    (out, lse).

    q [B, Hq, Lq, D]; k_cache [pages, Hkv, page_size, D] and v_cache
    [pages, Hkv, page_size, Dv]; page_table int32 [B, T]: request b's key t
    is in page page_table[b, t // page_size], slot t % page_size;
    key_lengths int32 [B]: request b's keys, 0 <= key_lengths[b] <=
    T * page_size. A request's Lq queries are its last Lq positions: causal
    is bottom-right per request (t <= i + key_lengths[b] - Lq), and so is a
    window; rows with no key are zeros. scale, causal, window, sinks,
    softcap as in attention(): sinks are each request's own first keys. Quantized caches: int8 with float32 k_scale / v_scale
    [pages, Hkv, page_size] (one per cached key), or uint8 float8_e4m3fn
    bits with [Hkv]. dynamic: True or any of "B", "Lq", "pages", "T" (a
    serving loop whose tables grow compiles once). Out-of-range lengths and
    page indices are ValueErrors. sink_logits (float32 [Hq]) and
    return_lse (float32 [B, Hq, Lq], natural log, -inf for a row with no
    key) as in attention(): with the LSE, attention over
    a shared prefix and over each request's own pages merge exactly
    (merge_states). out: as in attention(); a serving loop that passes its
    output array(s) each step allocates nothing for them.
    """
    text, arrays = _paged_plan(
        q, k_cache, v_cache, page_table, key_lengths, scale=scale,
        causal=causal, window=window, sinks=sinks, softcap=softcap,
        strategy=strategy, dynamic=dynamic, k_scale=k_scale, v_scale=v_scale,
        sink_logits=sink_logits, return_lse=return_lse)
    return _run(text, arrays, target, threads, out)


def _plan(q, k, v, kwargs):
    if "kernel" in kwargs:
        return _neighborhood_plan(q, k, v, **kwargs)
    return _attention_plan(q, k, v, **kwargs)


def _run(text, arrays, target, threads, out=None):
    check_target(target)
    module = _cache.get(text, target, check_threads(threads))
    return module.main(*arrays, out=out)


def ir(q, k, v, **kwargs):
    """The MLIR text attention(q, k, v, **kwargs) compiles; with `kernel=`,
    that of neighborhood(q, k, v, **kwargs). Only shapes and dtypes of the
    arrays are read (np.empty or any object with .shape and .dtype does,
    such as a torch tensor or a jax.ShapeDtypeStruct)."""
    # The IR does not depend on where it runs, but the values given for
    # attention()'s target and threads are still checked, not dropped.
    if "target" in kwargs:
        check_target(kwargs.pop("target"))
    if "threads" in kwargs:
        check_threads(kwargs.pop("threads"))
    return _plan(q, k, v, kwargs)[0]


def explain(q, k, v, *, target="cpu", threads=0, **kwargs):
    """The strategies' candidates for attention(q, k, v, **kwargs) (or
    neighborhood with `kernel=`): a list of attn.Candidate, cheapest
    applicable first; `.chosen` marks the one compilation would use."""
    text = _plan(q, k, v, kwargs)[0]
    return explain_source(text, target=target, threads=threads)[0].candidates
