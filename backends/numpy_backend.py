"""NumPy backend: the CPU. NumPy 2's main namespace already speaks the array API."""
from __future__ import annotations

import math

import numpy as np

from . import _quiet
from . import _np_fast
from . import dtypes as _dt
from .base import Backend, HostMemoryMixin, is_basic_index

_NATIVE = {d: np.dtype("bool" if d is _dt.bool_ else d.name) for d in _dt.ALL}
_FROM_NATIVE = {v: k for k, v in _NATIVE.items()}
_ZEROS = {v: np.zeros((), v) for v in _NATIVE.values()}          # read-only use: np.where's "else"
_SAME_SIZE_INT = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32,
                  np.dtype(np.float64): np.int64}


class NumpyBackend(HostMemoryMixin, Backend):
    name = "numpy"
    device_type = "cpu"
    #: NumPy, with sum/prod/max/min/all/any calling their ufunc's reduce directly (_np_fast.py)
    xp = _np_fast.namespace()
    array_type = np.ndarray

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

    # NumPy's error state is a context variable: these set and reset it (backends/_quiet.py)
    enter_quiet = staticmethod(_quiet.enter)
    exit_quiet = staticmethod(_quiet.exit)

    def asarray(self, obj, dtype=None, copy=None):
        if dtype is None:
            return np.asarray(obj) if copy is None else np.array(obj, copy=copy)
        token = _quiet.enter()                      # 1e6 to float16 is inf, as in torch, silently
        try:
            return np.asarray(obj, dtype=dtype) if copy is None else np.array(obj, dtype=dtype, copy=copy)
        finally:
            _quiet.exit(token)

    def to_numpy(self, arr):
        # full reductions give NumPy scalars (np.float64), which are not arrays
        return arr if type(arr) is np.ndarray else np.asarray(arr)

    def is_array(self, obj):
        return isinstance(obj, np.ndarray)

    def scatter_add(self, target, index, values):
        # adds into the engine-owned target. A basic index names no element twice, so += is
        # exact there, and about 3x faster than np.add.at (4096x4 float64, every other row: 21 us
        # against 59 us)
        if is_basic_index(index):
            target[index] += values
        else:
            np.add.at(target, index, values)
        return target

    def index_put(self, arr, index, value):
        out = np.array(arr, copy=True)              # np.array: a NumPy scalar becomes a 0-d array
        out[index] = value
        return out

    def masked(self, g, mask):
        # Exact select (Backend.masked). np.where is the fastest below ~1000 elements, but on a
        # random mask (relu's) it mispredicts a branch per element: 257 us at 65536 float32
        # against 16 us for a branchless bitwise select, which ANDs g's bits with 0 or all-ones
        # (the mask as -1/0 in the same-size integer). Bit for bit g where true, +0 where false.
        it = _SAME_SIZE_INT.get(g.dtype)
        if it is None or g.size < 1024 or mask.shape != g.shape:
            zero = _ZEROS.get(g.dtype)
            return np.where(mask, g, zero if zero is not None else np.zeros((), g.dtype))
        k = mask.astype(it)
        np.negative(k, out=k)
        np.bitwise_and(k, g.view(it), out=k)
        return k.view(g.dtype)

    def erf(self, x):
        with _quiet.quiet():
            return _erf(x)

    def sliding_windows(self, x, window, axes, strides=None, dilation=None):
        return sliding_windows(x, window, axes, strides, dilation)

    # --- indexing, strided views, interchange (issue 11) ----------------------------------
    def scatter_reduce(self, target, index, values, reduce):
        getattr(np, reduce).at(target, index, values)
        return target

    def as_strided(self, arr, shape, strides):
        return numpy_as_strided(arr, shape, strides, self.storage(arr))

    def data_ptr(self, arr):
        return int(arr.__array_interface__["data"][0])

    def view_dtype(self, arr, dtype):
        return arr.view(dtype)

    def from_dlpack(self, obj):
        return np.from_dlpack(obj)

    def manual_seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def get_rng_state(self):
        return self._rng.bit_generator.state            # a fresh dict each call

    def set_rng_state(self, rng_state):
        self._rng.bit_generator.state = rng_state

    # drawn in float64/int64, then cast: a cast to float16 may overflow to inf, silently as in torch
    def uniform(self, shape, low, high, dtype):
        with _quiet.quiet():
            return self._rng.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, shape, mean, std, dtype):
        with _quiet.quiet():
            return self._rng.normal(mean, std, size=shape).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        return self._rng.integers(low, high, size=shape).astype(dtype, copy=False)

    def permutation(self, n):
        return self._rng.permutation(n)

    def rng_default(self):
        return self._rng

    def rng_poisson(self, rng, lam):
        return rng.poisson(lam).astype(np.float64)

    def nbytes(self, arr):
        return int(arr.nbytes)

    def owns_memory(self, arr):
        return arr.base is None

    def layout(self, arr):
        return numpy_layout(arr, self.storage(arr))



def numpy_as_strided(arr, shape, strides, storage):
    """A view of arr's memory with element strides, made on its storage buffer so that its `.base` chain
    leads to that storage (stride_tricks' DummyArray would hide it from `storage` and `layout`)."""
    n = arr.itemsize
    st = tuple(s * n for s in strides)
    if storage.flags.c_contiguous:
        off = arr.__array_interface__["data"][0] - storage.__array_interface__["data"][0]
        return np.ndarray(shape, dtype=arr.dtype, buffer=storage, offset=off, strides=st)
    return np.lib.stride_tricks.as_strided(arr, shape, st, writeable=arr.flags.writeable)


def numpy_layout(arr, storage):
    n = arr.itemsize
    start = storage.__array_interface__["data"][0] if storage is not arr else None
    off = 0 if start is None else (arr.__array_interface__["data"][0] - start) // n
    return tuple(s // n for s in arr.strides), off


# NumPy ships no erf and scipy is not a dependency: math.erf through a ufunc is exact
# (the C library's), at about 0.1 us per element.
_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    x = np.asarray(x)
    if x.size == 0:
        return x.copy()
    return np.asarray(_erf_ufunc(x), dtype=x.dtype)


def sliding_windows(x, window, axes, strides=None, dilation=None, stride_tricks=np.lib.stride_tricks):
    """Strided read-only windows of an array; `stride_tricks` is the library's (CuPy mirrors NumPy's)."""
    v = stride_tricks.sliding_window_view(
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
