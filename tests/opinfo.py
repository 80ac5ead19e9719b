"""The op registry: one `OpInfo` entry per public op, checked against PyTorch 2.13 by test_conformance.py.

Data only. An entry names the op, how to call ours and torch's (`calls`), which dtypes to run, whether
it is differentiable (gradients against torch, gradcheck in float64) and smooth (gradgradcheck), and a
sample generator: `samples(dtype) -> [Sample]`, host NumPy inputs that the checker puts on the test's
device with `autograd.tensor(..., device=device)` and on torch's CPU with `torch.from_numpy`.

To add an op, append one entry to REGISTRY:

    OpInfo("exp", ["autograd.exp", "Tensor.exp"], unary(), smooth=True)

`calls` are strings: "autograd.X" (torch.X), "F.X" (nn.functional.X / torch.nn.functional.X),
"Tensor.X" (a method of the first argument), "operator.X" (Python's operator module on both), with
"ours=theirs" where the torch name differs ("autograd.elu=F.elu"), or a `Call(label, ours, theirs)`
for a lambda. The first call gets every check; the others are compared forward (shape, dtype, values).
In a Sample, a float ndarray becomes a leaf requiring grad, any other ndarray a tensor, `C(a)` a constant
tensor, `V(a, view)` a non-contiguous view of a leaf (taken the same way on both sides), `D("float32")`
a dtype; lists and tuples are walked; other values pass through as they are.

KNOWN lists every divergence from torch the engine still has (issue 10, section 3); a KNOWN case must
fail, so whoever fixes one deletes its line (the checker says "fixed: remove from KNOWN").
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

FLOATS = ("float64", "float32", "float16")
F64 = ("float64",)
NUMERIC = FLOATS + ("int64",)
ALL = NUMERIC + ("bool",)
SHAPE_DTYPES = ("float64", "float32", "int64", "bool")

INF, NAN = math.inf, math.nan
# ±inf, nan, ±1e4, ±88 (exp overflows float32 near 88.7), ±1e-30 (float32 denormal range), 0 and a plain value
EXTREMES = [INF, -INF, NAN, 1e4, -1e4, 88.0, -88.0, 1e-30, -1e-30, 0.0, 1.5, -2.5]


# ------------------------------------------------------------------------------------------------
# sample building blocks

@dataclass
class C:
    """A constant tensor: never requires grad (targets, masks, running stats)."""
    a: np.ndarray


@dataclass
class V:
    """A view of a leaf, taken on each side after the leaf is built: `view` is a function of a tensor."""
    a: np.ndarray
    view: Callable
    label: str = "view"


@dataclass
class D:
    """A dtype by name: autograd.<name> on our side, torch.<name> on torch's."""
    name: str


def T(a):
    """A transposed (non-contiguous) view of `a`'s transpose, so the result has `a`'s shape."""
    return V(np.ascontiguousarray(np.swapaxes(a, -1, -2)), lambda t: t.transpose(-1, -2), "T")


def STRIDED(a):
    """A strided slice (every other column of a twice-wider leaf) equal to `a`."""
    base = np.repeat(a, 2, axis=-1)
    return V(base, lambda t: t[..., ::2], "stride2")


@dataclass
class Sample:
    id: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    gradcheck: bool = True   # finite differences are meaningful: no kinks, no extreme values


def S(id, *args, gc=True, **kwargs):
    return Sample(id, args, kwargs, gc)


@dataclass
class Call:
    """How to call an op on our side and on torch's; `theirs` defaults to `ours` (a lambda on tensors)."""
    label: str
    ours: Any
    theirs: Any = None


@dataclass
class OpInfo:
    name: str
    calls: list
    samples: Callable            # dtype name -> [Sample]
    dtypes: tuple = FLOATS
    grad: bool = True            # differentiable: gradients vs torch, gradcheck in float64
    smooth: bool = False         # gradgradcheck too
    errors: tuple = ()           # words one of which our error message must contain (default: the name)
    tol: dict = field(default_factory=dict)   # dtype -> (rtol, atol) for values and gradients
    makes_float16: bool = False  # its result is float16 (a cast): skipped where the backend has no float16

    def error_words(self):
        return self.errors or (self.name.split(".")[-1].strip("_"),)


def arr(shape, dt, domain="any", seed=0):
    """Seeded host data for `shape` and dtype name `dt`; `domain` keeps floats away from poles/kinks."""
    rng = np.random.default_rng(seed)
    if dt == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dt.startswith(("int", "uint")):
        lo = 1 if domain in ("pos", "nonzero") else (0 if dt == "uint8" else -5)
        return np.asarray(rng.integers(lo, 6, shape), dtype=dt)
    if domain == "pos":
        a = rng.uniform(0.5, 2.0, shape)
    elif domain == "unit":
        a = rng.uniform(-0.9, 0.9, shape)
    elif domain == "nonzero":
        a = rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    elif domain == "distinct":     # no ties (max/min/sort)
        n = int(np.prod(shape))
        a = (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape) if n else np.zeros(shape)
        a = a + 0.01 * (a == 0)
    else:
        a = rng.standard_normal(shape)
    return np.asarray(a, dtype=dt)


def is_float(dt):
    return dt.startswith("float")


def extremes(dt, n=None):
    a = np.array(EXTREMES if n is None else EXTREMES[:n], dtype="float64")
    with np.errstate(over="ignore"):
        return a.astype(dt)


# ------------------------------------------------------------------------------------------------
# sample generators

def unary(domain="any", kwargs=(), extreme=True):
    """0-d, vector, size-1 dims, empty, transposed, strided, extreme values; extra kwargs on a 2x3."""
    def gen(dt):
        out = [S("0d", arr((), dt, domain, 1)), S("vec", arr((5,), dt, domain, 2)),
               S("size1", arr((2, 1, 3), dt, domain, 3)), S("empty", arr((0, 3), dt, domain, 4)),
               S("T", T(arr((2, 3), dt, domain, 5))), S("strided", STRIDED(arr((2, 3), dt, domain, 6)))]
        out += [S("kw" + ",".join(f"{k}={v}" for k, v in kw.items()), arr((2, 3), dt, domain, 7), **kw)
                for kw in kwargs]
        if extreme and is_float(dt):
            out.append(S("extreme", extremes(dt), gc=False))
            out += [S("extreme-" + ",".join(f"{k}={v}" for k, v in kw.items()), extremes(dt), gc=False, **kw)
                    for kw in kwargs]
        return out
    return gen


BROADCAST = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((4, 1, 3), (2, 3)),
             ((3,), ()), ((0, 3), (3,)), ((), ())]


def binary(doms=("any", "any"), reflected=False, scalars=(2.5,), extreme=True, light=False):
    """Broadcast pairs, non-contiguous operands, Python scalars (and reflected ones), mixed dtypes, extremes."""
    def gen(dt):
        pairs = BROADCAST[:3] if light else BROADCAST
        out = [S(f"{sa}x{sb}", arr(sa, dt, doms[0], 1), arr(sb, dt, doms[1], 2)) for sa, sb in pairs]
        if light:
            return out
        out.append(S("T,strided", T(arr((2, 3), dt, doms[0], 3)), STRIDED(arr((2, 3), dt, doms[1], 4))))
        for k in scalars:
            kk = k if is_float(dt) or isinstance(k, int) else k
            out.append(S(f"tensor,{kk!r}", arr((2, 3), dt, doms[0], 5), kk))
            if reflected:
                out.append(S(f"{kk!r},tensor", kk, arr((2, 3), dt, doms[1], 6)))
        if dt == "float32":       # type promotion: a 0-d float64 tensor does not promote float32
            out.append(S("f32,0d-f64", arr((3,), dt, doms[0], 7), arr((), "float64", doms[1], 8)))
            out.append(S("f32,int64", arr((3,), dt, doms[0], 7), arr((3,), "int64", doms[1], 8)))
        if dt == "int64":
            out.append(S("uint8,300", np.array([1, 2], "uint8"), 300))
            out.append(S("uint8,neg-0d-int64", np.array([10, 20], "uint8"), np.array(-3)))
            out.append(S("int64,2.5", arr((3,), dt, doms[0], 7), 2.5))
            out.append(S("int64,bool", arr((3,), dt, doms[0], 7), arr((3,), "bool", doms[1], 8)))
        if extreme and is_float(dt):
            a = extremes(dt)
            out.append(S("extreme", a, np.roll(a, 5), gc=False))
        return out
    return gen


def reduction(domain="any", dims=(None, 0, -1, (0, 2), 1), keepdims=(False, True), extra=(), full_kwargs=(),
              empty=True, extreme=True, dim_kw="dim"):
    """(2,3,4) over dim=None/int/negative/tuple × keepdim, dim=() and [], 0-d, empty, non-contiguous, extremes."""
    def gen(dt):
        x = arr((2, 3, 4), dt, domain, 5)
        out = [S("all", x)]
        for d in dims:
            if d is None:
                continue
            for k in keepdims:
                out.append(S(f"dim={d},keepdim={k}", x, **{dim_kw: d, "keepdim": k}))
        out += [S("dim=()", x, **{dim_kw: ()}), S("dim=[]", x, **{dim_kw: []}),
                S("0d", arr((), dt, domain, 1)), S("0d,dim=0", arr((), dt, domain, 1), **{dim_kw: 0}),
                S("0d,dim=-1,keepdim", arr((), dt, domain, 1), **{dim_kw: -1, "keepdim": True}),
                S("dim=3-out-of-range", x, **{dim_kw: 3}),
                S("T,dim=1", T(arr((3, 4), dt, domain, 6)), **{dim_kw: 1}),
                S("strided,dim=-1", STRIDED(arr((3, 2), dt, domain, 7)), **{dim_kw: -1})]
        if empty:
            out += [S("empty", arr((0, 3), dt, domain, 8)), S("empty,dim=0", arr((0, 3), dt, domain, 8), **{dim_kw: 0}),
                    S("empty,dim=1", arr((0, 3), dt, domain, 8), **{dim_kw: 1})]
        out += [S(f"kw-{i}", x, **kw) for i, kw in enumerate(full_kwargs)]
        out += [S(f"extra-{i}", arr((2, 3, 4), dt, domain, 9), **kw) for i, kw in enumerate(extra)]
        if extreme and is_float(dt):
            e = extremes(dt).reshape(3, 4)
            out += [S("extreme", e, gc=False), S("extreme,dim=1", e, gc=False, **{dim_kw: 1})]
        return out
    return gen


def fixed(*samples_fn):
    """Samples written out by hand: `samples_fn(dt)` returns the list."""
    def gen(dt):
        out = []
        for f in samples_fn:
            out += f(dt)
        return out
    return gen


# ------------------------------------------------------------------------------------------------
# the registry

_ERR_OPS = ("add", "sub", "mul", "div", "pow", "matmul", "floor", "remainder", "mod", "+", "-", "*", "/", "@")


def _unary_ops():
    u = []
    for name, dom, smooth, extra in [
        ("exp", "any", True, ()), ("log", "pos", True, ()), ("log1p", "pos", True, ()), ("expm1", "any", True, ()),
        ("sqrt", "pos", True, ()), ("rsqrt", "pos", True, ()), ("square", "any", True, ()),
        ("sin", "any", True, ()), ("cos", "any", True, ()), ("erf", "any", True, ()),
        ("abs", "nonzero", False, ("operator.abs",)), ("neg", "any", True, ("operator.neg",)),
        ("sign", "nonzero", False, ()), ("round", "nonzero", False, ()), ("floor", "nonzero", False, ()),
        ("ceil", "nonzero", False, ()), ("trunc", "nonzero", False, ()),
    ]:
        calls = [f"autograd.{name}", f"Tensor.{name}", *extra]
        u.append(OpInfo(name, calls, unary(dom), dtypes=ALL if name not in ("rsqrt",) else NUMERIC,
                        smooth=smooth))
    for name, smooth, kws in [
        ("tanh", True, ()), ("sigmoid", True, ()), ("relu", False, ()),
        ("leaky_relu", False, ({"negative_slope": 0.2},)), ("elu", False, ({"alpha": 0.5},)),
        ("gelu", True, ({"approximate": "tanh"},)), ("silu", True, ()), ("mish", True, ()),
        ("softplus", False, ({"beta": 2.0, "threshold": 3.0},)),
    ]:
        calls = [f"autograd.{name}" + ("" if name in ("tanh", "sigmoid", "relu") else f"=F.{name}"), f"F.{name}"]
        if name in ("tanh", "sigmoid", "relu"):
            calls.append(f"Tensor.{name}")
        u.append(OpInfo(name, calls, unary("nonzero" if not smooth else "any", kws), smooth=smooth))
    u += [
        OpInfo("isnan", ["autograd.isnan", "Tensor.isnan"], unary(), dtypes=ALL, grad=False),
        OpInfo("isinf", ["autograd.isinf", "Tensor.isinf"], unary(), dtypes=ALL, grad=False),
        OpInfo("isfinite", ["autograd.isfinite", "Tensor.isfinite"], unary(), dtypes=ALL, grad=False),
        OpInfo("clone", ["autograd.clone", "Tensor.clone"], unary(), dtypes=ALL, smooth=True),
        OpInfo("detach", ["autograd.detach", "Tensor.detach"], unary(extreme=False), dtypes=ALL, grad=False),
        # in place on a leaf that requires grad is an error in torch: run it on constants
        OpInfo("sigmoid_", ["autograd.sigmoid_", "Tensor.sigmoid_"],
               fixed(lambda dt: [S("vec", C(arr((4,), dt))), S("0d", C(arr((), dt)))]), grad=False),
        OpInfo("logical_not", ["Tensor.logical_not", "autograd.logical_not"], unary(extreme=False), dtypes=ALL, grad=False),
        OpInfo("operator.invert", ["operator.invert", "autograd.bitwise_not", "Tensor.bitwise_not"], unary(extreme=False), dtypes=("int64", "bool", "float32"),
               grad=False, errors=("invert", "~")),
        OpInfo("operator.pos", ["operator.pos"], unary(extreme=False), dtypes=("float64",)),
    ]
    return u


def _clamp_samples(dt):
    x = arr((2, 3), dt, "nonzero", 1)
    lo, hi = (-0.5, 0.7) if is_float(dt) else (-1, 2)
    return [S("min,max", x, lo, hi), S("min", x, min=lo), S("max", x, max=hi), S("0d", arr((), dt, "nonzero"), lo, hi),
            S("empty", arr((0, 2), dt), lo, hi), S("T", T(x), lo, hi),
            S("tensor-bounds", x, arr((3,), dt, "nonzero", 2) * 0 - 0.5 if is_float(dt) else lo,
              arr((2, 1), dt, "nonzero", 3) * 0 + 0.7 if is_float(dt) else hi),
            S("int-float-bounds", arr((4,), "int64", "any", 4), -1.5, 2.5),
            S("bounds-on-values", np.array([-1.0, 0.0, 0.5, 1.0, 2.0], dt) if is_float(dt) else
              np.array([-1, 0, 1, 2], dt), 0, 1, gc=False),
            S("no-bounds-error", x)] + ([S("extreme", extremes(dt), -1.0, 1.0, gc=False)] if is_float(dt) else [])


def _pow_samples(dt):
    if not is_float(dt):
        return [S("int,int", arr((4,), dt, "pos"), arr((4,), dt, "pos", 1)), S("int,2", arr((4,), dt), 2),
                S("int,neg-int", np.array([1, 2, -1, 3], dt), np.array([-1, 2, -2, 0], dt)),
                S("2,int", 2, arr((4,), dt, "pos")), S("int,0.5", arr((4,), dt, "pos"), 0.5)]
    out = binary(("pos", "any"), reflected=True, scalars=(2.5,), extreme=False)(dt)
    out += [S("tensor,2", arr((2, 3), dt), 2), S("tensor,3", arr((2, 3), dt), 3), S("tensor,0.5", arr((2, 3), dt, "pos"), 0.5),
            S("tensor,-1.5", arr((2, 3), dt, "pos"), -1.5), S("10,tensor", 10.0, arr((4,), dt, "any", 3)),
            S("0**0", np.array([0.0, 0.0, 2.0], dt), np.array([0.0, 1.0, 0.0], dt), gc=False),
            S("extreme", extremes(dt), np.roll(extremes(dt), 3), gc=False)]
    return out


def _div_samples(dt):
    out = binary(("any", "nonzero"), reflected=True, scalars=(2.5,))(dt)
    if not is_float(dt):
        out.append(S("int-by-zero", arr((3,), dt, "any"), np.zeros(3, dt)))
    out += [S("rounding=trunc", arr((2, 3), dt, "any", 1), arr((2, 3), dt, "nonzero", 2), rounding_mode="trunc", gc=False),
            S("rounding=floor", arr((2, 3), dt, "any", 1), arr((2, 3), dt, "nonzero", 2), rounding_mode="floor", gc=False)]
    return out


def _floordiv_samples(dt):
    if not is_float(dt):
        return [S("int", np.array([7, -7, 6, -6, 5, 0], dt), np.array([2, 2, -4, 4, -5, 3], dt)),
                S("int-by-zero", np.array([1, 2], dt), np.array([0, 1], dt)),
                S("int,3", np.array([7, -7, 5], dt), 3), S("7,int", 7, np.array([2, -3, 4], dt))]
    return [S("2x3", arr((2, 3), dt, "any", 1) * 3, arr((2, 3), dt, "nonzero", 2), gc=False),
            S("broadcast", arr((2, 3), dt, "any", 1) * 3, arr((3,), dt, "nonzero", 2), gc=False),
            S("1.0,0.1", np.array([1.0, -1.0, 0.7], dt), np.array([0.1, 0.1, 0.1], dt), gc=False),
            S("by-inf", np.array([1.0, -1.0, 0.0], dt), np.array([INF, INF, -INF], dt), gc=False),
            S("by-zero", np.array([1.0, -1.0, 0.0], dt), np.array([0.0, 0.0, 0.0], dt), gc=False),
            S("tensor,0.3", arr((4,), dt, "any", 3), 0.3, gc=False), S("5,tensor", 5.0, arr((4,), dt, "nonzero", 3), gc=False)]


def _where_samples(dt):
    c = arr((2, 3), "float64", "any", 1) > 0
    return [S("same", c, arr((2, 3), dt, "any", 2), arr((2, 3), dt, "any", 3)),
            S("broadcast", c[:, :1], arr((3,), dt, "any", 2), arr((2, 1), dt, "any", 3)),
            S("scalar-other", c, arr((2, 3), dt, "any", 2), 0.0 if is_float(dt) else 0),
            S("0d", np.array(True), arr((), dt, "any", 2), arr((), dt, "any", 3)),
            S("empty", np.zeros((0, 3), bool), arr((0, 3), dt), arr((3,), dt)),
            S("T", c, T(arr((2, 3), dt, "any", 4)), arr((2, 3), dt, "any", 5))]


def _compare_ops():
    out = []
    for name, op in [("eq", "eq"), ("ne", "ne"), ("lt", "lt"), ("le", "le"), ("gt", "gt"), ("ge", "ge")]:
        out.append(OpInfo(name, [f"autograd.{name}", f"operator.{op}", f"Tensor.{name}"],
                          binary(("distinct", "distinct"), reflected=False), dtypes=ALL, grad=False))
    for name in ("and_", "or_", "xor"):
        out.append(OpInfo(f"operator.{name}", [f"operator.{name}"], binary(extreme=False, scalars=(True,)),
                          dtypes=("bool", "int64"), grad=False, errors=(name.strip("_"), "logical", "bitwise")))
    for kind in ("and", "or", "xor"):
        out.append(OpInfo(f"bitwise_{kind}", [f"autograd.bitwise_{kind}", f"Tensor.bitwise_{kind}"],
                          binary(extreme=False), dtypes=("bool", "int64"), grad=False, errors=("bitwise",)))
        out.append(OpInfo(f"logical_{kind}", [f"autograd.logical_{kind}", f"Tensor.logical_{kind}"],
                          binary(extreme=False), dtypes=ALL, grad=False, errors=("logical",)))
    return out


def _matmul_samples(dt):
    shapes = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
              ((2, 1, 2, 3), (3, 3, 2)), ((2, 0), (0, 3)), ((0, 3), (3, 2))]
    out = [S(f"{a}@{b}", arr(a, dt, "any", 1), arr(b, dt, "any", 2)) for a, b in shapes]
    out += [S("T@strided", T(arr((2, 3), dt, "any", 3)), STRIDED(arr((3, 2), dt, "any", 4))),
            S("mismatch", arr((2, 3), dt), arr((4, 2), dt)), S("0d", arr((), dt), arr((3,), dt))]
    if dt == "float32":
        out.append(S("f32@f64", arr((2, 3), dt), arr((3, 2), "float64")))
    return out


def _mm_samples(dt):
    return [S("2d", arr((2, 3), dt, "any", 1), arr((3, 4), dt, "any", 2)),
            S("T", T(arr((2, 3), dt, "any", 1)), arr((3, 4), dt, "any", 2)),
            S("1d-error", arr((3,), dt), arr((3,), dt)), S("3d-error", arr((2, 2, 3), dt), arr((2, 3, 2), dt))]


def _bmm_samples(dt):
    return [S("3d", arr((2, 2, 3), dt, "any", 1), arr((2, 3, 4), dt, "any", 2)),
            S("2d-error", arr((2, 3), dt), arr((3, 4), dt))]


def _arith_ops():
    ops = []
    for name, calls, gen, dts, smooth, errors in [
        ("add", ["autograd.add", "Tensor.add"], binary(), ALL, True, ()),
        ("operator.add", ["operator.add"], binary(reflected=True), ALL, True, _ERR_OPS),
        ("sub", ["autograd.sub", "Tensor.sub"], binary(), NUMERIC, True, ()),
        ("operator.sub", ["operator.sub"], binary(reflected=True), NUMERIC, True, _ERR_OPS),
        ("mul", ["autograd.mul", "Tensor.mul"], binary(scalars=(2.5, 1e-8, 1e5)), ALL, True, ()),
        ("operator.mul", ["operator.mul"], binary(reflected=True, scalars=(2.5, 1e-8, 1e5)), ALL, True, _ERR_OPS),
        ("div", ["autograd.div", "Tensor.div"], _div_samples, NUMERIC, True, ()),
        ("operator.truediv", ["operator.truediv"], binary(("any", "nonzero"), reflected=True), NUMERIC, True, _ERR_OPS),
        ("pow", ["autograd.pow", "Tensor.pow"], _pow_samples, NUMERIC, True, ()),
        ("operator.pow", ["operator.pow"], _pow_samples, NUMERIC, True, _ERR_OPS),
        ("operator.floordiv", ["operator.floordiv", "autograd.floor_divide", "Tensor.floor_divide"], _floordiv_samples,
         NUMERIC, False, _ERR_OPS),
        ("fmod", ["autograd.fmod", "Tensor.fmod"], _floordiv_samples, NUMERIC, False, _ERR_OPS + ("fmod",)),
        ("operator.mod", ["operator.mod", "autograd.remainder", "Tensor.remainder"], _floordiv_samples, NUMERIC, False, _ERR_OPS),
        ("maximum", ["autograd.maximum", "Tensor.maximum"], binary(("distinct", "nonzero")), NUMERIC, False, ()),
        ("minimum", ["autograd.minimum", "Tensor.minimum"], binary(("distinct", "nonzero")), NUMERIC, False, ()),
        ("matmul", ["autograd.matmul", "Tensor.matmul", "operator.matmul"], _matmul_samples, FLOATS, True, ()),
        ("mm", ["autograd.mm"], _mm_samples, F64, True, ()),
        ("bmm", ["autograd.bmm"], _bmm_samples, F64, True, ()),
        ("where", ["autograd.where"], _where_samples, NUMERIC, True, ()),
        # aliases: one light sample set each (the main entry carries the edge cases)
        ("subtract", ["autograd.subtract"], binary(light=True), F64, True, ()),
        ("multiply", ["autograd.multiply"], binary(light=True), F64, True, ()),
        ("divide", ["autograd.divide"], binary(("any", "nonzero"), light=True), F64, True, ()),
        ("true_divide", ["autograd.true_divide"], binary(("any", "nonzero"), light=True), F64, True, ()),
    ]:
        ops.append(OpInfo(name, calls, gen, dtypes=dts, smooth=smooth, errors=errors,
                          tol={"float16": (2e-3, 1e-3)}))
    ops.append(OpInfo("add-alpha", ["autograd.add"], fixed(lambda dt: [
        S("alpha=2", arr((2, 3), dt, "any", 1), arr((3,), dt, "any", 2), alpha=2.0)]), dtypes=F64, smooth=True))
    return ops


def _clamp_ops():
    # torch's own clip errors say "clamp": either word names the op
    return [OpInfo(n, [f"autograd.{n}", f"Tensor.{n}"], _clamp_samples, dtypes=NUMERIC, errors=("clamp", "clip"))
            for n in ("clamp", "clip")]


def _minmax(name):
    def gen(dt):
        out = reduction("distinct", dims=(0, -1, 1), keepdims=(False, True))(dt)
        out = [s for s in out if "dim=()" not in s.id and "dim=[]" not in s.id]
        x = np.array([1.0, 3.0, 3.0, 2.0], dt) if dt != "bool" else np.array([True, False, True])
        out.append(S("ties", x, gc=False))
        out.append(S("ties,dim=0", x, dim=0, gc=False))
        if is_float(dt):
            out.append(S("nan", np.array([1.0, NAN, 3.0], dt), gc=False))
        out.append(S("binary-form", arr((3,), dt, "distinct", 1), arr((3,), dt, "distinct", 2)))
        return out
    return gen


def _reduction_ops():
    r = []
    for name, dom, smooth, dts, kw in [
        ("sum", "any", True, ALL, ({"dtype": D("float64")},)), ("mean", "any", True, FLOATS, ()),
        ("var", "any", True, FLOATS, ({"unbiased": False}, {"correction": 0}, {"correction": 2, "dim": 1})),
        ("std", "any", True, FLOATS, ({"unbiased": False}, {"correction": 0}, {"dim": 1, "keepdim": True})),
        ("amax", "distinct", False, NUMERIC, ()), ("amin", "distinct", False, NUMERIC, ()),
        ("logsumexp", "any", True, FLOATS, ()),
    ]:
        calls = [f"autograd.{name}", f"Tensor.{name}"]
        r.append(OpInfo(name, calls, fixed(reduction(dom, full_kwargs=kw), lambda dt: [
            S("zero-spread", np.full((2, 3), 1.5, dt) if is_float(dt) else np.ones((2, 3), dt), gc=False),
            S("zero-spread,dim=1", np.full((2, 3), 1.5, dt) if is_float(dt) else np.ones((2, 3), dt), dim=1, gc=False)]),
                        dtypes=dts, smooth=smooth, tol={"float16": (5e-3, 1e-2)}))
    for name in ("var_mean", "std_mean"):
        r.append(OpInfo(name, [f"autograd.{name}"], reduction("any", full_kwargs=({"correction": 0}, {"dim": 1, "keepdim": True})),
                        dtypes=FLOATS, smooth=True, tol={"float16": (5e-3, 1e-2)}))
    r.append(OpInfo("norm", ["autograd.norm", "Tensor.norm"], reduction(
        "nonzero", full_kwargs=({"p": 1}, {"p": 3}, {"p": INF}, {"p": 1, "dim": 1}, {"p": 3, "dim": -1, "keepdim": True},
                                {"p": INF, "dim": 0}, {"p": "fro", "dim": (0, 1)})), dtypes=FLOATS, smooth=True,
        tol={"float16": (5e-3, 1e-2)}))
    r.append(OpInfo("norm-at-zero", ["autograd.norm"], fixed(lambda dt: [
        S("zero-vector", np.zeros(3, dt), gc=False), S("inf-with-nan", np.array([1.0, NAN, 3.0], dt), p=INF, gc=False),
        S("fp16-300-400", np.array([300.0, 400.0], dt), gc=False)]), dtypes=FLOATS))
    r.append(OpInfo("prod", ["Tensor.prod", "autograd.prod"], reduction(
        "nonzero", dims=(0, -1, 1), extra=({"dim": 1, "keepdim": True},)), dtypes=("float64", "float32", "int64", "int32", "uint8", "bool"),
        tol={"float16": (5e-3, 1e-2)}))
    for name in ("max", "min"):
        r.append(OpInfo(name, [f"autograd.{name}", f"Tensor.{name}"], _minmax(name), dtypes=NUMERIC))
    for name in ("argmax", "argmin"):
        r.append(OpInfo(name, [f"autograd.{name}", f"Tensor.{name}"],
                        reduction("distinct", dims=(0, -1), empty=True), dtypes=NUMERIC, grad=False))
    for name in ("any", "all"):
        r.append(OpInfo(name, [f"Tensor.{name}", f"autograd.{name}"], reduction("any", dims=(0, -1, 1)),
                        dtypes=("bool", "float32", "int64"), grad=False))
    for name in ("softmax", "log_softmax"):
        def gen(dt, name=name):
            x = arr((2, 3, 4), dt, "any", 1)
            out = [S("dim=1", x, 1), S("dim=-1", x, dim=-1), S("dim=0", x, 0), S("0d", arr((), dt), 0),
                   S("empty-dim", arr((3, 0), dt), -1), S("empty-rows", arr((0, 3), dt), -1),
                   S("T", T(arr((3, 4), dt, "any", 2)), 1), S("large", np.array([1024.5, 1025.1, 1026.0], dt), 0),
                   S("dim-out-of-range", x, 3)]
            if is_float(dt):
                out += [S("extreme", extremes(dt).reshape(3, 4), 1, gc=False),
                        S("+inf-row", np.array([[INF, 1.0], [0.0, 1.0]], dt), 1, gc=False)]
            return out
        r.append(OpInfo(name, [f"autograd.{name}", f"F.{name}", f"Tensor.{name}"], gen, smooth=True,
                        tol={"float16": (5e-3, 1e-2)}))
    return r


# --- shape, view and joining ops -----------------------------------------------------------------

def _x(dt, shape=(2, 3, 4), seed=7):
    return arr(shape, dt, "any", seed)


def _shape_samples(*specs):
    """specs: (id, args-after-x, kwargs) on a (2,3,4) x; an id starting with '0d'/'empty' uses that input."""
    def gen(dt):
        out = []
        for sid, args, kw in specs:
            x = arr((), dt) if sid.startswith("0d") else arr((0, 3), dt) if sid.startswith("empty") else _x(dt)
            if sid.startswith("T"):
                x = T(_x(dt, (2, 4, 3)))
            out.append(S(sid, x, *args, **kw))
        return out
    return gen


def _shape_ops():
    sp = _shape_samples
    ops = [
        ("reshape", ["autograd.reshape", "Tensor.reshape"], sp(("tuple", ((4, 6),), {}), ("infer", ((-1, 3),), {}),
                                                             ("0d", ((1,),), {}), ("0d-to-0d", ((),), {}),
                                                             ("empty", ((3, 0),), {}), ("T", ((6, 4),), {}),
                                                             ("bad", ((5, 5),), {}), ("two-infer", ((-1, -1),), {}))),
        ("Tensor.reshape-varargs", ["Tensor.reshape", "Tensor.view"], sp(("varargs", (4, 6), {}), ("infer", (-1, 12), {}))),
        ("flatten", ["autograd.flatten", "Tensor.flatten"], sp(("all", (), {}), ("1", (1,), {}), ("0,1", (0, 1), {}),
                                                             ("neg", (-2, -1), {}), ("0d", (), {}), ("empty", (), {}),
                                                             ("T", (1,), {}), ("bad", (2, 1), {}))),
        ("unflatten", ["autograd.unflatten", "Tensor.unflatten"], sp(("mid", (2, (2, 2)), {}), ("infer", (1, (-1, 1)), {}),
                                                                   ("neg", (-1, (2, 2)), {}), ("bad", (2, (3, 3)), {}))),
        ("transpose", ["autograd.transpose", "Tensor.transpose"], sp(("0,2", (0, 2), {}), ("neg", (-1, 0), {}),
                                                                     ("same", (1, 1), {}), ("0d", (0, -1), {}),
                                                                     ("T", (0, 1), {}), ("out-of-range", (0, 3), {}))),
        ("Tensor.swapaxes", ["Tensor.swapaxes"], sp(("0,2", (0, 2), {}))),
        ("permute", ["autograd.permute"], sp(("tuple", ((2, 0, 1),), {}), ("neg", ((-1, 0, 1),), {}),
                                             ("0d", ((),), {}), ("bad", ((0, 0, 1),), {}))),
        ("Tensor.permute", ["Tensor.permute"], sp(("varargs", (2, 0, 1), {}), ("tuple", ((1, 2, 0),), {}))),
        ("squeeze", ["autograd.squeeze", "Tensor.squeeze"], lambda dt: [
            S("all", arr((2, 1, 3, 1), dt)), S("dim", arr((2, 1, 3), dt), 1), S("neg", arr((2, 3, 1), dt), -1),
            S("non-1", arr((2, 3), dt), 0), S("tuple", arr((1, 2, 1), dt), (0, 2)), S("0d", arr((), dt)),
            S("0d,dim", arr((), dt), 0), S("out-of-range", arr((2, 1), dt), 2), S("empty", arr((0, 1), dt), 1)]),
        ("unsqueeze", ["autograd.unsqueeze", "Tensor.unsqueeze"], sp(("0", (0,), {}), ("neg", (-1,), {}), ("end", (3,), {}),
                                                                   ("0d", (0,), {}), ("0d-neg", (-1,), {}),
                                                                   ("empty", (1,), {}), ("out-of-range", (5,), {}))),
        ("expand", ["Tensor.expand"], lambda dt: [
            S("size1", arr((2, 1, 4), dt), (2, 5, 4)), S("new-dims", _x(dt), (3, 2, 3, 4)), S("keep", arr((2, 1), dt), (-1, 3)),
            S("0d", arr((), dt), (2, 3)), S("empty", arr((0, 1), dt), (0, 4)), S("bad", _x(dt), (2, 5, 4))]),
        ("Tensor.expand", ["Tensor.expand"], lambda dt: [S("varargs", arr((3, 1), dt), 3, 4), S("tuple", arr((3, 1), dt), (2, 3, 4))]),
        ("Tensor.expand_as", ["Tensor.expand_as"], lambda dt: [S("as", arr((3, 1), dt), C(arr((2, 3, 4), dt)))]),
        ("broadcast_to", ["autograd.broadcast_to", "Tensor.broadcast_to"], lambda dt: [
            S("0d", arr((), dt), (3, 4)), S("row", arr((4,), dt), (3, 4)), S("bad", arr((3,), dt), (3, 4))]),
        ("broadcast_tensors", ["autograd.broadcast_tensors"], lambda dt: [
            S("three", arr((3, 1), dt, "any", 1), arr((4,), dt, "any", 2), arr((), dt, "any", 3)),
            S("bad", arr((3,), dt), arr((4,), dt))]),
        ("Tensor.repeat", ["Tensor.repeat"], lambda dt: [
            S("1,2,1", _x(dt), 1, 2, 1), S("new-dim", arr((2, 3), dt), 2, 1, 2), S("tuple", arr((3,), dt), (2, 2)),
            S("0d", arr((), dt), 3), S("zero", arr((2,), dt), 0), S("too-few", _x(dt), 2)]),
        ("cat", ["autograd.cat", "autograd.concat", "autograd.concatenate"], lambda dt: [
            S("dim=1", [_x(dt), _x(dt, (2, 2, 4), 8)], dim=1), S("neg", [_x(dt, (2, 1, 4)), _x(dt)], dim=-2),
            S("default", [arr((2, 3), dt), arr((1, 3), dt, "any", 2)]), S("one", [arr((3,), dt)]),
            S("empty-1d", [arr((0,), dt), arr((3,), dt)]), S("T", [T(arr((2, 3), dt)), arr((2, 3), dt, "any", 3)], dim=0),
            S("mismatch", [arr((2, 3), dt), arr((2, 4), dt)]), S("0d-error", [arr((), dt), arr((), dt)]),
            S("none-error", []), S("dim-out-of-range", [arr((2,), dt), arr((2,), dt)], dim=1)]),
        ("concat", ["autograd.concat"], lambda dt: [S("dim=0", [arr((2,), dt), arr((3,), dt)])]),
        ("concatenate", ["autograd.concatenate"], lambda dt: [S("dim=0", [arr((2,), dt), arr((3,), dt)])]),
        ("stack", ["autograd.stack"], lambda dt: [
            S("dim=1", [_x(dt), _x(dt, seed=9)], dim=1), S("neg", [arr((3,), dt), arr((3,), dt, "any", 2)], dim=-1),
            S("0d", [arr((), dt), arr((), dt, "any", 2)]), S("empty", [arr((0, 2), dt), arr((0, 2), dt)]),
            S("T", [T(arr((2, 3), dt)), arr((2, 3), dt, "any", 3)]), S("mismatch", [arr((2,), dt), arr((3,), dt)]),
            S("none-error", [])]),
        ("split", ["autograd.split", "Tensor.split"], sp(("size", (2,), {"dim": 2}), ("size-uneven", (3,), {"dim": 2}),
                                                        ("sizes", ([1, 3],), {"dim": 2}), ("neg", (1,), {"dim": -2}),
                                                        ("T", (2,), {"dim": 1}), ("bad-sizes", ([1, 1],), {"dim": 2}),
                                                        ("empty", (1,), {"dim": 1}))),
        ("chunk", ["autograd.chunk", "Tensor.chunk"], sp(("3", (3,), {"dim": 1}), ("uneven", (3,), {"dim": 2}),
                                                        ("more-than-size", (5,), {"dim": 0}), ("neg", (2,), {"dim": -1}),
                                                        ("zero", (0,), {}), ("empty", (2,), {"dim": 1}))),
        ("unbind", ["autograd.unbind", "Tensor.unbind"], sp(("0", (0,), {}), ("neg", (-1,), {}), ("T", (1,), {}),
                                                           ("empty", (1,), {}), ("0d", (0,), {}))),
        ("narrow", ["autograd.narrow", "Tensor.narrow"], sp(("mid", (2, 1, 2), {}), ("neg-dim", (-1, 0, 4), {}),
                                                           ("neg-start", (2, -2, 2), {}), ("too-long", (2, 1, 5), {}),
                                                           ("zero-len", (1, 3, 0), {}), ("T", (1, 0, 2), {}))),
        ("select", ["autograd.select", "Tensor.select"], sp(("mid", (1, 2), {}), ("neg", (-1, -1), {}),
                                                           ("out-of-range", (0, 2), {}), ("T", (2, 0), {}))),
        ("pad", ["F.pad"], lambda dt: [
            S("last", _x(dt), (1, 2)), S("two-dims", _x(dt), (1, 0, 0, 2), value=3.0 if is_float(dt) else 3),
            S("zero", arr((2, 3), dt), (0, 0)), S("T", T(arr((2, 3), dt)), (1, 1)),
            S("negative", arr((2, 5), dt), (-1, -2)), S("odd-length", arr((2, 3), dt), (1,))]),
        ("Tensor.T", [Call("Tensor.T", lambda x: x.T)], lambda dt: [S("2d", arr((2, 3), dt)), S("1d", arr((3,), dt)),
                                                                    S("0d", arr((), dt))]),
        ("Tensor.mT", [Call("Tensor.mT", lambda x: x.mT)], lambda dt: [S("3d", _x(dt)), S("1d-error", arr((3,), dt))]),
        ("Tensor.t", ["Tensor.t"], lambda dt: [S("2d", arr((2, 3), dt)), S("1d", arr((3,), dt)), S("3d-error", _x(dt))]),
        ("Tensor.view_as", ["Tensor.view_as", "Tensor.reshape_as"], lambda dt: [S("as", _x(dt), C(arr((4, 6), dt)))]),
        ("Tensor.contiguous", ["Tensor.contiguous"], lambda dt: [S("T", T(arr((2, 3), dt))), S("plain", arr((2, 3), dt))]),
    ]
    return [OpInfo(n, c, g, dtypes=SHAPE_DTYPES, smooth=True, errors=_shape_err(n)) for n, c, g in ops]


def _shape_err(name):
    base = name.split(".")[-1].split("-")[0]
    return {"Tensor.T": ("T", "transpose"), "Tensor.mT": ("mT", "transpose"), "Tensor.t": ("t()", "transpose"),
            "concat": ("cat", "concat"), "concatenate": ("cat", "concat"), "broadcast_to": ("broadcast", "expand"),
            "broadcast_tensors": ("broadcast",), "Tensor.expand": ("expand",)}.get(name, (base,))


# --- indexing ------------------------------------------------------------------------------------

# (id, index) on a (2,3,4) input; "L[...]" lists stay Python lists, "A[...]" become int64 tensors
INDICES = [
    ("int", 1), ("neg-int", -1), ("slice", slice(1, None)), ("step", (slice(None), slice(None, None, 2))),
    ("none", (None, 0)), ("ellipsis", (Ellipsis, 1)), ("tuple", (1, slice(0, 2), -1)),
    ("list", ([0, 1, 1],)), ("list-2d", ([[0, 1], [1, 1]],)), ("two-lists", ([0, 1, 1], [2, 0, 2])),
    ("mixed", (slice(None), [2, 2, 0])), ("tensor", ("A", [0, 1, 1])), ("tensor-mixed", (slice(None), "A", [3, 0, 3])),
    ("tensor-repeated", ("A", [0, 0, 1, 0])), ("bool-mask", ("M", None)), ("bool-rows", ("B", [True, False])),
    ("empty-list", ([],)), ("out-of-range", 5), ("neg-out-of-range", (0, -4)), ("too-many", (0, 0, 0, 0)),
    ("empty-slice", slice(2, 1)), ("ellipsis-none", (Ellipsis, None)),
]


def _getitem_samples(dt):
    x = _x(dt, seed=8)
    out = []
    for sid, index in INDICES:
        idx = index if isinstance(index, tuple) else (index,)
        built, i = [], 0
        while i < len(idx):
            v = idx[i]
            if v == "A":
                built.append(np.array(idx[i + 1], dtype="int64"))
                i += 2
                continue
            if v == "M":
                built.append(C(x > 0) if dt != "bool" else C(x))
                i += 2
                continue
            if v == "B":
                built.append(np.array(idx[i + 1]))
                i += 2
                continue
            built.append(v)
            i += 1
        out.append(S(sid, x, built[0] if not isinstance(index, tuple) else tuple(built)))
    out += [S("0d,()", arr((), dt), ()), S("0d,None", arr((), dt), None), S("0d,...", arr((), dt), Ellipsis),
            S("T,int", T(arr((3, 4), dt)), (slice(None), 1))]
    return out


def _setitem(x, index, value):
    y = x * 1 if x.dtype.is_floating_point else x.clone()
    y[index] = value
    return y


def _index_ops():
    return [
        OpInfo("getitem", ["operator.getitem"], _getitem_samples,
               dtypes=SHAPE_DTYPES, smooth=True, errors=("index", "getitem")),
        OpInfo("Tensor.__setitem__", [Call("Tensor.__setitem__", _setitem)], lambda dt: [
            S("column", arr((3, 4), dt, "any", 1), (slice(None), 1), arr((3,), dt, "any", 2)),
            S("rows-by-tensor", arr((3, 4), dt, "any", 1), np.array([0, 2]), arr((4,), dt, "any", 2)),
            S("scalar", arr((3, 4), dt, "any", 1), (1, slice(1, 3)), 2.0 if is_float(dt) else 2)],
            dtypes=F64 + ("int64",), errors=("setitem", "index")),
    ]


# --- casts ----------------------------------------------------------------------------------------

def _cast_ops():
    def samples(dt):
        return [S("vec", arr((4,), dt, "nonzero", 1)), S("0d", arr((), dt, "nonzero", 2)), S("empty", arr((0, 2), dt)),
                S("T", T(arr((2, 3), dt)))] + ([S("extreme-finite", extremes(dt)[3:], gc=False)] if is_float(dt) else [])
    out = []
    for target in ("float64", "float32", "float16", "int64", "int32", "bool", "uint8"):
        out.append(OpInfo(f"Tensor.to({target})", ["Tensor.to"],
                          lambda dt, target=target: [S(s.id, *s.args, D(target)) for s in samples(dt)],
                          dtypes=("float64", "float32", "int64", "bool"), errors=("to",),
                          makes_float16=target == "float16"))
    for m in ("long", "bool", "float", "double", "half", "int"):
        out.append(OpInfo(f"Tensor.{m}", [f"Tensor.{m}"], samples, dtypes=("float64", "int64"),
                          makes_float16=m == "half"))
    out.append(OpInfo("Tensor.type_as", ["Tensor.type_as"], lambda dt: [S("as-f32", arr((3,), dt), C(arr((1,), "float32")))],
                      dtypes=("float64", "int64")))
    out.append(OpInfo("Tensor.to(python-type)", [Call("Tensor.to(float)", lambda x: x.to(dtype=float)),
                                                 Call("Tensor.to(int)", lambda x: x.to(int))],
                      lambda dt: [S("vec", arr((3,), dt))], dtypes=("float32",), errors=("to", "dtype")))
    return out


# --- utilities that return Python values -----------------------------------------------------------

def _misc_ops():
    return [
        OpInfo("numel", ["autograd.numel", "Tensor.numel"], lambda dt: [S("3d", _x(dt)), S("0d", arr((), dt)),
                                                                       S("empty", arr((0, 3), dt))], dtypes=F64, grad=False),
        OpInfo("equal", ["autograd.equal", "Tensor.equal"], lambda dt: [
            S("same", arr((3,), dt), arr((3,), dt)), S("differ", arr((3,), dt), arr((3,), dt, "any", 1)),
            S("shape", arr((3,), dt), arr((1, 3), dt))], dtypes=("float64", "int64"), grad=False),
        OpInfo("allclose", ["autograd.allclose", "Tensor.allclose"], lambda dt: [
            S("close", arr((3,), dt), arr((3,), dt) * (1 + 1e-7)), S("far", arr((3,), dt), arr((3,), dt) + 1),
            S("nan", np.array([NAN, 1.0]), np.array([NAN, 1.0])), S("broadcast", arr((2, 3), dt), arr((3,), dt))],
            dtypes=F64, grad=False),
        OpInfo("broadcast_shapes", ["autograd.broadcast_shapes"], lambda dt: [
            S("two", (2, 1), (3,)), S("three", (1,), (4, 1), ()), S("bad", (2,), (3,))], dtypes=F64, grad=False,
            errors=("broadcast", "shape")),
    ]


# --- nn.functional --------------------------------------------------------------------------------

def _probs(shape, dt, seed=0):
    return arr(shape, dt, "unit", seed) * 0.45 + 0.5


def _nn_ops():
    f = []

    def add(name, gen, calls=None, **kw):
        f.append(OpInfo(f"F.{name}", calls or [f"F.{name}"], gen, **kw))

    def pred_target(dt, shape=(3, 4)):
        return arr(shape, dt, "any", 1), C(arr(shape, dt, "any", 2))

    reductions = ("mean", "sum", "none")
    for name, extra in [("mse_loss", ()), ("l1_loss", ()), ("huber_loss", ({"delta": 0.5},)),
                        ("smooth_l1_loss", ({"beta": 0.5},))]:
        def gen(dt, extra=extra):
            x, y = pred_target(dt)
            out = [S(f"reduction={r}", x, y, reduction=r) for r in reductions]
            out += [S("kw", x, y, **k) for k in extra]
            out += [S("0d", arr((), dt), C(arr((), dt, "any", 3))), S("empty", arr((0, 2), dt), C(arr((0, 2), dt))),
                    S("T", T(arr((3, 4), dt)), y),
                    S("bad-reduction", x, y, reduction="avg")]
            return out
        add(name, gen, smooth=name == "mse_loss", tol={"float16": (5e-3, 1e-2)})

    def bce(dt):
        p, y = _probs((3, 4), dt, 1), C(_probs((3, 4), dt, 2))
        return [S("mean", p, y), S("sum", p, y, reduction="sum"), S("none", p, y, reduction="none"),
                S("weight", p, y, weight=C(_probs((4,), dt, 3))), S("hard-targets", p, C((arr((3, 4), dt) > 0).astype(dt))),
                S("p=0,1", np.array([0.0, 1.0, 0.5], dt), C(np.array([1.0, 0.0, 0.5], dt)), gc=False),
                S("nan-input", np.array([NAN, 0.5], dt), C(np.array([1.0, 0.0], dt)), gc=False),
                S("target>1", p, C(_probs((3, 4), dt, 2) + 1.0)), S("shape-mismatch", p, C(_probs((4,), dt)))]
    add("binary_cross_entropy", bce, tol={"float16": (5e-3, 1e-2)}, errors=("binary_cross_entropy",))

    def bcel(dt):
        x, y = arr((3, 4), dt, "any", 1), C(_probs((3, 4), dt, 2))
        return [S("mean", x, y), S("sum", x, y, reduction="sum"), S("none", x, y, reduction="none"),
                S("pos_weight", x, y, pos_weight=C(_probs((4,), dt, 3) * 3)), S("weight", x, y, weight=C(_probs((4,), dt, 4))),
                S("extreme", extremes(dt)[3:], C(_probs((9,), dt, 5)), gc=False), S("shape-mismatch", x, C(_probs((4,), dt)))]
    add("binary_cross_entropy_with_logits", bcel, smooth=True, tol={"float16": (5e-3, 1e-2)})

    def logits_target(dt):
        x = arr((4, 5), dt, "any", 1)
        t = np.array([0, 3, 4, 1])
        return x, t
    def ce(dt, nll=False):
        x, t = logits_target(dt)
        if nll:
            x = np.log(np.exp(x.astype("float64")) / np.exp(x.astype("float64")).sum(1, keepdims=True)).astype(dt)
        w = C(_probs((5,), dt, 3))
        out = [S("mean", x, t), S("sum", x, t, reduction="sum"), S("none", x, t, reduction="none"),
               S("weight", x, t, weight=w), S("ignore_index", x, np.array([0, -100, 4, 1])),
               S("ignore=1", x, t, ignore_index=1), S("all-ignored", x, np.array([-100] * 4), gc=False),
               S("spatial", arr((2, 3, 2, 2), dt), np.array([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])),
               S("1d-input", arr((5,), dt), np.array(2)), S("target-out-of-range", x, np.array([0, 5, 1, 1])),
               S("float-target-shape-mismatch", x, t[:3])]
        if not nll:
            out += [S("label_smoothing", x, t, label_smoothing=0.1),
                    S("prob-targets", x, C(_probs((4, 5), dt, 4) / _probs((4, 5), dt, 4).sum(1, keepdims=True)))]
        return out
    add("cross_entropy", ce, smooth=True, tol={"float16": (5e-3, 1e-2)})
    add("nll_loss", lambda dt: ce(dt, True), tol={"float16": (5e-3, 1e-2)})

    def triplet(dt):
        a, p, n = (arr((3, 4), dt, "any", i) for i in (1, 2, 3))
        return [S("default", a, p, n), S("margin", a, p, n, margin=0.5, p=1.0), S("swap", a, p, n, swap=True),
                S("none", a, p, n, reduction="none"), S("mismatch", a, p, arr((3, 5), dt))]
    add("triplet_margin_loss", triplet)

    add("pairwise_distance", lambda dt: [
        S("default", arr((3, 4), dt, "any", 1), arr((3, 4), dt, "any", 2)), S("p=1", arr((3, 4), dt, "any", 1), arr((4,), dt, "any", 2), p=1.0),
        S("keepdim", arr((3, 4), dt, "any", 1), arr((3, 4), dt, "any", 2), keepdim=True),
        S("same-point", arr((2, 3), dt, "any", 1), C(arr((2, 3), dt, "any", 1)), gc=False)], smooth=True)

    add("linear", lambda dt: [
        S("bias", arr((2, 3), dt, "any", 1), arr((4, 3), dt, "any", 2), arr((4,), dt, "any", 3)),
        S("no-bias", arr((5, 2, 3), dt, "any", 1), arr((4, 3), dt, "any", 2)), S("1d", arr((3,), dt), arr((4, 3), dt, "any", 2)),
        S("T-weight", arr((2, 3), dt), T(arr((4, 3), dt, "any", 2))), S("mismatch", arr((2, 3), dt), arr((4, 2), dt)),
        S("empty-batch", arr((0, 3), dt), arr((4, 3), dt))] + (
        [S("f32,f64-weight", arr((2, 3), dt), C(arr((4, 3), "float64")))] if dt == "float32" else []), smooth=True)

    def conv(dt):
        x, w, b = arr((2, 2, 5, 5), dt, "any", 1), arr((3, 2, 3, 3), dt, "any", 2), arr((3,), dt, "any", 3)
        return [S("bias", x, w, b), S("stride-pad", x, w, None, stride=2, padding=1), S("dilation", x, w, dilation=2),
                S("groups", arr((1, 4, 4, 4), dt), arr((2, 2, 3, 3), dt, "any", 2), groups=2),
                S("same", x, w, padding="same"), S("unbatched", arr((2, 5, 5), dt), w),
                S("channel-mismatch", arr((1, 3, 5, 5), dt), w), S("too-small", arr((1, 2, 2, 2), dt), w)]
    add("conv2d", conv, smooth=True, tol={"float32": (1e-5, 1e-5), "float16": (1e-2, 1e-2)})

    def pool(max_):
        def gen(dt):
            x = arr((1, 2, 5, 6), dt, "distinct" if max_ else "any", 1)
            out = [S("k2", x, 2), S("k3s2p1", x, 3, stride=2, padding=1), S("rect", x, (2, 3), stride=(1, 2)),
                   S("unbatched", arr((2, 4, 4), dt, "distinct", 2), 2), S("big-pad", x, 2, padding=2)]
            out += [S("dilation", x, 2, dilation=2)] if max_ else [S("no-count-pad", x, 3, stride=2, padding=1, count_include_pad=False),
                                                                  S("divisor", x, 2, divisor_override=3)]
            if max_ and is_float(dt):
                out.append(S("inf", np.array([[[[INF, 1.0], [2.0, -INF]]]], dt), 2, gc=False))
            return out
        return gen
    add("max_pool2d", pool(True))
    add("avg_pool2d", pool(False), smooth=True)

    def bn(dt):
        x = arr((4, 3, 2), dt, "any", 1)
        rm, rv = C(arr((3,), dt, "any", 2)), C(_probs((3,), dt, 3) + 0.5)
        return [S("eval", x, rm, rv, arr((3,), dt, "any", 4), arr((3,), dt, "any", 5)),
                S("train", x, C(np.zeros(3, dt)), C(np.ones(3, dt)), training=True),
                S("train-affine", arr((4, 3), dt, "any", 6), None, None, arr((3,), dt, "any", 4), arr((3,), dt, "any", 5), training=True),
                S("train-one-value", arr((1, 3), dt), None, None, training=True)]
    add("batch_norm", bn, smooth=True, tol={"float16": (1e-2, 1e-2)})

    def ln(dt):
        x = arr((2, 3, 4), dt, "any", 1)
        return [S("last", x, (4,), arr((4,), dt, "any", 2), arr((4,), dt, "any", 3)), S("two", x, (3, 4)),
                S("T", T(arr((2, 4, 3), dt)), (4,)), S("mismatch", x, (3,))]
    add("layer_norm", ln, smooth=True, tol={"float16": (1e-2, 1e-2)})

    add("dropout", lambda dt: [S("eval", arr((3, 4), dt), 0.5, training=False), S("p=0", arr((3, 4), dt), 0.0),
                               S("p=1", arr((3, 4), dt), 1.0), S("bad-p", arr((3,), dt), 1.5)])

    add("embedding", lambda dt: [
        S("2d", np.array([[0, 2], [3, 0]]), arr((4, 3), dt, "any", 1)), S("padding_idx", np.array([0, 1, 1]), arr((4, 3), dt), padding_idx=1, gc=False),
        S("0d", np.array(2), arr((4, 3), dt)), S("out-of-range", np.array([4]), arr((4, 3), dt)),
        S("float-index", C(np.array([1.0])), arr((4, 3), dt))])

    add("one_hot", lambda dt: [
        S("infer", np.array([0, 2, 1])), S("n=4", np.array([[0, 3], [1, 1]]), 4), S("0d", np.array(1), 3),
        S("out-of-range", np.array([0, 5]), 3), S("negative", np.array([-1, 0]), 3), S("float", C(np.array([0.0, 1.0])), 2)],
        dtypes=("int64",), grad=False)

    def swiglu_ref(x, dim=-1):
        a, b = x.chunk(2, dim)
        return a * a.sigmoid() * b
    add("swiglu", lambda dt: [S("last", arr((2, 6), dt)), S("dim0", arr((4, 3), dt), dim=0), S("odd", arr((2, 5), dt))],
        calls=[Call("F.swiglu", "F.swiglu", swiglu_ref)], smooth=True)

    def focal_ref(x, y, alpha=0.25, gamma=2.0, reduction="none"):
        # torchvision.ops.sigmoid_focal_loss, written out
        p = x.sigmoid()
        ce = x.clamp(min=0) - x * y + (-x.abs()).exp().log1p()      # BCE with logits, overflow-free
        p_t = p * y + (1 - p) * (1 - y)
        loss = ce * (1 - p_t) ** gamma
        if alpha >= 0:
            loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    add("sigmoid_focal_loss", lambda dt: [
        S("none", arr((3, 4), dt, "any", 1), C((arr((3, 4), dt, "any", 2) > 0).astype(dt))),
        S("mean", arr((3, 4), dt, "any", 1), C(_probs((3, 4), dt, 2)), reduction="mean", alpha=-1.0),
        S("sum", arr((3, 4), dt, "any", 1), C(_probs((3, 4), dt, 2)), reduction="sum", gamma=0.0)],
        calls=[Call("F.sigmoid_focal_loss", "F.sigmoid_focal_loss", focal_ref)], smooth=True)

    def contrastive_ref(x1, x2, label, margin=1.0, reduction="mean", eps=1e-6):
        # Hadsell, Chopra & LeCun 2006 with the factor 1/2, d = ||x1 - x2 + eps||_2 (as pairwise_distance)
        d = (x1 - x2 + eps).pow(2).sum(-1).sqrt()
        y = label.to(d.dtype)
        loss = 0.5 * (y * d * d + (1 - y) * (margin - d).clamp(min=0) ** 2)
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    add("contrastive_loss", lambda dt: [
        S("mean", arr((4, 3), dt, "any", 1), arr((4, 3), dt, "any", 2), C(np.array([1.0, 0.0, 1.0, 0.0], dt))),
        S("none", arr((4, 3), dt, "any", 1), arr((4, 3), dt, "any", 2) * 0.1, C(np.array([0.0, 0.0, 1.0, 1.0], dt)),
          reduction="none", margin=2.0),
        S("mismatch", arr((4, 3), dt), arr((4, 2), dt), C(np.zeros(4, dt)))],
        calls=[Call("F.contrastive_loss", "F.contrastive_loss", contrastive_ref)], smooth=False,
        errors=("contrastive_loss",))

    def asym_ref(x, y, lam=10.0, reduction="mean"):
        d = y - x
        loss = (d * d) * ((x < y).to(x.dtype) * (lam - 1) + 1)
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    add("asymmetric_mse_loss", lambda dt: [
        S("mean", arr((3, 4), dt, "any", 1), C(arr((3, 4), dt, "any", 2))),
        S("none", arr((3, 4), dt, "any", 1), C(arr((3, 4), dt, "any", 2)), lam=3.0, reduction="none")],
        calls=[Call("F.asymmetric_mse_loss", "F.asymmetric_mse_loss", asym_ref)], smooth=True)
    return f


def _inf_upstream():
    """relu, clamp and max_pool2d followed by a multiply by inf: the upstream gradient is ±inf (issue 10 #5)."""
    x = lambda dt: [S("mixed-signs", np.array([-2.0, -0.5, 0.5, 2.0], dt), gc=False)]
    big = float("inf")
    return [
        OpInfo("relu-inf-upstream", [Call("relu(x)*inf", lambda t: t.relu() * big)], x, grad=True),
        OpInfo("clamp-inf-upstream", [Call("clamp(x)*inf", lambda t: t.clamp(-1.0, 1.0) * big)], x, grad=True),
        OpInfo("max_pool2d-inf-upstream", [Call("max_pool2d(x)*inf", lambda t: _maxpool(t) * big,
                                                lambda t: __import__("torch").nn.functional.max_pool2d(t, 2) * big)],
               lambda dt: [S("2x2", np.array([[[[1.0, -2.0], [0.5, 3.0]]]], dt), gc=False)]),
    ]


def _maxpool(t):
    import nn.functional as F
    return F.max_pool2d(t, 2)


REGISTRY = [*_inf_upstream(), *_unary_ops(), *_clamp_ops(), *_arith_ops(), *_compare_ops(), *_reduction_ops(), *_shape_ops(),
            *_index_ops(), *_cast_ops(), *_misc_ops(), *_nn_ops()]

# Public callables of `autograd` and `nn.functional` that are not ops, so have no registry entry.
NON_OPS = {
    # classes, dtypes, devices and errors
    "Function", "FunctionCtx", "GradcheckError", "RemovableHandle", "SavedTensorError", "Size", "Tensor",
    "device", "dtype", "promote_types",
    # factories and random state (no input tensor to check; test_tensor / test_backends cover them)
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace", "ones",
    "ones_like", "rand", "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm", "tensor",
    "zeros", "zeros_like", "manual_seed", "seed", "initial_seed",
    # grad mode, engine entry points and defaults
    "backward", "grad", "enable_grad", "no_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "is_anomaly_enabled", "get_default_device", "set_default_device", "get_default_dtype", "set_default_dtype",
    "is_tensor",
    # tools: gradient checks, checkpointing, graph export, memory reports
    "gradcheck", "gradgradcheck", "checkpoint", "record_source", "render_dot", "to_dot", "to_json",
    "profile_memory", "tape_report",
}

# Every divergence from torch the engine still has: (op, "dtype/sample", check[, device]) -> why.
# "dtype/sample" is an fnmatch pattern ("float*/extreme", "*/dim=()"); a 4th element limits a key to one
# device ("cpu", "array_api_strict", "cuda"). Every check a key matches must fail; a key that matches
# nothing in a full run is stale. Grouped by issue 10 item; "#contract" is the section 3 paragraph on the
# backend contract, "#new" marks a divergence the issue does not list yet.
KNOWN: dict[tuple, str] = {
    # --- issue 10 #2
    ('logsumexp', '*/dim=()', 'error'): "issue 10 #2, deliberate (README porting guide): torch 2.13's logsumexp raises for dim=() (an internal shape error); ours reduces over all dims as sum does",
    ('logsumexp', '*/dim=[]', 'error'): "issue 10 #2, deliberate (README porting guide): torch 2.13's logsumexp raises for dim=() (an internal shape error); ours reduces over all dims as sum does",
    ('std', '*/dim=()', 'grad'): "issue 10 #2, deliberate (README porting guide): torch 2.13's std/var backward over dim=() is +-inf (N - 1 with N = 1); ours is the gradient over all dims",
    ('std', '*/dim=[]', 'grad'): "issue 10 #2, deliberate (README porting guide): torch 2.13's std/var backward over dim=[] is +-inf (N - 1 with N = 1); ours is the gradient over all dims",
    ('var', '*/dim=()', 'grad'): "issue 10 #2, deliberate (README porting guide): torch 2.13's std/var backward over dim=() is +-inf (N - 1 with N = 1); ours is the gradient over all dims",
    ('var', '*/dim=[]', 'grad'): "issue 10 #2, deliberate (README porting guide): torch 2.13's std/var backward over dim=[] is +-inf (N - 1 with N = 1); ours is the gradient over all dims",
    # --- issue 10 #3
    # --- issue 10 #4
    # --- issue 10 #5
    # --- issue 10 #6
    # --- issue 10 #7
    # --- issue 10 #9
    # --- issue 10 #10
    # --- issue 10 #11
    # --- issue 10 #12
    # --- issue 10 #13
    ('var_mean', '*/dim=()', 'grad'): "issue 10 #2: torch 2.13's var_mean backward over dim=() gives +-inf (it divides by N - 1 with N = 1); ours is the gradient over all dims, as torch's var: we differ on purpose (README porting guide)",
    ('var_mean', '*/dim=[]', 'grad'): "issue 10 #2: torch 2.13's var_mean backward over dim=[] gives +-inf (it divides by N - 1 with N = 1); ours is the gradient over all dims, as torch's var: we differ on purpose (README porting guide)",
    ('std_mean', '*/dim=()', 'grad'): "issue 10 #2: torch 2.13's std_mean backward over dim=() gives +-inf (it divides by N - 1 with N = 1); ours is the gradient over all dims, as torch's std: we differ on purpose (README porting guide)",
    ('std_mean', '*/dim=[]', 'grad'): "issue 10 #2: torch 2.13's std_mean backward over dim=[] gives +-inf (it divides by N - 1 with N = 1); ours is the gradient over all dims, as torch's std: we differ on purpose (README porting guide)",
    # --- issue 10 #14
    # --- issue 10 #15
    # --- issue 10 #16
    # --- issue 10 #17
    # --- issue 10 #21
    # --- issue 10 #25
    # --- issue 10 #28
    # --- issue 10 #29
    # --- issue 10 #30
    # --- issue 10 #31
    # --- issue 10 #32
    # --- issue 10 #33
    # --- issue 10 #contract
    # --- issue 10 #new
    ('gelu', 'float16/extreme', 'call F.gelu'): "issue 10 #21, deliberate (README porting guide): torch 2.13's float32/float16 gelu(+inf) is nan (its vectorised kernel; float64 gives inf); ours is inf",
    ('gelu', 'float16/extreme', 'value'): "issue 10 #21, deliberate (README porting guide): torch 2.13's float32/float16 gelu(+inf) is nan (its vectorised kernel; float64 gives inf); ours is inf",
    ('gelu', 'float32/extreme', 'call F.gelu', 'array_api_strict'): "issue 10 #21, deliberate (README porting guide): torch 2.13's float32/float16 gelu(+inf) is nan (its vectorised kernel; float64 gives inf); ours is inf",
    ('gelu', 'float32/extreme', 'call F.gelu', 'cpu'): "issue 10 #21, deliberate (README porting guide): torch 2.13's float32/float16 gelu(+inf) is nan (its vectorised kernel; float64 gives inf); ours is inf",
    ('gelu', 'float32/extreme', 'value', 'array_api_strict'): "issue 10 #21, deliberate (README porting guide): torch 2.13's float32/float16 gelu(+inf) is nan (its vectorised kernel; float64 gives inf); ours is inf",
    ('gelu', 'float32/extreme', 'value', 'cpu'): "issue 10 #21, deliberate (README porting guide): torch 2.13's float32/float16 gelu(+inf) is nan (its vectorised kernel; float64 gives inf); ours is inf",
    # --- issue 10 #20: prod
    # --- issue 10 #new: torch functions without our counterpart
}


# ------------------------------------------------------------------------------------------------
# area registries: tests/opinfo_<area>.py (issues 11 and 12 add op families there, so that parallel
# work never edits this file). Each defines ENTRIES (a list of OpInfo) and may define KNOWN (same form
# as above, the reason naming its issue: "issue 11 #sorting: ...") and NON_OPS (a set of names).

def _load_areas():
    import importlib
    import pathlib
    for path in sorted(pathlib.Path(__file__).parent.glob("opinfo_*.py")):
        mod = importlib.import_module(f"tests.{path.stem}")
        REGISTRY.extend(mod.ENTRIES)
        KNOWN.update(getattr(mod, "KNOWN", {}))
        NON_OPS.update(getattr(mod, "NON_OPS", set()))


_load_areas()
