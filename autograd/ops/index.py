"""Indexing: `x[index]` (basic indexing is a view, advanced indexing a copy), its adjoint
scatter-add, and the out-of-place `index_put` that a recorded `x[index] = v` becomes."""
from __future__ import annotations

from ..graph import primitive
from ..tensor import Tensor
from ._core import apply, as_tensor_like, device_error, zeros_like_scalar


@primitive(view=True)
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


def getitem(x, index):
    index, basic = convert_index(x, index)
    out = apply(Getitem, (x,), index, basic)
    if not basic:              # advanced indexing copies: its own version counter
        out._vc = [0]
    return out


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
    B = x._backend
    for i in index:
        if isinstance(i, Tensor):
            if i._backend is not B:
                device_error("index", (x, i))
            out.append(i._data)
            basic = False
        elif isinstance(i, (list,)) or (hasattr(i, "shape") and hasattr(i, "dtype")):
            a = B.asarray(i)
            out.append(a)
            basic = False
        elif isinstance(i, bool):
            out.append(B.asarray(i))
            basic = False
        else:
            out.append(i)
    # bounds are checked by the backend; re-raised by apply with the op's name
    return tuple(out), basic
