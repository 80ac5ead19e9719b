"""Registry entries for issue 11, "Indexing, masking, scatter": gather/scatter and the index_* family,
masked_*, take/put, nonzero, triangles and diagonals, flips and rolls, stacking and splitting helpers,
and the Tensor basics (new_*, view(dtype), strides). Checked against torch by tests/test_conformance.py."""
from __future__ import annotations

import numpy as np

from tests.opinfo import C, Call, D, OpInfo, S, T, STRIDED, arr, is_float  # noqa: F401

SEL = ("float64", "float32", "int64", "bool")     # selections and copies: every kind
HOT = ("float64", "float32", "float16", "int64", "bool")   # what models run in half precision too
NUM = ("float64", "float32", "int64")             # ops that add or multiply


def _i(*a):
    return np.array(*a, dtype="int64")


def _val(dt, f=2.5, i=3):
    return f if is_float(dt) else (True if dt == "bool" else i)


def _inplace(name):
    """Tensor.<name>_ on a copy of the first argument (in place on a leaf that requires grad is an error)."""
    return Call(f"Tensor.{name}_", lambda x, *a, **k: getattr(x.clone(), name + "_")(*a, **k))


# ------------------------------------------------------------------------------------------------
# gather / scatter

def _gather(dt):
    x = arr((3, 4), dt, "any", 1)
    idx = _i([[0, 2, 1], [3, 3, 0]])
    return [S("dim1", x, 1, idx), S("dim0", x, 0, _i([[0, 2, 1, 1], [2, 2, 0, 1]])), S("neg-dim", x, -1, idx),
            S("int32", x, 1, idx.astype("int32")), S("0d", arr((), dt, "any", 2), 0, _i(0)),
            S("empty-index", x, 1, np.zeros((2, 0), "int64")), S("T", T(arr((3, 4), dt, "any", 3)), 1, idx),
            S("out-of-range", x, 1, _i([[4]])), S("negative", x, 1, _i([[-1]])),
            S("float-index", x, 1, C(np.array([[0.0]]))), S("ndim-mismatch", x, 1, _i([0, 1])),
            S("too-big", x, 1, _i([[0], [0], [0], [0]])), S("dim-out-of-range", x, 2, idx)]


def _take_along(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("dim1", x, _i([[0, 3], [1, 1], [2, 0]]), 1), S("none", x, _i([0, 11, 5])),
            S("broadcast", x, _i([[1, 2]]), 1), S("neg-dim", x, _i([[2], [0], [1]]), -1),
            S("negative", x, _i([[-1], [-4], [0]]), 1), S("ndim-mismatch", x, _i([1]), 1),
            S("out-of-range", x, _i([[4]]), 1)]


def _scatter(dt):
    x = arr((3, 4), dt, "any", 1)
    idx = _i([[0, 2, 1], [3, 1, 0]])                 # no repeats within a row: which write lands is defined
    v = _val(dt)
    return [S("src", x, 1, idx, arr((2, 3), dt, "any", 2)), S("src-bigger", x, 1, idx, arr((3, 4), dt, "any", 3)),
            S("dim0", x, 0, _i([[2, 0, 1, 0]]), arr((1, 4), dt, "any", 4)), S("value", x, 1, idx, v),
            S("value-kw", x, 1, idx, value=v), S("0d", arr((), dt, "any", 5), 0, _i(0), arr((), dt, "any", 6)),
            S("T", T(arr((3, 4), dt, "any", 7)), 1, idx, arr((2, 3), dt, "any", 2)),
            S("empty-index", x, 1, np.zeros((3, 0), "int64"), arr((3, 0), dt)),
            S("dtype-mismatch", x, 1, idx, C(arr((2, 3), "float32" if dt != "float32" else "float64"))),
            S("out-of-range", x, 1, _i([[4]]), arr((1, 1), dt)), S("src-too-small", x, 1, idx, arr((2, 2), dt)),
            S("float-index", x, 1, C(np.array([[0.0]])), arr((1, 1), dt)),
            S("bad-reduce", x, 1, idx, arr((2, 3), dt), reduce="max")]


def _scatter_reduce_arg(dt):
    x = arr((3, 4), dt, "pos", 1)
    idx = _i([[0, 0, 1], [3, 3, 3]])
    return [S("add", x, 1, idx, arr((2, 3), dt, "pos", 2), reduce="add"),
            S("multiply", x, 1, idx, arr((2, 3), dt, "pos", 3), reduce="multiply"),
            S("value-add", x, 1, idx, _val(dt), reduce="add"), S("value-multiply", x, 1, idx, _val(dt), reduce="multiply")]


def _scatter_add(dt):
    x = arr((3, 4), dt, "any", 1)
    idx = _i([[0, 0, 1], [3, 3, 3]])
    return [S("repeats", x, 1, idx, arr((2, 3), dt, "any", 2)), S("src-bigger", x, 1, idx, arr((3, 4), dt, "any", 3)),
            S("dim0", x, 0, _i([[2, 0, 2, 2], [2, 2, 1, 0]]), arr((2, 4), dt, "any", 4)),
            S("0d", arr((), dt, "any", 5), 0, _i(0), arr((), dt, "any", 6)),
            S("T", T(arr((3, 4), dt, "any", 7)), -1, idx, STRIDED(arr((2, 3), dt, "any", 2))),
            S("empty-index", x, 1, np.zeros((3, 0), "int64"), arr((3, 0), dt)),
            S("out-of-range", x, 1, _i([[-1]]), arr((1, 1), dt)), S("src-too-small", x, 1, idx, arr((2, 2), dt)),
            S("value-error", x, 1, idx, 1.0)]


def _scatter_reduce(dt):
    x = arr((3, 4), dt, "distinct", 1)
    idx = _i([[0, 0, 1], [3, 3, 3]])
    src = arr((2, 3), dt, "distinct", 2)
    out = []
    for r in ("sum", "prod", "mean", "amax", "amin"):
        out += [S(f"{r}", x, 1, idx, src, r), S(f"{r},no-self", x, 1, idx, src, r, include_self=False)]
    out += [S("dim0,src-bigger", x, 0, _i([[2, 0, 2, 1]]), arr((2, 4), dt, "distinct", 3), "amax"),
            S("0d", arr((), dt, "pos", 4), 0, _i(0), arr((), dt, "pos", 5), "prod"),
            S("T", T(arr((4, 3), dt, "distinct", 6)), 1, idx, src, "mean", include_self=False),
            S("max-alias", x, 1, idx, src, "max"), S("min-alias", x, 1, idx, src, "min", include_self=False),
            S("bad-reduce", x, 1, idx, src, "add"), S("dtype-mismatch", x, 1, idx, C(arr((2, 3), "float32" if dt != "float32" else "float64")), "sum"),
            S("out-of-range", x, 1, _i([[4]]), arr((1, 1), dt), "sum")]
    if is_float(dt):
        z = np.array([[0.0, 2.0, 0.0, 3.0]], dt)
        out += [S("prod-zeros", z, 1, _i([[1, 1, 2, 2]]), np.array([[0.0, 5.0, 4.0, 0.0]], dt), "prod"),
                # two zeros in one slot: torch's second derivative raises there (ours too), so no gradgradcheck
                S("prod-two-zeros", z, 1, _i([[3, 3, 3, 3]]), np.array([[0.0, 5.0, 0.0, 1.5]], dt), "prod", gc=False),
                S("ties", np.array([[1.0, 2.0, 3.0]], dt), 1, _i([[1, 1, 1]]), np.array([[2.0, 2.0, -4.0]], dt), "amax",
                  gc=False),
                S("nan", np.array([[1.0, np.nan, 3.0]], dt), 1, _i([[1, 1, 0]]), np.array([[2.0, 5.0, -4.0]], dt), "amin",
                  gc=False)]
    return out


# ------------------------------------------------------------------------------------------------
# index_*

def _index_select(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("dim1", x, 1, _i([2, 0, 2])), S("dim0", x, 0, _i([1])), S("0d-index", x, 1, _i(3)),
            S("int32", x, 0, np.array([2, 2], "int32")), S("empty-index", x, 1, np.zeros(0, "int64")),
            S("0d", arr((), dt, "any", 2), 0, _i([0])), S("T", T(arr((3, 4), dt, "any", 3)), 1, _i([3, 1])),
            S("negative", x, 1, _i([-1])), S("out-of-range", x, 0, _i([3])), S("2d-index", x, 1, _i([[1]])),
            S("float-index", x, 1, C(np.array([1.0])))]


def _index_add(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("dim0-repeats", x, 0, _i([0, 2, 0]), arr((3, 4), dt, "any", 2)),
            S("dim1", x, 1, _i([1, 3]), arr((3, 2), dt, "any", 3)),
            S("alpha", x, 1, _i([1, 3]), arr((3, 2), dt, "any", 3), alpha=2),
            S("T", T(arr((3, 4), dt, "any", 4)), -1, _i([0]), arr((3, 1), dt, "any", 5)),
            S("0d", arr((), dt, "any", 6), 0, _i([0]), arr((), dt, "any", 7)),
            S("shape-mismatch", x, 0, _i([0, 1]), arr((3, 4), dt)), S("out-of-range", x, 0, _i([3]), arr((1, 4), dt)),
            S("dtype-mismatch", x, 0, _i([0]), C(arr((1, 4), "float32" if dt != "float32" else "float64")))]


def _index_copy(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("dim0", x, 0, _i([2, 0]), arr((2, 4), dt, "any", 2)), S("dim1", x, 1, _i([3]), arr((3, 1), dt, "any", 3)),
            S("T", T(arr((3, 4), dt, "any", 4)), 1, _i([1, 0]), arr((3, 2), dt, "any", 5)),
            S("shape-mismatch", x, 0, _i([0]), arr((2, 4), dt)), S("out-of-range", x, 1, _i([4]), arr((3, 1), dt))]


def _index_fill(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("dim1", x, 1, _i([0, 2]), _val(dt)), S("dim0", x, 0, _i([1, 1]), _val(dt, -1.5, -2)),
            S("tensor-value", x, 1, _i([3]), arr((), dt, "any", 2)), S("negative", x, 1, _i([-1]), _val(dt)),
            S("0d-index", x, 0, _i(2), _val(dt)), S("T", T(arr((3, 4), dt, "any", 3)), 0, _i([0]), _val(dt)),
            S("out-of-range", x, 1, _i([4]), _val(dt)), S("1d-value", x, 1, _i([0]), arr((1,), dt))]


def _index_put(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("pairs", x, (_i([0, 2]), _i([1, 3])), arr((2,), dt, "any", 2)),
            S("rows", x, (_i([2, 0]),), arr((2, 4), dt, "any", 3)),
            S("broadcast", x, (_i([1]),), arr((), dt, "any", 4)),
            S("accumulate", x, (_i([0, 0, 2]), _i([1, 1, 1])), arr((3,), dt, "any", 5), True),
            S("mask", x, (C(arr((3, 4), dt, "any", 6) > 0 if dt != "bool" else arr((3, 4), "bool", "any", 6)),),
              arr((), dt, "any", 7)),
            S("mask-accumulate", x, (C(np.array([True, False, True])),), arr((4,), dt, "any", 8), accumulate=True),
            S("out-of-range", x, (_i([3]),), arr((4,), dt)), S("shape-mismatch", x, (_i([0, 1]),), arr((3,), dt)),
            S("too-many", x, (_i([0]), _i([0]), _i([0])), arr((1,), dt))]


# ------------------------------------------------------------------------------------------------
# masks, take / put, nonzero

def _masked_fill(dt):
    x = arr((3, 4), dt, "any", 1)
    m = C(arr((3, 4), "bool", "any", 2))
    return [S("scalar", x, m, _val(dt)), S("row-mask", x, C(np.array([True, False, False, True])), _val(dt, -1.0, -1)),
            S("tensor-value", x, m, arr((), dt, "any", 3)), S("float-into-int", x, m, 2.5),
            S("grows", arr((4,), dt, "any", 4), C(arr((2, 4), "bool", "any", 5)), _val(dt)),
            S("0d", arr((), dt, "any", 6), C(np.array(True)), _val(dt)), S("T", T(arr((3, 4), dt, "any", 7)), m, _val(dt)),
            S("empty", arr((0, 4), dt), C(np.zeros((0, 4), bool)), _val(dt)),
            S("int-mask", x, C(np.ones((3, 4), "int64")), _val(dt)), S("1d-value", x, m, arr((1,), dt, "any", 8)),
            S("not-broadcastable", x, C(np.ones(3, bool)), _val(dt))]


def _masked_scatter(dt):
    x = arr((3, 4), dt, "any", 1)
    m = C(arr((3, 4), "bool", "any", 2))
    return [S("full", x, m, arr((12,), dt, "any", 3)), S("2d-source", x, m, arr((3, 5), dt, "any", 4)),
            S("row-mask", x, C(np.array([True, False, False, True])), arr((8,), dt, "any", 5)),
            S("T", T(arr((3, 4), dt, "any", 6)), m, arr((12,), dt, "any", 3)),
            S("too-small", x, C(np.ones((3, 4), bool)), arr((5,), dt)), S("int-mask", x, C(np.ones((3, 4), "int64")), arr((12,), dt))]


def _masked_select(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("mask", x, C(arr((3, 4), "bool", "any", 2))), S("row-mask", x, C(np.array([True, False, False, True]))),
            S("grows", arr((4,), dt, "any", 3), C(arr((2, 4), "bool", "any", 4))), S("0d", arr((), dt), C(np.array(True))),
            S("T", T(arr((3, 4), dt, "any", 5)), C(arr((3, 4), "bool", "any", 6))), S("none", x, C(np.zeros((3, 4), bool))),
            S("int-mask", x, C(np.ones((3, 4), "int64")))]


def _take(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("2d-index", x, _i([[0, 11], [-1, 5]])), S("repeats", x, _i([2, 2, 2])), S("0d-index", x, _i(7)),
            S("0d", arr((), dt, "any", 2), _i([0, -1])), S("T", T(arr((3, 4), dt, "any", 3)), _i([1, 4])),
            S("out-of-range", x, _i([12])), S("neg-out-of-range", x, _i([-13])), S("int32", x, np.array([1], "int32"))]


def _put(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("put", x, _i([0, 5, -1]), arr((3,), dt, "any", 2)), S("2d", x, _i([[1], [7]]), arr((2, 1), dt, "any", 3)),
            S("accumulate", x, _i([1, 1, 2]), arr((3,), dt, "any", 4), True),
            S("accumulate-kw", x, _i([0, -1]), arr((2,), dt, "any", 5), accumulate=True),
            S("T", T(arr((3, 4), dt, "any", 6)), _i([1]), arr((1,), dt)),
            S("count-mismatch", x, _i([0, 1]), arr((3,), dt)), S("out-of-range", x, _i([12]), arr((1,), dt))]


def _nonzero(dt):
    return [S("2d", arr((3, 4), dt, "any", 1) * (arr((3, 4), "bool", "any", 2))), S("0d", arr((), dt, "any", 3)),
            S("0d-zero", np.zeros((), dt)), S("empty", arr((0, 3), dt)), S("3d", arr((2, 2, 2), dt, "any", 4)),
            S("T", T(arr((3, 4), dt, "any", 5)))]


def _tuple(dt):
    return [S(s.id, *s.args, as_tuple=True) for s in _nonzero(dt)]


def _scatter_ops():
    def e(name, calls, gen, dtypes=SEL, **kw):
        return OpInfo(name, calls, gen, dtypes=dtypes, **kw)
    return [
        e("gather", ["autograd.gather", "Tensor.gather"], _gather, dtypes=HOT, smooth=True),
        e("take_along_dim", ["autograd.take_along_dim", "Tensor.take_along_dim"], _take_along, smooth=True),
        e("scatter", ["autograd.scatter", "Tensor.scatter", _inplace("scatter")], _scatter, smooth=True),
        e("scatter(reduce=)", ["autograd.scatter", "Tensor.scatter", _inplace("scatter")], _scatter_reduce_arg,
          dtypes=NUM, grad=False, errors=("scatter",)),       # torch defines no derivative for reduce=
        e("scatter_add", ["autograd.scatter_add", "Tensor.scatter_add", _inplace("scatter_add")], _scatter_add,
          dtypes=NUM, smooth=True),
        e("scatter_reduce", ["autograd.scatter_reduce", "Tensor.scatter_reduce", _inplace("scatter_reduce")],
          _scatter_reduce, dtypes=NUM, smooth=True),
        e("index_select", ["autograd.index_select", "Tensor.index_select"], _index_select, dtypes=HOT, smooth=True),
        e("index_add", ["autograd.index_add", "Tensor.index_add", _inplace("index_add")], _index_add, dtypes=NUM,
          smooth=True),
        e("index_copy", ["autograd.index_copy", "Tensor.index_copy", _inplace("index_copy")], _index_copy, smooth=True),
        e("index_fill", ["autograd.index_fill", "Tensor.index_fill", _inplace("index_fill")], _index_fill, smooth=True),
        e("index_put", ["autograd.index_put", "Tensor.index_put", _inplace("index_put")], _index_put, smooth=True),
        e("masked_fill", ["autograd.masked_fill", "Tensor.masked_fill"], _masked_fill, dtypes=HOT, smooth=True),
        e("Tensor.masked_fill_", [_inplace("masked_fill")],
          lambda dt: [s for s in _masked_fill(dt) if s.id not in ("grows",)], errors=("masked_fill",)),
        e("masked_scatter", ["autograd.masked_scatter", "Tensor.masked_scatter", _inplace("masked_scatter")],
          _masked_scatter, smooth=True),
        e("masked_select", ["autograd.masked_select", "Tensor.masked_select"], _masked_select, smooth=True),
        e("take", ["autograd.take", "Tensor.take"], _take, smooth=True),
        e("put", ["autograd.put", "Tensor.put", _inplace("put")], _put, smooth=True),
        e("nonzero", ["autograd.nonzero", "Tensor.nonzero", "autograd.argwhere", "Tensor.argwhere"], _nonzero,
          dtypes=SEL, grad=False),
        e("nonzero(as_tuple)", ["autograd.nonzero", "Tensor.nonzero"], _tuple, dtypes=SEL, grad=False,
          errors=("nonzero",)),
        e("where(cond)", [Call("autograd.where(cond)", lambda c: __import__("autograd").where(c),
                               lambda c: __import__("torch").where(c))], _nonzero, dtypes=SEL, grad=False,
          errors=("where", "nonzero")),
    ]


ENTRIES = [*_scatter_ops()]

# ------------------------------------------------------------------------------------------------
# triangles, diagonals, flips, repeats, windows

def _x3(dt, seed=1):
    return arr((2, 3, 4), dt, "any", seed)


def _tri(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("default", x), S("k=1", x, 1), S("k=-1", x, diagonal=-1), S("k=big", x, 5), S("batched", _x3(dt), -2),
            S("T", T(arr((4, 3), dt, "any", 2))), S("empty", arr((0, 3), dt)), S("1d", arr((3,), dt)),
            S("0d", arr((), dt))] + ([S("inf", np.array([[np.inf, -np.inf], [np.nan, 1.0]], dt), gc=False)] if is_float(dt) else [])


def _diagonal(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("default", x), S("offset=1", x, 1), S("offset=-2", x, -2), S("offset-past", x, 5),
            S("3d", _x3(dt), 0, 0, 2), S("3d-neg", _x3(dt), -1, -1, 0), S("T", T(arr((4, 3), dt, "any", 2)), 1),
            S("kw", _x3(dt), offset=1, dim1=1, dim2=2), S("same-dims", x, 0, 1, 1), S("1d", arr((3,), dt))]


def _diag(dt):
    return [S("vec", arr((3,), dt, "any", 1)), S("vec,k=1", arr((3,), dt, "any", 2), 1),
            S("vec,k=-2", arr((2,), dt, "any", 3), -2), S("mat", arr((3, 4), dt, "any", 4)),
            S("mat,k=-1", arr((3, 4), dt, "any", 5), -1), S("T", T(arr((4, 3), dt, "any", 6))),
            S("empty", arr((0,), dt)), S("0d", arr((), dt)), S("3d", _x3(dt))]


def _diag_embed(dt):
    return [S("vec", arr((3,), dt, "any", 1)), S("batched", arr((2, 3), dt, "any", 2)),
            S("offset", arr((2, 3), dt, "any", 3), 1), S("neg-offset", arr((2, 3), dt, "any", 4), -1),
            S("dims", arr((2, 3), dt, "any", 5), 0, 0, 2), S("dims-swapped", arr((2, 3), dt, "any", 6), dim1=-1, dim2=0),
            S("same-dims", arr((3,), dt), 0, 1, 1)]


def _trace(dt):
    return [S("square", arr((3, 3), dt, "any", 1)), S("wide", arr((2, 4), dt, "any", 2)), S("T", T(arr((3, 2), dt, "any", 3))),
            S("empty", arr((0, 3), dt)), S("1d", arr((3,), dt)), S("3d", _x3(dt))]


def _movedim(dt):
    x = _x3(dt)
    return [S("int", x, 0, 2), S("neg", x, -1, 0), S("tuple", x, (0, 1), (2, 0)), S("same", x, 1, 1),
            S("0d", arr((), dt), 0, -1), S("mismatch", x, (0, 1), (2,)), S("repeated", x, (0, 0), (1, 2)),
            S("out-of-range", x, 3, 0)]


def _flip(dt):
    x = _x3(dt)
    return [S("0", x, (0,)), S("two", x, (0, 2)), S("list-neg", x, [-1]), S("none", x, ()), S("0d", arr((), dt), (0,)),
            S("T", T(arr((3, 4), dt, "any", 2)), (1,)), S("empty", arr((0, 3), dt), (0,)), S("repeated", x, (0, 0)),
            S("out-of-range", x, (3,))]


def _fliplr(dt):
    return [S("2d", arr((3, 4), dt, "any", 1)), S("3d", _x3(dt)), S("T", T(arr((4, 3), dt, "any", 2))), S("1d", arr((3,), dt))]


def _flipud(dt):
    return [S("2d", arr((3, 4), dt, "any", 1)), S("1d", arr((3,), dt, "any", 2)), S("0d", arr((), dt))]


def _roll(dt):
    x = _x3(dt)
    return [S("flat", x, 5), S("dim", x, 1, 1), S("neg", x, -2, -1), S("tuple", x, (1, -1), (0, 2)),
            S("big-shift", x, 7, 2), S("0d", arr((), dt), 1, 0), S("empty", arr((0, 3), dt), 1, 1),
            S("T", T(arr((3, 4), dt, "any", 2)), 1, 0), S("mismatch", x, (1, 2), (0,)), S("flat-tuple", x, (1, 2))]


def _rot90(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("k=1", x), S("k=2", x, 2), S("k=3", x, 3), S("k=-1", x, -1), S("k=0", x, 0), S("k=4", x, 4),
            S("dims", _x3(dt), 1, (2, 0)), S("T", T(arr((4, 3), dt, "any", 2)), 1),
            S("1d", arr((3,), dt), 1), S("same-dims", x, 1, (0, 0)), S("three-dims", _x3(dt), 1, (0, 1, 2))]


def _repeat_interleave(dt):
    x = arr((2, 3), dt, "any", 1)
    return [S("int", x, 2), S("int-dim", x, 2, dim=1), S("tensor", x, _i([1, 0, 2]), dim=1),
            S("tensor-0d", x, _i(2), dim=0), S("tensor-1", x, _i([3]), dim=-1), S("0d", arr((), dt), 3),
            S("output_size", x, 2, dim=0, output_size=4), S("zero", x, 0, 1), S("T", T(arr((3, 2), dt, "any", 2)), 2, dim=0),
            S("negative", x, -1), S("wrong-length", x, _i([1, 2]), dim=1)]


def _repeat_interleave_self(dt):
    return [S("counts", _i([1, 0, 3])), S("empty", np.zeros(0, "int64")), S("2d", _i([[1]])), S("negative", _i([1, -1]))]


def _tile(dt):
    x = arr((2, 3), dt, "any", 1)
    return [S("more", x, (2, 1, 2)), S("fewer", x, (2,)), S("same", x, [1, 2]), S("0d", arr((), dt), (3,)),
            S("empty-dims", x, ()), S("zero", x, (0, 1))]


def _unfold(dt):
    x = _x3(dt)
    return [S("step1", x, 2, 2, 1), S("step2", x, 2, 2, 2), S("dim0", x, 0, 1, 1), S("full", x, -1, 4, 3),
            S("size0", x, 1, 0, 1), S("T", T(arr((4, 3), dt, "any", 2)), 0, 2, 1), S("0d", arr((), dt), 0, 1, 1),
            S("too-big", x, 1, 4, 1), S("step0", x, 1, 1, 0)]


# ------------------------------------------------------------------------------------------------
# grids, stacks, splits

def _meshgrid(dt):
    a, b, c = arr((3,), dt, "any", 1), arr((2,), dt, "any", 2), arr((), dt, "any", 3)
    return [S("ij", a, b, indexing="ij"), S("xy", a, b, indexing="xy"), S("list", [a, b, c], indexing="ij"),
            S("one", a, indexing="xy"), S("three-xy", a, b, c, indexing="xy"), S("2d-error", arr((2, 2), dt), indexing="ij"),
            S("bad-indexing", a, b, indexing="yx")]


def _atleast(dt):
    return [S("0d", arr((), dt, "any", 1)), S("1d", arr((3,), dt, "any", 2)), S("2d", arr((2, 3), dt, "any", 3)),
            S("3d", _x3(dt, 4)), S("many", arr((), dt, "any", 5), arr((2,), dt, "any", 6), arr((2, 2), dt, "any", 7)),
            S("list", [arr((2,), dt, "any", 8), arr((), dt, "any", 9)])]


def _stacks(dt):
    return [S("1d", [arr((2,), dt, "any", 1), arr((3,), dt, "any", 2)]), S("0d", [arr((), dt, "any", 3), arr((), dt, "any", 4)]),
            S("2d", [arr((2, 3), dt, "any", 5), arr((2, 3), dt, "any", 6)]),
            S("3d", [_x3(dt, 7), _x3(dt, 8)]), S("tuple", (arr((2,), dt, "any", 9), arr((2,), dt, "any", 10))),
            S("empty-list", []), S("mismatch", [arr((2, 3), dt), arr((3, 2), dt)])]


def _column_stack(dt):
    return [S("1d", [arr((2,), dt, "any", 1), arr((2,), dt, "any", 2)]), S("mixed", [arr((3,), dt, "any", 3), arr((3, 2), dt, "any", 4)]),
            S("0d", [arr((), dt, "any", 5), arr((1,), dt, "any", 6)]), S("empty-list", []),
            S("mismatch", [arr((2,), dt), arr((3,), dt)])]


def _tensor_split(dt):
    x = arr((7, 3), dt, "any", 1)
    return [S("sections", x, 3), S("sections-dim", x, 2, 1), S("more-sections", x, 9), S("indices", x, [1, 5]),
            S("indices-dim", x, (1,), dim=1), S("unsorted", x, [5, 2]), S("neg-index", x, [-2]), S("big-index", x, [9]),
            S("tensor-sections", x, _i(2)), S("tensor-indices", x, _i([2, 3])), S("zero", x, 0),
            S("T", T(arr((3, 7), dt, "any", 2)), 2), S("0d", arr((), dt), 1)]


def _hsplit(dt):
    return [S("2d", arr((2, 6), dt, "any", 1), 3), S("1d", arr((6,), dt, "any", 2), 2), S("indices", arr((2, 6), dt, "any", 3), [1, 4]),
            S("uneven", arr((2, 6), dt), 4), S("0d", arr((), dt), 1)]


def _vsplit(dt):
    return [S("2d", arr((6, 2), dt, "any", 1), 3), S("indices", arr((6, 2), dt, "any", 2), [2]), S("uneven", arr((6, 2), dt), 4),
            S("1d", arr((6,), dt), 2)]


def _dsplit(dt):
    return [S("3d", arr((1, 2, 6), dt, "any", 1), 2), S("indices", arr((1, 2, 6), dt, "any", 2), [1, 3]),
            S("uneven", arr((1, 2, 6), dt), 4), S("2d", arr((2, 6), dt), 2)]


def _squeeze_dims(dt):
    return [S("tuple", arr((1, 2, 1, 3), dt, "any", 1), (0, 2)), S("tuple-non1", arr((1, 2, 1), dt, "any", 2), (0, 1)),
            S("neg", arr((1, 2, 1), dt, "any", 3), (-1,)), S("empty-tuple", arr((1, 2), dt, "any", 4), ()),
            S("repeated", arr((1, 2), dt), (0, 0)), S("out-of-range", arr((1, 2), dt), (2,))]


def _unflatten(dt):
    x = arr((2, 6), dt, "any", 1)
    return [S("mid", x, 1, (2, 3)), S("infer", x, -1, (3, -1)), S("list", x, 0, [1, 2]), S("one", x, 1, (6,)),
            S("empty", arr((0, 6), dt), 0, (0, 5)), S("bad", x, 1, (4, 2)), S("two-infer", x, 1, (-1, -1)),
            S("empty-sizes", x, 1, ())]


def _arrange_ops():
    def e(name, calls, gen, dtypes=SEL, smooth=True, **kw):
        return OpInfo(name, calls, gen, dtypes=dtypes, smooth=smooth, **kw)
    return [
        e("tril", ["autograd.tril", "Tensor.tril", _inplace("tril")], _tri, dtypes=HOT),
        e("triu", ["autograd.triu", "Tensor.triu", _inplace("triu")], _tri, dtypes=HOT),
        e("diagonal", ["autograd.diagonal", "Tensor.diagonal"], _diagonal),
        e("diag", ["autograd.diag", "Tensor.diag"], _diag),
        e("diag_embed", ["autograd.diag_embed", "Tensor.diag_embed"], _diag_embed),
        e("trace", ["autograd.trace", "Tensor.trace"], _trace, dtypes=NUM),
        e("movedim", ["autograd.movedim", "Tensor.movedim", "autograd.moveaxis", "Tensor.moveaxis"], _movedim),
        e("swapaxes", ["autograd.swapaxes", "Tensor.swapaxes", "autograd.swapdims", "Tensor.swapdims"],
          lambda dt: [S("0,2", _x3(dt), 0, 2), S("neg", _x3(dt), -1, 1), S("0d", arr((), dt), 0, 0),
                      S("out-of-range", _x3(dt), 0, 3)], errors=("swapaxes", "transpose")),
        e("flip", ["autograd.flip", "Tensor.flip"], _flip),
        e("fliplr", ["autograd.fliplr", "Tensor.fliplr"], _fliplr),
        e("flipud", ["autograd.flipud", "Tensor.flipud"], _flipud),
        e("roll", ["autograd.roll", "Tensor.roll"], _roll),
        e("rot90", ["autograd.rot90", "Tensor.rot90"], _rot90),
        e("repeat_interleave", ["autograd.repeat_interleave", "Tensor.repeat_interleave"], _repeat_interleave),
        e("repeat_interleave(repeats)", ["autograd.repeat_interleave", "Tensor.repeat_interleave"],
          _repeat_interleave_self, dtypes=("int64",), grad=False, errors=("repeat_interleave", "repeats")),
        e("tile", ["autograd.tile", "Tensor.tile"], _tile),
        e("Tensor.unfold", ["Tensor.unfold"], _unfold, errors=("unfold",)),
        e("meshgrid", ["autograd.meshgrid"], _meshgrid),
        e("atleast_1d", ["autograd.atleast_1d"], _atleast),
        e("atleast_2d", ["autograd.atleast_2d"], _atleast),
        e("atleast_3d", ["autograd.atleast_3d"], _atleast),
        e("hstack", ["autograd.hstack"], _stacks),
        e("vstack", ["autograd.vstack", "autograd.row_stack"], _stacks),
        e("dstack", ["autograd.dstack"], _stacks),
        e("column_stack", ["autograd.column_stack"], _column_stack),
        e("tensor_split", ["autograd.tensor_split", "Tensor.tensor_split"], _tensor_split),
        e("hsplit", ["autograd.hsplit", "Tensor.hsplit"], _hsplit),
        e("vsplit", ["autograd.vsplit", "Tensor.vsplit"], _vsplit),
        e("dsplit", ["autograd.dsplit", "Tensor.dsplit"], _dsplit),
        e("squeeze(dims)", ["autograd.squeeze", "Tensor.squeeze"], _squeeze_dims, errors=("squeeze",)),
        e("unflatten(more)", ["autograd.unflatten", "Tensor.unflatten"], _unflatten, errors=("unflatten",)),
    ]


# ------------------------------------------------------------------------------------------------
# factories and Tensor basics

def _new(dt):
    x = arr((2, 3), dt, "any", 1)
    return [S("size", x, (2, 2)), S("varargs", x, 3, 1), S("dtype", x, (2,), dtype=D("int64")), S("empty", x, (0,))]


def _basics():
    def e(name, calls, gen, dtypes=SEL, grad=False, **kw):
        return OpInfo(name, calls, gen, dtypes=dtypes, grad=grad, **kw)
    return [
        e("Tensor.new_zeros", ["Tensor.new_zeros"], _new, errors=("new_zeros", "size")),
        e("Tensor.new_ones", ["Tensor.new_ones"], _new, errors=("new_ones", "size")),
        e("Tensor.new_empty(shape)", [Call("Tensor.new_empty", lambda x, *a, **k: x.new_empty(*a, **k).shape)], _new),
        e("Tensor.new_full", ["Tensor.new_full"], lambda dt: [
            S("value", arr((2,), dt), (2, 3), _val(dt)), S("dtype", arr((2,), dt), (1,), 7, dtype=D("int64"))]),
        e("Tensor.new_tensor", ["Tensor.new_tensor"], lambda dt: [
            S("list", arr((2,), dt), [1, 2]), S("floats", arr((2,), dt), [[1.5, -2.0]]), S("dtype", arr((2,), dt), [1, 0], dtype=D("bool")),
            S("scalar", arr((2,), dt), 3)]),
        e("Tensor.view(dtype)", [Call("Tensor.view(dtype)", lambda x, d: x.view(d))], lambda dt: [
            S(f"as-{to}", arr((2, 4), dt, "any", 1), D(to)) for to in ("int32", "float64", "float32", "int64", "uint8", "bool")]
            + [S("odd-last", arr((2, 3), dt), D("int64" if dt in ("float32",) else "int32")),
               S("0d", arr((), dt), D("int32" if dt != "float32" else "int64"))],
          errors=("view",)),
        e("Tensor.stride", [Call("Tensor.stride", lambda x: x.stride()), Call("Tensor.stride(-1)", lambda x: x.stride(-1)),
                            Call("Tensor.storage_offset", lambda x: x.storage_offset()),
                            Call("Tensor.is_contiguous", lambda x: x.is_contiguous())], lambda dt: [
            S("plain", _x3(dt)), S("T", T(arr((3, 4), dt))), S("strided", STRIDED(arr((3, 2), dt))),
            S("sliced", V_slice(arr((4, 5), dt))), S("expanded", V_expand(arr((3, 1), dt)))], dtypes=("float64",)),
        e("Tensor.element_size", [Call("Tensor.element_size", lambda x: x.element_size()),
                                  Call("Tensor.itemsize", lambda x: x.itemsize), Call("Tensor.nbytes", lambda x: x.nbytes)],
          lambda dt: [S("2d", arr((2, 3), dt)), S("0d", arr((), dt))], dtypes=SEL),
        e("Tensor.__format__", [Call("format", lambda x, spec: format(x, spec))], lambda dt: [
            S("0d-plain", arr((), dt), ""), S("0d-spec", arr((), dt), ".3f" if is_float(dt) else "d" if dt == "int64" else ""),
            S("1d-spec", arr((2,), dt), ".2f")],      # a 1-d one formats as str(): "torch." vs "autograd." dtypes
          dtypes=("float64", "int64")),
    ]


def V_slice(a):
    from tests.opinfo import V
    return V(a, lambda t: t[1:3, 1:], "slice")


def V_expand(a):
    from tests.opinfo import V
    return V(a, lambda t: t.expand(3, 4), "expand")


ENTRIES += [*_arrange_ops(), *_basics()]


# factories (no input tensor, so no device to follow in the registry): tests/test_index_api.py checks them
NON_OPS = {"from_dlpack", "tril_indices", "triu_indices"}

KNOWN = {
    ("take_along_dim", "*/out-of-range", "forward"): "issue 11 #indexing, deliberate: torch 2.13's take_along_dim "
        "does not check an index >= the dim's size (it reads index % size); ours raises IndexError as gather does",
}
