"""Primitives the `nn` package needs beyond `ops.py`: sliding windows (im2col) and their adjoint.

`windows` turns the trailing spatial dims of an array into (output positions x kernel offsets)
through the backend's strided `sliding_windows` view, so convolution and pooling become one
reshape and one matmul or reduction, with no Python loop over pixels. Its adjoint `fold` sums
window-shaped gradients back into the image; it loops over kernel offsets only (KH*KW strided
adds). Each is the other's gradient, so both are differentiable to any order. The binary
cross-entropy on probabilities is fused here too: PyTorch clamps its log at -100 and its
gradient's denominator at 1e-12, which a composite cannot reproduce at 0 and 1.
"""
from __future__ import annotations

import itertools

from .graph import primitive
from .ops import IndexAddZeros, MatmulT, apply, clamp, log, pair, softmax, where
from .tensor import _wrap


@primitive()
class Windows:
    """x (..., *S) -> (..., *O, *K): every kernel window over the trailing len(K) dims."""
    def forward(B, x, kernel, stride, dilation, in_shape):
        n = len(kernel)
        axes = tuple(range(x.ndim - n, x.ndim))
        v = B.sliding_windows(x, kernel, axes, stride, dilation)
        return B.xp.asarray(v, copy=True)           # a view must not leak into the tape

    def backward(ctx, g):
        kernel, stride, dilation, in_shape = ctx.params
        return fold(g, in_shape, kernel, stride, dilation)


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
        _, kernel, stride, dilation = ctx.params
        return windows(gg, kernel, stride, dilation)


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
    return apply(Windows, (x,), kernel, stride, dilation, tuple(x.shape))


def fold(g, in_shape, kernel, stride, dilation):
    return apply(Fold, (g,), tuple(in_shape), tuple(kernel), tuple(stride), tuple(dilation))


@primitive(save=(0,))
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
        (x,) = ctx.unpack()
        return apply(TakeFlatBackward, (g, x), ctx.params[0])


@primitive()
class TakeFlatBackward:
    """zeros_like(x) with g added at the flat indices (repeats accumulate): TakeFlat's adjoint."""
    def forward(B, g, x, index):
        xp = B.xp
        flat = IndexAddZeros.forward(B, xp.reshape(g, (-1,)), (xp.reshape(index, (-1,)),), (x.size,), False)
        return xp.reshape(flat, x.shape)

    def backward(ctx, gg):
        nxt = ctx.next
        index = ctx.params[0]
        xp = gg._backend.xp
        g_g = apply(TakeFlat, (gg,), index) if nxt[0] is not None else None
        g_x = _wrap(xp.zeros(gg.shape, dtype=gg._data.dtype), gg._backend) if nxt[1] is not None else None
        return g_g, g_x


def take_flat(x, index):
    """x.reshape(-1)[index] (index a backend integer array), differentiable to any order."""
    return apply(TakeFlat, (x,), index)


@primitive(save=(0, 1))
class BinaryCrossEntropy:
    """-(y log x + (1 - y) log(1 - x)) elementwise, each log clamped at -100 (PyTorch's numerics)."""
    def forward(B, x, y):
        xp = B.xp
        lo = xp.asarray(-100.0, dtype=x.dtype)
        # log(0) is -inf before the clamp; the where()s keep it from being evaluated (no warnings)
        log_x = xp.where(x > 0, xp.log(xp.where(x > 0, x, 1)), lo)
        log_1mx = xp.where(x < 1, xp.log1p(xp.where(x < 1, -x, 0)), lo)
        return -(y * xp.maximum(log_x, lo) + (1 - y) * xp.maximum(log_1mx, lo))

    def backward(ctx, g):
        x, y = ctx.unpack()
        gx = gy = None
        if ctx.next[0] is not None:
            gx = g * (x - y) / clamp((1 - x) * x, min=_BCE_EPS)
        if ctx.next[1] is not None:
            lx = clamp(log(clamp(x, min=1e-300)), min=-100.0)
            l1mx = clamp(log(clamp(1 - x, min=1e-300)), min=-100.0)
            gy = g * (l1mx - lx)
        return gx, gy


#: ATen's EPSILON for the BCE gradient: the float 1e-12, i.e. 1e-12 rounded to float32
_BCE_EPS = 9.999999960041972e-13


def binary_cross_entropy_elementwise(x, y):
    return apply(BinaryCrossEntropy, (x, y))


@primitive(save=(0,))
class CrossEntropyIndex:
    """Cross-entropy of logits x (N, C) against class indices t, fused into one op.

    Forward is a stable log-sum-exp minus the picked logit; backward is (softmax(x) - onehot(t))
    scaled by the incoming gradient, written with differentiable ops (second order works).
    Composed from log_softmax, indexing and a weighted mean, the same loss takes a dozen ops
    each way, which is most of a small network's step.
    """
    def forward(B, x, t, ignore_index, reduction):
        xp = B.xp
        n, c = x.shape
        valid = t != ignore_index
        every = bool(xp.all(valid))
        if bool(xp.any(((t < 0) | (t >= c)) & valid)):
            bad = sorted({int(v) for v in B.to_numpy(t).reshape(-1).tolist() if v != ignore_index and not 0 <= v < c})
            raise IndexError(f"cross_entropy: target class index out of range [0, {c}): {bad[:5]} "
                             f"(ignore_index={ignore_index})")
        safe = t if every else xp.where(valid, t, xp.zeros((), dtype=t.dtype))
        z = x - xp.max(x, axis=1, keepdims=True)      # a row of all -inf gives nan, as in PyTorch
        loss = xp.log(xp.sum(xp.exp(z), axis=1)) - xp.reshape(xp.take_along_axis(z, xp.reshape(safe, (n, 1)), axis=1), (n,))
        if not every:
            loss = xp.where(valid, loss, xp.zeros((), dtype=x.dtype))
        if reduction == "none":
            return loss
        total = xp.sum(loss)
        if reduction == "sum":
            return total
        count = n if every else int(xp.sum(xp.astype(valid, xp.int64)))
        if count == 0:                                  # the mean of nothing, as torch (and no 0/0 warning)
            return xp.full((), float("nan"), dtype=x.dtype)
        return total / count

    def backward(ctx, g):
        (x,) = ctx.unpack()
        t, ignore_index, reduction = ctx.params
        be = x._backend
        xp = be.xp
        valid = t != ignore_index
        onehot = xp.reshape(xp.arange(x.shape[1], dtype=t.dtype), (1, -1)) == xp.reshape(t, (-1, 1))
        if reduction == "none":
            g = g.reshape(-1, 1)
        elif reduction == "mean":
            g = g / max(int(xp.sum(xp.astype(valid, xp.int64))), 1)
        # softmax * g - onehot * g with the onehot term selected (log_softmax's and nll's rules
        # composed, as ATen): an inf upstream gradient gives torch's inf/nan pattern exactly
        gx = softmax(x, 1) * g - where(_wrap(onehot, be), g, 0.0)
        if bool(xp.all(valid)):
            return gx
        # ignored rows get exactly 0 by selection (as ATen), even for an inf or nan upstream gradient
        return where(_wrap(xp.reshape(valid, (-1, 1)), be), gx, 0.0)


def cross_entropy_index(x, t, ignore_index, reduction):
    return apply(CrossEntropyIndex, (x,), t._data, ignore_index, reduction)


@primitive(save=(0, 1))
class Linear:
    """x @ W.T (+ b), fused as PyTorch's addmm: the bias is added into the matmul's fresh result,
    so no second activation-sized array exists, recording or not. Saves x and W only."""
    def forward(B, x, w, *b):
        out = B.xp.matmul(x, B.xp.matrix_transpose(w))
        if b:
            out += b[0]
        return out

    def backward(ctx, g):
        x, w = ctx.unpack()
        nxt = ctx.next
        gx = g @ w if nxt[0] is not None else None
        gw = None
        if nxt[1] is not None:
            if x.ndim != 2:                # fold batch dims into rows (a vector is one row): one product
                x, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
            else:
                g2 = g
            gw = apply(MatmulT, (g2, x), True, False)
        if len(nxt) == 2:
            return gx, gw
        return gx, gw, (g if nxt[2] is not None else None)   # the engine sums g down to b's shape


def linear(x, w, b=None):
    x, w = pair(x, w, "linear")
    if b is None:
        return apply(Linear, (x, w))
    return apply(Linear, (x, w, b if b.dtype is x.dtype else b.to(x.dtype)))
