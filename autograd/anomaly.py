"""Anomaly detection: the first op whose output or gradient holds NaN/Inf is named, with the
user source line where it was created."""
from __future__ import annotations

from . import graph as _graph
from .grad_mode import state


class detect_anomaly:
    """Context manager (and decorator): check every forward output and backward gradient."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = (state.anomaly, _graph.RECORD_SOURCE)
        state.anomaly = self.check_nan
        _graph.RECORD_SOURCE = True
        return self

    def __exit__(self, *exc):
        state.anomaly, _graph.RECORD_SOURCE = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)
        return wrapper


def is_anomaly_enabled():
    return state.anomaly


def _bad(arr, be):
    xp = be.xp
    kind = be.dtype_of(arr)
    if not kind.is_floating_point:
        return None
    if bool(xp.any(xp.isnan(arr))):
        return "nan"
    if bool(xp.any(xp.isinf(arr))):
        return "inf"
    return None


def check_forward(name, out, be):
    what = _bad(out, be)
    if what:
        f, line = _graph.user_source()
        raise RuntimeError(f"Function '{name}' returned {what} values in its forward output "
                           f"(called at {f}:{line}).")


def check_backward(node, i, g, summed=False):
    what = _bad(g._data, g._backend)
    if what:
        src = f"{node.source[0]}:{node.source[1]}" if node.source else "unknown location"
        if summed:
            raise RuntimeError(f"{what} appeared when gradients were summed into input {i} of "
                               f"'{node.name}' (backward of '{node.name}', created at {src}): the "
                               f"contributions were finite or cancelled to {what}.")
        raise RuntimeError(f"Function '{node.name}Backward' returned {what} values in its {i}th output "
                           f"(backward direction). The op was created at {src}.")
