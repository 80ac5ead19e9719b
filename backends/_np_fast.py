"""NumPy's namespace with its reductions called straight on the ufunc.

`np.sum(x, axis=...)`, `np.max`, `np.all` and friends are Python wrappers that dispatch on the
argument's type before calling `np.add.reduce` (or `maximum`, `logical_and`, ...): about 1 µs
per call, which on a small network is more than the reduction itself, and the engine makes a
dozen of them per training step (unbroadcasting, softmax, cross-entropy, finite checks). For an
ndarray the wrapper's answer is exactly the ufunc's, so this namespace calls the ufunc for
ndarrays and the wrapper for anything else (NumPy scalars, Python values). `matrix_transpose`,
`take_along_axis` and `reshape` likewise skip their wrappers for the ndarrays the engine passes.
Every other name is NumPy's own.
"""
from __future__ import annotations

import types

import numpy as np

_ndarray = np.ndarray
_ARRAY_OR_SCALAR = (np.ndarray, np.generic)


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


def _matrix_transpose(x, /):
    """numpy.matrix_transpose: for an ndarray of 2 or more dims, the same view as `x.mT` (the
    wrapper's dispatch costs more than the transpose on small arrays)."""
    if type(x) is _ndarray and x.ndim >= 2:
        return x.mT
    return np.matrix_transpose(x)


def _take_along_axis(arr, indices, axis=-1, **kwargs):
    """numpy.take_along_axis; for two 2-D ndarrays along the last axis with one index row per
    row, the fancy index it builds, written directly (the wrapper costs 3 us on small arrays)."""
    if (type(arr) is _ndarray and type(indices) is _ndarray and not kwargs and arr.ndim == 2 and indices.ndim == 2
            and (axis == 1 or axis == -1) and indices.shape[0] == arr.shape[0] and indices.dtype.kind in "iu"):
        return arr[np.arange(arr.shape[0])[:, None], indices]
    return np.take_along_axis(arr, indices, axis=axis, **kwargs)


def _reshape(x, /, shape, **kwargs):
    """numpy.reshape; for an ndarray with no other argument, its method (the same result: a view
    where one is possible, else a copy), without the wrapper's dispatch."""
    if type(x) is _ndarray and not kwargs:
        return x.reshape(shape)
    return np.reshape(x, shape, **kwargs)


def _astype(x, dtype, /, *, copy=True, **kwargs):
    """numpy.astype: for an ndarray or NumPy scalar (ufuncs give 0-d results as scalars) with no
    other argument, its method, without the wrapper's dispatch."""
    if isinstance(x, _ARRAY_OR_SCALAR) and not kwargs:        # numpy.astype's own test, then the same call
        return x.astype(dtype, copy=copy)
    return np.astype(x, dtype, copy=copy, **kwargs)


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
    ns.take_along_axis = _take_along_axis
    ns.reshape = _reshape
    ns.astype = _astype
    return ns
