"""NumPy's namespace with its reductions called straight on the ufunc.

`np.sum(x, axis=...)`, `np.max`, `np.all` and friends are Python wrappers that dispatch on the
argument's type before calling `np.add.reduce` (or `maximum`, `logical_and`, ...): about 1 µs
per call, which on a small network is more than the reduction itself, and the engine makes a
dozen of them per training step (unbroadcasting, softmax, cross-entropy, finite checks). For an
ndarray the wrapper's answer is exactly the ufunc's, so this namespace calls the ufunc for
ndarrays and the wrapper for anything else (NumPy scalars, Python values). Every other name is
NumPy's own.
"""
from __future__ import annotations

import types

import numpy as np

_ndarray = np.ndarray


def _reduction(wrapper, ufunc, takes_dtype=True, result_dtype=None):
    """`wrapper` (np.sum, np.max, ...) through `ufunc.reduce` for an ndarray. all/any reduce to
    bool whatever the input (`result_dtype`) and, like np.max/np.min, take no dtype argument."""
    reduce = ufunc.reduce

    def f(x, /, axis=None, keepdims=False, **kwargs):
        if type(x) is _ndarray and (not kwargs or takes_dtype and len(kwargs) == 1 and "dtype" in kwargs):
            return reduce(x, axis=axis, dtype=kwargs.get("dtype", result_dtype), keepdims=keepdims)
        return wrapper(x, axis=axis, keepdims=keepdims, **kwargs)
    f.__name__ = f.__qualname__ = wrapper.__name__
    f.__doc__ = f"numpy.{wrapper.__name__}, through {ufunc.__name__}.reduce for an ndarray."
    return f


def namespace():
    ns = types.ModuleType("numpy", np.__doc__)
    ns.__dict__.update({k: v for k, v in np.__dict__.items() if not k.startswith("__")})
    ns.__getattr__ = lambda name: getattr(np, name)     # NumPy's lazily loaded names
    ns.sum = _reduction(np.sum, np.add)
    ns.prod = _reduction(np.prod, np.multiply)
    ns.max = _reduction(np.max, np.maximum, takes_dtype=False)
    ns.min = _reduction(np.min, np.minimum, takes_dtype=False)
    ns.all = _reduction(np.all, np.logical_and, takes_dtype=False, result_dtype=np.bool_)
    ns.any = _reduction(np.any, np.logical_or, takes_dtype=False, result_dtype=np.bool_)
    ns.matrix_transpose = _matrix_transpose
    return ns


def _matrix_transpose(x, /):
    """numpy.matrix_transpose (a Python wrapper, ~0.5 us), as the `.mT` view for an ndarray of at
    least 2 dims (the same view); anything else goes to NumPy's (its errors included)."""
    if type(x) is _ndarray and x.ndim >= 2:
        return x.mT
    return np.matrix_transpose(x)
