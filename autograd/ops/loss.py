"""The losses that need a fused rule: cross-entropy on logits against class indices, and binary
cross-entropy on probabilities. Every other loss is a composite in `nn.functional_losses`.

Cross-entropy is fused for speed (a dozen ops each way when composed, most of a small network's
step). BCE is fused for PyTorch's numerics: it clamps the log at -100 and its gradient's
denominator at 1e-12, which a composite cannot reproduce at 0 and 1. These are engine internals
(no `@op`): `nn.functional` is the public API built on them.
"""
from __future__ import annotations

import builtins
import math

from backends import dtypes as _dt

from .. import graph as _graph
from ..grad_mode import grad_enabled
from ..graph import eager_rule, primitive, saved_array
from ..tensor import _wrap
from ._core import apply
from .reduce import Softmax, softmax
from .unary import clamp, log, masked, traced_kernel

#: ATen's EPSILON for the BCE gradient: the float 1e-12, i.e. 1e-12 rounded to float32
_BCE_EPS = 9.999999960041972e-13
#: the dtypes whose cross-entropy rule runs on arrays (see _ce_backward_arrays)
_FAST_CE = (_dt.float32, _dt.float64)
#: (backend, classes, index dtype) -> arange(classes) as a (1, classes) row, for the one-hot compare
_CLASS_ROWS = {}
#: (backend, rows) -> arange(rows), for the forward's picked logits
_ROWS = {}


@primitive(save=("x", "y"))
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
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = gy = None
        if need_x:
            gx = g * (x - y) / clamp((1 - x) * x, min=_BCE_EPS)
        if need_y:
            lx = clamp(log(clamp(x, min=1e-300)), min=-100.0)
            l1mx = clamp(log(clamp(1 - x, min=1e-300)), min=-100.0)
            gy = g * (l1mx - lx)
        return gx, gy


def binary_cross_entropy_elementwise(x, y):
    """BCE of probabilities x against targets y, unreduced (callers check shapes and dtypes)."""
    return apply(BinaryCrossEntropy, (x, y))


@primitive(save=("x",))
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
        # the common case in two reductions: every target in [0, c), so none is a (negative)
        # ignore_index and none is out of range; otherwise the elementwise checks below
        every = ignore_index < 0 < n and int(xp.min(t)) >= 0 and int(xp.max(t)) < c
        valid = None if every else t != ignore_index
        if not every:
            every = bool(xp.all(valid))
        if valid is not None and bool(xp.any(((t < 0) | (t >= c)) & valid)):
            bad = sorted({int(v) for v in B.to_numpy(t).reshape(-1).tolist() if v != ignore_index and not 0 <= v < c})
            raise IndexError(f"cross_entropy: target class index out of range [0, {c}): {bad[:5]} "
                             f"(ignore_index={ignore_index})")
        safe = t if every else xp.where(valid, t, xp.zeros((), dtype=t.dtype))
        z = x - xp.max(x, axis=1, keepdims=True)      # a row of all -inf gives nan, as in PyTorch
        e = xp.exp(z)
        s = xp.sum(e, axis=1)
        # the picked logits z[i, t[i]], by one integer-array index (the rows' arange is cached)
        loss = xp.log(s) - B.getitem(z, (_row_indices(B, n), safe))
        if not every:
            loss = xp.where(valid, loss, xp.zeros((), dtype=x.dtype))
        if reduction == "none":
            _graph.stash(e, s, every, None)
            return loss
        total = xp.sum(loss)
        # for the array-level rule (kept if this application is recorded): softmax is e / s; whether
        # every target counts; the loss's sum, finite only where every row's sum is (see there)
        _graph.stash(e, s, every, total)
        if reduction == "sum":
            return total
        count = n if every else int(xp.sum(xp.astype(valid, xp.int64)))
        if count == 0:                                  # the mean of nothing, as torch (and no 0/0 warning)
            return xp.full((), float("nan"), dtype=x.dtype)
        return total / count

    def backward(ctx, g):
        if _graph.TRACER is not None and not grad_enabled():
            gx = _ce_backward_traced(ctx, g)
            if gx is not None:
                return gx
        if eager_rule():
            gx = _ce_backward_arrays(ctx, g)
            if gx is not None:
                return gx
        else:
            _graph.take_stash(ctx)          # the composite recomputes: free what forward kept (create_graph)
        x, t, reduction = ctx.x, ctx.t, ctx.reduction
        xp = x._backend.xp
        # as in forward, one reduction decides the common case (targets were checked there); an
        # xp call, not `>=`, so that autograd.compile records this branch's condition as a guard
        if _graph.TRACER is not None and x.dtype in (_dt.float32, _dt.float64):
            return _ce_backward_branch_free(x, t, g, ctx.ignore_index, reduction)
        every = ctx.ignore_index < 0 < t.shape[0] and bool(xp.greater_equal(xp.min(t), xp.zeros((), dtype=t.dtype)))
        valid = None if every else t != ctx.ignore_index
        if not every:
            every = bool(xp.all(valid))
        onehot = xp.equal(xp.reshape(xp.arange(x.shape[1], dtype=t.dtype), (1, -1)), xp.reshape(t, (-1, 1)))
        if reduction == "none":
            g = g.reshape(-1, 1)
        elif reduction == "mean":
            g = g / (x.shape[0] if every else builtins.max(int(xp.sum(xp.astype(valid, xp.int64))), 1))
        # softmax * g - onehot * g with the onehot term selected (log_softmax's and nll's rules
        # composed, as ATen): an inf upstream gradient gives torch's inf/nan pattern exactly
        gx = softmax(x, 1) * g - masked(g, onehot)
        if every:
            return gx
        # ignored rows get exactly 0 by selection (as ATen), even for an inf or nan upstream gradient
        return masked(gx, xp.reshape(valid, (-1, 1)))


def _row_indices(be, n):
    """arange(n) on backend be, cached (cross-entropy's forward indexes one element per row)."""
    key = (be, n)
    r = _ROWS.get(key)
    if r is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        r = _ROWS[key] = be.xp.arange(n)
    return r


def _ce_backward_arrays(ctx, g):
    """CrossEntropyIndex's rule on arrays, for float32/float64 (as torch's log_softmax_backward and
    nll_loss_backward kernels): the composite rule's forwards called in the same order on the same
    arrays (softmax, g / count, mul, select, sub, select), so bit for bit its result, without the
    five op applications. None where it does not apply (another dtype: float16's scalar division
    runs in float32; an empty input), and the composite runs."""
    gd = g._data
    x = saved_array(ctx, 0)
    be = g._backend
    if gd.dtype != x.dtype or not x.size or be.dtype_from_native(x.dtype) not in _FAST_CE:
        return None
    t, ignore_index, reduction = ctx.params
    extra = _graph.take_stash(ctx)
    if extra is not None and extra[4][0] != extra[5]:
        extra = None                        # the target was written in place since: recompute from it
    if extra is None:
        gx = _ce_grad(be, x, t, gd, ignore_index, reduction, None, None, None, None)
    else:
        gx = _ce_grad(be, x, t, gd, ignore_index, reduction, extra[0], extra[1], extra[2], extra[3])
    return _wrap(gx, be)


def _ce_grad(be, x, t, gd, ignore_index, reduction, e, s, every, total):
    """The gradient array of cross-entropy's rule (see _ce_backward_arrays): e and s the forward's
    exp(x - max) and row sums where it kept them (else None: recomputed), every whether forward
    found every target counting (None: decided here), total the loss's sum (or None)."""
    xp = be.xp
    n, c = x.shape
    quiet = be.enter_quiet()
    try:
        # whether every target counts (none is ignore_index), as forward found it or decided again
        if every is None:
            every = ignore_index < 0 < n and int(xp.min(t)) >= 0
        valid = None if every else t != ignore_index
        if not every:
            every = bool(xp.all(valid))
        key = (be, c, t.dtype)
        row = _CLASS_ROWS.get(key)
        if row is None:
            if len(_CLASS_ROWS) > 64:
                _CLASS_ROWS.clear()
            row = _CLASS_ROWS[key] = xp.reshape(xp.arange(c, dtype=t.dtype), (1, -1))
        onehot = xp.equal(row, xp.reshape(t, (-1, 1)))
        if reduction == "none":
            gd = xp.reshape(gd, (-1, 1))
        elif reduction == "mean":
            count = n if every else builtins.max(int(xp.sum(xp.astype(valid, xp.int64))), 1)
            gd = be.asarray(gd / xp.asarray(count, dtype=gd.dtype))
        # Softmax's forward on x: with every row's max finite its formula, else itself. The forward
        # left exp(x - max) and its row sums (graph.stash), the same arrays this formula computes: a
        # row's sum is in [1, C] where its max is finite and NaN where not, so a finite sum of the
        # sums says every max was finite (an overflowing one only sends us the long way); so does
        # a finite loss where every row counts (a NaN sum makes its row's loss, and the total, NaN)
        if e is not None and (every and total is not None and math.isfinite(float(total))
                              or math.isfinite(float(xp.sum(s)))):
            sm = e / xp.reshape(s, (-1, 1))
        else:
            m = xp.max(x, axis=1, keepdims=True)
            if math.isfinite(float(xp.sum(m))):
                e = xp.exp(x - m)
                sm = e / xp.sum(e, axis=1, keepdims=True)
            else:
                sm = Softmax.forward(be, x, 1)
        gx = sm * gd - be.masked(gd, onehot)
        if not every:
            gx = be.masked(gx, xp.reshape(valid, (-1, 1)))
    finally:
        be.exit_quiet(quiet)
    return gx


def _ce_grad_traced(be, x, t, gd, ignore_index, reduction, e, s, total):
    """_ce_grad as one step of an autograd.compile plan: every Python branch in it (whether every
    target counts, whether the kept row sums are finite) is decided again by each replay, which
    re-runs the whole kernel; e, s and total are the replayed forward's kept arrays (or None)."""
    return _ce_grad(be, x, t, gd, ignore_index, reduction, e, s, None, total)


def _ce_backward_traced(ctx, g):
    """CrossEntropyIndex's rule while autograd.compile traces (no create_graph): the eager rule's
    arrays as one recorded kernel reading the exp and row sums the recorded forward returned, not
    the branch-free composite's dozen steps and a softmax. None where the eager rule would not
    apply (another dtype, an empty input): the composite runs."""
    x = ctx.x
    xd, gd = x._data, g._data
    be = x._backend
    if gd.dtype != xd.dtype or not xd.size or x.dtype not in _FAST_CE:
        return None
    extra = _graph.take_stash(ctx)
    e = s = total = None
    tr = _graph.TRACER                  # only arrays the plan made (the forward's kept ones)
    refs = tr.refs if tr is not None else {}
    if extra is not None and extra[4][0] == extra[5] and id(extra[0]) in refs and id(extra[1]) in refs:
        e, s = extra[0], extra[1]
        total = extra[3] if id(extra[3]) in refs else None
    t, ignore_index, reduction = ctx.params
    return _wrap(traced_kernel(_ce_grad_traced)(be, xd, t, gd, ignore_index, reduction, e, s, total), be)


def _ce_backward_branch_free(x, t, g, ignore_index, reduction):
    """CrossEntropyIndex's rule while autograd.compile records: no Python branch on the targets
    (the replay could not re-decide it after the step's in-place writes, such as BatchNorm's
    running statistics), every count an array, so each replay recomputes it. Bitwise the eager
    rule's result on either of its branches: a select by an all-true mask is the identity, and
    the mean's divisor is the same integer, converted to g's dtype as eager's Python int is."""
    xp = x._backend.xp
    valid = xp.not_equal(t, xp.asarray(ignore_index, dtype=t.dtype))
    onehot = xp.equal(xp.reshape(xp.arange(x.shape[1], dtype=t.dtype), (1, -1)), xp.reshape(t, (-1, 1)))
    if reduction == "none":
        g = g.reshape(-1, 1)
    elif reduction == "mean":
        count = xp.maximum(xp.sum(xp.astype(valid, xp.int64)), xp.asarray(1, dtype=xp.int64))
        g = g / _wrap(xp.astype(count, g._data.dtype), g._backend)
    gx = softmax(x, 1) * g - masked(g, onehot)
    return masked(gx, xp.reshape(valid, (-1, 1)))


def cross_entropy_index(x, t, ignore_index, reduction):
    """Cross-entropy of logits x (N, C) against the integer Tensor t (N,): the class range is
    checked in forward; callers check shapes, weights and label smoothing."""
    _graph.want_stash()
    res = None
    try:
        res = apply(CrossEntropyIndex, (x,), t._data, ignore_index, reduction)
    finally:
        _graph.keep_stash(res, t._vc, t._vc[0])
    return res
