"""PyTorch as an oracle for what the registry (tests/opinfo.py) does not tabulate: type promotion."""
import pytest

import autograd as ag

torch = pytest.importorskip("torch", reason="PyTorch not installed: the second oracle is skipped")

def test_float32_promotion_matches_torch():
    x = ag.tensor([1.0, 2.0])
    xt = torch.tensor([1.0, 2.0])
    for op in [lambda a: a * 2.5, lambda a: a + torch.tensor(1.0, dtype=torch.float64) if a is xt else a + ag.tensor(1.0, dtype=ag.float64)]:
        assert str(op(x).dtype).split(".")[-1] == str(op(xt).dtype).split(".")[-1]
    assert (ag.tensor([1, 2]) / 2).dtype.name == str((torch.tensor([1, 2]) / 2).dtype).split(".")[-1]
