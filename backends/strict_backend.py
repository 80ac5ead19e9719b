"""array_api_strict backend: the reference implementation of the Python array API standard.

It exists to keep the engine honest. `array_api_strict` rejects anything the standard does not
specify (NumPy-only functions, mixed-kind promotion, partial multi-axis indexing, NumPy
scalars), so a suite that passes here uses the array API and nothing else, and a fourth
library (JAX, PyTorch, Dask) needs only a backend object, not engine changes.

What the standard lacks is done on the host, by a NumPy round trip through DLPack (the
standard's interchange path). That is slow and fine: this backend is for correctness.
- scatter_add: the standard has no scatter-add, and this backend implements it functionally
  (the interface's contract: the result is the returned array). A one-hot matmul would stay in the
  standard but costs O(len(index) * target.size) memory; `numpy.add.at` on a host copy is exact,
  handles any advanced index, and is what every GPU library does natively anyway.
- advanced indexing: the standard allows integer-array indices only when every index is an
  integer or an integer array, and no fancy `__setitem__` at all; such indices go to the host.
  `index_put` copies and assigns natively for a basic index, on the host otherwise.
- erf (not in the standard) and sliding windows (no strides in the standard): host round trip.
- random numbers: a host `numpy.random.Generator`, then `asarray`.
array_api_strict computes through NumPy, so NumPy's error state governs its floating-point
warnings: `enter_quiet`/`exit_quiet` are the NumPy backend's, and the host work here is quiet.
Memory lives in NumPy buffers, so it is accounted by tracemalloc, like the NumPy backend.
"""
from __future__ import annotations

import numpy as np

from . import _quiet
from . import dtypes as _dt
from .base import Backend, HostMemoryMixin, is_basic_index

try:
    import array_api_strict as _xp
    from array_api_strict._array_object import Array as _Array   # the package exports no Array name
    _IMPORT_ERROR = None
except ImportError as e:                                   # optional dependency
    _xp = _Array = None
    _IMPORT_ERROR = e


class StrictBackend(HostMemoryMixin, Backend):
    name = "array_api_strict"
    device_type = "array_api_strict"

    def __init__(self):
        self.xp = _xp
        self._rng = np.random.default_rng()
        if _xp is not None:
            self._native = {d: getattr(_xp, "bool" if d is _dt.bool_ else d.name)
                            for d in _dt.ALL if hasattr(_xp, "bool" if d is _dt.bool_ else d.name)}
            self._from_native = {v: k for k, v in self._native.items()}

    def is_available(self):
        return _xp is not None

    def unavailable_reason(self):
        return "" if _xp is not None else f"array_api_strict is not installed ({_IMPORT_ERROR})"

    # --- dtypes -----------------------------------------------------------------
    def native_dtype(self, dtype):
        try:
            return self._native[dtype]
        except KeyError:
            # the standard has no float16
            raise TypeError(f"dtype {dtype.name} is not supported by the array_api_strict backend "
                            f"(supported: {', '.join(d.name for d in self._native)})") from None

    def dtype_from_native(self, native):
        try:
            return self._from_native[native]
        except KeyError:
            raise TypeError(f"array_api_strict backend: unsupported dtype {native}") from None

    # --- floating-point warnings: array_api_strict computes through NumPy ------------
    enter_quiet = staticmethod(_quiet.enter)
    exit_quiet = staticmethod(_quiet.exit)

    # --- conversion -------------------------------------------------------------
    def asarray(self, obj, dtype=None, copy=None):
        if isinstance(obj, np.generic):
            obj = obj.item()                          # the standard rejects NumPy scalars
        elif isinstance(obj, np.ndarray) and copy is None:
            copy = True                               # never alias a host array (a device move must copy)
        with _quiet.quiet():                          # a cast may overflow to inf, silently as in torch
            return _xp.asarray(obj, dtype=dtype, copy=copy)

    def to_numpy(self, arr):
        # DLPack is the standard's way out; the copy makes the result writable and independent
        return np.array(np.from_dlpack(arr), copy=True)

    def is_array(self, obj):
        return _Array is not None and isinstance(obj, _Array)

    def _from_host(self, a, dtype=None):          # callers hold _quiet.quiet() where they compute
        # order="C" copies a strided view (sliding windows) into fresh memory, and keeps a 0-d
        # array 0-d (np.ascontiguousarray returns at least 1-d: shape (1,) for ())
        return _xp.asarray(np.asarray(a, order="C"), dtype=dtype)

    # --- indexing ---------------------------------------------------------------
    def getitem(self, arr, index):
        index = _full_index(index, arr.ndim)
        if is_basic_index(index):
            return arr[index]
        return self._from_host(self.to_numpy(arr)[self._host_index(index)])

    def setitem(self, arr, index, value):
        index = _full_index(index, arr.ndim)
        if _native_setitem(index):
            arr[index] = value
        else:
            arr[...] = self._index_put_on_host(arr, index, value)

    def index_put(self, arr, index, value):
        index = _full_index(index, arr.ndim)
        if not _native_setitem(index):
            return self._index_put_on_host(arr, index, value)
        out = _xp.asarray(arr, copy=True)
        out[index] = value
        return out

    def _index_put_on_host(self, arr, index, value):
        host = self.to_numpy(arr)                                   # a fresh copy
        host[self._host_index(index)] = self.to_numpy(value) if self.is_array(value) else value
        return self._from_host(host, arr.dtype)

    def _host_index(self, index):
        return tuple(self.to_numpy(i) if self.is_array(i) else i for i in index)

    # --- the operations the standard lacks ----------------------------------------
    def scatter_add(self, target, index, values):
        host = self.to_numpy(target)                                # a fresh copy: functional
        np.add.at(host, self._host_index(_full_index(index, target.ndim)), self.to_numpy(values))
        out = self._from_host(host, target.dtype)
        return out

    def erf(self, x):
        from .numpy_backend import _erf
        with _quiet.quiet():
            return self._from_host(_erf(self.to_numpy(x)), x.dtype)

    def sliding_windows(self, x, window, axes, strides=None, dilation=None):
        from .numpy_backend import sliding_windows
        return self._from_host(sliding_windows(self.to_numpy(x), window, axes, strides, dilation))

    # --- indexing, strided views, interchange (issue 11) ----------------------------------
    # the standard has no strides, no ufunc.at and no reinterpreting views: array_api_strict's
    # NumPy array (`_array`, an implementation detail used only here) provides them
    def scatter_reduce(self, target, index, values, reduce):
        host = self.to_numpy(target)                                # a fresh copy: functional
        with _quiet.quiet():
            getattr(np, reduce).at(host, self._host_index(_full_index(index, target.ndim)), self.to_numpy(values))
        return self._from_host(host, target.dtype)

    def as_strided(self, arr, shape, strides):
        a = getattr(arr, "_array", None)
        if not isinstance(a, np.ndarray):
            return None
        from .numpy_backend import numpy_as_strided
        return _Array._new(numpy_as_strided(a, shape, strides, self.storage(arr)), device=arr.device)

    def data_ptr(self, arr):
        a = getattr(arr, "_array", None)
        return int(a.__array_interface__["data"][0]) if isinstance(a, np.ndarray) else 0

    def view_dtype(self, arr, dtype):
        npdt = np.dtype(self.dtype_from_native(dtype).name)
        a = getattr(arr, "_array", None)
        if isinstance(a, np.ndarray):
            return _Array._new(a.view(npdt), device=arr.device)
        return self._from_host(self.to_numpy(arr).view(npdt))

    # --- random numbers (host generator) ------------------------------------------
    def manual_seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def uniform(self, shape, low, high, dtype):
        with _quiet.quiet():
            return _xp.astype(self._from_host(self._rng.uniform(low, high, size=shape)), dtype)

    def normal(self, shape, mean, std, dtype):
        with _quiet.quiet():
            return _xp.astype(self._from_host(self._rng.normal(mean, std, size=shape)), dtype)

    def integers(self, low, high, shape, dtype):
        return _xp.astype(self._from_host(self._rng.integers(low, high, size=shape)), dtype)

    def permutation(self, n):
        return self._from_host(self._rng.permutation(n))

    def get_rng_state(self):
        return self._rng.bit_generator.state

    def set_rng_state(self, rng_state):
        self._rng.bit_generator.state = rng_state

    def rng_default(self):
        return self._rng

    # --- memory -------------------------------------------------------------------
    def nbytes(self, arr):
        if isinstance(arr, np.ndarray):          # a buffer returned by storage()
            return int(arr.nbytes)
        return int(arr.size) * self.dtype_of(arr).itemsize

    def storage(self, arr):
        # The standard has no notion of views; array_api_strict keeps its NumPy array in `_array`
        # (an implementation detail, used only here, so the memory ledger counts a buffer once).
        a = getattr(arr, "_array", None)
        if not isinstance(a, np.ndarray):
            return arr
        while isinstance(a.base, np.ndarray):
            a = a.base
        return a

    def layout(self, arr):
        # the standard has no strides; array_api_strict's NumPy array (`_array`) has them
        from .numpy_backend import numpy_layout
        a = getattr(arr, "_array", None)
        return numpy_layout(a, self.storage(arr)) if isinstance(a, np.ndarray) else None

    def owns_memory(self, arr):
        return False        # the standard cannot tell views from owners: always copy when it matters


def _full_index(index, ndim):
    """The standard wants a multi-axis index to cover every axis; a trailing Ellipsis says so
    (NumPy reads a short index the same way)."""
    if not isinstance(index, tuple):
        index = (index,)
    if not any(i is Ellipsis for i in index):
        index = index + (Ellipsis,)
    return index


def _native_setitem(index):
    """An index array_api_strict assigns through natively: basic, without None (no newaxis in
    the standard's __setitem__)."""
    return is_basic_index(index) and not any(i is None for i in index)
