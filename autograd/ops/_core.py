"""The dispatch every op goes through, and the argument handling the families share.

`apply(op, inputs, *params)` runs a primitive's forward on its inputs' arrays and records a node
when some input requires grad; `pair` and `result_dtype` are PyTorch's type promotion;
`norm_dim(s)` PyTorch's dim checks. Nothing here is an op itself.
"""
from __future__ import annotations

import builtins
import math
import numbers

from backends import dtypes as _dt
from ..grad_mode import grad_enabled, state, watching
from ..graph import record, user_source
from ..tensor import Tensor, _wrap, _default_dtype

builtins_max, builtins_sum = builtins.max, builtins.sum
#: autograd.compile's recorder while it traces a step (autograd/compile.py), else None
TRACER = None


def apply(op, inputs, *params):
    """Run `op` on `inputs` (Tensors on one backend); record it if any input requires grad.

    This is the hot path of every op: one- and two-input calls avoid building lists."""
    if TRACER is not None:                   # autograd.compile is tracing: it runs and records the op
        return TRACER.apply(op, inputs, params)
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
    elif n == 3:                             # linear with a bias, where, addcmul: no generators
        a, b, c = inputs
        be = a._backend
        if b._backend is not be or c._backend is not be:
            device_error(op.name, inputs)
        args = (a._data, b._data, c._data)
        rg = a._rg or b._rg or c._rg
    else:
        be = inputs[0]._backend
        for t in inputs:
            if t._backend is not be:
                device_error(op.name, inputs)
        args = tuple(t._data for t in inputs)
        rg = any(t._rg for t in inputs)
    if op.warns:
        quiet = be.enter_quiet()             # no NumPy warnings where torch is silent (item 32)
        try:
            out = op.forward(be, *args, *params)
        except (ValueError, TypeError, IndexError) as e:
            out = _forward_failed(op, be, args, params, inputs, e)
        finally:
            be.exit_quiet(quiet)
    else:                                    # views and selection: nothing to warn about
        try:
            out = op.forward(be, *args, *params)
        except (ValueError, TypeError, IndexError) as e:
            out = _forward_failed(op, be, args, params, inputs, e)
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


def _forward_failed(op, be, args, params, inputs, e):
    """The result of a forward that raised: bool arithmetic through uint8 where that applies,
    else the error to raise (chosen from the inputs)."""
    out = _bool_arith(op, be, args, params)
    if out is None:
        raise _op_error(op, inputs, e) from e
    return out


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


#: ops PyTorch defines on bool tensors (+ is or, * is and) that the array API leaves to integers
_BOOL_ARITH = frozenset(("add", "mul", "maximum", "minimum"))


def _bool_arith(op, be, args, params):
    """op on bool arrays through uint8, for a backend that refuses bool arithmetic (array_api_strict);
    None where that does not apply. Reached only after the backend refused, so costs nothing else."""
    if op.name not in _BOOL_ARITH:
        return None
    xp = be.xp
    b = be.native_dtype(_dt.bool_)
    if not all(a.dtype == b for a in args):
        return None
    u8 = be.native_dtype(_dt.uint8)
    return xp.astype(op.forward(be, *(xp.astype(a, u8) for a in args), *params), b)


def device_error(name, inputs):
    devs = ", ".join(str(t.device) for t in inputs)
    raise RuntimeError(f"{name}: expected all tensors on the same device, but found tensors on {devs}")


def _op_error(op, inputs, e):
    """The error to raise for a failure in `op`'s forward, chosen from the inputs (never from the
    backend's message text, which differs between libraries and versions)."""
    if op.name in ("sub", "neg") and any(t.dtype is _dt.bool_ for t in inputs):
        return bool_sub_error(op.name, inputs)
    shapes = [tuple(t._data.shape) for t in inputs]
    if op.broadcast:
        from .shape import broadcast_shapes
        try:
            broadcast_shapes(*shapes)
        except RuntimeError:
            return RuntimeError(f"{op.name}: shapes {' and '.join(map(str, shapes))} are not broadcastable")
    desc = ", ".join(f"{s} {t.dtype.name}" for s, t in zip(shapes, inputs))
    return type(e)(f"{op.name}: invalid input ({desc}): {e}")


def bool_sub_error(name, inputs):
    """PyTorch refuses - on bool tensors (NumPy refuses bool - bool only)."""
    if name == "neg":
        return RuntimeError("neg: Negation, the `-` operator, on a bool tensor is not supported. If you are "
                            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    shapes = " and ".join(f"{tuple(t.shape)} {t.dtype.name}" for t in inputs if isinstance(t, Tensor))
    if len(inputs) == 2 and all(t.dtype is _dt.bool_ for t in inputs):
        return RuntimeError(f"sub: Subtraction, the `-` operator, with two bool tensors is not supported "
                            f"({shapes}). Use the `^` or `logical_xor()` operator instead.")
    return RuntimeError(f"sub: Subtraction, the `-` operator, with a bool tensor is not supported ({shapes}). "
                        f"If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


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


_F32, _F64, _F16 = _dt.float32, _dt.float64, _dt.float16

#: ops PyTorch computes in float32 when a float16 tensor meets a Python scalar or a 0-d tensor
#: (its CPU kernels read the scalar's original value at float precision: `h * 1e-8` is not `h * 0`)
FLOAT32_SCALAR_OPS = frozenset(("mul", "div"))


class Float32Math(Exception):
    """Raised by `pair` for a float16 op PyTorch computes in float32 (see FLOAT32_SCALAR_OPS);
    the op's public function catches it and calls `in_float32`. An exception, not a check,
    keeps the float32 path free of it (try costs nothing in Python 3.11+)."""


def in_float32(fn, a, b):
    """fn(a, b) computed in float32 and rounded to float16 once, as PyTorch does."""
    a = a.to(_F32) if isinstance(a, Tensor) else a
    b = b.to(_F32) if isinstance(b, Tensor) else b
    return fn(a, b).to(_F16)


def wrap_int(x, dt, name):
    """A Python int as a value of integer dtype dt, wrapped around as PyTorch's C++ cast does
    (`uint8 + 300` adds 44)."""
    if not -(1 << 63) <= x < (1 << 63):
        raise OverflowError(f"{name}: Python int {x} is too big to convert to a tensor (int64 range)")
    return _dt.wrap_int(x, dt)


def checked_scalar(x, dt, name):
    """A Python number for a dtype-typed argument (clamp's bounds, fill_'s value, add's alpha), checked
    as torch's `checked_convert`: it must fit dt (an unsigned dtype also takes -max..-1, which wraps
    around; a float dtype takes inf and nan but no finite value beyond its range), else
    "value cannot be converted to type ... without overflow". Returns it wrapped for an integer dt."""
    if isinstance(x, bool) or dt is _dt.bool_:
        return x
    if isinstance(x, numbers.Integral):
        x = int(x)
        if not -(1 << 63) <= x < (1 << 64):
            raise OverflowError(f"{name}: Python int {x} is too big to convert (int64 range)")
        if dt.category == 1:
            ok = dt.min <= x <= dt.max if dt.is_signed else -dt.max <= x <= dt.max
        else:
            ok = dt.min <= x <= dt.max
    else:
        x = float(x)
        if dt.category == 1:
            ok = dt.min <= x <= dt.max          # False for nan and inf
        else:                                   # nan and inf fit any float dtype
            ok = not builtins.abs(x) > dt.max or math.isinf(x)
    if not ok:
        raise RuntimeError(f"{name}: value {x} cannot be converted to type {dt.name} without overflow")
    if dt.category == 1 and isinstance(x, int):
        return wrap_int(x, dt, name)
    return x


def as_tensor_like(x, ref: Tensor, name="op"):
    """x (Tensor, scalar, NumPy array) as a Tensor on ref's backend, of PyTorch's common dtype with
    ref for a scalar (the scalar is "wrapped": it only decides the dtype when of a higher category)."""
    if isinstance(x, Tensor):
        return x
    be = ref._backend
    if type(x) is float or type(x) is int:   # the common case: a Python number with a float tensor
        dt = ref._data.dtype
        d = be.dtype_from_native(dt)
        # a value float32 cannot hold goes the slow way (inf, quietly, as torch); nan fails the test too
        if d is _F64 and type(x) is float or d is _F32 and _F32.min <= x <= _F32.max:
            return _wrap(be.xp.asarray(x, dtype=dt), be)
    if is_scalar(x):
        sd = _scalar_dtype(x)
        rd = ref.dtype
        if rd is _dt.bool_ and name == "sub":
            raise bool_sub_error(name, (ref,))
        if sd.category > rd.category:
            dt = _default_dtype() if sd.is_floating_point else sd
        else:
            dt = rd
            if dt is _F16 and name in FLOAT32_SCALAR_OPS and not isinstance(x, bool):
                raise Float32Math
        if not isinstance(x, (float, int)):
            x = x.item()                      # a NumPy scalar
        if dt.category == 1 and not isinstance(x, bool):
            if not dt.min <= x <= dt.max:
                x = wrap_int(x, dt, name)
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
    """Two operands as Tensors on one backend with PyTorch's common dtype. Raises Float32Math
    where PyTorch computes a float16 result in float32 (FLOAT32_SCALAR_OPS)."""
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b, name)
    elif not isinstance(b, Tensor):
        b = as_tensor_like(b, a, name)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        if name == "sub" and (a.dtype is _dt.bool_ or b.dtype is _dt.bool_):
            raise bool_sub_error(name, (a, b))
        dt = result_dtype(a, b)
        if dt is _F16 and name in FLOAT32_SCALAR_OPS and not b._data.ndim:
            raise Float32Math                  # a 0-d tensor as second operand counts as a scalar
        a, b = a.to(dt), b.to(dt)
    return a, b


def binary(op, a, b):
    if type(a) is Tensor and type(b) is Tensor and a._data.dtype == b._data.dtype:
        return apply(op, (a, b))                 # nothing to promote: the hot path
    try:
        a, b = pair(a, b, op.name)
    except Float32Math:
        return in_float32(lambda x, y: binary(op, x, y), a, b)
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
    quiet = be.enter_quiet()
    try:
        return _wrap(be.asarray(f(be, x._data)), be)
    finally:
        be.exit_quiet(quiet)


#: (backend, native dtype) -> a 0-d zero of that dtype (see zero_scalar)
_ZERO = {}


def zero_scalar(be, dtype):
    """A 0-d zero array of backend dtype `dtype`, cached: an operand for hot forwards and rules
    (relu's maximum and its mask), never written to and never returned to a user."""
    z = _ZERO.get((be, dtype))
    if z is None:
        if len(_ZERO) > 64:
            _ZERO.clear()
        z = _ZERO[(be, dtype)] = be.xp.zeros((), dtype=dtype)
    return z


def zeros_like_scalar(t):
    return _wrap(t._backend.xp.zeros((), dtype=t._data.dtype), t._backend)


def floating(x):
    """x, or x cast to the default float dtype when it is integer or bool (torch's rule for
    ops like exp and softmax)."""
    return x if x.dtype.is_floating_point else x.to(_default_dtype())


def keep_shape(shape, axes):
    """shape with the reduced axes kept as size 1."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))
