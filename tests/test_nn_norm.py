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
