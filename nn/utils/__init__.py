"""Gradient clipping (PyTorch's `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`), in place."""
from __future__ import annotations

import math

import autograd as _ag
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most max_norm; return the norm
    before clipping (a tensor). norm_type may be inf (the largest absolute entry)."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return _ag.tensor(0.0)
    if norm_type == math.inf:
        norms = [g.abs().max() for g in grads]
        total = _ag.stack([n.to(grads[0].dtype) for n in norms]).max()
    else:
        norms = [_ag.norm(g, norm_type) for g in grads]
        total = _ag.norm(_ag.stack([n.to(grads[0].dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(_ag.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           f"so it cannot be clipped. To disable this error and scale the gradients by the "
                           f"non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = _ag.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)
from . import rnn  # noqa: E402,F401  (nn.utils.rnn: packed sequences)
