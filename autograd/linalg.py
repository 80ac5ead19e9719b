"""`autograd.linalg` (PyTorch's `torch.linalg`): norms, inverses, decompositions and solvers, batched,
with torch's gradient formulas. The op code lives in autograd/ops (decomp.py: solvers and
decompositions; matfuncs.py: matrix_exp, cond, diagonal, vander, tensorinv, tensorsolve; matnorm.py:
norms; products.py: cross, multi_dot, matrix_power); this module
gives them torch.linalg's names and signatures. docs/api/linalg.md says where gradients are
undefined and what differs from torch."""
from __future__ import annotations

from .ops import decomp as _d
from .ops import lu as _lu
from .ops import matfuncs as _f
from .ops import products as _p
from .ops.linalg import matmul as _matmul
from .ops.matnorm import matrix_norm, norm, vector_norm  # noqa: F401

__all__ = ["cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
           "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]


def inv(A):
    return _d.linalg_inv(A)


def det(A):
    return _d.linalg_det(A)


def slogdet(A):
    return _d.linalg_slogdet(A)


def solve(A, B, *, left=True):
    return _d.linalg_solve(A, B, left=left)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    return _d.linalg_solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular)


def cholesky(A, *, upper=False):
    return _d.linalg_cholesky(A, upper=upper)


def qr(A, mode="reduced"):
    return _d.linalg_qr(A, mode)


def svd(A, full_matrices=True, *, driver=None):
    return _d.linalg_svd(A, full_matrices, driver=driver)


def svdvals(A, *, driver=None):
    return _d.linalg_svdvals(A, driver=driver)


def eigh(A, UPLO="L"):
    return _d.linalg_eigh(A, UPLO)


def eigvalsh(A, UPLO="L"):
    return _d.linalg_eigvalsh(A, UPLO)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    return _d.linalg_pinv(A, atol=atol, rtol=rtol, hermitian=hermitian)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    return _d.linalg_matrix_rank(A, atol=atol, rtol=rtol, hermitian=hermitian)


def lstsq(A, B, rcond=None, *, driver=None):
    return _d.linalg_lstsq(A, B, rcond, driver=driver)


def cross(input, other, *, dim=-1):
    return _p.linalg_cross(input, other, dim=dim)


def multi_dot(tensors, *, out=None):
    return _p.multi_dot(tensors, out=out)


def matrix_power(A, n):
    return _p._matrix_power(A, n, "linalg.matrix_power")


def matmul(input, other):
    return _matmul(input, other)


def vecdot(x, y, *, dim=-1):
    """sum(x * y, dim), x and y broadcast (real dtypes: no conjugation)."""
    return (x * y).sum(dim)



def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return _f.linalg_diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


def vander(x, *, N=None):
    return _f.linalg_vander(x, N=N)


def tensorinv(A, ind=2):
    return _f.linalg_tensorinv(A, ind)


def tensorsolve(A, B, dims=None):
    return _f.linalg_tensorsolve(A, B, dims)


def cond(A, p=None):
    return _f.linalg_cond(A, p)


def matrix_exp(A):
    return _f.linalg_matrix_exp(A)


def lu_factor(A, *, pivot=True):
    return _lu.linalg_lu_factor(A, pivot=pivot)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    return _lu.linalg_lu_factor_ex(A, pivot=pivot, check_errors=check_errors)


def lu(A, *, pivot=True):
    return _lu.linalg_lu(A, pivot=pivot)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    return _lu.linalg_lu_solve(LU, pivots, B, left=left, adjoint=adjoint)


def inv_ex(A, *, check_errors=False):
    return _lu.linalg_inv_ex(A, check_errors=check_errors)


def solve_ex(A, B, *, left=True, check_errors=False):
    return _lu.linalg_solve_ex(A, B, left=left, check_errors=check_errors)


def cholesky_ex(A, *, upper=False, check_errors=False):
    return _d.linalg_cholesky_ex(A, upper=upper, check_errors=check_errors)
