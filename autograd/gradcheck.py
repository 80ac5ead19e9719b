"""gradcheck / gradgradcheck: analytic gradients against central finite differences, in float64."""
from __future__ import annotations

import itertools

from backends import dtypes as _dt
from backends import host as _host

from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor, _wrap


class GradcheckError(RuntimeError):
    pass


def _prep(inputs):
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype is not _dt.float64:
                raise GradcheckError(f"gradcheck: input of dtype {x.dtype.name} requires grad; gradcheck "
                                     f"runs in float64 (use .double())")
        out.append(x)
    return tuple(out)


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _flat(t):
    return t._backend.to_numpy(t.detach()._data).reshape(-1).astype("float64")


def _with(inputs, i, arr):
    x = inputs[i]
    new = _wrap(x._backend.asarray(arr.reshape(x._data.shape)), x._backend)
    new = _wrap(x._backend.xp.astype(new._data, x._data.dtype), x._backend)
    return inputs[:i] + (new,) + inputs[i + 1:]


def _numerical(fn, inputs, i, eps, direction=None):
    """Columns d out / d inputs[i][k] (or along `direction`) by central differences."""
    x0 = _flat(inputs[i])
    cols = []
    ks = range(x0.size) if direction is None else [None]
    for k in ks:
        d = x0 * 0
        if k is None:
            d = direction
        else:
            d[k] = 1.0
        with no_grad():
            plus = _outputs(fn, _with(inputs, i, x0 + eps * d))
            minus = _outputs(fn, _with(inputs, i, x0 - eps * d))
        cols.append([(_flat(p) - _flat(m)) / (2 * eps) for p, m in zip(plus, minus)])
    return cols


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast_mode=False,
              nondet_tol=0.0, check_undefined_grad=True):
    """True when fn's analytic gradients match central finite differences for every input that
    requires grad; otherwise raise (or return False) naming the output, input, element and values."""
    np = _host  # gradcheck compares on the host (NumPy), whatever the backend
    inputs = _prep(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise GradcheckError("gradcheck: no input requires grad")
    outputs = _outputs(fn, inputs)
    if not outputs:
        raise GradcheckError("gradcheck: fn returned no floating tensor")
    rng = np.random.default_rng(0)
    for oi, out in enumerate(outputs):
        n_out = out.numel()
        if not out.requires_grad:
            # constant output: every numerical derivative must vanish
            for i in diff_idx:
                for k, col in enumerate(_numerical(fn, inputs, i, eps)):
                    if np.any(np.abs(col[oi]) > atol):
                        return _fail(f"gradcheck: output {oi} does not require grad but its numerical "
                                     f"derivative w.r.t. input {i} element {k} is nonzero", raise_exception)
            continue
        if fast_mode:
            v = rng.standard_normal(n_out)
            gv = _wrap(out._backend.asarray(v.reshape(out._data.shape)), out._backend).to(out.dtype)
            an = _grad(out, [inputs[i] for i in diff_idx], gv, retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, an):
                u = rng.standard_normal(inputs[i].numel())
                a_val = 0.0 if g is None else float(_flat(g) @ u)
                n_val = float(_numerical(fn, inputs, i, eps, direction=u)[0][oi] @ v)
                if not abs(a_val - n_val) <= atol + rtol * abs(n_val):
                    return _fail(f"gradcheck (fast mode) failed for output {oi}, input {i}: analytic v^T J u = "
                                 f"{a_val:.10g}, numerical = {n_val:.10g}", raise_exception)
            continue
        analytic = {i: np.zeros((n_out, inputs[i].numel())) for i in diff_idx}
        for j in range(n_out):
            e = np.zeros(n_out)
            e[j] = 1.0
            gj = _wrap(out._backend.asarray(e.reshape(out._data.shape)), out._backend).to(out.dtype)
            grads = _grad(out, [inputs[i] for i in diff_idx], gj, retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, grads):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(inputs[i].shape) or g.dtype is not inputs[i].dtype:
                    return _fail(f"gradcheck: gradient for input {i} has shape {tuple(g.shape)} and dtype "
                                 f"{g.dtype.name}; the input has {tuple(inputs[i].shape)} "
                                 f"{inputs[i].dtype.name}", raise_exception)
                analytic[i][j] = _flat(g)
        for i in diff_idx:
            cols = _numerical(fn, inputs, i, eps)
            shape = tuple(inputs[i].shape)
            for k, col in enumerate(cols):
                num = col[oi]
                ana = analytic[i][:, k]
                bad = np.abs(ana - num) > atol + rtol * np.abs(num)
                if np.any(bad) or not np.all(np.isfinite(ana) == np.isfinite(num)):
                    j = int(np.argmax(bad)) if np.any(bad) else int(np.argmax(~np.isfinite(ana)))
                    elem = next(itertools.islice(np.ndindex(*shape), k, None)) if shape else ()
                    return _fail(f"gradcheck: Jacobian mismatch for output {oi} (element {j}) with respect to "
                                 f"input {i}, element {elem}:\n  analytic:  {ana[j]:.10g}\n  numerical: "
                                 f"{num[j]:.10g}", raise_exception)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, fast_mode=False):
    """gradcheck of the first derivatives (computed with create_graph=True): second order."""
    np = _host
    inputs = _prep(inputs)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        from .factories import tensor
        grad_outputs = tuple(tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device,
                                    requires_grad=True) for o in outputs)
    grad_outputs = tuple(grad_outputs)
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first(*args):
        xs, gos = list(args[:n]), args[n:]
        for i in diff_idx:            # finite differences call this with plain (perturbed) tensors
            if not xs[i].requires_grad:
                xs[i] = xs[i].detach().requires_grad_()
        with enable_grad():
            outs = _outputs(fn, xs)
            if not any(o.requires_grad for o in outs):
                from .factories import zeros_like
                return tuple(zeros_like(xs[i]) for i in diff_idx)
            gs = _grad([o for o in outs if o.requires_grad], [xs[i] for i in diff_idx],
                       [g for o, g in zip(outs, gos) if o.requires_grad], create_graph=True, allow_unused=True)
        from .factories import zeros_like
        return tuple(zeros_like(xs[i]) if g is None else g for i, g in zip(diff_idx, gs))

    return gradcheck(first, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode)
