"""Special functions: lgamma, digamma, polygamma, erfinv, erfc, i0, igamma and torch.special's relatives.

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
zeta algorithms, erfinv is the rational start plus two Newton steps that torch uses, and the
incomplete gamma functions use Cephes' series and continued fraction, run as masked array loops that
shrink to the unconverged elements.
Each rule is written in differentiable ops (d lgamma = digamma, d digamma = polygamma(1), ...), so
gradients of any order work.
"""
from __future__ import annotations

import math

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply, floating, nondiff, pair
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


def _via64(B, x, f, *more):
    """f(xp, x, *more) computed in float64 and rounded once to x's dtype (`more`: arrays of x's dtype)."""
    xp = B.xp
    f64 = B.native_dtype(_dt.float64)
    if x.dtype == f64:
        return f(xp, x, *more)
    return xp.astype(f(xp, xp.astype(x, f64), *(xp.astype(y, f64) for y in more)), x.dtype)


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


def _erfinv(xp, y):
    """torch's erfinv: a rational first guess (central |y| <= 0.7, and a tail form in
    sqrt(-log((1 - |y|) / 2))), then two Newton steps on erf(x) = y (erf from Cephes' rational
    forms, on the backend's arrays); +-inf at +-1, nan beyond."""
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
        x = x - (_erf(xp, x) - y) / ((2 / _SQRT_PI) * xp.exp(-x * x))
    x = xp.where(a == 1, xp.copysign(_c(xp, math.inf, y), y), x)
    return xp.where((a > 1) | xp.isnan(y), _c(xp, math.nan, y), x)


@primitive(save=("out",))
class Erfinv:
    def forward(B, x): return _via64(B, x, lambda xp, v: _erfinv(xp, v))
    def backward(ctx, g): return g * (_SQRT_PI / 2 * exp(ctx.out * ctx.out))


@op(inplace=True)
def erfinv(input):
    return apply(Erfinv, (floating(input),))


# --- lgamma, digamma, polygamma, zeta --------------------------------------------------------------

_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_EULER = 0.57721566490153286061


def _zeta_int(k, n=10):
    """Riemann zeta(k) for an integer k >= 2, to double precision: n terms, then Euler-Maclaurin."""
    bern = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)      # B2, B4, ..., B14
    s = math.fsum(m ** -k for m in range(1, n))
    s += n ** (1 - k) / (k - 1) + 0.5 * n ** -k
    rising, fact = 1.0, 1.0
    for j, b in enumerate(bern, 1):        # B_2j / (2j)! * k (k+1) ... (k+2j-2) n^(-k-2j+1)
        rising *= (k + 2 * j - 2) * (k + 2 * j - 3) if j > 1 else k
        fact *= (2 * j) * (2 * j - 1)
        s += b / fact * rising * n ** (-k - 2 * j + 1)
    return s


# lgamma's Taylor series about 1 and 2, where it vanishes: lgamma(1 + z) = -euler z + sum_k (-1)^k
# zeta(k) / k z^k and lgamma(2 + z) = (1 - euler) z + sum_k (-1)^k (zeta(k) - 1) / k z^k (k >= 2), so
# that the result keeps its relative accuracy next to the roots (Horner: highest power first)
_ZETAS = [_zeta_int(k) for k in range(2, 31)]
_LGAMMA_AT1 = tuple((-1) ** k * z / k for k, z in zip(range(30, 1, -1), _ZETAS[::-1])) + (-_EULER, 0.0)
_LGAMMA_AT2 = tuple((-1) ** k * (z - 1) / k for k, z in zip(range(30, 1, -1), _ZETAS[::-1])) + (1 - _EULER, 0.0)


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
    near1 = xp.abs(x - 1) <= 0.2
    near2 = xp.abs(x - 2) <= 0.5
    out = xp.where(near1, _polevl(x - 1, _LGAMMA_AT1), out)
    out = xp.where(near2, _polevl(x - 2, _LGAMMA_AT2), out)
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

    def fwd(B, x):
        xb, qb = B.xp.broadcast_arrays(x, bd)
        return _via64(B, xb, _zeta, qb)
    return nondiff(a, fwd)


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



# --- the regularized incomplete gamma functions: igamma (gammainc) and igammac (gammaincc) ----------

_IGAM_MAXIT = 20000
_BIG, _BIGINV = 4.503599627370496e15, 2.22044604925031308085e-16


def _lgam1p(xp, a):
    """lgamma(1 + a), accurate for small a (lgamma's series about 1 in a itself)."""
    small = xp.abs(a) <= 0.2
    return xp.where(small, _polevl(a, _LGAMMA_AT1), _lgamma(xp, xp.where(small, _c(xp, 1.0, a), a) + 1))


def _igam_fac(xp, a, x):
    """x^a e^-x / Gamma(a)."""
    return xp.exp(a * xp.log(x) - x - _lgamma(xp, a))


def _iterate(B, st, step, result, active):
    """Run `active = step(n, st, active)` (st: a dict of 1-d per-element arrays, updated in place of
    the dict) until no element is active or the cap, and return result(st) per element. Every 8
    steps, once fewer than half of the elements are still active, the finished ones' results are
    written out and the state shrinks to the others: the slowest elements do not keep every other
    one in the loop."""
    xp = B.xp
    out = xp.zeros_like(result(st))
    idx = xp.arange(active.shape[0])
    n = 0
    while n < _IGAM_MAXIT and bool(xp.any(active)):
        n += 1
        active = step(n, st, active)
        if n % 8 == 0:
            left = int(xp.sum(xp.astype(active, idx.dtype)))
            if left < active.shape[0] // 2:
                done = ~active
                out = B.index_put(out, B.getitem(idx, done), B.getitem(result(st), done))
                for k in list(st):
                    st[k] = B.getitem(st[k], active)
                idx = B.getitem(idx, active)
                active = B.getitem(active, active)
    return B.index_put(out, idx, result(st))


def _igam_series(B, a, x):
    """P(a, x) by its power series."""
    xp = B.xp
    st = {"a": a, "x": x, "ax": _igam_fac(xp, a, x), "r": a, "c": xp.ones_like(a), "ans": xp.ones_like(a)}

    def step(n, st, active):
        st["r"] = st["r"] + 1
        st["c"] = xp.where(active, st["c"] * st["x"] / st["r"], st["c"])
        st["ans"] = xp.where(active, st["ans"] + st["c"], st["ans"])
        return active & ~(st["c"] <= _MACHEP * st["ans"])
    return _iterate(B, st, step, lambda st: st["ans"] * st["ax"] / st["a"], st["ax"] != 0)


def _igamc_series(B, a, x):
    """Q(a, x) for small x: 1 - x^a / Gamma(a + 1) sum..., as Cephes' igamc_series."""
    xp = B.xp
    st = {"a": a, "x": x, "fac": xp.ones_like(a), "s": xp.zeros_like(a)}

    def step(n, st, active):
        st["fac"] = xp.where(active, st["fac"] * -st["x"] / n, st["fac"])
        term = st["fac"] / (st["a"] + n)
        st["s"] = xp.where(active, st["s"] + term, st["s"])
        return active & ~(xp.abs(term) <= _MACHEP * xp.abs(st["s"]))

    def result(st):
        a, logx = st["a"], xp.log(st["x"])
        return -xp.expm1(a * logx - _lgam1p(xp, a)) - xp.exp(a * logx - _lgamma(xp, a)) * st["s"]
    return _iterate(B, st, step, result, xp.ones(a.shape, dtype=a.dtype) == 1)


def _igamc_cf(B, a, x):
    """Q(a, x) for x > a by its continued fraction (Cephes' igamc), rescaled against overflow."""
    xp = B.xp
    ax = _igam_fac(xp, a, x)
    y = 1 - a
    z = x + y + 1
    st = {"ax": ax, "y": y, "z": z, "c": xp.zeros_like(a), "pkm2": xp.ones_like(a), "qkm2": x, "pkm1": x + 1,
          "qkm1": z * x}
    st["ans"] = st["pkm1"] / st["qkm1"]

    def step(n, st, active):
        st["c"] = st["c"] + 1
        st["y"] = st["y"] + 1
        st["z"] = st["z"] + 2
        yc = st["y"] * st["c"]
        pk = st["pkm1"] * st["z"] - st["pkm2"] * yc
        qk = st["qkm1"] * st["z"] - st["qkm2"] * yc
        nz = qk != 0
        r = pk / xp.where(nz, qk, _c(xp, 1.0, qk))
        t = xp.where(nz, xp.abs((st["ans"] - r) / xp.where(r == 0, _c(xp, 1.0, r), r)), _c(xp, 1.0, r))
        st["ans"] = xp.where(active & nz, r, st["ans"])
        sc = xp.where(xp.abs(pk) > _BIG, _c(xp, _BIGINV, pk), _c(xp, 1.0, pk))
        keep = ~active
        st["pkm2"] = xp.where(keep, st["pkm2"], st["pkm1"] * sc)
        st["pkm1"] = xp.where(keep, st["pkm1"], pk * sc)
        st["qkm2"] = xp.where(keep, st["qkm2"], st["qkm1"] * sc)
        st["qkm1"] = xp.where(keep, st["qkm1"], qk * sc)
        return active & ~(t <= _MACHEP)
    return _iterate(B, st, step, lambda st: st["ans"] * st["ax"], ax != 0)


def _subset(B, m, f, *arrays):
    """f on the elements where m holds, gathered into short arrays (an iterative method then loops
    over those only), scattered back into zeros."""
    xp = B.xp
    zero = xp.zeros_like(arrays[0])
    if not bool(xp.any(m)):
        return zero
    return B.index_put(zero, m, f(*(B.getitem(a, m) for a in arrays)))


def _igamma(B, a, x, upper):
    """P(a, x) (or Q = 1 - P with `upper`) by Cephes' choice of series or continued fraction, with
    torch's values at the boundaries. (Cephes' and torch's uniform asymptotic expansion for large a
    near x is not used: the series run longer there, to the same accuracy up to a ~ 1e6.)"""
    xp = B.xp
    a, x = (xp.asarray(v, copy=True) for v in xp.broadcast_arrays(a, x))
    bad = (x < 0) | (a < 0) | xp.isnan(a) | xp.isnan(x)
    a0, x0 = a == 0, x == 0
    ainf, xinf = xp.isinf(a), xp.isinf(x)
    edge = bad | a0 | x0 | ainf | xinf
    ok = ~edge
    lx = xp.log(xp.where(ok & (x > 0), x, _c(xp, 0.5, x)))
    # Q's method (the upper function), Cephes' igamc: 1 - series, the continued fraction, or the small-x series
    q_by_cf = ok & (x > 1.1) & ~(x < a)
    q_by_1mp = ok & (((x > 1.1) & (x < a)) | ((x <= 0.5) & (-0.4 / lx < a)) | ((x > 0.5) & (x <= 1.1) & (x * 1.1 < a)))
    q_by_qs = ok & ~q_by_cf & ~q_by_1mp
    # P's method (Cephes' igam): 1 - Q for x > 1 and x > a, else the series
    p_by_1mq = ok & (x > 1) & (x > a)
    need_series = (q_by_1mp if upper else ~p_by_1mq & ok) | (q_by_1mp & p_by_1mq)
    s = _subset(B, need_series, lambda p, v: _igam_series(B, p, v), a, x)
    cf = _subset(B, q_by_cf, lambda p, v: _igamc_cf(B, p, v), a, x)
    qs = _subset(B, q_by_qs, lambda p, v: _igamc_series(B, p, v), a, x)
    q = xp.where(q_by_cf, cf, xp.where(q_by_1mp, 1 - s, qs))
    val = q if upper else xp.where(p_by_1mq, 1 - q, s)
    nan = _c(xp, math.nan, a)
    one, zero = _c(xp, 1.0, a), _c(xp, 0.0, a)
    hi, lo = (zero, one) if upper else (one, zero)          # the value as x -> inf and at x = 0
    val = xp.where(xinf, hi, val)
    val = xp.where(ainf, xp.where(xinf, nan, lo), val)
    val = xp.where(x0, lo, val)
    val = xp.where(a0, xp.where(x > 0, hi, nan), val)
    return xp.where(bad, nan, val)


@primitive(save=("a", "x"), broadcast=True)
class Igamma:
    """The regularized lower (or, with `upper`, upper) incomplete gamma function. torch defines the
    derivative in x only: x^(a-1) e^-x / Gamma(a) (negated for the upper one)."""
    def forward(B, a, x, upper):
        return _via64(B, a, lambda xp, p, q: _igamma(B, p, q, upper), x)

    def backward(ctx, g):
        need_a, need_x = ctx.needs_input_grad
        if need_a:
            raise RuntimeError(f"{'igammac' if ctx.upper else 'igamma'}: the derivative for 'input' (a) is not "
                               f"implemented (torch defines none)")
        a, x = ctx.a, ctx.x
        d = g * exp((a - 1) * log(x) - x - lgamma(a))
        return None, -d if ctx.upper else d


def _igamma_op(input, other, upper, name):
    for i, t in enumerate((input, other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{('input', 'other')[i]}' (position {i + 1}) must be Tensor, "
                            f"not {type(t).__name__}")
    a, x = pair(input, other, name)
    if not a.dtype.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {a.dtype.name} tensors (shapes {tuple(a.shape)} and "
                                  f"{tuple(x.shape)}); floating point only, as torch")
    return apply(Igamma, (a, x), upper)


@op(inplace=True)
def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other) (torch.igamma, special.gammainc)."""
    return _igamma_op(input, other, False, "igamma")


@op(inplace=True)
def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) (torch.igammac, special.gammaincc)."""
    return _igamma_op(input, other, True, "igammac")


# --- torch.special's non-differentiable Bessel spellings -------------------------------------------

def modified_bessel_i0(input):
    """I0 as torch.special.modified_bessel_i0: i0's values, with no gradient (torch records none)."""
    return nondiff(floating(input), lambda B, x: _via64(B, x, lambda xp, v: _bessel(xp, v, 0, False)))


def modified_bessel_i1(input):
    """I1 as torch.special.modified_bessel_i1: special.i1's values, with no gradient (as torch)."""
    return nondiff(floating(input), lambda B, x: _via64(B, x, lambda xp, v: _bessel(xp, v, 1, False)))


_SBJ0 = (1 / 6227020800, -1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120, -1 / 6, 1.0)


def _spherical_j0(xp, x):
    """sin(x) / x, by its Taylor series below |x| = 1/2 and 0 at +-inf (torch's formula)."""
    small = xp.abs(x) < 0.5
    big = xp.where(small | xp.isinf(x), _c(xp, 1.0, x), x)
    out = xp.where(small, _polevl(x * x, _SBJ0), xp.sin(big) / big)
    return xp.where(xp.isinf(x), _c(xp, 0.0, x), out)


def spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind, order 0 (torch.special.spherical_bessel_j0;
    no gradient, as torch)."""
    return nondiff(floating(input), lambda B, x: _via64(B, x, _spherical_j0))


# --- Bessel functions of the first and second kind, orders 0 and 1 (Cephes' j0.c and j1.c) ----------

_J0_PP = (7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
          5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
          9.99999999999999997821e-01)
_J0_PQ = (9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
          5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
          1.00000000000000000218e+00)
_J0_QP = (-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
          -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
          -5.14105326766599330220e+01, -6.05014350600728481186e+00)
_J0_QQ = (6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
          7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
          2.42005740240291393179e+02)
_J0_RP = (-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
          9.70862251047306323952e+15)
_J0_RQ = (4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
          1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
          3.18121955943204943306e+16, 1.71086294081043136091e+18)
_Y0_YP = (1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
          -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
          4.42733268572569800351e+16, -1.84950800436986690637e+16)
_Y0_YQ = (1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
          8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
          2.50596256172653059228e+17)
_J1_PP = (7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
          5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
          1.00000000000000000254e+00)
_J1_PQ = (5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
          5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
          9.99999999999999997461e-01)
_J1_QP = (5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
          3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
          2.11688757100572135698e+02, 2.52070205858023719784e+01)
_J1_QQ = (7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
          9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
          3.36093607810698293419e+02)
_J1_RP = (-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
          3.68295732863852883286e+15)
_J1_RQ = (6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
          2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
          8.95222336184627338078e+16, 5.32278620332680085395e+18)
_Y1_YP = (1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
          -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17)
_Y1_YQ = (5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
          1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
          6.87141087355300489866e+16, 3.97270608116560655612e+18)
_SQ2OPI = 0.797884560802865355879892119868763737      # sqrt(2 / pi)
_TWOOPI = 0.636619772367581343075535053490057448      # 2 / pi


def _bessel_large(xp, x, order, second):
    """J or Y of order 0/1 for x > 5: Hankel's asymptotic form with Cephes' rational P and Q."""
    pp, pq, qp, qq = (_J0_PP, _J0_PQ, _J0_QP, _J0_QQ) if order == 0 else (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ)
    w = 5 / x
    z = w * w
    p = _polevl(z, pp) / _polevl(z, pq)
    q = _polevl(z, qp) / _p1evl(z, qq)
    xn = x - (math.pi / 4 if order == 0 else 3 * math.pi / 4)
    if second:
        r = p * xp.sin(xn) + w * q * xp.cos(xn)
    else:
        r = p * xp.cos(xn) - w * q * xp.sin(xn)
    return r * _SQ2OPI / xp.sqrt(x)


def _bessel_j(xp, x, order):
    a = xp.abs(x)
    small = a <= 5
    s = xp.where(small, a, _c(xp, 1.0, a))
    z = s * s
    big = xp.where(small, _c(xp, 6.0, a), a)
    if order == 0:
        lo = (z - 5.78318596294678452118e0) * (z - 3.04712623436620863991e1) * _polevl(z, _J0_RP) / _p1evl(z, _J0_RQ)
        lo = xp.where(s < 1e-5, 1 - z / 4, lo)
    else:
        lo = _polevl(z, _J1_RP) / _p1evl(z, _J1_RQ) * s * (z - 1.46819706421238932572e1) * (z - 4.92184563216946036703e1)
    out = xp.where(small, lo, _bessel_large(xp, big, order, False))    # nan at +-inf, as torch's
    return xp.where(x < 0, -out, out) if order == 1 else out


def _bessel_y(xp, x, order):
    small = x <= 5
    s = xp.where(small & (x > 0), x, _c(xp, 1.0, x))
    z = s * s
    big = xp.where(small, _c(xp, 6.0, x), x)
    if order == 0:
        lo = _polevl(z, _Y0_YP) / _p1evl(z, _Y0_YQ) + _TWOOPI * xp.log(s) * _bessel_j(xp, s, 0)
    else:
        lo = s * (_polevl(z, _Y1_YP) / _p1evl(z, _Y1_YQ)) + _TWOOPI * (_bessel_j(xp, s, 1) * xp.log(s) - 1 / s)
    out = xp.where(small, lo, _bessel_large(xp, big, order, True))
    out = xp.where(x == 0, _c(xp, -math.inf, x), out)
    return xp.where(x < 0, _c(xp, math.nan, x), out)


def _nondiff_special(f):
    def op(input):
        return nondiff(floating(input), lambda B, x: _via64(B, x, f))
    return op


bessel_j0 = _nondiff_special(lambda xp, x: _bessel_j(xp, x, 0))
bessel_j1 = _nondiff_special(lambda xp, x: _bessel_j(xp, x, 1))
bessel_y0 = _nondiff_special(lambda xp, x: _bessel_y(xp, x, 0))
bessel_y1 = _nondiff_special(lambda xp, x: _bessel_y(xp, x, 1))


# --- modified Bessel functions of the second kind, orders 0 and 1 (Cephes' k0.c and k1.c) ------------

_K0_A = (1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
         1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
         1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
         -5.35327393233902768720e-01)
_K0_B = (5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
         -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
         6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
         -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
         1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
         -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
         2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
         -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
         2.44030308206595545468e+00)
_K1_A = (-7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
         -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
         -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
         -3.53155960776544875667e-01, 1.52530022733894777053e+00)
_K1_B = (-5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
         1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
         -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
         3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
         -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
         2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
         -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
         1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
         2.72062619048444266945e+00)


def _bessel_k(xp, x, order, scaled):
    """K0 / K1 (exp(x)-scaled with `scaled`): a Chebyshev series plus the log(x/2) I term up to 2,
    Cephes' second expansion beyond; inf at 0, nan below."""
    small = x <= 2
    s = xp.where(small & (x > 0), x, _c(xp, 1.0, x))
    big = xp.where(small, _c(xp, 3.0, x), x)
    lg = xp.log(0.5 * s)
    if order == 0:
        lo = _chbevl(s * s - 2, _K0_A) - lg * _bessel(xp, s, 0, False)
        hi = _chbevl(8 / big - 2, _K0_B) / xp.sqrt(big)
    else:
        lo = lg * _bessel(xp, s, 1, False) + _chbevl(s * s - 2, _K1_A) / s
        hi = _chbevl(8 / big - 2, _K1_B) / xp.sqrt(big)
    if scaled:
        lo = lo * xp.exp(s)
    else:
        hi = hi * xp.exp(-big)
    out = xp.where(small, lo, hi)
    out = xp.where(x == 0, _c(xp, math.inf, x), out)
    return xp.where(x < 0, _c(xp, math.nan, x), out)


modified_bessel_k0 = _nondiff_special(lambda xp, x: _bessel_k(xp, x, 0, False))
modified_bessel_k1 = _nondiff_special(lambda xp, x: _bessel_k(xp, x, 1, False))
scaled_modified_bessel_k0 = _nondiff_special(lambda xp, x: _bessel_k(xp, x, 0, True))
scaled_modified_bessel_k1 = _nondiff_special(lambda xp, x: _bessel_k(xp, x, 1, True))


# --- orthogonal polynomials of torch.special (no gradient, as torch) ---------------------------------

def _recur(xp, active, p, q, step, n):
    """Three-term recurrence q_k = step(k, p, q) from k = 2 (or 1) up to each element's n, as masked
    array steps; an element leaves once it reaches its n or its value is nan (as torch's loop)."""
    k = 1
    while True:
        k += 1
        live = active & (n >= k) & ~xp.isnan(q)
        if not bool(xp.any(live)):
            return q
        r = step(k, p, q)
        p, q = xp.where(live, q, p), xp.where(live, r, q)


def _cheb(xp, x, n, kind, shifted):
    """Chebyshev polynomials T, U, V, W (shifted: of 2x - 1) with torch's special cases: the values at
    the interval's ends, the trigonometric closed form for large n inside it, 0 for n < 0."""
    y = 2 * x - 1 if shifted else x
    one = _c(xp, 1.0, x)
    nf = xp.astype(n, x.dtype)
    even = (n % 2) == 0
    sgn = xp.where(even, one, -one)
    hi = x == 1 if shifted else (xp.abs(x) == 1) & (x > 0)
    lo = x == 0 if shifted else (xp.abs(x) == 1) & (x < 0)
    first = {"t": y, "u": 2 * y, "v": 2 * y - 1, "w": 2 * y + 1}[kind]
    at_hi = {"t": one, "u": nf + 1, "v": one, "w": 2 * nf + 1}[kind]
    at_lo = {"t": sgn, "u": sgn * (nf + 1), "v": sgn * (2 * nf + 1), "w": sgn}[kind]
    limit = (4 if kind == "w" else 6) if shifted else (6 if kind == "t" else 8)
    inside = (n > limit) & (xp.abs(y) < 1)
    th = xp.acos(xp.where(inside, y, _c(xp, 0.0, y)))
    if kind == "t":
        trig = xp.cos(nf * th)
    elif kind == "u":
        s = xp.sin(th)
        ys = xp.where(y == 0, one, y)
        trig = xp.where(s != 0, xp.sin((nf + 1) * th) / xp.where(s != 0, s, one), (nf + 1) * xp.cos((nf + 1) * th) / ys)
    elif kind == "v":
        c = xp.cos(th / 2)
        trig = xp.where(xp.sin(th / 2) != 1, xp.cos((nf + 0.5) * th) / xp.where(c != 0, c, one), sgn * (2 * nf + 1))
    else:
        s = xp.sin(th / 2)
        edge = at_hi if not shifted else sgn
        trig = xp.where(xp.cos(th / 2) != 1, xp.sin((nf + 0.5) * th) / xp.where(s != 0, s, one), edge)
    rec = _recur(xp, ~(hi | lo | inside) & (n >= 2), xp.ones_like(x), first, lambda k, p, q: (2 * y) * q - p, n)
    out = xp.where(n == 0, one, xp.where(n == 1, first, rec))
    out = xp.where(inside, trig, out)
    out = xp.where(lo, at_lo, xp.where(hi, at_hi, out))
    return xp.where(n < 0, _c(xp, 0.0, x), out)


def _hermite(xp, x, n, physicists, limit):
    one = xp.ones_like(x)
    first = 2 * x if physicists else x
    if physicists:
        step = lambda k, p, q: (2 * x) * q - (2 * (k - 1)) * p           # noqa: E731
    else:
        step = lambda k, p, q: x * q - (k - 1) * p                       # noqa: E731
    rec = _recur(xp, (n >= 2) & (n <= limit), one, first, step, n)
    out = xp.where(n == 0, one, xp.where(n == 1, first, rec))
    out = xp.where(n > limit, _c(xp, math.nan, x), out)
    return xp.where(n < 0, _c(xp, 0.0, x), out)


def _laguerre(xp, x, n):
    one = xp.ones_like(x)
    first = 1 - x
    rec = _recur(xp, (n >= 2) & (x != 0), one, first,
                 lambda k, p, q: ((2 * (k - 1) + (1 - x)) * q - (k - 1) * p) / k, n)
    out = xp.where(n == 0, one, xp.where(n == 1, first, rec))
    out = xp.where(x == 0, one, out)
    return xp.where(n < 0, _c(xp, 0.0, x), out)


def _legendre(xp, x, n):
    one = xp.ones_like(x)
    ends = xp.abs(x) == 1
    rec = _recur(xp, (n >= 2) & ~ends, one, x, lambda k, p, q: ((2 * k - 1) * x * q - (k - 1) * p) / k, n)
    out = xp.where(n == 0, one, xp.where(n == 1, x, rec))
    out = xp.where(ends, xp.where((x > 0) | ((n % 2) == 0), one, -one), out)
    return xp.where(n < 0, _c(xp, 0.0, x), out)


def _polynomial(f, name):
    def poly(input, n):
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{name}: expected at least one Tensor argument")
        x, nt = _float_pair(input, n, name)

        def g(B, xa):
            xp = B.xp
            na = nt._data
            bad = xp.isnan(na) | xp.isinf(na)                   # torch: a non-finite n counts as -1
            ni = xp.astype(xp.trunc(xp.where(bad, _c(xp, -1.0, na), na)), B.native_dtype(_dt.int64))
            xa, ni = xp.broadcast_arrays(xa, ni)
            return f(B, xa, ni)
        return nondiff(x, g)
    poly.__name__ = poly.__qualname__ = name
    poly.__doc__ = f"torch.special.{name}(input, n): n a tensor or a number, truncated to an integer; no gradient."
    return poly


def _cheb_op(kind, shifted):
    return lambda B, x, n: _via64_n(B, x, n, lambda xp, v, m: _cheb(xp, v, m, kind, shifted))


def _via64_n(B, x, n, f):
    xp = B.xp
    f64 = B.native_dtype(_dt.float64)
    if x.dtype == f64:
        return f(xp, x, n)
    return xp.astype(f(xp, xp.astype(x, f64), n), x.dtype)


chebyshev_polynomial_t = _polynomial(_cheb_op("t", False), "chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial(_cheb_op("u", False), "chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial(_cheb_op("v", False), "chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial(_cheb_op("w", False), "chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial(_cheb_op("t", True), "shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _polynomial(_cheb_op("u", True), "shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _polynomial(_cheb_op("v", True), "shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _polynomial(_cheb_op("w", True), "shifted_chebyshev_polynomial_w")
# torch's limit on n: 512 in float64, 128 in float32 (nan beyond), its float kernel's range
hermite_polynomial_h = _polynomial(
    lambda B, x, n: _via64_n(B, x, n, lambda xp, v, m: _hermite(xp, v, m, True, 512 if x.dtype == B.native_dtype(_dt.float64) else 128)),
    "hermite_polynomial_h")
hermite_polynomial_he = _polynomial(
    lambda B, x, n: _via64_n(B, x, n, lambda xp, v, m: _hermite(xp, v, m, False, 512 if x.dtype == B.native_dtype(_dt.float64) else 128)),
    "hermite_polynomial_he")
laguerre_polynomial_l = _polynomial(lambda B, x, n: _via64_n(B, x, n, _laguerre), "laguerre_polynomial_l")
legendre_polynomial_p = _polynomial(lambda B, x, n: _via64_n(B, x, n, _legendre), "legendre_polynomial_p")


# --- the Airy function Ai (Cephes' airy.c) ------------------------------------------------------------

_AI_AN = (3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
          1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
          1.40264691163389668864e+01, 9.99999999999999995305e-01)
_AI_AD = (5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
          1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
          1.40959135607834029598e+01, 1.00000000000000000470e+00)
_AI_AFN = (-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
           -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
           -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08)
_AI_AFD = (1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
           9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
           4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07)
_AI_AGN = (1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
           9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
           5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
           8.11789239554389293311e-08, 3.41551784765923618484e-10)
_AI_AGD = (9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
           5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
           4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
           4.91834570062930015649e-09)
_SQPII = 5.64189583547756286948e-01                   # 1 / sqrt(pi)


def _airy_ai(xp, x):
    """Ai(x): Cephes' asymptotic forms below -2.09 and above 2.09, the power series between (to
    machine precision, as masked steps); 0 beyond 103.892, nan at +-inf (as torch)."""
    one = _c(xp, 1.0, x)
    neg = x < -2.09
    xn = xp.where(neg, x, _c(xp, -3.0, x))
    zeta_n = -2.0 * xn * xp.sqrt(-xn) / 3.0
    z = 1 / zeta_n
    zz = z * z
    uf = 1 + zz * _polevl(zz, _AI_AFN) / _p1evl(zz, _AI_AFD)
    ug = z * _polevl(zz, _AI_AGN) / _p1evl(zz, _AI_AGD)
    theta = zeta_n + math.pi / 4
    ai_neg = _SQPII / xp.sqrt(xp.sqrt(-xn)) * (xp.sin(theta) * uf - xp.cos(theta) * ug)
    pos = x >= 2.09
    xp_ = xp.where(pos & (x <= 103.892), x, _c(xp, 3.0, x))
    zeta_p = 2.0 * xp_ * xp.sqrt(xp_) / 3.0
    t = 1 / zeta_p
    ai_pos = _SQPII * (_polevl(t, _AI_AN) / _polevl(t, _AI_AD)) / (2.0 * xp.sqrt(xp.sqrt(xp_)) * xp.exp(zeta_p))
    mid = ~neg & ~pos
    xm = xp.where(mid, x, _c(xp, 0.0, x))
    z3 = xm * xm * xm
    f, g, k, m, n = one, xm, one, one, xm
    active = mid
    eps = 2.220446049250313e-16
    while bool(xp.any(active)):
        m = m * z3
        k = k + 1
        m = m / k
        n = n * z3
        k = k + 1
        n = n / k
        m = m / k
        f = xp.where(active, f + m, f)
        k = k + 1
        n = n / k
        g = xp.where(active, g + n, g)
        active = active & (xp.abs(m / f) > eps)
    ai_mid = 0.355028053887817239260 * f - 0.258819403792806798405 * g
    out = xp.where(neg, ai_neg, xp.where(pos, ai_pos, ai_mid))
    out = xp.where(x > 103.892, _c(xp, 0.0, x), out)
    return xp.where(xp.isinf(x), _c(xp, math.nan, x), out)


airy_ai = _nondiff_special(_airy_ai)
