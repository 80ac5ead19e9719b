"""PyTorch as a second oracle: the same expressions, values and gradients, where torch is installed."""
import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy

torch = pytest.importorskip("torch", reason="PyTorch not installed: the second oracle is skipped")

CASES = [
    ("mlp", lambda m, x, w, b: m.tanh(x @ w + b).sum()),
    ("softmax", lambda m, x, w, b: (m.softmax(x @ w, dim=-1) * b).sum()),
    ("log_softmax", lambda m, x, w, b: m.log_softmax(x @ w * 30, dim=0).mean()),
    ("logsumexp", lambda m, x, w, b: m.logsumexp(x, dim=1).sum() + m.logsumexp(w, dim=0).sum()),
    ("var_std", lambda m, x, w, b: x.var(dim=0).sum() + x.std() + w.var(dim=1, unbiased=False).sum()),
    ("norm", lambda m, x, w, b: x.norm() + w.norm(dim=0).sum()),
    ("amax_ties", lambda m, x, w, b: (x.round() if hasattr(x, "round") else x).amax(dim=1).sum()),
    ("clamp", lambda m, x, w, b: x.clamp(-0.3, 0.4).sum() + m.maximum(x, x * 0.5).sum()),
    ("indexing", lambda m, x, w, b: x[:, [0, 2, 2]].sum() * 2 + x[1:, 1].sum()),
    ("activations", lambda m, x, w, b: (m.sigmoid(x) + m.relu(x) + m.exp(x) * 0.1).sum()),
    ("cat_stack", lambda m, x, w, b: (m.cat([x, x * 2], 1).sum(0) * m.stack([b, b], 0).sum()).sum()),
    ("pow_div", lambda m, x, w, b: ((x * x + 1) ** 1.5 / (w.abs() + 1).sum()).sum()),
]


def _inputs():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)


@pytest.mark.parametrize("name,f", CASES, ids=[c[0] for c in CASES])
def test_values_and_grads_match_torch(name, f):
    xs = _inputs()
    ours = [ag.tensor(a, dtype=ag.float64, requires_grad=True) for a in xs]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in xs]
    yo = f(ag, *ours)
    yt = f(torch, *theirs)
    yo.backward()
    yt.backward()
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-10)
    for o, t in zip(ours, theirs):
        if t.grad is None:
            assert o.grad is None
        else:
            np.testing.assert_allclose(npy(o.grad), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_activation_values_match_torch():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(50) * 4
    import torch.nn.functional as F
    pairs = [(ag.gelu, F.gelu), (lambda t: ag.gelu(t, approximate="tanh"), lambda t: F.gelu(t, approximate="tanh")),
             (ag.silu, F.silu), (ag.mish, F.mish), (ag.softplus, F.softplus), (ag.elu, F.elu),
             (lambda t: ag.leaky_relu(t, 0.2), lambda t: F.leaky_relu(t, 0.2)),
             (lambda t: ag.softplus(t, beta=2, threshold=5), lambda t: F.softplus(t, beta=2, threshold=5))]
    for ours, theirs in pairs:
        x = ag.tensor(a, dtype=ag.float64, requires_grad=True)
        xt = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        ours(x).sum().backward()
        theirs(xt).sum().backward()
        np.testing.assert_allclose(npy(ours(x)), theirs(xt).detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(npy(x.grad), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_float32_promotion_matches_torch():
    x = ag.tensor([1.0, 2.0])
    xt = torch.tensor([1.0, 2.0])
    for op in [lambda a: a * 2.5, lambda a: a + torch.tensor(1.0, dtype=torch.float64) if a is xt else a + ag.tensor(1.0, dtype=ag.float64)]:
        assert str(op(x).dtype).split(".")[-1] == str(op(xt).dtype).split(".")[-1]
    assert (ag.tensor([1, 2]) / 2).dtype.name == str((torch.tensor([1, 2]) / 2).dtype).split(".")[-1]
