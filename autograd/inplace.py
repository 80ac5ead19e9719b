"""In-place ops and the version counters that keep them honest.

Every tensor carries a version counter, shared with its views; each in-place write bumps it.
A node records the versions of what it saved, and unpacking during backward compares them,
so a tensor modified after it was saved is caught and named instead of giving a silently
wrong gradient. When the write itself must be recorded (the tensor, or the value written,
requires grad), the op runs out of place on a copy of the old value, the result is written
back into the same storage, and the tensor takes the new node as its history.

A write into a view (see `ops.index.as_view`) changes its base too. When it is recorded, the base
takes a `CopySlices` node as its history (the old base with the view's region replaced by the
result: PyTorch's rebase) and every live view of the storage re-derives its history from its base,
so reading any of them afterwards differentiates through the write. As in PyTorch, this is refused
for views of a leaf that requires grad, views made in no_grad mode, and outputs of ops that return
several views (unbind, split, chunk).
"""
from __future__ import annotations

from backends import dtypes as _dt

from .grad_mode import grad_enabled, no_grad
from . import graph as _graph
from .graph import record
from . import ops
from .ops.index import CopySlices, live_views, replay, view_info
from .tensor import Tensor, _wrap


def _check_leaf(self, name):
    if self._rg and self.grad_fn is None and grad_enabled():
        raise RuntimeError(f"{name}: a leaf Variable that requires grad (shape {tuple(self.shape)}) is being "
                           f"used in an in-place operation. Wrap it in `with autograd.no_grad():` "
                           f"(as optimizers do) or operate on a clone.")


def _check_view(self, view, name):
    """PyTorch's refusals for a recorded write into a view."""
    desc = f"(shape {tuple(self.shape)}, a view of a tensor of shape {tuple(view.base.shape)})"
    if view.multi is not None:
        op, i = view.multi
        raise RuntimeError(f"{name}: Output {i} of {op} is a view and is being modified inplace. This view is the "
                           f"output of a function that returns multiple views. Such functions do not allow the "
                           f"output views to be modified inplace. You should replace the inplace operation by an "
                           f"out-of-place one {desc}.")
    if view.no_grad:
        raise RuntimeError(f"{name}: A view was created in no_grad mode and is being modified inplace with grad "
                           f"mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
                           f"You can clarify your code by moving both the view and the inplace either both inside "
                           f"the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
                           f"you want the inplace to be tracked) {desc}.")
    if view.base._rg and view.base.grad_fn is None:
        raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                           f"operation {desc}. Wrap it in `with autograd.no_grad():` or operate on a clone.")


def _check_overlap(self, view, name):
    """A write into an expanded view would write one element several times (PyTorch refuses)."""
    if view is not None and any(op is ops.Expand for op, _ in view.steps):
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor refers "
                           f"to a single memory location (shape {tuple(self.shape)}, an expanded view). Please "
                           f"clone() the tensor before performing the operation.")


def _recording(self, others):
    if not grad_enabled():
        return False
    if self._rg or any(isinstance(o, Tensor) and o._rg for o in others):
        return True
    view = view_info(self)          # a view made without grad of a base that requires it
    return view is not None and view.base._rg


def _result(self, res, name):
    """res checked against self's shape and cast to self's dtype (within a category), as written."""
    if tuple(res.shape) != tuple(self.shape):
        raise RuntimeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                           f"shape {tuple(res.shape)}")
    if res.dtype is not self.dtype:
        if res.dtype.category > self.dtype.category:
            raise RuntimeError(f"{name}: result type {res.dtype.name} can't be cast to the desired output "
                               f"type {self.dtype.name}")
        res = res.to(self.dtype)
    return res


def _write(self, res, name):
    """Write tensor `res` into self's storage (same shape; cast within a category)."""
    res = _result(self, res, name)
    _check_overlap(self, view_info(self), name)
    self._data[...] = res._data
    self._vc[0] += 1
    if _graph.TRACER is not None:            # autograd.compile is tracing: it records the write
        _graph.TRACER.write(self, res._data)


def apply_(self, fn, name, *others):
    """self <- fn(self), recorded when needed."""
    _check_leaf(self, name)
    if not _recording(self, others):
        with no_grad():
            res = fn(self)
        _write(self, res, name)
        return self
    view = view_info(self)
    if view is not None:
        return _apply_to_view(self, view, fn, name)
    be = self._backend
    old = _wrap(be.asarray(self._data, copy=True), be, self._rg, self.grad_fn, self._idx)
    res = _result(self, fn(old), name)
    with no_grad():
        _write(self, res, name)
    self.grad_fn, self._idx, self._rg = res.grad_fn, res._idx, res._rg
    _rederive_views(self._vc)
    return self


def _apply_to_view(self, view, fn, name):
    """A recorded write into a view: the base takes CopySlices as its history (PyTorch's rebase)."""
    _check_view(self, view, name)
    _check_overlap(self, view, name)
    base, be = view.base, self._backend
    cur = replay(base, view.steps) if base._rg else self      # the view's history as of now
    old = _wrap(be.asarray(self._data, copy=True), be, cur._rg, cur.grad_fn, cur._idx)
    res = _result(self, fn(old), name)
    with no_grad():
        _write(self, res, name)
    new = record(CopySlices, (base, res), base._data, (view.steps,), be)
    base.grad_fn, base._idx, base._rg = new.grad_fn, 0, True
    _rederive_views(self._vc)
    return self


def _rederive_views(vc):
    """After a recorded write, every live view of the storage whose base has history re-derives its
    own from that base (PyTorch regenerates a view's grad_fn when its base's version moved on)."""
    for w in live_views(vc):
        v = w._view
        b = v.base
        if b.grad_fn is not None and not v.no_grad:
            nv = replay(b, v.steps)
            w.grad_fn, w._idx, w._rg = nv.grad_fn, nv._idx, True


_FAST = {"add": "__iadd__", "sub": "__isub__", "mul": "__imul__", "div": "__itruediv__"}
_FAST_DTYPES = (_dt.float32, _dt.float64)
_FAST_NATIVES = {}


def _fast_natives(be):
    """The backend's native float32/float64 dtypes (cached: self.dtype builds a DType each call)."""
    n = _FAST_NATIVES.get(be)
    if n is None:
        n = _FAST_NATIVES[be] = tuple(be.native_dtype(d) for d in _FAST_DTYPES)
    return n


def binary_(self, o, kind, alpha=1, rounding_mode=None):
    """self <- self (kind) o, as torch's in-place method: the out-of-place op's value (torch's
    promotion, float16 scalars in float32, small ints wrapped, alpha's rules, integer true division
    refused), cast back to self's dtype within its category."""
    if rounding_mode is None and not grad_enabled():
        if _fast(self, o, alpha):
            return _fast_binary_(self, o, kind, alpha)            # the optimizer's path, first
    name = kind + "_"
    if isinstance(o, Tensor) and o._backend is not self._backend:
        raise RuntimeError(f"{name}: expected all tensors on the same device, but found {self.device} "
                           f"and {o.device}")
    if rounding_mode is not None or not _fast(self, o, alpha) or _recording(self, (o,)):
        f = getattr(ops, kind)
        if kind in ("add", "sub"):
            return apply_(self, lambda t: f(t, o, alpha=alpha), name, o)
        if rounding_mode is not None:
            return apply_(self, lambda t: f(t, o, rounding_mode=rounding_mode), name, o)
        return apply_(self, lambda t: f(t, o), name, o)
    _check_leaf(self, name)
    return _fast_binary_(self, o, kind, alpha)


def _fast_binary_(self, o, kind, alpha):
    """The optimizer's path (float32/float64 with a same-dtype tensor or a Python number, nothing
    recorded): a true in-place array op, no temporary for the result; the general path's value."""
    name = kind + "_"
    be = self._backend
    od = o._data if isinstance(o, Tensor) else o
    quiet = be.enter_quiet()
    try:
        if alpha != 1:
            od = od * alpha
        arr = getattr(self._data, _FAST[kind])(od)
    except (ValueError, TypeError) as e:
        _check_overlap(self, view_info(self), name)
        raise RuntimeError(f"{name}: cannot apply to shapes {tuple(self.shape)} and "
                           f"{tuple(getattr(od, 'shape', ()))}: {e}") from None
    finally:
        be.exit_quiet(quiet)
    if arr is NotImplemented or arr.shape != self._data.shape:
        raise RuntimeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the broadcast shape")
    if _graph.TRACER is not None:            # autograd.compile is tracing: it records the update
        _graph.TRACER.fast_inplace(self, o, _FAST[kind], alpha, arr)
    self._data = arr            # the same array object for NumPy/CuPy; rebinding keeps strict backends right
    self._vc[0] += 1
    return self


def _fast(self, o, alpha):
    """Whether the array operator gives torch's value exactly: a float32/float64 tensor with a
    Python number or a tensor of its own dtype and backend, a Python number for alpha."""
    if type(alpha) is not int and type(alpha) is not float or self._data.dtype not in _fast_natives(self._backend):
        return False
    if isinstance(o, Tensor):
        return o._backend is self._backend and o._data.dtype == self._data.dtype
    return type(o) is float or type(o) is int


def fill_(self, value):
    if isinstance(value, Tensor) and value.numel() != 1:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions")
    if not isinstance(value, Tensor):
        value = ops.checked_scalar(value, self.dtype, "fill_")    # torch's overflow check, ints wrapped
        dt = self.dtype                         # as a Python value of self's kind (strict arrays take no other)
        value = bool(value) if dt is _dt.bool_ else int(value) if dt.category == 1 else float(value)
    if not _recording(self, (value,)):
        _check_leaf(self, "fill_")
        _check_overlap(self, view_info(self), "fill_")
        be = self._backend
        quiet = be.enter_quiet()                # a tensor value is cast as it is (1e6 to float16 is inf)
        try:
            v = be.xp.astype(value._data, self._data.dtype) if isinstance(value, Tensor) else value
            self._data[...] = v
        finally:
            be.exit_quiet(quiet)
        self._vc[0] += 1
        if _graph.TRACER is not None:
            _graph.TRACER.write(self, v)
        return self
    return apply_(self, lambda t: ops.where(_true_like(t), value, t), "fill_", value)


def copy_(self, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor, got {type(src).__name__}")
    if src._backend is not self._backend:
        src = src.to(self.device)
    if not _recording(self, (src,)):
        _check_leaf(self, "copy_")
        sd = src._data
        try:
            b = self._backend.xp.broadcast_to(sd, self._data.shape)
        except ValueError:
            raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast to "
                               f"{tuple(self.shape)}") from None
        _check_overlap(self, view_info(self), "copy_")
        quiet = self._backend.enter_quiet()     # casts overflow to inf and nan to int silently, as torch
        try:
            self._data[...] = v = self._backend.xp.astype(b, self._data.dtype)
        finally:
            self._backend.exit_quiet(quiet)
        self._vc[0] += 1
        if _graph.TRACER is not None:
            _graph.TRACER.write(self, v)
        return self
    return apply_(self, lambda t: ops.where(_true_like(t), src.to(t.dtype), t), "copy_", src)


def setitem(self, index, value):
    if not _recording(self, (value,)):
        _check_leaf(self, "setitem")
        idx, _ = ops.convert_index(self, index)
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and value._backend is not self._backend:
            raise RuntimeError(f"setitem: expected the value on {self.device}, got {value.device}")
        try:
            self._backend.setitem(self._data, idx, v)
        except (ValueError, IndexError, TypeError) as e:
            raise type(e)(f"setitem: cannot assign a value of shape {tuple(getattr(v, 'shape', ()))} to index "
                          f"{index!r} of a tensor of shape {tuple(self.shape)}: {e}") from None
        self._vc[0] += 1
        return
    apply_(self, lambda t: ops.index.index_put(t, index, value), "setitem", value)


def _true_like(t):
    return _wrap(t._backend.xp.ones(t._data.shape, dtype=t._backend.native_dtype(_dt.bool_)), t._backend)
