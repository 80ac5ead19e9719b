"""Linear algebra: matmul (with mm and bmm) and the fused transposed product its gradient uses."""
from __future__ import annotations

from ..graph import primitive
from ._core import apply, pair
from ._registry import op


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


@op(aliases=("mm", "bmm"))
def matmul(input, other):
    a, b = pair(input, other, "matmul")
    return apply(Matmul, (a, b))


from .shape import broadcast_shapes  # noqa: E402 - Matmul's rule uses it
