#!/usr/bin/env python3
"""Runs on the GPU machine (numpy, PyTorch and the NVIDIA driver; no LLVM,
no attn build) from the artifacts that bench/gpu/build_artifacts.py made:

  device_run.py ARTIFACTS OUT [--reps N] [--skip-cases] [--skip-bench]
  device_run.py ARTIFACTS OUT --cpu   (artifacts built with --target cpu:
                                       the cases only, to try the script)

1. Correctness: every integration-case library runs its entry on the
   case's inputs, and check_case.py judges the result against the float64
   numpy oracle (test/Integration/lib/attn_numpy.py) with the case's own
   tolerances, as the lit tests do on the CPU.
2. Speed: f16 B=4 H=32 L=4096 D=128, causal and not, attn's tiled kernel
   (SIMT and tensor cores) against torch.nn.functional.
   scaled_dot_product_attention on the same inputs in the same run. Both
   time kernels only, with CUDA events (attn: attn_aot_gpu_kernel_ms, the
   runtime's events around each launch; host copies excluded), the median
   of N runs after a warm-up. Each attn result is also compared with SDPA's.
Writes OUT/gpu-results.md (the tables), OUT/gpu-results.json and prints the
same tables. Exit status 1 when a case fails."""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "Integration", "lib"))
import attn_aot  # noqa: E402
import check_case  # noqa: E402


def run_cases(cases, work):
    rows = []
    libraries = {}
    for c in cases:
        out = os.path.join(work, f"{c['case']}.{c['entry']}.{c['label']}.npy")
        status, detail = "ok", ""
        start = time.time()
        try:
            lib = libraries.get(c["lib"])
            if lib is None:
                lib = libraries[c["lib"]] = attn_aot.AotLibrary(
                    os.path.join(ROOT, c["lib"]))
            inputs = [np.load(os.path.join(ROOT, p)) for p in c["inputs"]]
            result = lib.call(c["entry"], inputs)[0]
            np.save(out, result)
            argv = ["check_case.py", c["check"][0],
                    os.path.join(ROOT, c["dir"]), out] + c["check"][1:]
            text = io.StringIO()
            saved, sys.argv = sys.argv, argv
            try:
                with contextlib.redirect_stdout(text):
                    code = check_case.main()
            finally:
                sys.argv = saved
            detail = text.getvalue().strip().replace("\n", "; ")
            if code:
                status = "MISMATCH"
        except Exception as error:  # a failed call is a result to report
            status, detail = "ERROR", str(error).strip()[:300]
        rows.append(dict(case=c["case"], entry=c["entry"], label=c["label"],
                         status=status, detail=detail,
                         seconds=round(time.time() - start, 3)))
        if status != "ok":
            print(f"{status} {c['case']} @{c['entry']} {c['label']}: "
                  f"{detail}", flush=True)
    return rows


def gpu_name():
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("torch sees no CUDA device")
    return torch.cuda.get_device_name(0)


def median_ms(times):
    return float(np.median(times))


def run_bench(bench, reps):
    import torch
    import torch.nn.functional as F

    rows = []
    for bcfg in bench:
        b, h, l, d = bcfg["b"], bcfg["h"], bcfg["l"], bcfg["d"]
        causal = bcfg["causal"]
        rng = np.random.default_rng(0)
        q, k, v = (rng.standard_normal((b, h, l, d)).astype(np.float16)
                   for _ in range(3))
        flops = 4.0 * b * h * l * l * d * (0.5 if causal else 1.0)
        lib = attn_aot.AotLibrary(os.path.join(ROOT, bcfg["lib"]))
        out = lib.call("main", [q, k, v])[0]  # warm-up: module load
        lib.gpu_timing(True)
        lib.gpu_kernel_ms()
        attn_ms = []
        for _ in range(reps):
            lib.call("main", [q, k, v])
            attn_ms.append(lib.gpu_kernel_ms())
        lib.gpu_timing(False)

        tq, tk, tv = (torch.from_numpy(x).cuda() for x in (q, k, v))
        ref = F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
        torch.cuda.synchronize()
        torch_ms = []
        for _ in range(reps):
            begin = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            begin.record()
            F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
            end.record()
            torch.cuda.synchronize()
            torch_ms.append(begin.elapsed_time(end))
        err = float(np.abs(out.astype(np.float32) -
                           ref.float().cpu().numpy()).max())
        a, t = median_ms(attn_ms), median_ms(torch_ms)
        rows.append(dict(name=bcfg["name"], label=bcfg["label"],
                         shape=f"B={b} H={h} L={l} D={d} f16",
                         attn_ms=a, torch_ms=t,
                         attn_tflops=flops / a / 1e9,
                         torch_tflops=flops / t / 1e9,
                         ratio=t / a, max_abs_err_vs_sdpa=err))
        print(f"bench {bcfg['name']} {bcfg['label']}: attn {a:.3f} ms, "
              f"SDPA {t:.3f} ms, {t / a:.1%} of SDPA, max |attn - SDPA| "
              f"{err:.2e}", flush=True)
        del tq, tk, tv, ref
    return rows


def tables(case_rows, bench_rows, device):
    lines = [f"# attn on {device}", ""]
    if case_rows:
        ok = sum(r["status"] == "ok" for r in case_rows)
        lines += [f"## Integration cases: {ok} of {len(case_rows)} ok", "",
                  "| case | entry | strategy | status | check |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['case']} | {r['entry']} | {r['label']} | "
                  f"{r['status']} | {r['detail'][:160]} |" for r in case_rows]
        lines.append("")
    if bench_rows:
        lines += ["## Speed against torch SDPA (kernel time, median)", "",
                  "| shape | mask | attn kernel | attn ms | attn TFLOP/s | "
                  "SDPA ms | SDPA TFLOP/s | attn / SDPA | max err vs SDPA |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['shape']} | {r['name']} | {r['label']} | "
                  f"{r['attn_ms']:.3f} | {r['attn_tflops']:.1f} | "
                  f"{r['torch_ms']:.3f} | {r['torch_tflops']:.1f} | "
                  f"{r['ratio']:.1%} | {r['max_abs_err_vs_sdpa']:.2e} |"
                  for r in bench_rows]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("artifacts")
    parser.add_argument("out")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--skip-cases", action="store_true")
    parser.add_argument("--skip-bench", action="store_true")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU libraries (build_artifacts.py --target "
                             "cpu): no GPU needed, no benchmark")
    args = parser.parse_args()
    manifest = json.load(open(os.path.join(args.artifacts, "manifest.json")))
    os.makedirs(args.out, exist_ok=True)
    if (manifest.get("target") == "cpu") != args.cpu:
        print(f"device_run.py: error: the artifacts are for "
              f"{manifest.get('target', 'cuda')}; --cpu goes with "
              f"build_artifacts.py --target cpu")
        return 2
    if args.cpu:
        device = "the CPU (a dry run of the script)"
        args.skip_bench = True
    else:
        try:
            device = gpu_name()
        except Exception as error:
            print(f"device_run.py: error: no usable GPU ({error})")
            return 2

    start = time.time()
    with tempfile.TemporaryDirectory() as work:
        case_rows = [] if args.skip_cases else run_cases(manifest["cases"],
                                                         work)
    case_seconds = time.time() - start
    bench_rows = [] if args.skip_bench else run_bench(manifest["bench"],
                                                      args.reps)
    text = tables(case_rows, bench_rows, device)
    with open(os.path.join(args.out, "gpu-results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "gpu-results.json"), "w") as f:
        json.dump(dict(device=device, chip=manifest["chip"],
                       case_seconds=case_seconds, cases=case_rows,
                       bench=bench_rows), f, indent=1)
    failed = [r for r in case_rows if r["status"] != "ok"]
    print(text if len(text) < 6000 else text[-6000:])
    print(f"cases: {len(case_rows) - len(failed)} ok, {len(failed)} failed "
          f"({case_seconds:.0f} s); bench rows: {len(bench_rows)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
