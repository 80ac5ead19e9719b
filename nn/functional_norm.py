"""nn.functional normalisation and dropout (issue 12): batch/layer/group/instance/RMS/local-response
norm, normalize, and the element, channel and alpha dropouts. All composites of differentiable ops;
running statistics are updated in place without recording, as torch."""
from __future__ import annotations

import math
import numbers

import autograd as _ag
from autograd import ops as _ops

from .functional_conv import _prod

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm", "normalize",
           "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


# --- normalisation -------------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalise over every dim but 1 (channels). In training, batch statistics are used and the
    running ones are updated in place (unbiased variance, as torch); in eval the running ones."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2-D input (N, C, ...), got {tuple(input.shape)}")
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.shape[0] * _prod(input.shape[2:])
        if count == 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"size {tuple(input.shape)}")
        if count == 0:                      # an empty batch: an empty result, running stats untouched
            mean = var = input.sum(dims, keepdim=True).detach()
            running_mean = None
        else:
            mean = input.mean(dims, keepdim=True)
            var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None:
            with _ag.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(c).detach() * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(c).detach() * (momentum * count / (count - 1)))
    else:
        if running_mean is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed in eval mode")
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) / _ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(v) for v in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    normalized_shape = _normalized_shape(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"layer_norm: input of shape {tuple(input.shape)} does not end with normalized_shape "
                           f"{normalized_shape}")
    dims = tuple(range(input.ndim - k, input.ndim))
    mean = input.mean(dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dims, keepdim=True)
    out = (input - mean) / _ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in num_groups groups (over the group's channels and all
    spatial positions), then a per-channel affine."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but "
                           f"got input of shape {list(input.shape)} and num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"group_norm: Expected {name} to be a vector of size equal to the number of channels "
                               f"in input, but got {name} of shape {list(t.shape)} and input of shape "
                               f"{list(input.shape)}")
    if (n * c // num_groups) * _prod(input.shape[2:]) == 1:
        raise ValueError(f"group_norm: Expected more than 1 value per channel when training, got input size "
                         f"{list(input.shape)}")
    x = input.reshape(n, num_groups, (c // num_groups) * _prod(input.shape[2:]))
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    out = ((x - mean) / _ops.sqrt(var + eps)).reshape(*input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial positions. In training the running stats
    (if given) move towards the batch average of the instances' mean and unbiased variance (torch)."""
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected at least 2-D input (N, C, ...), got {list(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    count = _prod(input.shape[2:])
    if count <= 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    dims = tuple(range(2, input.ndim))
    mean = input.mean(dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dims, keepdim=True)
    if running_mean is not None and running_var is not None:
        with _ag.no_grad():
            m = mean.detach().reshape(n, c).mean(0)
            v = var.detach().reshape(n, c).mean(0) * (count / (count - 1))
            running_mean.mul_(1 - momentum).add_(m * momentum)
            running_var.mul_(1 - momentum).add_(v * momentum)
    out = (input - mean) / _ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing normalized_shape, times weight. eps=None is the
    machine epsilon of torch's compute type (float32's for float16/float32)."""
    if isinstance(normalized_shape, numbers.Integral):
        raise TypeError(f"rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    normalized_shape = _normalized_shape(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError(f"rms_norm: Expected weight to be of same shape as normalized_shape, but got weight of "
                           f"shape {list(weight.shape)} and normalized_shape = {list(normalized_shape)}")
    if eps is None:
        eps = 2.220446049250313e-16 if input.dtype is _ag.float64 else 1.1920928955078125e-07
    dims = tuple(range(input.ndim - k, input.ndim))
    x = input if input.dtype is not _ag.float16 else input.to(_ag.float32)
    out = x * _ops.rsqrt((x * x).mean(dims, keepdim=True) + eps)
    if weight is not None:
        out = out * weight.to(out.dtype)
    return out.to(input.dtype)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta (zero-padded as torch)."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    pads = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    sq = _ops.pad(sq, pads, value=0.0)
    acc = None
    for j in range(size):                           # a loop over the window's channel offsets
        part = sq[:, j:j + c]
        acc = part if acc is None else acc + part
    div = (acc / size * alpha + k) ** beta
    return input / div


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    denom = _ops.norm(input, p, dim=dim, keepdim=True).clamp(min=eps)
    return input / denom


# --- dropout -------------------------------------------------------------------------------------
def _check_p(p, who):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    keep = (_ag.rand(*input.shape, dtype=input.dtype, device=input.device) >= p).to(input.dtype)
    noise = keep * (1.0 / (1.0 - p))
    return input.mul_(noise) if inplace else input * noise


def _noise_dropout(input, p, training, feature, alpha, who, inplace=False):
    """torch's _dropout_impl: element or feature (per (N, C) channel) noise, plain or alpha; in place
    through the engine's in-place ops when asked (torch refuses a leaf that requires grad, so do we)."""
    _check_p(p, who)
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    if feature:
        if input.ndim < 2:
            raise RuntimeError(f"{who}: Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    else:
        shape = tuple(input.shape)
    keep = (_ag.rand(*shape, dtype=input.dtype, device=input.device) >= p).to(input.dtype)
    if not alpha:
        noise = keep * (1.0 / (1.0 - p))
        return input.mul_(noise) if inplace else input * noise
    a_ = 1.7580993408473766
    a = 1.0 / math.sqrt((a_ * a_ * p + 1) * (1 - p))
    b = (keep - 1.0) * (a_ * a) + a_ * a * p
    return input.mul_(keep * a).add_(b) if inplace else input * (keep * a) + b


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    _check_p(p, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           f"channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 2:
        out = _noise_dropout(input.unsqueeze(0), p, training, True, False, "dropout1d")
        return input.copy_(out.squeeze(0)) if inplace and out is not input else out.squeeze(0)
    return _noise_dropout(input, p, training, True, False, "dropout1d", inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input (a 3-D input is taken as (N, C, L), as torch)."""
    _check_p(p, "dropout2d")
    return _noise_dropout(input, p, training, True, False, "dropout2d", inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p, "dropout3d")
    if input.ndim == 4:
        out = _noise_dropout(input.unsqueeze(0), p, training, True, False, "dropout3d")
        return input.copy_(out.squeeze(0)) if inplace and out is not input else out.squeeze(0)
    return _noise_dropout(input, p, training, True, False, "dropout3d", inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalisation: dropped values go to -alpha*scale, then an
    affine map restores mean and variance (torch's constants)."""
    return _noise_dropout(input, p, training, False, True, "alpha_dropout", inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _noise_dropout(input, p, training, True, True, "feature_alpha_dropout", inplace)
