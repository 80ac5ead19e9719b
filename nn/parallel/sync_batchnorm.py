"""SyncBatchNorm (PyTorch's `torch.nn.SyncBatchNorm`): batch normalisation whose batch statistics are
taken over the whole global batch, across the ranks of a process group.

In training, each rank's per-channel sum and sum of squares and its element count are all-reduced by
a differentiable all-reduce (its gradient is the all-reduce of the gradient), so the normalisation
and its backward are the ones of BatchNorm on the concatenated batch. Outside a process group, or in
eval with running stats, it is plain BatchNorm.
"""
from __future__ import annotations

import autograd as _ag
from autograd import distributed as dist
from autograd.function import Function

from ..normalization import _BatchNorm


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        y = x.clone()
        dist.all_reduce(y, dist.ReduceOp.SUM, group=group)
        return y

    @staticmethod
    def backward(ctx, g):
        g = g.clone()
        dist.all_reduce(g, dist.ReduceOp.SUM, group=ctx.group)
        return g, None


class SyncBatchNorm(_BatchNorm):
    _ndims = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input):
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm({self.num_features}): input of shape {tuple(input.shape)} has "
                             f"{input.shape[1]} channels")
        use_batch = self.training or not self.track_running_stats
        if not use_batch or not dist.is_initialized() or dist.get_world_size(self.process_group) == 1:
            return super().forward(input)
        momentum = self._momentum()
        dims = [0] + list(range(2, input.ndim))
        shape = [1, -1] + [1] * (input.ndim - 2)
        count = input.numel() // input.shape[1]
        stats = _ag.cat([input.sum(dims), (input * input).sum(dims),
                         _ag.full((1,), float(count), dtype=input.dtype, device=input.device)])
        stats = _AllReduceSum.apply(stats, self.process_group)
        c = self.num_features
        n = stats[2 * c]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean * mean).clamp_min(0.0)
        if self.track_running_stats:
            with _ag.no_grad():
                total = float(n.item())
                unbiased = var.detach() * (total / max(total - 1.0, 1.0))
                self.running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                self.running_var.mul_(1 - momentum).add_(unbiased * momentum)
        y = (input - mean.reshape(shape)) / (var.reshape(shape) + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """A copy of the module tree's BatchNorm*d layers as SyncBatchNorm (parameters and buffers
        shared, as torch); other modules are returned as they are, with converted children."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group, bias=module.bias is not None if module.affine else True)
            if module.affine:
                with _ag.no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in list(module.named_children()):
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
