"""Gradient clipping (torch.nn.utils.clip_grad): get_total_norm, clip_grads_with_norm_ and
clip_grad_norm_ (the two composed), in place under no_grad, with torch's arithmetic: per-tensor
norms, the norm of their stack (dtype promoted as torch.stack does), and a clip coefficient
min(max_norm / (total + 1e-6), 1) multiplied into every gradient. `foreach` is accepted (every
device here supports torch's foreach path, so it never errors); the update is one vectorized
op per tensor either way.
"""
from __future__ import annotations

import types
import warnings

import autograd as _ag
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


@no_grad()
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (e.g. gradients): the norm of their concatenation."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _ag.tensor(0.0)
    first_device = tensors[0].device
    norms = [_ag.norm(t, norm_type).to(first_device) for t in tensors]
    total = _ag.norm(_ag.stack(norms), norm_type)
    if error_if_nonfinite and bool(total.isnan() | total.isinf()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           f"cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    return total


@no_grad()
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of `parameters` by min(max_norm / (total_norm + 1e-6), 1)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    if not isinstance(total_norm, Tensor):
        total_norm = _ag.tensor(float(total_norm))
    coef = _ag.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.device).to(g.dtype))     # torch: a 0-d factor does not promote the gradient


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most max_norm; return the
    norm before clipping (a tensor). norm_type may be inf (the largest absolute entry), -inf, 0..."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
