"""Backends and devices: the registry, device moves and errors, memory accounting, and the op
registry (tests/opinfo.py) on the stand-in cupy.

Each backend-parametrized test runs on "cpu", "array_api_strict", "cuda" (skipped with the
reason when CuPy or a GPU is missing) and "fake_cupy": the real CupyBackend class driven by a
stand-in `cupy` module made of NumPy with the array-API names removed, which exercises the
backend's own code and its namespace shim on machines without a GPU.
"""
import os
import pathlib
import re
import subprocess
import sys
import tracemalloc
import types
import warnings

import numpy as np
import pytest

import autograd as ag
import backends
from backends.numpy_backend import NumpyBackend

torch = pytest.importorskip("torch")
F = torch.nn.functional
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _has_real_cupy():
    try:
        import cupy  # noqa: F401
        return True
    except Exception:  # noqa: BLE001
        return False


# ----------------------------------------------------------------------------------------
# a stand-in cupy: NumPy without the array-API names CuPy 13 lacks

_NOT_IN_OLD_CUPY = {"concat", "permute_dims", "astype", "pow", "bitwise_invert"}


def _fake_cupy_modules():
    import scipy.special
    cp = types.ModuleType("cupy")
    for n in dir(np):
        if not n.startswith("__") and n not in _NOT_IN_OLD_CUPY:
            setattr(cp, n, getattr(np, n))
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    cp.random = types.SimpleNamespace(RandomState=np.random.RandomState)
    cp.asnumpy = lambda a: np.array(a, copy=True)
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = types.ModuleType("cupyx.scipy")
    cupyx.scipy.special = types.ModuleType("cupyx.scipy.special")
    cupyx.scipy.special.erf = scipy.special.erf
    return {"cupy": cp, "cupyx": cupyx, "cupyx.scipy": cupyx.scipy, "cupyx.scipy.special": cupyx.scipy.special,
            "array_api_compat": None}     # None in sys.modules makes `import array_api_compat` fail: the shim


@pytest.fixture
def fake_cupy(monkeypatch):
    if _has_real_cupy():
        pytest.skip("real CuPy installed: the 'cuda' parametrization covers it")
    mods = _fake_cupy_modules()
    for name, mod in mods.items():
        monkeypatch.setitem(sys.modules, name, mod)
    from backends.cupy_backend import CupyBackend
    be = CupyBackend()
    assert be.is_available(), be.unavailable_reason()
    monkeypatch.setitem(backends._registry, "cuda", be)
    return be


BACKENDS = ["cpu", "array_api_strict", "cuda", "fake_cupy"]


@pytest.fixture(params=BACKENDS)
def dev(request):
    name = request.param
    if name == "fake_cupy":
        request.getfixturevalue("fake_cupy")
        return "cuda"
    be = backends.get(name)
    if not be.is_available():
        pytest.skip(f"backend {name!r} unavailable here: {be.unavailable_reason()}")
    return name


# ----------------------------------------------------------------------------------------
# the op registry on the stand-in cupy (real backends run it through --backend: test_conformance.py)

def test_registry_runs_on_fake_cupy(fake_cupy):
    """The first float64 samples of every registry entry through the CupyBackend class and its shim.
    The stand-in computes with NumPy, so the divergences to expect are KNOWN's for "cpu"."""
    from tests.opinfo import REGISTRY
    from tests import test_conformance as conf
    unexpected = []
    for info in REGISTRY:
        dt = "float64" if "float64" in info.dtypes else info.dtypes[0]
        rep = conf._Report(info, dt, "cpu")
        for s in info.samples(dt)[:3]:
            conf._run_sample(info, s, dt, "cuda", rep)
        # real CuPy never emits NumPy's floating-point warnings (its enter_quiet is a no-op);
        # the NumPy stand-in does, so the warning check says nothing about CuPy here
        unexpected += [u for u in rep.unexpected if not u.startswith("fixed") and "'warning')" not in u]
    assert not unexpected, "\n".join(unexpected)


def test_integer_division_matches_torch(dev):
    a, b = [7, -7, 6, -6, 5, 0], [2, 2, -4, 4, -5, 3]
    ta, tb = torch.tensor(a), torch.tensor(b)
    ga, gb = ag.tensor(a, device=dev), ag.tensor(b, device=dev)
    assert (ga // gb).dtype is ag.int64
    assert (ga // gb).tolist() == (ta // tb).tolist()
    assert ag.div(ga, gb, rounding_mode="trunc").tolist() == torch.div(ta, tb, rounding_mode="trunc").tolist()
    assert (ga % gb).tolist() == (ta % tb).tolist()


def test_factories_and_random_on_device(dev):
    ag.manual_seed(3)
    x = ag.rand(1000, device=dev, dtype=ag.float64)
    y = ag.randn(1000, device=dev, dtype=ag.float64)
    k = ag.randint(0, 5, (1000,), device=dev)
    p = ag.randperm(7, device=dev)
    for t in (x, y, k, p, ag.zeros(2, device=dev), ag.arange(0, 1, 0.25, device=dev), ag.eye(3, device=dev)):
        assert t.device == ag.device(dev)
    xs = np.asarray(x.cpu())
    assert 0 <= xs.min() and xs.max() < 1 and 0.4 < xs.mean() < 0.6
    assert abs(float(y.mean())) < 0.15 and 0.85 < float(y.std()) < 1.15
    assert set(k.tolist()) == {0, 1, 2, 3, 4} and k.dtype is ag.int64
    assert sorted(p.tolist()) == list(range(7))
    ag.manual_seed(3)
    assert np.array_equal(np.asarray(ag.rand(1000, device=dev, dtype=ag.float64).cpu()), xs)
    assert ag.arange(0, 1, 0.25, device=dev).tolist() == [0.0, 0.25, 0.5, 0.75]


def test_inplace_and_setitem_on_device(dev):
    t = ag.zeros(3, 4, device=dev)
    t[ag.tensor([0, 2], device=dev)] = 5.0           # advanced-index assignment
    t[1, 1:3] = 2.0
    t.add_(1).mul_(2)
    want = np.zeros((3, 4), np.float32)
    want[[0, 2]] = 5
    want[1, 1:3] = 2
    np.testing.assert_array_equal(np.asarray(t.cpu()), (want + 1) * 2)


def test_grad_of_grad_on_device(dev):
    x = ag.tensor([0.3, -1.2, 2.0], dtype=ag.float64, device=dev, requires_grad=True)
    (g,) = ag.grad((x ** 3).sum(), [x], create_graph=True)
    (gg,) = ag.grad(g.sum(), [x])
    np.testing.assert_allclose(np.asarray(gg.cpu()), 6 * np.array([0.3, -1.2, 2.0]))
    y = ag.tensor([[0.5, -0.2], [1.5, 0.7]], dtype=ag.float64, device=dev, requires_grad=True)
    assert ag.gradcheck(lambda a, b: (ag.softmax(a @ b, 1) * a[:, :1]).sum(), (x[:2].unsqueeze(0), y))


def test_sliding_windows_match_numpy(dev):
    be = backends.get(dev)
    a = np.arange(2 * 7 * 6, dtype=np.float64).reshape(2, 7, 6)
    got = be.to_numpy(be.sliding_windows(be.asarray(a), (3, 2), (1, 2), strides=(2, 1), dilation=(2, 1)))
    # windows by hand: out[b, i, j, p, q] = a[b, 2*i + 2*p, j + q]
    oi, oj = (7 - 5) // 2 + 1, 6 - 2 + 1
    want = np.empty((2, oi, oj, 3, 2))
    for i in range(oi):
        for j in range(oj):
            for p in range(3):
                for q in range(2):
                    want[:, i, j, p, q] = a[:, 2 * i + 2 * p, j + q]
    np.testing.assert_array_equal(got, want)


def _index_cases(be):
    """(target shape, engine-normalized index, values shape): advanced with repeats, mixed with a
    slice, a bool mask, basic only, and 0-d"""
    A = lambda *v: be.asarray(np.array(v))                        # noqa: E731
    return [
        ((3, 2), (A(0, 2, 0, 0),), (4, 2)),
        ((3, 4), (slice(None), A(3, 0, 3)), (3, 3)),
        ((2, 3), (A(1, 1, 0), A(2, 2, 0)), (3,)),
        ((2, 3), (be.asarray(np.array([[True, False, True], [True, False, False]])),), (3,)),
        ((4, 3), (slice(1, None, 2), 2), (2,)),
        ((4, 3), (None, Ellipsis, slice(0, 2)), (1, 4, 2)),
        ((3,), (1,), ()),
        ((), (), ()),
    ]


def _host_index(be, index):
    return tuple(be.to_numpy(i) if be.is_array(i) else i for i in index)


def test_scatter_add_returns_the_sum_with_repeated_indices_accumulating(dev):
    be = backends.get(dev)
    f64 = be.native_dtype(ag.float64)
    rng = np.random.default_rng(1)
    for shape, index, vshape in _index_cases(be):
        start, vals = rng.standard_normal(shape), rng.standard_normal(vshape)
        want = start.copy()
        np.add.at(want, _host_index(be, index), vals)
        got = be.scatter_add(be.asarray(start, dtype=f64), index, be.asarray(vals, dtype=f64))
        assert be.is_array(got), (shape, index)
        got = be.to_numpy(got)
        assert got.shape == shape and got.dtype == np.float64, (shape, index)
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, err_msg=str((shape, index)))


def test_index_put_returns_a_new_array_and_leaves_its_input(dev):
    be = backends.get(dev)
    f64 = be.native_dtype(ag.float64)
    rng = np.random.default_rng(2)
    for shape, index, vshape in _index_cases(be):
        start = rng.standard_normal(shape)
        for value in (rng.standard_normal(vshape), 7.5):
            want = start.copy()
            want[_host_index(be, index)] = value
            arr = be.asarray(start, dtype=f64)
            got = be.index_put(arr, index, be.asarray(value, dtype=f64) if isinstance(value, np.ndarray) else value)
            assert be.is_array(got), (shape, index)
            np.testing.assert_array_equal(be.to_numpy(arr), start, err_msg=f"input changed: {shape} {index}")
            got = be.to_numpy(got)
            assert got.shape == shape and got.dtype == np.float64, (shape, index)
            np.testing.assert_array_equal(got, want, err_msg=str((shape, index)))


# ----------------------------------------------------------------------------------------
# the backend contract, exact on every backend: shapes, selects, functional scatters, quiet

SHAPES = [(), (0,), (1,), (2, 3)]


def _shape(a):
    return tuple(int(n) for n in a.shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_elementwise_and_random_keep_exact_shapes(dev, shape):
    # a 0-d result is 0-d, never (1,): assert_allclose would let (1,) pass for ()
    be = backends.get(dev)
    f64, i64 = be.native_dtype(ag.float64), be.native_dtype(ag.int64)
    x = be.asarray(np.full(shape, 0.5), dtype=f64)
    assert _shape(be.erf(x)) == shape
    assert _shape(be.uniform(shape, 0.0, 1.0, f64)) == shape
    assert _shape(be.normal(shape, 0.0, 1.0, f64)) == shape
    assert _shape(be.integers(0, 5, shape, i64)) == shape
    t = ag.full(shape, 0.5, dtype=ag.float64, device=dev)
    for name, out in (("erf", ag.erf(t)), ("gelu", ag.gelu(t)), ("rand", ag.rand(shape, device=dev)),
                      ("randn", ag.randn(shape, device=dev)), ("randint", ag.randint(0, 5, shape, device=dev))):
        assert tuple(out.shape) == shape, name
        assert np.asarray(out.cpu()).shape == shape, name


_SPECIAL = [np.inf, -np.inf, np.nan, -0.0, 0.0, 1.5, -2.0, 3e-30]


def _bits(a):
    a = np.asarray(a)
    return a.view({2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 8, 5000])          # 5000: past NumPy's small-array path
def test_masked_is_a_select_bit_for_bit(dev, dtype, n):
    # g where mask else +0, never g * mask: 0 * inf would be nan, -2 * 0 would be -0.0
    be = backends.get(dev)
    try:
        native = be.native_dtype(getattr(ag, dtype))
    except TypeError:
        pytest.skip(f"{dtype} not on {dev}")
    rng = np.random.default_rng(n)
    g = np.resize(np.array(_SPECIAL, dtype=dtype), n)
    rng.shuffle(g)
    mask = rng.random(n) < 0.5
    mask[:8] = [False, False, False, False, True, True, True, True][:n]
    want = np.where(mask, g, np.zeros((), dtype))
    got = be.to_numpy(be.masked(be.asarray(g, dtype=native), be.asarray(mask)))
    assert got.dtype == np.dtype(dtype) and got.shape == (n,)
    np.testing.assert_array_equal(_bits(got), _bits(want))


def test_masked_zero_d(dev):
    be = backends.get(dev)
    f64 = be.native_dtype(ag.float64)
    for gv, mv, want in ((np.inf, False, 0.0), (-0.0, True, -0.0), (np.nan, False, 0.0)):
        got = be.to_numpy(be.masked(be.asarray(np.array(gv), dtype=f64), be.asarray(np.array(mv))))
        assert got.shape == () and got.dtype == np.float64
        np.testing.assert_array_equal(_bits(got), _bits(np.array(want)))


def test_relu_and_clamp_send_no_nan_through_an_inf_gradient(dev):
    x = ag.tensor([-1.0, 2.0, 0.5], dtype=ag.float64, device=dev, requires_grad=True)
    up = ag.tensor([np.inf, np.inf, -np.inf], dtype=ag.float64, device=dev)
    ag.relu(x).backward(up)
    assert x.grad.tolist() == [0.0, np.inf, -np.inf]
    x.grad = None
    ag.clamp(x, -0.5, 1.0).backward(up)
    assert x.grad.tolist() == [0.0, 0.0, -np.inf]


def _fp_errors(xp, f64):
    """overflow, divide by zero and invalid value, through the backend's namespace"""
    one, zero = xp.asarray(1.0, dtype=f64), xp.asarray(0.0, dtype=f64)
    return [one / zero, zero / zero, xp.exp(xp.asarray(1000.0, dtype=f64)), xp.log(zero - one)]


QUIET_BACKENDS = ["cpu", "array_api_strict", "cuda"]     # fake_cupy is NumPy: it warns, real CuPy never


def _backend_or_skip(name):
    be = backends.get(name)
    if not be.is_available():
        pytest.skip(f"backend {name!r} unavailable here: {be.unavailable_reason()}")
    return be


@pytest.mark.parametrize("name", QUIET_BACKENDS)
def test_quiet_silences_floating_point_warnings_and_restores_the_users_state(name):
    be = _backend_or_skip(name)
    f64 = be.native_dtype(ag.float64)
    with np.errstate(divide="raise", over="warn", invalid="print", under="ignore"):
        before = np.geterr()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tok = be.enter_quiet()
            try:
                out = [be.to_numpy(a) for a in _fp_errors(be.xp, f64)]
            finally:
                be.exit_quiet(tok)
        assert np.geterr() == before
        np.testing.assert_array_equal(np.concatenate([o.reshape(-1) for o in out]), [np.inf, np.nan, np.inf, np.nan])
        if name != "cuda":                        # the user's own settings are back in force
            with pytest.raises(FloatingPointError):
                np.float64(1.0) / np.float64(0.0)


def test_quiet_nests_and_survives_an_exception():
    be = backends.get("cpu")
    base = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t1 = be.enter_quiet()
        t2 = be.enter_quiet()
        be.exit_quiet(t2)
        np.float64(1.0) / np.float64(0.0)         # still quiet: the outer window is open
        try:
            t3 = be.enter_quiet()
            try:
                raise KeyError("inside")
            finally:
                be.exit_quiet(t3)
        except KeyError:
            pass
        np.float64(1.0) / np.float64(0.0)
        be.exit_quiet(t1)
        assert np.geterr() == base
        with pytest.raises(RuntimeWarning):
            np.float64(1.0) / np.float64(0.0)


def test_quiet_is_per_thread():
    import threading
    be = backends.get("cpu")
    entered, done = threading.Event(), threading.Event()
    seen = {}

    def quiet_thread():
        tok = be.enter_quiet()
        seen["inside"] = np.geterr()
        entered.set()
        done.wait(10)
        be.exit_quiet(tok)

    th = threading.Thread(target=quiet_thread)
    th.start()
    try:
        assert entered.wait(10)
        assert seen["inside"]["divide"] == "ignore"
        with np.errstate(divide="raise"):          # this thread keeps its own state meanwhile
            with pytest.raises(FloatingPointError):
                np.float64(1.0) / np.float64(0.0)
    finally:
        done.set()
        th.join()


def test_quiet_is_a_no_op_on_a_backend_that_never_warns():
    be = backends.Backend()
    assert be.enter_quiet() is None and be.exit_quiet(None) is None


@pytest.mark.parametrize("name", ["cpu", "array_api_strict"])
def test_backend_host_computations_and_printing_are_silent(name):
    be = _backend_or_skip(name)
    dt = ag.float32 if name == "array_api_strict" else ag.float16
    big = 1e39 if dt is ag.float32 else 1e6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(be.to_numpy(be.asarray([big, -big], dtype=be.native_dtype(dt)))).all()
        assert np.isinf(be.to_numpy(be.uniform((50,), -big * 1e3, big * 1e3, be.native_dtype(dt)))).any()
        be.erf(be.asarray([np.nan, np.inf, 1.0], dtype=be.native_dtype(dt)))
        t = ag.tensor([1.0, float("inf"), float("nan"), -float("inf")], dtype=dt, device=name)
        text = repr(t)
        repr(ag.tensor([3.0, float("inf")], dtype=dt, device=name))
    assert "inf" in text and "nan" in text


def _raised(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return e
    raise AssertionError("no exception")


def test_error_type_is_a_builtin_class_found_without_reading_the_message(dev):
    be = backends.get(dev)
    xp = be.xp
    f64 = be.native_dtype(ag.float64)
    cases = [
        (_raised(lambda: be.asarray(np.ones(2), dtype=f64) + be.asarray(np.ones(3), dtype=f64)), ValueError),
        (_raised(lambda: xp.reshape(be.asarray(np.ones(6), dtype=f64), (4,))), ValueError),
        (_raised(lambda: be.getitem(be.asarray(np.ones(2), dtype=f64), (5,))), IndexError),
        (ZeroDivisionError("x"), ZeroDivisionError),
    ]
    if dev == "cpu":
        cases += [(_raised(lambda: np.add(np.array(["a"]), 1.0)), TypeError),          # _UFuncNoLoopError
                  (_raised(lambda: np.sum(np.ones(2), axis=3)), ValueError),            # AxisError
                  (type("LibOOM", (MemoryError,), {})("x"), MemoryError)]
    for exc, want in cases:
        got = be.error_type(exc)
        assert got is want, (type(exc), got)
        assert isinstance(exc, got)
        assert isinstance(got("op: message"), want)                  # constructible from a message


# ----------------------------------------------------------------------------------------
# registry

class ToyBackend(NumpyBackend):
    name = "toy"
    device_type = "toy"


@pytest.fixture
def toy(monkeypatch):
    be = ToyBackend()
    monkeypatch.setattr(backends, "_registry", dict(backends._registry))
    backends.register("toy", be)
    return be


def test_registered_backend_serves_its_device(toy):
    t = ag.ones(2, 3, device="toy", requires_grad=True)
    assert t.device == ag.device("toy") and t._backend is toy and backends.get("toy") is toy
    (t * 2).sum().backward()
    assert t.grad.device == ag.device("toy")
    assert t.grad.tolist() == [[2.0] * 3] * 2
    c = t.detach().cpu()
    assert c.device == ag.device("cpu") and c.tolist() == [[1.0] * 3] * 2


def test_register_rejects_non_backend():
    with pytest.raises(TypeError, match="Backend instance"):
        backends.register("nope", object())


def test_unknown_device_names_it_and_the_registered_ones():
    with pytest.raises(RuntimeError, match=r"unknown device type 'tpu'.*'cpu'"):
        ag.zeros(2, device="tpu")


def test_mixing_devices_names_both_devices_and_the_op(toy):
    a = ag.ones(2, device="cpu")
    b = ag.ones(2, device="toy")
    for f, op in ((lambda: a + b, "Add"), (lambda: ag.matmul(a, b), "Matmul"), (lambda: ag.cat([a, b]), "Cat")):
        with pytest.raises(RuntimeError) as e:
            f()
        msg = str(e.value)
        assert op.lower() in msg.lower() and "cpu" in msg and "toy" in msg, msg
    with pytest.raises(RuntimeError, match=r"add_.*cpu.*toy"):
        a.add_(b)


# ----------------------------------------------------------------------------------------
# devices and moves

def test_to_roundtrip_cpu_strict_carries_gradients_back():
    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, device="cpu", requires_grad=True)
    s = x.to("array_api_strict")
    assert s.device == ag.device("array_api_strict") and x.device == ag.device("cpu")
    y = (s * s).to("cpu")
    (y * ag.tensor([1.0, 10.0, 100.0], dtype=ag.float64, device="cpu")).sum().backward()
    assert x.grad.device == ag.device("cpu")
    np.testing.assert_allclose(np.asarray(x.grad), [2.0, 40.0, 600.0])
    # and the other way round: a strict leaf, computed on the CPU
    z = ag.tensor([1.0, -2.0], device="array_api_strict", requires_grad=True)
    (z.cpu() ** 3).sum().backward()
    assert z.grad.device == ag.device("array_api_strict")
    assert z.grad.tolist() == [3.0, 12.0]


def test_move_copies_storage():
    x = ag.tensor([1.0, 2.0], device="cpu")
    s = x.to("array_api_strict")
    x.add_(10)
    assert s.tolist() == [1.0, 2.0]
    s.add_(1)
    assert x.tolist() == [11.0, 12.0]


def test_strict_rejects_float16_clearly():
    with pytest.raises(TypeError, match="float16 is not supported by the array_api_strict backend"):
        ag.zeros(2, dtype=ag.float16, device="array_api_strict")


@pytest.mark.skipif(_has_real_cupy(), reason="CuPy is installed")
def test_cuda_unavailable_says_why():
    be = backends.get("cuda")
    assert not be.is_available()
    assert "cupy is not installed (pip install tapegrad[cuda])" in be.unavailable_reason()
    assert not ag.cuda.is_available() and ag.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=r"device 'cuda' is not available: cupy is not installed"):
        ag.ones(2, device="cpu").cuda()
    with pytest.raises(RuntimeError, match="pip install tapegrad"):
        ag.zeros(2, device="cuda:0")


def test_cuda_without_gpu_says_no_device(monkeypatch):
    cp = types.ModuleType("cupy")

    def no_gpu():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_gpu))
    monkeypatch.setitem(sys.modules, "cupy", cp)
    from backends.cupy_backend import CupyBackend
    be = CupyBackend()
    assert not be.is_available()
    assert be.unavailable_reason().startswith("no CUDA device found: ")
    assert "cudaErrorNoDevice" in be.unavailable_reason()


def test_cuda_index_other_than_zero_is_refused(fake_cupy):
    assert backends.get("cuda:0") is fake_cupy
    assert ag.zeros(1, device="cuda:0").device == ag.device("cuda")
    with pytest.raises(RuntimeError, match="CUDA_VISIBLE_DEVICES=1"):
        ag.zeros(1, device="cuda:1")


def test_fake_cupy_goes_through_the_shim(fake_cupy):
    from backends._xp_shim import ArrayAPIShim
    assert isinstance(fake_cupy.xp, ArrayAPIShim)
    assert not hasattr(sys.modules["cupy"], "permute_dims")     # so the op table used the renames


def _run_py(code, **env):
    e = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=120)


def test_default_device_from_env_var():
    r = _run_py("import autograd as ag; print(ag.get_default_device(), ag.zeros(1).device, ag.randn(2).device)",
                TAPEGRAD_DEVICE="array_api_strict")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["array_api_strict"] * 3


@pytest.mark.skipif(_has_real_cupy(), reason="CuPy is installed")
def test_default_device_env_var_unavailable_says_why():
    r = _run_py("import autograd as ag; ag.zeros(1)", TAPEGRAD_DEVICE="cuda")
    assert r.returncode != 0
    assert "device 'cuda' is not available: cupy is not installed" in r.stderr


def test_set_default_device():
    prev = ag.get_default_device()
    try:
        ag.set_default_device("array_api_strict")
        assert ag.tensor([1.0]).device == ag.device("array_api_strict")
        assert ag.ones(2).device == ag.device("array_api_strict")
        with pytest.raises(RuntimeError, match="unknown device type 'nowhere'"):
            ag.set_default_device("nowhere")
        assert ag.get_default_device() == ag.device("array_api_strict")    # a failed set changes nothing
    finally:
        ag.set_default_device(prev)


# ----------------------------------------------------------------------------------------
# memory accounting: the same two methods on every backend

@pytest.mark.parametrize("name", ["cpu", "array_api_strict", "cuda"])
def test_memory_stats_see_an_allocation(name):
    be = backends.get(name)
    if not be.is_available():
        pytest.skip(f"backend {name!r} unavailable here: {be.unavailable_reason()}")
    host = name != "cuda"
    if host:
        tracemalloc.start()
    try:
        nbytes = 8 * 1_000_000
        be.reset_peak()
        before = be.memory_stats()
        t = ag.ones(1_000_000, dtype=ag.float64, device=name)
        be.synchronize()
        during = be.memory_stats()
        assert during["allocated"] - before["allocated"] >= nbytes
        assert be.memory_allocated() - before["allocated"] >= nbytes
        del t
        after = be.memory_stats()
        assert after["allocated"] - before["allocated"] < nbytes          # freed
        assert after["peak"] - before["allocated"] >= nbytes              # the peak remembers
        be.reset_peak()
        assert be.memory_stats()["peak"] - before["allocated"] < nbytes   # a new window
    finally:
        if host:
            tracemalloc.stop()


def test_host_memory_stats_require_tracemalloc():
    assert not tracemalloc.is_tracing()
    for name in ("cpu", "array_api_strict"):
        with pytest.raises(RuntimeError, match=r"tracemalloc.start\(\)"):
            backends.get(name).memory_stats()


# ----------------------------------------------------------------------------------------
# layering

def test_backends_never_import_autograd():
    pat = re.compile(r"^\s*(from\s+autograd\b|import\s+autograd\b|from\s+\.\.)", re.M)
    offenders = [p.name for p in (ROOT / "backends").glob("*.py") if pat.search(p.read_text())]
    assert offenders == []
    r = _run_py("import sys, backends; backends.get('array_api_strict'); backends.get('cuda').is_available(); "
                "print(any(m == 'autograd' or m.startswith('autograd.') for m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_numpy_fast_reductions_equal_numpys_own():
    """backends/_np_fast.py calls a reduction's ufunc directly for ndarrays: the results (value,
    type, dtype, shape) and errors must be exactly NumPy's wrappers', for every dtype and axis form."""
    from backends._np_fast import namespace
    ns = namespace()
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)).astype(np.float32), np.array([[1, 2], [3, 4]], np.int32),
              np.array([True, False]), np.zeros((0, 3)), np.array(3.5), np.array([np.nan, 1.0]),
              np.array([200, 100], np.uint8), rng.standard_normal((2, 3)).astype(np.float16), np.float32(2.0)]
    checked = 0
    for a in arrays:
        for name in ("sum", "prod", "max", "min", "all", "any"):
            for axis in ((None, 0, -1, (0,)) if np.ndim(a) else (None,)):
                for keepdims in (False, True):
                    outs = []
                    for f in (getattr(np, name), getattr(ns, name)):
                        try:
                            outs.append(("ok", f(a, axis=axis, keepdims=keepdims)))
                        except Exception as e:  # noqa: BLE001 - the same error is the contract
                            outs.append(("error", type(e)))
                    (k1, r1), (k2, r2) = outs
                    assert k1 == k2, (name, a, axis)
                    if k1 == "ok":
                        assert type(r1) is type(r2) and np.asarray(r1).dtype == np.asarray(r2).dtype
                        assert np.shape(r1) == np.shape(r2)
                        np.testing.assert_array_equal(r1, r2)
                    else:
                        assert r1 is r2
                    checked += 1
    assert ns.sum(np.ones(3, np.float16), dtype=np.float32).dtype == np.float32
    assert ns.exp is np.exp and checked > 300
