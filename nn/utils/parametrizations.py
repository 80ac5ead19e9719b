"""Ready-made parametrizations (PyTorch's `torch.nn.utils.parametrizations`): weight_norm,
spectral_norm and orthogonal, each registered through `parametrize.register_parametrization`, with
torch's state_dict keys (`parametrizations.weight.original0/1` for weight_norm, `original` plus the
`0._u`/`0._v` power-iteration buffers for spectral_norm, `original` plus `0.base` for orthogonal).

All three are compositions of differentiable tensor ops (norms, matmuls; orthogonal's matrix
exponential by scaling and squaring, its Householder product one reflector per column), so
gradients reach the originals and second order works.
"""
from __future__ import annotations

import math
from enum import Enum, auto

import autograd as _ag
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor, _wrap

from .. import functional as F
from ..module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _norm_except_dim(v, pow, dim):
    """torch.norm_except_dim: the p-norm over every dim but `dim` (kept, size 1 elsewhere); dim=-1: all."""
    if dim == -1:
        return _ag.norm(v, pow)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return _ag.norm(v, pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v, g, dim):
    return v * (g / _norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """weight = g * v / ||v|| (norm over every dim but `dim`), with g = original0 and v = original1."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                             f"{n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = _ag.randn(h, dtype=weight.dtype, device=weight.device)
            v = _ag.randn(w, dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        """Refine the singular vectors in place (the buffers), without recording."""
        with no_grad():
            w = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(w @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(w.mT @ self._u, dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def _is_conv_transpose(module):
    from ..conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    return isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """weight / sigma, sigma the largest singular value estimated by power iteration (one step per
    training forward; the vectors are buffers `_u`, `_v`)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _eye_like(x, n, k):
    be = x._backend
    return _wrap(be.xp.eye(n, k, dtype=x._data.dtype), be)


def _tril(x, diagonal=0):
    be = x._backend
    xp = be.xp
    n, k = x.shape[-2], x.shape[-1]
    rows = xp.reshape(xp.arange(n), (n, 1))
    cols = xp.reshape(xp.arange(k), (1, k))
    return x * _wrap(xp.astype(cols - rows <= diagonal, x._data.dtype), be)


def _matrix_exp(a):
    """exp(A) by scaling and squaring with a degree-18 Taylor polynomial (differentiable matmuls)."""
    with no_grad():
        norm = float(a.detach().abs().sum(-2).max()) if a.numel() else 0.0
    s = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    x = a / (2.0 ** s)
    eye = _eye_like(a, a.shape[-1], a.shape[-1])
    out = eye
    for j in range(18, 0, -1):                          # Horner: I + X/1 (I + X/2 (I + ...))
        out = eye + (x @ out) / j
    for _ in range(s):
        out = out @ out
    return out


def _householder_product(a, tau):
    """Q = H_1 ... H_k (first k columns), H_i = I - tau_i v_i v_i^T, v_i = e_i + a[i+1:, i]
    (torch.linalg.householder_product); one reflector per column."""
    n, k = a.shape[-2], a.shape[-1]
    eye = _eye_like(a, n, n)
    low = _tril(a, -1)
    q = eye
    for i in range(k):
        v = (low[..., :, i] + eye[:, i]).unsqueeze(-1)                   # (n, 1)
        q = q - (q @ v) @ (v.mT * tau[..., i:i + 1].unsqueeze(-1))
    return q[..., :, :k]


def _make_orthogonal(a):
    """The Q of A = QR with R's diagonal made positive (torch's _make_orthogonal), no grad."""
    be = a._backend
    xp = be.xp
    q, r = xp.linalg.qr(a._data)
    d = xp.sign(xp.linalg.diagonal(r) if hasattr(xp.linalg, "diagonal") else xp.diagonal(r, axis1=-2, axis2=-1))
    d = xp.where(d == 0, xp.ones_like(d), d)
    return _wrap(q * xp.reshape(d, d.shape[:-1] + (1,) + d.shape[-1:]), be)


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = _tril(X)
            if n != k:
                X = _ag.cat([X, _ag.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype, device=X.device)], dim=-1)
            A = X - X.mT
            if self.orthogonal_map is _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:
                raise NotImplementedError("orthogonal: the 'cayley' map needs linalg.solve, which tapegrad lacks")
            if n != k:
                Q = Q[..., :k]
        else:
            A = _tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            be = X._backend
            xp = be.xp
            diag = xp.astype(xp.astype(xp.linalg.diagonal(X._data) if hasattr(xp.linalg, "diagonal") else
                                       xp.diagonal(X._data, axis1=-2, axis2=-1), be.native_dtype(_ag.int32)),
                             X._data.dtype)
            Q = Q * _wrap(xp.reshape(diag, diag.shape[:-1] + (1,) + diag.shape[-1:]), be)
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                                 f"shape {tuple(Q.shape)}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            if n < k:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                raise NotImplementedError("orthogonal: assigning with use_trivialization=False is not supported")
            if n != k:
                N = _ag.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
                Q = _ag.cat([Q, N], dim=-1)
            Q = _make_orthogonal(Q)
            self.base = Q
            neg_id = _eye_like(Q_init, Q_init.shape[-2], Q_init.shape[-1]) * -1.0
            return neg_id.expand(*Q_init.shape).clone()


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain module.<name> to be orthogonal (or its transpose, for a wide matrix)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
