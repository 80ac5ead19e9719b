"""Activation checkpointing: keep a segment's inputs, not its intermediates; recompute in backward.

`checkpoint(fn, *args)` runs fn once with recording on, only to learn which leaves requiring
grad (parameters, closed-over tensors) the segment reads, then drops that graph and returns
detached outputs under one `Checkpoint` node whose inputs are the args and those leaves. That
node saves the tensor args only. Its backward replays fn with the generators' state of the
first run (dropout draws the same mask), and differentiates the replay with `autograd.grad`
with respect to the args and the leaves, so parameter gradients reach the outer backward
through the tape as usual: leaf hooks fire once, `autograd.grad` works, nothing is written to
`.grad` behind the engine's back (PyTorch's reentrant checkpoint does that).
The cost: one segment's graph exists briefly during forward, as it does again during backward.
"""
from __future__ import annotations

from .function import Function
from .grad_mode import enable_grad, state
from .tensor import Tensor


def _rng_states():
    import backends
    out = []
    for be in list(backends._registry.values()):
        try:
            out.append((be, be.get_rng_state()))
        except NotImplementedError:
            pass
    return out


def _set_rng_states(states):
    for be, s in states:
        be.set_rng_state(s)


def _detached(args):
    out = []
    for a in args:
        if isinstance(a, Tensor):
            d = a.detach()
            d._rg = a._rg
            out.append(d)
        else:
            out.append(a)
    return out


def _leaves_read(outputs, exclude):
    """Leaf tensors requiring grad that the graph behind outputs reads, in first-use order."""
    from .ledger import graph_nodes
    skip = {id(t) for t in exclude}
    found = {}
    for n in graph_nodes(outputs):
        for e in n.next:
            if e is not None and type(e) is not tuple and id(e) not in skip:
                found.setdefault(id(e), e)
    return list(found.values())


class Checkpoint(Function):
    @staticmethod
    def forward(ctx, fn, plan, *inputs):
        n = plan["n_args"]
        ctx.fn, ctx.kwargs, ctx.rng, ctx.n_args = fn, plan["kwargs"], plan["rng"], n
        ctx.arg_pos = [i for i, a in enumerate(inputs[:n]) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in inputs[:n]]
        ctx.leaves = inputs[n:]
        ctx.save_for_backward(*[inputs[i] for i in ctx.arg_pos])
        return plan["outputs"]

    @staticmethod
    def backward(ctx, *grads):
        from .engine import grad
        create_graph = state.enabled              # the engine runs rules in create_graph's mode
        saved = ctx.saved_tensors                 # checks the args were not modified in place since
        args = list(ctx.others)
        for i, t in zip(ctx.arg_pos, _detached(saved)):
            args[i] = t
        now = _rng_states() if ctx.rng is not None else None
        try:
            if ctx.rng is not None:
                _set_rng_states(ctx.rng)
            with enable_grad():
                outs = ctx.fn(*args, **ctx.kwargs)
        finally:
            if now is not None:
                _set_rng_states(now)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o._rg and g is not None]
        wrt = [args[i] for i in ctx.arg_pos if args[i]._rg] + list(ctx.leaves)
        res = {}
        if pairs and wrt:
            # the leaves' own hooks run once, in the outer backward: keep them out of this inner one
            hooks = [(t, t._hooks) for t in ctx.leaves]
            for t, _ in hooks:
                t._hooks = None
            try:
                gs = grad([o for o, _ in pairs], wrt, [g for _, g in pairs], create_graph=create_graph,
                          allow_unused=True)
            finally:
                for t, h in hooks:
                    t._hooks = h
            res = {id(t): g for t, g in zip(wrt, gs)}
        arg_grads = [None] * ctx.n_args
        for i in ctx.arg_pos:
            arg_grads[i] = res.get(id(args[i]))
        return (None, None, *arg_grads, *[res.get(id(t)) for t in ctx.leaves])


def checkpoint(function, *args, preserve_rng_state=True, use_reentrant=None, **kwargs):
    """fn(*args, **kwargs), saving for backward only the tensor args (PyTorch's
    `torch.utils.checkpoint.checkpoint`; `use_reentrant` is accepted and ignored: there is one
    implementation, through the tape)."""
    if not state.enabled:
        return function(*args, **kwargs)
    rng = _rng_states() if preserve_rng_state else None
    detached = _detached(args)
    with enable_grad():
        outs = function(*detached, **kwargs)
    single = not isinstance(outs, tuple)
    outs_t = (outs,) if single else outs
    if not all(isinstance(o, Tensor) for o in outs_t):
        raise TypeError("checkpoint: the function must return a Tensor or a tuple of Tensors")
    leaves = _leaves_read(outs_t, [d for d in detached if isinstance(d, Tensor)])
    outputs = tuple(o.detach() for o in outs_t)
    del outs, outs_t                              # the first run's graph goes here
    plan = {"n_args": len(args), "kwargs": kwargs, "rng": rng, "outputs": outputs[0] if single else outputs}
    return Checkpoint.apply(function, plan, *args, *leaves)
