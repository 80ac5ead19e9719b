"""Adam (with amsgrad) and AdamW: torch.optim.Adam / AdamW's single-tensor update, step for step.

AdamW differs only in decoupled weight decay: p *= 1 - lr * wd before the Adam step, instead
of wd * p added to the gradient.
"""
from __future__ import annotations

import math

import autograd as _ag
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _step_tensor, params_with_grad


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas}, eps={eps} or "
                             f"weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p, grad in params_with_grad(group):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = _ag.tensor(0.0)
                    state["exp_avg"] = _ag.zeros_like(p)
                    state["exp_avg_sq"] = _ag.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = _ag.zeros_like(p)
                step = _step_tensor(state)
                if wd != 0:
                    if self._decoupled:
                        p.mul_(1 - lr * wd)
                    else:
                        grad = grad.add(p, alpha=wd)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step_size = lr / (1 - beta1 ** step)
                bc2_sqrt = math.sqrt(1 - beta2 ** step)
                if group["amsgrad"]:
                    mx = state["max_exp_avg_sq"]
                    mx.copy_(_ag.maximum(mx, exp_avg_sq))
                    denom = (mx.sqrt() / bc2_sqrt).add_(eps)
                else:
                    denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


class AdamW(Adam):
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
