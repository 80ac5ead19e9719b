"""parameters_to_vector / vector_to_parameters (torch.nn.utils.convert_parameters)."""
from __future__ import annotations

import autograd as _ag
from autograd.tensor import Tensor


def _check_param_device(param, old):
    dev = param.device
    if old is not None and dev != old:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return dev


def parameters_to_vector(parameters):
    """One flat vector of all parameters, in order (differentiable: a cat of views)."""
    device, vec = None, []
    for p in parameters:
        device = _check_param_device(p, device)
        vec.append(p.view(-1))
    return _ag.cat(vec)


def vector_to_parameters(vec, parameters):
    """Slice `vec` into the parameters' shapes and make each the parameter's data (as torch's
    `param.data = ...`: the parameter takes the vector's values and dtype)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__module__}.{type(vec).__name__}")
    device, pointer = None, 0
    for p in parameters:
        device = _check_param_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
