"""The per-coordinate adaptive-rate family: RMSprop (momentum, centered), Adagrad, Adadelta.

torch.optim's single-tensor updates, op for op.
"""
from __future__ import annotations

import autograd as _ag

from .optimizer import (Optimizer, _bump_step, _step_tensor, check_fused, check_lr, new_step, params_with_grad,
                        replayed_scalar, scalar, tracing)


def _nonneg(**kw):
    for name, v in kw.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid {name} value: {v}")


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        _nonneg(epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps, wd, mom = (group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
            lr = scalar(lr)
            for p, grad in params_with_grad(group, "RMSprop"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["square_avg"] = _ag.zeros_like(p)
                    if mom > 0:
                        state["momentum_buffer"] = _ag.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = _ag.zeros_like(p)
                _bump_step(state)
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.lerp_(grad, 1 - alpha)
                    avg = (square_avg - grad_avg * grad_avg).sqrt()
                else:
                    avg = square_avg.sqrt()
                avg = avg + eps
                if mom > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(mom).addcdiv_(grad, avg)
                    p.add_(buf, alpha=-lr)
                else:
                    p.addcdiv_(grad, avg, value=-lr)
        return loss


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        _nonneg(lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value,
                epsilon=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        check_fused(defaults, "Adagrad")
        super().__init__(params, defaults)
        for group in self.param_groups:            # torch creates Adagrad's state up front
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        self.state[p] = {"step": new_step(p, group), "sum": _ag.full_like(p, group["initial_accumulator_value"])}
        return self.state[p]

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            for p, grad in params_with_grad(group, "Adagrad"):
                state = self.state.get(p) or self._init_state(p, group)
                traced = tracing(p)             # autograd.compile: the step size re-run per replay
                step = _bump_step(state) if traced else _step_tensor(state)
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state["sum"].addcmul_(grad, grad, value=1)
                std = state["sum"].sqrt() + group["eps"]
                if traced:
                    p.add_(grad / std * replayed_scalar(_neg_adagrad_lr, step, p, lr, group["lr_decay"]))
                else:
                    clr = lr / (1 + (step - 1) * group["lr_decay"])
                    p.addcdiv_(grad, std, value=-clr)
        return loss


def _neg_adagrad_lr(step, lr, lr_decay):
    return -(lr / (1 + (step - 1) * lr_decay))


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _nonneg(epsilon=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
            for p, grad in params_with_grad(group, "Adadelta"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["square_avg"] = _ag.zeros_like(p)
                    state["acc_delta"] = _ag.zeros_like(p)
                _bump_step(state)
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                std = (square_avg + eps).sqrt()
                delta = (acc_delta + eps).sqrt() / std * grad
                acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                p.add_(delta, alpha=-lr)
        return loss
