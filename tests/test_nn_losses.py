"""Activations and losses: values and gradients vs torch (float64), gradcheck in float64 for every
loss, closed forms on extreme logits for the fused ones, reductions and input errors."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from helpers import npy, sample

RNG = np.random.default_rng(0)


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for loss numerics")


# --- activations --------------------------------------------------------------------------------
ACTS = [("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {"alpha": 0.7}), ("Sigmoid", {}),
        ("Tanh", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {}),
        ("Softplus", {"beta": 2.0}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": 1})]


@pytest.mark.parametrize("name,kw", ACTS, ids=[a + str(k) for a, k in ACTS])
def test_activation_modules_vs_torch(name, kw):
    torch = _torch()
    xv = RNG.uniform(0.2, 3, (3, 4)) * RNG.choice([-1, 1], (3, 4))
    x = ag.tensor(xv, requires_grad=True)
    tx = torch.tensor(xv, requires_grad=True)
    y, ty = getattr(nn, name)(**kw)(x), getattr(torch.nn, name)(**kw)(tx)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = RNG.standard_normal((3, 4))
    y.backward(ag.tensor(gy)), ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert ag.gradcheck(getattr(nn, name)(**kw), (sample((2, 3), domain="nonzero"),))


def test_swish_alias_and_swiglu():
    assert nn.Swish is nn.SiLU
    m = nn.SwiGLU(4, 6).double()
    assert [n for n, _ in m.named_parameters()] == ["w1.weight", "w2.weight", "w3.weight"]
    x = sample((3, 4))
    with ag.no_grad():
        a, b = npy(x) @ npy(m.w1.weight).T, npy(x) @ npy(m.w3.weight).T
        ref = (a / (1 + np.exp(-a)) * b) @ npy(m.w2.weight).T
        np.testing.assert_allclose(npy(m(x)), ref, rtol=1e-12)
    ps = [p.detach().clone().requires_grad_() for p in m.parameters()]
    assert ag.gradcheck(lambda x, w1, w2, w3: F.linear(F.silu(F.linear(x, w1)) * F.linear(x, w3), w2), (x, *ps))
    h = sample((2, 6))
    hv = npy(h)
    np.testing.assert_allclose(npy(F.swiglu(h)), hv[:, :3] / (1 + np.exp(-hv[:, :3])) * hv[:, 3:], rtol=1e-12)
    assert ag.gradcheck(F.swiglu, (h,))
    with pytest.raises(RuntimeError, match="even size"):
        F.swiglu(ag.randn(2, 5))


# --- losses vs torch ---------------------------------------------------------------------------------
def _pair(shape=(4, 3)):
    return RNG.standard_normal(shape), RNG.standard_normal(shape)


def _check(ours, theirs, args, grad_args=(0,), rtol=1e-10, atol=1e-12):
    """Compare loss value and input gradients; args are numpy arrays (float ones get requires_grad)."""
    torch = _torch()
    a = [ag.tensor(v, requires_grad=i in grad_args) for i, v in enumerate(args)]
    t = [torch.tensor(v, requires_grad=i in grad_args) for i, v in enumerate(args)]
    y, ty = ours(*a), theirs(*t)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=rtol, atol=atol)
    gy = RNG.standard_normal(tuple(y.shape))
    y.backward(ag.tensor(gy)), ty.backward(torch.tensor(gy))
    for i in grad_args:
        np.testing.assert_allclose(npy(a[i].grad), t[i].grad.numpy(), rtol=rtol, atol=atol)


RED = ["mean", "sum", "none"]


@pytest.mark.parametrize("red", RED)
def test_regression_losses_vs_torch(red):
    torch = _torch()
    x, y = _pair()
    _check(nn.MSELoss(reduction=red), torch.nn.MSELoss(reduction=red), (x, y), (0, 1))
    _check(nn.L1Loss(reduction=red), torch.nn.L1Loss(reduction=red), (x, y), (0, 1))
    _check(nn.HuberLoss(reduction=red, delta=0.7), torch.nn.HuberLoss(reduction=red, delta=0.7), (x, y), (0, 1))
    _check(nn.SmoothL1Loss(reduction=red, beta=0.6), torch.nn.SmoothL1Loss(reduction=red, beta=0.6), (x, y), (0, 1))
    _check(nn.SmoothL1Loss(reduction=red, beta=0.0), torch.nn.SmoothL1Loss(reduction=red, beta=0.0), (x, y), (0, 1))


@pytest.mark.parametrize("red", RED)
def test_bce_vs_torch(red):
    torch = _torch()
    p, y = RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3))
    w = RNG.uniform(0.5, 2, (3,))
    _check(nn.BCELoss(reduction=red), torch.nn.BCELoss(reduction=red), (p, y), (0, 1))
    _check(nn.BCELoss(weight=ag.tensor(w), reduction=red), torch.nn.BCELoss(weight=torch.tensor(w), reduction=red),
           (p, y), (0,))
    x = RNG.standard_normal((4, 3)) * 3
    pw = RNG.uniform(0.5, 3, (3,))
    _check(nn.BCEWithLogitsLoss(reduction=red), torch.nn.BCEWithLogitsLoss(reduction=red), (x, y), (0, 1))
    _check(nn.BCEWithLogitsLoss(weight=ag.tensor(w), pos_weight=ag.tensor(pw), reduction=red),
           torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw), reduction=red),
           (x, y), (0, 1))


def test_bce_extremes_closed_form():
    torch = _torch()
    # probabilities exactly 0 and 1: log clamped at -100, gradient denominators clamped at 1e-12
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], dtype=ag.float64, requires_grad=True)
    y = ag.tensor([1.0, 0.0, 0.0, 1.0], dtype=ag.float64)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(npy(loss), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    tp = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(tp, torch.tensor(npy(y)), reduction="none").sum().backward()
    np.testing.assert_array_equal(npy(p.grad), tp.grad.numpy())
    assert np.all(np.isfinite(npy(p.grad)))


def test_bce_with_logits_extreme_logits():
    x = ag.tensor([1000.0, -1000.0, 1000.0, -1000.0, 0.0], dtype=ag.float64, requires_grad=True)
    y = ag.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=ag.float64)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_array_equal(npy(loss), [0.0, 0.0, 1000.0, 1000.0, math.log(2)])
    loss.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [0.0, 0.0, 1.0, -1.0, -0.5])     # sigmoid(x) - y
    pw = ag.tensor([3.0], dtype=ag.float64)
    lp = F.binary_cross_entropy_with_logits(x.detach(), y, pos_weight=pw, reduction="none")
    np.testing.assert_array_equal(npy(lp), [0.0, 0.0, 1000.0, 3000.0, 3 * math.log(2)])
    x32 = ag.tensor([88.0, -88.0, 1e4], requires_grad=True)
    l32 = F.binary_cross_entropy_with_logits(x32, ag.tensor([0.0, 1.0, 0.0]), reduction="sum")
    assert math.isfinite(float(l32))
    l32.backward()
    assert np.all(np.isfinite(npy(x32.grad)))


def test_cross_entropy_extreme_logits():
    x = ag.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], dtype=ag.float64, requires_grad=True)
    t = ag.tensor([1, 2])
    loss = F.cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(npy(loss), [2000.0, 1 + math.log1p(math.exp(-1))], rtol=1e-12)
    loss.sum().backward()
    s = 1 / (1 + math.exp(-1))
    np.testing.assert_allclose(npy(x.grad), [[1, -1, 0], [0, s, -s]], atol=1e-15)


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("smooth", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_indices_vs_torch(red, smooth, weighted):
    torch = _torch()
    x = RNG.standard_normal((6, 4))
    t = np.array([0, 3, 1, -100, 3, 2])
    w = RNG.uniform(0.2, 2, 4)
    kw = dict(ignore_index=-100, reduction=red, label_smoothing=smooth)
    ours = nn.CrossEntropyLoss(weight=ag.tensor(w) if weighted else None, **kw)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w) if weighted else None, **kw)
    _check(ours, theirs, (x, t))
    # K-dimensional: (N, C, d1, d2)
    x4, t4 = RNG.standard_normal((2, 3, 2, 2)), RNG.integers(0, 3, (2, 2, 2))
    t4[0, 0, 1] = 1 if weighted else -100
    ours = nn.CrossEntropyLoss(weight=ag.tensor(w[:3]) if weighted else None, **kw)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w[:3]) if weighted else None, **kw)
    _check(ours, theirs, (x4, t4))


@pytest.mark.parametrize("red", RED)
def test_cross_entropy_probabilities_and_nll_vs_torch(red):
    torch = _torch()
    x = RNG.standard_normal((5, 4))
    p = RNG.dirichlet(np.ones(4), 5)
    w = RNG.uniform(0.2, 2, 4)
    _check(nn.CrossEntropyLoss(reduction=red, label_smoothing=0.1),
           torch.nn.CrossEntropyLoss(reduction=red, label_smoothing=0.1), (x, p), (0, 1))
    _check(nn.CrossEntropyLoss(weight=ag.tensor(w), reduction=red),
           torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction=red), (x, p), (0,))
    lp = np.log(p)
    t = np.array([1, 0, 3, 3, 2])
    _check(nn.NLLLoss(weight=ag.tensor(w), reduction=red, ignore_index=0),
           torch.nn.NLLLoss(weight=torch.tensor(w), reduction=red, ignore_index=0), (lp, t))
    _check(F.cross_entropy, torch.nn.functional.cross_entropy, (x[0], t[0]))       # unbatched


def test_cross_entropy_bad_targets():
    x = ag.randn(3, 4)
    with pytest.raises(IndexError, match=r"out of range \[0, 4\).*\[4\]"):
        F.cross_entropy(x, ag.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="out of range"):
        F.nll_loss(x, ag.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"expected target of shape \(3,\).*\(3, 1\)"):
        F.cross_entropy(x, ag.tensor([[0], [1], [2]]))
    with pytest.raises(ValueError, match="probability target"):
        F.cross_entropy(x, ag.rand(3, 5))
    with pytest.raises(RuntimeError, match=r"mse_loss: target of shape \(3,\).*\(3, 4\)"), \
            pytest.warns(UserWarning, match="different to the input size"):     # torch warns, then fails to broadcast
        F.mse_loss(x, ag.randn(3))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(x, ag.rand(3, 4))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("red", RED)
def test_triplet_vs_torch(red):
    torch = _torch()
    a, p, n = (RNG.standard_normal((5, 3)) for _ in range(3))
    for kw in (dict(margin=1.0), dict(margin=0.5, p=1.0, swap=True)):
        _check(nn.TripletMarginLoss(reduction=red, **kw), torch.nn.TripletMarginLoss(reduction=red, **kw),
               (a, p, n), (0, 1, 2))


def test_focal_loss_vs_torchvision_formula():
    """Reference: torchvision.ops.sigmoid_focal_loss, written out in torch."""
    torch = _torch()

    def tv_focal(inputs, targets, alpha=0.25, gamma=2.0):
        p = torch.sigmoid(inputs)
        ce = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce * ((1 - p_t) ** gamma)
        if alpha >= 0:
            loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
        return loss
    x, y = RNG.standard_normal((4, 3)) * 2, RNG.integers(0, 2, (4, 3)).astype(float)
    _check(F.sigmoid_focal_loss, tv_focal, (x, y))
    _check(lambda a, b: F.sigmoid_focal_loss(a, b, alpha=-1, gamma=0.5), lambda a, b: tv_focal(a, b, -1, 0.5), (x, y))
    _check(nn.FocalLoss(), lambda a, b: tv_focal(a, b).mean(), (x, y))
    # gamma = 0, alpha = -1 is plain BCE with logits; confident right answers are down-weighted
    np.testing.assert_allclose(npy(F.sigmoid_focal_loss(ag.tensor(x), ag.tensor(y), alpha=-1, gamma=0)),
                               npy(F.binary_cross_entropy_with_logits(ag.tensor(x), ag.tensor(y), reduction="none")))
    big = F.sigmoid_focal_loss(ag.tensor([1000.0, -1000.0], dtype=ag.float64), ag.tensor([0.0, 1.0], dtype=ag.float64))
    np.testing.assert_allclose(npy(big), [0.75 * 1000, 0.25 * 1000])


def test_contrastive_loss_closed_form():
    x1, x2 = sample((4, 3)), sample((4, 3), seed=1)
    y = ag.tensor([1.0, 0.0, 1.0, 0.0], dtype=ag.float64)
    d = np.linalg.norm(npy(x1) - npy(x2) + 1e-6, axis=1)
    m = 2.5
    ref = 0.5 * (npy(y) * d ** 2 + (1 - npy(y)) * np.maximum(0, m - d) ** 2)
    np.testing.assert_allclose(npy(F.contrastive_loss(x1, x2, y, margin=m, reduction="none")), ref, rtol=1e-12)
    np.testing.assert_allclose(float(nn.ContrastiveLoss(margin=m)(x1, x2, y)), ref.mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="one label per pair"):
        F.contrastive_loss(x1, x2, ag.ones(4, 1))


def test_asymmetric_mse_closed_form():
    pred = ag.tensor([1.0, 3.0, 2.0], dtype=ag.float64, requires_grad=True)
    eta = ag.tensor([2.0, 1.0, 2.0], dtype=ag.float64)
    loss = nn.AsymmetricMSELoss(lam=10.0, reduction="none")(pred, eta)
    np.testing.assert_array_equal(npy(loss), [10.0, 4.0, 0.0])      # late truck (under-prediction) costs 10x
    loss.sum().backward()
    np.testing.assert_array_equal(npy(pred.grad), [-20.0, 4.0, 0.0])
    np.testing.assert_allclose(float(F.asymmetric_mse_loss(pred, eta, lam=1.0)), float(F.mse_loss(pred, eta)))
    with pytest.raises(ValueError, match="lam"):
        nn.AsymmetricMSELoss(lam=0.5)


GRADCHECK = [
    ("mse", lambda x, y: F.mse_loss(x, y), "any"),
    ("l1", lambda x, y: F.l1_loss(x, y), "any"),
    ("huber", lambda x, y: F.huber_loss(x, y, delta=0.5), "any"),
    ("smooth_l1", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), "any"),
    ("bce", lambda x, y: F.binary_cross_entropy(ag.sigmoid(x), ag.sigmoid(y)), "any"),
    ("bce_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, ag.sigmoid(y), weight=ag.tensor([1.0, 2.0, 0.5], dtype=ag.float64),
                                                                   pos_weight=ag.tensor([2.0, 1.0, 3.0], dtype=ag.float64)), "any"),
    ("ce_idx", lambda x, y: F.cross_entropy(x, ag.tensor([0, 2, -100, 1]), weight=y[0].abs() + 0.5, label_smoothing=0.1), "any"),
    ("ce_prob", lambda x, y: F.cross_entropy(x, ag.softmax(y, 1), label_smoothing=0.2), "any"),
    ("nll", lambda x, y: F.nll_loss(ag.log_softmax(x, 1), ag.tensor([2, 1, 0, 1]), reduction="sum"), "any"),
    ("focal", lambda x, y: F.sigmoid_focal_loss(x, ag.sigmoid(y), reduction="mean"), "any"),
    ("contrastive", lambda x, y: F.contrastive_loss(x, y, ag.tensor([1.0, 0.0, 0.0, 1.0], dtype=ag.float64), margin=3.0), "any"),
    ("triplet", lambda x, y: F.triplet_margin_loss(x, y, x[[3, 2, 1, 0]] * 0.5, margin=2.0), "any"),
    ("asym_mse", lambda x, y: F.asymmetric_mse_loss(x, y, lam=4.0), "any"),
]


@pytest.mark.parametrize("name,fn,dom", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_losses_gradcheck(name, fn, dom):
    x, y = sample((4, 3), domain=dom, seed=2), sample((4, 3), domain=dom, seed=3)
    assert ag.gradcheck(fn, (x, y))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_matches_composite_and_gradchecks(reduction):
    """The fused (N, C) index path against the general composite path (log_softmax + NLL)."""
    import numpy as np
    from autograd.ops.loss import cross_entropy_index
    from nn.functional_losses import nll_loss
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.standard_normal((5, 4)) * 3, dtype=ag.float64, requires_grad=True)
    t = ag.tensor([0, 3, -100, 1, 3])
    fused = cross_entropy_index(x, t, -100, reduction)
    ref = nll_loss(ag.log_softmax(x, 1), t, None, ignore_index=-100, reduction=reduction)   # torch's signature
    np.testing.assert_allclose(np.asarray(fused.detach()), np.asarray(ref.detach()), rtol=1e-12)
    assert ag.gradcheck(lambda a: cross_entropy_index(a, t, -100, reduction), (x,))
    assert ag.gradgradcheck(lambda a: cross_entropy_index(a, t, -100, reduction), (x,))
    big = ag.tensor([[1000.0, -1000.0, 0.0]], dtype=ag.float64, requires_grad=True)
    loss = cross_entropy_index(big, ag.tensor([1]), -100, "mean")
    assert loss.item() == pytest.approx(2000.0)
    loss.backward()
    np.testing.assert_allclose(np.asarray(big.grad), [[1.0, -1.0, 0.0]], atol=1e-12)
