"""`autograd.functional` (PyTorch's `torch.autograd.functional`): vjp, jvp, jacobian, hessian, hvp, vhp.
Filled by issue 11 (grad modes and functional transforms)."""
from __future__ import annotations
