"""`autograd.functional` (PyTorch's `torch.autograd.functional`): vjp, jvp, jacobian, hessian, hvp,
vhp, with torch's signatures, checks, error messages and output structures (a single Tensor
where the function takes or returns one, tuples where it takes or returns tuples).

Everything is reverse mode on the tape: jvp and hvp use the double-backward trick (the gradient
of a vjp with respect to its cotangent is the jvp), which works because every gradient rule is
written in differentiable ops. jacobian/hessian compute one vjp per output element, as torch's
non-vectorized path; `vectorize=True` is accepted and takes the same loop (there is no vmap here).
`strategy="forward-mode"` (with vectorize=True, as torch) builds the Jacobian column by column from
Jacobian-vector products, again by the double-backward trick, one backward per input element.
"""
from __future__ import annotations

from .engine import grad as _grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# --- helpers (torch's, with its messages) -------------------------------------------------------------

def _as_tuple(inp, arg_name, fn_name):
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = f"the value at index {i} has type {type(el)}" if is_tuple else \
                f"the given {arg_name} has type {type(el)}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where}.")
    return is_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Unpack one-element tuples where the user gave (or got) a single Tensor; to_unpack is a bool or
    (outer, inner) for the nested results of jacobian and hessian."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Inputs to differentiate with respect to: a view (keeping the user's graph) under create_graph,
    else a detached copy of the storage that requires grad when need_graph."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               f"allowed in strict mode.")
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is independent "
                                   f"of the input. This is not allowed in strict mode. You should ensure that your "
                                   f"function is thrice differentiable and that the hessian depends on the inputs.")
            if input_type == "jacobian":
                raise RuntimeError(f"While computing the hessian, found that the jacobian of the user-provided function "
                                   f"with respect to input {i} is independent of the input. This is not allowed in "
                                   f"strict mode. You should ensure that your function is twice differentiable and "
                                   f"that the jacobian depends on the inputs (this would be violated by a linear "
                                   f"function for example).")
            if input_type == "grad_inputs":
                raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                                   f"user-provided function. This is not allowed in strict mode.")
            raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The outputs "
                               f"must be computed in a differentiable manner from the input when running in strict "
                               f"mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for every input when none does)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], allow_unused=True,
                 create_graph=create_graph, retain_graph=retain_graph)


_STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
                         "This is not allowed in strict mode as it prevents from using the double backward trick to "
                         "replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    from .factories import zeros_like
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_NONE[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               f"allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _v_for(v, ref, is_ref_tuple, create_graph, fn_name, what):
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, ref, is_ref_tuple)
        return v
    if len(ref) != 1 or ref[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} a single Tensor with a single element.")
    return None


def _single_scalar_output(outputs, is_outputs_tuple, fn_name):
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")


def _call(func, inputs, create_graph, strict, name, v=None, v_of=None):
    """The common start of vjp / jvp / vhp / hvp / jacobian: inputs prepared, func called, and v checked
    against what it multiplies (v_of "outputs": after the call, as vjp; "inputs": before it)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v_of == "inputs":
        v = _v_for(v, inputs, is_inputs_tuple, create_graph, name, "input to the user-provided function is")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if v_of == "outputs":
        v = _v_for(v, outputs, is_outputs_tuple, create_graph, name, "user-provided function returns")
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs


def _scalar_gradient(outputs, is_outputs_tuple, inputs, strict, name):
    """vhp / hvp: the gradient of the single scalar output, recorded (it is differentiated again)."""
    _single_scalar_output(outputs, is_outputs_tuple, name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return jac


def _finish(outputs, is_outputs_tuple, last_grad, res_like, is_res_tuple, create_graph, strict, stage):
    """The common end: the last grad(of, wrt, v) (recorded only with create_graph), zeros filled in
    where it is None (shaped like `res_like`), outputs and result detached unless create_graph."""
    of, wrt, v = last_grad
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(of, wrt, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, res_like, strict, create_graph, stage)
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(res, is_res_tuple)


# --- public API -----------------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict, "vjp",
                                                                      v, "outputs")
    return _finish(outputs, is_outputs_tuple, (outputs, inputs, v), inputs, is_inputs_tuple, create_graph, strict,
                   "back")


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    from .factories import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict, "jvp",
                                                                      v, "inputs")
        # the vjp is linear in its cotangent u, so d(u^T J)/du applied to v is J v whatever u is:
        # zeros (never inf or nan) that require grad
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    return _finish(outputs, is_outputs_tuple, (grad_inputs, grad_outputs, v), outputs, is_outputs_tuple, create_graph,
                   strict, "back_trick")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for output i and input j, a tensor of shape
    outputs[i].shape + inputs[j].shape (nested tuples as torch: unpacked where single).
    Reverse mode: one vjp per output element (`vectorize=True` takes the same loop: there is no
    vmap); forward mode: one jvp per input element."""
    from .factories import zeros_like
    from .ops import stack
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has '
                         'more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to '
                         'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` '
                                      'are not supported together (yet). Please either set `create_graph=False` or '
                                      '`strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs, _, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict, "jacobian")
        if vectorize and strict:
            raise RuntimeError("autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
                               "together. Please either set `strict=False` or `vectorize=False`.")
        jac = []
        for i, out in enumerate(outputs):
            rows = tuple([] for _ in inputs)
            flat = out.reshape(-1)
            for j in range(out.nelement()):          # one backward per output element (torch's loop)
                vj = _autograd_grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
                for k, (row, g, inp) in enumerate(zip(rows, vj, inputs)):
                    if g is not None:
                        if strict and create_graph and not g.requires_grad:
                            raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                               f"{i}. This is not allowed in strict mode when create_graph=True.")
                        row.append(g)
                    else:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{k}. This is not allowed in strict mode.")
                        row.append(zeros_like(inp))
            jac.append(tuple(_stacked(row, tuple(out.shape) + tuple(inputs[k].shape), inputs[k], stack)
                             for k, row in enumerate(rows)))
        jac = _grad_postprocess(tuple(jac), create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacfwd(func, inputs, strict, vectorize):
    """The Jacobian column by column, each a Jacobian-vector product along one input element, all
    from one double-backward graph (forward mode by the trick jvp uses; torch's `forward-mode`)."""
    from .factories import eye, zeros_like
    from .ops import stack
    if strict:
        raise RuntimeError('autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
                           'supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.')
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                  "implemented for `vectorize=True`.")
    with enable_grad():
        inputs = _grad_preprocess(inputs, create_graph=False, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
    cols = [[[] for _ in inputs] for _ in outputs]
    for k, inp in enumerate(inputs):
        n = inp.nelement()
        basis = eye(n, dtype=inp.dtype, device=inp.device) if n else None
        for j in range(n):                        # one Jacobian-vector product per input element
            gs = (None,) * len(outputs)
            if grad_inputs[k] is not None and grad_inputs[k].requires_grad:
                gs = _autograd_grad((grad_inputs[k],), grad_outputs, (basis[j].reshape(inp.shape),),
                                    retain_graph=True)
            for i, out in enumerate(outputs):
                cols[i][k].append(gs[i] if gs[i] is not None else zeros_like(out))
    jac = tuple(tuple(_columns(cols[i][k], tuple(out.shape), inputs[k], stack) for k in range(len(inputs)))
                for i, out in enumerate(outputs))
    jac = _tuple_postprocess(_grad_postprocess(jac, False), (is_outputs_tuple, is_inputs_tuple))
    return _lists(jac) if is_inputs_tuple else jac     # torch's vmap path returns lists for tuple inputs


def _lists(x):
    return [_lists(e) for e in x] if isinstance(x, tuple) else x


def _columns(cols, out_shape, inp, stack):
    shape = out_shape + tuple(inp.shape)
    if not cols:
        from .factories import zeros
        return zeros(shape, dtype=inp.dtype, device=inp.device)
    return stack(cols, -1).reshape(shape)


def _stacked(row, shape, inp, stack):
    if not row:                                     # an output with no elements
        from .factories import zeros
        return zeros(shape, dtype=inp.dtype, device=inp.device)
    return stack(row, 0).view(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: for inputs i and j, a tensor of shape
    inputs[i].shape + inputs[j].shape (the Jacobian of the gradient)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)     # else _grad_preprocess would detach them
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict, "vhp",
                                                                      v, "inputs")
        jac = _scalar_gradient(outputs, is_outputs_tuple, inputs, strict, "vhp")
    return _finish(outputs, is_outputs_tuple, (jac, inputs, v), inputs, is_inputs_tuple, create_graph, strict,
                   "double_back")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function, by the double-backward trick."""
    from .factories import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _call(func, inputs, create_graph, strict, "hvp",
                                                                      v, "inputs")
        jac = _scalar_gradient(outputs, is_outputs_tuple, inputs, strict, "hvp")
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    return _finish(outputs, is_outputs_tuple, (double_back, grad_jac, v), inputs, is_inputs_tuple, create_graph, strict,
                   "double_back_trick")
