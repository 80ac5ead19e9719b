"""Adafactor and Muon (torch.optim.Adafactor / Muon), torch's single-tensor updates.

Adafactor keeps, for a matrix (or batch of matrices), only row and column second-moment
factors; for vectors and scalars a full one. Muon orthogonalizes the (Nesterov) momentum of a 2-D
parameter with a quintic Newton-Schulz iteration. torch runs that iteration in bfloat16; tapegrad
has no bfloat16, so it runs in float32 here (closer to the exact orthogonalization, not equal to
torch's bfloat16 rounding).
"""
from __future__ import annotations

import math

import autograd as _ag

from .optimizer import (Optimizer, _bump_step, _step_tensor, new_step, params_with_grad, replayed_scalar,
                        replayed_value, scalar, tracing)

_EPS = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}     # torch.finfo(dtype).eps


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, _ag.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, d, wd, beta2_decay = scalar(group["lr"]), group["d"], group["weight_decay"], group["beta2_decay"]
            eps1, eps2 = group["eps"]
            for p, grad in params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = new_step(p, group)
                    if grad.dim() > 1:
                        state["row_var"] = grad.new_zeros(tuple(grad.shape[:-1]) + (1,))
                        state["col_var"] = grad.new_zeros(tuple(grad.shape[:-2]) + (1, grad.shape[-1]))
                    else:
                        state["variance"] = _ag.zeros_like(grad)
                e1 = _EPS[p.dtype.name] if eps1 is None else eps1
                if tracing(p):
                    self._traced_update(p, grad, state, lr, d, wd, beta2_decay, eps2, e1)
                    continue
                step = _step_tensor(state)
                one_minus_beta2_t = step ** beta2_decay
                rho_t = min(lr, 1 / (step ** 0.5))
                alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
                if wd != 0:
                    p.mul_(1 - lr * wd)
                update = _update(grad, state, one_minus_beta2_t, e1)
                denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
                p.add_(update, alpha=-alpha / denom)
        return loss


    @staticmethod
    def _traced_update(p, grad, state, lr, d, wd, beta2_decay, eps2, e1):
        """The update above while autograd.compile records it: the Python floats eager computes
        from `step.item()` and the two norms' `.item()` are re-run per replay by recorded host
        kernels of those 0-d tensors, with eager's float arithmetic, so the replay is bitwise eager."""
        step = _bump_step(state)
        one_minus_beta2_t = replayed_scalar(_adafactor_beta2_t, step, p, beta2_decay)
        p_norm = p.norm(2)
        if wd != 0:
            p.mul_(1 - lr * wd)
        update = _update(grad, state, one_minus_beta2_t, e1)
        factor = replayed_value(_adafactor_neg_alpha, (step, p_norm, update.norm(2)), p, lr, eps2, p.numel(),
                                update.numel(), d)
        p.add_(update * factor)                 # = add_(update, alpha=-alpha / denom)


def _update(grad, state, beta2_t, e1):
    """The factored second-moment estimate's update direction (eager and traced alike; beta2_t a
    Python float or a replayed 0-d tensor): row and column variances for a matrix (per matrix of a
    batch), one variance for a vector, then grad / sqrt(estimate)."""
    if grad.dim() > 1:
        row_var, col_var = state["row_var"], state["col_var"]
        row_var.lerp_(_ag.norm(grad, dim=-1, keepdim=True).square() / grad.size(-1), beta2_t)
        col_var.lerp_(_ag.norm(grad, dim=-2, keepdim=True).square() / grad.size(-2), beta2_t)
        var_estimate = (row_var @ col_var) / row_var.mean(dim=-2, keepdim=True).clamp(min=e1)
    else:
        variance = state["variance"]
        variance.lerp_(grad * grad, beta2_t)
        var_estimate = variance.clone()
    return var_estimate.clamp(min=e1 * e1).rsqrt() * grad


def _adafactor_beta2_t(step, beta2_decay):
    return step ** beta2_decay


def _adafactor_neg_alpha(step, p_norm, u_norm, lr, eps2, p_numel, u_numel, d):
    rho_t = min(lr, 1 / (step ** 0.5))
    alpha = max(eps2, p_norm / (p_numel ** 0.5)) * rho_t
    denom = max(1.0, u_norm / ((u_numel ** 0.5) * d))
    return -alpha / denom


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = grad.to(_ag.float32)                    # torch: bfloat16
    tall = grad.size(0) > grad.size(1)
    if tall:
        x = x.t()
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.t()
        gram_update = gram * b + (gram @ gram) * c
        x = x * a + gram_update @ x
    return x.t() if tall else x


def _adjust_lr(lr, adjust_lr_fn, shape):
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        if isinstance(lr, _ag.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, wd, momentum = scalar(group["lr"]), group["weight_decay"], group["momentum"]
            for p, grad in params_with_grad(group):
                if grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = _ag.zeros_like(grad)
                buf = state["momentum_buffer"]
                buf.lerp_(grad, 1 - momentum)
                update = grad.clone().lerp_(buf, momentum) if group["nesterov"] else buf
                update = _zeropower_via_newtonschulz(update, group["ns_coefficients"], group["ns_steps"],
                                                     group["eps"])
                adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], p.shape)
                p.mul_(1 - lr * wd)
                p.add_(update.to(p.dtype), alpha=-adjusted_lr)
        return loss
