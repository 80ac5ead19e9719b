"""The op registry (autograd/ops/_registry.py) against what users reach: every declared op is
exported as `autograd.<name>`, is a Tensor method where torch has one, and has an in-place
variant where it declares one; torch names that exist as functions exist here too."""
import inspect

import pytest

import autograd as ag
from autograd.ops import OPS

torch = pytest.importorskip("torch", reason="PyTorch not installed: the names are checked against torch's")


def test_every_declared_op_is_exported_under_its_names():
    for d in OPS.values():
        if d.export:
            for n in (d.name,) + d.aliases:
                assert getattr(ag, n) is d.fn, f"autograd.{n} is not the declared op {d.family}.{d.name}"


def test_a_tensor_method_wherever_torch_has_one():
    missing = [d.name for d in OPS.values() if hasattr(torch.Tensor, d.name) and not hasattr(ag.Tensor, d.name)]
    assert not missing, f"ops torch has as Tensor methods but we do not: {missing}"
    extra = [d.name for d in OPS.values() if d.method and not hasattr(torch.Tensor, d.name)]
    assert not extra, f"Tensor methods torch does not have (declare with method=False): {extra}"


def test_inplace_variants_exist_where_declared_and_torch_has_them():
    for d in OPS.values():
        if d.inplace:
            assert hasattr(torch.Tensor, d.name + "_"), f"{d.name}_ is not a torch method"
            assert callable(getattr(ag.Tensor, d.name + "_"))


def test_declared_names_are_torch_names():
    # every op is torch.<name> or torch.nn.functional.<name> (what the porting promise rests on)
    import torch.nn.functional as F
    unknown = [d.name for d in OPS.values()
               if not (hasattr(torch, d.name) or hasattr(F, d.name) or not d.export and hasattr(torch.Tensor, d.name))]
    assert not unknown, f"declared ops with no torch counterpart: {unknown}"


def test_parameter_names_follow_torch_where_torch_has_a_signature():
    # torch's builtins rarely expose signatures; where they do (Python-level functions), ours match
    import torch.nn.functional as F
    for d in OPS.values():
        ref = getattr(F, d.name, None) or getattr(torch, d.name, None)
        try:
            theirs = list(inspect.signature(ref).parameters)
        except (TypeError, ValueError):
            continue
        theirs = [n for n in theirs if not n.startswith("_")]           # private (F.softmax's _stacklevel)
        if theirs == ["args", "kwargs"]:          # a dispatcher (torch.unique): no names to compare
            continue
        ours = list(inspect.signature(d.fn).parameters)
        assert ours[:len(theirs)] == theirs[:len(ours)], f"{d.name}: ours {ours}, torch {theirs}"


def test_inplace_method_writes_into_the_same_storage(device):
    x = ag.tensor([0.25, 4.0], device=device)
    v = x.version
    assert x.sqrt_() is x
    assert x.tolist() == [0.5, 2.0] and x.version == v + 1
    assert x.dtype is ag.float32 and tuple(x.shape) == (2,)
