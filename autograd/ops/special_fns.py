"""Special functions: lgamma, digamma, polygamma, erfinv, erfc, i0 and torch.special's relatives.

NumPy has no vectorized lgamma, digamma, erfinv or Bessel functions, and SciPy is not a dependency,
so each is computed here on backend arrays through the array-API namespace (`B.xp`): rational and
Chebyshev approximations, recurrences run as a fixed, small number of masked steps (a loop over
steps, never over elements), and the same special cases PyTorch 2.13 returns (lgamma(0) = inf,
digamma(+-0) = -+inf, digamma at negative integers nan, ...). float16 and float32 inputs are
computed in float64 and rounded once, except digamma and trigamma, which follow torch's float
kernels in float32 (their values near the roots and poles are those of the formula, as torch's).

The coefficients of erf/erfc, ndtri and the Bessel functions i0/i1 are those of the Cephes Math
Library (Stephen L. Moshier, BSD licence), which PyTorch uses too; lgamma is Stirling's series after
an upward recurrence, digamma and the Hurwitz zeta function (for polygamma) follow Cephes' psi and
zeta algorithms, erfinv is the rational start plus two Newton steps that torch uses.
Each rule is written in differentiable ops (d lgamma = digamma, d digamma = polygamma(1), ...), so
gradients of any order work.
"""
from __future__ import annotations

import math

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply, floating, nondiff
from ._registry import op
from .arith import _float_pair
from .unary import exp, log, sign, where

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_MACHEP = 1.11022302462515654042e-16


# --- evaluation helpers (arrays in, arrays out) ----------------------------------------------------

def _polevl(x, coeffs):
    """c0 x^n + c1 x^(n-1) + ... + cn (Horner; highest power first)."""
    r = x * 0 + coeffs[0]
    for c in coeffs[1:]:
        r = r * x + c
    return r


def _p1evl(x, coeffs):
    """The same with an implicit leading coefficient 1."""
    r = x + coeffs[0]
    for c in coeffs[1:]:
        r = r * x + c
    return r


def _chbevl(x, coeffs):
    """Chebyshev series sum' c_i T_i(x/2) by Clenshaw's recurrence (coefficients highest order first)."""
    b0 = x * 0 + coeffs[0]
    b1 = b2 = x * 0
    for c in coeffs[1:]:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _via64(B, x, f):
    """f(xp, x) computed in float64 and rounded once to x's dtype."""
    xp = B.xp
    f64 = B.native_dtype(_dt.float64)
    if x.dtype == f64:
        return f(xp, x)
    return xp.astype(f(xp, xp.astype(x, f64)), x.dtype)


def _c(xp, v, like):
    return xp.asarray(v, dtype=like.dtype)


# --- erf, erfc, erfcx ------------------------------------------------------------------------------

_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _erf_small(xp, x):
    """erf(x) for |x| < 1 (elsewhere garbage, masked by the caller)."""
    z = x * x
    return x * _polevl(z, _ERF_T) / _p1evl(z, _ERF_U)


def _erfcx_ge1(xp, a):
    """exp(a^2) erfc(a) for a >= 1 (other values: garbage). Cephes' erfc is exp(-a^2) times this
    ratio, so the scaled function needs no exponential at all."""
    huge = a > 1e8                                   # the polynomials would overflow: 1 / (a sqrt(pi))
    s = xp.where(huge, _c(xp, 8.0, a), a)
    big = s >= 8
    p = xp.where(big, _polevl(s, _ERFC_R), _polevl(s, _ERFC_P))
    q = xp.where(big, _p1evl(s, _ERFC_S), _p1evl(s, _ERFC_Q))
    return xp.where(huge, 1 / (a * _SQRT_PI), p / q)


def _exp_sq(xp, a, negative):
    """exp(-a^2) (or exp(a^2)) for a >= 0 without the error of rounding a^2: a = m + f with m a
    multiple of 1/16 (m^2 exact), exp(+-m^2) exp(+-(2m + f) f)."""
    m = xp.floor(a * 16) / 16
    f = a - m
    e = -1.0 if negative else 1.0
    return xp.exp(e * (m * m)) * xp.exp(e * ((2 * m + f) * f))


def _erfc(xp, x):
    a = xp.abs(x)
    small = a < 1
    al = xp.where(small | (a > 30), _c(xp, 1.0, a), a)     # erfc(30) is 0 in float64
    pos = _exp_sq(xp, al, True) * _erfcx_ge1(xp, al)
    pos = xp.where(a > 30, _c(xp, 0.0, a), pos)
    large = xp.where(x < 0, 2 - pos, pos)
    return xp.where(small, 1 - _erf_small(xp, xp.where(small, x, _c(xp, 0.0, x))), large)


def _erfcx(xp, x):
    a = xp.abs(x)
    ge1 = x >= 1
    pos = _erfcx_ge1(xp, xp.where(ge1, x, _c(xp, 1.0, x)))
    lt = xp.where(ge1, _c(xp, 0.0, x), x)
    # x < 1: exp(x^2) erfc(x), exp(x^2) taken without rounding x^2 (inf below about -26.6, as torch)
    rest = _exp_sq(xp, xp.where(a > 27, _c(xp, 27.0, a), xp.abs(lt)), False) * _erfc(xp, lt)
    rest = xp.where(lt < -27, _c(xp, math.inf, x), rest)
    return xp.where(ge1, pos, rest)


@primitive(save=("x",))
class Erfc:
    def forward(B, x): return _via64(B, x, _erfc)
    def backward(ctx, g): return g * (-2 / _SQRT_PI * exp(-(ctx.x * ctx.x)))


@primitive(save=("x", "out"))
class Erfcx:
    def forward(B, x): return _via64(B, x, _erfcx)
    def backward(ctx, g): return g * (2.0 * ctx.x * ctx.out - 2.0 / _SQRT_PI)


@op(inplace=True)
def erfc(input):
    """1 - erf(input), accurate in the right tail (erfc(10) = 2.1e-45, not 0)."""
    return apply(Erfc, (floating(input),))


def erfcx(input):
    """exp(x^2) erfc(x) (torch.special.erfcx)."""
    return apply(Erfcx, (floating(input),))


# --- the normal distribution: ndtr, log_ndtr, ndtri ------------------------------------------------

def _erf(xp, x):
    small = xp.abs(x) < 1
    big = 1 - _erfc(xp, xp.abs(x))
    return xp.where(small, _erf_small(xp, xp.where(small, x, _c(xp, 0.0, x))), xp.where(x < 0, -big, big))


def _ndtr(xp, x):
    # torch's formula, (1 + erf(x / sqrt(2))) / 2: its left tail is absolute-accurate only (below
    # x = -8.3 it is 0 or 2^-54; log_ndtr is the one to use there)
    return (1 + _erf(xp, x * math.sqrt(0.5))) * 0.5


def _log_ndtr(xp, x):
    # torch: log(erfcx(-t) / 2) - t^2 below x = -1 (no underflow), else log1p(-erfc(t) / 2)
    t = x * math.sqrt(0.5)
    low = x < -1
    tl = xp.where(low, t, _c(xp, -1.0, t))
    th = xp.where(low, _c(xp, 0.0, t), t)
    return xp.where(low, xp.log(_erfcx(xp, -tl) / 2) - tl * tl, xp.log1p(-_erfc(xp, th) / 2))


_NDTRI_P0 = (-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
             1.39312609387279679503e1, -1.23916583867381258016e0)
_NDTRI_Q0 = (1.0, 1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
             -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
             1.59056225126211695515e1, -1.18331621121330003142e0)
_NDTRI_P1 = (4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
             4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
             -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4)
_NDTRI_Q1 = (1.0, 1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
             1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
             -3.80806407691578277194e-2, -9.33259480895457427372e-4)
_NDTRI_P2 = (3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
             1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
             3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9)
_NDTRI_Q2 = (1.0, 6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
             2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
             2.89247864745380683936e-6, 6.79019408009981274425e-9)
_EXPM2 = 0.13533528323661269189                      # exp(-2)


def _ndtri(xp, y0):
    flip = y0 > 1 - _EXPM2
    y = xp.where(flip, 1 - y0, y0)
    central = y > _EXPM2
    yc = xp.where(central, y, _c(xp, 0.5, y)) - 0.5
    y2 = yc * yc
    xc = (yc + yc * (y2 * _polevl(y2, _NDTRI_P0) / _polevl(y2, _NDTRI_Q0))) * 2.50662827463100050242
    yt = xp.where(central | ~(y > 0), _c(xp, 0.1, y), y)         # the tails, y in (0, exp(-2)]
    x = xp.sqrt(-2.0 * xp.log(yt))
    x0 = x - xp.log(x) / x
    z = 1 / x
    x1 = xp.where(x < 8, z * _polevl(z, _NDTRI_P1) / _polevl(z, _NDTRI_Q1),
                  z * _polevl(z, _NDTRI_P2) / _polevl(z, _NDTRI_Q2))
    xt = x0 - x1
    xt = xp.where(flip, xt, -xt)
    out = xp.where(central, xc, xt)
    inf = _c(xp, math.inf, y0)
    out = xp.where(y0 == 0, -inf, xp.where(y0 == 1, inf, out))
    return xp.where((y0 < 0) | (y0 > 1) | xp.isnan(y0), _c(xp, math.nan, y0), out)


@primitive(save=("x",))
class Ndtr:
    def forward(B, x): return _via64(B, x, _ndtr)
    def backward(ctx, g): return g * (exp(-0.5 * ctx.x * ctx.x) / _SQRT_2PI)


@primitive(save=("x", "out"))
class LogNdtr:
    def forward(B, x): return _via64(B, x, _log_ndtr)
    def backward(ctx, g): return g / _SQRT_2PI * exp(-(ctx.out + ctx.x * ctx.x / 2))


@primitive(save=("out",))
class Ndtri:
    def forward(B, x): return _via64(B, x, _ndtri)
    def backward(ctx, g): return g * _SQRT_2PI * exp(ctx.out * ctx.out / 2)


def ndtr(input):
    """The standard normal CDF (torch.special.ndtr)."""
    return apply(Ndtr, (floating(input),))


def log_ndtr(input):
    """log of the standard normal CDF, accurate far in the left tail (torch.special.log_ndtr)."""
    return apply(LogNdtr, (floating(input),))


def ndtri(input):
    """The standard normal quantile, ndtr's inverse on [0, 1] (torch.special.ndtri)."""
    return apply(Ndtri, (floating(input),))


# --- erfinv --------------------------------------------------------------------------------------

_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)


def _erfinv(B, y):
    """torch's erfinv: a rational first guess (central |y| <= 0.7, and a tail form in
    sqrt(-log((1 - |y|) / 2))), then two Newton steps on erf(x) = y; +-inf at +-1, nan beyond."""
    xp = B.xp
    a = xp.abs(y)
    central = a <= 0.7
    z = y * y
    a0, a1, a2, a3 = _ERFINV_A
    b0, b1, b2, b3 = _ERFINV_B
    xc = y * (((a3 * z + a2) * z + a1) * z + a0) / ((((b3 * z + b2) * z + b1) * z + b0) * z + 1.0)
    at = xp.where(central | ~(a < 1), _c(xp, 0.9, a), a)
    zt = xp.sqrt(-xp.log((1.0 - at) / 2.0))
    c0, c1, c2, c3 = _ERFINV_C
    d0, d1 = _ERFINV_D
    xt = xp.copysign(((c3 * zt + c2) * zt + c1) * zt + c0, y) / ((d1 * zt + d0) * zt + 1.0)
    x = xp.where(central, xc, xt)
    for _ in range(2):
        x = x - (B.erf(x) - y) / ((2 / _SQRT_PI) * xp.exp(-x * x))
    x = xp.where(a == 1, xp.copysign(_c(xp, math.inf, y), y), x)
    return xp.where((a > 1) | xp.isnan(y), _c(xp, math.nan, y), x)


@primitive(save=("out",))
class Erfinv:
    def forward(B, x): return _via64(B, x, lambda xp, v: _erfinv(B, v))
    def backward(ctx, g): return g * (_SQRT_PI / 2 * exp(ctx.out * ctx.out))


@op(inplace=True)
def erfinv(input):
    return apply(Erfinv, (floating(input),))


# --- lgamma, digamma, polygamma, zeta --------------------------------------------------------------

_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma(xp, x):
    """log|Gamma(x)|: reflection below 1/2 (log(pi / |sin(pi x)|) - lgamma(1 - x), sin taken of
    x - round(x) so that it is exact at the poles), an upward recurrence to z >= 10 (at most 10
    masked steps, the product kept and logged once), then Stirling's series. inf at 0, at the
    negative integers and at +-inf, as torch (C's lgamma)."""
    neg = x < 0.5
    xr = xp.where(neg, 1 - x, x)
    xr = xp.where(xp.isinf(xr), _c(xp, 10.0, xr), xr)
    acc = xr * 0 + 1
    z = xr
    for _ in range(10):
        m = z < 10
        acc = xp.where(m, acc * z, acc)
        z = xp.where(m, z + 1, z)
    lz = xp.log(z)
    w = 1 / (z * z)
    series = _polevl(w, _STIRLING[::-1]) / z
    lg = z * (lz - 1) - 0.5 * lz + _HALF_LOG_2PI + series - xp.log(acc)
    r = x - xp.round(x)
    s = xp.abs(xp.sin(math.pi * r))
    refl = math.log(math.pi) - xp.log(s) - lg
    out = xp.where(neg, refl, lg)
    return xp.where(xp.isinf(x), _c(xp, math.inf, x), out)


_PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
          -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
          8.33333333333333333333e-2)
_PSI_10 = 2.25175258906672110764


def _digamma(xp, x):
    """psi(x) as Cephes and torch: reflection for x < 0 (pi / tan(pi r), r = x's fractional part),
    recurrence up to 10 (exactly 10 gives psi(10)), then the asymptotic series; psi(+-0) = -+inf,
    nan at negative integers."""
    neg = x < 0
    xr = xp.where(neg, 1 - x, x)
    r = x - xp.trunc(x)
    refl = xp.where(neg, -math.pi / xp.tan(math.pi * r), _c(xp, 0.0, x))
    res = xp.zeros_like(x)
    z = xp.where(xr == 0, _c(xp, 1.0, xr), xr)
    for _ in range(10):
        m = z < 10
        res = res - xp.where(m, 1 / z, _c(xp, 0.0, z))
        z = xp.where(m, z + 1, z)
    zs = xp.where(xp.isinf(z), _c(xp, 1e17, z), z)
    w = 1 / (zs * zs)
    y = xp.where(z < 1e17, w * _polevl(w, _PSI_A), _c(xp, 0.0, z))
    # torch's order of operations, so that float32 rounds as torch's float kernel does
    out = xp.where(z == 10, res + _PSI_10, ((res + xp.log(z)) - 0.5 / z) - y)
    out = xp.where(neg, out + refl, out)
    inf = _c(xp, math.inf, x)
    out = xp.where(x == 0, xp.where(xp.signbit(x), inf, -inf), out)
    return xp.where(neg & (x == xp.trunc(x)), _c(xp, math.nan, x), out)


def _trigamma(xp, x):
    """torch's trigamma, in x's precision: reflection below 1/2 (pi^2 / sin^2(pi x), the formula's
    value at the poles), 6 recurrence steps, then the asymptotic series."""
    low = x < 0.5
    s = xp.sin(math.pi * x)
    res = xp.where(low, -(math.pi * math.pi) / (s * s), _c(xp, 0.0, x))
    z = xp.where(low, 1 - x, x)
    for _ in range(6):
        res = res + 1 / (z * z)
        z = z + 1
    ixx = 1 / (z * z)
    res = res + (1 + 1 / (2 * z) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / z
    return xp.where(low, -res, res)


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)
_ZETA_MAX_STEPS = 100000


def _zeta(xp, x, q):
    """The Hurwitz zeta function sum_k (q + k)^-x, as Cephes and torch: direct summation until
    q + k > 9 (at least 9 terms, stopping early once a term is below machine precision of the
    sum), then the Euler-Maclaurin tail. inf at x == 1 and at non-positive integer q, nan for
    x < 1 and for q < 0 with a non-integer x. Summation steps are masked array steps, as many as
    the most negative q needs (capped at 100000)."""
    x, q = xp.broadcast_arrays(x, q)
    nan, inf = _c(xp, math.nan, x), _c(xp, math.inf, x)
    q_int = q == xp.floor(q)
    one, below = x == 1, x < 1
    special_inf = one | ((q <= 0) & q_int & ~below)
    special_nan = ~one & (below | ((q <= 0) & ~q_int & (x != xp.floor(x))))
    special = special_inf | special_nan
    qs = xp.where(special, _c(xp, 1.0, q), q)
    xs = xp.where(special, _c(xp, 2.0, x), x)
    s = xp.pow(qs, -xs)
    a = qs
    b = s * 0
    i = 0
    active = ~special
    while i < _ZETA_MAX_STEPS:
        step = active & ((i < 9) | (a <= 9))
        if not bool(xp.any(step)):
            break
        i += 1
        a = xp.where(step, a + 1, a)
        b = xp.where(step, xp.pow(a, -xs), b)
        s = xp.where(step, s + b, s)
        active = active & ~(step & (-_MACHEP * s < b) & (b < _MACHEP * s))
    w = a
    s = xp.where(active, s + b * w / (xs - 1) - 0.5 * b, s)
    aa = s * 0 + 1
    k = s * 0
    for coef in _ZETA_A:
        aa = aa * (xs + k)
        b = b / w
        t = aa * b / coef
        s = xp.where(active, s + t, s)
        active = active & ~(xp.abs(t / s) < _MACHEP)
        k = k + 1
        aa = aa * (xs + k)
        b = b / w
        k = k + 1
    return xp.where(special_inf, inf, xp.where(special_nan, nan, s))


def _polygamma(B, n, x):
    xp = B.xp
    if n < 2:          # digamma and trigamma: in float32 for float32 and float16, as torch's kernels
        f = _digamma if n == 0 else _trigamma
        if B.dtype_from_native(x.dtype) is _dt.float16:
            f32 = B.native_dtype(_dt.float32)
            return xp.astype(f(xp, xp.astype(x, f32)), x.dtype)
        return f(xp, x)
    fac = math.exp(math.lgamma(n + 1.0)) * (1.0 if n % 2 else -1.0)
    return _via64(B, x, lambda xp, v: fac * _zeta(xp, xp.asarray(n + 1.0, dtype=v.dtype), v))


@primitive(save=("x",))
class Lgamma:
    def forward(B, x): return _via64(B, x, _lgamma)
    def backward(ctx, g): return g * digamma(ctx.x)


@primitive(save=("x",))
class Polygamma:
    """polygamma(n, x); n = 0 is digamma."""
    def forward(B, x, n): return _polygamma(B, n, x)
    def backward(ctx, g): return g * apply(Polygamma, (ctx.x,), ctx.n + 1)


@op(inplace=True)
def lgamma(input):
    return apply(Lgamma, (floating(input),))


@op(inplace=True)
def digamma(input):
    return apply(Polygamma, (floating(input),), 0)


@op(inplace=True)
def polygamma(n, input):
    """The n-th derivative of digamma. Also Tensor.polygamma(n) and polygamma_(n): torch's method
    takes n after the tensor, so the arguments are told apart by type."""
    if isinstance(n, Tensor) and not isinstance(input, Tensor):
        n, input = input, n
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n = {n})")
    return apply(Polygamma, (floating(input),), n)


@op(inplace=True)
def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension p: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi).
    (torch 2.13 no longer requires every element to exceed (p - 1) / 2: nor does this.)"""
    if not isinstance(p, int) or p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1 (got {p})")
    input = floating(input)
    out = lgamma(input)
    for j in range(1, p):
        out = out + lgamma(input - 0.5 * j)
    return out + p * (p - 1) / 4 * math.log(math.pi)


def zeta(input, other):
    """The Hurwitz zeta function sum_k (other + k) ** -input (torch.special.zeta); either argument
    may be a Python number. torch defines no derivative, so the result records nothing."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta: expected at least one Tensor argument")
    a, b = _float_pair(input, other, "zeta")
    bd = b._data
    return nondiff(a, lambda B, x: _via64_2(B, *B.xp.broadcast_arrays(x, bd), _zeta))


def _via64_2(B, x, y, f):
    xp = B.xp
    f64 = B.native_dtype(_dt.float64)
    if x.dtype == f64:
        return f(xp, x, y)
    return xp.astype(f(xp, xp.astype(x, f64), xp.astype(y, f64)), x.dtype)


# --- modified Bessel functions i0, i0e, i1, i1e ----------------------------------------------------

_I0_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
         1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
         -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
         9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
         -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
         1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
         -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
         1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
         -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
         1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1)
_I0_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
         3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
         1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
         -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
         7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
         -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
         3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
         2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
         8.04490411014108831608e-1)
_I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
         9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
         -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
         4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
         -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
         2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
         -1.76416518357834055153e-1, 2.52587186443633654823e-1)
_I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
         -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
         7.78576235018280120474e-1)


def _bessel(xp, x, order, scaled):
    """I0 / I1 (exp(-|x|)-scaled with `scaled`) by Cephes' two Chebyshev expansions, [0, 8] and
    (8, inf); I1 is odd. At +-inf the unscaled ones are nan, as torch's (inf * 0 in the formula)."""
    a = xp.abs(x)
    le8 = a <= 8
    al = xp.where(le8, a, _c(xp, 8.0, a))
    ah = xp.where(le8, _c(xp, 9.0, a), a)
    A, Bc = (_I0_A, _I0_B) if order == 0 else (_I1_A, _I1_B)
    lo = _chbevl(al / 2 - 2, A)
    if order == 1:
        lo = lo * al
    hi = _chbevl(32 / ah - 2, Bc) / xp.sqrt(ah)
    out = xp.where(le8, lo, hi)
    if not scaled:
        out = xp.exp(a) * out
    if order == 1:
        out = xp.where(x < 0, -out, out)
    return out


@primitive(save=("x",))
class I0:
    def forward(B, x): return _via64(B, x, lambda xp, v: _bessel(xp, v, 0, False))
    def backward(ctx, g): return g * i1(ctx.x)


@primitive(save=("x", "out"))
class I0e:
    def forward(B, x): return _via64(B, x, lambda xp, v: _bessel(xp, v, 0, True))
    def backward(ctx, g): return g * (i1e(ctx.x) - sign(ctx.x) * ctx.out)


def _i1_rule(ctx, g, scaled):
    """torch's i1_backward / i1e_backward: the derivative at |x| > eps (computed at a safe x
    elsewhere), and the limit 1/2 where |x| <= eps or x is nan."""
    x, out = ctx.x, ctx.out
    xa = x._data
    eps = _EPS[x.dtype.name]
    big = _wrap(x._backend.xp.abs(xa) > eps, x._backend)
    safe = where(big, x, eps)
    if scaled:
        d = i0e(safe) - out * (sign(safe) + 1 / safe)
    else:
        d = i0(safe) - out / safe
    return g * where(big, d, 0.5)


_EPS = {"float64": 2.220446049250313e-16, "float32": 1.1920928955078125e-07, "float16": 0.0009765625}


@primitive(save=("x", "out"))
class I1:
    def forward(B, x): return _via64(B, x, lambda xp, v: _bessel(xp, v, 1, False))
    def backward(ctx, g): return _i1_rule(ctx, g, False)


@primitive(save=("x", "out"))
class I1e:
    def forward(B, x): return _via64(B, x, lambda xp, v: _bessel(xp, v, 1, True))
    def backward(ctx, g): return _i1_rule(ctx, g, True)


@op(inplace=True)
def i0(input):
    """The modified Bessel function of the first kind, order 0."""
    return apply(I0, (floating(input),))


def i0e(input):
    return apply(I0e, (floating(input),))


def i1(input):
    return apply(I1, (floating(input),))


def i1e(input):
    return apply(I1e, (floating(input),))


# --- entropy -------------------------------------------------------------------------------------

@primitive(save=("x",))
class Entr:
    """-x log x for x > 0, 0 at 0, -inf below (torch.special.entr)."""
    def forward(B, x):
        xp = B.xp
        pos = x > 0
        v = -x * xp.log(xp.where(pos, x, _c(xp, 1.0, x)))
        return xp.where(pos, v, xp.where(x == 0, _c(xp, 0.0, x),
                                         xp.where(x < 0, _c(xp, -math.inf, x), x)))

    def backward(ctx, g): return g * -(1 + log(ctx.x))


def entr(input):
    return apply(Entr, (floating(input),))

