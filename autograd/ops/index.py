"""Indexing: `x[index]` (basic indexing is a view, advanced indexing a copy), its adjoint
scatter-add, and the out-of-place `index_put` that a recorded `x[index] = v` becomes.

Also what every view op shares: a view remembers its root base and the chain of view ops
(op, params) that derives it from that base (`ViewInfo`, set by `as_view`), and the storage's
live views are listed beside its version counter. An in-place write through a view records
`CopySlices` on the base (the base with the view's region replaced: PyTorch's rebase), and views
whose base gained history re-derive theirs from it (see inplace.py).
"""
from __future__ import annotations

import weakref

from ..grad_mode import state
from ..graph import primitive
from ..tensor import Tensor
from backends import dtypes as _dt
from ._core import apply, as_tensor_like, device_error, zeros_like_scalar


@primitive(view=True, warns=False)
class Getitem:
    def forward(B, x, index, basic): return B.getitem(x, index)
    def backward(ctx, g): return index_add_zeros(g, ctx.index, ctx.input_shapes[0], ctx.basic)


@primitive()
class IndexAddZeros:
    """zeros(shape) with g added at index (repeated indices accumulate): getitem's adjoint."""
    def forward(B, g, index, shape, basic):
        return B.scatter_add(B.xp.zeros(shape, dtype=g.dtype), index, g)

    def backward(ctx, gg):
        return apply(Getitem, (gg,), ctx.index, ctx.basic)


@primitive()
class IndexPut:
    """x with x[index] = v (out of place): the recorded form of `x[index] = v`."""
    def forward(B, x, v, index, basic):
        return B.index_put(x, index, v)

    def backward(ctx, g):
        need_x, need_v = ctx.needs_input_grad
        gx = gv = None
        if need_x:
            gx = apply(IndexPut, (g, zeros_like_scalar(g)), ctx.index, ctx.basic)
        if need_v:
            gv = apply(Getitem, (g,), ctx.index, ctx.basic)
        return gx, gv


@primitive()
class CopySlices:
    """base with the view that `steps` derives from it replaced by value (broadcast): the recorded
    form of an in-place write into a view, which becomes the base's new history."""
    def forward(B, base, value, steps):
        out = B.xp.asarray(base, copy=True)
        B.setitem(derive(B, out, steps), (...,), value)
        return out

    def backward(ctx, g):
        need_base, need_value = ctx.needs_input_grad
        gb = apply(CopySlices, (g, zeros_like_scalar(g)), ctx.steps) if need_base else None
        return gb, (replay(g, ctx.steps) if need_value else None)


def derive(B, arr, steps):
    """The view `steps` takes of backend array arr (a view, never a copy)."""
    for op, params in steps:
        arr = op.forward(B, arr, *params)
    return arr


def replay(t, steps):
    """The view `steps` takes of tensor t, recorded (a view's history re-derived from its base)."""
    for op, params in steps:
        t = apply(op, (t,), *params)
    return t


class ViewInfo(tuple):
    """How a view came to be: its root `base`, the view ops `steps` ((op, params), ...) that derive it
    from that base, whether one of them ran without grad mode (`no_grad`) and, for outputs of ops
    that return several views (unbind, split), `multi` = (op name, output index). A tuple: cheap to
    make, and views are made often."""
    __slots__ = ()
    base = property(lambda self: self[0])
    steps = property(lambda self: self[1])
    no_grad = property(lambda self: self[2])
    multi = property(lambda self: self[3])

    def __reduce__(self):       # pickle and deepcopy copy arrays, not storage: a copy is no view
        return type(None), ()


class _Views(list):
    """Weak references to a storage's live views. Pickled and copied empty (weak references are
    neither): a copy of a tensor starts with no views."""
    __slots__ = ()

    def __reduce__(self):
        return _Views, ()


def as_view(out, x, op, params, multi=None):
    """Mark `out`, which is `op(x, *params)` sharing x's storage, a view of x's root base, and list
    it beside the storage's version counter (weakly: `live_views`)."""
    vc = x._vc
    if len(vc) == 1:            # no views of this storage yet, so x is not one; saying so spares
        x._view = None          # later reads an AttributeError (an unset slot is slow to miss)
        out._view = ViewInfo((x, ((op, params),), not state.enabled, multi))
        views = _Views()
        vc.append(views)
        vc.append(64)           # vc = [version, views, when to drop the dead ones next]
    else:
        parent = getattr(x, "_view", None)
        if parent is None:
            out._view = ViewInfo((x, ((op, params),), not state.enabled, multi))
        else:
            out._view = ViewInfo((parent[0], parent[1] + ((op, params),), parent[2] or not state.enabled,
                                  parent[3] or multi))
        views = vc[1]
    out._vc = vc
    views.append(weakref.ref(out))
    if len(views) > vc[2]:      # amortized O(1)
        views[:] = [r for r in views if r() is not None]
        vc[2] = max(64, 2 * len(views))
    return out


def view_info(t):
    """t's ViewInfo, or None when t is not a view."""
    return getattr(t, "_view", None) if len(t._vc) > 1 else None


def live_views(vc):
    """The live views sharing version counter vc."""
    if len(vc) < 2:
        return []
    return [w for w in (r() for r in vc[1]) if w is not None]


def getitem(x, index):
    index, basic = convert_index(x, index)
    out = apply(Getitem, (x,), index, basic)
    if not basic:              # advanced indexing copies: its own version counter
        out._vc = [0]
        return out
    return as_view(out, x, Getitem, (index, basic))


def index_add_zeros(g, index, shape, basic):
    return apply(IndexAddZeros, (g,), index, shape, basic)


def index_put(x, index, value):
    index, basic = convert_index(x, index)
    if not isinstance(value, Tensor):
        value = as_tensor_like(value, x, "setitem")
    if value.dtype is not x.dtype:
        value = value.to(x.dtype)
    return apply(IndexPut, (x, value), index, basic)


def convert_index(x, index):
    """Tensor indices to backend arrays; `basic` when no advanced (array) indexing is involved."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    ellipsis = False
    B = x._backend
    for i in index:
        if isinstance(i, Tensor):
            if i._backend is not B:
                device_error("index", (x, i))
            out.append(i._data)
            basic = False
        elif isinstance(i, (list,)) or (hasattr(i, "shape") and hasattr(i, "dtype")):
            # an empty list is an empty int64 index (NumPy would make it float64, no index at all)
            a = B.asarray(i, dtype=B.native_dtype(_dt.int64)) if isinstance(i, list) and not i else B.asarray(i)
            out.append(a)
            basic = False
        elif isinstance(i, bool):
            out.append(B.asarray(i))
            basic = False
        else:
            out.append(i)
            if i is Ellipsis:
                ellipsis = True
    if basic and not ellipsis:
        # with an Ellipsis, NumPy returns a 0-d view for a full integer index, not a scalar copy
        # (x[1, 2] must share storage so that x[1, 2].add_(1) writes into x). CuPy returns views
        # either way; array_api_strict wraps NumPy's views, so its basic indexing shares storage too
        # (tests/test_views_inplace.py runs on every backend)
        out.append(Ellipsis)
    # bounds are checked by the backend; re-raised by apply with the op's name
    return tuple(out), basic
