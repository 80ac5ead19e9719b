"""NumPy backend: the CPU. NumPy 2's main namespace already speaks the array API."""
from __future__ import annotations

import math
import tracemalloc

import numpy as np

from . import dtypes as _dt
from .base import Backend

_NATIVE = {d: np.dtype("bool" if d is _dt.bool_ else d.name) for d in _dt.ALL}
_FROM_NATIVE = {v: k for k, v in _NATIVE.items()}


class NumpyBackend(Backend):
    name = "numpy"
    device_type = "cpu"
    xp = np

    def __init__(self):
        self._rng = np.random.default_rng()

    def native_dtype(self, dtype):
        return _NATIVE[dtype]

    def dtype_from_native(self, native):
        try:
            return _FROM_NATIVE[native]
        except KeyError:
            raise TypeError(f"unsupported dtype {native} (supported: "
                            f"{', '.join(d.name for d in _dt.ALL)})") from None

    def dtype_of(self, arr):
        return self.dtype_from_native(arr.dtype)

    def asarray(self, obj, dtype=None, copy=None):
        return np.asarray(obj, dtype=dtype) if copy is None else np.array(obj, dtype=dtype, copy=copy)

    def to_numpy(self, arr):
        return np.asarray(arr)      # a 0-d reduction result is a NumPy scalar, not an array

    def is_array(self, obj):
        return isinstance(obj, np.ndarray)

    def scatter_add(self, target, index, values):
        np.add.at(target, index, values)

    def erf(self, x):
        return _erf(x)

    def sliding_windows(self, x, window, axes, strides=None, dilation=None):
        v = np.lib.stride_tricks.sliding_window_view(
            x, tuple((w - 1) * (d or 1) + 1 for w, d in zip(window, dilation or [1] * len(window))), axis=axes)
        if dilation and any(d != 1 for d in dilation):
            sl = [slice(None)] * (v.ndim - len(axes)) + [slice(None, None, d) for d in dilation]
            v = v[tuple(sl)]
        if strides and any(s != 1 for s in strides):
            sl = [slice(None)] * x.ndim
            for ax, s in zip(axes, strides):
                sl[ax] = slice(None, None, s)
            v = v[tuple(sl)]
        return v

    def manual_seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def uniform(self, shape, low, high, dtype):
        return self._rng.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, shape, mean, std, dtype):
        return self._rng.normal(mean, std, size=shape).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        return self._rng.integers(low, high, size=shape).astype(dtype, copy=False)

    def permutation(self, n):
        return self._rng.permutation(n)

    def nbytes(self, arr):
        return int(arr.nbytes)

    def owns_memory(self, arr):
        return arr.base is None

    def memory_allocated(self):
        if not tracemalloc.is_tracing():
            raise RuntimeError("NumPy memory is measured through tracemalloc: call tracemalloc.start() first")
        return tracemalloc.get_traced_memory()[0]


# NumPy ships no erf and scipy is not a dependency: math.erf through a ufunc is exact
# (the C library's), at about 0.1 us per element.
_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    x = np.asarray(x)
    return _erf_ufunc(x).astype(x.dtype, copy=False)
