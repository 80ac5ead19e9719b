"""Shared test helpers: NumPy views of tensors, seeded sample data, torch-oracle comparisons."""
import numpy as np

import autograd as ag


def npy(t):
    """Host NumPy copy of a tensor (any backend)."""
    return np.asarray(t.detach().cpu()) if isinstance(t, ag.Tensor) else np.asarray(t)


def sample(shape, domain="any", seed=0, dtype=ag.float64, requires_grad=True):
    rng = np.random.default_rng(seed)
    if domain == "pos":
        a = rng.uniform(0.5, 2.0, shape)
    elif domain == "unit":           # inside (-0.9, 0.9)
        a = rng.uniform(-0.9, 0.9, shape)
    elif domain == "nonzero":        # away from kinks at 0
        a = rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    elif domain == "distinct":       # distinct values (no ties for max/min/sort)
        n = int(np.prod(shape))
        a = (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape) if n else np.zeros(shape)
    else:
        a = rng.standard_normal(shape)
    return ag.tensor(a, dtype=dtype, requires_grad=requires_grad)


def load_torch_weights(ours, theirs, device):
    """torch module `theirs`' weights into `ours` (a strict load: the key sets must be equal)."""
    res = ours.load_state_dict({k: ag.tensor(v.detach().numpy(), device=device) for k, v in theirs.state_dict().items()})
    assert not res.missing_keys and not res.unexpected_keys


def assert_same_as_torch(a, b, rtol, atol, equal_nan=False):
    """Tensor `a` equals torch tensor `b`: exact shape, the same dtype name, values within tolerance."""
    assert tuple(a.shape) == tuple(b.shape), (tuple(a.shape), tuple(b.shape))
    assert a.dtype.name == str(b.dtype).removeprefix("torch."), (a.dtype.name, b.dtype)
    np.testing.assert_allclose(npy(a), b.detach().numpy(), rtol=rtol, atol=atol, equal_nan=equal_nan)
