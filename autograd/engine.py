"""Public entry points of the reverse walk: Tensor.backward and autograd.grad."""
from __future__ import annotations

from .graph import accumulate_grad, run_backward
from .tensor import Tensor, _wrap


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _root_grads(outputs, grad_outputs, create_graph):
    grads = []
    for i, o in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if o.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs (output {i} has "
                                   f"shape {tuple(o.shape)}); pass gradient= (or grad_outputs=) of that shape")
            be = o._backend
            g = _wrap(be.xp.ones(o._data.shape, dtype=o._data.dtype), be)
        elif not isinstance(g, Tensor):
            from .factories import tensor
            g = tensor(g, dtype=o.dtype, device=o.device)
        if tuple(g.shape) != tuple(o.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                               f"output[{i}] has a shape of {tuple(o.shape)}")
        if g.device != o.device:
            raise RuntimeError(f"grad_output[{i}] is on {g.device} but output[{i}] is on {o.device}")
        if not create_graph:
            g = g.detach()
        grads.append(g)
    return grads


def _check_outputs(outputs):
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(o).__name__} at position {i}")
        if not o._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into each leaf's .grad (or only `inputs`' .grad)."""
    if grad_tensors is None and inputs is None and type(tensors) is Tensor and tensors._rg \
            and tensors._data.size == 1 and tensors.grad_fn is not None:
        # `loss.backward()`: the root gradient is ones, made here without _root_grads' general checks
        be = tensors._backend
        d = tensors._data
        xp = be.xp
        # a 0-d loss's 1 made by asarray (a fresh array, as ones'; NumPy's ones is a Python function)
        one = xp.asarray(1, dtype=d.dtype) if not d.shape else xp.ones(d.shape, dtype=d.dtype)
        run_backward((tensors,), (_wrap(one, be),),
                     create_graph if retain_graph is None else retain_graph, create_graph)
        return
    outputs = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors)
    _check_outputs(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, grad_tensors, create_graph)
    if inputs is None:
        run_backward(outputs, roots, retain_graph, create_graph)
        return
    inputs = _as_list(inputs)
    grads = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs, allow_unused=True)
    handed = set()
    for t, g in zip(inputs, grads):
        if g is not None:
            accumulate_grad(t, g, create_graph, handed)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """Gradients of outputs with respect to inputs, returned (no .grad is touched)."""
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs)
    _check_outputs(outputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError(f"input {i} of autograd.grad does not require grad")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, grad_outputs, create_graph)
    res = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs, allow_unused=allow_unused)
    if materialize_grads:
        from .factories import zeros_like
        res = tuple(zeros_like(t) if g is None else g for t, g in zip(inputs, res))
    if not create_graph:
        res = tuple(None if g is None else g.detach() for g in res)
    return res
