"""`autograd.special`: PyTorch's `torch.special`, the special functions by their torch.special names.

Most are the elementwise ops of `autograd` under another name (expit is sigmoid, gammaln is lgamma,
psi is digamma, gammainc is igamma); the ones torch has only here (erfcx, ndtr, ndtri, log_ndtr,
i0e, i1, i1e, entr, xlog1py, zeta, the Bessel and Airy functions, the orthogonal polynomials) are
computed in autograd/ops/special_fns.py: every function of torch.special is here.
"""
from __future__ import annotations

from .ops import arith as _arith, reduce as _reduce, special_fns as _sf, unary as _unary
from .ops._core import apply as _apply, floating as _floating
from .tensor import Tensor as _Tensor

_POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
                "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
                "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
                "shifted_chebyshev_polynomial_w"]
__all__ = _POLYNOMIALS + ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]

erf = _unary.erf
erfc = _sf.erfc
erfcx = _sf.erfcx
erfinv = _sf.erfinv
expit = _unary.sigmoid
exp2 = _unary.exp2
expm1 = _unary.expm1
log1p = _unary.log1p
logit = _unary.logit
sinc = _unary.sinc
xlogy = _arith.xlogy
gammaln = _sf.lgamma
digamma = psi = _sf.digamma
ndtr = _sf.ndtr
ndtri = _sf.ndtri
log_ndtr = _sf.log_ndtr
i0 = _sf.i0
i0e = _sf.i0e
i1 = _sf.i1
i1e = _sf.i1e
entr = _sf.entr
zeta = _sf.zeta
gammainc = _sf.igamma
modified_bessel_i0 = _sf.modified_bessel_i0
modified_bessel_i1 = _sf.modified_bessel_i1
spherical_bessel_j0 = _sf.spherical_bessel_j0
bessel_j0, bessel_j1, bessel_y0, bessel_y1 = _sf.bessel_j0, _sf.bessel_j1, _sf.bessel_y0, _sf.bessel_y1
modified_bessel_k0, modified_bessel_k1 = _sf.modified_bessel_k0, _sf.modified_bessel_k1
scaled_modified_bessel_k0, scaled_modified_bessel_k1 = _sf.scaled_modified_bessel_k0, _sf.scaled_modified_bessel_k1
chebyshev_polynomial_t, chebyshev_polynomial_u = _sf.chebyshev_polynomial_t, _sf.chebyshev_polynomial_u
chebyshev_polynomial_v, chebyshev_polynomial_w = _sf.chebyshev_polynomial_v, _sf.chebyshev_polynomial_w
shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u = _sf.shifted_chebyshev_polynomial_t, _sf.shifted_chebyshev_polynomial_u
shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w = _sf.shifted_chebyshev_polynomial_v, _sf.shifted_chebyshev_polynomial_w
hermite_polynomial_h, hermite_polynomial_he = _sf.hermite_polynomial_h, _sf.hermite_polynomial_he
laguerre_polynomial_l, legendre_polynomial_p = _sf.laguerre_polynomial_l, _sf.legendre_polynomial_p
airy_ai = _sf.airy_ai
gammaincc = _sf.igammac


def polygamma(n, input):
    return _sf.polygamma(n, input)


def multigammaln(input, p):
    return _sf.mvlgamma(input, p)


def round(input, *, decimals=0):                 # noqa: A001 - torch.special's name
    return _unary.round(input, decimals=decimals)


def xlog1py(input, other):
    """x * log1p(y), 0 where x == 0 unless y is nan (torch.special.xlog1py)."""
    if not isinstance(input, _Tensor) and not isinstance(other, _Tensor):
        raise TypeError(f"xlog1py(): expected a Tensor argument, got {type(input).__name__} and {type(other).__name__}")
    return _apply(_arith.Xlogy, _arith._float_pair(input, other, "xlog1py"), True)


def logsumexp(input, dim, keepdim=False):
    return _reduce.logsumexp(input, dim, keepdim)


def softmax(input, dim, *, dtype=None):
    return _reduce.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim, *, dtype=None):
    return _reduce.log_softmax(input if dtype is None else input.to(dtype), dim)


del _floating
