"""Loss modules: each holds its options (reduction, weights, margins) and calls `nn.functional`.

Constructor arguments and defaults are PyTorch's; class weights are registered as buffers as in
torch (so they follow `.to()` and appear in state_dict). FocalLoss, ContrastiveLoss and
AsymmetricMSELoss have no torch counterpart; see their functional forms for the conventions.
"""
from __future__ import annotations

from . import functional as F
from .module import Module


def _check_reduction(reduction, who):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _check_reduction(reduction, type(self).__name__)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_WeightedLoss):
    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class NLLLoss(_WeightedLoss):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class FocalLoss(_Loss):
    """Binary focal loss on logits (torchvision.ops.sigmoid_focal_loss); reduction defaults to 'mean'
    here, like the other loss modules (the functional form defaults to torchvision's 'none')."""

    def __init__(self, alpha=0.25, gamma=2.0, reduction="mean"):
        super().__init__(reduction)
        self.alpha, self.gamma = alpha, gamma

    def forward(self, input, target):
        return F.sigmoid_focal_loss(input, target, self.alpha, self.gamma, self.reduction)


class ContrastiveLoss(_Loss):
    """1/2 [y d^2 + (1 - y) max(0, margin - d)^2] for Siamese pairs; y = 1 means similar."""

    def __init__(self, margin=1.0, reduction="mean", eps=1e-6):
        super().__init__(reduction)
        self.margin, self.eps = margin, eps

    def forward(self, x1, x2, label):
        return F.contrastive_loss(x1, x2, label, self.margin, self.reduction, self.eps)


class TripletMarginLoss(_Loss):
    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     self.reduction)


class AsymmetricMSELoss(_Loss):
    """Squared error, times `lam` (>= 1) where the prediction is below the target (under-prediction)."""

    def __init__(self, lam=10.0, reduction="mean"):
        super().__init__(reduction)
        if lam < 1:
            raise ValueError(f"AsymmetricMSELoss: lam must be >= 1, got {lam}")
        self.lam = lam

    def forward(self, input, target):
        return F.asymmetric_mse_loss(input, target, self.lam, self.reduction)

    def extra_repr(self):
        return f"lam={self.lam}"
