#!/usr/bin/env python3
"""Writes the example transformer blocks as an exporter would write them:
the math of every layer, with no attn op.

    make_models.py OUT_DIR [--bench] [--attention-only]

- gpt_block_tosa.mlir: a GPT-2 decoder block in TOSA (TFLite/TOSA style:
  3-D tosa.matmul, reshapes and transposes around the heads, softmax as
  reduce_max, sub, exp, reduce_sum, reciprocal and mul, the causal mask as a
  constant -inf tensor).
- encoder_block_linalg.mlir: a BERT encoder block in linalg (torch-mlir
  style: linalg.matmul projections, heads moved with linalg.transpose and
  reshapes, batch_matmul, linalg.softmax, the padding mask made additive
  with a select on the i1 input, layer norms and GELU as generics).
Sizes come from blocks.py (CONFIGS, or BENCH_CONFIGS with --bench); the
function is @main(inputs..., parameters...)."""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocks  # noqa: E402


def T(shape, elem="f32"):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + elem + ">"


def fmt(x):
    return repr(float(np.float32(x)))


class Emitter:
    def __init__(self):
        self.lines = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"%{hint}{self.count}"

    def emit(self, text):
        self.lines.append("  " + text)


class Tosa(Emitter):
    """TOSA ops on static f32 tensors."""

    def __init__(self):
        super().__init__()
        self.types = {}
        self.zp = self.const(0.0, [1])
        self.shift = self.name("shift")
        self.emit(f'{self.shift} = "tosa.const"() <{{values = dense<0> : tensor<1xi8>}}> : () -> tensor<1xi8>')

    def const(self, value, shape, hint="c"):
        n = self.name(hint)
        self.emit(f'{n} = "tosa.const"() <{{values = dense<{value}> : {T(shape)}}}> : () -> {T(shape)}')
        self.types[n] = list(shape)
        return n

    def scalar(self, value):
        return self.const(fmt(value), [1, 1, 1])

    def shape_of(self, dims):
        n = self.name("shape")
        self.emit(f"{n} = tosa.const_shape {{values = dense<{list(dims)}> : tensor<{len(dims)}xindex>}} : () -> !tosa.shape<{len(dims)}>")
        return n

    def op(self, op, args, shape, hint, attrs=""):
        n = self.name(hint)
        types = ", ".join(T(self.types[a]) if a in self.types else "tensor<1xi8>" for a in args)
        self.emit(f"{n} = tosa.{op} {', '.join(args)}{attrs} : ({types}) -> {T(shape)}")
        self.types[n] = list(shape)
        return n

    def bcast_shape(self, a, b):
        return [max(x, y) for x, y in zip(self.types[a], self.types[b])]

    def add(self, a, b):
        return self.op("add", [a, b], self.bcast_shape(a, b), "add")

    def sub(self, a, b):
        return self.op("sub", [a, b], self.bcast_shape(a, b), "sub")

    def mul(self, a, b):
        n = self.name("mul")
        shape = self.bcast_shape(a, b)
        self.emit(f"{n} = tosa.mul {a}, {b}, {self.shift} : ({T(self.types[a])}, {T(self.types[b])}, tensor<1xi8>) -> {T(shape)}")
        self.types[n] = shape
        return n

    def unary(self, op, a):
        return self.op(op, [a], self.types[a], op)

    def reduce_sum(self, a, axis):
        shape = list(self.types[a])
        shape[axis] = 1
        return self.op("reduce_sum", [a], shape, "sum", f" {{axis = {axis} : i32}}")

    def reduce_max(self, a, axis):
        shape = list(self.types[a])
        shape[axis] = 1
        return self.op("reduce_max", [a], shape, "max", f" {{axis = {axis} : i32}}")

    def reshape(self, a, shape):
        s = self.shape_of(shape)
        n = self.name("reshape")
        self.emit(f"{n} = tosa.reshape {a}, {s} : ({T(self.types[a])}, !tosa.shape<{len(shape)}>) -> {T(shape)}")
        self.types[n] = list(shape)
        return n

    def transpose(self, a, perms):
        shape = [self.types[a][p] for p in perms]
        return self.op("transpose", [a], shape, "t", f" {{perms = array<i32: {', '.join(map(str, perms))}>}}")

    def slice(self, a, start, size):
        s0, s1 = self.shape_of(start), self.shape_of(size)
        n = self.name("slice")
        r = len(size)
        self.emit(f"{n} = tosa.slice {a}, {s0}, {s1} : ({T(self.types[a])}, !tosa.shape<{r}>, !tosa.shape<{r}>) -> {T(size)}")
        self.types[n] = list(size)
        return n

    def matmul(self, a, b):
        shape = [self.types[a][0], self.types[a][1], self.types[b][2]]
        n = self.name("mm")
        self.emit(f"{n} = tosa.matmul {a}, {b}, {self.zp}, {self.zp} : ({T(self.types[a])}, {T(self.types[b])}, tensor<1xf32>, tensor<1xf32>) -> {T(shape)}")
        self.types[n] = shape
        return n


def gpt_attention(e, c, q, k, v):
    """Causal multi-head attention on [1, L, C] q, k, v slices."""
    l, d, h = c["seq"], c["dim"], c["heads"]
    hd = d // h
    q3 = e.reshape(e.transpose(e.reshape(q, [1, l, h, hd]), [0, 2, 1, 3]), [h, l, hd])
    kt3 = e.reshape(e.transpose(e.reshape(k, [1, l, h, hd]), [0, 2, 3, 1]), [h, hd, l])
    v3 = e.reshape(e.transpose(e.reshape(v, [1, l, h, hd]), [0, 2, 1, 3]), [h, l, hd])
    s = e.mul(e.matmul(q3, kt3), e.scalar(1.0 / math.sqrt(hd)))
    tril = np.where(np.tril(np.ones((l, l), dtype=bool)), 0.0, -np.inf)
    mask = e.const('"0x' + tril.astype("<f4").tobytes().hex().upper() + '"', [1, l, l], "causal")
    s = e.add(s, mask)
    ex = e.unary("exp", e.sub(s, e.reduce_max(s, 2)))
    p = e.mul(ex, e.unary("reciprocal", e.reduce_sum(ex, 2)))
    o = e.matmul(p, v3)
    return e.reshape(e.transpose(e.reshape(o, [1, h, l, hd]), [0, 2, 1, 3]), [1, l, d])


def gpt_attention_only(c):
    """The GPT block's attention alone (for the benchmark)."""
    l, d = c["seq"], c["dim"]
    e = Tosa()
    for n in "qkv":
        e.types["%" + n] = [1, l, d]
    o = gpt_attention(e, c, "%q", "%k", "%v")
    return (f"func.func @main(%q: {T([1, l, d])}, %k: {T([1, l, d])}, %v: {T([1, l, d])}) -> {T([1, l, d])} {{\n" +
            "\n".join(e.lines) + f"\n  return {o} : {T([1, l, d])}\n}}\n")


def gpt_tosa(c):
    b, l, d, h, f = c["batch"], c["seq"], c["dim"], c["heads"], c["hidden"]
    assert b == 1, "the TOSA block is written for batch 1"
    hd = d // h
    e = Tosa()
    args = [("x", [1, l, d])] + [(n, list(s)) for n, s in blocks.parameters("gpt", c)]
    for n, s in args:
        e.types["%" + n] = s

    def layer_norm(x, g, bias):
        inv = e.scalar(1.0 / d)
        mean = e.mul(e.reduce_sum(x, 2), inv)
        xc = e.sub(x, mean)
        var = e.mul(e.reduce_sum(e.mul(xc, xc), 2), inv)
        r = e.unary("rsqrt", e.add(var, e.scalar(blocks.EPS)))
        y = e.mul(e.mul(xc, r), e.reshape(g, [1, 1, d]))
        return e.add(y, e.reshape(bias, [1, 1, d]))

    def linear(x, w, bias, k, n):
        y = e.matmul(x, e.reshape(w, [1, k, n]))
        return e.add(y, e.reshape(bias, [1, 1, n]))

    t = layer_norm("%x", "%ln1_g", "%ln1_b")
    qkv = linear(t, "%w_qkv", "%b_qkv", d, 3 * d)
    q, k, v = (e.slice(qkv, [0, 0, i * d], [1, l, d]) for i in range(3))
    o = gpt_attention(e, c, q, k, v)
    x = e.add("%x", linear(o, "%w_o", "%b_o", d, d))
    t = layer_norm(x, "%ln2_g", "%ln2_b")
    g = linear(t, "%w_fc", "%b_fc", d, f)
    inner = e.mul(e.add(g, e.mul(e.mul(e.mul(g, g), g), e.scalar(0.044715))),
                  e.scalar(math.sqrt(2 / math.pi)))
    g = e.mul(e.mul(g, e.scalar(0.5)), e.add(e.unary("tanh", inner), e.scalar(1.0)))
    y = e.add(x, linear(g, "%w_proj", "%b_proj", f, d))
    sig = ", ".join(f"%{n}: {T(s)}" for n, s in args)
    return (f"// GPT-2 decoder block in TOSA, as a TOSA exporter writes it: {h} heads of\n"
            f"// {hd}, sequence {l}, width {d}, MLP {f}. Made by make_models.py.\n"
            f"func.func @main({sig}) -> {T([1, l, d])} {{\n" + "\n".join(e.lines) +
            f"\n  return {y} : {T([1, l, d])}\n}}\n")


class Linalg(Emitter):
    """linalg on static tensors; generics spelled out."""

    def __init__(self):
        super().__init__()
        self.types = {}
        self.zero = self.name("zero")
        self.emit(f"{self.zero} = arith.constant 0.0 : f32")

    def set(self, n, shape, elem="f32"):
        self.types[n] = (list(shape), elem)
        return n

    def ty(self, n):
        return T(*self.types[n])

    def empty(self, shape, elem="f32"):
        n = self.name("empty")
        self.emit(f"{n} = tensor.empty() : {T(shape, elem)}")
        return self.set(n, shape, elem)

    def fill(self, shape, value=None):
        e = self.empty(shape)
        n = self.name("fill")
        self.emit(f"{n} = linalg.fill ins({value or self.zero} : f32) outs({e} : {T(shape)}) -> {T(shape)}")
        return self.set(n, shape)

    def generic(self, ins, maps, shape, body, iters=None, init=None, hint="g"):
        """ins: names; maps: affine maps (strings) for ins then the output;
        body: lines using %a0.. and %acc, ending with a yield of %r."""
        rank = len(maps[-1].split("->")[0].split(","))
        iters = iters or ["parallel"] * rank
        init = init or self.empty(shape)
        n = self.name(hint)
        args = ", ".join(f"%a{i}: {self.types[a][1]}" for i, a in enumerate(ins)) + ", %acc: f32"
        text = (f"{n} = linalg.generic {{indexing_maps = [{', '.join(maps)}], iterator_types = [{', '.join(repr(i).replace(chr(39), chr(34)) for i in iters)}]}} "
                f"ins({', '.join(ins)} : {', '.join(self.ty(a) for a in ins)}) outs({init} : {T(shape)}) {{\n"
                f"  ^bb0({args}):\n" + "".join(f"    {line}\n" for line in body) +
                f"    linalg.yield %r : f32\n  }} -> {T(shape)}")
        self.emit(text)
        return self.set(n, shape)

    def matmul(self, a, b, batch=False):
        (sa, _), (sb, _) = self.types[a], self.types[b]
        shape = sa[:-1] + [sb[-1]]
        init = self.fill(shape)
        n = self.name("bmm" if batch else "mm")
        op = "batch_matmul" if batch else "matmul"
        self.emit(f"{n} = linalg.{op} ins({a}, {b} : {self.ty(a)}, {self.ty(b)}) outs({init} : {T(shape)}) -> {T(shape)}")
        return self.set(n, shape)

    def reshape(self, a, op, reassoc, shape):
        n = self.name("r")
        extra = f" output_shape {list(shape)}" if op == "expand_shape" else ""
        self.emit(f"{n} = tensor.{op} {a} {reassoc}{extra} : {self.ty(a)} into {T(shape, self.types[a][1])}")
        return self.set(n, shape, self.types[a][1])

    def transpose(self, a, perm):
        shape = [self.types[a][0][p] for p in perm]
        init = self.empty(shape)
        n = self.name("t")
        self.emit(f"{n} = linalg.transpose ins({a} : {self.ty(a)}) outs({init} : {T(shape)}) permutation = {list(perm)}")
        return self.set(n, shape)


ID2 = "affine_map<(i, j) -> (i, j)>"
ROW = "affine_map<(i, j) -> (i)>"
COL = "affine_map<(i, j) -> (j)>"


def encoder_attention(e, c, q, k, v, keep):
    """Multi-head attention with a padding mask on [B*L, C] projections."""
    b, l, d, h = c["batch"], c["seq"], c["dim"], c["heads"]
    hd, m = d // h, b * l
    heads = {}
    for n, y in zip("qkv", (q, k, v)):
        y4 = e.reshape(y, "expand_shape", "[[0, 1], [2, 3]]", [b, l, h, hd])
        perm = [0, 2, 3, 1] if n == "k" else [0, 2, 1, 3]
        t = e.transpose(y4, perm)
        shape = [b * h] + e.types[t][0][2:]
        heads[n] = e.reshape(t, "collapse_shape", "[[0, 1], [2], [3]]", shape)
    s = e.matmul(heads["q"], heads["k"], batch=True)
    s4 = e.reshape(s, "expand_shape", "[[0, 1], [2], [3]]", [b, h, l, l])
    add = e.generic([keep], ["affine_map<(b, j) -> (b, j)>", "affine_map<(b, j) -> (b, j)>"], [b, l],
                    ["%z = arith.constant 0.0 : f32", "%ninf = arith.constant 0xFF800000 : f32",
                     "%r = arith.select %a0, %z, %ninf : f32"], hint="additive")
    add4 = e.reshape(add, "expand_shape", "[[0, 1, 2], [3]]", [b, 1, 1, l])
    id4 = "affine_map<(b, h, i, j) -> (b, h, i, j)>"
    scores = e.generic([s4, add4], [id4, "affine_map<(b, h, i, j) -> (b, 0, 0, j)>", id4], [b, h, l, l],
                       [f"%c = arith.constant {fmt(math.sqrt(hd))} : f32", "%d = arith.divf %a0, %c : f32",
                        "%r = arith.addf %d, %a1 : f32"], hint="scores")
    out = e.empty([b, h, l, l])
    p = e.name("softmax")
    e.emit(f"{p} = linalg.softmax dimension(3) ins({scores} : {T([b, h, l, l])}) outs({out} : {T([b, h, l, l])}) -> {T([b, h, l, l])}")
    e.set(p, [b, h, l, l])
    p3 = e.reshape(p, "collapse_shape", "[[0, 1], [2], [3]]", [b * h, l, l])
    o = e.matmul(p3, heads["v"], batch=True)
    o4 = e.reshape(o, "expand_shape", "[[0, 1], [2], [3]]", [b, h, l, hd])
    return e.reshape(e.transpose(o4, [0, 2, 1, 3]), "collapse_shape", "[[0, 1], [2, 3]]", [m, d])


def encoder_attention_only(c):
    """The encoder block's attention alone (for the benchmark)."""
    b, l, d = c["batch"], c["seq"], c["dim"]
    e = Linalg()
    for n in "qkv":
        e.set("%" + n, [b * l, d])
    e.set("%keep", [b, l], "i1")
    o = encoder_attention(e, c, "%q", "%k", "%v", "%keep")
    t = T([b * l, d])
    return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}, %keep: {T([b, l], 'i1')}) -> {t} {{\n" +
            "\n".join(e.lines) + f"\n  return {o} : {t}\n}}\n")


def encoder_linalg(c):
    b, l, d, h, f = c["batch"], c["seq"], c["dim"], c["heads"], c["hidden"]
    hd, m = d // h, b * l
    e = Linalg()
    args = [("x", [b, l, d], "f32"), ("keep", [b, l], "i1")] + [
        (n, list(s), "f32") for n, s in blocks.parameters("encoder", c)]
    for n, s, el in args:
        e.set("%" + n, s, el)

    def linear(x, w, bias):
        y = e.matmul(x, w)
        return e.generic([y, bias], [ID2, COL, ID2], e.types[y][0],
                         ["%r = arith.addf %a0, %a1 : f32"], hint="bias")

    def layer_norm(x, g, bias):
        rows, width = e.types[x][0]
        red = ["parallel", "reduction"]
        total = e.generic([x], [ID2, ROW], [rows], ["%r = arith.addf %acc, %a0 : f32"],
                          iters=red, init=e.fill([rows]), hint="sum")
        xc = e.generic([x, total], [ID2, ROW, ID2], [rows, width],
                       [f"%c = arith.constant {fmt(1.0 / width)} : f32", "%m = arith.mulf %a1, %c : f32",
                        "%r = arith.subf %a0, %m : f32"], hint="center")
        var = e.generic([xc], [ID2, ROW], [rows], ["%s = arith.mulf %a0, %a0 : f32", "%r = arith.addf %acc, %s : f32"],
                        iters=red, init=e.fill([rows]), hint="var")
        return e.generic([xc, var, g, bias], [ID2, ROW, COL, COL, ID2], [rows, width],
                         [f"%c = arith.constant {fmt(1.0 / width)} : f32", f"%eps = arith.constant {fmt(blocks.EPS)} : f32",
                          "%v = arith.mulf %a1, %c : f32", "%ve = arith.addf %v, %eps : f32", "%rs = math.rsqrt %ve : f32",
                          "%n = arith.mulf %a0, %rs : f32", "%s = arith.mulf %n, %a2 : f32", "%r = arith.addf %s, %a3 : f32"],
                         hint="ln")

    x2 = e.reshape("%x", "collapse_shape", "[[0, 1], [2]]", [m, d])
    q, k, v = (linear(x2, f"%w_{n}", f"%b_{n}") for n in "qkv")
    o2 = encoder_attention(e, c, q, k, v, "%keep")
    proj = linear(o2, "%w_o", "%b_o")
    res = e.generic([x2, proj], [ID2, ID2, ID2], [m, d], ["%r = arith.addf %a0, %a1 : f32"], hint="res")
    x3 = layer_norm(res, "%ln1_g", "%ln1_b")
    g = linear(x3, "%w_1", "%b_1")
    g = e.generic([g], [ID2, ID2], [m, f],
                  [f"%c = arith.constant {fmt(1 / math.sqrt(2))} : f32", "%half = arith.constant 0.5 : f32",
                   "%one = arith.constant 1.0 : f32", "%s = arith.mulf %a0, %c : f32", "%er = math.erf %s : f32",
                   "%p = arith.addf %er, %one : f32", "%h = arith.mulf %a0, %half : f32", "%r = arith.mulf %h, %p : f32"],
                  hint="gelu")
    y = linear(g, "%w_2", "%b_2")
    res2 = e.generic([x3, y], [ID2, ID2, ID2], [m, d], ["%r = arith.addf %a0, %a1 : f32"], hint="res")
    out = e.reshape(layer_norm(res2, "%ln2_g", "%ln2_b"), "expand_shape", "[[0, 1], [2]]", [b, l, d])
    sig = ", ".join(f"%{n}: {T(s, el)}" for n, s, el in args)
    return (f"// BERT encoder block in linalg, as torch-mlir writes it: batch {b}, {h} heads\n"
            f"// of {hd}, sequence {l}, width {d}, FFN {f}; %keep is the padding mask\n"
            f"// (true = a real token). Made by make_models.py.\n"
            f"func.func @main({sig}) -> {T([b, l, d])} {{\n" + "\n".join(e.lines) +
            f"\n  return {out} : {T([b, l, d])}\n}}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--attention-only", action="store_true",
                        help="also write each block's attention alone "
                             "(*_attention.mlir, inputs q, k, v[, keep])")
    args = parser.parse_args()
    configs = blocks.BENCH_CONFIGS if args.bench else blocks.CONFIGS
    os.makedirs(args.out, exist_ok=True)
    files = [("gpt_block_tosa.mlir", gpt_tosa(configs["gpt"])),
             ("encoder_block_linalg.mlir", encoder_linalg(configs["encoder"]))]
    if args.attention_only:
        files += [("gpt_attention_tosa.mlir", gpt_attention_only(configs["gpt"])),
                  ("encoder_attention_linalg.mlir",
                   encoder_attention_only(configs["encoder"]))]
    for name, text in files:
        with open(os.path.join(args.out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
