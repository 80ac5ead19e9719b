"""Registry entries for issue 11 "Scans, sorting, counting": cumulative ops, sorting and selection,
quantiles, unique, searches and counts, and the NaN-aware / closeness reductions.

Ties: torch leaves the index of tied elements unspecified for topk, kthvalue, median and
nanmedian (its CPU kernels use partial sorts), so their samples hold distinct values; sort and
argsort are stable and are tested with ties; mode's ties follow torch's CPU result (the smallest
value, its last index).
"""
from __future__ import annotations

import numpy as np

from tests.opinfo import (ALL, C, D, FLOATS, INF, NAN, NUMERIC, STRIDED, OpInfo, S, T, arr, extremes,
                          fixed, is_float)

_TOL16 = {"float16": (5e-3, 1e-2)}


def distinct(shape, dt, seed=0):
    """Values without ties (a shuffled range), in any dtype but bool."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    p = rng.permutation(n).reshape(shape)
    if is_float(dt):
        return np.asarray((p - n / 2) * 0.37 + 0.05, dtype=dt)
    return np.asarray(p - n // 2, dtype=dt)


def _nan_rows(dt):
    return np.array([[1.5, NAN, -2.0, 0.5], [NAN, NAN, 3.0, -1.0], [0.25, 2.0, -0.75, 4.0]], dt)


# ------------------------------------------------------------------------------------------------
# cumulative ops

def _cum(extra_dtype=True, zeros=False):
    def gen(dt):
        x = arr((2, 3, 4), dt, "any", 1)
        out = [S("dim=0", x, 0), S("dim=1", x, 1), S("dim=-1", x, dim=-1), S("0d", arr((), dt, "any", 2), 0),
               S("0d,dim=-1", arr((), dt, "any", 2), -1), S("empty,dim=0", arr((0, 3), dt), 0),
               S("empty,dim=1", arr((0, 3), dt), 1), S("T", T(arr((3, 4), dt, "any", 3)), 1),
               S("strided", STRIDED(arr((2, 3), dt, "any", 4)), -1), S("dim-out-of-range", x, 3),
               S("size1", arr((3, 1), dt, "any", 5), 1)]
        if extra_dtype:
            out.append(S("dtype=float64", arr((2, 3), dt, "any", 6), 1, dtype=D("float64")))
        if zeros:
            z = np.array([[1.5, 0.0, 2.0, 0.0, -0.5], [2.0, -1.5, 0.0, 0.5, 1.25], [0.0, 1.0, 2.0, 0.5, -1.0],
                          [0.5, 1.5, -2.0, 1.0, 0.0]], dt) if is_float(dt) else np.array([[1, 0, 2, 0, 3], [0, 2, 1, 1, 2]], dt)
            out += [S("zeros,dim=1", z, 1), S("zeros,dim=0", z, 0),
                    S("one-zero", np.array([2.0, 0.0, 1.5, -1.0], dt) if is_float(dt) else np.array([2, 0, 1], dt), 0)]
        if is_float(dt):
            e = extremes(dt).reshape(3, 4)
            out += [S("extreme,dim=1", e, 1, gc=False), S("extreme,dim=0", e, 0, gc=False)]
        return out
    return gen


def _cumext(dt):
    x = distinct((3, 5), dt, 1) if dt != "bool" else arr((3, 5), dt, "any", 1)
    out = [S("dim=1", x, 1), S("dim=0", x, 0), S("dim=-1", x, -1), S("0d", arr((), dt, "any", 2), 0),
           S("empty", arr((0, 3), dt), 1), S("T", T(distinct((4, 3), dt, 3) if dt != "bool" else arr((4, 3), dt)), 1),
           S("dim-out-of-range", x, 2)]
    if dt != "bool":
        ties = np.array([[1, 3, 3, 0, 3, 5], [2, 2, 1, 1, 0, 2]], dt)
        out.append(S("ties", ties, 1, gc=False))
    if is_float(dt):
        out += [S("nan", np.array([1.0, 3.0, 3.0, NAN, 2.0, NAN, 5.0], dt), 0, gc=False),
                S("extreme", extremes(dt).reshape(3, 4), 1, gc=False)]
    return out


def _lcse(dt):
    x = arr((2, 3, 4), dt, "any", 1)
    out = [S("dim=0", x, 0), S("dim=1", x, 1), S("dim=-1", x, -1), S("0d", arr((), dt, "any", 2), 0),
           S("empty", arr((0, 3), dt), 1), S("T", T(arr((3, 4), dt, "any", 3)), 1),
           S("large", np.array([1000.0, 1001.0, -1000.0, 999.0], dt) if dt != "float16" else
             np.array([60000.0, 60001.0, -6000.0, 59999.0], dt), 0, gc=False),
           S("tiny-then-large", np.array([-1000.0, 0.0, 5.0], dt), 0),
           S("dim-out-of-range", x, 3)]
    if is_float(dt):
        out += [S("-inf", np.array([[-INF, -INF, 1.0, INF, 2.0], [-INF, 0.5, -INF, -INF, -INF]], dt), 1, gc=False),
                S("inf-nan", np.array([INF, -INF, NAN, 1.0], dt), 0, gc=False),
                S("extreme", extremes(dt).reshape(3, 4), 1, gc=False)]
    return out


def _diff(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("default", x), S("n=2", x, 2), S("dim=0", x, 1, 0), S("n=3,dim=0", x, n=3, dim=0),
            S("n=0", x, 0), S("n>size", arr((2,), dt), 3),
            S("prepend", x, 1, -1, arr((3, 2), dt, "any", 2)), S("append", x, 1, 0, None, arr((1, 4), dt, "any", 3)),
            S("both,n=2", x, 2, 1, arr((3, 1), dt, "any", 4), arr((3, 2), dt, "any", 5)),
            S("T", T(arr((4, 3), dt, "any", 6)), 1, 1), S("vec", arr((5,), dt, "any", 7)),
            S("empty", arr((0, 3), dt)), S("0d-error", arr((), dt)),
            S("prepend-shape-error", x, 1, -1, arr((2, 2), dt)), S("prepend-ndim-error", x, 1, -1, arr((4,), dt)),
            S("negative-n", x, -1)]


# ------------------------------------------------------------------------------------------------
# sorting and selection

def _sort(dt):
    x = distinct((3, 5), dt, 1) if dt != "bool" else arr((3, 5), dt, "any", 1)
    ties = np.array([[2, 1, 2, 0, 1, 2], [0, 0, 1, 1, 0, 1]], dt) if dt != "bool" else arr((2, 6), dt, "any", 2)
    out = [S("default", x), S("dim=0", x, 0), S("descending", x, 1, True), S("desc,dim=0", x, dim=0, descending=True),
           S("ties", ties, gc=False), S("ties,desc", ties, 1, True, gc=False), S("ties,stable", ties, stable=True, gc=False),
           S("ties,stable,desc", ties, stable=True, descending=True, dim=1, gc=False),
           S("0d", arr((), dt, "any", 3)), S("empty", arr((0, 3), dt), 0), S("empty-dim", arr((2, 0), dt)),
           S("T", T(distinct((4, 3), dt, 4) if dt != "bool" else arr((4, 3), dt)), 1),
           S("strided", STRIDED(distinct((2, 3), dt, 5) if dt != "bool" else arr((2, 3), dt))),
           S("3d", distinct((2, 3, 4), dt, 6) if dt != "bool" else arr((2, 3, 4), dt), 1),
           S("dim-out-of-range", x, 2)]
    if is_float(dt):
        out += [S("nan", np.array([3.0, NAN, 1.0, -0.0, NAN, 0.0, -INF, INF], dt), gc=False),
                S("nan,desc", np.array([3.0, NAN, 1.0, -0.0, NAN, 0.0, -INF, INF], dt), descending=True, gc=False)]
    return out


def _msort(dt):
    x = distinct((4, 3), dt, 1) if dt != "bool" else arr((4, 3), dt)
    out = [S("2d", x), S("1d", distinct((5,), dt, 2) if dt != "bool" else arr((5,), dt)), S("0d", arr((), dt)),
           S("T", T(distinct((3, 4), dt, 3) if dt != "bool" else arr((3, 4), dt)))]
    if is_float(dt):
        out.append(S("nan", np.array([[NAN, 1.0], [0.5, NAN], [-1.0, 2.0]], dt), gc=False))
    return out


def _topk(dt):
    x = distinct((3, 5), dt, 1)
    out = [S("k=2", x, 2), S("k=3,dim=0", x, 3, 0), S("smallest", x, 2, largest=False), S("k=0", x, 0),
           S("k=all", x, 5), S("k=1,smallest,dim=0", x, 1, 0, False), S("0d", arr((), dt, "any", 2), 1),
           S("empty-rows", arr((0, 4), dt), 2), S("T", T(distinct((4, 3), dt, 3)), 2, 1),
           S("k-too-large", x, 6), S("k-negative", x, -1), S("dim-out-of-range", x, 1, 2)]
    if is_float(dt):
        out += [S("nan", np.array([3.0, NAN, 1.0, 2.0, -INF], dt), 2, gc=False),
                S("nan,smallest", np.array([3.0, NAN, 1.0, 2.0, -INF], dt), 2, largest=False, gc=False)]
    return out


def _kth(dt):
    x = distinct((3, 5), dt, 1)
    out = [S("k=2", x, 2), S("k=1,dim=0", x, 1, 0), S("k=3,keepdim", x, 3, 1, True), S("k=5", x, 5),
           S("0d", arr((), dt, "any", 2), 1), S("empty-rows", arr((0, 4), dt), 2), S("T", T(distinct((4, 3), dt, 3)), 2, 1),
           S("k-too-large", x, 6), S("k=0", x, 0), S("dim-out-of-range", x, 1, 2)]
    if is_float(dt):
        out.append(S("nan", np.array([3.0, NAN, 1.0, 2.0, -INF], dt), 5, gc=False))
    return out


def _median(nan_ok):
    def gen(dt):
        x = distinct((3, 5), dt, 1)
        even = distinct((2, 4), dt, 2)
        out = [S("all", x), S("all-even", even), S("dim=1", x, 1), S("dim=0", x, 0), S("even,dim=1", even, 1),
               S("keepdim", x, 1, True), S("dim=-1", even, dim=-1, keepdim=True), S("0d", arr((), dt, "any", 3)),
               S("0d,dim=0", arr((), dt, "any", 3), 0), S("empty-rows", arr((0, 4), dt), 1),
               S("empty-dim", arr((0, 4), dt), 0), S("T", T(distinct((4, 3), dt, 4)), 1),
               S("dim-out-of-range", x, 2), S("ties-all", np.array([[1, 2, 2], [2, 0, 2]], dt), gc=False)]
        if is_float(dt):
            out += [S("empty-all", arr((0, 3), dt)),
                    S("nan-all", _nan_rows(dt), gc=False), S("nan,dim=1", _nan_rows(dt)[[0, 2]], 1, gc=False),
                    S("extreme", extremes(dt), gc=False)]
            if nan_ok:
                out.append(S("all-nan-all", np.array([NAN, NAN], dt), gc=False))
        return out
    return gen


def _mode(dt):
    if dt == "bool":
        return [S("vec", np.array([True, False, True])), S("2d", arr((3, 4), dt, "any", 1), 0)]
    x = np.array([[1, 2, 2, 3, 3, 1, 1, 5], [4, 4, 0, 0, 2, 2, 9, 9], [7, 6, 5, 4, 3, 2, 1, 0]], dt)
    # ties decide the mode, so finite differences (which break them) are run on distinct values only
    return [S("rows", x, gc=False), S("dim=0", x, 0, gc=False), S("keepdim", x, 1, True, gc=False),
            S("vec", x[0], gc=False), S("0d", arr((), dt, "any", 2)),
            S("empty-rows", arr((0, 3), dt), 1), S("empty-dim", arr((0, 3), dt), 0), S("T", T(x[:, :3].copy()), 1, gc=False),
            S("dim-out-of-range", x, 2), S("distinct", distinct((2, 5), dt, 3), gc=True)]


def _quantile(dt):
    x = distinct((3, 5), dt, 1)
    q2 = np.array([0.0, 0.25, 0.5, 1.0], dt)
    out = [S("q=0.3", x, 0.3), S("q=0.3,dim=1", x, 0.3, 1), S("dim=0,keepdim", x, 0.6, 0, True),
           S("q-tensor,dim=1", x, C(q2), 1), S("q-tensor,keepdim", x, C(q2), -1, True), S("q-0d-tensor", x, C(np.array(0.4, dt)), 1),
           S("q-tensor,all", x, C(q2)), S("all,keepdim", x, 0.7, None, True), S("0d", arr((), dt, "any", 2), 0.5),
           S("0d,dim=0", arr((), dt, "any", 2), 0.5, 0), S("T", T(distinct((4, 3), dt, 3)), 0.5, 1),
           S("q-out-of-range", x, 1.5), S("q-2d", x, C(np.array([[0.5]], dt))), S("bad-interp", x, 0.5, interpolation="cubic"),
           S("empty", arr((0,), dt), 0.5)]
    for mode in ("lower", "higher", "midpoint", "nearest"):
        out.append(S(mode, distinct((2, 6), dt, 4), C(np.array([0.1, 0.3, 0.5, 0.7, 0.9], dt)), 1, interpolation=mode, gc=mode == "midpoint"))
    if dt == "float32":
        out.append(S("q-float64-error", x, C(np.array([0.5]))))
    out += [S("nan", _nan_rows(dt), 0.4, 1, gc=False), S("nan,all", _nan_rows(dt), C(q2), gc=False),
            S("nan,all-nan-row", np.array([[NAN, NAN], [1.0, 2.0]], dt), 0.5, 1, gc=False),
            S("ties", np.array([[1.0, 2.0, 2.0, 3.0], [0.5, 0.5, 0.5, 1.0]], dt), C(q2), 1, gc=False)]
    return out


def _unique(dt):
    if dt == "bool":
        v = np.array([True, False, True, True])
        return [S("vec", v), S("inverse,counts", v, True, True, True), S("2d,dim=1", arr((2, 4), dt), dim=1)]
    v = np.array([3, 1, 2, 1, 3, 3, 0], dt)
    m = np.array([[1, 2], [1, 2], [0, 5], [1, 0], [0, 5]], dt)
    out = [S("vec", v), S("inverse", v, return_inverse=True), S("counts", v, return_counts=True),
           S("both", v, True, True, True), S("2d", m, return_inverse=True), S("dim=0", m, dim=0, return_inverse=True, return_counts=True),
           S("dim=1", m.T.copy(), True, True, True, 1), S("dim=-1", np.array([[1, 1, 0], [2, 2, 0]], dt), dim=-1, return_counts=True),
           S("sorted=False", v, False), S("0d", np.array(2, dt), return_inverse=True, return_counts=True),
           S("empty", np.zeros((0,), dt), return_inverse=True, return_counts=True),
           S("empty-other-dim", np.zeros((2, 0), dt), dim=0), S("dim-out-of-range", m, dim=2),
           S("T", T(m.T.copy()), return_inverse=True)]
    if is_float(dt):
        out.append(S("nan", np.array([NAN, 1.0, NAN, -0.0, 0.0], dt), return_counts=True, return_inverse=True))
    return out


def _unique_consecutive(dt):
    if dt == "bool":
        return [S("vec", np.array([True, True, False, True]), True, True)]
    v = np.array([1, 1, 2, 2, 3, 1, 1, 2], dt)
    m = np.array([[1, 2], [1, 2], [3, 4], [1, 2]], dt)
    out = [S("vec", v), S("inverse,counts", v, True, True), S("2d", m, return_inverse=True),
           S("dim=0", m, True, True, 0), S("dim=1", m.T.copy(), True, True, 1), S("0d", np.array(3, dt), True, True),
           S("empty", np.zeros((0,), dt), True, True)]
    if is_float(dt):
        out.append(S("nan", np.array([NAN, NAN, 1.0, 1.0], dt), return_counts=True))
    return out


def _searchsorted(dt):
    seq = np.array([-2, 0, 1, 1, 3, 5], dt)
    vals = np.array([[-3, 1, 2], [5, 6, 0]], dt)
    seq2 = np.array([[1, 2, 3, 4], [0, 0, 2, 9]], dt)
    out = [S("left", seq, vals), S("right", seq, vals, right=True), S("side=right", seq, vals, side="right"),
           S("side=left", seq, vals, side="left"), S("int32", seq, vals, out_int32=True),
           S("nd", seq2, np.array([[2, 3], [0, 10]], dt)), S("nd,right", seq2, np.array([[2, 3], [0, 10]], dt), right=True),
           S("scalar", seq, 1), S("0d-value", seq, np.array(1, dt)),
           S("sorter", np.array([3, -2, 1, 0], dt), vals, sorter=np.array([1, 3, 2, 0])),
           S("opposites", seq, vals, right=True, side="left"), S("nd-mismatch", seq2, np.array([[1, 2]], dt)),
           S("empty-seq", np.zeros((0,), dt), vals), S("empty-values", seq, np.zeros((0,), dt))]
    if is_float(dt):
        out.append(S("nan-inf", np.array([-INF, 0.0, 1.0, INF], dt), np.array([NAN, INF, -INF, 0.5], dt), gc=False))
        out.append(S("int-values", np.array([0.5, 1.5, 2.5], dt), np.array([1, 2, 3])))
    return out


def _bucketize(dt):
    b = np.array([-1, 0, 2, 4], dt)
    x = np.array([[-3, 0, 1], [2, 4, 7]], dt)
    out = [S("left", x, b), S("right", x, b, right=True), S("int32", x, b, out_int32=True), S("scalar", 2, b),
           S("0d", np.array(2, dt), b), S("2d-boundaries", x, np.array([[0, 1]], dt)), S("empty", np.zeros((0,), dt), b)]
    if is_float(dt):
        out.append(S("nan-inf", np.array([NAN, INF, -INF], dt), b, gc=False))
    return out


def _histc(dt):
    x = arr((20,), dt, "any", 1)
    out = [S("default", x), S("bins=4,range", x, 4, -1, 1), S("data-range", np.array([1.0, 2.0, 1.0, 4.0], dt), 4),
           S("outside,nan", np.array([1.0, 2.0, 1.0, NAN, 4.0, 5.0, 3.0, 0.0], dt), 4, 0, 3),
           S("min=max", np.array([1.0, 1.0], dt), 5), S("2d", arr((3, 4), dt, "any", 2), 3),
           S("empty", np.zeros((0,), dt), 3), S("bins=0", x, 0), S("min>max", x, 4, 3, 1),
           S("nan-range", np.array([1.0, NAN], dt), 3)]
    return out


def _bincount(dt):
    x = np.array([0, 1, 1, 3, 7, 3, 3])
    return [S("counts", x), S("minlength", x, minlength=10), S("weights", x, arr((7,), dt, "any", 1)),
            S("weights,minlength", x, arr((7,), dt, "any", 1), 9), S("int-weights", x, np.arange(7)),
            S("empty", np.zeros((0,), "int64")), S("empty,minlength", np.zeros((0,), "int64"), minlength=3),
            S("uint8", np.array([1, 2, 2], "uint8")), S("negative", np.array([-1, 2])),
            S("2d", np.array([[1, 2]])), S("float-input", C(np.array([1.0, 2.0]))),
            S("weights-length", x, arr((3,), dt))]


# ------------------------------------------------------------------------------------------------
# counting and NaN-aware reductions

def _reduce_dims(dt, domain="any", nan=False):
    x = arr((2, 3, 4), dt, domain, 1)
    if nan and is_float(dt):
        x = x.copy()
        x[0, 1, 2] = NAN
        x[1, 0, 0] = NAN
    out = [S("all", x), S("dim=1", x, 1), S("dim=-1,keepdim", x, -1, True), S("dims=(0,2)", x, (0, 2)),
           S("dims=(0,2),keepdim", x, (0, 2), True), S("0d", arr((), dt, domain, 2)), S("0d,dim=0", arr((), dt, domain, 2), 0),
           S("empty", arr((0, 3), dt)), S("empty,dim=1", arr((0, 3), dt), 1), S("T,dim=1", T(arr((3, 4), dt, domain, 3)), 1),
           S("dim-out-of-range", x, 3)]
    return out


def _count_nonzero(dt):
    x = arr((2, 3, 4), dt, "any", 1)
    if dt != "bool":
        x = x * (arr((2, 3, 4), "float64", "any", 2) > 0).astype(dt)
    return [S("all", x), S("dim=1", x, 1), S("dims=(0,2)", x, (0, 2)), S("dim=-1", x, dim=-1), S("0d", arr((), dt, "any", 3)),
            S("empty", arr((0, 3), dt)), S("empty,dim=0", arr((0, 3), dt), 0), S("repeated-dims", x, (0, 0)),
            S("T", T(arr((3, 4), dt, "any", 4)), 0), S("dim-out-of-range", x, 3)] + (
        [S("nan-inf", np.array([NAN, 0.0, INF, -0.0], dt))] if is_float(dt) else [])


def _aminmax(dt):
    x = distinct((2, 3, 4), dt, 1) if dt != "bool" else arr((2, 3, 4), dt)
    out = [S("all", x), S("dim=1", x, dim=1), S("dim=-1,keepdim", x, dim=-1, keepdim=True), S("all,keepdim", x, keepdim=True),
           S("0d", arr((), dt, "any", 2)), S("0d,dim=0", arr((), dt, "any", 2), dim=0),
           S("empty-all", arr((0, 3), dt)), S("empty,dim=1", arr((0, 3), dt), dim=1), S("empty,dim=0", arr((0, 3), dt), dim=0),
           S("T", T(distinct((3, 4), dt, 3) if dt != "bool" else arr((3, 4), dt)), dim=1), S("dim-out-of-range", x, dim=3)]
    if dt != "bool":
        out.append(S("ties", np.array([[1, 3, 3], [0, 0, 2]], dt), dim=1, gc=False))
    if is_float(dt):
        out.append(S("extreme", extremes(dt).reshape(3, 4), dim=1, gc=False))
    return out


def _nansum(dt):
    out = _reduce_dims(dt, nan=True) + [S("dtype", arr((2, 3), dt, "any", 5), dtype=D("float64"))]
    if is_float(dt):
        out += [S("all-nan", np.array([[NAN, NAN], [1.0, NAN]], dt), 1, gc=False), S("extreme", extremes(dt), gc=False)]
    return out


def _nanmean(dt):
    out = _reduce_dims(dt, nan=True)
    if is_float(dt):
        out += [S("all-nan", np.array([[NAN, NAN], [1.0, NAN]], dt), 1, gc=False), S("extreme", extremes(dt), gc=False),
                S("dtype", arr((2, 3), dt, "any", 5), dtype=D("float64"))]
    return out


def _bool_dims(dt):
    x = arr((2, 3, 4), dt, "any", 1)
    if dt != "bool":
        x = x * (arr((2, 3, 4), "float64", "any", 2) > 0).astype(dt)
    return [S("dims=(0,2)", x, (0, 2)), S("dims=(0,2),keepdim", x, (0, 2), True), S("dims=(-1,)", x, (-1,)),
            S("dims=()", x, ()), S("dims=(0,1,2)", x, (0, 1, 2)), S("repeated", x, (1, 1)), S("0d,dims=(0,)", arr((), dt), (0,)),
            S("empty,dims=(0,1)", arr((0, 3), dt), (0, 1)), S("uint8", np.array([[0, 3], [0, 0]], "uint8"), (0, 1))]


def _isclose(dt):
    a = arr((2, 3), dt, "any", 1)
    out = [S("same", a, a.copy()), S("far", a, a + (1 if dt != "bool" else 0)), S("broadcast", a, arr((3,), dt, "any", 2)),
           S("rtol", a, a, rtol=0.5), S("zero-tol", a, a, rtol=0.0, atol=0.0), S("neg-rtol", a, a, rtol=-1.0),
           S("neg-atol", a, a, atol=-1.0), S("empty", arr((0,), dt), arr((0,), dt))]
    if is_float(dt):
        e = extremes(dt)
        out += [S("close", a, a * (1 + 1e-7) if dt != "float16" else a), S("extreme", e, np.roll(e, 1)),
                S("extreme-self", e, e.copy()), S("equal_nan", e, e.copy(), equal_nan=True),
                S("inf", np.array([INF, -INF, INF, 1.0], dt), np.array([INF, INF, 1e30 if dt != "float16" else 6e4, INF], dt))]
    if dt == "int64":
        out += [S("int,rtol", np.array([1, 2, 10]), np.array([1, 3, 12]), rtol=0.2), S("dtype-mismatch", a, a.astype("float32"))]
    return out


def _allclose(dt):
    e = extremes(dt)
    return [S("extreme-self", e, e.copy()), S("extreme", e, np.roll(e, 1)), S("equal_nan", e, e.copy(), equal_nan=True),
            S("inf", np.array([INF, 1.0], dt), np.array([INF, 1.0], dt)), S("shape-mismatch", arr((2,), dt), arr((3,), dt)),
            S("dtype-mismatch", arr((2,), dt), arr((2,), "float32" if dt == "float64" else "float64")),
            S("rtol", np.array([1.0, 2.0], dt), np.array([1.1, 2.2], dt), 0.2), S("atol", np.array([1.0], dt), np.array([1.5], dt), 0, 1.0)]


def _equal(dt):
    e = extremes(dt)
    return [S("extreme-self", e, e.copy()), S("no-nan", e[3:], e[3:].copy()), S("neg-zero", np.array([0.0, -0.0], dt), np.array([-0.0, 0.0], dt)),
            S("dtype-mismatch", np.array([1.0, 2.0], dt), np.array([1, 2])), S("empty", arr((0,), dt), arr((0,), dt)),
            S("0d", np.array(1.5, dt), np.array(1.5, dt)), S("0d-vs-1", np.array(1.5, dt), np.array([1.5], dt))]


ENTRIES = [
    OpInfo("cumsum", ["autograd.cumsum", "Tensor.cumsum"], _cum(), dtypes=ALL, smooth=True, tol=_TOL16),
    OpInfo("cumsum_", ["Tensor.cumsum_"], fixed(lambda dt: [S("dim=1", C(arr((2, 3), dt, "any", 1)), 1),
                                                         S("0d", C(arr((), dt, "any", 2)), 0),
                                                         S("dtype", C(arr((2, 3), dt, "any", 3)), 0, dtype=D(dt))]),
           dtypes=("float64", "float32", "int64"), grad=False),
    OpInfo("cumprod", ["autograd.cumprod", "Tensor.cumprod"], _cum(zeros=True), dtypes=ALL, smooth=True, tol=_TOL16),
    OpInfo("cumprod_", ["Tensor.cumprod_"], fixed(lambda dt: [S("dim=1", C(arr((2, 3), dt, "any", 1)), 1),
                                                           S("0d", C(arr((), dt, "any", 2)), 0)]),
           dtypes=("float64", "int64"), grad=False),
    OpInfo("cummax", ["autograd.cummax", "Tensor.cummax"], _cumext, dtypes=ALL, smooth=True),
    OpInfo("cummin", ["autograd.cummin", "Tensor.cummin"], _cumext, dtypes=ALL, smooth=True),
    OpInfo("logcumsumexp", ["autograd.logcumsumexp", "Tensor.logcumsumexp"], _lcse, dtypes=NUMERIC, smooth=True,
           tol={"float16": (5e-3, 1e-2), "float32": (1e-5, 1e-5)}),
    OpInfo("diff", ["autograd.diff", "Tensor.diff"], _diff, dtypes=ALL, smooth=True),
    OpInfo("sort", ["autograd.sort", "Tensor.sort"], _sort, dtypes=ALL, smooth=True),
    OpInfo("argsort", ["autograd.argsort", "Tensor.argsort"], _sort, dtypes=ALL, grad=False),
    OpInfo("msort", ["autograd.msort", "Tensor.msort"], _msort, dtypes=ALL, smooth=True),
    OpInfo("topk", ["autograd.topk", "Tensor.topk"], _topk, dtypes=NUMERIC, smooth=True),
    OpInfo("kthvalue", ["autograd.kthvalue", "Tensor.kthvalue"], _kth, dtypes=NUMERIC, smooth=True),
    OpInfo("median", ["autograd.median", "Tensor.median"], _median(False), dtypes=NUMERIC, smooth=True),
    OpInfo("nanmedian", ["autograd.nanmedian", "Tensor.nanmedian"], _median(True), dtypes=NUMERIC, smooth=True),
    OpInfo("mode", ["autograd.mode", "Tensor.mode"], _mode, dtypes=ALL, smooth=True),
    OpInfo("quantile", ["autograd.quantile", "Tensor.quantile"], _quantile, dtypes=("float64", "float32"), smooth=True),
    OpInfo("nanquantile", ["autograd.nanquantile", "Tensor.nanquantile"], _quantile, dtypes=("float64", "float32"),
           smooth=True),
    OpInfo("unique", ["autograd.unique", "Tensor.unique"], _unique, dtypes=ALL, grad=False),
    OpInfo("unique_consecutive", ["autograd.unique_consecutive", "Tensor.unique_consecutive"], _unique_consecutive,
           dtypes=ALL, grad=False),
    OpInfo("searchsorted", ["autograd.searchsorted"], _searchsorted, dtypes=("float64", "float32", "int64"), grad=False),
    OpInfo("bucketize", ["autograd.bucketize"], _bucketize, dtypes=("float64", "float32", "int64"), grad=False),
    OpInfo("histc", ["autograd.histc", "Tensor.histc"], _histc, dtypes=FLOATS, grad=False),
    OpInfo("bincount", ["autograd.bincount", "Tensor.bincount"], _bincount, dtypes=("float64", "float32"), grad=False),
    OpInfo("count_nonzero", ["autograd.count_nonzero", "Tensor.count_nonzero"], _count_nonzero, dtypes=ALL, grad=False),
    OpInfo("aminmax", ["autograd.aminmax", "Tensor.aminmax"], _aminmax, dtypes=ALL, smooth=True),
    OpInfo("nansum", ["autograd.nansum", "Tensor.nansum"], _nansum, dtypes=NUMERIC, smooth=True, tol=_TOL16),
    OpInfo("nanmean", ["autograd.nanmean", "Tensor.nanmean"], _nanmean, dtypes=NUMERIC, smooth=True, tol=_TOL16),
    OpInfo("any-dims", ["autograd.any", "Tensor.any"], _bool_dims, dtypes=("bool", "float32", "int64"), grad=False,
           errors=("any",)),
    OpInfo("all-dims", ["autograd.all", "Tensor.all"], _bool_dims, dtypes=("bool", "float32", "int64"), grad=False,
           errors=("all",)),
    OpInfo("isclose", ["autograd.isclose", "Tensor.isclose"], _isclose, dtypes=ALL, grad=False),
    OpInfo("allclose-extremes", ["autograd.allclose", "Tensor.allclose"], _allclose, dtypes=FLOATS, grad=False,
           errors=("isclose", "allclose", "broadcast")),
    OpInfo("equal-extremes", ["autograd.equal", "Tensor.equal"], _equal, dtypes=FLOATS, grad=False),
]
