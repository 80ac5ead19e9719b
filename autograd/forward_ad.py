"""`autograd.forward_ad` (PyTorch's `torch.autograd.forward_ad`). Filled by issue 11 (stretch goal)."""
from __future__ import annotations
