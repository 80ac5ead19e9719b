"""Ops declared `warns=False` run without apply's floating-point-quiet window: each must stay
silent on its own under `np.seterr(all="raise")` and warnings-as-errors, on inf, nan, the
largest finite value and (where the backend has it) float16, forward and backward."""
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.graph import Op
from autograd.ops import shape as _shape, index as _index, unary as _unary
from autograd import graph as _graph

_SILENT = {"reshape", "permute", "expand", "getitem", "masked", "relu", "depends_on"}


def test_the_silent_ops_are_exactly_these():
    ops = [v for m in (_shape, _index, _unary, _graph) for v in vars(m).values() if isinstance(v, Op)]
    assert {o.name for o in ops if not o.warns} == _SILENT
    assert _shape.Contiguous.warns and _unary.Clamp.warns        # everything else keeps the window


@pytest.mark.parametrize("dt", ["float16", "float32", "float64"])
def test_silent_ops_raise_no_floating_point_warning(dt):
    dtype = getattr(ag, dt)
    if dt == "float16" and not hasattr(ag.tensor([1.0])._backend.xp, "float16"):
        pytest.skip("backend has no float16")
    big = float(np.finfo(getattr(np, dt)).max)
    vals = [[big, -big, float("inf")], [float("-inf"), float("nan"), 0.0]]
    x = ag.tensor(vals, dtype=dtype, requires_grad=True)
    old = np.seterr(all="raise")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            outs = [x.reshape(3, 2), x.permute(1, 0), x[None].expand(2, 2, 3), x[0], x[[1, 0]], x.relu(),
                    _unary.masked(x, x._data == x._data)]
            for o in outs:
                o.backward(ag.full(o.shape, float("inf"), dtype=dtype), create_graph=True)
            y = x.relu()
            (gx,) = ag.grad(y.sum(), x, create_graph=True)
            (ggx,) = ag.grad(gx.sum(), x, allow_unused=True)   # through depends_on
    finally:
        np.seterr(**old)
    assert tuple(outs[0].shape) == (3, 2) and outs[0].dtype is dtype
    assert tuple(outs[5].shape) == (2, 3) and outs[5].dtype is dtype
    r = np.asarray(outs[5].tolist())
    assert r[0, 0] == big and r[0, 1] == 0 and r[0, 2] == np.inf and np.isnan(r[1, 1])
    assert ggx is None or not np.any(np.asarray(ggx.tolist()))
