"""Linear algebra: matmul, mm and bmm (PyTorch's checks: one dtype, mm exactly 2-D, bmm exactly 3-D),
the fused transposed product their gradients use, and the fused linear layer (`x @ W.T + b`) that
`nn.functional.linear` checks and calls (an engine internal: no `@op`)."""
from __future__ import annotations

from backends import dtypes as _dt
from .. import graph as _graph
from ..grad_mode import grad_enabled
from ..graph import eager_rule, primitive, saved_array
from ..tensor import Tensor, _wrap
from ._core import apply, device_error, pair
from ._registry import op
from .unary import traced_kernel


@primitive(save=("a", "b"))
class Matmul:
    def forward(B, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both arguments to matmul need to be at least 1D")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ValueError(f"shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                             f"({ka} != {kb})")
        return a @ b

    def backward(ctx, g):
        # 1-D operands are promoted to matrices (a: 1 x k, b: k x 1) and the unit dim dropped after
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a._data.ndim >= 2 and b._data.ndim >= 2:            # no 1-D promotion: one op per gradient
            return (apply(MatmulT, (g, b), False, True) if need_a else None,
                    apply(MatmulT, (a, g), True, False) if need_b else None)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if need_a:
            ga = g @ b2.mT
            if a.ndim == 1:
                ga = ga.squeeze(-2)
        if need_b:
            gb = a2.mT @ g
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


@primitive(save=("a", "b"))
class MatmulT:
    """op(a) @ op(b), op transposing the last two dims where flagged: matmul's gradients in one op."""
    def forward(B, a, b, ta, tb):
        xp = B.xp
        return xp.matmul(xp.matrix_transpose(a) if ta else a, xp.matrix_transpose(b) if tb else b)

    def backward(ctx, g):
        # C = A'B' with A' = op(a), B' = op(b): dA' = g B'^T, dB' = A'^T g, transposed back where flagged
        a, b = ctx.saved_tensors
        ta, tb = ctx.ta, ctx.tb
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            ga = apply(MatmulT, (b, g), tb, True) if ta else apply(MatmulT, (g, b), False, not tb)
        if need_b:
            gb = apply(MatmulT, (g, a), True, ta) if tb else apply(MatmulT, (a, g), not ta, False)
        return ga, gb


def _operands(name, a, b):
    """matmul's family takes tensors of one dtype, as PyTorch: no promotion, bool refused."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{name}(): expected Tensor operands, got {type(bad).__name__}")
    da = a._data.dtype
    if da != b._data.dtype:
        raise RuntimeError(f"{name}: expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != "
                           f"{b.dtype.name} (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    if a._backend is not b._backend:
        device_error(name, (a, b))
    if a._backend.dtype_from_native(da) is _dt.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors (shapes {tuple(a.shape)} and "
                                  f"{tuple(b.shape)})")


@op()
def matmul(input, other):
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)) or input._data.dtype != other._data.dtype \
            or input._backend.dtype_from_native(input._data.dtype) is _dt.bool_:
        _operands("matmul", input, other)            # raises the error PyTorch raises
    return apply(Matmul, (input, other))


@op()
def mm(input, mat2):
    """The product of two matrices (exactly 2-D, no broadcasting)."""
    _operands("mm", input, mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        which = "self" if input.ndim != 2 else "mat2"
        raise RuntimeError(f"mm: {which} must be a matrix (got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)})")
    (n, k), (k2, m) = input.shape, mat2.shape
    if k != k2:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    return apply(Matmul, (input, mat2))


@op()
def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with equal batch sizes (no broadcasting)."""
    _operands("bmm", input, mat2)
    if input.ndim != 3 or mat2.ndim != 3:
        which = "batch1" if input.ndim != 3 else "batch2"
        raise RuntimeError(f"bmm: {which} must be a 3D tensor (got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)})")
    (b, _, k), (b2, k2, _) = input.shape, mat2.shape
    if b != b2 or k != k2:
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] "
                           f"but got: [{b2}, {k2}] (shapes {tuple(input.shape)} and {tuple(mat2.shape)})")
    return apply(Matmul, (input, mat2))


@primitive(save=("x", "w"))
class Linear:
    """x @ W.T (+ b), fused as PyTorch's addmm: the bias is added into the matmul's fresh result,
    so no second activation-sized array exists, recording or not. Saves x and W only."""
    def forward(B, x, w, *b):
        xp = B.xp
        if x.ndim > 2:          # fold batch dims into rows: one BLAS product, not one per leading index
            lead = tuple(x.shape[:-1])
            out = xp.reshape(xp.matmul(xp.reshape(x, (-1, x.shape[-1])), xp.matrix_transpose(w)),
                             lead + (w.shape[0],))
        else:
            out = xp.matmul(x, xp.matrix_transpose(w))
        if b:
            out += b[0]
        return out

    def backward(ctx, g):
        if g._data.ndim == 2 and eager_rule():
            return _linear_backward_arrays(ctx, g)
        if g._data.ndim == 2 and _graph.TRACER is not None and not grad_enabled():
            return _linear_backward_traced(ctx, g)
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad                # two or three entries: the bias is optional
        gx = None
        if need[0]:                    # g @ w as one product over rows (batch dims folded), no argument checks
            if g.ndim > 2:
                gx = apply(MatmulT, (g.reshape(-1, g.shape[-1]), w), False, False).reshape(x.shape)
            else:
                gx = apply(MatmulT, (g, w), False, False) if g.ndim == 2 else g @ w
        gw = None
        if need[1]:
            if x.ndim != 2:                # fold batch dims into rows (a vector is one row): one product
                x, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
            else:
                g2 = g
            gw = apply(MatmulT, (g2, x), True, False)
        if len(need) == 2:
            return gx, gw
        return gx, gw, (g if need[2] else None)   # the engine sums g down to b's shape


def _linear_backward_arrays(ctx, g):
    """Linear's rule on arrays (addmm's backward, as torch's kernels): g @ W, g^T @ x and the bias
    gradient summed over rows here rather than by the engine's unbroadcast. The same calls, in the
    same order, as the recorded rule's MatmulT and SumTo forwards, so the numbers are bitwise those
    of the composite (which runs under create_graph and while autograd.compile traces)."""
    nxt = ctx.next
    be = g._backend
    xp = be.xp
    gd = g._data
    gx = gw = gb = None
    quiet = be.enter_quiet()
    try:
        if nxt[0] is not None:
            gx = _wrap(xp.matmul(gd, saved_array(ctx, 1)), be)
        if nxt[1] is not None:
            gw = _wrap(xp.matmul(xp.matrix_transpose(gd), saved_array(ctx, 0)), be)
        if len(nxt) == 2:
            return gx, gw
        e = nxt[2]
        if e is not None:
            shape = e[0].out_meta[e[1]][0] if type(e) is tuple else e._data.shape
            if len(shape) == 1 and shape[0] == gd.shape[1]:
                gb = _wrap(xp.sum(gd, axis=(0,)), be)     # SumTo's forward for (n, out) -> (out,)
            else:
                gb = g                                     # the engine sums g down to b's shape
    finally:
        be.exit_quiet(quiet)
    return gx, gw, gb


def _linear_grads(be, gd, x, w, nx, nw, nb):
    """Linear's gradient arrays, as _linear_backward_arrays computes them: (g @ W if nx, g^T @ x if
    nw, g summed over rows if nb), the ones asked for, in that order."""
    xp = be.xp
    out = []
    quiet = be.enter_quiet()
    try:
        if nx:
            out.append(xp.matmul(gd, w))
        if nw:
            out.append(xp.matmul(xp.matrix_transpose(gd), x))
        if nb:
            out.append(xp.sum(gd, axis=(0,)))
    finally:
        be.exit_quiet(quiet)
    return tuple(out)


def _linear_backward_traced(ctx, g):
    """Linear's rule while autograd.compile traces: the eager rule's arrays as one recorded kernel
    (one replayed call, not two MatmulT and a SumTo op)."""
    nxt = ctx.next
    be = g._backend
    nx, nw = nxt[0] is not None, nxt[1] is not None
    nb = gb_self = False
    if len(nxt) == 3 and nxt[2] is not None:
        e = nxt[2]
        shape = e[0].out_meta[e[1]][0] if type(e) is tuple else e._data.shape
        nb = len(shape) == 1 and shape[0] == g._data.shape[1]
        gb_self = not nb                           # the engine sums g down to b's shape
    res = list(traced_kernel(_linear_grads)(be, g._data, saved_array(ctx, 0), saved_array(ctx, 1), nx, nw, nb))
    gx = _wrap(res.pop(0), be) if nx else None
    gw = _wrap(res.pop(0), be) if nw else None
    if len(nxt) == 2:
        return gx, gw
    return gx, gw, (_wrap(res.pop(0), be) if nb else g if gb_self else None)


def linear(x, w, b=None):
    """x @ w.T (+ b) in one op; b is cast to x's dtype (nn.functional.linear checks the rest)."""
    x, w = pair(x, w, "linear")
    if b is None:
        return apply(Linear, (x, w))
    return apply(Linear, (x, w, b if b._data.dtype == x._data.dtype else b.to(x.dtype)))


from .shape import broadcast_shapes  # noqa: E402 - Matmul's rule uses it
