"""CuPy backend: the GPU ("cuda", "cuda:0").

CuPy is imported on first use, never at module import, so this module loads everywhere and
`is_available()` / `unavailable_reason()` say why a machine has no GPU backend. CuPy mirrors
NumPy's 1.x names; `xp` is `array_api_compat.cupy` when installed, else the small shim in
`_xp_shim` that adds the array-API names the engine uses.

One GPU per process: this backend serves cuda:0 (the current CUDA device). `cuda:N` for N > 0
is refused with a clear error rather than half-supported (CuPy launches kernels on the current
device, and every op would need a device context); pick a GPU with CUDA_VISIBLE_DEVICES.

GPU kernels raise no floating-point warnings, so `enter_quiet`/`exit_quiet` are the interface's
no-ops; host data converted by `asarray` goes through NumPy, quietly.

Written from CuPy's documented API; no GPU was available to run it when it was written.
Every method is exercised by the suite with `pytest --backend cupy` on a machine with one.
"""
from __future__ import annotations

from . import _quiet
from .base import Backend, is_basic_index
from .numpy_backend import NumpyBackend

INSTALL_HINT = "cupy is not installed (pip install tapegrad[cuda])"


class CupyBackend(Backend):
    name = "cupy"
    device_type = "cuda"
    index = 0

    def __init__(self):
        self._cp = None
        self._reason = None           # None: not probed yet; "": available
        self.xp = None
        self._peak_hook = None
        self._rs = None
        self._seed = None

    # --- lazy import and availability -------------------------------------------------
    def _probe(self):
        if self._reason is not None:
            return
        try:
            import cupy
        except ImportError as e:
            self._reason = f"{INSTALL_HINT}; import failed: {e}"
            return
        except Exception as e:                              # noqa: BLE001 - e.g. a broken CUDA install
            self._reason = f"cupy could not be imported: {type(e).__name__}: {e}"
            return
        try:
            n = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:                              # noqa: BLE001 - CUDARuntimeError and kin
            self._reason = f"no CUDA device found: {type(e).__name__}: {e}"
            return
        if n < 1:
            self._reason = "no CUDA device found: cupy reports 0 devices"
            return
        from ._xp_shim import array_api_namespace
        self._cp = cupy
        self.xp = array_api_namespace(cupy, "cupy")
        self._reason = ""

    def is_available(self):
        self._probe()
        return self._reason == ""

    def unavailable_reason(self):
        self._probe()
        return self._reason

    def _lib(self):
        if not self.is_available():
            raise RuntimeError(f"device 'cuda' is not available: {self._reason}")
        return self._cp

    def for_index(self, index):
        """The backend serving cuda:index (see the module docstring on multi-GPU)."""
        if index in (None, 0):
            return self
        raise RuntimeError(f"cuda:{index}: tapegrad runs on one GPU per process (cuda:0); select GPU "
                           f"{index} with CUDA_VISIBLE_DEVICES={index} and use 'cuda'")

    # --- dtypes: CuPy uses NumPy's dtype objects, so NumPy's mapping serves ----------------
    native_dtype = NumpyBackend.native_dtype
    dtype_from_native = NumpyBackend.dtype_from_native

    # --- conversion -------------------------------------------------------------------
    def asarray(self, obj, dtype=None, copy=None):
        cp = self._lib()
        with _quiet.quiet():                            # host data is converted by NumPy first
            if copy:
                return cp.array(obj, dtype=dtype, copy=True)
            return cp.asarray(obj, dtype=dtype)        # host data is always copied to the device

    def to_numpy(self, arr):
        return self._cp.asnumpy(arr)                    # device -> host copy (synchronizes)

    def is_array(self, obj):
        return self._cp is not None and isinstance(obj, self._cp.ndarray)

    # --- the operations libraries spell differently ---------------------------------------
    def scatter_add(self, target, index, values):
        # adds into the engine-owned target and returns it, as NumPy's
        if is_basic_index(index):
            target[index] += values                    # a basic index names no element twice
            return target
        at = getattr(self._cp.add, "at", None)         # CuPy >= 13; older versions: cupyx.scatter_add
        if at is not None:
            at(target, index, values)
        else:
            import cupyx
            cupyx.scatter_add(target, index, values)
        return target

    def index_put(self, arr, index, value):
        out = self._cp.array(arr, copy=True)
        out[index] = value
        return out

    def erf(self, x):
        import cupyx.scipy.special
        return cupyx.scipy.special.erf(x)

    def sliding_windows(self, x, window, axes, strides=None, dilation=None):
        from .numpy_backend import sliding_windows
        return sliding_windows(x, window, axes, strides, dilation, self._cp.lib.stride_tricks)

    # --- indexing, strided views, interchange (issue 11) ----------------------------------
    def scatter_reduce(self, target, index, values, reduce):
        # CuPy's ufunc.at covers add/maximum/minimum (CuPy >= 13; cupyx.scatter_* before); it has
        # no multiply.at: that one goes through the host (exact, slow, rare)
        at = getattr(getattr(self._cp, reduce), "at", None)
        if at is not None and reduce != "multiply":
            at(target, index, values)
            return target
        if reduce != "multiply":
            import cupyx
            getattr(cupyx, {"add": "scatter_add", "maximum": "scatter_max", "minimum": "scatter_min"}[reduce])(
                target, index, values)
            return target
        import numpy as np
        host = self._cp.asnumpy(target)
        host_index = tuple(self._cp.asnumpy(i) if isinstance(i, self._cp.ndarray) else i for i in index)
        np.multiply.at(host, host_index, self._cp.asnumpy(values) if isinstance(values, self._cp.ndarray) else values)
        return self._cp.asarray(host)

    def as_strided(self, arr, shape, strides):
        n = arr.itemsize
        return self._cp.lib.stride_tricks.as_strided(arr, shape, tuple(s * n for s in strides))

    def data_ptr(self, arr):
        return int(arr.data.ptr)

    def view_dtype(self, arr, dtype):
        return arr.view(dtype)

    def from_dlpack(self, obj):
        return self._cp.from_dlpack(obj)

    # --- random numbers -------------------------------------------------------------------
    # RandomState rather than Generator: CuPy's Generator lacks `permutation` and `normal` in some
    # versions, and RandomState has every method below in all of them.
    def _rng(self):
        if self._rs is None:
            self._rs = self._lib().random.RandomState(self._seed)
        return self._rs

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rs = self._lib().random.RandomState(self._seed)
        self._grng = None                   # the default generator restarts from the new seed

    def uniform(self, shape, low, high, dtype):
        return self._rng().uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, shape, mean, std, dtype):
        return self._rng().normal(mean, std, size=shape).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        return self._rng().randint(low, high, size=shape, dtype="int64").astype(dtype, copy=False)

    def permutation(self, n):
        return self._rng().permutation(n)

    # Explicit generators (autograd.Generator): a cuRAND generator keeps its state on the device
    # with no API to read it back, so a generator here is counter-based: (seed, count of draws),
    # each draw from a Philox RandomState reseeded from that pair. Its state is the pair, so
    # get_state/set_state are exact and cheap (Philox needs no state setup on reseeding).
    def rng_new(self, seed):
        return _CupyRng(self._lib(), seed)

    def rng_default(self):
        if getattr(self, "_grng", None) is None:
            self._grng = _CupyRng(self._lib(), self._seed if self._seed is not None else 0)
        return self._grng

    def get_rng_state(self):
        if not self.is_available():          # no generator to save (checkpointing skips this backend)
            raise NotImplementedError(f"cuda: no random state: {self._reason}")
        return self.rng_get_state(self.rng_default())

    def set_rng_state(self, rng_state):
        self.rng_set_state(self.rng_default(), rng_state)

    def rng_get_state(self, rng):
        return [rng.seed, rng.count]

    def rng_set_state(self, rng, state):
        rng.seed, rng.count = int(state[0]), int(state[1])

    def rng_random(self, rng, shape, single=False):
        u = rng.next().random_sample(shape)              # float64; cuRAND's (0, 1] flipped, may round to 1
        if single:
            u = u.astype("float32")
        return self._cp.minimum(u, 1 - 2.0 ** (-24 if single else -53))

    def rng_normal(self, rng, shape):
        return rng.next().standard_normal(shape)         # float64

    def rng_integers(self, rng, low, high, shape):
        rs = rng.next()
        if high < 2 ** 63 - 1:
            return rs.randint(low, high + 1, size=shape, dtype="int64")
        return rs.randint(low - 1, high, size=shape, dtype="int64") + 1      # high + 1 overflows int64

    def rng_permutation(self, rng, n):
        return rng.next().permutation(n).astype("int64", copy=False)

    def rng_poisson(self, rng, lam):
        return rng.next().poisson(lam, size=lam.shape).astype("float64", copy=False)

    # --- memory and device ------------------------------------------------------------------
    def nbytes(self, arr):
        return int(arr.nbytes)

    def layout(self, arr):
        n = arr.itemsize
        return tuple(s // n for s in arr.strides), (_address(arr) - _address(self.storage(arr))) // n

    def owns_memory(self, arr):
        return arr.base is None

    def memory_allocated(self):
        """Bytes held by live arrays in CuPy's default pool (what PyTorch calls allocated; the
        pool's cached free blocks are not counted)."""
        return int(self._lib().get_default_memory_pool().used_bytes())

    def memory_stats(self):
        """The peak is tracked by a memory hook installed at the first reset_peak() or
        memory_stats() call, in the calling thread (CuPy's hooks are thread-local); before that
        the pool keeps no peak, so the first window starts at that call."""
        hook = self._ensure_hook()
        now = self.memory_allocated()
        hook.peak = max(hook.peak, now)
        return {"allocated": now, "peak": hook.peak}

    def reset_peak(self):
        hook = self._ensure_hook()
        hook.peak = self.memory_allocated()

    def _ensure_hook(self):
        if self._peak_hook is None:
            cp = self._lib()
            pool = cp.get_default_memory_pool()

            class _PeakHook(cp.cuda.MemoryHook):
                name = "tapegrad_peak"

                def __init__(self):
                    self.peak = 0

                def malloc_postprocess(self, *args, **kwargs):   # the signature varies by version
                    used = pool.used_bytes()
                    if used > self.peak:
                        self.peak = used

            self._peak_hook = _PeakHook()
            self._peak_hook.peak = int(pool.used_bytes())
            self._peak_hook.__enter__()                 # stays installed for the process (this thread)
        return self._peak_hook

    def synchronize(self):
        self._lib().cuda.Device(self.index).synchronize()

    def device_count(self):
        return int(self._cp.cuda.runtime.getDeviceCount()) if self.is_available() else 0

    def capture_graph(self, fn, args):
        """CUDA-graph capture of fn(*args) (Backend.capture_graph): on a fresh non-blocking stream
        that first waits for the current stream's work, with every allocation made during the capture
        taken from a memory pool private to the graph (so no array made outside it can be given the
        memory the graph writes on each launch). A host synchronisation inside fn (`bool(array)`, a
        device-to-host copy) invalidates the capture: the error propagates and the caller replays
        without a graph."""
        cp = self._lib()
        pool = cp.cuda.MemoryPool()
        stream = cp.cuda.Stream(non_blocking=True)
        stream.wait_event(cp.cuda.get_current_stream().record())
        with cp.cuda.using_allocator(pool.malloc), stream:
            stream.begin_capture()
            try:
                outs = fn(*args)
            except BaseException:
                try:
                    stream.end_capture()
                except Exception:  # noqa: BLE001 - an invalidated capture: the first error is the one to see
                    pass
                raise
            graph = stream.end_capture()

        def launch():
            graph.launch(stream=cp.cuda.get_current_stream())
        launch.keep = (pool, stream, graph)          # the graph's memory lives as long as the launcher
        return launch, outs


class _CupyRng:
    """A counter-based CuPy generator: draw i comes from Philox seeded with mix(seed, i)."""

    def __init__(self, cp, seed):
        self.cp, self.seed, self.count, self._rs = cp, int(seed) % 2 ** 64, 0, None

    def next(self):
        if self._rs is None:
            try:
                from cupy.cuda import curand
                self._rs, self._bits = self.cp.random.RandomState(
                    0, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10), 63
            except ImportError:               # the test suite's NumPy stand-in for cupy (32-bit seeds)
                self._rs, self._bits = self.cp.random.RandomState(0), 32
        self._rs.seed(_splitmix64(self.seed ^ (self.count * 0x9E3779B97F4A7C15 % 2 ** 64)) >> (64 - self._bits))
        self.count += 1
        return self._rs


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) % 2 ** 64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % 2 ** 64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % 2 ** 64
    return x ^ (x >> 31)


def _address(arr):
    """Device address of arr's first element (CuPy's MemoryPointer; the host address for the
    NumPy arrays the test suite's CuPy stand-in uses)."""
    d = arr.data
    return d.ptr if hasattr(d, "ptr") else arr.__array_interface__["data"][0]
