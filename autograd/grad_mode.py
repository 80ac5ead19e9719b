"""Grad mode: whether ops record onto the tape. Thread-local, nestable, exception-safe.

Also this thread's anomaly mode and record_source() switch, read by `apply`."""
from __future__ import annotations

import functools
import os
import sys
from contextvars import ContextVar

#: TAPEGRAD_RECORD_SOURCE=1 turns record_source() on in every thread from the start
_SOURCE_DEFAULT = os.environ.get("TAPEGRAD_RECORD_SOURCE", "") not in ("", "0")

# Context variables, not a threading.local: each thread still starts from the defaults (a new
# thread runs in a fresh context), and reading one is several times cheaper (about 13 ns against
# 60 ns on CPython 3.11), which every op pays in `apply`.
_enabled = ContextVar("tapegrad_grad_enabled", default=True)          # ops record onto the tape
_anomaly = ContextVar("tapegrad_anomaly", default=False)              # detect_anomaly(): "nan", "nan+inf"
_source = ContextVar("tapegrad_record_source", default=_SOURCE_DEFAULT)   # nodes keep the user's file:line
_watch = ContextVar("tapegrad_watch", default=_SOURCE_DEFAULT)        # anomaly or source: one read for both
_inference = ContextVar("tapegrad_inference", default=False)         # inference_mode(): tensors made are inference tensors

#: the hot path's readers: `grad_enabled()`, `watching()`
grad_enabled = _enabled.get
watching = _watch.get


class _State:
    """This thread's switches as attributes (`state.enabled = False`)."""
    __slots__ = ()
    enabled = property(lambda self: _enabled.get(), lambda self, v: _enabled.set(v))
    anomaly = property(lambda self: _anomaly.get())
    source = property(lambda self: _source.get())
    watch = property(lambda self: _watch.get())


state = _State()


def set_instrumentation(anomaly, source):
    """Set this thread's anomaly mode and source recording (and the flag `apply` reads)."""
    _anomaly.set(anomaly)
    _source.set(source)
    _watch.set(bool(anomaly or source))


def is_grad_enabled() -> bool:
    return _enabled.get()


class _GradModeContext:
    """Base for no_grad / enable_grad / set_grad_enabled: context manager and decorator."""
    _mode = True

    def __enter__(self):
        self._prev = _enabled.get()
        _enabled.set(self._mode and not _inference.get())    # inference mode records nothing, as torch
        return self

    def __exit__(self, *exc):
        _enabled.set(self._prev)
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
        self._prev = _enabled.get()
        _enabled.set(self._mode and not _inference.get())

    def __enter__(self):
        return self

    def __call__(self, fn):
        _enabled.set(self._prev)        # decorating must not change the mode now
        return super().__call__(fn)


# --- inference mode ---------------------------------------------------------------------------------
# Tensors made under inference_mode() are inference tensors: their version counter is an
# `InferenceVersion` (tensor.py), shared by their views and detached copies as any version counter
# is, so `is_inference()` is a type check and nothing is stored per tensor. Outside inference mode
# such a tensor may be read, but not saved for backward (graph.save) nor written in place (the
# counter refuses the bump), nor made to require grad: torch's rules.
_active = [0]          # inference_mode blocks open in any thread (tensor._wrap checks the context only then)


def is_inference_mode_enabled() -> bool:
    return _inference.get()


class inference_mode:
    """no_grad's stronger sibling (PyTorch's `torch.inference_mode`): nothing records, and tensors
    made inside are inference tensors. `mode=False` turns it off (grad recording back on), inside
    an outer block too. A context manager and a decorator, with or without parentheses."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):      # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        _t = sys.modules[__package__ + ".tensor"]        # `autograd.tensor` is the factory function
        self._prev = (_enabled.get(), _inference.get())
        _inference.set(self.mode)
        _enabled.set(not self.mode)
        _active[0] += 1
        _t._inference_active = True
        return self

    def __exit__(self, *exc):
        _t = sys.modules[__package__ + ".tensor"]
        _enabled.set(self._prev[0])
        _inference.set(self._prev[1])
        _active[0] -= 1
        _t._inference_active = _active[0] > 0
        return False

    def clone(self):
        return type(self)(self.mode)

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper
