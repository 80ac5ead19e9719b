"""issue 12's loss modules against torch 2.13: constructor signatures and defaults (the deprecated
size_average/reduce pair included), repr, forward and gradients, weight buffers in state_dict both ways,
gradcheck in float64; CTC's batched/unbatched/concatenated forms, zero_infinity, float32, and its gradient
(torch's exp(log_probs) term) checked by finite differences through log_softmax."""
import inspect
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from helpers import npy

RNG = np.random.default_rng(7)


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle")


def _sign(shape):
    return np.where(RNG.random(shape) > 0.5, 1.0, -1.0)


X, Y = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
P = RNG.uniform(0.1, 1.0, (4, 5))
# (module name, constructor args, kwargs, inputs: arrays (float ones get gradients when `grad` says so), grad mask)
CASES = [
    ("KLDivLoss", (), {}, [X, P], [1, 1]),
    ("KLDivLoss", (), {"reduction": "batchmean", "log_target": True}, [X, np.log(P)], [1, 1]),
    ("KLDivLoss", (False,), {}, [X, P], [1, 0]),                       # legacy size_average=False -> sum
    ("KLDivLoss", (None, False), {}, [X, P], [1, 0]),                  # legacy reduce=False -> none
    ("PoissonNLLLoss", (), {}, [X, np.floor(P * 4)], [1, 0]),
    ("PoissonNLLLoss", (False, True), {"eps": 1e-4, "reduction": "none"}, [P, np.floor(P * 4)], [1, 0]),
    ("GaussianNLLLoss", (), {"full": True}, [X, Y, P], [1, 1, 1]),
    ("GaussianNLLLoss", (), {"reduction": "sum"}, [X, Y, P[:, 0]], [1, 1, 1]),
    ("CosineEmbeddingLoss", (0.2,), {}, [X, Y, _sign(4)], [1, 1, 0]),
    ("CosineEmbeddingLoss", (), {"reduction": "none"}, [X, Y, _sign(4)], [1, 1, 0]),
    ("MarginRankingLoss", (0.3,), {}, [X[0], Y[0], _sign(5)], [1, 1, 0]),
    ("MarginRankingLoss", (), {"reduce": False}, [X[0], Y[0], _sign(5)], [1, 1, 0]),
    ("HingeEmbeddingLoss", (0.5,), {}, [X, _sign((4, 5))], [1, 0]),
    ("SoftMarginLoss", (), {}, [X, _sign((4, 5))], [1, 0]),
    ("SoftMarginLoss", (), {"size_average": False}, [X, _sign((4, 5))], [1, 0]),
    ("MultiLabelSoftMarginLoss", (), {}, [X, (P > 0.5) * 1.0], [1, 0]),
    ("MultiLabelMarginLoss", (), {}, [X, np.array([[3, 0, -1, 1, 2], [1, 1, 2, -1, 0], [-1, 1, 2, 3, 0],
                                                   [4, 4, 4, 4, 4]])], [1, 0]),
    ("MultiMarginLoss", (), {}, [X, np.array([0, 3, 2, 4])], [1, 0]),
    ("MultiMarginLoss", (2, 0.5), {"reduction": "none"}, [X, np.array([0, 3, 2, 4])], [1, 0]),
    ("TripletMarginWithDistanceLoss", (), {}, [X, Y, P], [1, 1, 1]),
    ("MSELoss", (False,), {}, [X, Y], [1, 1]),
    ("L1Loss", (), {"reduce": False}, [X, Y], [1, 1]),
    ("BCEWithLogitsLoss", (None, False), {}, [X, P], [1, 0]),
    ("CrossEntropyLoss", (None, False), {"ignore_index": 1}, [X, np.array([0, 1, 2, 4])], [1, 0]),
    ("TripletMarginLoss", (0.5,), {"size_average": False}, [X, Y, P], [1, 1, 1]),
    ("TripletMarginWithDistanceLoss", (), {"swap": True, "margin": 2.0, "reduction": "none"}, [X, Y, P], [1, 1, 1]),
]


def _leaf(a, want, side, device):
    torch = _torch()
    if side == "torch":
        t = torch.tensor(a)
        return t.requires_grad_() if want and t.dtype.is_floating_point else t
    return ag.tensor(a, device=device, requires_grad=bool(want) and a.dtype.kind == "f")


@pytest.mark.parametrize("name,args,kwargs,inputs,grad", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_loss_module_matches_torch(name, args, kwargs, inputs, grad, device):
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # torch's deprecation note on size_average/reduce
        theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.reduction == theirs.reduction
    to = [_leaf(a, g, "ours", device) for a, g in zip(inputs, grad)]
    tt = [_leaf(a, g, "torch", device) for a, g in zip(inputs, grad)]
    yo = ours(*to)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # torch's note that kl_div's 'mean' is not batchmean
        yt = theirs(*tt)
    assert tuple(yo.shape) == tuple(yt.shape) and yo.dtype is ag.float64
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(tuple(yt.shape))
    yo.backward(ag.tensor(g, device=device))
    yt.backward(torch.tensor(g))
    for a, b in zip(to, tt):
        if b.requires_grad:
            np.testing.assert_allclose(npy(a.grad), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    diff = [i for i, t in enumerate(to) if t.requires_grad]

    def f(*leaves):
        args_ = list(to)
        for i, leaf in zip(diff, leaves):
            args_[i] = leaf
        return ours(*args_)
    assert ag.gradcheck(f, tuple(ag.tensor(npy(to[i]), device=device, requires_grad=True) for i in diff))


def test_signatures_match_torch():
    torch = _torch()
    for name in ["KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
                 "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss",
                 "MultiMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss", "MSELoss", "L1Loss", "HuberLoss",
                 "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss", "TripletMarginLoss"]:
        ours = inspect.signature(getattr(nn, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
        assert [(p.name, p.default, p.kind) for p in ours.values()] == \
            [(p.name, p.default, p.kind) for p in theirs.values()], name


F_LOSSES = ["kl_div", "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
            "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
            "multi_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss", "mse_loss", "l1_loss", "huber_loss",
            "smooth_l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy",
            "triplet_margin_loss", "embedding", "embedding_bag"]


@pytest.mark.parametrize("name", F_LOSSES)
def test_functional_signature_matches_torch(name):
    torch = _torch()
    ours = inspect.signature(getattr(F, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters
    assert [(p.name, p.default, p.kind) for p in ours.values()] == \
        [(p.name, p.default, p.kind) for p in theirs.values()]


@pytest.mark.parametrize("name,kwargs", [("mse_loss", {}), ("l1_loss", {"reduction": "sum"}),
                                         ("huber_loss", {"delta": 0.5}), ("mse_loss", {"reduction": "none"})])
def test_elementwise_weight(name, kwargs, device):
    torch = _torch()
    w = RNG.uniform(0.1, 2.0, (4, 5))
    xo = ag.tensor(X, device=device, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    yo = getattr(F, name)(xo, ag.tensor(Y, device=device), weight=ag.tensor(w, device=device), **kwargs)
    yt = getattr(torch.nn.functional, name)(xt, torch.tensor(Y), weight=torch.tensor(w), **kwargs)
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-12)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(F, name)(xo, ag.tensor(Y, device=device), weight=ag.ones(5, dtype=ag.float64, device=device))


@pytest.mark.parametrize("name", ["MultiLabelSoftMarginLoss", "MultiMarginLoss"])
def test_weighted_loss_state_dict_both_ways(name, device):
    torch = _torch()
    w = RNG.uniform(0.5, 2.0, 5)
    ours, theirs = getattr(nn, name)(weight=ag.tensor(w)), getattr(torch.nn, name)(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.load_state_dict({k: ag.tensor(v.numpy() * 2) for k, v in theirs.state_dict().items()}, strict=True)
    theirs.load_state_dict({k: torch.from_numpy(npy(v).copy()) for k, v in ours.state_dict().items()}, strict=True)
    np.testing.assert_allclose(theirs.weight.numpy(), w * 2)
    ours.to(device)
    t = np.array([0, 3, 2, 4]) if name == "MultiMarginLoss" else (P > 0.5) * 1.0
    yo = ours(ag.tensor(X, device=device), ag.tensor(t, device=device))
    np.testing.assert_allclose(npy(yo), theirs(torch.tensor(X), torch.tensor(t)).numpy(), rtol=1e-12)


def test_loss_errors_follow_torch():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="var has negative"):
        nn.GaussianNLLLoss()(ag.ones(3), ag.ones(3), -ag.ones(3))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        nn.GaussianNLLLoss()(ag.ones(3, 2), ag.ones(3, 2), ag.ones(2, 2))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.KLDivLoss(reduction="avg")(ag.ones(3), ag.ones(3))


# --- CTC -------------------------------------------------------------------------------------------
def _log_probs(t, n, c, seed=0):
    x = np.random.default_rng(seed).standard_normal((t, n, c))
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


CTC = [  # targets, input_lengths, target_lengths, kwargs
    (np.array([[1, 1, 2, 3], [1, 2, 0, 0], [3, 4, 4, 1]]), [8, 6, 5], [4, 2, 3], {}),
    (np.array([[1, 1, 2, 3], [1, 2, 0, 0], [3, 4, 4, 1]]), [8, 6, 5], [4, 2, 3], {"reduction": "sum", "blank": 0}),
    (np.array([1, 1, 2, 3, 1, 2, 3, 4, 4]), [8, 6, 5], [4, 2, 3], {"reduction": "none"}),       # concatenated
    (np.array([[2, 2, 2, 2], [1, 2, 0, 0], [3, 3, 3, 1]]), [8, 3, 5], [4, 2, 4], {"reduction": "none"}),
    (np.array([[2, 2, 2, 2], [1, 2, 0, 0], [3, 3, 3, 1]]), [8, 3, 5], [4, 2, 4], {"zero_infinity": True}),
    (np.array([[0, 1, 2, 3], [0, 2, 0, 0], [3, 4, 4, 1]]), [8, 6, 5], [4, 0, 3], {"blank": 4, "reduction": "none"}),
]


@pytest.mark.parametrize("targets,il,tl,kwargs", CTC, ids=[str(i) for i in range(len(CTC))])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ctc_loss_matches_torch(targets, il, tl, kwargs, dtype, device):
    torch = _torch()
    lp = _log_probs(8, 3, 5).astype(dtype)
    if kwargs.get("blank") == 4:
        targets = np.where(targets == 4, 0, targets)
    lo = ag.tensor(lp, device=device, requires_grad=True)
    lt = torch.tensor(lp, requires_grad=True)
    m, mt = nn.CTCLoss(**kwargs), torch.nn.CTCLoss(**kwargs)
    assert repr(m) == repr(mt)
    yo = m(lo, ag.tensor(targets, device=device), ag.tensor(np.array(il), device=device), ag.tensor(np.array(tl), device=device))
    yt = mt(lt, torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    assert tuple(yo.shape) == tuple(yt.shape) and yo.dtype.name == dtype
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=tol, atol=tol)
    g = np.cos(np.arange(yt.numel())).reshape(tuple(yt.shape))
    yo.backward(ag.tensor(g, dtype=yo.dtype, device=device))
    yt.backward(torch.tensor(g, dtype=yt.dtype))
    np.testing.assert_allclose(npy(lo.grad), lt.grad.numpy(), rtol=tol * 10, atol=tol * 10)   # nan where torch's is


def test_ctc_unbatched_and_tuple_lengths(device):
    torch = _torch()
    lp = _log_probs(6, 1, 4)[:, 0]
    tg = np.array([1, 3, 3])
    yo = F.ctc_loss(ag.tensor(lp, device=device), ag.tensor(tg, device=device), ag.tensor(np.array(6), device=device),
                    ag.tensor(np.array(3), device=device), reduction="none")
    yt = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(tg), torch.tensor(6), torch.tensor(3),
                                      reduction="none")
    assert tuple(yo.shape) == () == tuple(yt.shape)
    np.testing.assert_allclose(npy(yo), yt.numpy(), rtol=1e-12)
    lp3 = _log_probs(6, 2, 4)
    tg2 = np.array([[1, 2], [3, 3]])
    yo = F.ctc_loss(ag.tensor(lp3, device=device), ag.tensor(tg2, device=device), (6, 5), (2, 2), reduction="none")
    yt = torch.nn.functional.ctc_loss(torch.tensor(lp3), torch.tensor(tg2), (6, 5), (2, 2), reduction="none")
    np.testing.assert_allclose(npy(yo), yt.numpy(), rtol=1e-12)


def test_ctc_gradcheck_through_log_softmax(device):
    # torch's ctc gradient adds exp(log_probs) (it assumes log_softmax inputs), which log_softmax's
    # backward removes again: through log_softmax, finite differences must agree
    x0 = np.random.default_rng(3).standard_normal((5, 2, 4))
    tg, il, tl = ag.tensor(np.array([[1, 2], [3, 0]]), device=device), (5, 4), (2, 1)

    def f(x):
        return F.ctc_loss(F.log_softmax(x, 2), tg, il, tl, reduction="sum")
    assert ag.gradcheck(f, (ag.tensor(x0, device=device, requires_grad=True),))


def test_ctc_errors_follow_torch(device):
    lp = ag.tensor(_log_probs(4, 2, 3), device=device)
    with pytest.raises(RuntimeError, match="input_lengths to have value at most 4"):
        F.ctc_loss(lp, ag.tensor(np.array([[1, 2], [1, 1]]), device=device), (5, 4), (2, 2))
    with pytest.raises(RuntimeError, match="size at least 3 at dimension 1"):
        F.ctc_loss(lp, ag.tensor(np.array([[1, 2], [1, 1]]), device=device), (4, 4), (3, 2))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("shapes", [((4, 5), (5,)), ((4, 1), (1, 5))])
def test_target_of_another_shape_broadcasts_with_torchs_warning(name, shapes, device):
    torch = _torch()
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    xo, yo_ = ag.tensor(a, device=device, requires_grad=True), ag.tensor(b, device=device, requires_grad=True)
    xt, yt_ = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    with pytest.warns(UserWarning, match="different to the input size"):
        lo = getattr(F, name)(xo, yo_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lt = getattr(torch.nn.functional, name)(xt, yt_)
    np.testing.assert_allclose(npy(lo), lt.detach().numpy(), rtol=1e-12)
    lo.backward()
    lt.backward()
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(npy(yo_.grad), yt_.grad.numpy(), rtol=1e-12)
