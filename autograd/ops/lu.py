"""LU with partial pivoting: torch.linalg's lu_factor, lu_factor_ex, lu and lu_solve.

The array API has no LU, so the factorization is computed here on backend arrays: LAPACK's getf2
(the pivot is the first entry of largest magnitude in the column; a zero pivot is recorded in
`info` and its column left unscaled), one column per step, each step vectorized over the batch.
The packed factor is recorded as one node whose rule is torch's linalg_lu_backward (square, wide
and tall cases); `lu` unpacks it and `lu_solve` is two triangular solves on it, so their gradients
come through those composites.
"""
from __future__ import annotations

from collections import namedtuple

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply
from .decomp import SolveTriangular, check_matrix, eye_like, tril, triu
from .linalg import matmul


def _getf2(B, a):
    """(LU, pivots (1-based, int32), info (int32)) of a (..., m, n) array."""
    xp = B.xp
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    batch = a.shape[:-2]
    i32 = B.native_dtype(_dt.int32)
    rows = xp.arange(m)
    zero = xp.zeros((), dtype=a.dtype)
    pivots, info = [], xp.zeros(batch, dtype=i32)
    for j in range(k):
        col = xp.abs(a[..., j:, j])
        p = xp.argmax(col, axis=-1) + j                                     # (batch...)
        pivots.append(xp.astype(p + 1, i32))
        at_p = (rows == p[..., None])[..., None]                            # (batch..., m, 1)
        at_j = (rows == j)[:, None]
        row_p = xp.sum(xp.where(at_p, a, zero), axis=-2, keepdims=True)     # exact: one term is nonzero
        row_j = a[..., j:j + 1, :]
        a = xp.where(at_j, row_p, xp.where(at_p, row_j, a))                 # swap rows j and p
        piv = a[..., j:j + 1, j:j + 1]
        singular = piv == 0
        info = xp.where((info == 0) & singular[..., 0, 0], xp.asarray(j + 1, dtype=i32), info)
        below = a[..., j + 1:, j:j + 1]
        l = xp.where(singular, zero, below / xp.where(singular, xp.ones((), dtype=a.dtype), piv))
        trail = a[..., j + 1:, j + 1:] - l * a[..., j:j + 1, j + 1:]
        bottom = xp.concat([a[..., j + 1:, :j], l, trail], axis=-1)
        a = xp.concat([a[..., :j + 1, :], bottom], axis=-2)
    piv = xp.stack(pivots, axis=-1) if pivots else xp.zeros(batch + (0,), dtype=i32)
    return a, piv, info


def _perm_matrix(B, pivots, m, dtype):
    """P with A = P L U, from LAPACK's sequential row swaps (pivots 1-based)."""
    xp = B.xp
    batch = pivots.shape[:-1]
    perm = xp.broadcast_to(xp.arange(m), batch + (m,))
    for j in range(pivots.shape[-1]):             # apply swap (j, p_j) to the running permutation
        p = xp.astype(pivots[..., j:j + 1], perm.dtype) - 1
        pj = perm[..., j:j + 1]
        pp = xp.sum(xp.where(xp.arange(m) == p, perm, xp.zeros((), dtype=perm.dtype)), axis=-1, keepdims=True)
        perm = xp.where(xp.arange(m) == j, pp, xp.where(xp.arange(m) == p, pj, perm))
    # row i of P^T A is row perm[i] of A: P[perm[i], i] = 1
    return xp.astype(xp.arange(m)[:, None] == perm[..., None, :], dtype)


@primitive(save=("a", "out"))
class LuPacked:
    """The packed factor (L below the diagonal, U on and above), computed by the caller (`value`)
    with its permutation matrix `P`; the rule is torch's lu_factor_ex_backward."""
    def forward(B, a, value, P):
        return value

    def backward(ctx, g):
        a, lu = ctx.saved_tensors
        P = _wrap(ctx.P, a._backend)
        L, U = _unpack(lu)
        return lu_backward(tril(g, -1)[..., :, :L.shape[-1]], triu(g)[..., :U.shape[-2], :], P, L, U)


def _unpack(lu):
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    L = tril(lu[..., :, :k], -1) + eye_like(lu, m, k)
    U = triu(lu[..., :k, :])
    return L, U


def _square_backward(gL, gU, L, U):
    """P^T-side gradient of A = L U (square, L unit lower): L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T."""
    inner = tril(matmul(L.mT, gL), -1) + triu(matmul(gU, U.mT))
    x = apply(SolveTriangular, (U, inner.mT), True, True, False).mT                   # inner U^-T
    return apply(SolveTriangular, (L.mT, x), True, True, True)                         # L^-T x


def lu_backward(gL, gU, P, L, U):
    """torch's linalg_lu_backward: the gradient of A = P L U, for square, wide (m < n) and tall
    (m > n) A."""
    from .shape import cat
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        gA = _square_backward(gL, gU, L, U)
    elif m < n:                 # U = [U1 U2]: A2 = P L U2 gives U2 = L^-1 P^T A2
        U1, U2 = U[..., :, :k], U[..., :, k:]
        gU1, gU2 = gU[..., :, :k], gU[..., :, k:]
        gA2 = apply(SolveTriangular, (L.mT, gU2), True, True, True)                   # L^-T gU2
        gL = gL - matmul(gA2, U2.mT)
        gA = cat([_square_backward(gL, gU1, L, U1), gA2], -1)
    else:                       # L = [L1; L2]: A2 = P L2 U gives L2 = (P^T A)_2 U^-1
        L1, L2 = L[..., :k, :], L[..., k:, :]
        gL1, gL2 = gL[..., :k, :], gL[..., k:, :]
        gA2 = apply(SolveTriangular, (U, gL2.mT), True, True, False).mT                # gL2 U^-T
        gU = gU - matmul(L2.mT, gA2)
        gA = cat([_square_backward(gL1, gU, L1, U), gA2], -2)
    return matmul(P, gA)


lu_factor_result = namedtuple("lu_factor", ["LU", "pivots"])
lu_factor_ex_result = namedtuple("lu_factor_ex", ["LU", "pivots", "info"])
lu_result = namedtuple("lu", ["P", "L", "U"])


def linalg_lu_factor_ex(A, *, pivot=True, check_errors=False, name="linalg.lu_factor_ex"):
    check_matrix(A, name)
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")
    B = A._backend
    q = B.enter_quiet()
    try:
        lu, piv, info = _getf2(B, A._data)
        P = _perm_matrix(B, piv, A.shape[-2], A._data.dtype)
    finally:
        B.exit_quiet(q)
    if check_errors and bool(B.xp.any(info > 0)):
        i = int(B.xp.max(info))                # torch names a zero pivot, 1-based
        raise RuntimeError(f"torch.{name}: U[{i},{i}] is zero and using it on lu_solve would result in a "
                           f"division by zero. If you still want to perform the factorization, consider "
                           f"calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    LU = apply(LuPacked, (A,), lu, P)
    return lu_factor_ex_result(LU, _wrap(piv, B), _wrap(B.asarray(info), B))


def linalg_lu_factor(A, *, pivot=True):
    LU, piv, _ = linalg_lu_factor_ex(A, pivot=pivot, check_errors=True, name="linalg.lu_factor")
    return lu_factor_result(LU, piv)


def linalg_lu(A, *, pivot=True):
    name = "linalg.lu"
    LU, piv, _ = linalg_lu_factor_ex(A, pivot=pivot, name=name)
    B = A._backend
    P = _wrap(_perm_matrix(B, piv._data, A.shape[-2], A._data.dtype), B)
    L, U = _unpack(LU)
    return lu_result(P, L, U)


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (left) or X A = B, A^T in place of A with adjoint, A = P L U from lu_factor."""
    name = "linalg.lu_solve"
    check_matrix(LU, name, "LU", square=True)
    check_matrix(B, name, "B")
    if not isinstance(pivots, Tensor) or pivots.dtype is not _dt.int32:
        raise RuntimeError(f"{name}: pivots must be an int32 tensor (from linalg.lu_factor)")
    if LU.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected LU and B to have the same dtype, but got {LU.dtype.name} and "
                           f"{B.dtype.name}")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    be = LU._backend
    P = _wrap(_perm_matrix(be, pivots._data, n, LU._data.dtype), be)
    L, U = _unpack(LU)
    from .decomp import linalg_solve_triangular as tri
    if not left:              # X A = B  <=>  A^T X^T = B^T
        return linalg_lu_solve(LU, pivots, B.mT, left=True, adjoint=not adjoint).mT
    if not adjoint:           # A = P L U: X = U^-1 L^-1 P^T B
        y = tri(L, matmul(P.mT, B), upper=False, unitriangular=True)
        return tri(U, y, upper=True)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B
    y = tri(U.mT, B, upper=False)
    return matmul(P, tri(L.mT, y, upper=True, unitriangular=True))


inv_ex_result = namedtuple("inv_ex", ["inverse", "info"])
solve_ex_result = namedtuple("solve_ex", ["result", "info"])


def _info(A, name):
    """LAPACK's getrf info for each matrix of A (0: invertible; i: U[i, i] is zero, 1-based)."""
    B = A._backend
    q = B.enter_quiet()
    try:
        return _getf2(B, A._data)[2]
    finally:
        B.exit_quiet(q)


def linalg_inv_ex(A, *, check_errors=False):
    """(inverse, info): a singular matrix gives info > 0 and the inf/nan of solving with its LU
    factors, as torch (whose inverse is a solve against the identity)."""
    from .decomp import linalg_inv
    name = "linalg.inv_ex"
    check_matrix(A, name, square=True)
    info = _info(A, name)
    B = A._backend
    if not bool(B.xp.any(info > 0)):
        return inv_ex_result(linalg_inv(A, name), _wrap(B.asarray(info), B))
    if check_errors:
        i = int(B.xp.max(info))
        raise RuntimeError(f"{name}: The diagonal element {i} is zero, the inversion could not be completed "
                           f"because the input matrix is singular.")
    LU, piv, _ = linalg_lu_factor_ex(A, name=name)
    eye = eye_like(A).broadcast_to(tuple(A.shape))
    return inv_ex_result(linalg_lu_solve(LU, piv, eye), _wrap(B.asarray(info), B))


def linalg_solve_ex(A, Bt, *, left=True, check_errors=False):
    """(result, info), as inv_ex (the right-hand side by linalg.solve's rules)."""
    from .decomp import _is_vector_rhs, check_float, linalg_solve
    name = "linalg.solve_ex"
    check_matrix(A, name, square=True)
    check_float(Bt, name, "B")
    info = _info(A, name)
    be = A._backend
    if not bool(be.xp.any(info > 0)):
        return solve_ex_result(linalg_solve(A, Bt, left=left, name=name), _wrap(be.asarray(info), be))
    if check_errors:
        raise RuntimeError(f"torch.{name}: The solver failed because the input matrix is singular.")
    vec = _is_vector_rhs(A, Bt)
    if vec and not left:
        linalg_solve(A, Bt, left=False, name=name)     # raises torch's error for a vector with XA = B
    X = linalg_lu_solve(*linalg_lu_factor_ex(A, name=name)[:2], Bt.unsqueeze(-1) if vec else Bt, left=left)
    return solve_ex_result(X.squeeze(-1) if vec else X, _wrap(be.asarray(info), be))
