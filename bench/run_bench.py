#!/usr/bin/env python3
"""attn's CPU benchmark: this project's strategies against named baselines,
measured in one run on this machine.

    /usr/bin/python3 bench/run_bench.py [--quick] [--threads 2] [--suites dense,decode,memory,sparse,models,linear]

Measures the machine's FMA peak and memory bandwidth (bench/peak/*.c), then
for each case times `attn-run --bench` per strategy and the naive numpy
(OpenBLAS) and PyTorch baselines. Prints a table with GFLOP/s (useful FLOPs:
4·L²·D per head, halved for causal), % of the measured FMA peak, the ratio
to each baseline, and peak RSS; writes bench/results/latest.csv and PNG
plots of GFLOP/s against L. The `models` suite times the example transformer
blocks of examples/models (written as math, as exporters write them) raised
to attn ops against lowered as written. Not part of the test run.

The `linear` suite (kernel scores) times `linear` against `tiled` on causal
elu1 attention (H=8, D=64) from L=1 to 64k, prints the measured crossover
length and the one the cost model predicts (from `attn-opt --attn-explain`),
the targets (t(64k)/t(32k), speed-up over tiled at 16k), and taylor2 with
D=16 in GFLOP/s against the FMA peak. Linear's GFLOP/s count the arithmetic
of the chunked algorithm (linear_flops; F = 1 + D + D(D+1)/2 for taylor2,
its packed symmetric feature map); a second crossover sweep, taylor2 with
D=64 (F = 2145), has its crossover in the thousands.
"""

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
WORK = os.path.join(BUILD, "bench")
RESULTS = os.path.join(HERE, "results")
ATTN_RUN = os.path.join(BUILD, "bin", "attn-run")


def child_rss_runner(cmd, env=None):
    """Runs cmd with fork/exec so that its own peak RSS can be read."""
    read_fd, write_fd = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(write_fd, 1)
        os.dup2(err_w, 2)
        os.close(read_fd)
        os.close(err_r)
        os.execve(cmd[0], cmd, env or os.environ)
    os.close(write_fd)
    os.close(err_w)
    with os.fdopen(read_fd) as f, os.fdopen(err_r) as e:
        out = f.read()
        err = e.read()
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return out, usage.ru_maxrss / 1024.0


def parse_fields(text):
    fields = {}
    for token in text.split():
        if "=" in token:
            key, value = token.split("=", 1)
            try:
                fields[key] = float(value)
            except ValueError:
                fields[key] = value
    return fields


def build_peak_programs():
    os.makedirs(WORK, exist_ok=True)
    for name in ("fma_peak", "triad"):
        exe = os.path.join(WORK, name)
        src = os.path.join(HERE, "peak", name + ".c")
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", src,
                            "-o", exe], check=True)


def tensor_type(shape):
    return "tensor<" + "x".join(str(s) for s in shape) + "xf32>"


def attention_mlir(b, hq, hkv, lq, lk, d, attrs):
    qt = tensor_type((b, hq, lq, d))
    kt = tensor_type((b, hkv, lk, d))
    return f"""func.func @main(%q: {qt}, %k: {kt}, %v: {kt}) -> {qt} {{
  %init = tensor.empty() : {qt}
  %o = attn.attention ins(%q, %k, %v : {qt}, {kt}, {kt}) outs(%init : {qt}) {{{attrs}}} -> {qt}
  return %o : {qt}
}}
"""


def inputs_for(shapes, tag):
    paths = []
    rng = np.random.default_rng(0)
    for name, shape in shapes:
        path = os.path.join(WORK, f"{tag}-{name}.npy")
        if not os.path.exists(path):
            np.save(path, rng.standard_normal(shape, dtype=np.float32))
        paths.append(path)
    return paths


def time_attn(mlir_text, tag, inputs, strategy, threads, runs):
    path = os.path.join(WORK, tag + ".mlir")
    with open(path, "w") as f:
        f.write(mlir_text)
    cmd = [ATTN_RUN, path, "--entry", "main", "--inputs", ",".join(inputs),
           "--bench", str(runs), "--threads", str(threads)]
    if strategy:
        cmd.append("--attn-strategy=" + strategy)
    out, rss = child_rss_runner(cmd)
    fields = parse_fields(out.strip().splitlines()[-1])
    return fields["median_ms"], fields["gflops"], rss


def time_baseline(kind, b, hq, hkv, lq, lk, d, causal, threads, runs):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)  # let OpenBLAS use its AVX-512 kernels
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    cmd = ["/usr/bin/python3", os.path.join(HERE, "baselines.py"), kind,
           str(b), str(hq), str(hkv), str(lq), str(lk), str(d),
           "1" if causal else "0", str(threads), str(runs)]
    out, rss = child_rss_runner(cmd, env)
    return parse_fields(out)["median_ms"], rss


def explain(mlir_text, tag, threads):
    """Cost-model estimates per strategy: {name: (ms, gflop, chunk)}."""
    path = os.path.join(WORK, tag + "-explain.mlir")
    with open(path, "w") as f:
        f.write(mlir_text)
    proc = subprocess.run([os.path.join(BUILD, "bin", "attn-opt"), path,
                           f"--attn-set-target=threads={threads}", "--attn-explain",
                           "-o",
                           os.devnull], capture_output=True, text=True,
                          check=True)
    found = {}
    for m in re.finditer(r"^  ([a-z_]+): ([0-9.e+-]+) ms, ([0-9.e+-]+) GFLOP"
                         r"(.*)$", proc.stderr, re.M):
        chunk = re.search(r"chunk = (\d+)", m.group(4))
        found[m.group(1)] = (float(m.group(2)), float(m.group(3)),
                             int(chunk.group(1)) if chunk else None)
    return found


def linear_flops(h, length, d, dv, features, causal, chunk):
    """Arithmetic of chunked linear attention: 2 F Dv per key (the state)
    and per query (reading it), and inside causal chunks 2 (D + Dv) per
    allowed (query, key) pair, about chunk/2 keys per query."""
    flops = 2.0 * length * features * dv * 2
    if causal:
        flops += length * (chunk + 1) / 2 * 2 * (d + dv)
    return h * flops


def crossover(points):
    """Length where the time ratio linear/tiled crosses 1, interpolated in
    log-log between two measured lengths; of several crossings (noise), the
    one that leaves the fewest measured lengths on the wrong side. None if
    linear is faster at every length (then below the first)."""
    points = sorted(points)
    best = None
    for (l0, r0), (l1, r1) in zip(points, points[1:]):
        if r0 >= 1 > r1:
            t = math.log(r0) / (math.log(r0) - math.log(r1))
            at = math.exp(math.log(l0) + t * (math.log(l1) - math.log(l0)))
            wrong = sum(1 for n, r in points if (n < at) != (r >= 1))
            if best is None or wrong < best[0]:
                best = (wrong, at)
    return best[1] if best else None


def linear_sweep(args, peak_gflops, rows, label, d, attrs, lengths):
    """Times linear and tiled on one op across L; prints one line per L and
    the measured and predicted crossovers. Returns {L: {strategy: ms}}."""
    b, h, threads = 1, 8, args.threads
    measured = {}
    for length in lengths:
        tag = f"linear-{label.replace(' ', '-')}-{length}"
        text = attention_mlir(b, h, h, length, length, d, attrs)
        inputs = inputs_for([("q", (b, h, length, d)), ("k", (b, h, length, d)),
                             ("v", (b, h, length, d))],
                            f"dense-{length}" if d == 64 else f"d{d}-{length}")
        runs = 200 if length <= 64 else 50 if length <= 1024 else \
            (3 if args.quick else 5)
        model = explain(text, tag, threads)
        result, rss = {}, {}
        # Short runs (microseconds) are timed three times, alternating, and
        # the fastest median kept: other processes on the machine otherwise
        # decide which strategy wins.
        repeats = 3 if length <= 256 else 1
        for repeat in range(repeats):
            for strategy in ("linear", "tiled"):
                if strategy == "tiled" and length > 16384:
                    continue  # quadratic: minutes per run beyond 16k
                ms, _, rss[strategy] = time_attn(
                    text, tag, inputs, strategy, threads,
                    runs if strategy == "linear" or length < 8192 else 1)
                result[strategy] = min(ms, result.get(strategy, ms))
        for strategy, ms in result.items():
            rows.append(dict(suite="linear", case=f"{label} L={length}",
                             length=length, causal=int("causal" in attrs),
                             impl=strategy, median_ms=ms,
                             model_gflops=model[strategy][1] / (ms * 1e-3),
                             predicted_ms=model[strategy][0],
                             peak_rss_mib=rss[strategy], sweep=label))
        measured[length] = result
        features = d if "taylor2" not in attrs else 1 + d + d * (d + 1) // 2
        gflops = linear_flops(h, length, d, d, features, "causal" in attrs,
                              model["linear"][2]) * 1e-9 / \
            (result["linear"] * 1e-3)
        line = (f"{label} L={length:<6} linear {result['linear']:9.3f} ms "
                f"({gflops:6.1f} GFLOP/s, {100 * gflops / peak_gflops:5.1f}% "
                "peak)")
        if "tiled" in result:
            line += (f"  tiled {result['tiled']:10.3f} ms  linear "
                     f"{result['tiled'] / result['linear']:6.2f}x faster")
        line += (f"  model: linear {model['linear'][0]:.4g} ms, tiled "
                 f"{model['tiled'][0]:.4g} ms")
        print(line, flush=True)

    ratios = [(n, r["linear"] / r["tiled"]) for n, r in measured.items()
              if "tiled" in r]
    found = crossover(ratios)
    # The model's crossover: the shortest L from which its estimate for
    # linear is below tiled's, by bisection over L.
    def selects_linear(length):
        text = attention_mlir(b, h, h, length, length, d, attrs)
        model = explain(text, "linear-bisect", threads)
        return model["linear"][0] < model["tiled"][0]
    lo, hi = 1, 65536
    if selects_linear(lo):
        predicted = 1
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if selects_linear(mid) else (mid, hi)
        predicted = hi
    if found is None:
        print(f"{label} crossover: linear faster at every measured L (>= "
              f"{min(measured)}); the model prefers linear from L={predicted}")
    else:
        print(f"{label} crossover: measured L={found:.1f} (tiled faster "
              f"below, linear above), predicted L={predicted} (the model "
              f"prefers linear from there): ratio {predicted / found:.2f} "
              "(target: within 2x)")
    return measured


def linear_suite(args, peak_gflops, rows):
    lengths = [2 ** i for i in range(0, 17)]
    if args.quick:
        lengths = [1, 2, 4, 16, 64, 256, 1024, 4096, 16384, 32768, 65536]
    measured = linear_sweep(args, peak_gflops, rows, "causal elu1 D=64", 64,
                            "causal, score = #attn.score<kernel<elu1>>",
                            lengths)
    if 32768 in measured and 65536 in measured:
        t32, t64 = measured[32768]["linear"], measured[65536]["linear"]
        print(f"target: t(64k)/t(32k) = {t64 / t32:.2f} (<= 2.2); time per "
              "1k tokens: " + ", ".join(
                  f"L={n // 1024}k {measured[n]['linear'] / (n / 1024):.2f} ms"
                  for n in sorted(measured) if n >= 4096))
    if 16384 in measured and "tiled" in measured[16384]:
        r = measured[16384]
        print(f"target: at L=16384 linear is {r['tiled'] / r['linear']:.1f}x "
              "faster than tiled (>= 5)")
    # tiled's elu1 evaluates phi in scalar code, which puts that crossover
    # at a few tokens; taylor2 with D=64 (F = 2145) has a real one.
    linear_sweep(args, peak_gflops, rows, "causal taylor2 D=64", 64,
                 "causal, score = #attn.score<kernel<taylor2>>",
                 [1024, 4096, 16384] if args.quick else
                 [512, 1024, 2048, 4096, 8192, 16384])

    # taylor2, D = 16: the feature dimension is 1 + 16 + 16*17/2 = 153 in
    # linear's packed symmetric form (1 + 16 + 256 = 273 unpacked).
    b, h, threads = 1, 8, args.threads
    for causal in (True, False):
        for length in ([16384] if args.quick else [4096, 16384]):
            dt = 16
            tag = f"taylor2-{length}-{int(causal)}"
            attrs2 = ("causal, " if causal else "") + \
                "score = #attn.score<kernel<taylor2>>"
            text = attention_mlir(b, h, h, length, length, dt, attrs2)
            inputs = inputs_for([("q", (b, h, length, dt)),
                                 ("k", (b, h, length, dt)),
                                 ("v", (b, h, length, dt))], f"d16-{length}")
            ms, _, rss = time_attn(text, tag, inputs, "linear", threads,
                                   3 if args.quick else 5)
            model = explain(text, tag, threads)["linear"]
            gflop = linear_flops(h, length, dt, dt, 153, causal,
                                 model[2]) * 1e-9
            gflops = gflop / (ms * 1e-3)
            case = f"{'causal' if causal else 'non-causal'} taylor2 D=16 L={length}"
            rows.append(dict(suite="linear", case=case, length=length,
                             causal=int(causal), impl="linear-taylor2",
                             median_ms=ms, gflops=gflops, peak_rss_mib=rss))
            print(f"{case:<36} linear {ms:9.2f} ms {gflops:7.1f} GFLOP/s "
                  f"{100 * gflops / peak_gflops:5.1f}% of the FMA peak "
                  f"({gflop:.2f} GFLOP, F=153; with padding and feature maps "
                  f"the model counts {model[1] / (ms * 1e-3):.1f} GFLOP/s)",
                  flush=True)
    plot_linear(rows)


def dense_flops(b, hq, lq, lk, d, causal):
    pairs = lq * lk
    if causal:
        pairs = sum(max(0, min(lk, i + 1 + lk - lq)) for i in range(lq))
    return 4.0 * b * hq * pairs * d


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--suites", default="dense,decode,memory,sparse,models,linear")
    args = parser.parse_args()
    if not os.path.exists(ATTN_RUN):
        sys.exit("build attn first (scripts/build.sh)")
    build_peak_programs()
    peak = parse_fields(subprocess.run([os.path.join(WORK, "fma_peak"),
                                        str(args.threads)], capture_output=True,
                                       text=True, check=True).stdout)
    triad = parse_fields(subprocess.run([os.path.join(WORK, "triad"),
                                         str(args.threads)],
                                        capture_output=True, text=True,
                                        check=True).stdout)
    peak_gflops, bandwidth = peak["fma_peak_gflops"], triad["triad_gbs"]
    print(f"machine: FMA peak {peak_gflops:.0f} GFLOP/s "
          f"({peak['fma_peak_gflops_1thread']:.0f} on 1 thread), triad "
          f"{bandwidth:.1f} GB/s, {args.threads} threads; numpy on OpenBLAS")
    rows = []
    suites = args.suites.split(",")
    runs = 3 if args.quick else 5

    if "dense" in suites:
        lengths = [1024, 2048, 4096] if args.quick else [512, 1024, 2048, 4096, 8192]
        for causal in (False, True):
            for length in lengths:
                b, h, d = 1, 8, 64
                tag = f"dense-{length}"
                inputs = inputs_for([("q", (b, h, length, d)),
                                     ("k", (b, h, length, d)),
                                     ("v", (b, h, length, d))], tag)
                attrs = "causal" if causal else ""
                flops = dense_flops(b, h, length, length, d, causal)
                case = f"{'causal' if causal else 'dense'} L={length}"
                results = {}
                # portable: the tile op through upstream tiling and linalg,
                # what the hand-written CPU lowering (tiled) is measured
                # against.
                for strategy in ("tiled", "portable", "reference"):
                    if strategy != "tiled" and length > 2048:
                        continue
                    ms, gf, rss = time_attn(
                        attention_mlir(b, h, h, length, length, d, attrs),
                        f"{tag}-{int(causal)}", inputs, strategy, args.threads,
                        runs if strategy == "tiled" else 1)
                    results[strategy] = (ms, rss)
                for kind in ("numpy", "torch"):
                    if length > 8192:
                        continue
                    try:
                        results[kind] = time_baseline(kind, b, h, h, length,
                                                      length, d, causal,
                                                      args.threads, runs)
                    except Exception as e:  # torch may be missing
                        print(f"  {kind} baseline unavailable: {str(e)[:100]}")
                for name, (ms, rss) in results.items():
                    rows.append(dict(suite="dense", case=case, length=length,
                                     causal=int(causal), impl=name,
                                     median_ms=ms,
                                     gflops=flops / (ms * 1e-3) / 1e9,
                                     peak_rss_mib=rss))
                report(rows, case, peak_gflops)

    if "decode" in suites:
        b, hq, hkv, lk, d = 1, 32, 8, 32768, 128
        tag = "decode"
        inputs = inputs_for([("q", (b, hq, 1, d)), ("k", (b, hkv, lk, d)),
                             ("v", (b, hkv, lk, d))], tag)
        bytes_moved = 4.0 * (2 * b * hkv * lk * d + 2 * b * hq * d)
        flops = dense_flops(b, hq, 1, lk, d, False)
        case = "decode Hq=32 Hkv=8 Lk=32768 D=128"
        for strategy in ("split_kv", "tiled"):
            ms, gf, rss = time_attn(attention_mlir(b, hq, hkv, 1, lk, d, ""),
                                    tag, inputs, strategy, args.threads, 10)
            rows.append(dict(suite="decode", case=case, length=lk, causal=0,
                             impl=strategy, median_ms=ms,
                             gflops=flops / (ms * 1e-3) / 1e9,
                             peak_rss_mib=rss,
                             gbs=bytes_moved / (ms * 1e-3) / 1e9))
        ms, rss = time_baseline("numpy", b, hq, hkv, 1, lk, d, False,
                                args.threads, 10)
        rows.append(dict(suite="decode", case=case, length=lk, causal=0,
                         impl="numpy", median_ms=ms,
                         gflops=flops / (ms * 1e-3) / 1e9, peak_rss_mib=rss,
                         gbs=bytes_moved / (ms * 1e-3) / 1e9))
        report(rows, case, peak_gflops, bandwidth)

    if "memory" in suites:
        b, h, d = 1, 8, 64
        for length in ([16384] if args.quick else [256, 65536]):
            tag = f"mem-{length}"
            inputs = inputs_for([("q", (b, h, length, d)),
                                 ("k", (b, h, length, d)),
                                 ("v", (b, h, length, d))], tag)
            ms, gf, rss = time_attn(
                attention_mlir(b, h, h, length, length, d, "causal"), tag,
                inputs, "tiled", args.threads, 1)
            rows.append(dict(suite="memory", case=f"causal L={length}",
                             length=length, causal=1, impl="tiled",
                             median_ms=ms, gflops=gf, peak_rss_mib=rss,
                             input_mib=3 * b * h * length * d * 4 / 2**20))
        mem = [r for r in rows if r["suite"] == "memory"]
        if len(mem) >= 2:
            small, large = mem[0], mem[-1]
            extra = (large["peak_rss_mib"] - large["input_mib"]) - (
                small["peak_rss_mib"] - small["input_mib"])
            print(f"memory: causal L={large['length']} peak RSS "
                  f"{large['peak_rss_mib']:.0f} MiB, inputs "
                  f"{large['input_mib']:.0f} MiB, beyond inputs and the "
                  f"compiler's own footprint (RSS at L={small['length']}): "
                  f"{extra:.0f} MiB, {large['gflops']:.0f} GFLOP/s")

    if "sparse" in suites:
        sparse_suites(rows, args, peak_gflops)

    if "models" in suites:
        model_suite(rows, args, peak_gflops, runs)

    if "linear" in suites:
        linear_suite(args, peak_gflops, rows)

    os.makedirs(RESULTS, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(os.path.join(RESULTS, "latest.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, peak_gflops)
    print(f"wrote {os.path.join(RESULTS, 'latest.csv')}")


def neighborhood_mlir(b, h, shape, d, kernel):
    t = tensor_type((b, h) + tuple(shape) + (d,))
    return f"""func.func @main(%q: {t}, %k: {t}, %v: {t}) -> {t} {{
  %init = tensor.empty() : {t}
  %o = attn.neighborhood ins(%q, %k, %v : {t}, {t}, {t}) outs(%init : {t}) {{kernel = {list(kernel)}}} -> {t}
  return %o : {t}
}}
"""


def natten_mask(shape, kernel):
    """[N, N] bool: NATTEN's allowed set (non-causal, dilation 1)."""
    allowed = np.ones((1, 1), dtype=bool)
    for n, k in zip(shape, kernel):
        i = np.arange(n)[:, None]
        j = np.arange(n)[None, :]
        left, right = k // 2, k // 2 - (1 - k % 2)
        c = np.clip(i, left, n - 1 - right)
        axis = (j >= c - left) & (j <= c + right)
        allowed = np.kron(allowed, axis).astype(bool)
    return allowed


def sparse_suites(rows, args, peak):
    """Issue 4: 2-D neighborhood, sliding window with sinks, block-sparse."""
    # 2-D NA: 128 x 128 tokens, kernel 7 x 7, H=4, D=32.
    b, h, shape, d, kernel = 1, 4, (128, 128), 32, (7, 7)
    n = shape[0] * shape[1]
    tag = "na2d"
    inputs = inputs_for([(x, (b, h) + shape + (d,)) for x in "qkv"], tag)
    case = "NA 2-D 128x128 k=7x7 H=4 D=32"
    pairs = 1
    for extent, k in zip(shape, kernel):
        pairs *= sum(min(k, extent) for _ in range(extent))
    flops = 4.0 * b * h * pairs * d
    timings = {}
    for strategy in ("neighborhood", "tiled"):
        ms, gf, rss = time_attn(neighborhood_mlir(b, h, shape, d, kernel),
                                tag, inputs, strategy, args.threads, 5)
        timings[strategy] = ms
        rows.append(dict(suite="na2d", case=case, length=n, causal=0,
                         impl=strategy, median_ms=ms,
                         gflops=flops / (ms * 1e-3) / 1e9, peak_rss_mib=rss))
    # The same attention as attn.attention with the equivalent mask tensor.
    mask_path = os.path.join(WORK, "na2d-mask.npy")
    if not os.path.exists(mask_path):
        np.save(mask_path, natten_mask(shape, kernel)[None, None])
    flat = [os.path.join(WORK, f"na2d-flat-{x}.npy") for x in "qkv"]
    for src, dst in zip(inputs, flat):
        if not os.path.exists(dst):
            np.save(dst, np.load(src).reshape(b, h, n, d))
    qt = tensor_type((b, h, n, d))
    mt = f"tensor<1x1x{n}x{n}xi1>"
    masked = f"""func.func @main(%q: {qt}, %k: {qt}, %v: {qt}, %m: {mt}) -> {qt} {{
  %init = tensor.empty() : {qt}
  %o = attn.attention ins(%q, %k, %v : {qt}, {qt}, {qt}) mask(%m : {mt}) outs(%init : {qt}) -> {qt}
  return %o : {qt}
}}
"""
    ms, gf, rss = time_attn(masked, "na2d-masked", flat + [mask_path], "tiled",
                            args.threads, 3)
    timings["tiled+mask"] = ms
    rows.append(dict(suite="na2d", case=case, length=n, causal=0,
                     impl="tiled+mask", median_ms=ms,
                     gflops=flops / (ms * 1e-3) / 1e9, peak_rss_mib=rss))
    # The reference materializes H x N x N scores: run one head, times H.
    one = inputs_for([(x, (b, 1) + shape + (d,)) for x in "qkv"], "na2d-h1")
    ms, gf, rss = time_attn(neighborhood_mlir(b, 1, shape, d, kernel),
                            "na2d-h1", one, "reference", args.threads, 1)
    timings["reference"] = ms * h
    rows.append(dict(suite="na2d", case=case, length=n, causal=0,
                     impl="reference (1 head x4)", median_ms=ms * h,
                     gflops=flops / (ms * h * 1e-3) / 1e9, peak_rss_mib=rss))
    report(rows, case, peak)
    print(f"  neighborhood is {timings['tiled+mask'] / timings['neighborhood']:.1f}x "
          f"tiled with the equivalent mask, {timings['tiled'] / timings['neighborhood']:.1f}x "
          f"tiled on the neighborhood op, {timings['reference'] / timings['neighborhood']:.0f}x reference")

    # Sliding window 256 with 4 sinks, causal, H=8, D=64: linear in L.
    b, h, d = 1, 8, 64
    times = {}
    for length in ([8192, 16384] if args.quick else [8192, 16384, 32768, 65536]):
        tag = f"win-{length}"
        inputs = inputs_for([(x, (b, h, length, d)) for x in "qkv"], tag)
        attrs = "causal, window = #attn.window<left = 256, right = 0>, sinks = 4 : i64"
        ms, gf, rss = time_attn(attention_mlir(b, h, h, length, length, d, attrs),
                                tag, inputs, "tiled", args.threads, 3)
        times[length] = ms
        rows.append(dict(suite="window", case=f"window 256 + 4 sinks L={length}",
                         length=length, causal=1, impl="tiled", median_ms=ms,
                         gflops=gf, peak_rss_mib=rss))
        report(rows, f"window 256 + 4 sinks L={length}", peak)
    lengths = sorted(times)
    for a, c in zip(lengths, lengths[1:]):
        print(f"  window: t({c // 1024}k)/t({a // 1024}k) = {times[c] / times[a]:.2f}")

    # Block-sparse: 10% of 128 x 128 blocks kept, L=8192, against dense tiled.
    length, blk = 8192, 128
    tag = "bs-8192"
    inputs = inputs_for([(x, (b, h, length, d)) for x in "qkv"], tag)
    mask_path = os.path.join(WORK, "bs-8192-mask.npy")
    if not os.path.exists(mask_path):
        rng = np.random.default_rng(1)
        blocks = rng.random((length // blk, length // blk)) < 0.10
        blocks[np.arange(length // blk), np.arange(length // blk)] = True
        mask = np.kron(blocks, np.ones((blk, blk), dtype=bool))
        np.save(mask_path, mask[None, None])
    kept = float(np.load(mask_path, mmap_mode="r")[0, 0, ::blk, ::blk].mean())
    qt = tensor_type((b, h, length, d))
    mt = f"tensor<1x1x{length}x{length}xi1>"
    sparse = f"""func.func @main(%q: {qt}, %k: {qt}, %v: {qt}, %m: {mt}) -> {qt} {{
  %init = tensor.empty() : {qt}
  %o = attn.attention ins(%q, %k, %v : {qt}, {qt}, {qt}) mask(%m : {mt}) outs(%init : {qt}) -> {qt}
  return %o : {qt}
}}
"""
    case = f"block-sparse {100 * kept:.0f}% of 128x128 blocks L=8192"
    ms_sparse, gf, rss = time_attn(sparse, "bs-sparse", inputs + [mask_path],
                                   "block_sparse", args.threads, 3)
    rows.append(dict(suite="blocksparse", case=case, length=length, causal=0,
                     impl="block_sparse", median_ms=ms_sparse, gflops=gf,
                     peak_rss_mib=rss))
    ms_masked, gf, rss = time_attn(sparse, "bs-sparse", inputs + [mask_path],
                                   "tiled", args.threads, 3)
    rows.append(dict(suite="blocksparse", case=case, length=length, causal=0,
                     impl="tiled+mask", median_ms=ms_masked, gflops=gf,
                     peak_rss_mib=rss))
    ms_dense, gf, rss = time_attn(attention_mlir(b, h, h, length, length, d, ""),
                                  "bs-dense", inputs, "tiled", args.threads, 3)
    rows.append(dict(suite="blocksparse", case=case, length=length, causal=0,
                     impl="tiled dense", median_ms=ms_dense, gflops=gf,
                     peak_rss_mib=rss))
    report(rows, case, peak)
    print(f"  block_sparse is {ms_dense / ms_sparse:.1f}x dense tiled "
          f"({ms_masked / ms_sparse:.1f}x tiled with the same mask)")


def block_flops(model, c):
    """Useful FLOPs of one call of an example block: its matrix products
    (projections, MLP) and its attention (allowed pairs only)."""
    b, l, d, h, f = c["batch"], c["seq"], c["dim"], c["heads"], c["hidden"]
    if model == "gpt":
        linear = 2.0 * b * l * (d * 3 * d + d * d + 2 * d * f)
        pairs = l * (l + 1) // 2
    else:
        linear = 2.0 * b * l * (4 * d * d + 2 * d * f)
        pairs = l * l
    return linear + 4.0 * b * h * pairs * (d // h)


def model_suite(rows, args, peak, runs):
    """Issue 9: the example blocks, raised against lowered as written."""
    models = os.path.join(ROOT, "examples", "models")
    sys.path.insert(0, models)
    import blocks
    work = os.path.join(WORK, "models")
    py = "/usr/bin/python3"
    subprocess.run([py, os.path.join(models, "make_models.py"), work, "--bench",
                    "--attention-only"], check=True)
    for model, source, label in (("gpt", "gpt_block_tosa.mlir", "GPT-2 block, TOSA"),
                                 ("encoder", "encoder_block_linalg.mlir",
                                  "BERT block, linalg")):
        c = blocks.BENCH_CONFIGS[model]
        weights = os.path.join(work, model)
        inputs = subprocess.run(
            [py, os.path.join(models, "make_weights.py"), model, weights, "--bench"],
            capture_output=True, text=True, check=True).stdout.strip()
        case = f"{label} B={c['batch']} L={c['seq']} C={c['dim']} H={c['heads']}"
        flops = block_flops(model, c)
        times, outputs = {}, []
        for impl, flag in (("raised", "--raise=true"), ("as written", "--raise=false")):
            out = os.path.join(weights, impl.replace(" ", "-") + ".npy")
            cmd = [ATTN_RUN, os.path.join(work, source), "--entry", "main",
                   "--inputs", inputs, "--output", out, "--bench", str(runs),
                   "--threads", str(args.threads), flag]
            text, rss = child_rss_runner(cmd)
            ms = parse_fields(text.strip().splitlines()[-1])["median_ms"]
            times[impl] = ms
            outputs.append(out)
            rows.append(dict(suite="models", case=case, length=c["seq"],
                             causal=int(model == "gpt"), impl=impl, median_ms=ms,
                             gflops=flops / (ms * 1e-3) / 1e9, peak_rss_mib=rss))
        report(rows, case, peak)
        # The block's attention alone, from the same source.
        b, l, d = c["batch"], c["seq"], c["dim"]
        shape = (1, l, d) if model == "gpt" else (b * l, d)
        attn_inputs = inputs_for([(x, shape) for x in "qkv"], f"models-{model}")
        if model == "encoder":
            attn_inputs.append(os.path.join(weights, "keep.npy"))
        attn_flops = (
            4.0 * b * c["heads"] * (l * (l + 1) // 2 if model == "gpt" else l * l)
            * (d // c["heads"]))
        attn_times = {}
        for impl, flag in (("raised", "--raise=true"), ("as written", "--raise=false")):
            cmd = [ATTN_RUN, os.path.join(work, source.replace("_block_", "_attention_")),
                   "--entry", "main", "--inputs", ",".join(attn_inputs),
                   "--bench", str(runs), "--threads", str(args.threads), flag]
            text, rss = child_rss_runner(cmd)
            ms = parse_fields(text.strip().splitlines()[-1])["median_ms"]
            attn_times[impl] = ms
            rows.append(dict(suite="models", case=case + " attention", length=l,
                             causal=int(model == "gpt"), impl=impl, median_ms=ms,
                             gflops=attn_flops / (ms * 1e-3) / 1e9, peak_rss_mib=rss))
        report(rows, case + " attention", peak)
        check = subprocess.run([py, os.path.join(models, "check_model.py"), model,
                                weights, *outputs, "--bench"],
                               capture_output=True, text=True)
        print(f"  {model}: raised is {times['as written'] / times['raised']:.2f}x "
              f"as fast as written (its attention alone "
              f"{attn_times['as written'] / attn_times['raised']:.1f}x); "
              + "; ".join(check.stdout.strip().splitlines()), flush=True)


def report(rows, case, peak, bandwidth=None):
    mine = [r for r in rows if r["case"] == case]
    base = {r["impl"]: r for r in mine if r["impl"] in ("numpy", "torch")}
    for r in mine:
        line = (f"{case:<36} {r['impl']:<10} {r['median_ms']:10.2f} ms "
                f"{r['gflops']:8.1f} GFLOP/s {100 * r['gflops'] / peak:5.1f}% peak")
        for name, b in base.items():
            if name != r["impl"]:
                line += f"  {r['gflops'] / b['gflops']:5.2f}x {name}"
        if bandwidth and "gbs" in r:
            line += f"  {r['gbs']:.1f} GB/s = {100 * r['gbs'] / bandwidth:.0f}% of triad"
        line += f"  rss {r['peak_rss_mib']:.0f} MiB"
        print(line, flush=True)


def plot(rows, peak):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots")
        return
    dense = [r for r in rows if r["suite"] == "dense"]
    if not dense:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, causal in zip(axes, (0, 1)):
        for impl in sorted({r["impl"] for r in dense}):
            pts = sorted((r["length"], r["gflops"]) for r in dense
                         if r["impl"] == impl and r["causal"] == causal)
            if pts:
                ax.plot(*zip(*pts), marker="o", label=impl)
        ax.axhline(peak, color="gray", linestyle="--", label="FMA peak")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("L")
        ax.set_title(("causal" if causal else "non-causal") +
                     " attention, f32, H=8, D=64")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("GFLOP/s (useful)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, "dense.png"), dpi=100)


def plot_linear(rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    mine = [r for r in rows if r["suite"] == "linear" and "sweep" in r]
    sweeps = sorted({r["sweep"] for r in mine})
    if not sweeps:
        return
    fig, axes = plt.subplots(1, len(sweeps), figsize=(6 * len(sweeps), 4.5))
    for ax, sweep in zip(list(axes) if len(sweeps) > 1 else [axes], sweeps):
        for impl, color in (("linear", "C0"), ("tiled", "C1")):
            pts = sorted((r["length"], r["median_ms"], r["predicted_ms"])
                         for r in mine if r["impl"] == impl and
                         r["sweep"] == sweep)
            if not pts:
                continue
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                    color=color, label=f"{impl} (measured)")
            ax.plot([p[0] for p in pts], [p[2] for p in pts], linestyle="--",
                    color=color, label=f"{impl} (cost model)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("L")
        ax.set_ylabel("ms")
        ax.set_title(f"{sweep} kernel attention, f32, H=8")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    os.makedirs(RESULTS, exist_ok=True)
    fig.savefig(os.path.join(RESULTS, "linear.png"), dpi=100)


if __name__ == "__main__":
    main()
