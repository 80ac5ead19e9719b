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


def _fast(ufunc, wrapper):
    reduce = ufunc.reduce

    def f(x, /, axis=None, dtype=None, keepdims=False, **kwargs):
        if type(x) is _ndarray and not kwargs:
            return reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)
        return wrapper(x, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs)
    f.__name__ = f.__qualname__ = wrapper.__name__
    f.__doc__ = f"numpy.{wrapper.__name__}, through {ufunc.__name__}.reduce for an ndarray."
    return f


def _fast_nodtype(ufunc, wrapper):
    reduce = ufunc.reduce

    def f(x, /, axis=None, keepdims=False, **kwargs):
        if type(x) is _ndarray and not kwargs:
            return reduce(x, axis=axis, keepdims=keepdims)
        return wrapper(x, axis=axis, keepdims=keepdims, **kwargs)
    f.__name__ = f.__qualname__ = wrapper.__name__
    f.__doc__ = f"numpy.{wrapper.__name__}, through {ufunc.__name__}.reduce for an ndarray."
    return f


def _bool_reduce(ufunc, wrapper):
    reduce = ufunc.reduce

    def f(x, /, axis=None, keepdims=False, **kwargs):
        # np.all/np.any reduce in bool whatever the input's dtype; so does logical_*.reduce with dtype=bool
        if type(x) is _ndarray and not kwargs:
            return reduce(x, axis=axis, dtype=np.bool_, keepdims=keepdims)
        return wrapper(x, axis=axis, keepdims=keepdims, **kwargs)
    f.__name__ = f.__qualname__ = wrapper.__name__
    f.__doc__ = f"numpy.{wrapper.__name__}, through {ufunc.__name__}.reduce for an ndarray."
    return f


def namespace():
    ns = types.ModuleType("numpy", np.__doc__)
    ns.__dict__.update({k: v for k, v in np.__dict__.items() if not k.startswith("__")})
    ns.__getattr__ = lambda name: getattr(np, name)     # NumPy's lazily loaded names
    ns.sum = _fast(np.add, np.sum)
    ns.prod = _fast(np.multiply, np.prod)
    ns.max = _fast_nodtype(np.maximum, np.max)
    ns.min = _fast_nodtype(np.minimum, np.min)
    ns.all = _bool_reduce(np.logical_and, np.all)
    ns.any = _bool_reduce(np.logical_or, np.any)
    return ns
