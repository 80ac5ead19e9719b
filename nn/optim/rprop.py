"""Rprop (sign-based step sizes) and ASGD (averaged SGD): torch.optim's single-tensor updates.

ASGD keeps `eta` and `mu` as scalar-dtype (float32) tensors, as torch does; their rounding feeds
the update, so they are kept the same way here.
"""
from __future__ import annotations

import autograd as _ag

from .optimizer import (Optimizer, _bump_step, _step_tensor, check_lr, new_step, params_with_grad, replayed_value,
                        scalar, scalar_dtype, tracing)


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, grad in params_with_grad(group, "Rprop"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["prev"] = _ag.zeros_like(p)
                    state["step_size"] = _ag.full_like(grad, scalar(group["lr"]))
                _bump_step(state)
                prev, step_size = state["prev"], state["step_size"]
                s = (grad * prev).sign()
                down = s < 0
                factor = _ag.where(s > 0, _ag.full_like(s, etaplus),
                                   _ag.where(down, _ag.full_like(s, etaminus), _ag.ones_like(s)))
                step_size.mul_(factor).clamp_(step_size_min, step_size_max)
                grad = _ag.where(down, _ag.zeros_like(grad), grad)   # after a sign change, no step
                p.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0, wd = (scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"],
                                        group["weight_decay"])
            for p, grad in params_with_grad(group, "ASGD"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group, on_device=True)
                    state["eta"] = _ag.tensor(lr, dtype=scalar_dtype())
                    state["mu"] = _ag.tensor(1.0, dtype=scalar_dtype())
                    state["ax"] = _ag.zeros_like(p)
                if tracing(p) and tracing(state["eta"]):
                    self._traced_update(p, grad, state, lr, lambd, alpha, t0, wd)
                    continue
                step = _step_tensor(state)
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                eta, mu, ax = state["eta"], state["mu"], state["ax"]
                eta_value = eta.item()
                p.mul_(1 - lambd * eta_value)
                p.add_(grad, alpha=-eta_value)
                if mu.item() != 1:
                    ax.add_((p - ax) * mu)
                else:
                    ax.copy_(p)
                # torch.as_tensor(float) is of the default dtype: the new values round through it
                eta.copy_(_ag.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
                mu.copy_(_ag.tensor(1 / max(1, step - t0)))
        return loss


def _asgd_traced_update(p, grad, state, lr, lambd, alpha, t0, wd):
    """ASGD's update while autograd.compile records it: the floats eager reads with `.item()`
    (step, eta, mu) enter through recorded host kernels re-run per replay, and the branch on
    `mu != 1` is a `where` of the two values eager would store, so the replay is bitwise eager."""
    step = _bump_step(state)
    if wd != 0:
        grad = grad.add(p, alpha=wd)
    eta, mu, ax = state["eta"], state["mu"], state["ax"]
    p.mul_(replayed_value(_asgd_decay, (eta,), p, lambd))
    p.add_(grad * replayed_value(_neg, (eta,), p))        # = add_(grad, alpha=-eta_value)
    averaging = replayed_value(_not_one, (mu,), dtype=_ag.bool)
    ax.copy_(_ag.where(averaging, ax + (p - ax) * mu, p))
    default = _ag.get_default_dtype()
    eta.copy_(replayed_value(_asgd_eta, (step,), None, lr, lambd, alpha, dtype=default))
    mu.copy_(replayed_value(_asgd_mu, (step,), None, t0, dtype=default))


def _asgd_decay(eta, lambd):
    return 1 - lambd * eta


def _neg(v):
    return -v


def _not_one(v):
    return v != 1


def _asgd_eta(step, lr, lambd, alpha):
    return lr / ((1 + lambd * lr * step) ** alpha)


def _asgd_mu(step, t0):
    return 1 / max(1, step - t0)


ASGD._traced_update = staticmethod(_asgd_traced_update)
