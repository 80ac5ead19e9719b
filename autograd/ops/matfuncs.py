"""Matrix functions and the smaller torch.linalg composites: matrix_exp (a primitive with torch's
block-matrix gradient), diagonal, vander, tensorinv, tensorsolve and cond (composites of the
decompositions and solvers in decomp.py, so their gradients need no rule).
"""
from __future__ import annotations

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor
from ._core import apply
from ._registry import op
from .decomp import _same, check_float, check_matrix, linalg_inv, linalg_solve, linalg_svdvals


# --- matrix exponential ----------------------------------------------------------------------------------

def _expm_arr(xp, a, half):
    """exp(a) for (..., n, n) arrays: scaling and squaring, degree-18 Taylor on matrices scaled to a
    1-norm <= 1/2 (truncation error below 1e-24 relative), each matrix squared back as often as it
    was halved. float16 is computed in float32."""
    dt = a.dtype
    work = xp.astype(a, xp.float32) if half else a
    n = work.shape[-1]
    if work.size == 0:
        return xp.astype(work, dt)
    norm1 = xp.max(xp.sum(xp.abs(work), axis=-2), axis=-1)                 # (...)
    finite = xp.isfinite(norm1)
    safe = xp.where(finite, norm1, xp.zeros((), dtype=norm1.dtype))
    s = xp.ceil(xp.log2(xp.maximum(safe, xp.asarray(1e-300 if work.dtype == xp.float64 else 1e-30,
                                                          dtype=safe.dtype)) / 0.5))
    s = xp.maximum(s, xp.zeros((), dtype=s.dtype))
    x = work / xp.pow(xp.asarray(2.0, dtype=work.dtype), s)[..., None, None]
    eye = xp.eye(n, dtype=work.dtype)
    r = eye + x / 18.0
    for k in range(17, 0, -1):                       # Horner: I + x/1 (I + x/2 (I + ... ))
        r = eye + xp.matmul(x, r) / float(k)
    for i in range(int(xp.max(s)) if s.size else 0):   # square each matrix s_i times
        r = xp.where((s > i)[..., None, None], xp.matmul(r, r), r)
    r = xp.where(finite[..., None, None], r, xp.asarray(float("nan"), dtype=work.dtype))
    return xp.astype(r, dt)


@primitive(save=("a",))
class MatrixExp:
    def forward(B, a):
        return _expm_arr(B.xp, a, B.dtype_from_native(a.dtype) is _dt.float16)

    def backward(ctx, g):
        # torch's linalg_matrix_exp_differential: exp([[A^T, G], [0, A^T]]) holds the adjoint top right
        from .shape import cat
        a = ctx.a
        n = a.shape[-1]
        at = a.mT
        big = cat([cat([at, g], -1), cat([at * 0, at], -1)], -2)
        return apply(MatrixExp, (big,))[..., :n, n:]


def linalg_matrix_exp(A, name="linalg.matrix_exp"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {A.dtype.name}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    return apply(MatrixExp, (A,))


@op()
def matrix_exp(input):
    return linalg_matrix_exp(input, "linalg.matrix_exp")


# --- torch.linalg composites ---------------------------------------------------------------------------

def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal `offset` of the matrices on dims (dim1, dim2), as the last dim (a selection)."""
    from ..factories import arange
    from ._core import norm_dim
    name = "linalg.diagonal"
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    d1, d2 = norm_dim(dim1, A.ndim, name), norm_dim(dim2, A.ndim, name)
    if d1 == d2:
        raise RuntimeError(f"{name}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(A.ndim) if d not in (d1, d2)]
    x = A.permute(*rest, d1, d2)
    m, n = x.shape[-2], x.shape[-1]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    k = max(0, min(m - r0, n - c0))
    i = arange(k, device=A.device)
    return x[(Ellipsis, i + r0, i + c0)]


def linalg_vander(x, *, N=None):
    """x[..., i] ** j for j < N (default: x's last size): columns of increasing powers."""
    from .shape import cat
    name = "linalg.vander"
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.dtype is _dt.bool_:
        raise RuntimeError(f"{name} supports floating point, complex, and integer tensors, but got Bool")
    if x.ndim < 1:
        raise RuntimeError(f"{name}: x must have at least one dimension (got a 0-d tensor)")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError(f"{name}: N must be greater than 1 (got {n}).")
    col = x.unsqueeze(-1)
    cols = [col * 0 + 1]
    for _ in range(1, n):                   # cumulative products, one column per power (torch's cumprod)
        cols.append(cols[-1] * col)
    return cat(cols, -1)


def linalg_tensorinv(A, ind=2):
    """The inverse of A seen as a matrix of shape (prod(A.shape[:ind]), prod(A.shape[ind:]))."""
    import math
    name = "linalg.tensorinv"
    check_float(A, name)
    if ind <= 0:
        raise RuntimeError(f"{name}: Expected a strictly positive integer for 'ind', but got {ind}")
    left, right = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(left) != math.prod(right):
        raise RuntimeError(f"{name}: Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(right)} != {math.prod(left)}")
    n = math.prod(left)
    return linalg_inv(A.reshape(n, n), name).reshape(right + left)


def linalg_tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A reshaped to (B.numel(), X.numel()), one solve."""
    import math
    name = "linalg.tensorsolve"
    check_float(A, name)
    check_float(B, name, "B")
    _same(name, A, B)
    if dims is not None:
        from ._core import norm_dim
        nd = A.ndim
        ds = [norm_dim(d, nd, name) for d in dims]
        A = A.permute(*[d for d in range(nd) if d not in ds], *ds)
    bs = tuple(B.shape)
    xs = tuple(A.shape[B.ndim:])
    if tuple(A.shape[:B.ndim]) != bs or math.prod(xs) != math.prod(bs):
        raise RuntimeError(f"{name}: Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {math.prod(xs)} != {math.prod(bs)}")
    n = math.prod(bs)
    return linalg_solve(A.reshape(n, n), B.reshape(n), name=name).reshape(xs)


def linalg_cond(A, p=None):
    """The condition number: s_max / s_min for p in (None, 2), s_min / s_max for -2 (singular values),
    else norm(A, p) * norm(A^-1, p) (square A; inf where A is singular, as torch)."""
    from .matnorm import matrix_norm
    name = "linalg.cond"
    check_matrix(A, name)
    if p is None or p in (2, -2):
        S = linalg_svdvals(A)
        if S.shape[-1] == 0:
            return S.sum(-1)
        return S.amax(-1) / S.amin(-1) if p != -2 else S.amin(-1) / S.amax(-1)
    check_matrix(A, name, square=True)
    if p not in ("fro", "nuc", 1, -1, float("inf"), float("-inf")):
        raise RuntimeError(f"{name} got an invalid norm type: {p}")
    try:
        inv_a = linalg_inv(A, name)
    except RuntimeError:
        from ..factories import full
        return full(tuple(A.shape[:-2]), float("inf"), dtype=A.dtype, device=A.device)
    return matrix_norm(A, p) * matrix_norm(inv_a, p)
