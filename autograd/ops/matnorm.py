"""torch.linalg's norms: vector_norm, matrix_norm and norm, as composites.

vector_norm is the reduce family's norm (its rules at 0 and at ties are torch's); matrix_norm's
'fro' is a vector 2-norm over two dims, ±1 and ±inf are sums of |A| reduced by amax/amin (torch
composes them the same way, so ties share the gradient as in torch), and 'nuc' and ±2 reduce the
singular values, whose gradient is torch's svd_backward with only gS (U diag(gS) V^T).
"""
from __future__ import annotations

import math
import numbers

from backends import dtypes as _dt
from ..tensor import Tensor
from ._core import norm_dim


def _input(A, name, dtype):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(A).__name__}")
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(f"{name}: dtype should be floating point or complex, but got {dtype.name}")
        if not A.dtype.is_floating_point:
            raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {A.dtype.name}")
        if A.dtype is not dtype:
            if _dt.promote_types(A.dtype, dtype) is not dtype:
                raise RuntimeError(f"{name}: dtype should be at least as precise as the input's ({A.dtype.name}), "
                                   f"got {dtype.name}")
            A = A.to(dtype)
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {A.dtype.name}")
    return A


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    from .reduce import norm
    name = "linalg.vector_norm"
    x = _input(x, name, dtype)
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise RuntimeError(f"{name}: ord must be a number, got {ord!r}")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if dim == ():
            dim = None
    if x.numel() == 0 and ord < 0 or x.numel() == 0 and math.isinf(ord) and ord > 0:
        dims = range(x.ndim) if dim is None else [norm_dim(d, x.ndim, name) for d in dim]
        if dim is None or any(x.shape[d] == 0 for d in dims):
            raise RuntimeError(f"{name} cannot compute the {ord} norm on an empty tensor because the operation "
                               f"does not have an identity")
    return norm(x, float(ord), dim, keepdim)


def _two_dims(A, dim, name):
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (norm_dim(d, A.ndim, name) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    name = "linalg.matrix_norm"
    A = _input(A, name, dtype)
    d0, d1 = _two_dims(A, dim, name)
    if ord in ("fro", "nuc"):
        pass
    elif isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, numbers.Real) \
            or ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from .decomp import check_float, linalg_svdvals
        check_float(A, name)
        rest = [d for d in range(A.ndim) if d not in (d0, d1)]
        S = linalg_svdvals(A.permute(*rest, d0, d1))
        r = S.sum(-1) if ord == "nuc" else _extreme(S, -1, ord > 0, False, name, ord)
    else:
        sum_dim, max_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
        s = A.abs().sum(sum_dim, keepdim=True)
        r = _extreme(s, max_dim, ord > 0, True, name, ord)
        r = r.squeeze((d0, d1)) if not keepdim else r
        return r
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def _extreme(s, dim, is_max, keepdim, name, ord):
    """amax (amin) over dim; torch's max over an empty dim is 0, its min raises."""
    if s.shape[dim] == 0:
        if not is_max:
            raise RuntimeError(f"{name}: Expected reduction dim {dim} to have non-zero size for ord={ord}")
        return s.sum(dim, keepdim=keepdim)
    return s.amax(dim, keepdim=keepdim) if is_max else s.amin(dim, keepdim=keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    name = "linalg.norm"
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(A).__name__}")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"{name}: Expected a real ord for a vector norm, got {ord!r}")
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        raise RuntimeError(f"{name}: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim not in (1, 2):
        raise RuntimeError(f"{name}: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    if A.ndim == 1:
        if isinstance(ord, str):
            raise RuntimeError(f"{name}: Expected a real ord for a vector norm, got {ord!r}")
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
