"""Anomaly detection: the first op whose output or gradient holds NaN/Inf is named, with the
user source line where it was created."""
from __future__ import annotations

from . import graph as _graph
from .grad_mode import set_instrumentation, state


class detect_anomaly:
    """Context manager (and decorator): check every forward output and backward gradient for NaN
    and, unless `check_inf=False`, Inf; also every sum of gradient contributions into one tensor
    (inf + -inf = nan there escapes PyTorch's check). The error names the op, the direction and
    the user line that created the op."""

    def __init__(self, check_nan=True, check_inf=True):
        self.check_nan, self.check_inf = check_nan, check_inf

    def __enter__(self):
        self._prev = (state.anomaly, state.source)
        set_instrumentation(("nan+inf" if self.check_inf else "nan") if self.check_nan else False, True)
        return self

    def __exit__(self, *exc):
        set_instrumentation(*self._prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan, self.check_inf):
                return fn(*a, **k)
        return wrapper


def is_anomaly_enabled():
    return bool(state.anomaly)


def _bad(arr, be, mode):
    xp = be.xp
    kind = be.dtype_of(arr)
    if not kind.is_floating_point:
        return None
    if bool(xp.any(xp.isnan(arr))):
        return "nan"
    if mode == "nan+inf" and bool(xp.any(xp.isinf(arr))):
        return "inf"
    return None


def _where(node):
    return f"{node.source[0]}:{node.source[1]}" if node.source else "an unknown location"


def check_forward(name, out, be):
    what = _bad(out, be, state.anomaly)
    if what:
        f, line = _graph.user_source()
        raise RuntimeError(f"anomaly in forward: op '{name}' returned {what} values in its output "
                           f"(created at {f}:{line}).")


def check_backward(node, i, g, mode):
    what = _bad(g._data, g._backend, mode)
    if what:
        raise RuntimeError(f"anomaly in backward: the gradient rule of op '{node.name}' (created at "
                           f"{_where(node)}) returned {what} values for its input {i}.")


def check_summed(node, edge, total, mode):
    """After `node` added its contribution to the gradient flowing into `edge`."""
    what = _bad(total._data, total._backend, mode)
    if what:
        if type(edge) is tuple:
            src, k = edge
            dest = f"output {k} of op '{src.name}' (created at {_where(src)})"
        else:
            dest = f"a leaf tensor of shape {tuple(edge.shape)}"
        raise RuntimeError(f"anomaly in backward: {what} appeared when gradients were summed into {dest}: "
                           f"each contribution was clean, the sum is not (the last one came from op "
                           f"'{node.name}', created at {_where(node)}).")
