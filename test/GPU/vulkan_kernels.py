#!/usr/bin/env python3
"""Reads attn's Vulkan kernel containers out of MLIR that holds gpu.binary
ops (the output of attn-serialize-vulkan-kernels or attn-gpu-pipeline with
api=vulkan), prints each kernel's ABI, and with --validate runs spirv-val on
each SPIR-V module. Usage:
    vulkan_kernels.py FILE.mlir [--validate] [--spirv-val PATH]
Exit status 1 when no container is found or validation fails."""

import re
import struct
import subprocess
import sys
import tempfile

MAGIC = b"ATTNVK01"
KINDS = {0: "buffer", 1: "index", 2: "i32", 3: "f32", 4: "i1"}


def mlir_string(text):
    """The bytes of an MLIR string literal body (escapes \\XX, \\\\, \\")."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1]
            if nxt in "\\\"":
                out.append(ord(nxt))
                i += 2
            elif nxt == "n":
                out.append(10)
                i += 2
            elif nxt == "t":
                out.append(9)
                i += 2
            else:
                out.append(int(text[i + 1:i + 3], 16))
                i += 3
        else:
            out.extend(c.encode("utf-8"))
            i += 1
    return bytes(out)


def containers(mlir):
    for m in re.finditer(r'gpu\.binary @(\w+)[^\n]*?bin = "((?:[^"\\]|\\.)*)"',
                         mlir):
        data = mlir_string(m.group(2))
        if data.startswith(MAGIC):
            yield m.group(1), data


def decode(data):
    words = struct.unpack("<%dI" % ((len(data) - 8) // 4), data[8:])
    at = 0

    def get():
        nonlocal at
        at += 1
        return words[at - 1]

    version, features, count = get(), get(), get()
    kernels = []
    for _ in range(count):
        n = get()
        nwords = (n + 3) // 4
        name = struct.pack("<%dI" % nwords, *words[at:at + nwords])[:n].decode()
        at += nwords
        wg = (get(), get(), get())
        shared, pbind, pwords, nargs = get(), get(), get(), get()
        args = [tuple(get() for _ in range(5)) for _ in range(nargs)]
        kernels.append((name, wg, shared, pbind, pwords, args))
    nspirv = get()
    spirv = struct.pack("<%dI" % nspirv, *words[at:at + nspirv])
    return version, features, kernels, spirv


def main():
    path = sys.argv[1]
    validate = "--validate" in sys.argv
    spirv_val = "spirv-val"
    if "--spirv-val" in sys.argv:
        spirv_val = sys.argv[sys.argv.index("--spirv-val") + 1]
    found = failed = 0
    for module, data in containers(open(path).read()):
        found += 1
        version, features, kernels, spirv = decode(data)
        print(f"binary @{module}: version {version} features {features:#x} "
              f"spirv {len(spirv)} bytes")
        for name, wg, shared, pbind, pwords, args in kernels:
            print(f"  kernel {name}: workgroup {wg[0]}x{wg[1]}x{wg[2]} "
                  f"shared {shared} params binding {pbind} words {pwords}")
            for i, (kind, rank, ebytes, binding, word) in enumerate(args):
                if kind == 0:
                    print(f"    arg {i}: buffer rank {rank} element {ebytes} "
                          f"bytes binding {binding} word {word}")
                else:
                    print(f"    arg {i}: {KINDS.get(kind, kind)} word {word}")
        if validate:
            with tempfile.NamedTemporaryFile(suffix=".spv") as f:
                f.write(spirv)
                f.flush()
                proc = subprocess.run([spirv_val, "--target-env", "vulkan1.3",
                                       f.name], capture_output=True, text=True)
            status = "valid" if proc.returncode == 0 else "INVALID"
            print(f"  spirv-val: {status} {proc.stdout.strip()} "
                  f"{proc.stderr.strip()}")
            failed += proc.returncode != 0
    if not found:
        print("no attn Vulkan kernel container found")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
