"""Loss functions with PyTorch's numerics (re-exported by `nn.functional`).

Each is composed from differentiable ops; cross-entropy works on logits through the stable
log_softmax, BCE-with-logits through softplus in its overflow-free form, and BCE on probabilities
through the fused primitive of `autograd.ops.loss` (PyTorch's log clamp at -100). The weighted-mean
rules (class weights, ignore_index, label smoothing) follow ATen's LossNLL.cpp. Losses PyTorch
lacks (focal, contrastive, asymmetric MSE) say their convention in their docstring.
"""
from __future__ import annotations

import math
import warnings

import autograd as _ag
from autograd import ops as _ops
from autograd.ops.loss import binary_cross_entropy_elementwise as _bce
from autograd.ops.loss import cross_entropy_index as _cross_entropy_index
from autograd.tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "sigmoid_focal_loss",
           "contrastive_loss", "triplet_margin_loss", "asymmetric_mse_loss",
           "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
           "multi_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss", "cosine_similarity", "pdist"]


def _reduce(loss, reduction, who):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(input, target, who, promote=True):
    if not isinstance(target, Tensor):
        raise TypeError(f"{who}: target must be a Tensor, got {type(target).__name__}")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{who}: target size {tuple(target.shape)} must be the same as input size "
                         f"{tuple(input.shape)}")
    if target.dtype is not input.dtype and not (promote and target.dtype.is_floating_point):
        target = target.to(input.dtype)        # a float target of another dtype promotes, as torch (not huber)
    return target


def _weighted(loss, weight, input, reduction, who, mean_by_weight=True):
    """torch 2.13's elementwise `weight` of mse/l1/huber: 'mean' divides by weight.sum() (mse, l1) or
    by the element count (huber)."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{who}: Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, who)


def _broadcast_target(input, target, who, promote=True):
    """mse/l1/smooth_l1/huber: a target of another shape is broadcast with torch's UserWarning."""
    if isinstance(target, Tensor) and tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)
        try:
            input, target = _ag.broadcast_tensors(input, target)
        except (RuntimeError, ValueError) as e:
            raise RuntimeError(f"{who}: target of shape {tuple(target.shape)} does not broadcast with input of "
                               f"shape {tuple(input.shape)}: {e}") from None
    return input, _same_shape(input, target, who, promote)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy(size_average, reduce, reduction)
    input, target = _broadcast_target(input, target, "mse_loss")
    d = input - target
    if weight is not None:
        return _weighted(d * d, weight, input, reduction, "mse_loss")
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy(size_average, reduce, reduction)
    input, target = _broadcast_target(input, target, "l1_loss")
    if weight is not None:
        return _weighted(_ops.abs(input - target), weight, input, reduction, "l1_loss")
    return _reduce(_ops.abs(input - target), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _broadcast_target(input, target, "huber_loss", promote=False)
    d = input - target
    a = _ops.abs(d)
    loss = _ops.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, input, reduction, "huber_loss", mean_by_weight=False)
    return _reduce(loss, reduction, "huber_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (plain L1 when beta == 0)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _broadcast_target(input, target, "smooth_l1_loss")
    d = input - target
    a = _ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    return _reduce(_ops.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction, "smooth_l1_loss")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y log x + (1-y) log(1-x)) with each log clamped at -100, as torch."""
    reduction = _legacy(size_average, reduce, reduction)
    if isinstance(target, Tensor) and target.dtype is not input.dtype:
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target.dtype.name} but expected {input.dtype.name} "
                           f"(input {input.dtype.name}, target {target.dtype.name})")
    target = _same_shape(input, target, "binary_cross_entropy")
    # torch raises for values outside [0, 1], NaN included (a NaN input is not a loss of 100);
    # checked through the array namespace, so that autograd.compile re-decides it on each replay
    for name, t in (("input", input), ("target", target)):
        if t.numel() and not _all_in_unit_interval(t):
            raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1"
                               + ("; use binary_cross_entropy_with_logits on logits" if name == "input" else ""))
    loss = _bce(input, target)
    if weight is not None:
        loss = loss * (weight if weight.dtype is input.dtype else weight.to(input.dtype))
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """(1 - y) x + (1 + (pw - 1) y) softplus(-x), weighted (ATen's formula).

    softplus(-x) = m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0) held constant: no exp
    overflows (logits of +-1000 give exact losses), and since the value does not depend on m the
    gradient is exactly sigmoid(x) - y everywhere, x = 0 included (relu/abs would have kinks there)."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    m = _ops.relu(-input).detach()
    sp = m + _ops.log(_ops.exp(-m) + _ops.exp(-input - m))              # softplus(-x) = -log sigmoid(x)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _all_in_unit_interval(t):
    """All of t in [0, 1] (NaN is not), computed with array-namespace calls: autograd.compile
    records them and re-decides the check on each replay (a Tensor's bool() would end its trace)."""
    xp, d = t._backend.xp, t._data
    return bool(xp.all(xp.logical_and(xp.greater_equal(d, xp.zeros((), dtype=d.dtype)),
                                      xp.less_equal(d, xp.ones((), dtype=d.dtype)))))


def _any_out_of_range(target, ignore_index, c):
    """Some target outside [0, c) that is not ignore_index, through array-namespace calls (see
    _all_in_unit_interval): one fused test, so the common in-range batch costs one reduction."""
    xp = target._backend.xp
    i64 = xp.int64
    d = xp.astype(target._data, i64)                   # uint8 targets too; c may exceed 255
    out = xp.logical_or(xp.less(d, xp.asarray(0, dtype=i64)), xp.greater_equal(d, xp.asarray(c, dtype=i64)))
    out = xp.logical_and(out, xp.not_equal(d, xp.asarray(ignore_index, dtype=i64)))
    return bool(xp.any(out))


def _check_class_target(input, target, who, ignore_index):
    """Class-index target: shape input.shape without dim 1 (or () for 1-D input), integer, in range."""
    if not target.dtype.is_floating_point and target.dtype not in (_ag.int64, _ag.uint8):
        raise RuntimeError(f"{who}: expected target dtype to be Long or Byte, but got {target.dtype.name}")
    if target.dtype.is_floating_point:
        raise RuntimeError(f"{who}: expected integer class indices (or a float target of the input's shape "
                           f"{tuple(input.shape)} holding class probabilities), got {target.dtype.name} "
                           f"of shape {tuple(target.shape)}")
    expect = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expect:
        raise ValueError(f"{who}: expected target of shape {expect} for input of shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    valid = target != ignore_index
    if _any_out_of_range(target, ignore_index, c):
        bad = valid & ((target < 0) | (target >= c))
        if bool(bad.any()):
            vals = sorted({int(v) for v in target[bad].tolist()})[:5]
            raise IndexError(f"{who}: target class index out of range [0, {c}): {vals} "
                             f"(ignore_index={ignore_index})")
    return c, valid


def _check_weight(input, weight, c, who):
    if weight is None:
        return
    if tuple(weight.shape) != (c,):
        raise ValueError(f"{who}: weight must have shape ({c},), got {tuple(weight.shape)}")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"{who}: expected scalar type {input.dtype.name} but found {weight.dtype.name} "
                           f"(input {input.dtype.name}, weight {weight.dtype.name})")


def _class_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C); (C,) -> (1, C)."""
    if x.ndim == 1:
        return x.unsqueeze(0)
    if x.ndim > 2:
        x = x.permute(0, *range(2, x.ndim), 1)
    return x.reshape(-1, x.shape[-1])


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-w[y] logp[y] per element; 'mean' divides by the sum of w[y] over non-ignored targets."""
    reduction = _legacy(size_average, reduce, reduction)
    if input.ndim < 1:
        raise ValueError(f"nll_loss: input must have at least 1 dim, got {tuple(input.shape)}")
    c, valid = _check_class_target(input, target, "nll_loss", ignore_index)
    _check_weight(input, weight, c, "nll_loss")
    flat = _class_last(input)
    t = target.reshape(-1)
    v = valid.reshape(-1)
    safe = _ops.where(v, t, 0)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    picked = flat[_ag.arange(flat.shape[0], device=flat.device), safe]
    loss = -picked if weight is None else -picked * weight[safe]
    # ignored elements are selected out (ATen writes 0 there), so their gradient is 0 even when
    # the mean divides by a total weight of 0; a multiply by 0 would give 0 * inf = nan
    loss = _ops.where(v, loss, 0.0)
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "sum":
        return loss.sum()
    w = v.to(input.dtype) if weight is None else _ops.where(v, weight[safe], 0.0)
    return loss.sum() / w.sum()


#: backend -> its native (int64, uint8): the class-index dtypes cross_entropy accepts
_INDEX_NATIVE = {}


def _fused_cross_entropy(input, target, weight, label_smoothing, reduction):
    """Whether cross_entropy computes these arguments with the fused primitive
    (`autograd.ops.loss.cross_entropy_index`): logits (N, C), class indices (int64 or uint8), no
    class weights, no label smoothing, a known reduction. The one predicate F.cross_entropy and
    nn.CrossEntropyLoss's direct path both decide by; the target's shape (N,) is checked by the
    caller (F.cross_entropy raises on any other)."""
    if weight is not None or label_smoothing != 0 or input._data.ndim != 2 \
            or reduction not in ("mean", "sum", "none"):
        return False
    be = target._backend
    idx = _INDEX_NATIVE.get(be)
    if idx is None:
        idx = _INDEX_NATIVE[be] = (be.native_dtype(_ag.int64), be.native_dtype(_ag.uint8))
    d = target._data.dtype
    return d == idx[0] or d == idx[1]


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy on logits (class dim 1, or 0 for a 1-D input) against class indices or
    class probabilities, with torch's weighting, ignore_index and label smoothing rules."""
    reduction = _legacy(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    if not target.dtype.is_floating_point and target.dtype not in (_ag.int64, _ag.uint8):
        raise RuntimeError(f"cross_entropy: expected target dtype to be Long or Byte, but got {target.dtype.name}")
    _check_weight(input, weight, c, "cross_entropy")
    if _fused_cross_entropy(input, target, weight, label_smoothing, reduction):    # the common case
        if tuple(target.shape) != (input.shape[0],):
            raise ValueError(f"cross_entropy: expected target of shape ({input.shape[0]},) for input of shape "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
        return _cross_entropy_index(input, target, ignore_index, reduction)    # checks the range
    logp = _ops.log_softmax(input, cdim)
    wshape = [1] * input.ndim
    wshape[cdim] = c
    if target.dtype.is_floating_point:                      # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"cross_entropy: a probability target must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
        target = target.to(input.dtype)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        per = -prod.sum(cdim)
        if reduction == "mean":
            return per.sum() / (input.numel() / c)
        return _reduce(per, reduction, "cross_entropy")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    keep = target != ignore_index
    valid = keep.to(input.dtype)
    smooth = -(logp * weight.reshape(wshape)).sum(cdim) if weight is not None else -logp.sum(cdim)
    smooth = _ops.where(keep, smooth, 0.0)               # ATen's masked_fill: selected out, gradient 0
    if reduction == "mean":
        if weight is not None:
            safe = _ops.where(target != ignore_index, target, 0)
            ret = smooth.sum() / (weight[safe] * valid).sum()
        else:
            ret = smooth.sum() / valid.sum()
    else:
        ret = _reduce(smooth, reduction, "cross_entropy")
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """Binary focal loss on logits (Lin et al. 2017), exactly torchvision.ops.sigmoid_focal_loss:
    ce * (1 - p_t)^gamma, times alpha_t = alpha y + (1-alpha)(1-y) when alpha >= 0.
    The default reduction is 'none', as torchvision's."""
    targets = _same_shape(inputs, targets, "sigmoid_focal_loss")
    p = _ops.sigmoid(inputs)
    ce = binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction, "sigmoid_focal_loss")


def contrastive_loss(x1, x2, label, margin=1.0, reduction="mean", eps=1e-6):
    """Siamese contrastive loss (Hadsell, Chopra & LeCun 2006), with their factor 1/2:

        L = 1/2 [ y d^2 + (1 - y) max(0, margin - d)^2 ],   d = ||x1 - x2 + eps||_2

    label y = 1 marks a similar pair (pulled together), y = 0 a dissimilar one (pushed beyond margin)."""
    if tuple(x1.shape) != tuple(x2.shape):
        raise ValueError(f"contrastive_loss: x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} must have one shape")
    from .functional import pairwise_distance
    d = pairwise_distance(x1, x2, 2.0, eps)
    if tuple(label.shape) != tuple(d.shape):
        raise ValueError(f"contrastive_loss: label of shape {tuple(label.shape)} must have shape {tuple(d.shape)} "
                         f"(one label per pair)")
    y = label.to(d.dtype)
    hinge = _ops.relu(margin - d)
    return _reduce(0.5 * (y * d * d + (1 - y) * hinge * hinge), reduction, "contrastive_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d = pairwise_distance (eps added to the difference)."""
    reduction = _legacy(size_average, reduce, reduction)
    if not (tuple(anchor.shape) == tuple(positive.shape) == tuple(negative.shape)):
        raise ValueError(f"triplet_margin_loss: anchor {tuple(anchor.shape)}, positive {tuple(positive.shape)} and "
                         f"negative {tuple(negative.shape)} must have one shape")
    from .functional import pairwise_distance
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = _ops.minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return _reduce(_ops.relu(d_ap - d_an + margin), reduction, "triplet_margin_loss")


def asymmetric_mse_loss(input, target, lam=10.0, reduction="mean"):
    """Squared error weighted by `lam` where the model under-predicts (input < target), else 1:

        L = lam (y - yhat)^2 if yhat < y else (y - yhat)^2

    For an ETA model, predicting too early (the truck arrives later than promised) costs lam
    times more than predicting too late, which biases the fit towards over-prediction."""
    if lam < 1:
        raise ValueError(f"asymmetric_mse_loss: lam must be >= 1 (the under-prediction penalty), got {lam}")
    target = _same_shape(input, target, "asymmetric_mse_loss")
    d = target - input
    sq = d * d
    return _reduce(_ops.where(input < target, lam * sq, sq), reduction, "asymmetric_mse_loss")


# --- issue 12: torch's remaining losses ----------------------------------------------------------
def _legacy(size_average, reduce, reduction):
    """torch's _Reduction.legacy_get_string: the deprecated size_average/reduce pair, where either is given,
    overrides `reduction` (None counts as True)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else ("sum" if reduce else "none")


def _check_reduction(reduction, who):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{who}: {reduction} is not a valid value for reduction")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise target * (log target - input) (xlogy: 0 where target is 0), or with log_target
    exp(target) * (target - input); 'batchmean' divides the sum by input.size(0)."""
    reduction = _legacy(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: {reduction} is not a valid value for reduction")
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:
        loss = _ag.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction, "kl_div")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input (log_input), else input - target * log(input + eps); `full` adds
    Stirling's target log target - target + 0.5 log(2 pi target) where target > 1."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    if log_input:
        loss = _ops.exp(input) - target * input
    else:
        loss = input - target * _ops.log(input + eps)
    if full:
        # torch's formula as written: at target 0 its target gradient is 0 * log'(0) = nan, and so is ours
        stirling = target * _ops.log(target) - target + 0.5 * _ops.log(2 * math.pi * target)
        big = target > 1
        loss = loss + _ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) [+ 0.5 log 2 pi]; var is clamped to eps without
    recording (the gradient passes the clamp as identity, as torch's in-place clamp under no_grad)."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = _ag.full(tuple(input.shape), float(var), dtype=input.dtype, device=input.device)
    elif bool((var < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    ishape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif not (len(ishape) == len(vshape) and sum(v for i, v in zip(ishape, vshape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {vshape} for input of size {ishape}")
    _check_reduction(reduction, "gaussian_nll_loss")
    var = var + (var.detach().clamp(min=eps) - var.detach())
    loss = 0.5 * (_ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos where target == 1, max(0, cos - margin) where target == -1, 0 elsewhere; cos =
    x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) (ATen's EPSILON)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "cosine_embedding_loss")
    if target.ndim not in (0, 1):
        raise RuntimeError("cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported")
    if target.ndim == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise RuntimeError(f"cosine_embedding_loss: 1D target tensor expects 2D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    if target.ndim == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise RuntimeError(f"cosine_embedding_loss: 0D target tensor expects 1D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    d = target.ndim
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + 1e-12
    m2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / _ops.sqrt(m1 * m2)
    zero = _ag.zeros((), dtype=cos.dtype, device=cos.device)
    out = _ops.where(target == 1, 1 - cos, zero) + _ops.where(target == -1, (cos - margin).clamp(min=0), zero)
    return _reduce(out, reduction, "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin), broadcast."""
    reduction = _legacy(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss: All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
                           f"{tuple(target.shape)} ")
    _check_reduction(reduction, "margin_ranking_loss")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction, "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target != -1, plus max(0, margin - input) where target != 1 (ATen's sum of both)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "hinge_embedding_loss")
    zero = _ag.zeros((), dtype=input.dtype, device=input.device)
    out = _ops.where(target != 1, (margin - input).clamp(min=0), zero) + _ops.where(target != -1, input, zero)
    return _reduce(out, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target input)), as ATen's log1p(exp(.))."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "soft_margin_loss")
    return _reduce(_ops.log1p(_ops.exp(-input * target)), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(y logsigmoid(x) + (1 - y) logsigmoid(-x)), weighted, averaged over the class (last) dim."""
    from .functional_activation import logsigmoid
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cdim = input.ndim - 1
    loss = loss.sum(cdim) / input.shape[cdim]
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


def _margin_shapes(input, who):
    """torch's check for the margin losses: a 0-d, 1-d (C,) or 2-d (N, C) input with C > 0; as (N, C)."""
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise RuntimeError(f"{who}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    return input.reshape(1, -1) if input.ndim < 2 else input


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, sum over its targets j (the entries before the first -1, duplicates counted as
    often as they appear) and non-target classes i of max(0, 1 - x[j] + x[i]), divided by C."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_margin_loss")
    x = _margin_shapes(input, "multilabel_margin_loss")
    if tuple(target.shape) != tuple(input.shape) or target.dtype is not _ag.int64:
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} (dtype "
                           f"{target.dtype.name}) for input of size: {list(input.shape)}")
    t = target.reshape(x.shape)
    n, c = x.shape
    if t.numel() and bool(((t < -1) | (t >= c)).any()):
        raise RuntimeError(f"multilabel_margin_loss: target values must be in [-1, {c}), got "
                           f"{int(t.min())}..{int(t.max())}")
    with _ag.no_grad():
        ar = _ag.arange(c, device=x.device)
        stop = t == -1
        first = _ops.where(stop.any(1), stop.to(_ag.int64).argmax(1), c)
        valid = ar < first.unsqueeze(1)                                       # (N, K): the listed targets
        safe = _ops.where(valid, t, 0)
        listed = ((safe.unsqueeze(-1) == ar) & valid.unsqueeze(-1)).any(1)     # (N, C): is a target class
        keep = valid.unsqueeze(-1) & ~listed.unsqueeze(1)                      # (N, K, C)
    xt = x[_ag.arange(n, device=x.device).unsqueeze(1), safe]                  # (N, K)
    z = (1 - xt.unsqueeze(-1) + x.unsqueeze(1)).clamp(min=0)
    loss = _ops.where(keep, z, 0.0).sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multilabel_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Per sample, sum over classes i != y of w[y] max(0, margin - x[y] + x[i])^p, divided by C."""
    reduction = _legacy(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("multi_margin_loss: weight must be one-dimensional")
    _check_reduction(reduction, "multi_margin_loss")
    x = _margin_shapes(input, "multi_margin_loss")
    n, c = x.shape
    if target.dtype is not _ag.int64 or target.numel() != n or target.ndim > 1:
        raise RuntimeError(f"multi_margin_loss: inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    t = target.reshape(n)
    if n and bool(((t < 0) | (t >= c)).any()):
        raise RuntimeError(f"multi_margin_loss: target out of range: values must be in [0, {c}), got "
                           f"{int(t.min())}..{int(t.max())}")
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"multi_margin_loss: inconsistent weight size, expected {c} but got "
                           f"{list(weight.shape)}")
    rows = _ag.arange(n, device=x.device)
    xy = x[rows, t].unsqueeze(1)
    z = (margin - xy + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t].unsqueeze(1)
    other = t.unsqueeze(1) != _ag.arange(c, device=x.device)
    loss = _ops.where(other, z, 0.0).sum(1) / c
    if input.ndim < 2 and target.ndim == 0 or input.ndim == 0:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multi_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0), d = distance_function (pairwise_distance by default);
    with swap, d(a, n) is replaced by min(d(a, n), d(p, n))."""
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"triplet_margin_with_distance_loss: The anchor, positive, and negative tensors are "
                           f"expected to have the same number of dimensions, but got: anchor {anchor.ndim}D, "
                           f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    if distance_function is None:
        from .functional import pairwise_distance as distance_function
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = _ops.minimum(d_neg, distance_function(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction, "triplet_margin_with_distance_loss")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) over `dim`, broadcast (torch 2.x): the norms are
    clamped without recording, so the gradient passes the clamp as identity, as torch's."""
    if not isinstance(x1, Tensor) or not isinstance(x2, Tensor):
        raise TypeError("cosine_similarity: x1 and x2 must be Tensors")
    dt = _ag.promote_types(x1.dtype, x2.dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"cosine_similarity: expected common dtype to be floating point, yet common dtype is "
                           f"{dt.name}")
    x1, x2 = (x1 if x1.dtype is dt else x1.to(dt)), (x2 if x2.dtype is dt else x2.to(dt))
    try:
        x1, x2 = _ag.broadcast_tensors(x1, x2)
    except (RuntimeError, ValueError) as e:
        raise RuntimeError(f"cosine_similarity: x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} do not broadcast: "
                           f"{e}") from None
    nd = x1.ndim
    if not -max(nd, 1) <= dim < max(nd, 1):
        raise IndexError(f"cosine_similarity: Dimension out of range (expected to be in range of "
                         f"[{-max(nd, 1)}, {max(nd, 1) - 1}], but got {dim})")

    def unit(x):
        n = _ops.norm(x, 2, dim=dim, keepdim=True)
        n = n + (n.detach().clamp(min=eps) - n.detach())
        return x / n
    return (unit(x1) * unit(x2)).sum(dim)


def pdist(input, p=2):
    """p-norm distances between the rows of an (N, M) input, pairs i < j in row-major order."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist: pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"pdist: pdist only supports floating-point dtypes, got {input.dtype.name}")
    if p < 0:
        raise RuntimeError(f"pdist: pdist only supports non-negative p values, got {p}")
    n = input.shape[0]
    xp = input._backend.xp
    i64 = input._backend.native_dtype(_ag.int64)
    ar = xp.arange(n, dtype=i64)
    upper = xp.reshape(ar, (n, 1)) < xp.reshape(ar, (1, n))
    ii = xp.reshape(xp.broadcast_to(xp.reshape(ar, (n, 1)), (n, n))[upper], (-1,))
    jj = xp.reshape(xp.broadcast_to(xp.reshape(ar, (1, n)), (n, n))[upper], (-1,))
    from autograd.tensor import _wrap
    d = input[_wrap(ii, input._backend)] - input[_wrap(jj, input._backend)]
    return _ops.norm(d, p, dim=-1)


class _CtcTorchGrad(_ag.Function):
    """Adds nothing to the loss and exp(log_probs) (times `w`) to its gradient: torch's ctc backward
    returns exp(lp) - occupancy, i.e. the true gradient plus exp(lp) on every frame t < input_length
    (it assumes log_probs come from log_softmax, whose backward removes that term again). `w` is 1,
    0 for zeroed infinite losses, nan for infinite ones (torch's gradient there)."""

    @staticmethod
    def forward(ctx, lp, w):
        ctx.save_for_backward(lp, w)
        return _ag.zeros(lp.shape[1], dtype=lp.dtype, device=lp.device)

    @staticmethod
    def backward(ctx, g):
        lp, w = ctx.saved_tensors
        return _ops.exp(lp) * (w * g).unsqueeze(-1), None


def _lengths(v, n, device, who, what):
    if isinstance(v, Tensor):
        v = v.reshape(-1)
        if v.dtype.is_floating_point:
            raise RuntimeError(f"{who}: {what} must be integral, got {v.dtype.name}")
        v = v.to(_ag.int64)
        return v if v.device == device else v.to(device)
    if isinstance(v, int):
        v = [v]
    return _ag.tensor(list(v), dtype=_ag.int64, device=device)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification (Graves et al. 2006): -log of the summed probability of
    every alignment of each target to its input frames.

    log_probs (T, N, C) or unbatched (T, C); targets padded (N, S) or concatenated 1-D. The forward
    (alpha) recursion runs over the 2S+1 extended labels of the whole batch at once, looping over time
    only, in probability space rescaled at each step (loss = -sum log c_t - log final), so autograd
    never sees -inf: impossible alignments give inf (0 with zero_infinity) without nan elsewhere.
    'mean' divides each loss by its target length (at least 1), then averages over the batch."""
    who = "ctc_loss"
    _check_reduction(reduction, who)
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"{who}: log_probs must be (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    if not log_probs.dtype.is_floating_point:
        raise RuntimeError(f"{who}: log_probs must be floating point, got {log_probs.dtype.name}")
    if targets.dtype.is_floating_point or targets.dtype is _ag.bool:
        raise RuntimeError(f"{who}: targets must be integral, got {targets.dtype.name}")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    t_len, n, c = lp.shape
    dev = lp.device
    if not 0 <= blank < c:
        raise RuntimeError(f"{who}: blank must be in label range [0, {c}), got {blank}")
    il = _lengths(input_lengths, n, dev, who, "input_lengths")
    tl = _lengths(target_lengths, n, dev, who, "target_lengths")
    if il.shape[0] != n or tl.shape[0] != n:
        raise RuntimeError(f"{who}: Expected input_lengths and target_lengths of size {n} (the batch), got "
                           f"{il.shape[0]} and {tl.shape[0]}")
    if n and int(il.max()) > t_len:
        raise RuntimeError(f"{who}: Expected input_lengths to have value at most {t_len}, but got value "
                           f"{int(il.max())}")
    if n and (int(il.min()) < 0 or int(tl.min()) < 0):
        raise RuntimeError(f"{who}: input_lengths and target_lengths must be non-negative")
    targets = targets.to(_ag.int64)
    s_max = int(tl.max()) if n else 0
    ar_n = _ag.arange(n, device=dev)
    if unbatched or targets.ndim == 2:                     # padded (N, S), or (S,) for one sequence
        tg = targets.reshape(1, -1) if unbatched else targets
        if tg.shape[0] != n:
            raise RuntimeError(f"{who}: targets of shape {tuple(targets.shape)} do not match batch size {n}")
        if tg.shape[1] < s_max:
            raise RuntimeError(f"{who}: Expected tensor to have size at least {s_max} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets'")
        tg = tg[:, :s_max]
    elif targets.ndim == 1:                                # concatenated: gather into (N, S_max)
        if int(tl.sum()) != targets.shape[0]:
            raise RuntimeError(f"{who}: concatenated targets of length {targets.shape[0]} must hold "
                               f"sum(target_lengths) = {int(tl.sum())} labels")
        starts = (tl.unsqueeze(0) * (ar_n.unsqueeze(0) < ar_n.unsqueeze(1))).sum(1)     # exclusive cumsum
        s_ar = _ag.arange(s_max, device=dev)
        inside = s_ar < tl.unsqueeze(1)
        tg = targets[_ops.where(inside, starts.unsqueeze(1) + s_ar, 0)] if s_max else \
            _ag.zeros((n, 0), dtype=_ag.int64, device=dev)
    else:
        raise RuntimeError(f"{who}: targets must be 1-D (concatenated) or 2-D (N, S), got {tuple(targets.shape)}")
    L = 2 * s_max + 1
    with _ag.no_grad():
        s_ar = _ag.arange(L, device=dev)
        odd = (s_ar % 2) == 1
        lab = tg[:, ((s_ar - 1) // 2).clamp(0, max(s_max - 1, 0))] if s_max else \
            _ag.full((n, L), blank, dtype=_ag.int64, device=dev)
        ext = _ops.where(odd, lab, blank)                                    # (N, L) extended labels
        if s_max and bool(((ext < 0) | (ext >= c)).any()):
            raise RuntimeError(f"{who}: target labels must be in [0, {c})")
        ln = 2 * tl + 1                                                      # extended length per sample
        valid = s_ar < ln.unsqueeze(1)
        prev2 = _ag.cat([_ag.full((n, 2), -1, dtype=_ag.int64, device=dev), ext[:, :-2]], 1)[:, :L] \
            if L > 2 else _ag.full((n, L), -1, dtype=_ag.int64, device=dev)
        skip = odd & (s_ar >= 2) & (ext != prev2)
        onehot = ((ext.unsqueeze(-1) == _ag.arange(c, device=dev)) & valid.unsqueeze(-1)).to(lp.dtype)
    probs = _ops.exp(lp).permute(1, 0, 2) @ onehot.transpose(1, 2)          # (N, T, L)
    zeros1 = _ag.zeros((n, 1), dtype=lp.dtype, device=dev)
    alpha = _ag.zeros((n, L), dtype=lp.dtype, device=dev)
    logsum = _ag.zeros(n, dtype=lp.dtype, device=dev)
    dead = _ag.zeros(n, dtype=_ag.bool, device=dev)
    for t in range(t_len):
        e = probs[:, t]
        if t == 0:
            new = _ops.where(s_ar < 2, e, 0.0)
        else:
            a1 = _ag.cat([zeros1, alpha[:, :-1]], 1)
            a2 = _ag.cat([zeros1, a1[:, :-1]], 1)
            new = (alpha + a1 + _ops.where(skip, a2, 0.0)) * e
        total = new.sum(1)
        active = t < il
        ok = total > 0
        safe = _ops.where(ok, total, 1.0)
        with _ag.no_grad():
            dead = dead | (active & ~ok)
        logsum = logsum + _ops.where(active & ok, _ops.log(safe), 0.0)
        alpha = _ops.where(active.unsqueeze(1), new / safe.unsqueeze(1), alpha)
    final = alpha[ar_n, ln - 1] + _ops.where(ln >= 2, alpha[ar_n, (ln - 2).clamp(min=0)], 0.0)
    with _ag.no_grad():
        ok = (final > 0) & ~dead & (il > 0)
    nll = _ops.where(ok, -(logsum + _ops.log(_ops.where(ok, final, 1.0))), float("inf"))
    if zero_infinity:
        nll = _ops.where(ok, nll, 0.0)
    with _ag.no_grad():
        w = _ops.where(ok, 1.0, 0.0 if zero_infinity else float("nan")).to(lp.dtype)
        frames = _ops.where(_ag.arange(t_len, device=dev).unsqueeze(1) < il, w, 0.0)     # (T, N)
    nll = nll + _CtcTorchGrad.apply(lp, frames)
    if reduction == "mean":
        return (nll / tl.clamp(min=1).to(lp.dtype)).mean()
    if reduction == "sum":
        return nll.sum()
    return nll.reshape(()) if unbatched else nll
