"""Backends: the array libraries the engine runs on, found by device type.

`register(name, backend)` adds one; `get(name)` returns it. The built-ins are NumPy
("cpu") and CuPy ("cuda", loaded lazily). This package never imports `autograd`.
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
    if isinstance(name, device):
        name = name.type
    name = str(name).partition(":")[0]
    be = _registry.get(name)
    if be is None:
        if name in _lazy:
            import importlib
            mod, cls = _lazy[name]
            be = getattr(importlib.import_module(mod), cls)()
            _registry[name] = be
        else:
            raise RuntimeError(f"unknown device type {name!r}; registered: {sorted(set(_registry) | set(_lazy))}")
    return be


def available() -> list[str]:
    return sorted(set(_registry) | set(_lazy))


from .numpy_backend import NumpyBackend  # noqa: E402

register("cpu", NumpyBackend())

__all__ = ["host", "Backend", "DType", "device", "dtypes", "get", "register", "available", "promote_types"]
