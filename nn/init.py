"""Weight initialisation (PyTorch's `torch.nn.init`): fills tensors in place, under no_grad.

The random draws come from the tensor's backend generator (which `autograd.manual_seed` seeds), or
from `generator=` where one is given, so a seeded program builds the same model every time. The
bounds, gains, fan rules and algorithms (trunc_normal_'s rejection sampling, orthogonal_'s QR with
sign correction, sparse_'s per-column zeros) are PyTorch's, so the distributions (not the exact
draws) match torch's. Everything is vectorized: sparse_ picks each column's zeros with one argsort
over a random matrix, dirac_ writes its ones with one indexed assignment.
"""
from __future__ import annotations

import math
import warnings

import autograd as _ag
from autograd.grad_mode import no_grad
from autograd.tensor import _wrap

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
           "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "orthogonal", "sparse"]


def _gen(generator):
    # Tensor.uniform_/normal_ take generator= once autograd.Generator lands; pass it only when given
    return {} if generator is None else {"generator": generator}


def _no_grad_uniform_(tensor, a, b, generator=None):
    with no_grad():
        return tensor.uniform_(a, b, **_gen(generator))


def _no_grad_normal_(tensor, mean, std, generator=None):
    with no_grad():
        return tensor.normal_(mean, std, **_gen(generator))


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (torch's table; selu's 3/4 is torch's empirical value)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int) or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _no_grad_uniform_(tensor, a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _no_grad_normal_(tensor, mean, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) restricted to [a, b], by torch's rejection sampling: redraw the rejected
    entries (all at once) until none is left; for a narrow window, uniform proposals on [a, b]
    accepted with the normal density's ratio to its peak."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    g = _gen(generator)
    with no_grad():
        p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if p > 0.3:
            lo = _ag.tensor(a, dtype=tensor.dtype).item()
            hi = _ag.tensor(b, dtype=tensor.dtype).item()
            result = tensor.normal_(mean, std, **g)
            while True:
                mask = (result < lo) | (result > hi)
                if not bool(mask.any()):
                    break
                result = _ag.where(mask, _ag.empty_like(result).normal_(mean, std, **g), result)
            if result is not tensor:
                tensor.copy_(result)
        else:
            mode = max(a, min(mean, b))
            log_peak = -0.5 * ((mode - mean) / std) ** 2

            def log_ratio(x):
                return ((x - mean) / std) ** 2 * -0.5 - log_peak
            tensor.uniform_(a, b, **g)
            pending = _ag.empty_like(tensor).uniform_(**g).log() > log_ratio(tensor)
            result = tensor
            while bool(pending.any()):
                candidates = _ag.empty_like(tensor).uniform_(a, b, **g)
                result = _ag.where(pending, candidates, result)
                pending = pending & (_ag.empty_like(tensor).uniform_(**g).log() > log_ratio(candidates))
            if result is not tensor:
                tensor.copy_(result)
    return tensor


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        tensor.copy_(_ag.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))
    return tensor


def dirac_(tensor, groups=1):
    """The identity for a (grouped) convolution: weight[g*opg + d, d, centre...] = 1."""
    dims = tensor.ndimension()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    with no_grad():
        tensor.zero_()
        if min_dim > 0:
            d = _ag.arange(min_dim, device=tensor.device)
            outs = (_ag.arange(groups, device=tensor.device).reshape(-1, 1) * out_per_group + d).reshape(-1)
            ins = d.repeat(groups)
            tensor[(outs, ins) + tuple(s // 2 for s in sizes[2:])] = 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.size(1) * receptive, tensor.size(0) * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _no_grad_uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _no_grad_normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _no_grad_uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _no_grad_normal_(tensor, 0, std, generator)


def _qr(a):
    qr = getattr(_ag.linalg, "qr", None)
    if qr is not None:
        return qr(a)
    q, r = a._backend.xp.linalg.qr(a._data)       # reduced QR on the backend's arrays
    return _wrap(q, a._backend), _wrap(r, a._backend)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix from the QR of a Gaussian one, with R's diagonal signs folded
    into Q so that the result is Haar-distributed; higher dims are flattened after the first."""
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    with no_grad():
        flat = _ag.empty(rows, cols, dtype=tensor.dtype, device=tensor.device).normal_(0, 1, **_gen(generator))
        if rows < cols:
            flat = flat.t()
        q, r = _qr(flat)
        n = r.shape[0]
        d = (r * _ag.eye(n, r.shape[1], dtype=r.dtype, device=r.device)).sum(1)
        q = q * d.sign()
        if rows < cols:
            q = q.t()
        tensor.copy_(q.reshape(tensor.shape))
        tensor.mul_(gain)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Normal(0, std) entries with ceil(sparsity * rows) of each column's entries set to zero,
    chosen uniformly without replacement per column."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, **_gen(generator))
        if num_zeros > 0 and tensor.numel() > 0:
            keys = _ag.rand(rows, cols, device=tensor.device, generator=generator)
            xp = keys._backend.xp
            # rank of each key within its column: the num_zeros smallest keys are a uniform choice
            rank = _wrap(xp.argsort(xp.argsort(keys._data, axis=0), axis=0), keys._backend)
            tensor.copy_(_ag.where(rank < num_zeros, _ag.zeros_like(tensor), tensor))
    return tensor


def _make_deprecate(meth):
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return meth(*args, **kwargs)
    deprecated_init.__name__ = old_name
    deprecated_init.__doc__ = f"Deprecated alias of :func:`{new_name}`."
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
