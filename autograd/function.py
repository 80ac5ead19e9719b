"""Custom ops, as `torch.autograd.Function`: forward(ctx, ...) and backward(ctx, *grads).

A Function's node is its ctx: the same `Node` the built-in primitives record, with room for
whatever attributes the user's forward stores on it.
"""
from __future__ import annotations

from .grad_mode import no_grad, state
from .graph import Node, Op, _seq, user_source
from . import graph as _graph
from .tensor import Tensor, _wrap


class FunctionCtx(Node):
    """The `ctx` of a custom Function (a tape node that accepts attributes)."""

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        return self.unpack()

    def mark_non_differentiable(self, *outputs):
        self._non_diff = {id(o) for o in outputs}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        pass

    @property
    def needs_input_grad(self):
        return tuple(e is not None for e in self.next)


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)`; call `.apply`.

    backward returns one gradient per forward argument (None for non-tensors or where not needed).
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def _op(cls):
        op = cls.__dict__.get("_op_cache")
        if op is None:
            op = Op(cls.__name__, cls.forward, lambda ctx, *g: cls.backward(ctx, *g))
            cls._op_cache = op
        return op

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.op = cls._op()
        ctx.hooks = None
        ctx.params = ()
        ctx._to_save = ()
        ctx._non_diff = set()
        ctx.next = tuple(((a.grad_fn, a._idx) if a.grad_fn is not None else a) if isinstance(a, Tensor) and a._rg
                         else None for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        record = state.enabled and any(e is not None for e in ctx.next)
        inputs_by_id = {id(a): a for a in args if isinstance(a, Tensor)}
        result = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                if id(o) in inputs_by_id:         # an input returned as is: a new tensor object
                    o = _wrap(o._data, o._backend)
                elif o._rg or o.grad_fn is not None:
                    o = _wrap(o._data, o._backend)
                if record and id(outs[i]) not in ctx._non_diff and o.dtype.is_floating_point:
                    o._rg, o.grad_fn, o._idx = True, ctx, i
            result.append(o)
        if record:
            ctx.seq = next(_seq)
            ctx.source = user_source() if _graph.RECORD_SOURCE else None
            ctx.out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None)
                                 for o in result)
            saved, vers = [], []
            out_pos = {id(o): j for j, o in enumerate(outs) if isinstance(o, Tensor)}
            for t in ctx._to_save:
                if t is None:
                    saved.append(None)
                    vers.append(0)
                elif id(t) in out_pos and id(t) not in inputs_by_id:
                    r = result[out_pos[id(t)]]
                    saved.append((r._data, r._vc, r._backend, out_pos[id(t)]))
                    vers.append(r._vc[0])
                else:
                    saved.append(t)
                    vers.append(t._vc[0])
            ctx.saved, ctx.versions = tuple(saved), tuple(vers)
            ctx._to_save = None
            if _graph.PROFILER is not None:
                _graph.PROFILER.saved(ctx)
        return result[0] if single else tuple(result)


class _ToBackend(Function):
    """Copy a tensor to another backend (device); the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, be):
        ctx.src = x._backend
        return _wrap(be.asarray(x._backend.to_numpy(x._data)), be)

    @staticmethod
    def backward(ctx, g):
        return _ToBackend.apply(g, ctx.src), None


def move_to_backend(x, be):
    return _ToBackend.apply(x, be)
