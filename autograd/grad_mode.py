"""Grad mode: whether ops record onto the tape. Thread-local, nestable, exception-safe."""
from __future__ import annotations

import functools
import os
import threading

#: TAPEGRAD_RECORD_SOURCE=1 turns record_source() on in every thread from the start
_SOURCE_DEFAULT = os.environ.get("TAPEGRAD_RECORD_SOURCE", "") not in ("", "0")


class _State(threading.local):
    # class attributes: the state every new thread starts with
    enabled = True              # ops record onto the tape
    anomaly = False             # detect_anomaly(): "nan" or "nan+inf"
    source = _SOURCE_DEFAULT    # record_source(): every node keeps the user's file:line
    # anomaly or source: one flag, so that `apply` pays a single thread-local read for both
    watch = _SOURCE_DEFAULT


state = _State()


def set_instrumentation(anomaly, source):
    """Set this thread's anomaly mode and source recording (and the flag `apply` reads)."""
    state.anomaly = anomaly
    state.source = source
    state.watch = bool(anomaly or source)


def is_grad_enabled() -> bool:
    return state.enabled


class _GradModeContext:
    """Base for no_grad / enable_grad / set_grad_enabled: context manager and decorator."""
    _mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._mode
        return self

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            # a decorated function may be re-entered (recursion, threads): one context per call
            ctx = _GradModeContext()
            ctx._mode = mode
            with ctx:
                return fn(*args, **kwargs)
        mode = self._mode
        return wrapper


class no_grad(_GradModeContext):
    """Disable recording: results have requires_grad=False, nothing is saved for backward."""
    _mode = False


class enable_grad(_GradModeContext):
    _mode = True


class set_grad_enabled(_GradModeContext):
    def __init__(self, mode: bool):
        self._mode = bool(mode)
        # like torch, calling it as a function takes effect at once
        self._prev = state.enabled
        state.enabled = self._mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        state.enabled = self._prev      # decorating must not change the mode now
        return super().__call__(fn)
