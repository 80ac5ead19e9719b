"""An array-API face for a library that still uses NumPy 1.x names (CuPy before its array-API
main namespace).

The engine speaks the array API (`concat`, `permute_dims`, `astype`, `pow`, `bitwise_invert`,
`asarray(copy=)`). Where `array_api_compat` is installed its wrapper is the better-tested
choice and is used instead; this is the fallback, kept to the names the engine uses. A name
the library already has is forwarded untouched, so a newer library passes straight through.
"""
from __future__ import annotations


class ArrayAPIShim:
    def __init__(self, lib):
        self._lib = lib
        self.__name__ = f"array_api_shim({getattr(lib, '__name__', lib)})"

    def __getattr__(self, name):
        # only reached for names not defined on the shim: forward to the library
        return getattr(self._lib, name)

    def __repr__(self):
        return f"<{self.__name__}>"

    # --- the renames -----------------------------------------------------------
    def concat(self, arrays, axis=0):
        f = getattr(self._lib, "concat", None) or self._lib.concatenate
        return f(tuple(arrays), axis=axis)

    def permute_dims(self, x, axes):
        f = getattr(self._lib, "permute_dims", None) or self._lib.transpose
        return f(x, tuple(axes))

    def pow(self, x1, x2):
        f = getattr(self._lib, "pow", None) or self._lib.power
        return f(x1, x2)

    def bitwise_invert(self, x):
        f = getattr(self._lib, "bitwise_invert", None) or self._lib.invert
        return f(x)

    # the inverse trigonometric functions and shifts (elementwise math, issue 11)
    def _renamed(name, old):
        def f(self, *args):
            return (getattr(self._lib, name, None) or getattr(self._lib, old))(*args)
        f.__name__ = name
        return f
    asin, acos, atan = _renamed("asin", "arcsin"), _renamed("acos", "arccos"), _renamed("atan", "arctan")
    asinh, acosh, atanh = _renamed("asinh", "arcsinh"), _renamed("acosh", "arccosh"), _renamed("atanh", "arctanh")
    atan2 = _renamed("atan2", "arctan2")
    bitwise_left_shift = _renamed("bitwise_left_shift", "left_shift")
    bitwise_right_shift = _renamed("bitwise_right_shift", "right_shift")
    del _renamed

    def astype(self, x, dtype, /, *, copy=True):
        return x.astype(dtype, copy=copy)

    def asarray(self, obj, /, *, dtype=None, device=None, copy=None):
        # NumPy-1-era asarray has no `copy=`: copy=True means a fresh array; False/None may share
        if copy:
            return self._lib.array(obj, dtype=dtype, copy=True)
        return self._lib.asarray(obj, dtype=dtype)

    # --- the scan and sorting families' names (array API 2023.12) -----------------
    def cumulative_sum(self, x, /, *, axis=None, dtype=None, include_initial=False):
        return self._cumulative("cumulative_sum", "cumsum", x, axis, dtype, include_initial)

    def cumulative_prod(self, x, /, *, axis=None, dtype=None, include_initial=False):
        return self._cumulative("cumulative_prod", "cumprod", x, axis, dtype, include_initial)

    def _cumulative(self, name, old_name, x, axis, dtype, include_initial):
        f = getattr(self._lib, name, None)
        if f is not None:
            return f(x, axis=axis, dtype=dtype, include_initial=include_initial)
        if include_initial:
            raise NotImplementedError(f"{name}(include_initial=True) on a NumPy-1.x-style library")
        return getattr(self._lib, old_name)(x, axis=axis, dtype=dtype)

    def argsort(self, x, /, *, axis=-1, descending=False, stable=True):
        # NumPy-1.x argsort has no `stable=`/`descending=`: kind="stable" is NumPy's stable sort;
        # CuPy documents its argsort as stable and refuses any kind but None
        if descending:
            raise NotImplementedError("argsort(descending=True) on a NumPy-1.x-style library: flip the input")
        try:
            return self._lib.argsort(x, axis=axis, kind="stable")
        except (TypeError, ValueError, NotImplementedError):
            return self._lib.argsort(x, axis=axis)


    def matrix_transpose(self, x, /):
        f = getattr(self._lib, "matrix_transpose", None)
        return f(x) if f is not None else self._lib.swapaxes(x, -1, -2)

    @property
    def linalg(self):
        return _LinalgShim(self._lib.linalg)


class _LinalgShim:
    """The array API's linalg extension over a NumPy-1-era `linalg` module: `svdvals` is
    `svd(compute_uv=False)` there; every other name is forwarded."""

    def __init__(self, mod):
        self._mod = mod

    def __getattr__(self, name):
        return getattr(self._mod, name)

    def svdvals(self, x, /):
        f = getattr(self._mod, "svdvals", None)
        return f(x) if f is not None else self._mod.svd(x, compute_uv=False)


def array_api_namespace(lib, compat_name):
    """`array_api_compat.<compat_name>` if installed, else the shim over `lib`."""
    try:
        import importlib
        return importlib.import_module(f"array_api_compat.{compat_name}")
    except ImportError:
        return ArrayAPIShim(lib)
