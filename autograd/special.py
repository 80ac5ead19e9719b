"""`autograd.special` (PyTorch's `torch.special`). Filled by issue 11 (elementwise math)."""
from __future__ import annotations
