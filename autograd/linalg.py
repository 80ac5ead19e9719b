"""`autograd.linalg` (PyTorch's `torch.linalg`): norms, inverses, decompositions and solvers, batched,
with torch's gradient formulas. Filled by issue 11 (matrices and linear algebra)."""
from __future__ import annotations
