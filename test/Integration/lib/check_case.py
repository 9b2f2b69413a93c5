#!/usr/bin/env python3
"""Integration-test driver: make inputs, or compare attn-run's output with
the float64 oracle in attn_numpy.py.

  check_case.py gen DIR name=SHAPE:DTYPE[:KIND] ...
      writes DIR/name.npy with seeded random data. DTYPE f32|f16|bf16|bool.
      KIND: normal (default), mask (random bools with a fully masked row),
      tiles (bools with fully masked 64-key tiles and rows), big / huge
      (scores that overflow a naive exp), equal (all scores of a row equal),
      dominant (one key far above the others), positive (|x|), f16big / f16max (near the
      f16 limit), tiny (subnormal elu1 kernel weights), nan@ROW / inf@ROW / -inf@ROW (one element of that row),
      neginf (-inf entries: full rows, a 64-key tile), alibi (ALiBi's
      slopes 2^(-8 (h + 1) / H) of a 1-D array); join with '+'.
      DTYPE i8: quantized K/V, random ints in [-127, 127]; f8: uint8 bits of
      f8E4M3FN values (4 x normal).
      DTYPE i32: KIND docsN (per row of [B, L], sorted document ids of N
      documents of random lengths, packed), pagesP (a page table [B, T] of
      distinct pages of P), lengthsN (key lengths [B]: N, 1, 0, then random
      in [1, N]).
  check_case.py attention DIR OUT.npy [--scale S] [--causal] [--window L,R]
      [--sinks N] [--softcap C] [--score softmax|softplus|elu1|relu|taylor2|
      identity|sigmoid] [--no-normalize] [--mask] [--bias] [--atol A] [--rtol R]
      [--kappa K] [--variant V ...] [--quantized] [--paged]
      V (custom variants, computed here from DESIGN.md): alibi (score_mod
      s + slopes[h] (j - i), slopes.npy), documents (mask_mod seg[b, i] ==
      seg[b, j], seg.npy), prefix=N (mask_mod j < N or j <= i), softcap=C
      (score_mod C tanh(s / C)), sink-logits (sinks.npy [Hq]).
      --paged: attn.paged_attention, k and v the caches [pages, Hkv,
      page_size, D], table.npy and klen.npy (i8 scales [pages, Hkv,
      page_size]); each request attends to its own keys.
  check_case.py neighborhood DIR OUT.npy --kernel 3,3 [--dilation 1,2]
      [--stride 1,1] [--causal-axes 0,1] [--scale S]
Inputs are read from DIR/{q,k,v,mask,bias}.npy. Exits 1 on mismatch, that is
where |got - want| > atol + rtol |want| + K cond, cond being each element's
condition number from attn_numpy.attention(magnitude=True) (K = 0 unless
--kappa: kernel weights that cancel, or huge unnormalized sums).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attn_numpy  # noqa: E402


def to_bf16_bits(x):
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def f8e4m3fn_values():
    """The 256 f8E4M3FN values by bit pattern (NaN at S.1111.111)."""
    bits = np.arange(256)
    sign = np.where(bits & 0x80, -1.0, 1.0)
    exponent, mantissa = (bits >> 3) & 0xF, bits & 0x7
    value = np.where(exponent == 0, mantissa / 8 * 2.0 ** -6,
                     (1 + mantissa / 8) * 2.0 ** (exponent - 7.0))
    value = sign * value
    value[(bits & 0x7F) == 0x7F] = np.nan
    return value


def f8e4m3fn_bits(x):
    """uint8 bits of the f8E4M3FN value nearest each element of x."""
    table = f8e4m3fn_values()
    finite = np.where(np.isnan(table), np.inf, table)
    return np.argmin(np.abs(np.asarray(x)[..., None] - finite), axis=-1) \
        .astype(np.uint8)


def dequantized(x, scale):
    """K or V from its stored form: int8 times per-(b, h, key) scales,
    uint8 f8E4M3FN bits times per-head scales, or as it is."""
    if x.dtype == np.int8:
        return x.astype(np.float64) * scale[..., None]
    if x.dtype == np.uint8:
        return f8e4m3fn_values()[x] * np.asarray(scale)[None, :, None, None]
    return x


def from_npy(path):
    """Loads an array; uint16 arrays are bfloat16 bit patterns."""
    x = np.load(path)
    if x.dtype == np.uint16:
        return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return x


def special(x, kind, rng):
    """Applies a data kind to float64 array x of layout [..., L, D]."""
    kind, _, where = kind.partition("@")
    pos = int(where) if where else None
    if kind == "big":        # scores that overflow a naive exp
        x *= 30.0
    elif kind == "huge":
        x *= 1000.0
    elif kind == "equal":    # every row (key) the same: all scores equal
        x[...] = x[..., :1, :]
    elif kind == "dominant":  # every 7th row large: one key dominates
        x = np.abs(x) + 0.5
        x[..., 3::7, :] = 8.0
    elif kind == "f16big":   # q.k beyond the f16 range (not f32's)
        x *= 200.0
    elif kind == "f16max":   # values next to the f16 limit
        x = np.sign(x) * (60000.0 + 5000.0 * rng.random(x.shape))
    elif kind == "positive":  # |x|: with a negative scale, every score < 0
        x = np.abs(x)
    elif kind == "qscale":   # quantization scales: positive, about 0.01
        x = 0.005 + 0.01 * np.abs(x)
    elif kind == "tiny":     # elu(x) + 1 = e^x of about e^-47: the
        x = -(47.0 + rng.random(x.shape))  # kernel weights are subnormal
    elif kind in ("nan", "inf", "-inf"):  # element 0 of row `pos`
        x[..., pos, 0] = float(kind)
    elif kind == "neginf":   # additive -inf mask: full rows, 64-key tiles
        x[..., 1::5, :] = -np.inf
        x[..., :, 64:128] = -np.inf
        x[rng.random(x.shape) < 0.2] = -np.inf
    elif kind == "alibi":    # ALiBi's head slopes
        n = x.shape[-1]
        x = 2.0 ** (-8.0 * (np.arange(n) + 1) / n) * np.ones(x.shape)
    elif kind != "normal":
        raise SystemExit("unknown kind " + kind)
    return x


def documents(shape, count, rng):
    """[B, L] int32: ids of `count` documents of random lengths packed in
    each row (sorted, every document at least one token)."""
    rows, length = shape
    out = np.zeros(shape, dtype=np.int32)
    for r in range(rows):
        cuts = np.sort(rng.choice(np.arange(1, length), count - 1,
                                  replace=False))
        out[r] = np.searchsorted(cuts, np.arange(length), side="right")
    return out


def page_table(shape, pages, rng):
    """[B, T] int32: distinct pages of a cache of `pages`, in random order."""
    if shape[0] * shape[1] > pages:
        raise SystemExit("a page table of %s needs at least %d pages"
                         % (shape, shape[0] * shape[1]))
    return rng.permutation(pages)[:shape[0] * shape[1]] \
        .reshape(shape).astype(np.int32)


def key_lengths(shape, capacity, rng):
    """[B] int32 key counts: the first request full, the second one key,
    the third none, the others random in [1, capacity]."""
    x = rng.integers(1, capacity + 1, size=shape).astype(np.int32)
    for b, length in enumerate([capacity, 1, 0][:shape[0]]):
        x[b] = length
    return x


def paged_requests(k, v, table, lengths, ks=None, vs=None):
    """Each request's keys and values gathered from the caches [pages, Hkv,
    page_size, D] (with i8 scales [pages, Hkv, page_size] gathered alike):
    lists of [1, Hkv, key_lengths[b], D] arrays (and their scales)."""
    page_size = k.shape[2]
    keys, values, kss, vss = [], [], [], []
    for b, length in enumerate(lengths):
        t = np.arange(length)
        pages, slots = table[b, t // page_size], t % page_size
        gather = lambda x: np.moveaxis(x[pages, :, slots], 0, 1)[None]
        keys.append(gather(k))
        values.append(gather(v))
        kss.append(gather(ks) if ks is not None and ks.ndim == 3 else ks)
        vss.append(gather(vs) if vs is not None and vs.ndim == 3 else vs)
    return keys, values, kss, vss


def paged_attention(q, k, v, table, lengths, quantized, load, options):
    """attn.paged_attention in float64: attention of each request over its
    own keys (bottom-right aligned), zeros for a request without keys."""
    ks, vs = (load("ks"), load("vs")) if quantized else (None, None)
    keys, values, kss, vss = paged_requests(k, v, table, lengths, ks, vs)
    out = np.zeros(q.shape[:3] + (v.shape[-1],))
    for b in range(q.shape[0]):
        if lengths[b] == 0:
            continue
        kb, vb = keys[b], values[b]
        if quantized:
            kb, vb = dequantized(kb, kss[b]), dequantized(vb, vss[b])
        out[b:b + 1] = attn_numpy.attention(q[b:b + 1], kb, vb, **options)
    return out


def gen(args):
    """KIND: normal, big, huge, equal, dominant, positive, f16big, f16max, tiny, nan@ROW,
    inf@ROW, -inf@ROW, neginf (floats); mask, tiles (bool). Several kinds
    may be joined with '+'."""
    os.makedirs(args.dir, exist_ok=True)
    for index, spec in enumerate(args.specs):
        name, rest = spec.split("=", 1)
        parts = rest.split(":")
        shape = [int(s) for s in parts[0].split("x")]
        dtype = parts[1] if len(parts) > 1 else "f32"
        kinds = (parts[2] if len(parts) > 2 else "normal").split("+")
        rng = np.random.default_rng(1000 + index + 17 * len(name))
        if dtype == "i32":
            kind = kinds[0]
            if kind.startswith("docs"):
                x = documents(shape, int(kind[4:]), rng)
            elif kind.startswith("pages"):
                x = page_table(shape, int(kind[5:]), rng)
            elif kind.startswith("lengths"):
                x = key_lengths(shape, int(kind[7:]), rng)
            else:
                raise SystemExit("i32 arrays take the kind docsN, pagesP or "
                                 "lengthsN, got " + kind)
        elif dtype == "bool":
            x = rng.random(shape) < 0.7
            if "mask" in kinds and shape[-2] > 1:
                x[..., 0, :] = False  # a fully masked row
            if "tiles" in kinds:
                # Fully masked 64-key tiles (the first for every row, the
                # third for the first half of the rows) and rows; with fewer
                # than 128 keys, the first half of the keys instead of the
                # first tile (so that some keys stay allowed).
                x[..., :, :min(64, shape[-1] // 2)] = False
                x[..., : shape[-2] // 2, 128:192] = False
                x[..., 1::5, :] = False
        elif dtype == "i8":
            x = np.clip(np.rint(rng.standard_normal(shape) * 40), -127, 127)
            x = x.astype(np.int8)
        elif dtype == "f8":
            x = f8e4m3fn_bits(rng.standard_normal(shape) * 4)
        else:
            x = rng.standard_normal(shape)
            for kind in kinds:
                x = special(x, kind, rng)
            if dtype == "f32":
                x = x.astype(np.float32)
            elif dtype == "f16":
                x = x.astype(np.float16)
            elif dtype == "bf16":
                x = to_bf16_bits(x)
            else:
                raise SystemExit("unknown dtype " + dtype)
        np.save(os.path.join(args.dir, name + ".npy"), x)
    return 0


def ints(text):
    return [int(t) for t in text.split(",")] if text else None


def compare(got, want, atol, rtol, label, slack=None):
    """NaN where the oracle has NaN (and nowhere else), the same infinities,
    finite values within atol + rtol |want| (+ slack, elementwise)."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        print(f"{label}: shape {got.shape} != expected {want.shape}")
        return 1
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    if (nan_got != nan_want).any():
        print(f"{label}: NaN at {np.argwhere(nan_got != nan_want)[:5].tolist()}"
              f" (got {int(nan_got.sum())} NaNs, expected {int(nan_want.sum())})")
        return 1
    inf_want = np.isinf(want)
    if (np.isinf(got) != inf_want).any() or (got[inf_want] != want[inf_want]).any():
        bad = np.argwhere((np.isinf(got) != inf_want) |
                          (np.isinf(got) & (got != want)))
        print(f"{label}: infinities differ at {bad[:5].tolist()}")
        return 1
    finite = np.isfinite(want)
    err = np.abs(got[finite] - want[finite])
    bound = atol + rtol * np.abs(want[finite])
    if slack is not None:
        bound = bound + slack[finite]
    max_err = float(err.max()) if err.size else 0.0
    bad = int((err > bound).sum())
    print(f"{label}: max_abs_err={max_err:.3e} elements={got.size} "
          f"nan={int(nan_want.sum())} inf={int(inf_want.sum())} "
          f"outside_tolerance={bad}")
    return 1 if bad else 0


def nan_reach(q, k, v, allowed, got, bias=None, zero_rows=None):
    """The NaN contract, stated directly (not through the oracle's math):
    output (b, h, i, e) is NaN exactly when query i reads a NaN, that is a
    NaN in q_i (when the row has an allowed key), in the key or the bias of
    an allowed key, or in element e of an allowed key's value; except rows
    whose weights sum to 0 (`zero_rows`, [B, Hq, Lq]), which are 0."""
    group = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    allowed = np.broadcast_to(allowed, q.shape[:3] + (k.shape[2],))
    reads = np.isnan(k).any(-1)[:, :, None, :]
    if bias is not None:
        reads = reads | np.isnan(np.broadcast_to(bias, allowed.shape))
    row = (np.isnan(q).any(-1) & allowed.any(-1)) | (allowed & reads).any(-1)
    column = (allowed[..., None] & np.isnan(v)[:, :, None, :, :]).any(-2)
    expected = row[..., None] | column
    if zero_rows is not None:
        expected &= ~zero_rows[..., None]
    got = np.asarray(got, dtype=np.float64).reshape(expected.shape)
    bad = np.argwhere(np.isnan(got) != expected)
    print(f"nan-reach: nan_elements={int(expected.sum())} "
          f"rows_with_nan={int(expected.any(-1).sum())} "
          f"rows_without={int((~expected.any(-1)).sum())} "
          f"mismatches={len(bad)}" + (f" at {bad[:5].tolist()}" if len(bad) else ""))
    return 1 if len(bad) else 0


def variants(names, load):
    """The score_mod, mask_mod and sink_logits options of --variant."""
    score_mods, mask_mods, options = [], [], {}
    for name in names:
        name, _, value = name.partition("=")
        if name == "alibi":
            slopes = load("slopes")
            score_mods.append(lambda s, b, h, i, j: s + slopes[h] * (j - i))
        elif name == "softcap":
            c = float(np.float32(value))
            score_mods.append(lambda s, b, h, i, j: c * np.tanh(s / c))
        elif name == "documents":
            seg = load("seg")
            mask_mods.append(lambda b, h, i, j: seg[b, i] == seg[b, j])
        elif name == "prefix":
            n = int(value)
            mask_mods.append(lambda b, h, i, j: (j < n) | (j <= i))
        elif name == "sink-logits":
            options["sink_logits"] = load("sinks")
        else:
            raise SystemExit("unknown variant " + name)

    def score_mod(s, b, h, i, j):
        for mod in score_mods:
            s = mod(s, b, h, i, j)
        return s

    def mask_mod(b, h, i, j):
        allowed = True
        for mod in mask_mods:
            allowed = allowed & mod(b, h, i, j)
        return allowed
    if score_mods:
        options["score_mod"] = score_mod
    if mask_mods:
        options["mask_mod"] = mask_mod
    return options


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("specs", nargs="+")
    for name in ("attention", "neighborhood"):
        p = sub.add_parser(name)
        p.add_argument("dir")
        p.add_argument("output")
        p.add_argument("--scale", type=float)
        p.add_argument("--atol", type=float)
        p.add_argument("--rtol", type=float)
        p.add_argument("--kappa", type=float, default=0.0)
        p.add_argument("--nan-reach", action="store_true",
                       help="also check that NaN outputs are exactly those "
                            "of rows that read a NaN input")
        if name == "attention":
            p.add_argument("--causal", action="store_true")
            p.add_argument("--window")
            p.add_argument("--sinks", type=int, default=0)
            p.add_argument("--softcap", type=float)
            p.add_argument("--score", default="softmax")
            p.add_argument("--no-normalize", action="store_true")
            p.add_argument("--mask", action="store_true")
            p.add_argument("--bias", action="store_true")
            p.add_argument("--paged", action="store_true",
                           help="attn.paged_attention: k and v are the "
                                "caches, table.npy the page table and "
                                "klen.npy the key lengths")
            p.add_argument("--quantized", action="store_true",
                           help="k and v are int8 (scales ks.npy, vs.npy "
                                "[B, Hkv, Lk]) or uint8 f8E4M3FN bits "
                                "(scales [Hkv])")
            p.add_argument("--variant", action="append", default=[])
            p.add_argument("--statistics", default="",
                           help="results after the output, 'lse', "
                                "'entropy' or 'lse,entropy': each read "
                                "from statistics_files(OUTPUT, ...)")
        else:
            p.add_argument("--kernel", required=True)
            p.add_argument("--dilation")
            p.add_argument("--stride")
            p.add_argument("--causal-axes")
            p.add_argument("--rpb", action="store_true",
                           help="score_mod s + rpb[h, kx - qx + k - 1, ...] "
                                "(NATTEN's relative positional bias, rpb.npy)")
    args = parser.parse_args()
    if args.cmd == "gen":
        return gen(args)

    load = lambda n: from_npy(os.path.join(args.dir, n + ".npy"))
    q, k, v = load("q"), load("k"), load("v")
    if args.cmd == "attention" and args.quantized and not args.paged:
        k, v = dequantized(k, load("ks")), dequantized(v, load("vs"))
    low_precision = np.load(os.path.join(args.dir, "q.npy")).dtype != np.float32
    atol = args.atol if args.atol is not None else (2e-2 if low_precision else 2e-5)
    rtol = args.rtol if args.rtol is not None else (2e-2 if low_precision else 2e-4)
    slack = None
    if args.cmd == "attention":
        window = None
        if args.window:
            left, right = args.window.split(",")
            window = (None if left == "-" else int(left),
                      None if right == "-" else int(right))
        score, feature = args.score, None
        if score not in ("softmax", "softplus"):
            score, feature = "kernel", args.score
        mask = load("mask") if args.mask else None
        bias = load("bias") if args.bias else None
        options = dict(scale=args.scale, causal=args.causal, window=window,
                       sinks=args.sinks, softcap=args.softcap, score=score,
                       feature=feature, mask=mask, bias=bias)
        options.update(variants(args.variant, load))
        if args.paged:
            want = paged_attention(q, k, v, np.load(os.path.join(
                args.dir, "table.npy")), np.load(os.path.join(
                    args.dir, "klen.npy")), args.quantized, load, options)
            return compare(from_npy(args.output), want, atol, rtol,
                           "paged attention")
        want = attn_numpy.attention(q, k, v, normalize=not args.no_normalize,
                                    **options)
        if args.kappa:
            slack = args.kappa * attn_numpy.attention(
                q, k, v, normalize=not args.no_normalize, magnitude=True,
                **options)
        zero_rows = None
        if not args.no_normalize:
            with np.errstate(invalid="ignore"):
                w = attn_numpy.attention_weights(q, k, v, **options)[0]
            zero_rows = w.sum(axis=-1) == 0
        allowed = attn_numpy.band_allowed(q.shape[2], k.shape[2], args.causal,
                                          window, args.sinks)
        if mask is not None:
            allowed = allowed & np.asarray(mask, dtype=bool)
    else:
        causal = [bool(c) for c in ints(args.causal_axes)] \
            if args.causal_axes else None
        score_mod = None
        if args.rpb:
            rpb, kernel = load("rpb"), ints(args.kernel)

            def score_mod(s, b, h, *coords):
                # Pairs outside the neighborhood are discarded: their
                # offsets are clipped into the table.
                rank = len(coords) // 2
                index = [h] + [np.clip(coords[rank + a] - coords[a] +
                                       kernel[a] - 1, 0, 2 * kernel[a] - 2)
                               for a in range(rank)]
                return s + rpb[tuple(index)]
        want = attn_numpy.neighborhood(
            q, k, v, ints(args.kernel), ints(args.dilation),
            ints(args.stride), causal, scale=args.scale, score_mod=score_mod)
        spatial = list(q.shape[2:-1])
        allowed = attn_numpy.neighborhood_allowed(
            spatial, ints(args.kernel), ints(args.dilation), ints(args.stride),
            causal)
        flat = lambda x: x.reshape(x.shape[0], x.shape[1], -1, x.shape[-1])
        q, k, v = flat(q), flat(k), flat(v)
        bias = zero_rows = None
    got = from_npy(args.output)
    status = compare(got, want, atol, rtol, args.cmd, slack)
    if args.nan_reach:
        status |= nan_reach(q, k, v, allowed, got, bias, zero_rows)
    names = statistics_names(getattr(args, "statistics", ""))
    if names:
        lse, entropy = attn_numpy.row_statistics(q, k, v, **options)
        wanted = {"lse": lse, "entropy": entropy}
        for name, path in zip(names, statistics_files(args.output, names)):
            # Rows are f32 whatever the inputs; sums of L terms round.
            status |= compare(from_npy(path), wanted[name], 2e-5, 2e-4, name)
    return status


def statistics_names(text):
    names = [n for n in text.split(",") if n]
    for name in names:
        if name not in ("lse", "entropy"):
            raise SystemExit(f"unknown statistic {name!r}")
    return names


def statistics_files(output, names):
    """The .npy files of the results after `output`: OUTPUT-lse.npy, ..."""
    stem = output[:-4] if output.endswith(".npy") else output
    return [f"{stem}-{name}.npy" for name in names]


if __name__ == "__main__":
    sys.exit(main())
