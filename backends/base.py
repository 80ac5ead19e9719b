"""The Backend interface: what an array library must provide for the engine to run on it.

A backend is its array namespace (`xp`, spoken in the Python array API standard: `xp.exp`,
`xp.sum(x, axis=, keepdims=)`, `xp.permute_dims`, `xp.concat`, ...) plus the handful of
operations that array libraries spell differently. Op code reaches arrays only through this
object, so adding a backend never touches `autograd/` or `nn/`.
"""
from __future__ import annotations

from . import dtypes as _dt


class Backend:
    #: registry name and the device type it serves ("cpu", "cuda", ...)
    name = "abstract"
    device_type = "abstract"
    #: the array namespace (array-API spelling)
    xp = None
    #: the library's array class (results of any other type are converted with asarray)
    array_type = None

    # --- dtypes -----------------------------------------------------------------
    def native_dtype(self, dtype: _dt.DType):
        """The library's dtype object for a DType."""
        return getattr(self.xp, "bool" if dtype is _dt.bool_ else dtype.name)

    def dtype_from_native(self, native) -> _dt.DType:
        """The DType for one of the library's dtype objects."""
        for d in _dt.ALL:
            if self.native_dtype(d) == native:
                return d
        raise TypeError(f"{self.name} backend: unsupported dtype {native}")

    def dtype_of(self, arr) -> _dt.DType:
        """The DType of an array of this backend."""
        return self.dtype_from_native(arr.dtype)

    # --- conversion -------------------------------------------------------------
    def asarray(self, obj, dtype=None, copy=None):
        """An array of this backend from nested lists, scalars, NumPy arrays (dtype native)."""
        return self.xp.asarray(obj, dtype=dtype, copy=copy)

    def to_numpy(self, arr):
        """A NumPy array with the same values (host copy where needed)."""
        raise NotImplementedError

    def is_array(self, obj) -> bool:
        raise NotImplementedError

    # --- the operations libraries spell differently -------------------------------
    def scatter_add(self, target, index, values):
        """target[index] += values, in place, with repeated indices accumulating."""
        raise NotImplementedError

    def erf(self, x):
        raise NotImplementedError

    def masked(self, g, mask):
        """g where mask is true, else 0 (relu's and clamp's gradient)."""
        return self.xp.where(mask, g, self.xp.zeros((), dtype=g.dtype))

    def getitem(self, arr, index):
        """arr[index] for an engine-normalized index (ints, slices, None, Ellipsis, arrays of this
        backend). Libraries differ on advanced indexing, so the engine never indexes arrays itself."""
        return arr[index]

    def setitem(self, arr, index, value):
        """arr[index] = value, in place (value an array of this backend or a Python scalar)."""
        arr[index] = value

    def sliding_windows(self, x, window, axes, strides=None, dilation=None):
        """Read-only view of x with extra trailing dims over `window`-sized windows along `axes`
        (used by convolution and pooling to avoid Python loops over pixels)."""
        raise NotImplementedError

    # --- random numbers ---------------------------------------------------------
    def manual_seed(self, seed: int):
        raise NotImplementedError

    def get_rng_state(self):
        """An opaque copy of the generator's state (checkpointing replays random ops with it)."""
        raise NotImplementedError

    def set_rng_state(self, rng_state):
        raise NotImplementedError

    def uniform(self, shape, low, high, dtype):
        raise NotImplementedError

    def normal(self, shape, mean, std, dtype):
        raise NotImplementedError

    def integers(self, low, high, shape, dtype):
        raise NotImplementedError

    def permutation(self, n):
        raise NotImplementedError

    # --- memory and device ------------------------------------------------------
    def nbytes(self, arr) -> int:
        return int(arr.size) * self.dtype_of(arr).itemsize

    def storage(self, arr):
        """The array owning arr's memory: arr itself unless it is a view this library can trace
        (through `.base`, as NumPy and CuPy do). The memory ledger counts a buffer once."""
        base = getattr(arr, "base", None)
        while base is not None and self.is_array(base):
            arr, base = base, getattr(base, "base", None)
        return arr

    def layout(self, arr):
        """(strides, offset) of arr in elements of its storage, or None where the library does not
        expose strides (its arrays then count as compact, row-major)."""
        return None

    def owns_memory(self, arr) -> bool:
        """True when arr is not a view of another array (safe to hand to a user as .grad)."""
        return False

    def memory_allocated(self) -> int:
        """Bytes this backend's arrays hold now (as its allocator sees them)."""
        raise NotImplementedError

    def memory_stats(self) -> dict:
        """{"allocated": bytes held now, "peak": most bytes held since the last reset_peak()}.
        The same keys on every backend, so one benchmark measures every device the same way."""
        raise NotImplementedError

    def reset_peak(self) -> None:
        """Start a new peak window: afterwards "peak" counts from what is allocated now."""
        raise NotImplementedError

    def device_count(self) -> int:
        """How many devices of this type there are (1 for host backends)."""
        return 1 if self.is_available() else 0

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    def synchronize(self):
        pass

    def __repr__(self):
        return f"<backend {self.name} ({self.device_type})>"


class HostMemoryMixin:
    """Memory accounting for backends whose arrays live in host memory allocated through
    Python's allocator hooks (NumPy registers its data buffers with tracemalloc)."""

    def _traced(self):
        import tracemalloc
        if not tracemalloc.is_tracing():
            raise RuntimeError(f"{self.name} memory is measured through tracemalloc: call "
                               f"tracemalloc.start() first")
        return tracemalloc

    def memory_allocated(self):
        return self._traced().get_traced_memory()[0]

    def memory_stats(self):
        current, peak = self._traced().get_traced_memory()
        return {"allocated": current, "peak": peak}

    def reset_peak(self):
        self._traced().reset_peak()


def format_array(arr_np, prefix: str) -> str:
    """PyTorch-like text for a NumPy array (used by Tensor.__repr__ on every backend)."""
    import numpy as np
    if arr_np.size == 0:
        return "[]" if arr_np.ndim == 1 else f"[] (shape {tuple(arr_np.shape)})"
    kw = {}
    if arr_np.dtype.kind == "f":
        finite = arr_np[np.isfinite(arr_np)]
        if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
            kw["formatter"] = {"float_kind": lambda v: (f"{v:.0f}." if np.isfinite(v) else str(v))}
        else:
            kw["precision"] = 4
    return np.array2string(arr_np, separator=", ", prefix=prefix, threshold=1000, edgeitems=3, **kw)
