"""Sliding windows (im2col) and their adjoint, for convolution and pooling; max pooling's gather.

`windows` turns the trailing spatial dims of an array into (output positions x kernel offsets)
through the backend's strided `sliding_windows` view, so convolution and pooling become one
reshape and one matmul or reduction, with no Python loop over pixels. Its adjoint `fold` sums
window-shaped gradients back into the image; it loops over kernel offsets only (KH*KW strided
adds). Each is the other's gradient, so both are differentiable to any order. `take_flat` is max
pooling's gather by flat index, whose gradient scatters back by the same index.

These are engine internals (no `@op`): `nn.functional` is the public layer API built on them.
"""
from __future__ import annotations

import itertools

from ..graph import primitive
from ..tensor import _wrap
from ._core import apply
from .index import IndexAddZeros


@primitive()
class Windows:
    """x (..., *S) -> (..., *O, *K): every kernel window over the trailing len(K) dims."""
    def forward(B, x, kernel, stride, dilation):
        n = len(kernel)
        axes = tuple(range(x.ndim - n, x.ndim))
        v = B.sliding_windows(x, kernel, axes, stride, dilation)
        return B.xp.asarray(v, copy=True)           # a view must not leak into the tape

    def backward(ctx, g):
        return fold(g, ctx.input_shapes[0], ctx.kernel, ctx.stride, ctx.dilation)


def windows(x, kernel, stride, dilation):
    """All `kernel`-sized windows over x's trailing dims: shape (..., *out, *kernel)."""
    kernel, stride, dilation = tuple(kernel), tuple(stride), tuple(dilation)
    n = len(kernel)
    if x.ndim < n:
        raise RuntimeError(f"windows: input of shape {tuple(x.shape)} has fewer than {n} dims")
    for size, k, d in zip(x.shape[-n:], kernel, dilation):
        if d * (k - 1) + 1 > size:
            raise RuntimeError(f"windows: kernel {kernel} (dilation {dilation}) is larger than the input's "
                               f"spatial size {tuple(x.shape[-n:])}")
    return apply(Windows, (x,), kernel, stride, dilation)


@primitive()
class Fold:
    """Adjoint of Windows: windows (..., *O, *K) summed back into an array of shape in_shape."""
    def forward(B, g, in_shape, kernel, stride, dilation):
        n = len(kernel)
        outs = g.shape[g.ndim - 2 * n:g.ndim - n]
        out = B.xp.zeros(tuple(in_shape), dtype=g.dtype)
        for offs in itertools.product(*(range(k) for k in kernel)):
            dst = tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                        for o, d, s, m in zip(offs, dilation, stride, outs))
            out[(Ellipsis,) + dst] += g[(Ellipsis,) + (slice(None),) * n + offs]
        return out

    def backward(ctx, gg):
        return windows(gg, ctx.kernel, ctx.stride, ctx.dilation)


def fold(g, in_shape, kernel, stride, dilation):
    """Windows' adjoint: window-shaped g (..., *out, *kernel) summed into an array of in_shape."""
    return apply(Fold, (g,), tuple(in_shape), tuple(kernel), tuple(stride), tuple(dilation))


@primitive(save=("x",))
class TakeFlat:
    """x.reshape(-1)[index] for an integer index array of any shape: max pooling's gather.

    Its gradient is scattered back by index (a selection: an inf gradient stays on its element,
    where a mask multiply would spread 0 * inf = nan), by TakeFlatBackward, which also takes x as
    an input, as ATen's max_pool2d_with_indices_backward does: a gradient computed with
    create_graph then depends on x with derivative zero, so double backward gives zeros (torch)
    instead of "does not require grad"."""
    def forward(B, x, index):
        xp = B.xp
        return xp.reshape(xp.take(xp.reshape(x, (-1,)), xp.reshape(index, (-1,))), index.shape)

    def backward(ctx, g):
        return apply(TakeFlatBackward, (g, ctx.x), ctx.index)


def take_flat(x, index):
    """x.reshape(-1)[index] (index a backend integer array), differentiable to any order."""
    return apply(TakeFlat, (x,), index)


@primitive()
class TakeFlatBackward:
    """zeros_like(x) with g added at the flat indices (repeats accumulate): TakeFlat's adjoint."""
    def forward(B, g, x, index):
        xp = B.xp
        flat = IndexAddZeros.forward(B, xp.reshape(g, (-1,)), (xp.reshape(index, (-1,)),), (x.size,), False)
        return xp.reshape(flat, x.shape)

    def backward(ctx, gg):
        need_g, need_x = ctx.needs_input_grad
        g_g = apply(TakeFlat, (gg,), ctx.index) if need_g else None
        g_x = _wrap(gg._backend.xp.zeros(gg.shape, dtype=gg._data.dtype), gg._backend) if need_x else None
        return g_g, g_x
