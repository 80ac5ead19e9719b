"""nn.functional's bilinear and embedding_bag (issue 12), composed from differentiable ops.

embedding_bag lays the bags out as a padded (bags, longest bag) index matrix, gathered in one step
from `input` (a bag b holds positions offsets[b] + k, k < its length), so every mode is one masked
reduction over the whole batch with no loop over bags; the gradient of each weight row is the
scatter-add of advanced indexing.
"""
from __future__ import annotations

import autograd as _ag
from autograd import ops as _ops
from autograd.tensor import Tensor

__all__ = ["bilinear", "embedding_bag"]


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]: one matmul against W laid out as
    (in1, out * in2), then a product with x2 summed over in2."""
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {tuple(input1.shape[:-1])} and "
                           f"{tuple(input2.shape[:-1])}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), got {tuple(weight.shape)}")
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {i1}")
    if input2.shape[-1] != i2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {i2}")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {tuple(bias.shape)} but "
                           f"expected ({o},)")
    if not (input1.dtype is input2.dtype is weight.dtype) or (bias is not None and bias.dtype is not weight.dtype):
        raise RuntimeError(f"bilinear(): expected inputs, weight and bias of one dtype, got {input1.dtype.name}, "
                           f"{input2.dtype.name}, {weight.dtype.name}"
                           + ("" if bias is None else f", {bias.dtype.name}"))
    t = input1 @ weight.permute(1, 0, 2).reshape(i1, o * i2)           # (..., out * in2)
    out = (t.reshape(*t.shape[:-1], o, i2) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


class _ScaleGrad(_ag.Function):
    """Identity forward; the gradient times `scale` (embedding's scale_grad_by_freq)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(scale)
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return g * scale, None


def _check_indices(input, n, who):
    if not isinstance(input, Tensor) or input.dtype not in (_ag.int64, _ag.int32):
        got = input.dtype.name if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"{who}: Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {got} instead")
    if input.numel() and (int(input.min()) < 0 or int(input.max()) >= n):
        raise IndexError(f"{who}: index out of range in self: indices must be in [0, {n}), got min "
                         f"{int(input.min())} and max {int(input.max())}")


def renorm_rows_(weight, input, max_norm, norm_type):
    """torch's embedding_renorm_: rows of `weight` looked up by `input` whose norm exceeds max_norm are
    scaled in place (without recording) by max_norm / (norm + 1e-7)."""
    with _ag.no_grad():
        idx = input.reshape(-1)
        if idx.numel() == 0:
            return
        rows = weight[idx]
        norms = _ops.norm(rows, norm_type, dim=-1, keepdim=True)
        scale = _ops.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).to(weight.dtype)
        weight[idx] = rows * scale


def freq_scale(idx, valid=None):
    """1 / (how often each index occurs among the valid ones), per position (as scale_grad_by_freq)."""
    with _ag.no_grad():
        flat = idx.reshape(-1)
        same = flat.unsqueeze(0) == flat.unsqueeze(1)
        if valid is not None:
            same = same & valid.reshape(1, -1)
        count = same.sum(1).clamp(min=1)
        return (1.0 / count.to(_ag.float64)).reshape(idx.shape)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings: each row of a 2-D input is a bag, or a 1-D input is
    cut at `offsets`. Entries equal to padding_idx are left out (of the count too); an empty bag gives 0."""
    who = "embedding_bag"
    if sparse:
        raise NotImplementedError(f"{who}: sparse gradients are not supported (tapegrad has no sparse tensors)")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{who}: mode has to be one of sum, mean or max")
    if scale_grad_by_freq and mode == "max":
        raise ValueError(f"{who}: max mode does not support scaling the gradient by the frequency")
    if weight.ndim != 2:
        raise ValueError(f"{who}: weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{who}: per_sample_weights was not None. per_sample_weights is only supported "
                                      f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"{who}: embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not "
                             f"None, then it must have the same shape as the input ({tuple(input.shape)})")
    n, dim = weight.shape
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError(f"{who}: Padding_idx must be within num_embeddings")
        padding_idx %= n
    dev = weight.device
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{who}: if input is 2D, then offsets has to be None, as input is treated is a "
                             f"mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        idx = input
        inside = _ag.ones(tuple(input.shape), dtype=_ag.bool, device=dev)
        psw = per_sample_weights
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError(f"{who}: offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError(f"{who}: offsets has to be a 1D Tensor")
        offsets = offsets.to(_ag.int64)
        total = input.shape[0]
        if offsets.numel() and int(offsets[0]) != 0:
            raise RuntimeError(f"{who}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                               f"start from position 0. However, got {int(offsets[0])}")
        if offsets.numel() and int(offsets[-1]) > total:
            raise RuntimeError(f"{who}: offsets[-1] can not be greater than input's length ({total}), but got "
                               f"offsets[-1] of {int(offsets[-1])}")
        if include_last_offset:
            starts, ends = offsets[:-1], offsets[1:]
        else:
            starts = offsets
            ends = _ag.cat([offsets[1:], _ag.tensor([total], dtype=_ag.int64, device=dev)]) if offsets.numel() \
                else offsets
        lengths = ends - starts
        if lengths.numel() and int(lengths.min()) < 0:
            raise RuntimeError(f"{who}: offsets must be non-decreasing")
        longest = int(lengths.max()) if lengths.numel() else 0
        k = _ag.arange(longest, device=dev)
        inside = k < lengths.unsqueeze(1)                                   # (bags, longest)
        pos = _ops.where(inside, starts.unsqueeze(1) + k, 0)
        idx = input[pos] if total else _ag.zeros(tuple(pos.shape), dtype=_ag.int64, device=dev)
        psw = None if per_sample_weights is None else per_sample_weights[pos]
    else:
        raise ValueError(f"{who}: input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    _check_indices(input, n, who)
    if max_norm is not None:
        renorm_rows_(weight, input, max_norm, norm_type)
    keep = inside if padding_idx is None else inside & (idx != padding_idx)
    rows = weight[idx]                                                     # (bags, longest, dim)
    if scale_grad_by_freq and rows.numel():
        rows = _ScaleGrad.apply(rows, freq_scale(idx, keep).to(weight.dtype).unsqueeze(-1))
    bags = idx.shape[0]
    if idx.shape[1] == 0:
        return _ag.zeros((bags, dim), dtype=weight.dtype, device=dev)
    m = keep.unsqueeze(-1)
    if mode == "max":
        best = _ops.where(m, rows, float("-inf")).max(1)[0]
        return _ops.where(keep.any(1, keepdim=True), best, 0.0)
    if psw is not None:
        rows = rows * psw.unsqueeze(-1)
    total = _ops.where(m, rows, 0.0).sum(1)
    if mode == "sum":
        return total
    return total / keep.sum(1, keepdim=True).clamp(min=1).to(weight.dtype)

