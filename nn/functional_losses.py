"""Loss functions with PyTorch's numerics (re-exported by `nn.functional`).

Each is composed from differentiable ops; cross-entropy works on logits through the stable
log_softmax, BCE-with-logits through softplus in its overflow-free form, and BCE on probabilities
through the fused primitive of `autograd.ops.loss` (PyTorch's log clamp at -100). The weighted-mean
rules (class weights, ignore_index, label smoothing) follow ATen's LossNLL.cpp. Losses PyTorch
lacks (focal, contrastive, asymmetric MSE) say their convention in their docstring.
"""
from __future__ import annotations

import autograd as _ag
from autograd import ops as _ops
from autograd.ops.loss import binary_cross_entropy_elementwise as _bce
from autograd.ops.loss import cross_entropy_index as _cross_entropy_index
from autograd.tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "sigmoid_focal_loss",
           "contrastive_loss", "triplet_margin_loss", "asymmetric_mse_loss"]


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


def mse_loss(input, target, reduction="mean"):
    target = _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    target = _same_shape(input, target, "l1_loss")
    return _reduce(_ops.abs(input - target), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _same_shape(input, target, "huber_loss", promote=False)
    d = input - target
    a = _ops.abs(d)
    return _reduce(_ops.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (plain L1 when beta == 0)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _same_shape(input, target, "smooth_l1_loss")
    d = input - target
    a = _ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    return _reduce(_ops.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction, "smooth_l1_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (y log x + (1-y) log(1-x)) with each log clamped at -100, as torch."""
    if isinstance(target, Tensor) and target.dtype is not input.dtype:
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target.dtype.name} but expected {input.dtype.name} "
                           f"(input {input.dtype.name}, target {target.dtype.name})")
    target = _same_shape(input, target, "binary_cross_entropy")
    # torch raises for values outside [0, 1], NaN included (a NaN input is not a loss of 100)
    for name, t in (("input", input), ("target", target)):
        if t.numel() and not bool(((t >= 0) & (t <= 1)).all()):
            raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1"
                               + ("; use binary_cross_entropy_with_logits on logits" if name == "input" else ""))
    loss = _bce(input, target)
    if weight is not None:
        loss = loss * (weight if weight.dtype is input.dtype else weight.to(input.dtype))
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """(1 - y) x + (1 + (pw - 1) y) softplus(-x), weighted (ATen's formula).

    softplus(-x) = m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0) held constant: no exp
    overflows (logits of +-1000 give exact losses), and since the value does not depend on m the
    gradient is exactly sigmoid(x) - y everywhere, x = 0 included (relu/abs would have kinks there)."""
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
    if bool(valid.any()):
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


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-w[y] logp[y] per element; 'mean' divides by the sum of w[y] over non-ignored targets."""
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


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy on logits (class dim 1, or 0 for a 1-D input) against class indices or
    class probabilities, with torch's weighting, ignore_index and label smoothing rules."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    if not target.dtype.is_floating_point and target.dtype not in (_ag.int64, _ag.uint8):
        raise RuntimeError(f"cross_entropy: expected target dtype to be Long or Byte, but got {target.dtype.name}")
    _check_weight(input, weight, c, "cross_entropy")
    if input.ndim == 2 and weight is None and label_smoothing == 0 and not target.dtype.is_floating_point \
            and reduction in ("mean", "sum", "none"):                        # the common case, fused
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
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
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


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d = pairwise_distance (eps added to the difference)."""
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
