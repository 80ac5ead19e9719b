"""nn.init: gains and fans against torch, distribution bounds and moments, no_grad, seeding."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from helpers import npy


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nl, param):
    torch = pytest.importorskip("torch", reason="torch.nn.init is the oracle")
    assert nn.init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param), rel=1e-15)


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3, 3), (6, 1, 2)])
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch", reason="torch.nn.init is the oracle")
    assert nn.init._calculate_fan_in_and_fan_out(ag.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init._calculate_fan_in_and_fan_out(ag.empty(3))


def test_distributions():
    ag.manual_seed(0)
    w = nn.Parameter(ag.empty(200, 300))                 # fan_in 300, fan_out 200
    nn.init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6 / 500)
    assert np.abs(npy(w)).max() <= a and np.abs(npy(w)).max() > 0.99 * a and w.requires_grad and w.grad_fn is None
    nn.init.xavier_normal_(w)
    assert abs(npy(w).std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    b = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(npy(w)).max() <= b and np.abs(npy(w)).max() > 0.99 * b
    nn.init.kaiming_normal_(w, a=0.1, nonlinearity="leaky_relu")
    assert abs(npy(w).std() - math.sqrt(2 / 1.01) / math.sqrt(300)) < 0.02 / math.sqrt(300) * 1.5
    nn.init.uniform_(w, 2.0, 3.0)
    assert npy(w).min() >= 2.0 and npy(w).max() <= 3.0
    nn.init.normal_(w, 5.0, 0.1)
    assert abs(npy(w).mean() - 5.0) < 0.01
    nn.init.constant_(w, 0.5)
    assert set(np.unique(npy(w))) == {0.5}
    nn.init.zeros_(w), nn.init.ones_(w)
    assert set(np.unique(npy(w))) == {1.0}
    with pytest.raises(ValueError, match="Mode fan_avg"):
        nn.init.kaiming_uniform_(w, mode="fan_avg")


def test_seeded_reproducible():
    w = ag.empty(3, 4)
    ag.manual_seed(42)
    first = npy(nn.init.xavier_uniform_(w)).copy()
    ag.manual_seed(42)
    np.testing.assert_array_equal(first, npy(nn.init.xavier_uniform_(w)))
