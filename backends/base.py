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
    # Each method here is exact and means the same on every backend; the docstring is the
    # contract (docs/backends.md repeats it). Results have the documented shape and dtype, 0-d
    # included: a 0-d input gives a 0-d array, never shape (1,).
    def masked(self, g, mask):
        """g where mask else 0: a select, never `g * mask` (0 * inf is nan; the select gives 0).
        mask is a bool array of g's shape (or broadcastable to it); the result has g's shape and
        dtype, holds g's values bit for bit where mask is true (nan, inf, -0.0 included) and +0
        elsewhere. The gradient of every piecewise-linear op (relu, clamp, max)."""
        return self.xp.where(mask, g, self.xp.zeros((), dtype=g.dtype))

    def scatter_add(self, target, index, values):
        """target with values added at target[index], repeated indices accumulating (as
        `numpy.add.at`); RETURNS the result, which the caller must use. The engine passes a
        target it owns and never reads again, so a library with writable arrays may add into it
        and return it (NumPy, CuPy) and a functional one returns a new array.
        index: an engine-normalized index (see getitem); values: an array of target's dtype,
        broadcastable to target[index]'s shape. The result has target's shape and dtype."""
        raise NotImplementedError

    def index_put(self, arr, index, value):
        """A new array equal to arr except at arr[index], which holds value; arr is unchanged
        (the engine's recorded, out-of-place `x[index] = v`). value: an array of arr's dtype or a
        Python scalar, broadcastable to arr[index]'s shape. Where index names an element twice,
        which value lands is unspecified (as in NumPy and PyTorch). Default: copy, then setitem."""
        out = self.xp.asarray(arr, copy=True)
        self.setitem(out, index, value)
        return out

    def erf(self, x):
        """The error function, elementwise, in x's dtype and shape (not in the array API)."""
        raise NotImplementedError

    def getitem(self, arr, index):
        """arr[index] for an engine-normalized index (ints, slices, None, Ellipsis, arrays of this
        backend). Libraries differ on advanced indexing, so the engine never indexes arrays itself."""
        return arr[index]

    def setitem(self, arr, index, value):
        """arr[index] = value, IN PLACE (value an array of this backend or a Python scalar). For a
        user's in-place write to a tensor that records nothing (`t[i] = v`): it needs a library
        whose arrays can be written, and a functional library may raise a clear error here. The
        engine's own writes go through the functional `index_put` and `scatter_add`."""
        arr[index] = value

    def sliding_windows(self, x, window, axes, strides=None, dilation=None):
        """Read-only view of x with extra trailing dims over `window`-sized windows along `axes`
        (used by convolution and pooling to avoid Python loops over pixels)."""
        raise NotImplementedError

    # --- indexing, strided views, interchange (issue 11, "Indexing, masking, scatter") -------
    def scatter_reduce(self, target, index, values, reduce):
        """target with values combined into target[index] by `reduce` ("add", "multiply",
        "maximum", "minimum"; repeated indices combine, nan propagates through maximum/minimum),
        as `numpy.<ufunc>.at`; RETURNS the result (target is engine-owned, as in scatter_add)."""
        raise NotImplementedError

    def as_strided(self, arr, shape, strides):
        """A WRITABLE view of arr's memory with element `strides`, starting at arr's first element
        (diagonal, unfold), or None where the library cannot make one (the engine then copies)."""
        return None

    def data_ptr(self, arr) -> int:
        """The address of arr's first element (0 where the library does not expose one)."""
        return 0

    def view_dtype(self, arr, dtype):
        """arr's bytes reinterpreted as native dtype (the last dim rescaled by the itemsizes), a
        view sharing memory where the library can."""
        raise NotImplementedError

    def from_dlpack(self, obj):
        """An array of this backend sharing obj's memory through DLPack (zero copy)."""
        return self.xp.from_dlpack(obj)

    # --- floating-point warnings ------------------------------------------------
    def enter_quiet(self):
        """Silence the library's floating-point warnings (overflow, divide by zero, invalid
        value) for the current thread/context until `exit_quiet(token)`; returns the token.
        PyTorch computes inf/nan silently, so the engine runs its computations between the two.
        Never changes the user's own error settings outside that window; nests (tokens are
        exited last-in first-out, in the same thread). Cheap: called around every op.
        Default: a no-op returning None, for libraries that never warn (CuPy)."""
        return None

    def exit_quiet(self, token):
        """Undo the matching `enter_quiet()`: restore exactly the state from before it."""

    # --- errors -------------------------------------------------------------------
    def error_type(self, exc) -> type:
        """The built-in exception class that stands for a library exception (TypeError,
        ValueError, IndexError, MemoryError, ...), decided by its class, never its message: the
        first built-in class in its MRO. The engine re-raises a library error under its op's
        name with this class: some library classes cannot be rebuilt from a message (NumPy's
        `_UFuncNoLoopError(ufunc, dtypes)`). Whether inputs broadcast is the engine's to decide
        from their shapes, which it owns, not something to read out of a library error."""
        for cls in type(exc).__mro__:
            if cls.__module__ == "builtins":
                return cls
        return RuntimeError                                  # not an Exception subclass

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

    # --- random numbers from explicit generators (autograd.Generator) ---------------
    # A generator here is an object of the library's own (a host numpy.random.Generator by
    # default); the engine builds every distribution from these few draws, so a backend supplies
    # only them. The defaults draw on the host with NumPy's PCG64 and convert with `asarray`:
    # right for any library, and what array_api_strict uses; CuPy draws on the device.
    def rng_new(self, seed: int):
        """A new generator, seeded with seed (0 <= seed < 2**64): the same seed, the same draws."""
        import numpy as np
        return np.random.Generator(np.random.PCG64(seed))

    def rng_default(self):
        """The generator that `manual_seed`, `get_rng_state` and `set_rng_state` act on (the
        device's default generator, `autograd.default_generator` for the CPU)."""
        raise NotImplementedError

    def rng_get_state(self, rng):
        """A copy of rng's state as plain JSON data (dicts, lists, ints, strings)."""
        return rng.bit_generator.state

    def rng_set_state(self, rng, state):
        """Put rng back into a state from rng_get_state (of a generator of this backend)."""
        rng.bit_generator.state = state

    def rng_random(self, rng, shape, single=False):
        """Uniform on [0, 1), never 1, of shape `shape`: float64, or float32 when `single`."""
        import numpy as np
        return self.asarray(rng.random(shape, dtype=np.float32 if single else np.float64))

    def rng_normal(self, rng, shape):
        """float64 standard normal, of shape `shape`."""
        return self.asarray(rng.standard_normal(shape))

    def rng_integers(self, rng, low, high, shape):
        """int64 uniform on [low, high], both ends INCLUDED (so that high may be 2**63 - 1)."""
        import numpy as np
        return self.asarray(rng.integers(low, high, size=shape, dtype=np.int64, endpoint=True))

    def rng_permutation(self, rng, n):
        """int64: a uniformly random permutation of 0 .. n-1."""
        import numpy as np
        return self.asarray(rng.permutation(n).astype(np.int64, copy=False))

    def rng_poisson(self, rng, lam):
        """float64 Poisson counts, one per element of lam (a float64 array of this backend, >= 0)."""
        import numpy as np
        return self.asarray(rng.poisson(self.to_numpy(lam)).astype(np.float64))

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

    # --- device graphs (autograd.compile(mode="reduce-overhead")) --------------------------
    def capture_graph(self, fn, args):
        """Capture the device work of `fn(*args)` into a graph without running it; returns
        `(launch, outs)`: `launch()` runs the captured work on the current stream, and `outs` is
        what fn returned (arrays that every launch rewrites in place). Raises NotImplementedError
        on backends without device graphs, or the capture's error."""
        raise NotImplementedError(f"the {self.name} backend has no device graphs (CUDA graphs need CuPy)")


def is_basic_index(index) -> bool:
    """Ints, slices, None and Ellipsis only (no arrays): what every array-API library indexes
    natively, and an index that cannot name an element twice."""
    if type(index) is not tuple:
        index = (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in index)


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
    """PyTorch-like text for a NumPy array (used by Tensor.__repr__ on every backend). Silent:
    printing a tensor with inf or nan warns about nothing."""
    from ._quiet import quiet
    with quiet():
        return _format_array(arr_np, prefix)


def _format_array(arr_np, prefix):
    import numpy as np
    if arr_np.size == 0:
        return "[]" if arr_np.ndim == 1 else f"[] (shape {tuple(arr_np.shape)})"
    kw = {}
    if arr_np.dtype.kind == "f":
        finite = arr_np[np.isfinite(arr_np)].astype(np.float64)    # 1e8 is no float16
        if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
            kw["formatter"] = {"float_kind": lambda v: (f"{v:.0f}." if np.isfinite(v) else str(v))}
        else:
            kw["precision"] = 4
    return np.array2string(arr_np, separator=", ", prefix=prefix, threshold=1000, edgeitems=3, **kw)
