"""The Adam family: Adam (amsgrad, decoupled weight decay), AdamW, Adamax, NAdam, RAdam.

Each is torch.optim's single-tensor update (torch's default on CPU), op for op, so float64 runs
agree with torch to the last few ulps. Scalars torch keeps as float32 tensors (`step`, NAdam's
`mu_product`) are float32 tensors here too, because their rounding feeds the update.
Temporaries are built with out-of-place ops so that a `differentiable=True` step records a
graph whose saved tensors are never overwritten.
"""
from __future__ import annotations

import autograd as _ag

from .optimizer import (Optimizer, _bump_step, _step_tensor, check_fused, check_lr, new_step, params_with_grad,
                        replayed_scalar, replayed_scalar2, replayed_value, scalar, tracing, value_of)


def _check_betas(lr, betas, eps, weight_decay):
    check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _weight_decay(p, grad, lr, wd, decoupled):
    if wd != 0:
        if decoupled:
            p.mul_(1 - lr * wd)
        else:
            grad = grad.add(p, alpha=wd)
    return grad


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_betas(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        check_fused(defaults, type(self).__name__)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            # a tensor lr stays a (float32) tensor in the step-size arithmetic, as in torch
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            amsgrad, diff = group["amsgrad"], group["differentiable"]
            for p, grad in params_with_grad(group, type(self).__name__):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["exp_avg"] = _ag.zeros_like(p)
                    state["exp_avg_sq"] = _ag.zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _ag.zeros_like(p)
                tensor_path = diff or group["capturable"]
                # autograd.compile is recording: the same float arithmetic, re-run per replay
                traced = not tensor_path and tracing(p)
                step = _bump_step(state) if tensor_path or traced else _step_tensor(state)
                grad = _weight_decay(p, grad, lr, wd, group["decoupled_weight_decay"])
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if amsgrad:
                    mx = state["max_exp_avg_sq"]
                    mx.copy_(_ag.maximum(mx.clone(), exp_avg_sq.clone()) if diff else _ag.maximum(mx, exp_avg_sq))
                    sq = mx
                else:
                    sq = exp_avg_sq
                if tensor_path:
                    # torch's tensor branch: the bias corrections are scalar-dtype tensors of `step`
                    step_t = state["step"]
                    step_size_neg = -(lr / (1 - beta1 ** step_t))
                    bc2_sqrt = (1 - beta2 ** step_t).sqrt()
                    denom = sq.sqrt() / (bc2_sqrt * step_size_neg) + eps / step_size_neg
                    p.addcdiv_(exp_avg.clone() if diff else exp_avg, denom)
                elif traced:
                    if isinstance(lr, _ag.Tensor):      # its value is a guard of the compiled step
                        neg_step_size = replayed_scalar(_neg_step_size_tensor_lr, step, p, value_of(lr), beta1,
                                                        lr._backend, lr._data.dtype)
                    else:
                        neg_step_size = replayed_scalar(_neg_step_size, step, p, lr, beta1)
                    bc2_sqrt = replayed_scalar(_bias_correction2_sqrt, step, p, beta2)
                    denom = sq.sqrt() / bc2_sqrt + eps
                    p.add_(exp_avg / denom * neg_step_size)     # = addcdiv_(.., value=-step_size)
                else:
                    step_size = scalar(lr / (1 - beta1 ** step))
                    denom = sq.sqrt() / (1 - beta2 ** step) ** 0.5 + eps
                    p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


def _neg_step_size(step, lr, beta1):
    return -(lr / (1 - beta1 ** step))


def _neg_step_size_tensor_lr(step, lr, beta1, be, dt):
    """-(lr / (1 - beta1 ** step)).item() for a tensor lr of native dtype dt: the division in dt."""
    return -float(be.xp.asarray(lr, dtype=dt) / be.xp.asarray(1 - beta1 ** step, dtype=dt))


def _bias_correction2_sqrt(step, beta2):
    return (1 - beta2 ** step) ** 0.5


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_betas(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = scalar(group["lr"]), group["betas"], group["eps"], group["weight_decay"]
            for p, grad in params_with_grad(group, "Adamax"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["exp_avg"] = _ag.zeros_like(p)
                    state["exp_inf"] = _ag.zeros_like(p)
                traced = tracing(p)             # autograd.compile: the step size re-run per replay
                step = _bump_step(state) if traced else _step_tensor(state)
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_inf.copy_(_ag.maximum(exp_inf * beta2, grad.abs() + eps))
                if traced:
                    p.add_(exp_avg / exp_inf * replayed_scalar(_neg_step_size, step, p, lr, beta1))
                else:
                    clr = lr / (1 - beta1 ** step)
                    p.addcdiv_(exp_avg, exp_inf, value=-clr)
        return loss


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_betas(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = scalar(group["lr"]), group["betas"], group["eps"], group["weight_decay"]
            md = group["momentum_decay"]
            for p, grad in params_with_grad(group, "NAdam"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["mu_product"] = new_step(p, group, 1.0)
                    state["exp_avg"] = _ag.zeros_like(p)
                    state["exp_avg_sq"] = _ag.zeros_like(p)
                mu_product = state["mu_product"]
                # autograd.compile is recording: the same float arithmetic, re-run per replay
                traced = tracing(p) and tracing(mu_product)
                if traced:
                    step = _bump_step(state)
                    bias_correction2 = replayed_scalar(_nadam_bc2, step, p, beta2)
                    mu = replayed_scalar(_nadam_mu, step, mu_product, beta1, md, 0)
                else:
                    step = _step_tensor(state)
                    bias_correction2 = 1 - beta2 ** step
                    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
                    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
                grad = _weight_decay(p, grad, lr, wd, group["decoupled_weight_decay"])
                mu_product.mul_(mu)                     # in the scalar dtype (float32), as torch
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (exp_avg_sq / bias_correction2).sqrt() + eps
                if traced:
                    v1 = replayed_scalar2(_nadam_value1, step, mu_product, p, lr, beta1, md)
                    v2 = replayed_scalar2(_nadam_value2, step, mu_product, p, lr, beta1, md)
                    p.add_(grad / denom * v1)           # = addcdiv_(grad, denom, value=...)
                    p.add_(exp_avg / denom * v2)
                    continue
                mu_prod = mu_product.item()
                mu_product_next = mu_prod * mu_next
                p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_prod))
                p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        return loss


def _nadam_bc2(step, beta2):
    return 1 - beta2 ** step


def _nadam_mu(step, beta1, md, ahead):
    return beta1 * (1.0 - 0.5 * (0.96 ** ((step + ahead) * md)))


def _nadam_value1(step, mu_prod, lr, beta1, md):
    return -lr * (1.0 - _nadam_mu(step, beta1, md, 0)) / (1.0 - mu_prod)


def _nadam_value2(step, mu_prod, lr, beta1, md):
    mu_next = _nadam_mu(step, beta1, md, 1)
    return (-lr * mu_next) / (1.0 - mu_prod * mu_next)


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_betas(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = scalar(group["lr"]), group["betas"], group["eps"], group["weight_decay"]
            for p, grad in params_with_grad(group, "RAdam"):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = new_step(p, group)
                    state["exp_avg"] = _ag.zeros_like(p)
                    state["exp_avg_sq"] = _ag.zeros_like(p)
                traced = tracing(p)
                step = _bump_step(state) if traced else _step_tensor(state)
                grad = _weight_decay(p, grad, lr, wd, group["decoupled_weight_decay"])
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if traced:
                    # autograd.compile: the scalars are re-run per replay from the step count, and
                    # the branch on rho_t is a `where` of the two updates eager computes (each
                    # bitwise eager's), selected by a replayed flag: one plan for every step
                    bias_corrected_exp_avg = exp_avg / replayed_scalar(_radam_bc1, step, p, beta1)
                    bc2_sqrt = replayed_scalar(_radam_bc2_sqrt, step, p, beta2)
                    adaptive_lr = _rdiv(bc2_sqrt, exp_avg_sq.sqrt() + eps)
                    plain = bias_corrected_exp_avg * lr
                    rect = replayed_scalar(_radam_rect, step, p, beta2)
                    rectified = replayed_value(_radam_rectified, (step,), p, beta2, dtype=_ag.bool)
                    p.add_(_ag.where(rectified, plain * adaptive_lr * rect, plain), alpha=-1.0)
                    continue
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive_lr = (bias_correction2 ** 0.5) / (exp_avg_sq.sqrt() + eps)
                    p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
                else:
                    p.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
        return loss


def _rdiv(s, t):
    """s / t for a replayed 0-d scalar s as eager's `python_float / t`: reciprocal(t) * s (how
    Tensor.__rtruediv__ computes it, as torch; float16 meets the 0-d float32 s in float32)."""
    return _ag.reciprocal(t) * s


def _radam_bc1(step, beta1):
    return 1 - beta1 ** step


def _radam_bc2_sqrt(step, beta2):
    return (1 - beta2 ** step) ** 0.5


def _radam_rho_t(step, beta2):
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, rho_inf - 2 * step * (beta2 ** step) / (1 - beta2 ** step)


def _radam_rectified(step, beta2):
    return _radam_rho_t(step, beta2)[1] > 5.0


def _radam_rect(step, beta2):
    rho_inf, rho_t = _radam_rho_t(step, beta2)
    if not rho_t > 5.0:
        return 1.0                      # not used (the where takes the unrectified update)
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
