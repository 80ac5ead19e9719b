"""Issue 12, normalisation and regularisation layers against torch 2.13 on every backend: signatures,
state_dict both ways (running stats included), forward and gradients in train and eval, running-stat
updates over several steps, repr, gradcheck; dropout variants by their statistics and masks."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from conv_oracle import check_module, gradcheck_module, same_signature, torch_
from helpers import npy

RNG = np.random.default_rng(13)

CLASSES = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "Dropout", "Dropout1d", "Dropout2d",
           "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_signature_matches_torch(name):
    torch = torch_()
    same_signature(getattr(nn, name), getattr(torch.nn, name))


def _pair(cls_name, *args, **kw):
    torch = torch_()
    ours = getattr(nn, cls_name)(*args, **kw, dtype=ag.float64)
    theirs = getattr(torch.nn, cls_name)(*args, **kw, dtype=torch.float64)
    return ours, theirs


NORMS = [
    ("BatchNorm1d", (3,), dict(momentum=None), (4, 3, 5)),
    ("BatchNorm2d", (3,), dict(affine=False), (2, 3, 2, 3)),
    ("BatchNorm3d", (2,), dict(bias=False), (2, 2, 3, 2, 2)),
    ("BatchNorm3d", (2,), dict(track_running_stats=False, momentum=0.3), (2, 2, 1, 2, 3)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 4)),
    ("InstanceNorm2d", (2,), dict(affine=True, bias=False, momentum=0.5, track_running_stats=True), (3, 2, 3, 3)),
    ("InstanceNorm2d", (2,), dict(affine=True), (2, 3, 4)),                                     # unbatched
    ("InstanceNorm3d", (2,), dict(track_running_stats=True, momentum=None), (1, 2, 2, 3, 2)),
    ("LayerNorm", ((3, 4),), dict(bias=False), (2, 3, 4)),
    ("LayerNorm", (4,), dict(elementwise_affine=False), (2, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 3), dict(affine=False, eps=1e-3), (2, 3, 2, 2)),
    ("GroupNorm", (3, 3), dict(bias=False), (2, 3)),
    ("RMSNorm", ([3, 4],), {}, (2, 3, 4)),
    ("RMSNorm", (4,), dict(eps=1e-3, elementwise_affine=False), (5, 4)),
]


@pytest.mark.parametrize("cls,args,kw,shape", NORMS, ids=[f"{c[0]}-{i}" for i, c in enumerate(NORMS)])
def test_norm_modules_vs_torch_train_then_eval(cls, args, kw, shape, device):
    ours, theirs = _pair(cls, *args, **kw)
    with ag.no_grad():                   # non-trivial affine parameters, copied into torch by check_module
        for p in ours.parameters():
            p.copy_(ag.tensor(RNG.standard_normal(tuple(p.shape))))
    for step in range(3):                # running stats (and momentum=None's average) move step by step
        x = RNG.standard_normal(shape) * (step + 1) + step
        theirs.load_state_dict(theirs.state_dict())
        check_module(ours, theirs, x, device, train=True, rtol=1e-9)
        for (k, b), tb in zip(ours.state_dict().items(), theirs.state_dict().values()):
            np.testing.assert_allclose(npy(b), tb.numpy(), rtol=1e-12, err_msg=k)
    check_module(ours, theirs, RNG.standard_normal(shape), device, train=False, rtol=1e-9)


def test_local_response_norm_vs_torch(device):
    torch = torch_()
    for args, shape in [((3,), (2, 5, 4)), ((2, 0.1, 0.5, 2.0), (1, 4, 3, 2)), ((4,), (1, 3, 2, 2, 2))]:
        ours, theirs = nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
        check_module(ours, theirs, RNG.standard_normal(shape), device, rtol=1e-9)


@pytest.mark.parametrize("cls,args,kw,shape", [NORMS[0], NORMS[5], NORMS[11], NORMS[14]], ids=lambda v: str(v)[:20])
def test_norm_modules_gradcheck(cls, args, kw, shape, device):
    m = getattr(nn, cls)(*args, **kw, dtype=ag.float64).to(device=device)
    with ag.no_grad():
        for p in m.parameters():
            p.copy_(ag.tensor(RNG.standard_normal(tuple(p.shape))))
    m.train()
    gradcheck_module(m, RNG.standard_normal(shape), device, gradgrad=True)
    m.eval()
    gradcheck_module(m, RNG.standard_normal(shape), device)


def test_norm_errors():
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="5D"):
        nn.BatchNorm3d(2)(ag.randn(2, 2, 3))
    with pytest.raises(ValueError, match="InstanceNorm1d"):
        nn.InstanceNorm1d(2)(ag.randn(2, 2, 2, 2))
    with pytest.raises(RuntimeError, match="group_norm"):
        F.group_norm(ag.randn(2, 4, 3), 3)
    with pytest.raises(TypeError, match="normalized_shape"):
        F.rms_norm(ag.randn(2, 3), 3)


def test_normalize_unit_rows(device):
    x = ag.randn(4, 5, dtype=ag.float64, device=device)
    y = F.normalize(x, dim=1)
    np.testing.assert_allclose(np.linalg.norm(npy(y), axis=1), np.ones(4), rtol=1e-12)
    z = F.normalize(ag.zeros(2, 3, device=device))                # eps keeps a zero row zero, not nan
    assert np.all(npy(z) == 0)


# --- dropout -------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,shape", [("Dropout1d", (8, 50, 6)), ("Dropout2d", (8, 50, 3, 2)),
                                       ("Dropout3d", (4, 50, 2, 2, 2)), ("Dropout1d", (50, 6)),
                                       ("Dropout3d", (50, 2, 2, 3)), ("FeatureAlphaDropout", (8, 50, 6))])
def test_feature_dropout_zeroes_whole_channels(cls, shape, device):
    m = getattr(nn, cls)(0.4)
    assert repr(m) == f"{cls}(p=0.4, inplace=False)"
    x = ag.ones(*shape, dtype=ag.float64, device=device)
    y = npy(m(x))
    assert y.shape == shape
    batched = len(shape) == {"Dropout1d": 3, "Dropout2d": 4, "Dropout3d": 5, "FeatureAlphaDropout": 3}[cls]
    chan = y.reshape(shape[:2] + (-1,)) if batched else y.reshape((1, shape[0], -1))
    assert np.all(chan == chan[..., :1])                       # one value per (sample, channel)
    vals = np.unique(chan[..., 0])
    if cls == "FeatureAlphaDropout":
        assert len(vals) == 2
    else:
        np.testing.assert_allclose(vals, [0.0, 1 / 0.6])
        frac = (chan[..., 0] == 0).mean()
        assert 0.2 < frac < 0.6
    m.eval()
    np.testing.assert_array_equal(npy(m(x)), npy(x))


def test_alpha_dropout_keeps_mean_and_variance(device):
    ag.manual_seed(3)
    x = ag.randn(200000, dtype=ag.float64, device=device)
    for cls in (nn.AlphaDropout, nn.FeatureAlphaDropout):
        m = cls(0.3)
        inp = x if cls is nn.AlphaDropout else x.reshape(2000, 100, 1)
        y = npy(m(inp)).ravel()
        assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03           # SELU's fixed point is kept
        m.eval()
        np.testing.assert_array_equal(npy(m(inp)), npy(inp))
    # F.alpha_dropout defaults to training=False, as torch
    np.testing.assert_array_equal(npy(F.alpha_dropout(x, 0.5)), npy(x))
    assert float(F.alpha_dropout(x, 1.0, training=True).abs().sum()) == 0.0


def test_dropout_gradient_is_the_mask(device):
    x = ag.randn(6, 40, 5, dtype=ag.float64, device=device, requires_grad=True)
    y = F.dropout1d(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), npy(y) / np.where(npy(x) == 0, 1, npy(x)))


# --- parametrizations and the weight/spectral norm hooks ------------------------------------------

from nn.utils import parametrizations as P, parametrize  # noqa: E402


def _load_both_ways(ours, theirs, device):
    torch = torch_()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ag.tensor(v.detach().numpy(), device=device) for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: torch.from_numpy(np.array(npy(v))) for k, v in ours.state_dict().items()})


def _forward_backward(ours, theirs, x_np, device):
    torch = torch_()
    x, tx = ag.tensor(x_np, device=device), torch.tensor(x_np)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = RNG.standard_normal(tuple(y.shape))
    y.backward(ag.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    tp = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tp)
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(npy(p.grad), tp[n].grad.numpy(), rtol=1e-8, atol=1e-11, err_msg=n)


@pytest.mark.parametrize("make,dim", [(lambda m: m.Linear(4, 3), 0), (lambda m: m.Conv1d(2, 3, 3), 0),
                                      (lambda m: m.Conv1d(2, 3, 3), 1), (lambda m: m.Linear(3, 2), None)])
def test_parametrized_weight_norm_vs_torch(make, dim, device):
    torch = torch_()
    ours = P.weight_norm(make(nn).double(), dim=dim)
    theirs = torch.nn.utils.parametrizations.weight_norm(make(torch.nn).double(), dim=dim)
    assert type(ours).__name__ == type(theirs).__name__ and parametrize.is_parametrized(ours, "weight")
    ours.to(device=device)
    _load_both_ways(ours, theirs, device)
    assert tuple(ours.parametrizations.weight.original0.shape) == tuple(theirs.parametrizations.weight.original0.shape)
    shape = (2, 4) if isinstance(ours, nn.Linear) and ours.in_features == 4 else \
        (2, 3) if isinstance(ours, nn.Linear) else (2, 2, 5)
    _forward_backward(ours, theirs, RNG.standard_normal(shape), device)
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours).__name__ == type(theirs).__name__ and not parametrize.is_parametrized(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(npy(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("make", [pytest.param(lambda m: m.Linear(5, 3), id="Linear"),
                                  pytest.param(lambda m: m.ConvTranspose1d(2, 3, 2), id="ConvTranspose1d"),
                                  pytest.param(lambda m: m.Conv2d(2, 3, 2), id="Conv2d")])
def test_parametrized_spectral_norm_vs_torch(make, device):
    torch = torch_()
    ours = P.spectral_norm(make(nn).double())
    theirs = torch.nn.utils.parametrizations.spectral_norm(make(torch.nn).double())
    ours.to(device=device)
    _load_both_ways(ours, theirs, device)
    shape = {nn.Linear: (2, 5), nn.ConvTranspose1d: (1, 2, 3), nn.Conv2d: (1, 2, 3, 3)}[type(ours).__bases__[0]]
    for train in (True, True, False):               # each training forward is one power-iteration step
        ours.train(train), theirs.train(train)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            p.grad, tp.grad = None, None
        _forward_backward(ours, theirs, RNG.standard_normal(shape), device)
        for (k, b), tb in zip(ours.state_dict().items(), theirs.state_dict().values()):
            np.testing.assert_allclose(npy(b), tb.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    w = npy(ours.weight).reshape(npy(ours.weight).shape[0], -1) if type(ours).__bases__[0] is not nn.ConvTranspose1d \
        else np.moveaxis(npy(ours.weight), 1, 0).reshape(3, -1)
    assert abs(np.linalg.svd(w, compute_uv=False)[0] - 1) < 0.2           # roughly unit spectral norm


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5)])
def test_parametrized_orthogonal_vs_torch(shape, device):
    torch = torch_()
    ours = P.orthogonal(nn.Linear(shape[1], shape[0]).double())
    theirs = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(shape[1], shape[0]).double())
    ours.to(device=device)
    _load_both_ways(ours, theirs, device)
    with ag.no_grad():               # move away from the identity of the trivialization, on both sides
        delta = RNG.standard_normal(shape) * 0.3 * (1 - np.eye(*shape))     # the diagonal holds householder's signs
        ours.parametrizations.weight.original.add_(ag.tensor(delta, device=device))
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(torch.tensor(delta))
    w = npy(ours.weight)
    small = min(shape)
    np.testing.assert_allclose(w @ w.T if shape[0] <= shape[1] else w.T @ w, np.eye(small), atol=1e-10)
    _forward_backward(ours, theirs, RNG.standard_normal((2, shape[1])), device)


class _Scale(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return x * self.k

    def right_inverse(self, x):
        return x / self.k


def test_register_parametrization_api(device):
    m = nn.Linear(3, 2).double().to(device=device)
    w0 = npy(m.weight).copy()
    parametrize.register_parametrization(m, "weight", _Scale(2.0))
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    np.testing.assert_allclose(npy(m.parametrizations.weight.original), w0 / 2)     # right_inverse ran
    np.testing.assert_allclose(npy(m.weight), w0)
    parametrize.register_parametrization(m, "weight", _Scale(3.0))                  # chained
    np.testing.assert_allclose(npy(m.weight), w0 * 3)
    m.weight = ag.tensor(np.ones((2, 3)), device=device)                              # assignment inverts the chain
    np.testing.assert_allclose(npy(m.parametrizations.weight.original), np.ones((2, 3)) / 6)
    np.testing.assert_allclose(npy(m.weight), np.ones((2, 3)))
    x = ag.randn(4, 3, dtype=ag.float64, device=device)
    m(x).sum().backward()
    np.testing.assert_allclose(npy(m.parametrizations.weight.original.grad), np.tile(npy(x).sum(0) * 6, (2, 1)))
    with parametrize.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert type(m) is nn.Linear and "parametrizations" not in m._modules
    np.testing.assert_allclose(npy(m.weight), np.ones((2, 3)) / 6)
    assert isinstance(m.weight, nn.Parameter) and list(m.state_dict()) == ["bias", "weight"]      # (torch's order)
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(m, "nope", _Scale(2.0))
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", type("T", (nn.Module,), {"forward": lambda s, x: x.T})())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(m, "weight")


def test_weight_norm_gradcheck(device):
    m = P.weight_norm(nn.Conv1d(2, 2, 2).double()).to(device=device)
    g = m.parametrizations.weight.original0.detach().clone().requires_grad_()
    v = m.parametrizations.weight.original1.detach().clone().requires_grad_()
    x = ag.tensor(RNG.standard_normal((1, 2, 3)), device=device)
    assert ag.gradcheck(lambda g, v: F.conv1d(x, P._weight_norm(v, g, 0)), (g, v))
    assert ag.gradgradcheck(lambda g, v: F.conv1d(x, P._weight_norm(v, g, 0)), (g, v))


def test_hook_weight_norm_and_spectral_norm_vs_torch(device):
    torch = torch_()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ours, theirs = nn.utils.weight_norm(nn.Linear(4, 3).double()), torch.nn.utils.weight_norm(torch.nn.Linear(4, 3).double())
    ours.to(device=device)
    _load_both_ways(ours, theirs, device)
    _forward_backward(ours, theirs, RNG.standard_normal((2, 4)), device)
    nn.utils.remove_weight_norm(ours), torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(npy(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)

    ours, theirs = nn.utils.spectral_norm(nn.Conv1d(2, 3, 2).double()), torch.nn.utils.spectral_norm(torch.nn.Conv1d(2, 3, 2).double())
    ours.to(device=device)
    _load_both_ways(ours, theirs, device)
    assert list(ours.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    for train in (True, False):
        ours.train(train), theirs.train(train)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            p.grad, tp.grad = None, None
        _forward_backward(ours, theirs, RNG.standard_normal((2, 2, 4)), device)
        for (k, b), tb in zip(ours.state_dict().items(), theirs.state_dict().values()):
            np.testing.assert_allclose(npy(b), tb.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    nn.utils.remove_spectral_norm(ours), torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(npy(ours.weight), theirs.weight.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("fn,shape", [(F.dropout, (30, 40)), (F.dropout2d, (4, 30, 3, 3)), (F.dropout3d, (30, 2, 2, 2)),
                                      (F.alpha_dropout, (30, 40)), (F.feature_alpha_dropout, (4, 30, 5))])
def test_dropout_inplace_writes_into_its_input(fn, shape, device):
    x = ag.randn(*shape, dtype=ag.float64, device=device, requires_grad=True)
    y = x * 1.0
    before = npy(y).copy()
    z = fn(y, 0.5, True, True)
    assert npy(y).shape == shape and not np.array_equal(npy(y), before)
    np.testing.assert_array_equal(npy(z), npy(y))
    z.sum().backward()                         # the in-place op is recorded: gradients still reach x
    assert x.grad is not None and tuple(x.grad.shape) == shape
    with pytest.raises(RuntimeError, match="leaf"):
        fn(x, 0.5, True, True)                 # torch refuses an in-place write into a leaf that requires grad
