"""`autograd.cuda`: is a CUDA device usable here (CuPy installed and a GPU present)?"""
from __future__ import annotations


def _backend():
    import backends
    try:
        return backends.get("cuda")
    except Exception:                                  # noqa: BLE001 - unavailable for any reason
        return None


def is_available() -> bool:
    be = _backend()
    return be is not None and be.is_available()


def unavailable_reason() -> str:
    be = _backend()
    if be is None:
        return "no CUDA backend could be loaded"
    return be.unavailable_reason()


def device_count() -> int:
    be = _backend()
    return be.device_count() if be is not None and be.is_available() else 0


def synchronize():
    be = _backend()
    if be is not None and be.is_available():
        be.synchronize()


def manual_seed(seed):
    from .random import manual_seed as ms
    ms(seed)
