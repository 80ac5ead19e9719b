"""autograd.linalg and the matrix products beyond the registry's per-sample checks: einsum's contraction
order, gauge-invariant gradients of decompositions (against torch), second derivatives through
create_graph, the named tuples, in-place add*mm variants and the float16 refusal. Runs on every backend
(`device` fixture); torch is the oracle where installed."""
import numpy as np
import pytest

import autograd as ag
from helpers import npy

RNG = np.random.default_rng(11)


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for linalg values and gradients")


def _pair(a, device, grad=True):
    torch = _torch()
    return ag.tensor(a, device=device, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _close(ours, theirs, rtol=1e-7, atol=1e-9):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(npy(ours), theirs, rtol=rtol, atol=atol)


def _nodes(t):
    """Every recorded node behind t (the tape walked from its grad_fn)."""
    seen, stack, out = set(), [t.grad_fn], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen or not hasattr(n, "out_meta"):
            continue
        seen.add(id(n))
        out.append(n)
        stack += [e[0] for e in n.next_functions if e is not None]
    return out


# --- einsum ------------------------------------------------------------------------------------------

def test_einsum_contracts_in_the_greedy_order_without_a_big_intermediate(device):
    # left to right, (100x2)(2x100) is a 100x100 intermediate; the greedy order contracts (2x100)(100x2) first
    a, b, c = (ag.tensor(RNG.standard_normal(s), device=device, requires_grad=True)
               for s in ((100, 2), (2, 100), (100, 2)))
    out = ag.einsum("ij,jk,kl->il", a, b, c)
    assert tuple(out.shape) == (100, 2)
    biggest = max(int(np.prod(m[0])) for n in _nodes(out) for m in n.out_meta)
    assert biggest <= 200, f"an intermediate of {biggest} elements: not the greedy order"
    names = [n.name for n in _nodes(out)]
    assert names.count("matmul") == 2                     # pairwise contractions, each one matmul
    expect = npy(a) @ (npy(b) @ npy(c))
    np.testing.assert_allclose(npy(out), expect, rtol=1e-10)


def test_einsum_never_broadcasts_every_label_at_once(device):
    # a naive einsum builds an (8, 9, 10, 11) product before summing; pairwise contraction never does
    a = ag.tensor(RNG.standard_normal((8, 9)), device=device, requires_grad=True)
    b = ag.tensor(RNG.standard_normal((9, 10)), device=device, requires_grad=True)
    c = ag.tensor(RNG.standard_normal((10, 11)), device=device, requires_grad=True)
    out = ag.einsum("ab,bc,cd->ad", a, b, c)
    assert max(int(np.prod(m[0])) for n in _nodes(out) for m in n.out_meta) < 8 * 9 * 10
    out.sum().backward()
    ga = np.ones((8, 11)) @ (npy(b) @ npy(c)).T
    np.testing.assert_allclose(npy(a.grad), ga, rtol=1e-10)


@pytest.mark.parametrize("eq,shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("...ii->...i", [(2, 3, 3)]), ("ii->", [(4, 4)]),
    ("ijk,kji->", [(2, 3, 4), (4, 3, 2)]), ("i,j,k->ijk", [(2,), (3,), (4,)]), ("ab,cd,bc->ad", [(2, 3), (4, 5), (3, 4)]),
    ("b...i,i...->b...", [(2, 3, 4), (4, 3)]),
])
def test_einsum_values_and_gradients_match_torch(eq, shapes, device):
    torch = _torch()
    arrs = [RNG.standard_normal(s) for s in shapes]
    ours = [ag.tensor(a, device=device, requires_grad=True) for a in arrs]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrs]
    o, t = ag.einsum(eq, *ours), torch.einsum(eq, *theirs)
    _close(o, t)
    w = np.cos(np.arange(t.numel())).reshape(tuple(t.shape))
    (o * ag.tensor(w, device=device)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for x, y in zip(ours, theirs):
        _close(x.grad, y.grad)


# paths computed by opt_einsum 3.4's `paths.greedy` for these label sets and sizes
OPT_EINSUM_GREEDY = [
    ("ab,bc,cd,de->ae", {"a": 2, "b": 30, "c": 3, "d": 40, "e": 2}, [(2, 3), (0, 1), (0, 1)]),
    ("ij,ij,jk,kl->il", {"i": 5, "j": 6, "k": 7, "l": 2}, [(0, 1), (0, 1), (0, 1)]),
    ("abc,cd,bd,a->", {"a": 3, "b": 4, "c": 5, "d": 6}, [(0, 3), (0, 1), (0, 1)]),
    ("bij,bjk,bkl->bil", {"b": 2, "i": 3, "j": 40, "k": 2, "l": 50}, [(0, 1), (0, 1)]),
    ("i,j,k,ij->k", {"i": 3, "j": 4, "k": 5}, [(1, 3), (0, 2), (0, 1)]),
]


def _einsum_module():
    import importlib
    return importlib.import_module("autograd.ops.einsum")     # (autograd.ops.einsum is also the function)


@pytest.mark.parametrize("eq,sizes,path", OPT_EINSUM_GREEDY)
def test_einsum_path_is_opt_einsums_greedy(eq, sizes, path):
    lhs, out = eq.split("->")
    assert _einsum_module().greedy_path([set(t) for t in lhs.split(",")], list(out), sizes) == path


def test_einsum_path_matches_opt_einsum_on_random_equations():
    paths = pytest.importorskip("opt_einsum.paths", reason="opt_einsum (the reference greedy path) is not installed")
    rng = np.random.default_rng(3)
    letters = "abcdefgh"
    for _ in range(300):
        sizes = {c: int(rng.integers(1, 7)) for c in letters}
        terms = ["".join(rng.choice(list(letters), int(rng.integers(0, 4)), replace=False))
                 for _ in range(int(rng.integers(2, 7)))]
        out = sorted({c for t in terms for c in t if "".join(terms).count(c) == 1})
        ours = _einsum_module().greedy_path([set(t) for t in terms], out, sizes)
        assert ours == paths.greedy([set(t) for t in terms], set(out), sizes), (terms, out)


def test_einsum_gradgradcheck(device):
    a = ag.tensor(RNG.standard_normal((2, 3)), device=device, requires_grad=True)
    b = ag.tensor(RNG.standard_normal((3, 3, 2)), device=device, requires_grad=True)
    assert ag.gradgradcheck(lambda x, y: ag.einsum("ij,jjk->ik", x, y), (a, b))


# --- decompositions: gauge-invariant gradients against torch -----------------------------------------

def test_eigh_gradient_of_a_gauge_invariant_function_matches_torch(device):
    torch = _torch()
    a = RNG.standard_normal((2, 4, 4))
    A, tA = _pair(a, device)

    def f(ns, M):
        L, V = ns.linalg.eigh(M + M.mT)
        return ((V * L.unsqueeze(-2).exp()) @ V.mT).sum() + (V ** 2 * ns.arange(4.0, dtype=M.dtype, device=M.device)).sum()
    o, t = f(ag, A), f(torch, tA)
    _close(o, t, 1e-9)
    o.backward()
    t.backward()
    _close(A.grad, tA.grad, 1e-7, 1e-8)


def test_svd_reconstruction_has_the_identity_gradient(device):
    a = RNG.standard_normal((3, 5, 3))
    A = ag.tensor(a, device=device, requires_grad=True)
    U, S, Vh = ag.linalg.svd(A, full_matrices=False)
    w = ag.tensor(RNG.standard_normal((3, 5, 3)), device=device)
    ((U * S.unsqueeze(-2)) @ Vh * w).sum().backward()
    np.testing.assert_allclose(npy(A.grad), npy(w), rtol=1e-8, atol=1e-10)


def test_qr_reconstruction_has_the_identity_gradient(device):
    for shape in ((4, 3), (3, 5)):
        A = ag.tensor(RNG.standard_normal(shape), device=device, requires_grad=True)
        Q, R = ag.linalg.qr(A)
        w = ag.tensor(RNG.standard_normal(shape), device=device)
        ((Q @ R) * w).sum().backward()
        np.testing.assert_allclose(npy(A.grad), npy(w), rtol=1e-8, atol=1e-10)


def test_cholesky_and_solve_second_derivatives_match_torch(device):
    torch = _torch()
    a = RNG.standard_normal((3, 3))
    b = RNG.standard_normal((3, 2))

    def f(ns, M, B):
        L = ns.linalg.cholesky(M @ M.mT + 3 * ns.eye(3, dtype=M.dtype, device=M.device))
        return (ns.linalg.solve(L, B) ** 2).sum() + ns.logdet(M @ M.mT + ns.eye(3, dtype=M.dtype, device=M.device))
    A, tA = _pair(a, device)
    B, tB = _pair(b, device)
    (gA,) = ag.grad(f(ag, A, B), (A,), create_graph=True)
    (tgA,) = torch.autograd.grad(f(torch, tA, tB), (tA,), create_graph=True)
    _close(gA, tgA, 1e-8)
    (gB,) = ag.grad((gA ** 2).sum(), (B,))
    (tgB,) = torch.autograd.grad((tgA ** 2).sum(), (tB,))
    _close(gB, tgB, 1e-7)


def test_det_of_a_batch_gradcheck_and_gradgradcheck(device):
    A = ag.tensor(RNG.standard_normal((2, 3, 3)) + 2 * np.eye(3), device=device, requires_grad=True)
    assert ag.gradcheck(ag.linalg.det, (A,))
    assert ag.gradgradcheck(ag.linalg.det, (A,))
    assert ag.gradgradcheck(lambda M: ag.linalg.inv(M).sum(-1), (A,))


def test_unused_outputs_take_torchs_undefined_gradient_path(device):
    # only S used: the gradient is U diag(gS) V^T, no division by singular value gaps (finite at a repeated value)
    A = ag.tensor(np.diag([2.0, 2.0, 1.0]), device=device, requires_grad=True)
    ag.linalg.svd(A)[1].sum().backward()
    np.testing.assert_allclose(npy(A.grad), np.eye(3), atol=1e-12)
    B = ag.tensor(np.diag([2.0, 2.0, 1.0]), device=device, requires_grad=True)
    ag.linalg.eigh(B).eigenvalues.sum().backward()
    np.testing.assert_allclose(npy(B.grad), np.eye(3), atol=1e-12)


def test_qr_mode_r_and_complete_tall_refuse_a_gradient(device):
    A = ag.tensor(RNG.standard_normal((4, 2)), device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        ag.linalg.qr(A, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="complete"):
        ag.linalg.qr(A, mode="complete").Q.sum().backward()


# --- results: named tuples, shapes, dtypes ---------------------------------------------------------

def test_named_tuples_and_torch_svd_convention(device):
    torch = _torch()
    a = RNG.standard_normal((4, 3))
    A, tA = _pair(a, device, grad=False)
    s, ts = ag.linalg.slogdet(A[:3]), torch.linalg.slogdet(tA[:3])
    _close(s.sign, ts.sign)
    _close(s.logabsdet, ts.logabsdet)
    e = ag.linalg.eigh(A[:3] + A[:3].mT)
    assert tuple(e.eigenvalues.shape) == (3,) and tuple(e.eigenvectors.shape) == (3, 3)
    U, S, V = ag.svd(A)                                   # torch.svd: V, not V^T; reduced by default
    assert tuple(U.shape) == (4, 3) and tuple(V.shape) == (3, 3)
    np.testing.assert_allclose(npy((U * S) @ V.mT), a, atol=1e-12)
    U, S, V = ag.svd(A, some=False)
    assert tuple(U.shape) == (4, 4) and tuple(V.shape) == (3, 3)
    U, S, V = ag.svd(A, compute_uv=False)
    assert tuple(U.shape) == (4, 4) and float(U.abs().sum()) == 0.0
    q = ag.linalg.qr(A, mode="r")
    assert tuple(q.Q.shape) == (0,) and tuple(q.R.shape) == (3, 3)
    r = ag.linalg.lstsq(A, A[:, :2])
    assert r._fields == ("solution", "residuals", "rank", "singular_values")
    assert r.rank.dtype is ag.int64 and tuple(r.rank.shape) == ()
    assert ag.linalg.matrix_rank(A).dtype is ag.int64


def test_methods_and_top_level_spellings(device):
    A = ag.tensor(RNG.standard_normal((3, 3)) + 3 * np.eye(3), device=device)
    np.testing.assert_allclose(npy(A.det()), np.linalg.det(npy(A)), rtol=1e-10)
    np.testing.assert_allclose(npy(A.inverse()), np.linalg.inv(npy(A)), rtol=1e-10)
    np.testing.assert_allclose(npy(A.matrix_power(-1)), np.linalg.inv(npy(A)), rtol=1e-10)
    np.testing.assert_allclose(npy(A.logdet()), np.log(np.linalg.det(npy(A))), rtol=1e-10)
    np.testing.assert_allclose(npy(A.pinverse()), np.linalg.pinv(npy(A)), rtol=1e-8)
    v = ag.tensor(RNG.standard_normal(3), device=device)
    np.testing.assert_allclose(npy(A.mv(v)), npy(A) @ npy(v), rtol=1e-12)
    np.testing.assert_allclose(npy(v.ger(v)), np.outer(npy(v), npy(v)), rtol=1e-12)


@pytest.mark.parametrize("name", ["addmm_", "addmv_", "addbmm_", "baddbmm_"])
def test_inplace_add_products_match_torch(name, device):
    torch = _torch()
    shapes = {"addmm_": ((2, 4), (2, 3), (3, 4)), "addmv_": ((2,), (2, 3), (3,)),
              "addbmm_": ((2, 4), (5, 2, 3), (5, 3, 4)), "baddbmm_": ((5, 2, 4), (5, 2, 3), (5, 3, 4))}[name]
    arrs = [RNG.standard_normal(s) for s in shapes]
    x, tx = ag.tensor(arrs[0], device=device), torch.tensor(arrs[0])
    r = getattr(x, name)(*(ag.tensor(a, device=device) for a in arrs[1:]), beta=0.5, alpha=2.0)
    getattr(tx, name)(*(torch.tensor(a) for a in arrs[1:]), beta=0.5, alpha=2.0)
    assert r is x
    _close(x, tx, 1e-12)


def test_float16_refused_like_torch(device):
    try:
        h = ag.tensor(np.eye(2, dtype=np.float16), device=device)
    except TypeError:
        pytest.skip(f"the {device} backend has no float16")
    for f in (ag.linalg.inv, ag.linalg.cholesky, ag.linalg.eigh, ag.linalg.svd, ag.linalg.qr, ag.linalg.pinv):
        with pytest.raises(RuntimeError, match="Low precision"):
            f(h)
    # the products themselves take float16, as torch's do
    assert ag.mm(h, h).dtype is ag.float16 and ag.einsum("ij,jk", h, h).dtype is ag.float16


def test_singular_inverse_raises_naming_the_op(device):
    A = ag.tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), device=device)
    if device != "cpu" and device != "array_api_strict":
        pytest.skip("GPU solvers report a singular matrix through nan, not an error")
    with pytest.raises(RuntimeError, match="inv"):
        ag.linalg.inv(A)
    with pytest.raises(RuntimeError, match="solve"):
        ag.linalg.solve(A, A)


def test_every_linalg_function_is_torchs_and_in_the_registry():
    torch = _torch()
    from tests.opinfo import REGISTRY
    labels = [c if isinstance(c, str) else c.label for info in REGISTRY for c in info.calls]
    names = [n for n in dir(ag.linalg) if not n.startswith("_") and callable(getattr(ag.linalg, n))]
    assert set(ag.linalg.__all__) == set(names)
    for n in names:
        assert hasattr(torch.linalg, n), f"autograd.linalg.{n} is not a torch.linalg name"
        assert any(lab == f"linalg.{n}" or lab.startswith(f"linalg.{n}(") for lab in labels), \
            f"autograd.linalg.{n} has no registry call (tests/opinfo_linalg.py)"
