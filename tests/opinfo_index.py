"""Registry entries for issue 11, "Indexing, masking, scatter": gather/scatter and the index_* family,
masked_*, take/put, nonzero, triangles and diagonals, flips and rolls, stacking and splitting helpers,
and the Tensor basics (new_*, view(dtype), strides). Checked against torch by tests/test_conformance.py."""
from __future__ import annotations

import numpy as np

from tests.opinfo import C, Call, D, OpInfo, S, T, STRIDED, arr, is_float  # noqa: F401

SEL = ("float64", "float32", "int64", "bool")     # selections and copies: every kind
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
        e("gather", ["autograd.gather", "Tensor.gather"], _gather, smooth=True),
        e("take_along_dim", ["autograd.take_along_dim", "Tensor.take_along_dim"], _take_along, smooth=True),
        e("scatter", ["autograd.scatter", "Tensor.scatter", _inplace("scatter")], _scatter, smooth=True),
        e("scatter(reduce=)", ["autograd.scatter", "Tensor.scatter", _inplace("scatter")], _scatter_reduce_arg,
          dtypes=NUM, grad=False, errors=("scatter",)),       # torch defines no derivative for reduce=
        e("scatter_add", ["autograd.scatter_add", "Tensor.scatter_add", _inplace("scatter_add")], _scatter_add,
          dtypes=NUM, smooth=True),
        e("index_select", ["autograd.index_select", "Tensor.index_select"], _index_select, smooth=True),
        e("index_add", ["autograd.index_add", "Tensor.index_add", _inplace("index_add")], _index_add, dtypes=NUM,
          smooth=True),
        e("index_copy", ["autograd.index_copy", "Tensor.index_copy", _inplace("index_copy")], _index_copy, smooth=True),
        e("index_fill", ["autograd.index_fill", "Tensor.index_fill", _inplace("index_fill")], _index_fill, smooth=True),
        e("index_put", ["autograd.index_put", "Tensor.index_put", _inplace("index_put")], _index_put, smooth=True),
        e("masked_fill", ["autograd.masked_fill", "Tensor.masked_fill"], _masked_fill, smooth=True),
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

KNOWN = {
    ("take_along_dim", "*/out-of-range", "forward"): "issue 11 #indexing, deliberate: torch 2.13's take_along_dim "
        "does not check an index >= the dim's size (it reads index % size); ours raises IndexError as gather does",
}
