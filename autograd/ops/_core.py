"""The dispatch every op goes through, and the argument handling the families share.

`apply(op, inputs, *params)` runs a primitive's forward on its inputs' arrays and records a node
when some input requires grad; `pair` and `result_dtype` are PyTorch's type promotion;
`norm_dim(s)` PyTorch's dim checks. Nothing here is an op itself.
"""
from __future__ import annotations

import builtins
import numbers

from backends import dtypes as _dt
from ..grad_mode import grad_enabled, state, watching
from ..graph import record, user_source
from ..tensor import Tensor, _wrap, _default_dtype

builtins_max, builtins_sum = builtins.max, builtins.sum


def apply(op, inputs, *params):
    """Run `op` on `inputs` (Tensors on one backend); record it if any input requires grad.

    This is the hot path of every op: one- and two-input calls avoid building lists."""
    n = len(inputs)
    if n == 2:
        a, b = inputs
        be = a._backend
        if b._backend is not be:
            device_error(op.name, inputs)
        args = (a._data, b._data)
        rg = a._rg or b._rg
    elif n == 1:
        a = inputs[0]
        be = a._backend
        args = (a._data,)
        rg = a._rg
    else:
        be = inputs[0]._backend
        for t in inputs:
            if t._backend is not be:
                device_error(op.name, inputs)
        args = tuple(t._data for t in inputs)
        rg = any(t._rg for t in inputs)
    try:
        out = op.forward(be, *args, *params)
    except (ValueError, TypeError, IndexError) as e:
        raise _op_error(op, inputs, e) from e
    if type(out) is not be.array_type:       # NumPy turns 0-d results into scalars
        out = be.asarray(out)
    if watching():                           # detect_anomaly() or record_source()
        return _watched(op, inputs, out, params, be, rg)
    if rg and grad_enabled():
        return record(op, inputs, out, params, be)
    res = _wrap(out, be)
    if op.view:                # a view shares its base's version counter, recorded or not
        res._vc = inputs[0]._vc
    return res


def _watched(op, inputs, out, params, be, rg):
    """apply's instrumented tail: check the output for NaN/Inf under anomaly mode, and note the
    user's file:line on the node (record itself stays free of both)."""
    if state.anomaly:
        from ..anomaly import check_forward
        check_forward(op.name, out, be)
    if rg and state.enabled:
        res = record(op, inputs, out, params, be)
        res.grad_fn.source = user_source()
        return res
    res = _wrap(out, be)
    if op.view:
        res._vc = inputs[0]._vc
    return res


def device_error(name, inputs):
    devs = ", ".join(str(t.device) for t in inputs)
    raise RuntimeError(f"{name}: expected all tensors on the same device, but found tensors on {devs}")


def _op_error(op, inputs, e):
    """The error to raise for a failure in `op`'s forward, chosen from the inputs (never from the
    backend's message text, which differs between libraries and versions)."""
    shapes = [tuple(t._data.shape) for t in inputs]
    if op.broadcast:
        from .shape import broadcast_shapes
        try:
            broadcast_shapes(*shapes)
        except RuntimeError:
            return RuntimeError(f"{op.name}: shapes {' and '.join(map(str, shapes))} are not broadcastable")
    desc = ", ".join(f"{s} {t.dtype.name}" for s, t in zip(shapes, inputs))
    return type(e)(f"{op.name}: invalid input ({desc}): {e}")


def is_scalar(x):
    return type(x) in (float, int, bool) or isinstance(x, numbers.Number)


def _scalar_dtype(x):
    if isinstance(x, bool):
        return _dt.bool_
    if isinstance(x, numbers.Integral):
        return _dt.int64
    if isinstance(x, numbers.Real):
        return _dt.float32  # stands for "a float scalar"; the default dtype where it decides
    raise TypeError(f"unsupported scalar type {type(x).__name__} (complex numbers are not supported)")


def as_tensor_like(x, ref: Tensor, name="op"):
    """x (Tensor, scalar, NumPy array) as a Tensor on ref's backend."""
    if isinstance(x, Tensor):
        return x
    be = ref._backend
    if type(x) is float or type(x) is int:   # the common case: a Python number with a float tensor
        dt = ref._data.dtype
        if be.dtype_from_native(dt).is_floating_point:
            return _wrap(be.asarray(x, dtype=dt), be)
    if is_scalar(x):
        sd = _scalar_dtype(x)
        rd = ref.dtype
        if sd.category > rd.category:
            dt = _default_dtype() if sd.is_floating_point else sd
        else:
            dt = rd
        if not isinstance(x, (float, int)):
            x = x.item()                      # a NumPy scalar
        return _wrap(be.asarray(x, dtype=be.native_dtype(dt)), be)
    from ..tensor import tensor
    try:
        return tensor(x, device=ref.device)
    except Exception as e:
        raise TypeError(f"{name}: unsupported operand of type {type(x).__name__}") from e


def result_dtype(*ts):
    """PyTorch's promotion: dimensioned tensors decide unless a 0-d tensor is of a higher category."""
    dims = [t.dtype for t in ts if t._data.ndim]
    zeros = [t.dtype for t in ts if not t._data.ndim]
    best = None
    for d in dims:
        best = d if best is None else _dt.promote_types(best, d)
    zbest = None
    for d in zeros:
        zbest = d if zbest is None else _dt.promote_types(zbest, d)
    if best is None:
        return zbest
    if zbest is not None and zbest.category > best.category:
        return zbest
    return best


def pair(a, b, name):
    """Two operands as Tensors on one backend with a common dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b, name)
    elif not isinstance(b, Tensor):
        b = as_tensor_like(b, a, name)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        dt = result_dtype(a, b)
        a, b = a.to(dt), b.to(dt)
    return a, b


def binary(op, a, b):
    a, b = pair(a, b, op.name)
    return apply(op, (a, b))


def norm_dim(dim, ndim, name, wrap_scalar=True):
    """`dim` in [0, ndim) from torch's range [-ndim, ndim). A 0-d tensor takes dims 0 and -1, as
    torch wraps it like a 1-d one, except with `wrap_scalar=False` (size(), stride()): none."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    if not ndim and not wrap_scalar:
        raise IndexError(f"{name}: Dimension specified as {dim} but tensor has no dimensions")
    n = builtins_max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim}) for a tensor with {ndim} dims")
    return dim % n


def norm_dims(dim, ndim, name):
    """A dim or sequence of dims, checked (0-d tensors too) and as a sorted tuple in [0, ndim);
    None means every dim."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        ds = tuple(norm_dim(d, ndim, name) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"{name}: dim {tuple(dim)} appears multiple times in the list of dims")
        return tuple(sorted(ds)) if ndim else ()
    d = norm_dim(dim, ndim, name)
    return (d,) if ndim else ()


def nondiff(x, f):
    """An op with no gradient (comparisons, predicates, integer results): computed on arrays,
    never recorded."""
    be = x._backend
    return _wrap(be.asarray(f(be, x._data)), be)


def zeros_like_scalar(t):
    return _wrap(t._backend.xp.zeros((), dtype=t._data.dtype), t._backend)


def floating(x):
    """x, or x cast to the default float dtype when it is integer or bool (torch's rule for
    ops like exp and softmax)."""
    return x if x.dtype.is_floating_point else x.to(_default_dtype())


def keep_shape(shape, axes):
    """shape with the reduced axes kept as size 1."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))
