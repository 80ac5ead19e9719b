"""Stateless layer functions (PyTorch's `torch.nn.functional`): activations, linear, conv, pooling,
normalisation, dropout, embedding; the losses live in `functional_losses` and are re-exported here.

Everything is composed from differentiable autograd ops (the activations already exist in
`autograd.ops` and are reused, not redefined), plus three engine-internal primitives of
`autograd.ops`: the fused `linear`, `windows` for convolution and pooling, and `take_flat` for
max pooling's gather. Errors name the function and the shapes.
"""
from __future__ import annotations

import numbers

import autograd as _ag
from autograd import ops as _ops
from autograd.ops.conv import take_flat as _take_flat, windows as _windows
from autograd.ops.linalg import linear as _linear
from autograd.tensor import Tensor, _wrap

# --- activations (reused from autograd.ops) ------------------------------------------------
relu = _ops.relu
leaky_relu = _ops.leaky_relu
elu = _ops.elu
gelu = _ops.gelu
silu = _ops.silu
mish = _ops.mish
softplus = _ops.softplus
sigmoid = _ops.sigmoid
tanh = _ops.tanh


def softmax(input, dim=None, dtype=None):
    if dim is None:
        raise TypeError("softmax: pass dim explicitly (PyTorch's implicit dim choice is deprecated)")
    return _ops.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim=None, dtype=None):
    if dim is None:
        raise TypeError("log_softmax: pass dim explicitly (PyTorch's implicit dim choice is deprecated)")
    return _ops.log_softmax(input if dtype is None else input.to(dtype), dim)


def swiglu(input, dim=-1):
    """SwiGLU on a pre-projected tensor: split `dim` into halves (a, b) and return silu(a) * b.

    This is the gate of Shazeer's GLU variants (2020) once W1 x and W3 x are computed by one
    matmul and concatenated as [W1 x, W3 x]; the module `nn.SwiGLU` holds the three weights."""
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"swiglu: dim {dim} of input {tuple(input.shape)} must have an even size, got {n}")
    a, b = input.chunk(2, dim)
    return silu(a) * b


# --- linear and convolution -----------------------------------------------------------------
def linear(input, weight, bias=None):
    xs, ws = input._data.shape, weight._data.shape       # (arrays' shapes: no Size built per check)
    if not xs or not ws:
        raise RuntimeError(f"linear: both arguments to linear need to be at least 1D, but they are {input.ndim}D "
                           f"and {weight.ndim}D")
    if xs[-1] != ws[-1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} does not match weight of shape "
                           f"{tuple(weight.shape)} (in_features {weight.shape[-1]})")
    if len(ws) != 2 or (bias is not None and bias._data.shape != ws[:1]):
        raise RuntimeError(f"linear: weight must be (out, in) and bias (out,), got {tuple(weight.shape)} and "
                           f"{None if bias is None else tuple(bias.shape)}")
    if input._data.dtype != weight._data.dtype:          # torch refuses to promote here
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got input {input.dtype.name} and "
                           f"weight {weight.dtype.name}")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"linear: bias of dtype {bias.dtype.name} must have the dtype of input and weight "
                           f"({input.dtype.name}): self and mat2 must have the same dtype")
    return _linear(input, weight, bias)


def _pair(v, n=2, name="value"):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    if len(v) != n:
        raise ValueError(f"expected {n} values for {name}, got {v}")
    return v


def _conv_padding(padding, kernel, dilation, stride, who):
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * len(kernel)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{who}: padding='same' is not supported for strided convolutions")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return out
        raise ValueError(f"{who}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    return [(p, p) for p in _pair(padding, len(kernel), "padding")]


def _pad_spatial(x, pads, value=0.0):
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return _ops.pad(x, flat, value=value)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` lists (before, after) pairs from the last dim backwards.

    constant: negative amounts crop (a slice), positive ones pad with `value` (the engine's Pad).
    reflect / replicate / circular: every output position along a padded dim reads one input
    position, so each padded dim is one gather (advanced getitem with an int64 index built on the
    device); its gradient is the scatter-add of getitem, differentiable to any order."""
    if not isinstance(pad, (tuple, list)) or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                                  for v in pad):
        bad = type(pad).__name__ if not isinstance(pad, (tuple, list)) else \
            next(type(v).__name__ for v in pad if isinstance(v, bool) or not isinstance(v, numbers.Integral))
        raise TypeError(f"pad: argument 'pad' must be tuple of ints, but found element of type {bad}")
    pad = tuple(int(v) for v in pad)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {pad}")
    k = len(pad) // 2
    shape = tuple(input.shape)
    if k > input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {input.ndim}")
    pairs = {input.ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(k)}     # dim -> (lo, hi)
    if mode == "constant":
        return _pad_constant(input, pairs, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor of shape {shape} in mode "
            f"{mode!r}. Supported combinations for non-constant padding: 2D or 3D input: padding size = 2 (pads "
            f"last dimension); 3D or 4D input: padding size = 4 (pads last 2 dimensions); 4D or 5D input: "
            f"padding size = 6 (pads last 3 dimensions)")
    be = input._backend
    xp = be.xp
    i64 = be.native_dtype(_ag.int64)
    out = input
    for d, (lo, hi) in sorted(pairs.items()):
        size, n = shape[d], shape[d] + lo + hi
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"pad: Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input {list(shape)}")
        kept = size - max(-lo, 0) - max(-hi, 0)        # circular wraps around what a negative pad leaves
        if mode == "circular" and (lo > kept or hi > kept):
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once: padding ({lo}, {hi}) "
                               f"at dimension {d} of input {list(shape)}")
        if n <= 0 or size == 0:
            raise RuntimeError(f"pad: padding ({lo}, {hi}) at dimension {d} of input {list(shape)} is resulting in "
                               f"an empty dimension (mode {mode!r})")
        if lo == 0 and hi == 0:
            continue
        src = xp.arange(n, dtype=i64) - lo                    # the input position each output reads
        if mode == "reflect":
            src = (size - 1) - xp.abs((size - 1) - xp.abs(src))
        elif mode == "replicate":
            src = xp.clip(src, 0, size - 1)
        else:                                  # torch crops first, then wraps over the kept part
            src = (xp.arange(n, dtype=i64) - max(lo, 0)) % kept + max(-lo, 0)
        out = out[(slice(None),) * d + (_wrap(src, be),)]
    return out


def _pad_constant(input, pairs, pad, value):
    shape = tuple(input.shape)
    crop = [slice(None)] * input.ndim
    grow = []
    for d in range(input.ndim - 1, input.ndim - 1 - len(pairs), -1):
        lo, hi = pairs[d]
        if max(-lo, 0) + max(-hi, 0) > shape[d]:
            raise RuntimeError(f"pad: padding {pad} crops dimension {d} of input {list(shape)} below size 0 "
                               f"(narrow(): length must be non-negative)")
        if lo < 0 or hi < 0:
            crop[d] = slice(max(-lo, 0), shape[d] - max(-hi, 0))
        grow += [max(lo, 0), max(hi, 0)]
    out = input[tuple(crop)] if any(c != slice(None) for c in crop) else input
    if not any(grow):
        return out if out is not input else input.clone()       # torch returns a new tensor
    if input.dtype is _ag.bool:
        value = bool(value)
    elif not input.dtype.is_floating_point:
        value = int(value)
    else:
        value = float(value)
    return _ops.pad(out, grow, value=value)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation (as torch): im2col through sliding windows, then one batched matmul."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got {tuple(input.shape)}")
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: expected a 4-D weight (out, in/groups, kH, kW), got {tuple(weight.shape)}")
    n, c, h, w = input.shape
    o, cg, kh, kw = weight.shape
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"conv2d: Input type ({input.dtype.name}) and weight type ({weight.dtype.name}) should be "
                           f"the same")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"conv2d: Input type ({input.dtype.name}) and bias type ({bias.dtype.name}) should be "
                           f"the same")
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"conv2d: kernel size should be greater than zero, but got kernel_height: {kh} "
                           f"kernel_width: {kw} (weight of shape {tuple(weight.shape)})")
    stride, dilation = _pair(stride, 2, "stride"), _pair(dilation, 2, "dilation")
    if any(v <= 0 for v in stride):
        raise RuntimeError(f"conv2d: non-positive stride is not supported, got stride={stride}")
    if any(v <= 0 for v in dilation):
        raise RuntimeError(f"conv2d: dilation should be greater than zero, but got {list(dilation)}")
    if not isinstance(padding, str) and any(v < 0 for v in _pair(padding, 2, "padding")):
        raise RuntimeError(f"conv2d: negative padding is not supported, got padding={_pair(padding, 2, 'padding')}")
    if groups <= 0:
        raise RuntimeError(f"conv2d: non-positive groups is not supported, got groups={groups}")
    if c % groups or o % groups or cg * groups != c:
        raise RuntimeError(f"conv2d: input of shape {tuple(input.shape)} with groups={groups} does not match "
                           f"weight of shape {tuple(weight.shape)} (expected {cg * groups} input channels)")
    pads = _conv_padding(padding, (kh, kw), dilation, stride, "conv2d")
    ph, pw = h + sum(pads[0]), w + sum(pads[1])
    if dilation[0] * (kh - 1) + 1 > ph or dilation[1] * (kw - 1) + 1 > pw:
        raise RuntimeError(f"conv2d: Calculated padded input size per channel: ({ph} x {pw}). Kernel size: "
                           f"({dilation[0] * (kh - 1) + 1} x {dilation[1] * (kw - 1) + 1}). Kernel size can't be "
                           f"greater than actual input size")
    x = _pad_spatial(input, pads)
    cols = _windows(x, (kh, kw), stride, dilation)                # (N, C, OH, OW, kH, kW)
    oh, ow = cols.shape[2], cols.shape[3]
    cols = cols.reshape(n, groups, cg, oh * ow, kh * kw).permute(0, 1, 3, 2, 4).reshape(n, groups, oh * ow, cg * kh * kw)
    wmat = weight.reshape(groups, o // groups, cg * kh * kw).transpose(1, 2)   # (G, K, O/G)
    out = (cols @ wmat).permute(0, 1, 3, 2).reshape(n, o, oh, ow)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out


# --- pooling ----------------------------------------------------------------------------------
def _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, who):
    """torch's checks and output size (pooling_output_shape) for a 2-D pooling; ints or pairs."""
    if input.ndim not in (3, 4) or input.numel() == 0 and 0 in tuple(input.shape[-3:]):
        raise RuntimeError(f"{who}: non-empty 3D or 4D (batch mode) tensor expected for input, got "
                           f"{tuple(input.shape)}")
    k = _pair(kernel_size, 2, "kernel_size")
    s = k if stride is None or stride == [] or stride == () else _pair(stride, 2, "stride")
    p, d = _pair(padding, 2, "padding"), _pair(dilation, 2, "dilation")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{who}: kernel size should be greater than zero, but got kernel_size={k}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{who}: stride should not be zero, but got stride={s}" if 0 in s else
                           f"{who}: stride should be greater than zero, but got stride={s}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{who}: pad must be non-negative, but got pad: {p}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{who}: dilation should be greater than zero, but got dilation={d}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f"{who}: pad should be at most half of effective kernel size, but got pad={p}, "
                           f"kernel_size={k} and dilation={d}")
    out = []
    for size, ki, si, pi, di in zip(input.shape[-2:], k, s, p, d):
        o = (size + 2 * pi - di * (ki - 1) - 1 + (si - 1 if ceil_mode else 0)) // si + 1
        if ceil_mode and (o - 1) * si >= size + pi:      # the last window must start inside the input
            o -= 1
        out.append(o)
    if any(o < 1 for o in out):
        c = "x".join(str(v) for v in input.shape[-3:-2])
        raise RuntimeError(f"{who}: Given input size: ({c}x{input.shape[-2]}x{input.shape[-1]}). Calculated output "
                           f"size: ({c}x{out[0]}x{out[1]}). Output size is too small")
    return k, s, p, d, tuple(out)


def _pool_windows(input, k, s, p, d, out, value):
    """Windows (..., OH, OW, kH*kW) over input padded by p with `value`, and on the right as far as
    ceil_mode's extra windows reach."""
    h, w = input.shape[-2:]
    right = [max(0, (o - 1) * si + di * (ki - 1) + 1 - size - pi)
             for o, si, di, ki, size, pi in zip(out, s, d, k, (h, w), p)]
    x = _pad_spatial(input, [(p[0], right[0]), (p[1], right[1])], value)
    win = _windows(x, k, s, d)
    return win.reshape(*win.shape[:-2], k[0] * k[1])


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window, gathered at its argmax (the first maximum, or a NaN, as torch).

    The index is found without recording; the value is then taken from the input by flat index
    (`take_flat`), so the gradient is scattered to that element only (an inf upstream gradient
    stays inf there and 0 elsewhere, as torch) and the op is differentiable twice."""
    k, s, p, d, (oh, ow) = _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    if input.dtype is _ag.bool:
        raise NotImplementedError('max_pool2d: "max_pool2d" not implemented for \'bool\'')
    be = input._backend
    xp = be.xp
    h, w = input.shape[-2:]
    native = input._data.dtype
    with _ag.no_grad():
        if input.dtype.is_floating_point:
            low = float("-inf")
        else:
            low = int(xp.iinfo(native).min)
        win = _pool_windows(input.detach(), k, s, p, d, (oh, ow), low)._data
    i64 = be.native_dtype(_ag.int64)
    kidx = xp.astype(xp.argmax(win, axis=-1), i64)                 # (..., OH, OW), first maximum
    if input.dtype.is_floating_point:
        nan = xp.isnan(win)
        if bool(xp.any(nan)):                       # torch takes a window's last NaN
            last = (k[0] * k[1] - 1) - xp.astype(xp.argmax(xp.astype(xp.flip(nan, axis=-1), i64), axis=-1), i64)
            kidx = xp.where(xp.any(nan, axis=-1), last, kidx)
    rows = xp.reshape(xp.arange(oh, dtype=i64) * s[0] - p[0], (oh, 1)) + (kidx // k[1]) * d[0]
    cols = xp.reshape(xp.arange(ow, dtype=i64) * s[1] - p[1], (1, ow)) + (kidx % k[1]) * d[1]
    # a window whose real elements are all -inf (or the integer minimum) ties with its padding:
    # torch then reports the window's first real element
    pad_hit = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)
    r0 = xp.reshape(_first_inside(xp, oh, s[0], p[0], d[0], i64), (oh, 1))
    c0 = xp.reshape(_first_inside(xp, ow, s[1], p[1], d[1], i64), (1, ow))
    local = xp.where(pad_hit, r0 * w + c0, rows * w + cols)          # index within each (H, W) plane
    lead = 1
    for v in input.shape[:-2]:
        lead *= v
    planes = xp.reshape(xp.arange(lead, dtype=i64) * (h * w), tuple(input.shape[:-2]) + (1, 1))
    out = _take_flat(input, planes + local)
    if return_indices:
        return out, _wrap(local, be)
    return out


def _first_inside(xp, n, stride, pad, dilation, dtype):
    """Per output position, the first input coordinate of its window that is not padding."""
    start = xp.arange(n, dtype=dtype) * stride - pad
    skip = (-start + dilation - 1) // dilation                         # ceil(-start / dilation)
    return start + xp.where(start < 0, skip, xp.zeros((), dtype=dtype)) * dilation


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    if ceil_mode:
        raise NotImplementedError("avg_pool2d: ceil_mode is not supported")
    k, s, p, d, out = _pool_args(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    total = _pool_windows(input, k, s, p, d, out, 0.0).sum(dim=-1)
    if divisor_override:
        return total / divisor_override
    if count_include_pad or p == (0, 0):
        return total / (k[0] * k[1])
    ones = _ag.ones(1, *input.shape[-2:], dtype=input.dtype, device=input.device)
    counts = _pool_windows(ones, k, s, p, d, out, 0.0).sum(dim=-1)
    return total / counts.squeeze(0)


# --- normalisation ------------------------------------------------------------------------------
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
        count = input.numel() // c
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"size {tuple(input.shape)}")
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


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
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


# --- dropout and embedding --------------------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = (_ag.rand(*input.shape, dtype=input.dtype, device=input.device) >= p).to(input.dtype)
    return input * (keep * (1.0 / (1.0 - p)))


def embedding(input, weight, padding_idx=None, max_norm=None):
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported")
    if not isinstance(input, Tensor) or input.dtype.is_floating_point:
        raise RuntimeError(f"embedding: expected integer indices, got "
                           f"{input.dtype.name if isinstance(input, Tensor) else type(input).__name__}")
    n = weight.shape[0]
    if input.numel() and (int(input.min()) < 0 or int(input.max()) >= n):
        raise IndexError(f"embedding: index out of range: indices must be in [0, {n}), got min "
                         f"{int(input.min())} and max {int(input.max())}")
    out = weight[input]
    if padding_idx is not None:
        # the padding row keeps its value but receives no gradient (torch's semantics)
        pad = (input == (padding_idx % n)).unsqueeze(-1)
        out = _ops.where(pad, out.detach(), out)
    return out


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (torch adds eps to the difference)."""
    return _ops.norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def one_hot(tensor, num_classes=-1):
    """int64 (..., num_classes) with a 1 at each class index; num_classes=-1 infers max + 1 (torch's
    checks and messages: int64 input only, values in [0, num_classes))."""
    if not isinstance(tensor, Tensor) or tensor.dtype is not _ag.int64:
        got = tensor.dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensor of type LongTensor, got {got}")
    n = tensor.numel()
    if num_classes <= 0 and n == 0:                 # torch: also for num_classes=0
        raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
    if n:
        lo, hi = int(tensor.min()), int(tensor.max())
        if lo < 0:
            raise RuntimeError(f"one_hot: Class values must be non-negative, got {lo}.")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes, got {hi} with "
                               f"num_classes={num_classes}.")
    elif num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes should be positive or -1, got {num_classes}.")
    ar = _ag.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == ar).to(_ag.int64)


from .functional_losses import *  # noqa: E402,F401,F403
from .functional_activation import *  # noqa: E402,F401,F403
from .functional_conv import *  # noqa: E402,F401,F403
from .functional_attention import *  # noqa: E402,F401,F403


def __getattr__(name):
    raise AttributeError(f"module 'nn.functional' has no attribute '{name}' (torch.nn.functional.{name} is not part "
                         "of tapegrad: see the README's porting guide)")
