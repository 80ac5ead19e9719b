"""nn.functional activations beyond the engine's own (relu, gelu, silu, ... live in autograd.ops):
relu6, hardtanh, hardswish, hardsigmoid, hardshrink, softshrink, tanhshrink, softsign, selu, celu,
threshold, glu, softmin, prelu, rrelu, and `inplace=` honoured on every activation that has it.

At a nan input every piecewise activation gives nan and no gradient (torch 2.13's float64 kernels; its
float32/float16 ones pass the gradient through: see the README porting guide). Each is a composite of differentiable ops whose gradient is torch's at the kinks: a piecewise
function is a `where` over the pieces, so the derivative at a boundary is the one of the piece torch's
backward kernel picks (e.g. hardtanh passes no gradient at min_val/max_val, hardswish's is
(2x + 3) / 6 at x = -3 and 3). `inplace=True` writes the result into the input with `copy_`
(recorded, so version counters and the leaf check behave as torch's in-place activations).
"""
from __future__ import annotations

import autograd as _ag
from autograd import ops as _ops
from autograd.tensor import Tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh", "hardswish",
           "hardsigmoid", "hardshrink", "softshrink", "tanhshrink", "softsign", "threshold", "glu", "softmin",
           "prelu", "rrelu", "logsigmoid"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype.name}")


def _inplace(fn, input, *args):
    """fn(input, *args) written into input: computed on a recorded clone, so the values fn's gradient
    needs are not the ones copy_ overwrites (torch's in-place kernels save their output instead)."""
    return input.copy_(fn(input.clone(), *args))


def _zero(input):
    return _ag.zeros((), dtype=input.dtype, device=input.device)


def relu(input, inplace=False):
    return input.relu_() if inplace else _ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _inplace(lambda t: leaky_relu(t, negative_slope), input)
    return _ops.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return _inplace(lambda t: elu(t, alpha), input)
    return _ops.elu(input, alpha)


def silu(input, inplace=False):
    if inplace:
        return _inplace(silu, input)
    return _ops.silu(input)


def mish(input, inplace=False):
    if inplace:
        return _inplace(mish, input)
    return _ops.mish(input)


def selu(input, inplace=False):
    if inplace:
        return _inplace(selu, input)
    _check(input, "selu")
    return _ops.elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0, inplace=False):
    if inplace:
        return _inplace(lambda t: celu(t, alpha), input)
    _check(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError (alpha must not be 0)")
    return _ops.elu(input / alpha, 1.0) * alpha if alpha != 1.0 else _ops.elu(input, 1.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if inplace:
        return _inplace(lambda t: hardtanh(t, min_val, max_val), input)
    _check(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    inside = (input > min_val) & (input < max_val)
    return _ag.where(inside, input, input.detach().clamp(min_val, max_val))


def relu6(input, inplace=False):
    if inplace:
        return _inplace(relu6, input)
    _check(input, "relu6")
    inside = (input > 0) & (input < 6)
    return _ag.where(inside, input, input.detach().clamp(0.0, 6.0))


def hardswish(input, inplace=False):
    if inplace:
        return _inplace(hardswish, input)
    _check(input, "hardswish")
    # torch's pieces, nan taking the last one: 0 below -3 (x * 0, so -inf gives nan as torch), x(x+3)/6 up to 3, x
    # the middle piece sees 0 outside [-3, 3], so its gradient is never 0 * inf there
    xs = _ag.where((input >= -3) & (input <= 3), input, _zero(input))
    y = _ag.where(input < -3, input * 0, _ag.where(input <= 3, xs * (xs + 3) / 6, input))
    return y


def hardsigmoid(input, inplace=False):
    if inplace:
        return _inplace(hardsigmoid, input)
    _check(input, "hardsigmoid")
    inside = (input > -3) & (input < 3)
    flat = _ag.where(input <= -3, _zero(input), _ag.where(input >= 3, _zero(input) + 1, input.detach()))
    return _ag.where(inside, (input + 3) / 6, flat)      # (x + 3) / 6: torch's rounding


def hardshrink(input, lambd=0.5):
    _check(input, "hardshrink")
    keep = (input > lambd) | (input < -lambd)
    return _ag.where(keep, input, _ag.where(input == input, _zero(input), input.detach()))   # nan: nan, no grad


def softshrink(input, lambd=0.5):
    _check(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    inside = (input >= -lambd) & (input <= lambd)
    out = _ag.where(input > lambd, input - lambd, _ag.where(input < -lambd, input + lambd, input.detach()))
    return _ag.where(inside, _zero(input), out)                 # nan: nan, no gradient (torch's float64)


def tanhshrink(input):
    _check(input, "tanhshrink")
    return input - input.tanh()


def softsign(input):
    _check(input, "softsign")
    return input / (input.abs() + 1)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return _inplace(lambda t: _threshold(t, threshold, value), input)
    _check(input, "threshold")
    v = _ag.full((), value, dtype=input.dtype, device=input.device)
    return _ag.where(input > threshold, input, v)


_threshold = threshold


def glu(input, dim=-1):
    _check(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _ops.norm_dim(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        raise TypeError("softmin: pass dim explicitly (PyTorch's implicit dim choice is deprecated)")
    x = input if dtype is None else input.to(dtype)
    return _ops.softmax(-x, dim)


def prelu(input, weight):
    _check(input, "prelu")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise RuntimeError(f"prelu: Not allow zero-dim input tensor when weight has {n} elements.")
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if channels != n:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {channels}.")
        w = weight.reshape([1, n] + [1] * (input.ndim - 2)) if input.ndim >= 2 else weight.reshape(n)
    else:
        w = weight.reshape(())
    return _ag.where(input > 0, input, w * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if inplace:
        return _inplace(lambda t: rrelu(t, lower, upper, training), input)
    _check(input, "rrelu")
    if training:
        slope = _ag.rand(input.shape, dtype=input.dtype, device=input.device) * (upper - lower) + lower
    else:
        slope = (lower + upper) / 2
    return _ag.where(input > 0, input, input * slope)


def logsigmoid(input):
    return _ops.logsigmoid(input)
