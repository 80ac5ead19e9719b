"""Random sampling ops: bernoulli, multinomial, normal, poisson, and the in-place fills of Tensor
(uniform_, normal_, bernoulli_, exponential_, geometric_, log_normal_, cauchy_, random_).

Every draw comes from `generator=` or the device's default generator (autograd/random.py) and is
built on the device from the backend's raw draws, in float64, then cast: no loops. As in torch, a
sample's gradient with respect to its distribution's parameters is zero (`Sampled`), not a
reparameterisation: `normal(mu, sigma)` with mu requiring grad records a node whose rule
returns zeros.
"""
from __future__ import annotations

import math
import numbers

from backends import dtypes as _dt

from .. import random as R
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply
from ._registry import op

_F64 = _dt.float64


def _zeros_for(ctx, i, g):
    if not ctx.needs_input_grad[i]:
        return None
    be = g._backend
    return _wrap(be.xp.zeros(ctx.input_shapes[i], dtype=ctx.input_dtypes[i]), be)


@primitive(warns=False)
class Sampled:
    """A draw `out` from a distribution parameterised by x: torch's gradient is zero."""
    def forward(B, x, out): return out

    def backward(ctx, g): return _zeros_for(ctx, 0, g)


@primitive(warns=False)
class Sampled2:
    """A draw `out` from a distribution parameterised by a and b (normal's mean and std)."""
    def forward(B, a, b, out): return out

    def backward(ctx, g): return _zeros_for(ctx, 0, g), _zeros_for(ctx, 1, g)


def _f64(t):
    be = t._backend
    return be.xp.astype(t._data, be.native_dtype(_F64))


def _check_float(t, name):
    if not t.dtype.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {t.dtype.name} (its input must be floating point)")


def _all(be, cond):
    return bool(be.xp.all(cond))


# ------------------------------------------------------------------------------------------------
# sampling functions

@op()
def bernoulli(input, p=None, *, generator=None):
    """1 with probability p (input's elements, or the number p), else 0, in input's dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be Tensor, not {type(input).__name__}")
    _check_float(input, "bernoulli")
    be = input._backend
    rng = R.generator_rng(generator, be, "bernoulli")
    if p is None:
        probs = _f64(input)
        if not _all(be, (probs >= 0) & (probs <= 1)):
            raise RuntimeError("bernoulli: Expected p_in >= 0 && p_in <= 1 to be true, but got false "
                               "(every probability must be in [0, 1], none nan)")
    else:
        probs = _scalar_p(p, "bernoulli")
    u = R.uniform01(be, rng, tuple(input.shape), _F64)
    out = R.cast(be, u < probs, input.dtype)
    return apply(Sampled, (input,), out)


def _scalar_p(p, name):
    if isinstance(p, Tensor):
        p = p.item()
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise RuntimeError(f"{name}_ expects p to be in [0, 1], but got p={p}")
    return float(p)


@op()
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices (int64) drawn from each row of non-negative weights `input` (1-D or 2-D):
    with replacement, independent draws; without, no index repeats within a row."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' must be Tensor, not {type(input).__name__}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial(): argument 'num_samples' must be int, not {type(num_samples).__name__}")
    k = int(num_samples)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.name}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if k <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (num_samples={k})")
    n = input.shape[-1]
    if not replacement and k > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({k} > {n})")
    be = input._backend
    xp = be.xp
    rng = R.generator_rng(generator, be, "multinomial")
    w = _f64(input)
    if input.ndim == 1:
        w = xp.reshape(w, (1, n))
    rows = w.shape[0]
    i64 = be.native_dtype(_dt.int64)
    if rows == 0:
        return _wrap(xp.zeros((0, k) if input.ndim == 2 else (k,), dtype=i64), be)
    if not _all(be, (w >= 0) & (w < math.inf)):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if not _all(be, xp.sum(w, axis=-1) > 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement or k == 1:
        idx = _inverse_cdf(be, rng, w, k)
    else:
        idx = _race(be, rng, w, k)
    idx = xp.astype(idx, i64)
    return _wrap(idx if input.ndim == 2 else xp.reshape(idx, (k,)), be)


def _inverse_cdf(be, rng, w, k):
    """k independent draws per row: the first index whose normalised cumulative weight exceeds a
    uniform u, by a vectorised binary search (log2(n) steps over all rows and draws at once)."""
    xp = be.xp
    rows, n = w.shape
    cumsum = getattr(xp, "cumulative_sum", None) or xp.cumsum
    cdf = cumsum(w, axis=-1)
    cdf = cdf / cdf[:, n - 1:n]                 # the last is exactly 1 and u < 1: always found
    u = R.uniform01(be, rng, (rows, k), _F64)
    i64 = be.native_dtype(_dt.int64)
    lo = xp.zeros((rows, k), dtype=i64)
    hi = xp.full((rows, k), n - 1, dtype=i64)
    for _ in range(max(1, (n - 1).bit_length())):
        mid = (lo + hi) // 2
        right = xp.take_along_axis(cdf, mid, axis=-1) <= u      # the index is past mid
        lo = xp.where(right, mid + 1, lo)
        hi = xp.where(right, hi, mid)
    return lo


def _race(be, rng, w, k):
    """k distinct indices per row, drawn one after another in proportion to the weights left:
    the k smallest of E_i / w_i with E_i ~ Exp(1) (the exponential race, equivalent to sequential
    sampling without replacement); zero weights come last."""
    xp = be.xp
    e = -R.log1p_neg(be, R.uniform01(be, rng, w.shape, _F64))
    quiet = be.enter_quiet()
    try:
        keys = xp.where(w > 0, e / w, math.inf)
    finally:
        be.exit_quiet(quiet)
    order = xp.argsort(keys, axis=-1)
    return order[:, :k]


@op(method=False)
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False,
           out=None, layout=None, pin_memory=False):
    """Normal draws, torch's four forms: normal(mean_tensor, std_tensor), normal(mean_tensor,
    std=1.0), normal(mean_float, std_tensor), normal(mean_float, std_float, size)."""
    if out is not None:
        raise NotImplementedError("normal: out= is not supported (assign the result instead)")
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        return _normal_size(mean, std, size, generator, dtype, device, requires_grad)
    if size is not None:
        raise TypeError("normal(): size= is only accepted with a float mean and a float std")
    for t, what in ((mean, "mean"), (std, "std")):
        if isinstance(t, Tensor):
            _check_float(t, "normal")
        elif isinstance(t, bool) or not isinstance(t, numbers.Real):
            raise TypeError(f"normal(): argument '{what}' must be a Tensor or a float, not {type(t).__name__}")
    ref = mean if mt else std
    be = ref._backend
    if mt and st and std._backend is not be:
        raise RuntimeError(f"normal: expected all tensors on the same device, but found {mean.device} and "
                           f"{std.device}")
    xp = be.xp
    if st:
        s = _f64(std)
        if not _all(be, s >= 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        s = float(std)
    m = _f64(mean) if mt else float(mean)
    shapes = [tuple(t.shape) for t in (mean, std) if isinstance(t, Tensor)]
    try:
        shape = tuple(xp.broadcast_shapes(*shapes)) if len(shapes) == 2 else shapes[0]
    except (ValueError, RuntimeError):
        raise RuntimeError(f"normal: the shapes of mean {shapes[0]} and std {shapes[1]} cannot be "
                           f"broadcast together") from None
    rng = R.generator_rng(generator, be, "normal")
    z = be.rng_normal(rng, shape)
    res = R.cast(be, m + s * z, ref.dtype)
    if mt and st:
        return apply(Sampled2, (mean, std), res)
    return apply(Sampled, (ref,), res)


def _normal_size(mean, std, size, generator, dtype, device, requires_grad):
    from .. import factories as fac
    if size is None:
        raise TypeError("normal(): with a float mean and a float std, size is required "
                        "(normal(mean, std, size))")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    t = fac.randn(*((size,) if isinstance(size, int) else (tuple(size),)), generator=generator,
                  dtype=dtype, device=device)
    be = t._backend
    res = _wrap(R.cast(be, float(mean) + float(std) * _f64(t), t.dtype), be)
    if requires_grad:
        res.requires_grad_(True)
    return res


@op(method=False)
def poisson(input, generator=None):
    """Poisson counts with rates `input`, in input's dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' must be Tensor, not {type(input).__name__}")
    _check_float(input, "poisson")
    be = input._backend
    lam = _f64(input)
    if not _all(be, lam >= 0):
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    rng = R.generator_rng(generator, be, "poisson")
    return apply(Sampled, (input,), R.cast(be, be.rng_poisson(rng, lam), input.dtype))


# ------------------------------------------------------------------------------------------------
# the in-place fills (Tensor methods, defined in tensor.py)

def _fill(self, name, draw, generator):
    """Write draw(be, rng) (a float64 or int64 array of self's shape) into self, cast to its dtype.
    Recorded like any in-place write; the gradient through the fill is zero, as torch's."""
    from ..inplace import apply_
    be = self._backend
    rng = R.generator_rng(generator, be, name)
    arr = R.cast(be, draw(be, rng, tuple(self.shape)), self.dtype)
    return apply_(self, lambda t: apply(Sampled, (t,), arr), name)


def _cont_only(self, name, err=NotImplementedError):
    if not self.dtype.is_floating_point:
        if err is RuntimeError:
            raise RuntimeError(f"{name}: {name.split('_')[0].capitalize()} distribution is a continuous "
                               f"probability distribution. dtype must be a floating point but you specified "
                               f"{self.dtype.name}")
        raise NotImplementedError(f"{name}: not implemented for {self.dtype.name} (it draws floating point numbers)")


def _num(v, name, what):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}(): argument '{what}' must be a number, not {type(v).__name__}")
    return float(v)


def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    a, b = _num(from_, "uniform_", "from"), _num(to, "uniform_", "to")
    _cont_only(self, "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    dt = self.dtype
    return _fill(self, "uniform_", lambda be, rng, sh: a + (b - a) * R.uniform01(be, rng, sh, dt), generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    m, s = _num(mean, "normal_", "mean"), _num(std, "normal_", "std")
    _cont_only(self, "normal_")
    if not s >= 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {s}")
    return _fill(self, "normal_", lambda be, rng, sh: m + s * be.rng_normal(rng, sh), generator)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    m, s = _num(mean, "log_normal_", "mean"), _num(std, "log_normal_", "std")
    _cont_only(self, "log_normal_")
    if not s > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={s}")
    return _fill(self, "log_normal_", lambda be, rng, sh: be.xp.exp(m + s * be.rng_normal(rng, sh)), generator)


def exponential_(self, lambd=1.0, *, generator=None):
    lam = _num(lambd, "exponential_", "lambd")
    _cont_only(self, "exponential_", RuntimeError)
    if not lam > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lam}")
    return _fill(self, "exponential_",
                 lambda be, rng, sh: -R.log1p_neg(be, R.uniform01(be, rng, sh, _F64)) / lam, generator)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    m, s = _num(median, "cauchy_", "median"), _num(sigma, "cauchy_", "sigma")
    _cont_only(self, "cauchy_", RuntimeError)
    if not s > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={s}")
    return _fill(self, "cauchy_",
                 lambda be, rng, sh: m + s * be.xp.tan(math.pi * (R.uniform01(be, rng, sh, _F64) - 0.5)), generator)


def geometric_(self, p, *, generator=None):
    """Trials up to the first success (1, 2, ...), success probability p; integer dtypes allowed."""
    p = _num(p, "geometric_", "p")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    lq = math.log1p(-p)

    def draw(be, rng, sh):
        xp = be.xp
        k = xp.ceil(R.log1p_neg(be, R.uniform01(be, rng, sh, _F64)) / lq)
        return xp.maximum(k, 1.0)               # u = 0 gives 0 trials: the first trial succeeds
    return _fill(self, "geometric_", draw, generator)


def random_(self, *args, generator=None, **kwargs):
    """Integers uniform on [from, to): random_() covers the dtype (floats: [0, 2**digits]),
    random_(to), random_(from, to) (to=None: up to the dtype's maximum)."""
    if "from" in kwargs:
        kwargs["from_"] = kwargs.pop("from")
    names = ("from_", "to")
    bound = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in bound:
            raise TypeError(f"random_() got an unexpected or repeated argument {k!r}")
        bound[k] = v
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    dt = self.dtype
    top = 2 ** R._DIGITS[dt.itemsize] if dt.is_floating_point else dt.max
    if len(args) == 1 and not kwargs:                      # random_(to)
        lo, hi = 0, int(_num(args[0], "random_", "to")) - 1
    else:
        lo = int(_num(bound.get("from_", 0), "random_", "from"))
        to = bound.get("to")
        hi = top if to is None else int(_num(to, "random_", "to")) - 1
    if lo > hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi + 1}")
    R.int_bounds(dt, lo, hi, "random_")
    return _fill(self, "random_", lambda be, rng, sh: R.integers(be, rng, lo, hi, sh), generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability p: a number or a tensor broadcastable to self) or 0; any dtype."""
    be = self._backend
    xp = be.xp
    if isinstance(p, Tensor):
        _check_float(p, "bernoulli_")
        if p._backend is not be:
            raise RuntimeError(f"bernoulli_: expected p on {self.device}, got {p.device}")
        try:
            probs = xp.broadcast_to(_f64(p), tuple(self.shape))
        except (ValueError, RuntimeError):
            raise RuntimeError(f"bernoulli_: The expanded size of p {tuple(p.shape)} must match the existing "
                               f"size {tuple(self.shape)}") from None
        if not _all(be, (probs >= 0) & (probs <= 1)):
            raise RuntimeError("bernoulli_: Expected p_in >= 0 && p_in <= 1 to be true, but got false")
    else:
        probs = _scalar_p(p, "bernoulli")
    return _fill(self, "bernoulli_",
                 lambda be, rng, sh: R.uniform01(be, rng, sh, _F64) < probs, generator)
