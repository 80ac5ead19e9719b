"""Random numbers (issue 11): generators, seeding and state, and every random function's
distribution (statistically, from seeded draws), shapes, dtypes and errors against torch.

Exact values are ours, not torch's (its Mersenne Twister stream is not reproduced): the tests
compare moments with tolerances of several standard errors, so a wrong distribution fails while
a right one passes for any seed."""
import math

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for shapes, dtypes and errors")

N = 20000                      # draws per moment check: standard error of a mean about 0.007 sd


def _np(t):
    return np.asarray(t.detach().cpu().numpy(force=True), dtype=np.float64)


def _moments(x, mean, var, k=6.0):
    """x's mean and variance within k standard errors of the expected ones."""
    x = x.ravel()
    n = x.size
    assert abs(x.mean() - mean) < k * math.sqrt(var / n), (x.mean(), mean)
    m4 = np.mean((x - x.mean()) ** 4)
    assert abs(x.var() - var) < k * math.sqrt(max(m4 - var ** 2, 1e-12) / n), (x.var(), var)


def _gen(device, seed):
    return ag.Generator(device).manual_seed(seed)


# --- generators and state ----------------------------------------------------------------------------

def test_generator_api(device):
    g = ag.Generator(device)
    assert g.initial_seed() == torch.Generator().initial_seed()       # torch's default seed
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert g.device == ag.device(device) and str(g.device) == device
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    assert g.manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    st = g.get_state()
    assert st.dtype is ag.uint8 and st.ndim == 1 and st.device == ag.device("cpu")
    assert isinstance(ag.default_generator, ag.Generator) and ag.default_generator.device == ag.device("cpu")
    assert ag.manual_seed(3) is ag.default_generator and ag.initial_seed() == 3
    with pytest.raises(TypeError):
        g.set_state([1, 2])
    with pytest.raises(RuntimeError):
        g.set_state(ag.tensor([1, 2, 3], dtype=ag.uint8))


ALL_DRAWS = {
    "rand": lambda g, d: ag.rand(3, 4, generator=g, device=d),
    "randn": lambda g, d: ag.randn(3, 4, generator=g, device=d),
    "randint": lambda g, d: ag.randint(0, 100, (3, 4), generator=g, device=d),
    "randperm": lambda g, d: ag.randperm(12, generator=g, device=d),
    "rand_like": lambda g, d: ag.rand_like(ag.zeros(5, device=d), generator=g),
    "randn_like": lambda g, d: ag.randn_like(ag.zeros(5, device=d), generator=g),
    "randint_like": lambda g, d: ag.randint_like(ag.zeros(5, device=d), 3, 9, generator=g),
    "bernoulli": lambda g, d: ag.bernoulli(ag.full((6,), 0.5, device=d), generator=g),
    "bernoulli(p=)": lambda g, d: ag.bernoulli(ag.zeros(6, device=d), 0.5, generator=g),
    "multinomial": lambda g, d: ag.multinomial(ag.ones(2, 10, device=d), 4, generator=g),
    "multinomial(replacement)": lambda g, d: ag.multinomial(ag.ones(10, device=d), 6, True, generator=g),
    "normal(t,t)": lambda g, d: ag.normal(ag.zeros(5, device=d), ag.ones(5, device=d), generator=g),
    "normal(t,f)": lambda g, d: ag.normal(ag.zeros(5, device=d), 2.0, generator=g),
    "normal(f,t)": lambda g, d: ag.normal(1.0, ag.ones(5, device=d), generator=g),
    "normal(f,f,size)": lambda g, d: ag.normal(1.0, 2.0, (5,), generator=g, device=d),
    "poisson": lambda g, d: ag.poisson(ag.full((6,), 3.0, device=d), generator=g),
    "uniform_": lambda g, d: ag.empty(6, device=d).uniform_(-1, 1, generator=g),
    "normal_": lambda g, d: ag.empty(6, device=d).normal_(generator=g),
    "bernoulli_": lambda g, d: ag.empty(6, device=d).bernoulli_(0.3, generator=g),
    "bernoulli_(tensor)": lambda g, d: ag.empty(6, device=d).bernoulli_(ag.full((6,), 0.3, device=d), generator=g),
    "exponential_": lambda g, d: ag.empty(6, device=d).exponential_(generator=g),
    "geometric_": lambda g, d: ag.empty(6, device=d).geometric_(0.3, generator=g),
    "log_normal_": lambda g, d: ag.empty(6, device=d).log_normal_(generator=g),
    "cauchy_": lambda g, d: ag.empty(6, device=d).cauchy_(generator=g),
    "random_": lambda g, d: ag.empty(6, dtype=ag.int64, device=d).random_(generator=g),
    "random_(to)": lambda g, d: ag.empty(6, device=d).random_(1000, generator=g),
}


@pytest.mark.parametrize("name", list(ALL_DRAWS))
def test_generator_is_honoured_by_every_random_function(device, name):
    draw = ALL_DRAWS[name]
    ag.manual_seed(1)
    a = draw(_gen(device, 7), device)
    ag.manual_seed(2)                                  # the global seed plays no part
    b = draw(_gen(device, 7), device)
    c = draw(_gen(device, 8), device)
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()
    # and the default generator was not advanced by drawing from g
    ag.manual_seed(4)
    x = ag.rand(4, device=device)
    ag.manual_seed(4)
    draw(_gen(device, 7), device)
    assert ag.rand(4, device=device).tolist() == x.tolist()


def test_same_seed_same_numbers_and_state_round_trip(device):
    ag.manual_seed(11)
    a = ag.randn(5, device=device).tolist()
    ag.manual_seed(11)
    assert ag.randn(5, device=device).tolist() == a
    g = _gen(device, 3)
    st = g.get_state()
    x = ag.rand(5, generator=g, device=device).tolist()
    assert ag.rand(5, generator=g, device=device).tolist() != x
    g.set_state(st)
    assert ag.rand(5, generator=g, device=device).tolist() == x
    h = ag.Generator(device).set_state(st)             # a state moves between generators
    assert ag.rand(5, generator=h, device=device).tolist() == x


def test_global_rng_state_and_fork_rng(device):
    st = ag.get_rng_state()
    x = ag.rand(4, device="cpu").tolist()               # torch's get_rng_state is the CPU generator's
    ag.set_rng_state(st)
    assert ag.rand(4, device="cpu").tolist() == x
    ag.manual_seed(0)
    before = ag.rand(3, device=device).tolist()
    ag.manual_seed(0)
    with ag.random.fork_rng():
        ag.rand(100, device=device)
        ag.randn(7)
    assert ag.rand(3, device=device).tolist() == before
    ag.manual_seed(0)
    with ag.random.fork_rng(enabled=False):
        ag.rand(100, device=device)
    assert ag.rand(3, device=device).tolist() != before


def test_generator_device_must_match(device):
    if device == "cpu":
        pytest.skip("needs a second device type: run with --backend array_api_strict")
    g = ag.Generator("cpu")
    with pytest.raises(RuntimeError, match="generator"):
        ag.rand(3, generator=g, device=device)
    with pytest.raises(TypeError, match="Generator"):
        ag.rand(3, generator=object(), device=device)


# --- distributions --------------------------------------------------------------------------------

def test_uniform_family(device):
    g = _gen(device, 0)
    for dt in (ag.float64, ag.float32):
        u = _np(ag.rand(N, generator=g, dtype=dt, device=device))
        assert u.min() >= 0 and u.max() < 1
        _moments(u, 0.5, 1 / 12)
    x = _np(ag.empty(N, device=device).uniform_(-2, 4, generator=g))
    assert x.min() >= -2 and x.max() < 4
    _moments(x, 1.0, 36 / 12)
    if device != "array_api_strict":                  # the standard has no float16
        h = _np(ag.rand(N, generator=g, dtype=ag.float16, device=device))
        assert h.max() < 1 and np.all(h * 2048 == np.round(h * 2048))     # float16's grid: never rounds to 1


def test_normal_family(device):
    g = _gen(device, 1)
    _moments(_np(ag.randn(N, generator=g, device=device)), 0.0, 1.0)
    _moments(_np(ag.empty(N, device=device).normal_(3, 2, generator=g)), 3.0, 4.0)
    z = ag.normal(ag.tensor([[-5.0], [5.0]], device=device), ag.tensor([1.0, 0.5, 2.0], device=device), generator=g)
    assert tuple(z.shape) == (2, 3) and z.dtype is ag.float32          # mean and std broadcast
    big = ag.normal(ag.full((N,), 2.0, device=device), ag.full((N,), 3.0, device=device), generator=g)
    _moments(_np(big), 2.0, 9.0)
    _moments(_np(ag.normal(-1.0, ag.full((N,), 0.5, device=device), generator=g)), -1.0, 0.25)
    _moments(_np(ag.normal(ag.full((N,), 4.0, device=device), 2.0, generator=g)), 4.0, 4.0)
    _moments(_np(ag.normal(1.0, 2.0, (N,), generator=g, device=device)), 1.0, 4.0)
    ln = _np(ag.empty(N, dtype=ag.float64, device=device).log_normal_(0.0, 0.5, generator=g))
    _moments(np.log(ln), 0.0, 0.25)


def test_discrete_and_heavy_tailed(device):
    g = _gen(device, 2)
    b = _np(ag.bernoulli(ag.full((N,), 0.3, device=device), generator=g))
    assert set(np.unique(b)) <= {0.0, 1.0}
    _moments(b, 0.3, 0.21)
    b2 = _np(ag.empty(N, dtype=ag.int64, device=device).bernoulli_(0.8, generator=g))
    _moments(b2, 0.8, 0.16)
    e = _np(ag.empty(N, dtype=ag.float64, device=device).exponential_(2.0, generator=g))
    assert e.min() >= 0 and np.all(np.isfinite(e))
    _moments(e, 0.5, 0.25)
    geo = _np(ag.empty(N, dtype=ag.int64, device=device).geometric_(0.25, generator=g))
    assert geo.min() >= 1 and np.all(geo == np.round(geo))
    _moments(geo, 4.0, 0.75 / 0.0625)
    p = _np(ag.poisson(ag.full((N,), 4.0, device=device), generator=g))
    assert np.all(p == np.round(p)) and p.min() >= 0
    _moments(p, 4.0, 4.0)
    assert _np(ag.poisson(ag.zeros(5, device=device), generator=g)).tolist() == [0.0] * 5
    c = _np(ag.empty(N, dtype=ag.float64, device=device).cauchy_(1.0, 2.0, generator=g))
    q1, med, q3 = np.percentile(c, [25, 50, 75])      # Cauchy: median 1, quartiles 1 -+ 2
    assert abs(med - 1) < 0.1 and abs(q1 + 1) < 0.15 and abs(q3 - 3) < 0.15
    r = _np(ag.randint(3, 9, (N,), generator=g, device=device))
    assert r.min() == 3 and r.max() == 8
    _moments(r, 5.5, (6 ** 2 - 1) / 12)
    rr = _np(ag.empty(N, device=device).random_(2, 6, generator=g))
    assert set(np.unique(rr)) == {2.0, 3.0, 4.0, 5.0}
    i8 = _np(ag.empty(N, dtype=ag.int16, device=device).random_(generator=g))
    assert i8.min() >= 0 and i8.max() > 30000
    f = _np(ag.empty(N, device=device).random_(generator=g))       # float32: 0 .. 2**24
    assert f.min() >= 0 and f.max() <= 2 ** 24 and f.max() > 2 ** 23 and np.all(f == np.round(f))
    bo = _np(ag.empty(100, dtype=ag.bool, device=device).random_(generator=g))
    assert set(np.unique(bo)) == {0.0, 1.0}


def test_randperm_is_a_permutation(device):
    g = _gen(device, 3)
    p = ag.randperm(50, generator=g, device=device)
    assert p.dtype is ag.int64 and tuple(p.shape) == (50,)
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    assert ag.randperm(0, device=device).shape == (0,)
    assert ag.randperm(5, dtype=ag.float32, device=device).dtype is ag.float32
    # every position uniform over the values: first element's mean over many permutations
    firsts = np.array([ag.randperm(10, generator=g, device=device)[0].item() for _ in range(400)])
    _moments(firsts, 4.5, (10 ** 2 - 1) / 12)


def test_multinomial(device):
    g = _gen(device, 4)
    w = ag.tensor([1.0, 0.0, 3.0, 4.0], device=device)
    s = ag.multinomial(w, N, replacement=True, generator=g)
    assert s.dtype is ag.int64 and tuple(s.shape) == (N,)
    counts = np.bincount(_np(s).astype(int), minlength=4) / N
    assert counts[1] == 0
    assert np.allclose(counts, [1 / 8, 0, 3 / 8, 4 / 8], atol=0.02)
    rows = ag.tensor([[0.0, 1.0, 1.0], [5.0, 0.0, 0.0]], device=device)
    assert ag.multinomial(rows, 2, generator=g)[1, 0].item() == 0
    # without replacement: never repeats, never picks a zero weight while positive ones remain
    W = ag.rand(200, 30, generator=g, device=device) * (ag.rand(200, 30, generator=g, device=device) > 0.3)
    pos = (_np(W) > 0).sum(1)
    k = int(pos.min())
    out = _np(ag.multinomial(W, k, generator=g)).astype(int)
    assert out.shape == (200, k)
    for row, picks in zip(_np(W), out):
        assert len(set(picks)) == k and np.all(row[picks] > 0)
    # the first draw without replacement follows the weights
    first = _np(ag.multinomial(ag.tensor([1.0, 3.0], device=device).expand(N, 2).contiguous(), 2, generator=g))[:, 0]
    assert abs(first.mean() - 0.75) < 0.02
    # second draw: sequential sampling without replacement (P(second = 0) = 3/4 * 1 = 0.75 for [1, 3])
    second = _np(ag.multinomial(ag.tensor([1.0, 3.0, 0.0], device=device).expand(N, 3).contiguous(), 2,
                                generator=g))[:, 1]
    assert abs((second == 0).mean() - 0.75) < 0.02


# --- shapes, dtypes and errors against torch ----------------------------------------------------------

def _same_outcome(ours, theirs):
    try:
        t = theirs()
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e) if type(e) in (TypeError, NotImplementedError) else RuntimeError):
            ours()
        return
    o = ours()
    assert tuple(o.shape) == tuple(t.shape)
    assert o.dtype.name == str(t.dtype).replace("torch.", "")
    assert o.requires_grad == t.requires_grad


CASES = [
    "rand(2, 3)", "rand((2, 3), dtype={float64})", "rand(0)", "rand(2, dtype={int64})", "randn(4, dtype={float64})",
    "randn(2, requires_grad=True)", "randint(5, (2, 3))", "randint(2, 5, (4,))", "randint(5, (2,), dtype={float32})",
    "randint(3, 3, (2,))", "randint(4, 3, (2,))", "randint(0, 300, (2,), dtype={uint8})",
    "randint(-1, 3, (2,), dtype={uint8})", "randint(0, 2, (3,), dtype={bool})", "randint(0, 3, (3,), dtype={bool})",
    "randint(2.5, (2,))", "randperm(6)", "randperm(6, dtype={int16})", "randperm(300, dtype={uint8})",
    "randperm(-1)", "randperm(5, dtype={bool})", "rand_like(F32)", "rand_like(I64)", "randn_like(F32, dtype={float64})",
    "randint_like(F32, 5)", "randint_like(F32, 2, 5)",
    "bernoulli(F32 * 0.5)", "bernoulli(I64)", "bernoulli(F32 * 2)", "bernoulli(F32, 0.5)", "bernoulli(F32, 2.0)",
    "bernoulli(F32.double() * 0.5)",
    "multinomial(F32, 2)", "multinomial(F32, 4)", "multinomial(F32, 4, True)", "multinomial(-F32, 1)",
    "multinomial(F32 * 0, 1)", "multinomial(I64, 1)", "multinomial(M23, 2)", "multinomial(M23, 0)",
    "normal(F32, F32)", "normal(F32, 1.0)", "normal(0.0, F32)", "normal(2.0, 3.0, (2,))",
    "normal(2.0, 3.0, (2,), dtype={float64})", "normal(I64, F32)", "normal(F32, -1.0)", "normal(F32, -F32)",
    "normal(M23, F32)", "normal(F32.double(), F32)",
    "poisson(F32)", "poisson(-F32)", "poisson(I64)", "poisson(F32.double())",
    "empty(3).uniform_(2, 1)", "empty(3, dtype={int64}).uniform_()", "empty(3).normal_(0, -1)",
    "empty(3, dtype={int64}).normal_()", "empty(3).exponential_(-1)", "empty(3, dtype={int64}).exponential_()",
    "empty(3).geometric_(0)", "empty(3).geometric_(1)", "empty(3, dtype={int64}).geometric_(0.5)",
    "empty(3).log_normal_(1, 0)", "empty(3, dtype={int64}).log_normal_()", "empty(3).cauchy_(0, 0)",
    "empty(3, dtype={int64}).cauchy_()", "empty(3).random_()", "empty(3, dtype={int8}).random_()",
    "empty(3, dtype={int64}).random_(5)", "empty(3, dtype={int64}).random_(2, 5)", "empty(3).random_(5, 2)",
    "empty(3, dtype={uint8}).random_(0, 300)", "empty(3, dtype={bool}).random_()",
    "empty(3, dtype={int64}).bernoulli_(0.5)", "empty(3).bernoulli_(2.0)", "empty(3).bernoulli_(F32 * 0.5)",
    "empty(2, 3).bernoulli_(F32 * 0.5)", "empty(2).bernoulli_(F32)", "empty(3).bernoulli_(I64)",
    "ones(3, requires_grad=True).uniform_()",
]


@pytest.mark.parametrize("case", CASES)
def test_shapes_dtypes_errors_match_torch(device, case):
    ours_dt = {n: f"ag_{n}" for n in ("float32", "float64", "int64", "int16", "int8", "uint8", "bool")}
    ns_ours = {f"ag_{n}": getattr(ag, n if n != "bool" else "bool") for n in ours_dt}
    ns_theirs = {f"ag_{n}": getattr(torch, n) for n in ours_dt}
    prev = ag.get_default_device()
    ag.set_default_device(device)
    try:
        _same_outcome(lambda: _eval(case, ag, ns_ours, ours_dt),
                      lambda: _eval(case, torch, ns_theirs, ours_dt))
    finally:
        ag.set_default_device(prev)


def _eval(case, lib, dtypes, names):
    ns = {"F32": lib.ones(3), "I64": lib.ones(3, dtype=lib.int64), "M23": lib.ones(2, 3), **dtypes}
    for n in ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "bernoulli",
              "multinomial", "normal", "poisson", "empty", "ones"):
        ns[n] = getattr(lib, n)
    return eval(case.format(**names), ns)


def test_sampler_gradients_are_zero_as_torch(device):
    m = ag.tensor([0.0, 1.0], requires_grad=True, device=device)
    s = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    out = ag.normal(m, s)
    assert out.requires_grad
    (out * 3).sum().backward()
    assert m.grad.tolist() == [0.0, 0.0] and s.grad.tolist() == [0.0, 0.0]
    p = ag.tensor([0.2, 0.7], requires_grad=True, device=device)
    ag.bernoulli(p).sum().backward()
    assert p.grad.tolist() == [0.0, 0.0]
    y = ag.tensor([1.0, 2.0], requires_grad=True, device=device) * 2
    y.uniform_()                                      # a non-leaf may be refilled: its history is cut to zero
    y.sum().backward()


def test_factories_accept_generator_for_nn_init(device):
    # nn.init and DataLoader pass generator= through to these
    g1, g2 = _gen(device, 9), _gen(device, 9)
    w1 = ag.empty(4, 5, device=device).uniform_(-0.5, 0.5, generator=g1)
    w2 = ag.empty(4, 5, device=device).uniform_(-0.5, 0.5, generator=g2)
    assert w1.tolist() == w2.tolist()
    assert ag.empty(3, device=device).normal_(0, 1, generator=g1).tolist() == \
        ag.empty(3, device=device).normal_(0, 1, generator=g2).tolist()
    assert ag.randperm(10, generator=g1).tolist() == ag.randperm(10, generator=g2).tolist()


# --- the CuPy backend's counter-based generators, on the suite's NumPy stand-in for cupy -----------------

@pytest.fixture
def stand_in_cupy(monkeypatch):
    """The real CupyBackend on tests/test_backends.py's NumPy stand-in for the cupy module."""
    import sys

    import backends
    from tests import test_backends as tb
    if tb._has_real_cupy():
        pytest.skip("real CuPy installed: run this file with --backend cupy")
    for name, mod in tb._fake_cupy_modules().items():
        monkeypatch.setitem(sys.modules, name, mod)
    from backends.cupy_backend import CupyBackend
    be = CupyBackend()
    assert be.is_available(), be.unavailable_reason()
    monkeypatch.setitem(backends._registry, "cuda", be)
    return be


def test_cupy_generators_on_the_stand_in(stand_in_cupy):
    be = stand_in_cupy
    g1, g2 = ag.Generator("cuda").manual_seed(5), ag.Generator("cuda").manual_seed(5)
    assert g1.device == ag.device("cuda")
    a = ag.rand(6, generator=g1, device="cuda")
    assert a.device == ag.device("cuda") and a.tolist() == ag.rand(6, generator=g2, device="cuda").tolist()
    st = g1.get_state()
    b = ag.randn(4, generator=g1, device="cuda").tolist()
    assert ag.randn(4, generator=g1, device="cuda").tolist() != b
    g1.set_state(st)
    assert ag.randn(4, generator=g1, device="cuda").tolist() == b
    with pytest.raises(RuntimeError, match="numpy generator"):     # a CPU state on a CUDA generator
        g1.set_state(ag.Generator("cpu").get_state())
    ag.manual_seed(3)
    x = ag.rand(5, device="cuda").tolist()
    ag.manual_seed(3)
    assert ag.rand(5, device="cuda").tolist() == x                 # manual_seed reaches the CUDA default
    s = be.get_rng_state()
    y = ag.multinomial(ag.ones(2, 6, device="cuda"), 3).tolist()
    be.set_rng_state(s)
    assert ag.multinomial(ag.ones(2, 6, device="cuda"), 3).tolist() == y
    u = _np(ag.rand(N, generator=g1, device="cuda", dtype=ag.float64))
    assert u.max() < 1 and u.min() >= 0
    _moments(u, 0.5, 1 / 12)
    _moments(_np(ag.poisson(ag.full((N,), 2.0, device="cuda"), generator=g1)), 2.0, 2.0)
    r = _np(ag.randint(0, 2 ** 63 - 1, (100,), generator=g1, device="cuda"))
    assert r.min() >= 0
