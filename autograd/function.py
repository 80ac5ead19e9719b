"""Custom ops, as `torch.autograd.Function`: forward(ctx, ...) and backward(ctx, *grads).

A Function's node is its ctx: the same `Node` the built-in primitives record, with room for
whatever attributes the user's forward stores on it, recorded through the same pieces
(`graph.edges`, `graph.save`), so the engine, the ledger and the in-place checks see no difference.
"""
from __future__ import annotations

from .grad_mode import _enabled as _grad_enabled, grad_enabled, watching
from .graph import Node, Op, _seq, edges, save, user_source
from .tensor import Tensor, _wrap


class FunctionCtx(Node):
    """The `ctx` of a custom Function (a tape node that accepts attributes)."""
    materialize_grads = True      # undefined output gradients reach backward as zeros (torch's default)
    _to_save = _non_diff = _dirty = ()      # until forward says otherwise

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but argument "
                                f"{tensors.index(t)} is a {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        return self.unpack()

    def mark_non_differentiable(self, *outputs):
        """These outputs will not require grad; backward still gets a (zero) gradient for them."""
        self._non_diff = {id(o) for o in outputs}

    def set_materialize_grads(self, value):
        """With False, gradients of outputs that were not used reach backward as None, not zeros."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        """These inputs were modified in place by forward (and must be returned): they are
        returned as themselves, one version later, with this Function as their history."""
        self._dirty = {id(t) for t in tensors}


class _NoGrad:
    """What `edges` sees for a non-tensor argument of a Function: nothing that needs a gradient."""
    _rg = False


_NO_GRAD = _NoGrad()


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
        if kwargs:                  # as torch: an argument given by name is an input like the others
            import inspect
            bound = inspect.signature(cls.forward).bind(None, *args, **kwargs)
            args, kwargs = bound.args[1:], bound.kwargs
        ctx = FunctionCtx()
        ctx.op = cls._op()
        ctx.hooks = None
        ctx.params = ()
        ctx.source = None
        # edges first: forward may read ctx.needs_input_grad, and a dirty input's history changes
        ctx.next = edges([a if isinstance(a, Tensor) else _NO_GRAD for a in args])
        token = _grad_enabled.set(False)     # no_grad(), without its object and calls
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            _grad_enabled.reset(token)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        recording = grad_enabled() and any(e is not None for e in ctx.next)
        inputs = {id(a): a for a in args if isinstance(a, Tensor)}
        if ctx._dirty:
            _check_dirty(ctx, inputs, outs, recording)
        result = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                if id(o) in ctx._dirty:            # modified in place: the same object, one version on,
                    o._vc[0] += 1                  # and (when recorded) this Function as its history
                    if recording:
                        o.grad_fn, o._rg = None, False
                elif id(o) in inputs or o._rg or o.grad_fn is not None:
                    o = _wrap(o._data, o._backend)  # an input returned as is: a new tensor object
                    o._vc = outs[i]._vc
                if recording and id(outs[i]) not in ctx._non_diff and o.dtype.is_floating_point:
                    o._rg, o.grad_fn, o._idx = True, ctx, i
            result.append(o)
        if recording:
            ctx.seq = next(_seq)
            if watching():
                ctx.source = user_source()
            ctx.out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None)
                                 for o in result)
            to_save = ctx._to_save
            if to_save:
                # a saved output is saved as this node's output (its array, re-wrapped on use); an
                # input returned as is stays saved as the input, with its own history
                as_out = {id(o): r for o, r in zip(outs, result) if id(o) not in inputs or id(o) in ctx._dirty}
                to_save = [as_out.get(id(t), t) for t in to_save]
            save(ctx, range(len(to_save)), to_save)
        ctx._to_save = None
        return result[0] if single else tuple(result)


def _check_dirty(ctx, inputs, outs, recording):
    out_ids = {id(o) for o in outs}
    for k in ctx._dirty:
        t = inputs.get(k)
        if t is None:
            raise RuntimeError(f"{ctx.name}: mark_dirty() was given a tensor that is not an input of the "
                               f"Function; only inputs modified in place can be marked dirty")
        if k not in out_ids:
            raise RuntimeError(f"{ctx.name}: some elements marked as dirty during the forward method were not "
                               f"returned as output. The inputs that are modified in place must all be "
                               f"outputs of the Function.")
        if recording and t._rg and t.grad_fn is None:
            raise RuntimeError(f"{ctx.name}: a leaf Variable that requires grad (shape {tuple(t.shape)}) has "
                               f"been used in an in-place operation (mark_dirty).")


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
