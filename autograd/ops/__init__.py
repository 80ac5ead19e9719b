"""Every op of the engine, declared once, by family.

    _core.py       apply (the dispatch), type promotion, dim checks: shared, not ops
    arith.py       + - * / ** and comparisons          linalg.py   matmul, the fused linear layer
    unary.py       elementwise functions, clamp, where  activation.py  relu's relatives
    reduce.py      sum, mean, max, norm, softmax, ...   shape.py    views, cat, split
    index.py       x[index] and its adjoints            conv.py     sliding windows, pooling's gather
    loss.py        fused cross-entropy and BCE

In each family a primitive (`@primitive`: forward on backend arrays beside its gradient rule) is
followed by the public function that wraps it; composites need no rule. `@op()` on a public
function declares it: `autograd.<name>`, `Tensor.<name>` and, with `inplace=True`,
`Tensor.<name>_` all come from that one line (see `_registry`). To add an op: write it in its
family with `@op()`, then add one entry to tests/opinfo.py. docs/adding-an-op.md walks through it.
The primitives `nn.functional` builds on (linear, windows, take_flat, the fused losses) are
engine internals: plain functions without `@op`, imported from their family module.
"""
from __future__ import annotations

from ._core import (apply, as_tensor_like, binary, checked_scalar, device_error, floating, is_scalar, nondiff,  # noqa: F401
                    norm_dim, norm_dims, pair, result_dtype, zeros_like_scalar)
from ._registry import OPS, bind, exports, op  # noqa: F401
from . import arith, unary, activation, linalg, reduce, shape, index, conv, loss  # noqa: F401 - declaration order
from .arith import Add, Div, Mul, Neg, Pow, PowScalar, Sub, compare, logical  # noqa: F401
from .unary import Cast, Clamp, Clone, Masked, Relu, Where, masked  # noqa: F401
from .linalg import Linear, Matmul, MatmulT  # noqa: F401
from .reduce import Amax, LogSoftmax, Norm2, Softmax, Sum, SumTo, Unsum, values_indices  # noqa: F401
from .shape import Cat, Expand, Pad, Permute, Reshape  # noqa: F401
from .index import Getitem, IndexAddZeros, IndexPut, convert_index, getitem  # noqa: F401 - index_put: the public op's name


def _load_families():
    """Family modules beyond the core ones above (scan.py, sorting.py, ...): imported in name order, so a
    new family is one new file; its @op declarations register themselves."""
    import importlib
    import pkgutil
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not m.name.startswith("_"):
            importlib.import_module(f"{__name__}.{m.name}")


_load_families()
# every declared op by its name (ops.sum, ops.expand, ...); a name already bound here to something else
# (an internal helper imported above) is an ImportError, never silently replaced. The family module
# `scatter` gives its attribute to torch's scatter (it stays importable as autograd.ops.scatter)
bind(globals(), exports(everything=True), "autograd.ops", modules_giving_way=("scatter", "einsum"))
