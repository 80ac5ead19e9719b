"""nn.functional for convolution, pooling and padding (issue 12); resampling lives in
`functional_resample`, normalisation and dropout in `functional_norm`.

Every spatial op is written once for 1, 2 and 3 spatial dims (`n`), with torch's names as thin
wrappers. Convolution and pooling read all kernel windows at once through the engine's strided
`windows` view (im2col) and reduce them with one matmul, sum or argmax; a transposed convolution
is one matmul followed by `fold`, windows' adjoint (a loop over kernel offsets only). Adaptive
pooling and padding gather by integer index tensors built on the device, so their gradient is
getitem's scatter-add. Nothing loops over batch, channels or pixels. Everything is a composite of
differentiable ops, so gradients of any order come for free.
"""
from __future__ import annotations

import numbers

import autograd as _ag
from autograd import ops as _ops
from autograd import graph as _graph
from autograd.compile import recorded as _recorded
from autograd.ops.conv import fold as _fold_windows, take_flat as _take_flat, windows as _windows
from autograd.ops.index import index_put as _index_put
from autograd.tensor import Tensor, _wrap

__all__ = [
    "pad", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "unfold", "fold",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
]


# --- argument helpers --------------------------------------------------------------------------
def _ntuple(v, n, name="value"):
    """An int or a sequence of n ints (a 1-sequence is repeated, as torch's expand_param_if_needed)."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v),) * n
    v = tuple(v)
    if len(v) == 1 and n > 1:
        v = v * n
    if len(v) != n:
        raise ValueError(f"expected {n} values for {name}, got {v}")
    return tuple(int(x) for x in v)


def _conv_padding(padding, kernel, dilation, stride, who):
    """(lo, hi) per spatial dim; 'same' puts the odd extra on the right, as torch."""
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
        raise ValueError(f"{who}: Invalid padding string {padding!r}, should be one of 'valid' or 'same'")
    return [(p, p) for p in _ntuple(padding, len(kernel), "padding")]


def _pad_spatial(x, pads, value=0.0):
    """Constant-pad the trailing len(pads) dims by (lo, hi) each."""
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return _ops.pad(x, flat, value=value)


def _prod(vals):
    out = 1
    for v in vals:
        out *= v
    return out


def _i64(be):
    return be.native_dtype(_ag.int64)


def _batched(input, n, who, what="input"):
    """(input with a batch dim, whether one was added); torch's (n+1)-D unbatched or (n+2)-D batched."""
    if input.ndim == n + 2:
        return input, False
    if input.ndim == n + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(f"{who}: Expected {n + 1}D (unbatched) or {n + 2}D (batched) {what} to {who}, but got "
                       f"{what} of size: {list(input.shape)}")


# --- padding -------------------------------------------------------------------------------------
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
    i64 = _i64(be)
    # torch lets a padded dim come out empty as long as one of them does not (circular: any may)
    if mode != "circular" and all(shape[d] + lo + hi <= 0 for d, (lo, hi) in pairs.items()):
        sizes = ", ".join(str(shape[d] + lo + hi) for d, (lo, hi) in sorted(pairs.items()))
        raise RuntimeError(f"pad: input {list(shape)} is too small for padding {pad} in mode {mode!r}. Calculated "
                           f"output size: ({sizes})")
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
        if n < 0 or size == 0:
            raise RuntimeError(f"pad: padding ({lo}, {hi}) at dimension {d} of input {list(shape)} is resulting in "
                               f"a negative size (mode {mode!r})")
        if lo == 0 and hi == 0:
            continue
        if n == 0:
            out = out[(slice(None),) * d + (slice(0, 0),)]
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


# --- convolution ---------------------------------------------------------------------------------
def _check_conv_types(input, weight, bias, who):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{who}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"{who}: Input type ({input.dtype.name}) and weight type ({weight.dtype.name}) should be "
                           f"the same")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"{who}: Input type ({input.dtype.name}) and bias type ({bias.dtype.name}) should be "
                           f"the same")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'{who}: "{who}" not implemented for \'{input.dtype.name}\'')


def _conv_common(input, weight, bias, stride, dilation, groups, n, who, transposed):
    _check_conv_types(input, weight, bias, who)
    if weight.ndim != n + 2:
        raise RuntimeError(f"{who}: expected a {n + 2}-D weight, got weight of size {list(weight.shape)}")
    stride, dilation = _ntuple(stride, n, "stride"), _ntuple(dilation, n, "dilation")
    if any(v <= 0 for v in stride):
        raise RuntimeError(f"{who}: non-positive stride is not supported, got stride={list(stride)}")
    if any(v <= 0 for v in dilation):
        raise RuntimeError(f"{who}: dilation should be greater than zero, but got dilation={list(dilation)}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{who}: non-positive groups is not supported, got groups={groups}")
    kernel = tuple(weight.shape[2:])
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{who}: kernel size should be greater than zero, but got weight of size "
                           f"{list(weight.shape)}")
    c = input.shape[1]
    if transposed:
        if weight.shape[0] != c or c % groups:
            raise RuntimeError(f"{who}: Given transposed=1, weight of size {list(weight.shape)}, expected input"
                               f"{list(input.shape)} to have {weight.shape[0]} channels, but got {c} channels "
                               f"instead (groups={groups})")
        out_ch = weight.shape[1] * groups
    else:
        if c % groups or weight.shape[0] % groups or weight.shape[1] * groups != c:
            raise RuntimeError(f"{who}: Given groups={groups}, weight of size {list(weight.shape)}, expected "
                               f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
                               f"channels instead")
        out_ch = weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_ch,):
        raise RuntimeError(f"{who}: Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
                           f"with {out_ch} elements, but got bias of size {list(bias.shape)} instead")
    return stride, dilation, int(groups), kernel, out_ch


def _convnd(input, weight, bias, stride, padding, dilation, groups, n, who):
    """n-D cross-correlation (as torch): im2col through sliding windows, then one batched matmul."""
    x, unbatched = _batched(input, n, who)
    stride, dilation, groups, kernel, o = _conv_common(x, weight, bias, stride, dilation, groups, n, who, False)
    if not isinstance(padding, str) and any(v < 0 for v in _ntuple(padding, n, "padding")):
        raise RuntimeError(f"{who}: negative padding is not supported, got padding={list(_ntuple(padding, n))}")
    pads = _conv_padding(padding, kernel, dilation, stride, who)
    padded = [size + lo + hi for size, (lo, hi) in zip(x.shape[2:], pads)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(e > s for e, s in zip(eff, padded)):
        raise RuntimeError(f"{who}: Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual "
                           f"input size")
    nb, c = x.shape[0], x.shape[1]
    cg, kk = c // groups, _prod(kernel)
    cols = _windows(_pad_spatial(x, pads), kernel, stride, dilation)          # (N, C, *O, *K)
    outs = tuple(cols.shape[2:2 + n])
    p = _prod(outs)
    # one (N*P, Cg*K) @ (Cg*K, O/G) product per group: NumPy runs a stacked matmul that broadcasts
    # over the batch as many small products, >10x slower than one large one
    # (and 2-D operands when groups == 1: its transposed products in backward are faster still)
    cols = cols.reshape(nb, groups, cg, p, kk).permute(1, 0, 3, 2, 4).reshape(groups, nb * p, cg * kk)
    wmat = weight.reshape(groups, o // groups, cg * kk).transpose(1, 2)          # (G, Cg*K, O/G)
    prod = cols[0] @ wmat[0] if groups == 1 else cols @ wmat
    out = prod.reshape(groups, nb, p, o // groups).permute(1, 0, 3, 2).reshape(nb, o, *outs)
    if bias is not None:
        out = out + bias.reshape(1, o, *(1,) * n)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, n, who):
    """The adjoint of convolution: each input pixel times the kernel (one matmul), summed into the
    output by `fold` (scatter of the windows), then cropped by `padding`; output_padding adds
    zeros on the far side."""
    x, unbatched = _batched(input, n, who)
    stride, dilation, groups, kernel, o = _conv_common(x, weight, bias, stride, dilation, groups, n, who, True)
    if isinstance(padding, str):
        raise RuntimeError(f"{who}: padding must be an int or a tuple of ints for transposed convolution, "
                           f"got {padding!r}")
    padding, output_padding = _ntuple(padding, n, "padding"), _ntuple(output_padding, n, "output_padding")
    if any(v < 0 for v in padding):
        raise RuntimeError(f"{who}: negative padding is not supported, got padding={list(padding)}")
    if any(v < 0 for v in output_padding):
        raise RuntimeError(f"{who}: negative output_padding is not supported, got {list(output_padding)}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{who}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={list(output_padding)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    ins = tuple(x.shape[2:])
    full = [(i - 1) * s + d * (k - 1) + 1 for i, s, d, k in zip(ins, stride, dilation, kernel)]
    sizes = [f + op - 2 * p for f, op, p in zip(full, output_padding, padding)]
    if any(s <= 0 for s in sizes) or any(i <= 0 for i in ins):
        raise RuntimeError(f"{who}: Given input size per channel: ({' x '.join(map(str, ins))}). Calculated output "
                           f"size per channel: ({' x '.join(map(str, sizes))}). Output size is too small")
    nb, c = x.shape[0], x.shape[1]
    cg, og, kk, p = c // groups, o // groups, _prod(kernel), _prod(ins)
    xm = x.reshape(nb, groups, cg, p).permute(1, 0, 3, 2).reshape(groups, nb * p, cg)     # (G, N*P, Cg)
    wmat = weight.reshape(groups, cg, og * kk)
    cols = xm[0] @ wmat[0] if groups == 1 else xm @ wmat                                 # (G, N*P, Og*K)
    cols = cols.reshape(groups, nb, *ins, og, *kernel)
    perm = (1, 0, 2 + n) + tuple(range(2, 2 + n)) + tuple(range(3 + n, 3 + 2 * n))
    cols = cols.permute(*perm).reshape(nb, o, *ins, *kernel)
    y = _fold_windows(cols, (nb, o, *full), kernel, stride, dilation)
    if any(output_padding):
        y = _pad_spatial(y, [(0, v) for v in output_padding])
    if any(padding):
        y = y[(slice(None), slice(None)) + tuple(slice(p_, p_ + s) for p_, s in zip(padding, sizes))]
    if bias is not None:
        y = y + bias.reshape(1, o, *(1,) * n)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                             "conv_transpose3d")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*kH*kW, L), torch's column order (channel, then kernel offset)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D, size {list(input.shape)})")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)
    k, d = _ntuple(kernel_size, 2, "kernel_size"), _ntuple(dilation, 2, "dilation")
    p, s = _ntuple(padding, 2, "padding"), _ntuple(stride, 2, "stride")
    _check_fold_args(k, d, p, s, "unfold")
    padded = [size + 2 * pi for size, pi in zip(x.shape[2:], p)]
    outs = [(sz - di * (ki - 1) - 1) // si + 1 for sz, di, ki, si in zip(padded, d, k, s)]
    if any(o < 1 for o in outs) or any(di * (ki - 1) + 1 > sz for sz, di, ki in zip(padded, d, k)):
        raise RuntimeError(f"unfold: Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
                           f"({outs[0]}, {outs[1]}), but its components must be at least one.")
    nb, c = x.shape[0], x.shape[1]
    cols = _windows(_pad_spatial(x, [(pi, pi) for pi in p]), k, s, d)             # (N, C, OH, OW, kH, kW)
    out = cols.permute(0, 1, 4, 5, 2, 3).reshape(nb, c * k[0] * k[1], outs[0] * outs[1])
    return out.squeeze(0) if unbatched else out


def _check_fold_args(k, d, p, s, who):
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{who}: kernel size should be greater than zero, but got kernel_size={list(k)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{who}: dilation should be greater than zero, but got dilation={list(d)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{who}: padding should be non-negative, but got padding={list(p)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{who}: stride should be greater than zero, but got stride={list(s)}")


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, unfold's adjoint: (N, C*kH*kW, L) summed into (N, C, *output_size)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D, size {list(input.shape)})")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    size = _ntuple(output_size, 2, "output_size")
    k, d = _ntuple(kernel_size, 2, "kernel_size"), _ntuple(dilation, 2, "dilation")
    p, s = _ntuple(padding, 2, "padding"), _ntuple(stride, 2, "stride")
    _check_fold_args(k, d, p, s, "fold")
    nb, ckk, L = x.shape
    if ckk % (k[0] * k[1]):
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={k}")
    outs = [(sz + 2 * pi - di * (ki - 1) - 1) // si + 1 for sz, pi, di, ki, si in zip(size, p, d, k, s)]
    if any(o < 1 for o in outs) or outs[0] * outs[1] != L:
        raise RuntimeError(f"fold: Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"stride={s}, expected size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {outs[0]} * {outs[1]} = {outs[0] * outs[1]}, but got input.size(2)={L}.")
    c = ckk // (k[0] * k[1])
    cols = x.reshape(nb, c, k[0], k[1], outs[0], outs[1]).permute(0, 1, 4, 5, 2, 3)
    full = [sz + 2 * pi for sz, pi in zip(size, p)]
    y = _fold_windows(cols, (nb, c, *full), k, s, d)
    if any(p):
        y = y[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
    return y.squeeze(0) if unbatched else y


# --- pooling -------------------------------------------------------------------------------------
def _pool_args(input, n, kernel_size, stride, padding, dilation, ceil_mode, who):
    """torch's checks and output sizes (pooling_output_shape) for an n-D pooling; ints or tuples."""
    if input.ndim not in (n + 1, n + 2) or (input.numel() == 0 and 0 in tuple(input.shape[-(n + 1):])):
        raise RuntimeError(f"{who}: non-empty {n + 1}D or {n + 2}D (batch mode) tensor expected for input, got "
                           f"{list(input.shape)}")
    k = _ntuple(kernel_size, n, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ntuple(stride, n, "stride")
    p, d = _ntuple(padding, n, "padding"), _ntuple(dilation, n, "dilation")
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
    for size, ki, si, pi, di in zip(input.shape[-n:], k, s, p, d):
        o = (size + 2 * pi - di * (ki - 1) - 1 + (si - 1 if ceil_mode else 0)) // si + 1
        if ceil_mode and (o - 1) * si >= size + pi:      # the last window must start inside the input
            o -= 1
        out.append(o)
    if any(o < 1 for o in out):
        ins = "x".join(str(v) for v in input.shape[-(n + 1):])
        got = "x".join(str(v) for v in (input.shape[-(n + 1)], *out))
        raise RuntimeError(f"{who}: Given input size: ({ins}). Calculated output size: ({got}). Output size is "
                           f"too small")
    return k, s, p, d, tuple(out)


def _pool_windows(input, k, s, p, d, out, value):
    """Windows (..., *O, prod(K)) over input padded by p with `value`, and on the far side as far as
    ceil_mode's extra windows reach."""
    n = len(k)
    sizes = input.shape[-n:]
    right = [max(0, (o - 1) * si + di * (ki - 1) + 1 - size - pi)
             for o, si, di, ki, size, pi in zip(out, s, d, k, sizes, p)]
    x = _pad_spatial(input, [(pi, ri) for pi, ri in zip(p, right)], value)
    win = _windows(x, k, s, d)
    return win.reshape(*win.shape[:win.ndim - n], _prod(k))


def _first_inside(xp, n, stride, pad, dilation, dtype):
    """Per output position, the first input coordinate of its window that is not padding."""
    # xp calls rather than array operators, here and in _max_pool: autograd.compile records them
    c = _int_const(xp, dtype)
    start = xp.subtract(xp.multiply(xp.arange(n, dtype=dtype), c(stride)), c(pad))
    skip = xp.floor_divide(xp.add(xp.negative(start), c(dilation - 1)), c(dilation))   # ceil(-start / dilation)
    return xp.add(start, xp.multiply(xp.where(xp.less(start, c(0)), skip, c(0)), c(dilation)))


def _first_inside_host(n, stride, pad, dilation):
    """The largest of _first_inside's values, in Python (it depends on shapes only)."""
    def first(i):
        start = i * stride - pad
        return start + ((-start + dilation - 1) // dilation if start < 0 else 0) * dilation
    return max(first(i) for i in range(n))


def _int_const(xp, dtype):
    return lambda v: xp.asarray(v, dtype=dtype)


def _axis(xp, v, j, n):
    """A 1-D backend array shaped to broadcast along spatial axis j of n."""
    return xp.reshape(v, tuple(-1 if i == j else 1 for i in range(n)))


def _argmax_last(xp, win, is_float, i64):
    """Index of each window's maximum: the first maximum, or its last NaN (torch's kernels)."""
    kidx = xp.astype(xp.argmax(win, axis=-1), i64)
    if is_float:
        nan = xp.isnan(win)
        # while autograd.compile records, no data-dependent branch (it could not be re-decided
        # after the step's in-place writes): the NaN fix-up always runs (same result without NaNs)
        if _graph.TRACER is not None or bool(xp.any(nan)):
            last = xp.subtract(xp.asarray(win.shape[-1] - 1, dtype=i64),
                               xp.astype(xp.argmax(xp.astype(xp.flip(nan, axis=-1), i64), axis=-1), i64))
            kidx = xp.where(xp.any(nan, axis=-1), last, kidx)
    return kidx


def _plane_offsets(xp, input, n, i64):
    lead = _prod(input.shape[:input.ndim - n])
    plane = _prod(input.shape[input.ndim - n:])
    return xp.reshape(xp.multiply(xp.arange(lead, dtype=i64), xp.asarray(plane, dtype=i64)),
                      tuple(input.shape[:input.ndim - n]) + (1,) * n)


def _lowest(xp, input):
    return float("-inf") if input.dtype.is_floating_point else int(xp.iinfo(input._data.dtype).min)


def _max_pool(input, n, kernel_size, stride, padding, dilation, ceil_mode, return_indices, who):
    """Max over each window, gathered at its argmax (the first maximum, or a NaN, as torch).

    The index is found without recording; the value is then taken from the input by flat index
    (`take_flat`), so the gradient is scattered to that element only (an inf upstream gradient
    stays inf there and 0 elsewhere, as torch) and the op is differentiable twice."""
    k, s, p, d, out = _pool_args(input, n, kernel_size, stride, padding, dilation, ceil_mode, who)
    if input.dtype is _ag.bool:
        raise NotImplementedError(f'{who}: "{who}" not implemented for \'bool\'')
    be = input._backend
    xp, i64 = be.xp, _i64(be)
    sizes = tuple(input.shape[-n:])
    with _ag.no_grad():
        win = _pool_windows(input.detach(), k, s, p, d, out, _lowest(xp, input))._data
    kidx = _argmax_last(xp, win, input.dtype.is_floating_point, i64)      # (..., *O)
    c = _int_const(xp, i64)               # xp calls, not operators: autograd.compile records them
    offs, rem = [None] * n, kidx
    for j in reversed(range(n)):
        offs[j], rem = xp.remainder(rem, c(k[j])), xp.floor_divide(rem, c(k[j]))
    local = first = None
    pad_hit = None
    for j in range(n):
        start = _axis(xp, xp.subtract(xp.multiply(xp.arange(out[j], dtype=i64), c(s[j])), c(p[j])), j, n)
        pos = xp.add(start, xp.multiply(offs[j], c(d[j])))
        hit = xp.logical_or(xp.less(pos, c(0)), xp.greater_equal(pos, c(sizes[j])))
        pad_hit = hit if pad_hit is None else xp.logical_or(pad_hit, hit)
        f = _axis(xp, _first_inside(xp, out[j], s[j], p[j], d[j], i64), j, n)
        local = pos if local is None else xp.add(xp.multiply(local, c(sizes[j])), pos)
        first = f if first is None else xp.add(xp.multiply(first, c(sizes[j])), f)
    # a window whose real elements are all -inf (or the integer minimum) ties with its padding:
    # torch then reports the window's first real element
    local = xp.where(pad_hit, first, local)
    # a window that holds no input element at all (padding and dilation gaps only): torch gives the
    # lowest value and that (out of range) first position
    if any(_first_inside_host(out[j], s[j], p[j], d[j]) >= sizes[j] for j in range(n)):   # shapes only
        void = None
        for j in range(n):
            f = _axis(xp, _first_inside(xp, out[j], s[j], p[j], d[j], i64), j, n)
            v = xp.greater_equal(f, c(sizes[j]))
            void = v if void is None else xp.logical_or(void, v)
        take = xp.where(void, xp.zeros((), dtype=i64), local)
        result = _take_flat(input, xp.add(_plane_offsets(xp, input, n, i64), take))
        low = _ag.full((), _lowest(xp, input), dtype=input.dtype, device=input.device)
        result = _ops.where(_wrap(xp.broadcast_to(void, tuple(result.shape)), be), low, result)
    else:
        result = _take_flat(input, xp.add(_plane_offsets(xp, input, n, i64), local))
    if return_indices:
        return result, _wrap(xp.broadcast_to(local, tuple(result.shape)), be)
    return result


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool1d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool2d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool3d")


def _avg_pool(input, n, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, who):
    k, s, p, d, out = _pool_args(input, n, kernel_size, stride, padding, 1, ceil_mode, who)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'{who}: "{who}" not implemented for \'{input.dtype.name}\'')
    if n == 3 and any(size < ki for size, ki in zip(input.shape[-3:], k)):      # torch's pool3d_shape_check
        t, h, w = input.shape[-3:]
        raise RuntimeError(f"{who}: input image (T: {t} H: {h} W: {w}) smaller than kernel size (kT: {k[0]} "
                           f"kH: {k[1]} kW: {k[2]})")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{who}: divisor must be not zero")
    total = _pool_windows(input, k, s, p, d, out, 0.0).sum(dim=-1)
    if divisor_override:
        return total / divisor_override
    be = input._backend
    div = _avg_divisor(be, n, tuple(input.shape[-n:]), out, k, s, p, count_include_pad, input._data.dtype)
    return total / _wrap(div, be)


@_recorded                     # shapes in, an array out: a constant of an autograd.compile plan
def _avg_divisor(be, n, sizes, out, k, s, p, count_include_pad, nat):
    """torch's avg-pool divisor per output position, of dtype nat: per dim the window clipped to
    the padded input (count_include_pad) or to the input, multiplied over the dims."""
    xp, i64 = be.xp, _i64(be)
    div = None
    for j in range(n):
        start = xp.arange(out[j], dtype=i64) * s[j] - p[j]
        end = xp.minimum(start + k[j], xp.asarray(sizes[j] + p[j], dtype=i64))
        if count_include_pad:
            cnt = end - start
        else:
            cnt = xp.minimum(end, xp.asarray(sizes[j], dtype=i64)) - xp.maximum(start, xp.asarray(0, dtype=i64))
        cnt = _axis(xp, cnt, j, n)
        div = cnt if div is None else div * cnt
    return xp.astype(div, nat)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool3d")


def _lp_pool(input, n, norm_type, kernel_size, stride, ceil_mode, who):
    """torch's formula: (sum over the window of x^p)^(1/p), via avg_pool times the window size."""
    k = _ntuple(kernel_size, n, "kernel_size")
    x = input.pow(norm_type)
    out = _avg_pool(x, n, k, stride, 0, ceil_mode, True, None, who)
    return (_ops.sign(out) * _ops.relu(out.abs())).mul(_prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode, "lp_pool1d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode, "lp_pool2d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode, "lp_pool3d")


def _max_unpool(input, indices, n, kernel_size, stride, padding, output_size, who):
    """Scatter each value to its recorded flat index in a zero plane (an index_put: a repeated index
    keeps one value, as torch); the gradient gathers back from the same indices."""
    k = _ntuple(kernel_size, n, "kernel_size")
    s = k if stride is None else _ntuple(stride, n, "stride")
    p = _ntuple(padding, n, "padding")
    if not isinstance(indices, Tensor) or indices.dtype is not _ag.int64:
        raise RuntimeError(f"{who}: elements in indices should be type int64 but got: "
                           f"{indices.dtype.name if isinstance(indices, Tensor) else type(indices).__name__}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{who}: Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{who}: Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, but got "
                           f"a tensor with {input.ndim} dimensions.")
    ins = tuple(input.shape[-n:])
    default = [(i - 1) * si - 2 * pi + ki for i, si, pi, ki in zip(ins, s, p, k)]
    if output_size is None:
        size = default
    else:
        size = [int(v) for v in output_size]
        if len(size) == n + 2 or (len(size) == n + 1 and input.ndim == n + 1):
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"{who}: output_size must have {n} or {n + 2} elements (got {len(size)})")
        for j, (v, dflt) in enumerate(zip(size, default)):
            lo, hi = dflt - s[j], dflt + s[j]
            if not lo < v < hi:
                raise ValueError(f"{who}: invalid output_size {tuple(output_size)} (dim {j} must be between {lo} "
                                 f"and {hi})")
    plane = _prod(size)
    if input.numel():
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= plane:
            raise RuntimeError(f"{who}: Found an invalid max index: {hi if hi >= plane else lo} (output volumes are "
                               f"of size {'x'.join(map(str, size))}")
    be = input._backend
    lead = tuple(input.shape[:input.ndim - n])
    nl = _prod(lead)
    flat_in = input.reshape(nl, _prod(ins))
    rows = _wrap(be.xp.reshape(be.xp.arange(nl, dtype=_i64(be)), (nl, 1)), be)
    out = _ag.zeros(nl, plane, dtype=input.dtype, device=input.device)
    out = _index_put(out, (rows, indices.reshape(nl, _prod(ins))), flat_in)
    return out.reshape(*lead, *size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")


def _adaptive_args(input, n, output_size, who):
    if input.ndim not in (n + 1, n + 2) or any(v == 0 for v in input.shape[-n:]) or (
            input.ndim == n + 2 and input.shape[1] == 0):
        raise RuntimeError(f"{who}: Expected {n + 1}D or {n + 2}D tensor with non-zero sizes for non-batch "
                           f"dimensions, but got input of size {list(input.shape)}")
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * n
    output_size = tuple(output_size)
    if len(output_size) != n:
        raise RuntimeError(f"{who}: output_size must be {n}, got {output_size}")
    out = tuple(int(i) if o is None else int(o) for o, i in zip(output_size, input.shape[-n:]))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{who}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(out)}")
    return out


def _adaptive_ranges(xp, i64, size, out):
    o = xp.arange(out, dtype=i64)
    return (o * size) // out, ((o + 1) * size + out - 1) // out          # floor, ceil


def _adaptive_avg_pool(input, n, output_size, who):
    """Separable: for each spatial dim one (out x in) 0/1 matrix sums its windows; then divide by
    the window sizes. Matmuls only, exact counts."""
    out = _adaptive_args(input, n, output_size, who)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'{who}: "{who}" not implemented for \'{input.dtype.name}\'')
    be = input._backend
    x = input
    *mats, div = _adaptive_avg_factors(be, n, tuple(input.shape[-n:]), out, input._data.dtype)
    for j, a in enumerate(mats):
        axis = input.ndim - n + j
        x = (x.transpose(axis, -1) @ _wrap(a, be).transpose(0, 1)).transpose(axis, -1)
    if 0 in out:
        return x
    return x / _wrap(div, be)


@_recorded                     # shapes in, arrays out: constants of an autograd.compile plan
def _adaptive_avg_factors(be, n, sizes, out, nat):
    """Per dim the (O, I) 0/1 matrix summing each adaptive window, then the window sizes'
    product per output position, all of dtype nat."""
    xp, i64 = be.xp, _i64(be)
    mats, div = [], None
    for j in range(n):
        size = sizes[j]
        start, end = _adaptive_ranges(xp, i64, size, out[j])
        pos = xp.reshape(xp.arange(size, dtype=i64), (1, size))
        mats.append(xp.astype((pos >= xp.reshape(start, (-1, 1))) & (pos < xp.reshape(end, (-1, 1))), nat))
        cnt = _axis(xp, end - start, j, n)
        div = cnt if div is None else div * cnt
    return tuple(mats) + (xp.astype(div, nat),)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(input, 1, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(input, 2, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool(input, 3, output_size, "adaptive_avg_pool3d")


def _adaptive_max_pool(input, n, output_size, return_indices, who):
    """Each dim's variable windows padded to the longest by repeating their last element (a repeat
    never changes a max or its first position), gathered as one (..., *O, *K) array; then argmax
    and take_flat as max pooling."""
    out = _adaptive_args(input, n, output_size, who)
    if input.dtype is _ag.bool:
        raise NotImplementedError(f'{who}: "{who}" not implemented for \'bool\'')
    be = input._backend
    xp, i64 = be.xp, _i64(be)
    sizes = tuple(input.shape[-n:])
    if 0 in out:
        res = _ag.zeros(*input.shape[:input.ndim - n], *out, dtype=input.dtype, device=input.device)
        return (res, _ag.zeros(*res.shape, dtype=_ag.int64, device=input.device)) if return_indices else res
    idx = []
    for j in range(n):
        start, end = _adaptive_ranges(xp, i64, sizes[j], out[j])
        kmax = int(xp.max(end - start))
        t = xp.reshape(xp.arange(kmax, dtype=i64), (1, kmax))
        idx.append(xp.minimum(xp.reshape(start, (-1, 1)) + t, xp.reshape(end, (-1, 1)) - 1))   # (O_j, K_j)
    full = [_place(xp, a, j, n) for j, a in enumerate(idx)]      # broadcast over (*O, *K)
    with _ag.no_grad():
        d = input.detach()
        win = d[(Ellipsis,) + tuple(_wrap(a, be) for a in full)]._data    # (..., *O, *K)
    win = xp.reshape(win, tuple(win.shape[:win.ndim - n]) + (_prod(a.shape[1] for a in idx),))
    kidx = _argmax_last(xp, win, input.dtype.is_floating_point, i64)     # (..., *O)
    local, rem = None, kidx
    offs = [None] * n
    for j in reversed(range(n)):
        offs[j], rem = rem % idx[j].shape[1], rem // idx[j].shape[1]
    for j in range(n):
        o = _axis(xp, xp.arange(out[j], dtype=i64), j, n)
        pos = xp.reshape(xp.take(xp.reshape(idx[j], (-1,)), xp.reshape(o * idx[j].shape[1] + offs[j], (-1,))),
                         offs[j].shape)
        local = pos if local is None else local * sizes[j] + pos
    result = _take_flat(input, _plane_offsets(xp, input, n, i64) + local)
    if return_indices:
        return result, _wrap(local, be)
    return result


def _place(xp, a, j, n):
    """(O_j, K_j) reshaped to broadcast over (O_1..O_n, K_1..K_n) at axes j and n + j."""
    shape = [1] * (2 * n)
    shape[j], shape[n + j] = a.shape[0], a.shape[1]
    return xp.reshape(a, tuple(shape))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 1, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 2, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 3, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 1, output_size, True, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 2, output_size, True, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 3, output_size, True, "adaptive_max_pool3d")
