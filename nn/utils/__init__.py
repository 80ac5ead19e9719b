"""nn.utils (PyTorch's `torch.nn.utils`): gradient clipping (clip_grad_norm_, get_total_norm,
clip_grads_with_norm_, clip_grad_value_) and parameters <-> vector conversion."""
from __future__ import annotations

from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grads_with_norm_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)
from . import rnn  # noqa: E402,F401  (nn.utils.rnn: packed sequences)


# issue 12: parametrizations and the weight/spectral normalisation hooks
from . import parametrizations, parametrize  # noqa: E402,F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402,F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402,F401
def __getattr__(name):
    raise AttributeError(f"module 'nn.utils' has no attribute '{name}' (torch.nn.utils.{name} is not part of "
                         "tapegrad: see the README's porting guide)")
