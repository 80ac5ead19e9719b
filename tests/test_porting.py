"""Porting a PyTorch program (issue 13 #3): `import autograd as torch` keeps torch's spellings of nn, optim
and utils.data working, and a torch name tapegrad lacks says so, pointing to the README's porting guide,
instead of failing deep inside with a bare AttributeError."""
import pytest

import autograd as torch
import nn
import nn.functional as F


def test_torch_submodules_through_the_top_level_module():
    assert torch.nn is nn and torch.nn.functional is F
    assert torch.optim.Adam is nn.optim.Adam and torch.optim.lr_scheduler.StepLR is nn.optim.lr_scheduler.StepLR
    assert torch.utils.data.DataLoader is nn.data.DataLoader
    assert torch.nn.parallel.DistributedDataParallel.__name__ == "DistributedDataParallel"
    assert torch.save is nn.save and torch.load is nn.load


@pytest.mark.parametrize("get,spelled", [
    (lambda: torch.jit, "torch.jit"), (lambda: torch.bfloat16, "torch.bfloat16"),
    (lambda: torch.complex64, "torch.complex64"), (lambda: nn.LazyConvTranspose3d, "torch.nn.LazyConvTranspose3d"),
    (lambda: F.no_such_function, "torch.nn.functional.no_such_function"),
    (lambda: nn.utils.prune, "torch.nn.utils.prune"),
])
def test_a_missing_torch_name_says_it_is_not_part_of_tapegrad(get, spelled):
    with pytest.raises(AttributeError, match=rf"{spelled.replace('.', chr(92) + '.')} is not part of tapegrad: see the "
                                             r"README's porting guide"):
        get()


def test_a_missing_tensor_method_is_a_plain_attribute_error_at_the_users_line():
    """Tensor has no __getattr__ on purpose: defining one takes CPython off its fast attribute path for
    every tensor attribute (+0.12 us per op measured); Python's own message names the attribute."""
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'to_sparse'"):
        torch.ones(2).to_sparse
    assert "__getattr__" not in vars(torch.Tensor)


def test_missing_dtypes_are_named_in_the_error():
    with pytest.raises(TypeError, match="no complex or bfloat16"):
        torch.ones(2, dtype="complex64")
    with pytest.raises(TypeError, match="complex numbers are not supported"):
        torch.tensor([1 + 2j])
    assert not hasattr(torch.ones(1), "_private_thing")
