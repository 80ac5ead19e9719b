"""Stochastic weight averaging (torch.optim.swa_utils): AveragedModel (SWA or EMA averages of a
model's parameters, optionally its buffers), update_bn (recompute BatchNorm statistics for the
averaged weights), SWALR (anneal each group's lr to a constant SWA lr), and the average functions.

Ported from torch's source: on CPU torch averages with `avg + (cur - avg) / (n + 1)` per tensor,
on CUDA with one lerp per tensor; the same split is kept here so CPU results equal torch's.
"""
from __future__ import annotations

import copy
import itertools
import math
import warnings

import autograd as _ag
from autograd.grad_mode import no_grad

from ..module import Module
from .lr_scheduler import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def get_ema_multi_avg_fn(decay=0.999):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if ema_param_list[0].is_floating_point():
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if averaged_param_list[0].is_floating_point():
            w = 1 / (float(num_averaged) + 1)
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.lerp_(p_model, w)
        else:
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.add_((p_model - p_avg) / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters (and, with use_buffers, buffers) are running averages
    (SWA by default, or `avg_fn` / `multi_avg_fn`, e.g. get_ema_multi_avg_fn) of the model's."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        # the memo keeps each tensor's backend object shared: a plain Tensor's deepcopy would
        # otherwise duplicate it, and ops then see two "different" cpu devices
        memo = {id(t._backend): t._backend for t in itertools.chain(model.parameters(), model.buffers())}
        self.module = copy.deepcopy(model, memo)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _ag.tensor(0, dtype=_ag.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model):
        if self.use_buffers:
            self_param = itertools.chain(self.module.parameters(), self.module.buffers())
            model_param = itertools.chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        mine, theirs = [], []
        copy_param = int(self.n_averaged) == 0
        for p_avg, p_model in zip(self_param, model_param):
            p_model_ = p_model.detach().to(p_avg.device)
            mine.append(p_avg.detach())
            theirs.append(p_model_)
            if copy_param:
                p_avg.detach().copy_(p_model_)
        if int(self.n_averaged) > 0:
            n = self.n_averaged
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(mine, theirs, n)
            elif self.avg_fn is None:
                # torch: foreach lerp on CUDA, the per-tensor SWA formula elsewhere (CPU)
                fused = bool(mine) and mine[0].device.type == "cuda"
                if fused:
                    get_swa_multi_avg_fn()(mine, theirs, n)
                else:
                    avg_fn = get_swa_avg_fn()
                    for p_avg, p_model in zip(mine, theirs):
                        p_avg.copy_(avg_fn(p_avg, p_model, n.to(p_avg.device)))
            else:
                for p_avg, p_model in zip(mine, theirs):
                    p_avg.copy_(self.avg_fn(p_avg, p_model, n.to(p_avg.device)))
        if not self.use_buffers:
            for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged.add_(1)


def _is_batchnorm(m):
    return any(c.__name__ == "_BatchNorm" for c in type(m).__mro__)


@no_grad()
def update_bn(loader, model, device=None):
    """One pass over `loader` in train mode with cumulative (momentum=None) BatchNorm statistics."""
    momenta = {}
    for module in model.modules():
        if _is_batchnorm(module):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for inp in loader:
        if isinstance(inp, (list, tuple)):
            inp = inp[0]
        if device is not None:
            inp = inp.to(device)
        model(inp)
    for bn in momenta:
        bn.momentum = momenta[bn]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr from its value to `swa_lr` over `anneal_epochs` ('cos' or 'linear'),
    then keeps it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
