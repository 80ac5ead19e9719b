"""Engine fixes found by other work and left for later: pieces of split/chunk/unbind/tensor_split are
the outputs of ONE node whose backward is one concatenation (not one zero array of the whole input per
piece), while staying views of their input with PyTorch's in-place rules. PyTorch is the oracle where
installed; each test also checks hand-derived or NumPy values."""
import numpy as np
import pytest

import autograd as ag
from autograd.ops import index as _index


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for this check")


def _np(t):
    return np.asarray(t.detach().cpu())


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# every way to cut a (6, 3) tensor into pieces: name -> (ours and torch's call, on a tensor module m)
PIECES = {
    "split(1)": lambda t: t.split(1),
    "split(4)": lambda t: t.split(4),
    "split([1,0,5])": lambda t: t.split([1, 0, 5]),
    "split(2,1)": lambda t: t.split(2, 1),
    "chunk(4)": lambda t: t.chunk(4),
    "chunk(2,-1)": lambda t: t.chunk(2, -1),
    "unbind(0)": lambda t: t.unbind(0),
    "unbind(1)": lambda t: t.unbind(1),
    "iter": lambda t: tuple(t),
    "tensor_split(4)": lambda t: t.tensor_split(4),
    "tensor_split([1,4])": lambda t: t.tensor_split([1, 4]),
    "tensor_split([4,2])": lambda t: t.tensor_split([4, 2]),        # overlapping pieces
    "tensor_split([-2,9],1)": lambda t: t.tensor_split([-2, 9], 1),
    "hsplit(3)": lambda t: t.hsplit(3),
    "vsplit([2,3])": lambda t: t.vsplit([2, 3]),
}


@pytest.mark.parametrize("name", list(PIECES))
def test_pieces_are_one_node_and_views(name):
    x = ag.tensor(_data((6, 3)), requires_grad=True)
    y = x * 1
    ps = PIECES[name](y)
    nodes = {id(p.grad_fn) for p in ps}
    assert len(nodes) == 1 and ps[0].grad_fn is not None and ps[0].grad_fn is not y.grad_fn
    assert [p._idx for p in ps] == list(range(len(ps)))
    assert ps[0].grad_fn.next_functions == ((y.grad_fn, 0),)
    assert all(p._vc is y._vc for p in ps)           # views: one version counter with their input
    with ag.no_grad():
        y.mul_(0)                                    # a write into the input shows in every piece
    assert all(not np.any(_np(p)) for p in ps)
    with ag.no_grad():                               # not recorded: nothing to record through
        q = PIECES[name](x)
    assert all(p.grad_fn is None and not p.requires_grad and p._vc is x._vc for p in q)


@pytest.mark.parametrize("name", list(PIECES))
def test_pieces_values_and_gradients_like_torch(name):
    torch = _torch()
    a = _data((6, 3))
    x = ag.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    ps, tps = PIECES[name](x * 2), PIECES[name](tx * 2)
    assert len(ps) == len(tps)
    for p, tp in zip(ps, tps):
        assert tuple(p.shape) == tuple(tp.shape) and p.dtype is ag.float64
        np.testing.assert_array_equal(_np(p), tp.detach().numpy())
    # every other piece used, with its own weight: the unused ones get zeros from the engine
    used = [(i, p, tp) for i, (p, tp) in enumerate(zip(ps, tps)) if i % 2 == 0 and p.numel()]
    if not used:
        pytest.skip("no non-empty piece to use")     # never for the cuts above; kept honest
    sum(((i + 1) * p * p).sum() for i, p, _ in used).backward()
    sum(((i + 1) * tp * tp).sum() for i, _, tp in used).backward()
    np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-12, atol=0)
    assert x.grad.dtype is ag.float64 and tuple(x.grad.shape) == (6, 3)


def test_backward_of_all_pieces_scatters_nothing(monkeypatch):
    """The O(T^2) that this fixes: each piece's backward scattered into a zero array the size of the
    input (IndexAddZeros), T times. Now one concatenation and no scatter at all."""
    calls = []
    orig = _index.IndexAddZeros.forward
    monkeypatch.setattr(_index.IndexAddZeros, "forward", lambda *a: calls.append(1) or orig(*a))
    T = 40
    a = _data((T, 2, 3))
    for cut in (lambda t: t.split(1), lambda t: t.unbind(0), lambda t: t.chunk(T), lambda t: t.tensor_split(T),
                lambda t: list(t)):
        x = ag.tensor(a, requires_grad=True)
        ps = cut(x)
        total = ps[0].sum() * 0
        for t, p in enumerate(ps):
            total = total + (t * p).sum()
        total.backward()
        want = np.broadcast_to(np.arange(T, dtype=np.float64).reshape((T, 1, 1)), a.shape)
        np.testing.assert_array_equal(_np(x.grad), want)
    assert calls == []
    x = ag.tensor(a, requires_grad=True)
    x[3].sum().backward()                            # a lone slice still scatters (as torch's SelectBackward)
    assert calls == [1]


@pytest.mark.parametrize("name", ["split([1,0,5])", "unbind(1)", "tensor_split([4,2])", "chunk(4)"])
def test_pieces_gradcheck_and_gradgradcheck(name):
    x = ag.tensor(_data((6, 3)), requires_grad=True)

    def f(t):
        return tuple(p * p for p in PIECES[name](t) if p.numel())
    assert ag.gradcheck(f, (x,))
    assert ag.gradgradcheck(f, (x,))


def test_cat_and_stack_backward_are_pieces_and_differentiate_twice_like_torch():
    torch = _torch()
    a, b = _data((2, 3), 1), _data((4, 3), 2)
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    for ours, theirs in ((ag.cat([x * x, y ** 3]), torch.cat([tx * tx, ty ** 3])),
                         (ag.stack([x * x, y[:2] ** 3], 1), torch.stack([tx * tx, ty[:2] ** 3], 1))):
        w = _data(tuple(ours.shape), 3)
        (gx, gy) = ag.grad((ours * ag.tensor(w)).sum(), (x, y), create_graph=True)
        (tgx, tgy) = torch.autograd.grad((theirs * torch.tensor(w)).sum(), (tx, ty), create_graph=True)
        np.testing.assert_allclose(_np(gx), tgx.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(_np(gy), tgy.detach().numpy(), rtol=1e-12)
        (ggx, ggy) = ag.grad((gx * gx).sum() + (gy * gy).sum(), (x, y))
        (tggx, tggy) = torch.autograd.grad((tgx * tgx).sum() + (tgy * tgy).sum(), (tx, ty))
        np.testing.assert_allclose(_np(ggx), tggx.numpy(), rtol=1e-12)
        np.testing.assert_allclose(_np(ggy), tggy.numpy(), rtol=1e-12)


def test_stack_promotes_and_checks_like_torch():
    torch = _torch()
    s = ag.stack([ag.tensor([1, 2]), ag.tensor([0.5, 1.5])])
    t = torch.stack([torch.tensor([1, 2]), torch.tensor([0.5, 1.5])])
    assert s.dtype is ag.float32 and t.dtype is torch.float32 and tuple(s.shape) == (2, 2)
    np.testing.assert_array_equal(_np(s), t.numpy())
    s0 = ag.stack([ag.tensor(1.0), ag.tensor(2.0)], -1)
    assert tuple(s0.shape) == (2,)
    with pytest.raises(RuntimeError, match="stack: expects each tensor to be equal size"):
        ag.stack([ag.ones(2), ag.ones(3)])


def test_inplace_through_pieces_follows_torch():
    """tensor_split's pieces take recorded in-place writes (torch: plain slices); split's and unbind's are
    refused (outputs of a multi-view op); a write into the input re-derives every piece's history."""
    torch = _torch()
    a = _data((6, 3))
    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x * 1, tx * 1
    p, tp = y.tensor_split(3), ty.tensor_split(3)
    p[1].mul_(3)
    tp[1].mul_(3)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(y), ty.detach().numpy())

    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x * 1, tx * 1
    for ours, theirs, name in ((y.split([2, 4]), ty.split([2, 4]), "SplitWithSizes"), (y.split(3), ty.split(3), "Split"),
                               (y.unbind(), ty.unbind(), "Unbind")):
        with pytest.raises(RuntimeError, match=f"Output 1 of {name} is a view and is being modified inplace"):
            ours[1].add_(1)
        with pytest.raises(RuntimeError, match=f"Output 1 of {name} is a view and is being modified inplace"):
            theirs[1].add_(1)
    q, tq = y.split(2), ty.split(2)
    y.mul_(x)                     # the input's history changes: our pieces re-derive theirs from it
    ty.mul_(tx)
    sum((i + 1) * (e ** 2).sum() for i, e in enumerate(q)).backward()
    want = 4 * np.repeat([1.0, 2.0, 3.0], 2)[:, None] * a ** 3       # d/dx c (x * x)^2
    np.testing.assert_allclose(_np(x.grad), want, rtol=1e-12)
    # torch refuses any use of these pieces instead (documented difference: ours is permissive, not wrong)
    with pytest.raises(RuntimeError, match="Output 0 of Split is a view and its base or another view of its base "
                                           "has been modified inplace"):
        tq[0] ** 2


def test_pieces_of_pieces_and_repeated_backward():
    x = ag.tensor(_data((4, 6)), requires_grad=True)
    a, b = x.split(2)
    (a0, a1), (b0, b1) = a.unbind(0), b.chunk(2, 1)
    (a0.sum() + 2 * a1.sum() + 3 * b0.sum()).backward(retain_graph=True)
    want = np.zeros((4, 6))
    want[0], want[1], want[2:, :3] = 1, 2, 3
    np.testing.assert_array_equal(_np(x.grad), want)
    (4 * b1.sum()).backward()                        # the same nodes again (nothing saved, nothing freed)
    want[2:, 3:] = 4
    np.testing.assert_array_equal(_np(x.grad), want)


# --- item 2: a public op never silently replaces a name already bound in autograd.ops ----------------

def test_op_registry_refuses_a_public_name_that_shadows_an_internal_one():
    import autograd.ops as ops
    from autograd.ops._registry import bind, exports

    def convert_index(x, index):     # a public op named like the engine's internal helper
        return x
    ns = dict(vars(ops))
    with pytest.raises(ImportError, match=r"'convert_index' \(the op from .*\) would replace <function convert_index"):
        bind(ns, {"convert_index": convert_index}, "autograd.ops")
    assert ns["convert_index"] is ops.convert_index        # nothing bound when refused
    bind(ns, exports(everything=True), "autograd.ops", modules_giving_way=("scatter",))   # the real set: no clash
    with pytest.raises(ImportError, match="'scatter'"):     # a family module gives way only when named
        bind(dict(vars(ops), scatter=ops.shape), {"scatter": ops.scatter}, "autograd.ops")
    ns = {}
    bind(ns, {"f": convert_index}, "x")
    bind(ns, {"f": convert_index}, "x")                      # the same object again is no clash
    assert ns == {"f": convert_index}


def test_names_imported_into_ops_are_the_objects_they_name():
    """Every name autograd/ops/__init__.py imports from a family is, in `ops`, that family's object
    (the public `index_put` once replaced the engine's internal one there)."""
    import ast
    import importlib
    import autograd.ops as ops
    tree = ast.parse(open(ops.__file__).read())
    checked = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            mod = importlib.import_module(f"autograd.ops.{node.module}")
            for a in node.names:
                assert getattr(ops, a.asname or a.name) is getattr(mod, a.name), a.name
                checked += 1
    assert checked > 20
    x = ag.zeros(3, requires_grad=True) * 1
    x[1] = ag.tensor(2.0, requires_grad=True)               # the engine's index_put, recorded
    assert x.grad_fn is not None and _np(x).tolist() == [0.0, 2.0, 0.0]


# --- item 3: autograd.cuda's generator functions, as torch.cuda's ------------------------------------

CUDA_SEEDING = ("manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
                "set_rng_state", "get_rng_state_all", "set_rng_state_all")


def test_cuda_rng_functions_exist_with_torchs_signatures():
    import inspect
    torch = _torch()
    for name in CUDA_SEEDING:
        ours = [p.name for p in inspect.signature(getattr(ag.cuda, name)).parameters.values()]
        theirs = [p.name for p in inspect.signature(getattr(torch.cuda, name)).parameters.values()]
        assert ours == theirs, name


def test_cuda_seeding_without_cuda_is_accepted_like_torch():
    if ag.cuda.is_available():
        pytest.skip("this machine has CUDA: the no-CUDA behaviour cannot be seen here")
    ag.manual_seed(5)
    a = ag.rand(4, device="cpu")
    ag.manual_seed(5)
    assert ag.cuda.manual_seed(123) is None and ag.cuda.manual_seed_all(7) is None
    assert ag.cuda.seed() is None and ag.cuda.seed_all() is None
    assert ag.cuda.set_rng_state(ag.get_rng_state()) is None and ag.cuda.set_rng_state_all([]) is None
    np.testing.assert_array_equal(_np(ag.rand(4, device="cpu")), _np(a))     # the CPU generator untouched
    assert ag.initial_seed() == 5
    assert ag.cuda.get_rng_state_all() == [] and ag.cuda.default_generators == ()
    for f in (ag.cuda.initial_seed, ag.cuda.get_rng_state):
        with pytest.raises(RuntimeError, match=rf"autograd.cuda.{f.__name__}: CUDA is not available"):
            f()
    with pytest.raises(ValueError):
        ag.cuda.manual_seed("a")                                              # int("a"), as torch
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the no-CUDA behaviour")
    if not torch.cuda.is_available():
        assert torch.cuda.manual_seed(123) is None and torch.cuda.seed_all() is None
        assert torch.cuda.get_rng_state_all() == []
        with pytest.raises((AssertionError, RuntimeError)):
            torch.cuda.initial_seed()
        with pytest.raises(ValueError):
            torch.cuda.manual_seed("a")


def test_cuda_seeding_acts_on_the_cuda_default_generator_only(monkeypatch):
    """With a CUDA device (stood in for by a second NumPy backend where there is none): seeding, state
    round trips and initial_seed act on its default generator, and the CPU's is left alone."""
    import backends
    from autograd import cuda
    from autograd.random import default_generator_for
    be = cuda._backend() if ag.cuda.is_available() else type(backends.get("cpu"))()
    monkeypatch.setattr(cuda, "_backend", lambda: be)
    gen = default_generator_for(be)

    def draw():
        return np.asarray(be.to_numpy(be.rng_random(gen._rng, (5,))))
    ag.manual_seed(1)
    cpu_seed = ag.initial_seed()
    cuda.manual_seed(11)
    assert cuda.initial_seed() == 11 and ag.initial_seed() == cpu_seed
    a = draw()
    cuda.manual_seed_all(11)
    np.testing.assert_array_equal(draw(), a)
    st = cuda.get_rng_state()
    assert st.dtype is ag.uint8 and st.device == ag.device("cpu")
    b = draw()
    cuda.set_rng_state(st)
    np.testing.assert_array_equal(draw(), b)
    (st0,) = cuda.get_rng_state_all()
    c = draw()
    cuda.set_rng_state_all([st0])
    np.testing.assert_array_equal(draw(), c)
    np.testing.assert_array_equal(cuda.get_rng_state("cuda:0").tolist(), cuda.get_rng_state(0).tolist())
    assert cuda.seed() is None and cuda.initial_seed() != 11
    cuda.seed_all()
    assert cuda.default_generators == (gen,)
    with pytest.raises(ValueError, match="expected a CUDA device, got 'cpu'"):
        cuda.get_rng_state("cpu")
    assert ag.initial_seed() == cpu_seed


def test_pieces_node_in_the_tools():
    """The Split node is seen by record_source, the tape export and the memory ledger as any other."""
    x = ag.tensor(_data((4, 3)), requires_grad=True)
    with ag.record_source():
        a, b = (x * 1).split(2)
    assert a.grad_fn.source[0] == __file__ and repr(a.grad_fn) == "<SplitBackward>"
    assert repr(x.unbind(1)[0].grad_fn) == "<UnbindBackward>"
    y = a.sum() + 2 * b.sum()
    js = ag.to_json(y)
    assert "split" in str(js)
    with ag.profile_memory() as prof:
        z = sum((p * p).sum() for p in (x * 1).unbind(0))
        z.backward()
    assert prof is not None
    np.testing.assert_allclose(_np(x.grad), 2 * _data((4, 3)), rtol=1e-12)
