"""Arithmetic against PyTorch's rules: type promotion (dimensioned tensors, 0-d tensors, Python
scalars), float16 with Python scalars, integer division and powers, floor division and remainder,
wrap-around of Python ints, factories' dtypes, mm/bmm checks, Tensor.__format__ (issue 10, section 3).

Expected values are hand-derived or NumPy references, so every test runs without torch; where
torch is installed it is a second oracle."""
import math

import numpy as np
import pytest

import autograd as ag
from helpers import npy

T = ag.tensor
INTS = (ag.uint8, ag.int8, ag.int16, ag.int32, ag.int64)


def _has_float16():
    try:
        ag.zeros(1, dtype=ag.float16)
        return True
    except TypeError:
        return False


def _need_float16():
    if not _has_float16():          # (asked in the test: the backend is chosen by a fixture)
        pytest.skip("this backend has no float16")


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for this check")


def _same(t, expected, dtype):
    """Exact values (NaN and the sign of zero included), shape and dtype."""
    exp = np.asarray(expected)
    got = npy(t)
    assert t.dtype is dtype, (t.dtype, dtype)
    assert tuple(t.shape) == exp.shape, (tuple(t.shape), exp.shape)
    assert np.array_equal(got, exp.astype(got.dtype), equal_nan=True), (got, exp)
    if got.dtype.kind == "f":
        num = ~np.isnan(got)
        assert np.array_equal(np.signbit(got[num]), np.signbit(exp.astype(got.dtype)[num])), (got, exp)


# --- #7: pow gradient at 0 ** 0 -------------------------------------------------------------

def test_pow_gradient_at_zero_to_the_zero_is_zero():
    a = T([0., 0., 0., 2., 0.], dtype=ag.float64, requires_grad=True)
    b = T([0., 1., 2., 0., -1.], dtype=ag.float64, requires_grad=True)
    (a ** b).sum().backward()
    _same(a.grad, [0., 1., 0., 0., -math.inf], ag.float64)        # torch: where(b == 0, 0, b a^(b-1))
    _same(b.grad, [0., 0., 0., math.log(2.), -math.inf], ag.float64)

    x = T([0., 1.], dtype=ag.float64, requires_grad=True)           # tensor ** scalar 0
    (x ** 0).sum().backward()
    _same(x.grad, [0., 0.], ag.float64)
    x.grad = None
    (x ** 0.0).backward(T([math.inf, 1.], dtype=ag.float64))          # zeros, even for an inf upstream
    _same(x.grad, [0., 0.], ag.float64)

    e = T([0., 1., -1., 2.], dtype=ag.float64, requires_grad=True)   # scalar base 0
    (0 ** e).sum().backward()
    _same(e.grad, [0., 0., -math.inf, 0.], ag.float64)


def test_pow_gradients_match_torch_and_gradcheck():
    a = T([0.5, 1.5, 2.0], dtype=ag.float64, requires_grad=True)
    b = T([0.2, 1.3, -0.7], dtype=ag.float64, requires_grad=True)   # (b == 0 is a kink of d/da)
    assert ag.gradcheck(lambda x, y: x ** y, (a, b))
    assert ag.gradgradcheck(lambda x, y: x ** y, (a, b))
    assert ag.gradcheck(lambda y: 3.0 ** y, (b,))
    torch = _torch()
    ta = torch.tensor([0., 0., 2.], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([0., 2., 0.], dtype=torch.float64, requires_grad=True)
    (ta ** tb).sum().backward()
    x = T([0., 0., 2.], dtype=ag.float64, requires_grad=True)
    y = T([0., 2., 0.], dtype=ag.float64, requires_grad=True)
    (x ** y).sum().backward()
    _same(x.grad, ta.grad.numpy(), ag.float64)
    _same(y.grad, tb.grad.numpy(), ag.float64)


# --- #11: promotion of 0-d tensors and scalars ------------------------------------------------

def test_uint8_divided_by_signed_zero_dim_tensor():
    u = T([1, 2], dtype=ag.uint8)
    _same(u / T(-1), [-1., -2.], ag.float32)          # the divisor goes straight to float, not via uint8
    _same(u / -1, [-1., -2.], ag.float32)
    _same(u * T(-1), [255, 254], ag.uint8)            # dimensioned tensors decide the (integer) dtype
    _same(u + T(-1, dtype=ag.int8), [0, 1], ag.uint8)
    _same(u + T(-1.5), [-0.5, 0.5], ag.float32)       # a higher category decides
    _same(u + T(True), [2, 3], ag.uint8)
    _same(T([True]) + T(3, dtype=ag.uint8), [4], ag.uint8)
    _same(T([1], dtype=ag.int8) + T(3, dtype=ag.uint8), [4], ag.int8)
    _same(T([1], dtype=ag.int32) + T(3., dtype=ag.float64), [4.], ag.float64)
    _same(T([True]) + 1.5, [2.5], ag.float32)
    _same(T([True]) + 1, [2], ag.int64)
    _same(T([True]) + True, [True], ag.bool)


def _dtypes():
    ds = [ag.bool, *INTS, ag.float32, ag.float64]
    return ds + [ag.float16] if _has_float16() else ds


def _sample(dtype, zero_dim):
    v = [True, False] if dtype is ag.bool else [3, 1]
    return T(v[0] if zero_dim else v, dtype=dtype)


@pytest.mark.parametrize("kind", ["dim-dim", "dim-0d", "0d-dim", "0d-0d", "dim-int", "dim-float", "dim-bool",
                                  "0d-float"])
def test_promotion_table_matches_torch(kind):
    torch = _torch()
    tdt = {d: getattr(torch, d.name) for d in _dtypes()}
    for da in _dtypes():
        for db in _dtypes():
            a = _sample(da, kind.startswith("0d"))
            if kind.endswith(("dim", "0d")):
                b = _sample(db, kind.endswith("0d"))
                tb = torch.tensor(npy(b), dtype=tdt[db])
            else:
                b = tb = {"int": 2, "float": 2.5, "bool": True}[kind.split("-")[1]]
            ta = torch.tensor(npy(a), dtype=tdt[da])
            for name, f in (("add", lambda x, y: x + y), ("mul", lambda x, y: x * y), ("div", lambda x, y: x / y),
                            ("lt", lambda x, y: x < y), ("max", lambda x, y: ag.maximum(x, y) if isinstance(x, ag.Tensor)
                                                       else torch.maximum(x, y if isinstance(y, torch.Tensor) else torch.tensor(y)))):
                if name == "max" and not isinstance(b, ag.Tensor):
                    continue
                exp = f(ta, tb)
                got = f(a, b)
                assert got.dtype.name == str(exp.dtype).replace("torch.", ""), (name, kind, da, db, got.dtype, exp.dtype)
                assert tuple(got.shape) == tuple(exp.shape)
            if kind in ("dim-dim", "dim-0d") and da.name != "bool" and db.name != "bool" and kind != "dim-float":
                pass


# --- #12: float16 with Python scalars ----------------------------------------------------------

def test_float16_times_python_scalar_is_computed_in_float32():
    _need_float16()
    hv = np.array([1e4, 1e-3, -6e4, 0.1], dtype=np.float16)
    h = T(hv)
    f32 = hv.astype(np.float32)
    with np.errstate(all="ignore"):
        for s in (1e-8, 1e5, 100000, 1 / 3):
            _same(h * s, (f32 * np.float32(s)).astype(np.float16), ag.float16)
            _same(s * h, (f32 * np.float32(s)).astype(np.float16), ag.float16)
            _same(h / s, (f32 / np.float32(s)).astype(np.float16), ag.float16)
            # s / h is reciprocal(h) * s in PyTorch
            _same(s / h, ((np.float32(1) / f32).astype(np.float16).astype(np.float32) * np.float32(s))
                  .astype(np.float16), ag.float16)
        # a 0-d tensor as second operand is read at its own precision too; as first operand it is cast
        _same(h * T(1e-8), (f32 * np.float32(1e-8)).astype(np.float16), ag.float16)
        _same(T(1e-8) * h, hv * np.float16(1e-8), ag.float16)
        # + and - cast the scalar to float16 first (70000 -> inf), as PyTorch does
        _same(h + 70000, hv + np.float16(70000), ag.float16)
        _same(h - 0.1, hv - np.float16(0.1), ag.float16)
    assert (h == 0.1).tolist() == [False, False, False, True]
    x = T(hv, requires_grad=True)
    (x * 1e-3).sum().backward()
    _same(x.grad, np.full(4, np.float16(np.float32(1e-3))), ag.float16)


def test_float16_scalar_math_matches_torch():
    _need_float16()
    torch = _torch()
    hv = np.array([1e4, 1e-3, -6e4, 0.1, 2.0, 7e-5], dtype=np.float16)
    h, th = T(hv), torch.tensor(hv)
    for s in (1e-8, 1e5, 70000, 0.1, 3, 1e-5, 12345.678):
        for f in (lambda x, y: x * y, lambda x, y: y * x, lambda x, y: x / y, lambda x, y: y / x,
                  lambda x, y: x + y, lambda x, y: x - y, lambda x, y: y - x, lambda x, y: x % y):
            _same(f(h, s), f(th, s).numpy(), ag.float16)


# --- #13: integer // and % by zero ---------------------------------------------------------------

@pytest.mark.parametrize("f", [lambda a, b: a // b, lambda a, b: a % b, lambda a, b: ag.fmod(a, b),
                               lambda a, b: ag.remainder(a, b), lambda a, b: ag.floor_divide(a, b),
                               lambda a, b: ag.div(a, b, rounding_mode="trunc"),
                               lambda a, b: ag.div(a, b, rounding_mode="floor")])
def test_integer_division_by_zero_raises(f):
    for a, b in ((T([5, -5, 0]), 0), (T([5], dtype=ag.uint8), T([1, 0], dtype=ag.uint8)), (T([5]), T(0))):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(a, b)


def test_float_division_by_zero_follows_ieee():
    x = T([5., -5., 0.])
    _same(x // 0, [math.inf, -math.inf, math.nan], ag.float32)
    _same(x % 0, [math.nan] * 3, ag.float32)
    _same(ag.fmod(x, 0.), [math.nan] * 3, ag.float32)
    _same(T([5]) // 0.0, [math.inf], ag.float32)
    _same(T([5]) / 0, [math.inf], ag.float32)


# --- #14: float floor division and remainder -------------------------------------------------------

def test_float_floor_division_and_remainder_follow_python():
    _same(T([1.0], dtype=ag.float64) // 0.1, [9.0], ag.float64)             # Python: 1.0 // 0.1 == 9.0
    _same(T([1.0], dtype=ag.float64) % 0.1, [1.0 % 0.1], ag.float64)
    _same(ag.fmod(T([1.0], dtype=ag.float64), 0.1), [math.fmod(1.0, 0.1)], ag.float64)
    x = T([3., -3., 0., -0.], dtype=ag.float64)
    _same(x % math.inf, [3., math.inf, 0., -0.], ag.float64)
    _same(x % -math.inf, [-math.inf, -3., 0., -0.], ag.float64)
    _same(x // math.inf, [0., -1., 0., -0.], ag.float64)
    _same(ag.fmod(x, math.inf), [3., -3., 0., -0.], ag.float64)
    _same(T([-6., 6.]) % 3, [-0., 0.], ag.float32)                          # a zero keeps the dividend's sign
    _same(T([-7.5, 7.5]) // 2, [-4., 3.], ag.float32)
    _same(T([-7.5, 7.5]) % -2, [-1.5, -0.5], ag.float32)
    _same(T([math.inf, -math.inf, math.nan]) % 2, [math.nan] * 3, ag.float32)
    _same(ag.fmod(T([5.5, -5.5]), T([-2., -2.])), [1.5, -1.5], ag.float32)
    # integers: floor semantics for // and %, C semantics for fmod
    _same(T([5, -5]) // T([2, 2]), [2, -3], ag.int64)
    _same(T([5, -5]) % T([-2, -2]), [-1, -1], ag.int64)
    _same(ag.fmod(T([5, -5]), T([-2, -2])), [1, -1], ag.int64)
    _same(ag.div(T([5, -5]), 2, rounding_mode="trunc"), [2, -2], ag.int64)
    _same(5 // T([2, 3]), [2, 1], ag.int64)
    _same(5 % T([2, 3]), [1, 2], ag.int64)
    _same(5.5 % T([2, 3]), [1.5, 2.5], ag.float32)
    _same(T([7], dtype=ag.uint8) % T([3], dtype=ag.int8), [1], ag.int16)
    with pytest.raises(NotImplementedError, match="remainder"):
        T([True]) % T([True])


def test_float_floor_division_and_remainder_match_numpy_reference():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(400) * 10.0 ** rng.integers(-3, 4, 400)
    b = rng.standard_normal(400) * 10.0 ** rng.integers(-3, 4, 400)
    fd = np.floor_divide(a, b)                       # NumPy's float floor division is Python's (and torch's)
    r = np.remainder(a, b)
    r = np.where(r == 0, np.copysign(r, a), r)
    ta, tb = T(a, dtype=ag.float64), T(b, dtype=ag.float64)
    _same(ta // tb, fd, ag.float64)
    _same(ta % tb, r, ag.float64)
    _same(ag.fmod(ta, tb), np.fmod(a, b), ag.float64)


def test_remainder_fmod_gradients():
    a = T([5.5, -5.5, 6.2], dtype=ag.float64, requires_grad=True)
    b = T([2., 2., -3.], dtype=ag.float64, requires_grad=True)
    ag.remainder(a, b).sum().backward()
    _same(a.grad, [1., 1., 1.], ag.float64)
    _same(b.grad, [-2., 3., 3.], ag.float64)                     # -floor(a / b)
    a.grad = b.grad = None
    ag.fmod(a, b).sum().backward()
    _same(a.grad, [1., 1., 1.], ag.float64)
    _same(b.grad, [-2., 2., 2.], ag.float64)                     # -trunc(a / b)
    assert ag.gradcheck(lambda x, y: x % y, (a, b))
    assert ag.gradcheck(ag.fmod, (a, b))
    assert ag.gradgradcheck(lambda x, y: x % y, (a, b))
    # rounding division: zero gradient; floor_divide has none (PyTorch raises on backward)
    a.grad = b.grad = None
    ag.div(a, b, rounding_mode="floor").sum().backward()
    _same(a.grad, [0., 0., 0.], ag.float64)
    _same(b.grad, [0., 0., 0.], ag.float64)
    with pytest.raises(RuntimeError, match="floor_divide"):
        ag.floor_divide(a, b).sum().backward()


# --- #15, #28: powers ------------------------------------------------------------------------------

def test_scalar_base_power_is_exact_and_typed():
    _same(10 ** T([0., 1., 2., 3., -1.]), np.float32(10) ** np.array([0., 1., 2., 3., -1.], np.float32),
          ag.float32)
    _same(10 ** T([3., -1.], dtype=ag.float64), [1000., 0.1], ag.float64)
    _same(2 ** T([0, 1, 10, 62, 63, 64]), [1, 2, 1024, 2 ** 62, -2 ** 63, 0], ag.int64)   # wraps, as int64
    _same(2 ** T([3], dtype=ag.uint8), [8], ag.uint8)
    _same((-2) ** T([3], dtype=ag.int8), [-8], ag.int8)
    _same(2.0 ** T([3]), [8.], ag.float32)
    _same(2 ** T([True, False]), [2, 1], ag.int64)
    _same(T(2) ** T([3]), [8], ag.int64)
    _same(T([2., 3.]) ** T(2, dtype=ag.float64), [4., 9.], ag.float32)
    e = T([0.5, 2.], dtype=ag.float64, requires_grad=True)
    (3 ** e).sum().backward()
    _same(e.grad, 3 ** np.array([0.5, 2.]) * math.log(3), ag.float64)


def test_integer_power_with_negative_exponent():
    _same(T([2, 1, -1, 0, -2, 3, -1]) ** T([-1, -1, -1, -3, -1, -2, -2]), [0, 1, -1, 0, 0, 0, 1], ag.int64)
    _same(T([2, 1, -1], dtype=ag.int8) ** T([-1], dtype=ag.int8), [0, 1, -1], ag.int8)
    _same(T([2, 3], dtype=ag.int8) ** 7, [-128, -117], ag.int8)                   # wraps
    _same(T([True, False]) ** 2, [1, 0], ag.int64)
    _same(T([2, 3]) ** 2.0, [4., 9.], ag.float32)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        T([2, 1]) ** -1
    with pytest.raises(RuntimeError, match="pow.*overflow"):
        T([2], dtype=ag.uint8) ** 300
    with pytest.raises(NotImplementedError, match="pow"):
        T([True]) ** T([True])


# --- #29: Python ints out of a small dtype's range wrap around ------------------------------------

def test_out_of_range_python_ints_wrap():
    u = T([1, 2], dtype=ag.uint8)
    _same(u + 300, [45, 46], ag.uint8)
    _same(u + (-1), [0, 1], ag.uint8)
    _same(T([1], dtype=ag.int8) * 1000, [-24], ag.int8)
    _same(u ^ 300, [45, 46], ag.uint8)
    _same(u & -1, [1, 2], ag.uint8)
    assert (T([1], dtype=ag.uint8) == 257).tolist() == [True]           # 257 wraps to 1, as in torch
    assert (T([1], dtype=ag.uint8) > -1).tolist() == [False]
    assert (T([1], dtype=ag.int8) == 255).tolist() == [False]
    _same(T([-1, 2], dtype=ag.uint8), [255, 2], ag.uint8)
    _same(T(-1, dtype=ag.uint8), 255, ag.uint8)
    _same(T([-255], dtype=ag.uint8), [1], ag.uint8)
    _same(T([1.5], dtype=ag.uint8), [1], ag.uint8)
    _same(T([], dtype=ag.int8), np.zeros(0), ag.int8)
    for bad, dt in (([300], ag.uint8), ([-256], ag.uint8), ([-129], ag.int8), ([-1.0], ag.uint8),
                    ([2 ** 31], ag.int32)):
        with pytest.raises(RuntimeError, match="tensor.*overflow"):
            T(bad, dtype=dt)
    with pytest.raises(OverflowError, match="add"):
        T([1]) + 2 ** 63


# --- #19, #31: factories ---------------------------------------------------------------------------------

def test_arange_is_exact_for_int64_and_infers_dtypes():
    t = ag.arange(2 ** 53, 2 ** 53 + 5)
    assert t.dtype is ag.int64 and tuple(t.shape) == (5,)
    assert t.tolist() == [2 ** 53 + i for i in range(5)]
    assert ag.arange(2 ** 62, 2 ** 62 + 3).tolist() == [2 ** 62, 2 ** 62 + 1, 2 ** 62 + 2]
    assert ag.arange(5).dtype is ag.int64
    assert ag.arange(5.).dtype is ag.float32
    assert ag.arange(0, 5, 0.5).dtype is ag.float32
    assert ag.arange(T(3.)).dtype is ag.float32
    _same(ag.arange(T(3)), [0, 1, 2], ag.int64)
    _same(ag.arange(True), [0], ag.int64)
    _same(ag.arange(10, 0, -3), [10, 7, 4, 1], ag.int64)
    _same(ag.arange(0, 2.5, dtype=ag.int64), [0, 1], ag.int64)          # torch truncates the bounds first
    _same(ag.arange(-2.5, 2.5, dtype=ag.int64), [-2, -1, 0, 1], ag.int64)
    _same(ag.arange(0, 2.5, dtype=ag.int32), [0, 1, 2], ag.int32)
    assert tuple(ag.arange(0, 1, 0.1).shape) == (10,)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        ag.arange(0, -5)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        ag.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="unsupported range"):
        ag.arange(math.inf)


def test_linspace_and_full_dtypes():
    assert ag.linspace(0, 1, 5).dtype is ag.float32
    _same(ag.linspace(0, 10, 5, dtype=ag.int64), [0, 2, 5, 7, 10], ag.int64)
    _same(ag.linspace(-1, 1, 4, dtype=ag.int64), [-1, 0, 0, 1], ag.int64)
    _same(ag.linspace(0, 7, 3, dtype=ag.uint8), [0, 3, 7], ag.uint8)
    with pytest.raises(RuntimeError, match="non-negative"):
        ag.linspace(0, 1, -1)
    _same(ag.full((2,), 7), [7, 7], ag.int64)
    _same(ag.full((2,), True), [True, True], ag.bool)
    _same(ag.full((2,), 7.), [7., 7.], ag.float32)
    _same(ag.full((2,), T(3)), [3, 3], ag.int64)
    _same(ag.full((2,), -1, dtype=ag.uint8), [255, 255], ag.uint8)
    _same(ag.full((2,), 2.5, dtype=ag.int64), [2, 2], ag.int64)
    _same(ag.full_like(T([1, 2]), 2.7), [2, 2], ag.int64)
    with pytest.raises(RuntimeError, match="full.*overflow"):
        ag.full((2,), 300, dtype=ag.uint8)
    with pytest.raises(RuntimeError, match="full.*overflow"):
        ag.full((2,), 1e40)


def test_random_floats_refuse_integer_dtypes():
    for f in (ag.rand_like, ag.randn_like):
        with pytest.raises(NotImplementedError, match=f.__name__):
            f(T([1, 2]))
        with pytest.raises(NotImplementedError):
            f(T([True]))
    with pytest.raises(NotImplementedError, match="rand"):
        ag.rand(2, dtype=ag.int64)
    assert ag.rand_like(T([1, 2]), dtype=ag.float64).dtype is ag.float64
    assert tuple(ag.randn_like(T([[1.]])).shape) == (1, 1)


# --- #33: format --------------------------------------------------------------------------------------

def test_format_of_a_zero_dim_tensor_is_its_number():
    assert "{:+.2f}".format(T(3.14159)) == "+3.14"
    assert format(T(2), "05d") == "00002"
    assert format(T(True), "") == "True"
    assert f"{T(1.5, requires_grad=True):>6}" == "   1.5"
    assert format(T([1., 2.]), "") == str(T([1., 2.]))
    for t in (T([3.14159]), T([[1.]]), T([1., 2.])):          # torch: only 0-d tensors take a spec
        with pytest.raises(TypeError, match="unsupported format string"):
            format(t, ".2f")


# --- #31: mm / bmm / matmul ---------------------------------------------------------------------------

def test_matmul_family_checks_dtypes_and_ndims():
    a32, a64 = ag.ones(2, 2), ag.ones(2, 2, dtype=ag.float64)
    for f in (ag.matmul, ag.mm, lambda x, y: x @ y):
        with pytest.raises(RuntimeError, match="same dtype.*float32 != float64"):
            f(a32, a64)
    with pytest.raises(RuntimeError, match="bmm.*same dtype"):
        ag.bmm(ag.ones(1, 2, 2), ag.ones(1, 2, 2, dtype=ag.float64))
    with pytest.raises(RuntimeError, match="mm: self must be a matrix"):
        ag.mm(ag.ones(2), a32)
    with pytest.raises(RuntimeError, match="mm: mat2 must be a matrix"):
        ag.mm(a32, ag.ones(1, 2, 2))
    with pytest.raises(RuntimeError, match=r"mm: mat1 and mat2 shapes cannot be multiplied \(1x2 and 1x2\)"):
        ag.mm(ag.ones(1, 2), ag.ones(1, 2))
    with pytest.raises(RuntimeError, match="bmm: batch1 must be a 3D tensor"):
        ag.bmm(a32, a32)
    with pytest.raises(RuntimeError, match=r"bmm: Expected size .* \[2, 2\] but got: \[3, 2\]"):
        ag.bmm(ag.ones(2, 1, 2), ag.ones(3, 2, 1))
    with pytest.raises(NotImplementedError, match="matmul"):
        T([[True]]) @ T([[True]])
    with pytest.raises(TypeError, match="matmul"):
        ag.matmul(a32, 2)
    _same(ag.mm(T([[1, 2]]), T([[1], [2]])), [[5]], ag.int64)
    _same(T([1, 2]) @ T([1, 2]), 5, ag.int64)
    _same(ag.mm(T([[1]], dtype=ag.uint8), T([[3]], dtype=ag.uint8)), [[3]], ag.uint8)
    x = ag.randn(3, 2, 4, dtype=ag.float64, requires_grad=True)
    y = ag.randn(3, 4, 5, dtype=ag.float64, requires_grad=True)
    assert tuple(ag.bmm(x, y).shape) == (3, 2, 5)
    assert ag.gradcheck(ag.bmm, (x, y))
    assert ag.gradcheck(ag.mm, (x[0], y[0]))


# --- comparisons, logical and bitwise operators, add/sub alpha --------------------------------------

def test_logical_and_bitwise_ops():
    b, i = T([True, False]), T([1, 2])
    u, i8 = T([1, 2], dtype=ag.uint8), T([1, -2], dtype=ag.int8)
    _same(b & i, [1, 0], ag.int64)
    _same(b | 1, [1, 1], ag.int64)
    _same(b & True, [True, False], ag.bool)
    _same(u & i8, [1, 2], ag.int16)
    _same(u | T(-1), [255, 255], ag.uint8)
    _same(i8 ^ T(3, dtype=ag.int16), [2, -3], ag.int8)
    _same(b & T(2), [0, 0], ag.int64)
    _same(3 | b, [3, 3], ag.int64)
    _same(~u, [254, 253], ag.uint8)
    _same(ag.logical_and(i, T([1., 0.])), [True, False], ag.bool)
    _same(ag.logical_xor(i, b), [False, True], ag.bool)
    _same(ag.bitwise_xor(i, 1), [0, 3], ag.int64)
    for f in (lambda: i & 1.5, lambda: T([1.]) & 1, lambda: T([1.]) | T([1.])):
        with pytest.raises(NotImplementedError, match="bitwise"):
            f()
    with pytest.raises(TypeError, match="~"):
        ~T([1.])
    with pytest.raises(TypeError, match="logical_or"):
        ag.logical_or(T([1.]), 0)


def test_comparisons_promote():
    assert (T([True, False]) == T([1, 2])).tolist() == [True, False]
    assert (T([True, False]) < 0.5).tolist() == [False, True]
    assert (T([1, 2], dtype=ag.uint8) < T([1, -2], dtype=ag.int8)).tolist() == [False, False]
    assert (T([1., 2.]) == T(1., dtype=ag.float64)).tolist() == [True, False]
    assert (T([0.1]) == 0.1).tolist() == [True]                    # the scalar takes float32
    assert (T([0.1], dtype=ag.float64) == T(0.1)).tolist() == [False]
    assert (T([16777217]) == T(16777216.)).tolist() == [True]       # compared in float32


def test_add_sub_alpha_and_bool_subtraction():
    i, f, b = T([1, 2]), T([1., 2.]), T([True, False])
    _same(i.add(i, alpha=2), [3, 6], ag.int64)
    _same(i.add(1.5, alpha=2), [4., 5.], ag.float32)
    _same(f.add(i, alpha=2.5), [3.5, 7.], ag.float32)
    _same(i.add(f, alpha=2.5), [3.5, 7.], ag.float32)
    _same(b.add(b, alpha=2), [True, False], ag.bool)
    _same(T([1, 2], dtype=ag.uint8).add(T([1, 2], dtype=ag.uint8), alpha=-1), [0, 0], ag.uint8)
    with pytest.raises(RuntimeError, match="add: For integral input tensors, argument alpha"):
        i.add(i, alpha=2.5)
    with pytest.raises(RuntimeError, match="sub: For integral input tensors"):
        i.sub(i, alpha=1.)
    with pytest.raises(RuntimeError, match="Boolean alpha"):
        f.add(f, alpha=True)
    with pytest.raises(RuntimeError, match="two bool tensors"):
        b - b
    for f_ in (lambda: b - 1, lambda: 1 - b, lambda: i - b, lambda: b.sub(1)):
        with pytest.raises(RuntimeError, match="sub: Subtraction, the `-` operator, with a bool tensor"):
            f_()
    with pytest.raises(RuntimeError, match="neg: Negation"):
        -b
    _same(b + b, [True, False], ag.bool)
    _same(b * b, [True, False], ag.bool)
