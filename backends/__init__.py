"""Backends: the array libraries the engine runs on, found by device type.

`register(name, backend)` adds one; `get(name)` returns it. The built-ins are NumPy
("cpu"), CuPy ("cuda") and array_api_strict ("array_api_strict"), the last two loaded
lazily. docs/backends.md lists what a backend must provide. This package never imports `autograd`.
"""
from __future__ import annotations

import numpy as host  # the host array library, for host-side utilities (gradcheck, printing)

from . import dtypes
from .base import Backend
from .dtypes import DType, device, promote_types

_registry: dict[str, Backend] = {}
_lazy = {
    "cuda": ("backends.cupy_backend", "CupyBackend"),
    "array_api_strict": ("backends.strict_backend", "StrictBackend"),
}


def register(name: str, backend: Backend) -> None:
    """Make `backend` serve device type `name` (e.g. `device("name")`, `tensor(..., device="name")`)."""
    if not isinstance(backend, Backend):
        raise TypeError(f"backends.register: expected a Backend instance, got {type(backend).__name__}")
    _registry[name] = backend


def get(name) -> Backend:
    """The backend for a device type or device string ('cpu', 'cuda:0', ...)."""
    dev = name if isinstance(name, device) else device(name)
    be = _registry.get(dev.type)
    if be is None:
        if dev.type in _lazy:
            import importlib
            mod, cls = _lazy[dev.type]
            be = getattr(importlib.import_module(mod), cls)()
            _registry[dev.type] = be
        else:
            raise RuntimeError(f"unknown device type {dev.type!r}; registered: {available()}")
    # a backend serving several units (cuda:0, cuda:1) picks the one for the index
    if dev.index is not None and hasattr(be, "for_index"):
        be = be.for_index(dev.index)
    return be


def available() -> list[str]:
    return sorted(set(_registry) | set(_lazy))


from .numpy_backend import NumpyBackend  # noqa: E402

register("cpu", NumpyBackend())

__all__ = ["host", "Backend", "DType", "device", "dtypes", "get", "register", "available", "promote_types"]
