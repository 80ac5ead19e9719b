"""Activations composed from primitives (PyTorch's formulas and defaults; no rules of their own).

torch has no Tensor methods for these (they live in torch.nn.functional), so none are made."""
from __future__ import annotations

import math

from ._registry import op
from .unary import clamp, erf, exp, expm1, log1p, relu, sigmoid, tanh, where


@op(method=False)
def leaky_relu(input, negative_slope=0.01):
    return where(input > 0, input, input * negative_slope)


@op(method=False)
def elu(input, alpha=1.0):
    # expm1 of min(x, 0): the branch where() discards must not overflow into inf * 0 = nan
    return where(input > 0, input, alpha * expm1(clamp(input, max=0.0)))


@op(method=False)
def softplus(input, beta=1.0, threshold=20.0):
    bx = input * beta if beta != 1 else input
    soft = relu(bx) + log1p(exp(-bx.abs()))
    if beta != 1:
        soft = soft / beta
    return where(bx > threshold, input, soft)


@op(method=False)
def gelu(input, approximate="none"):
    x = input
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))


@op(method=False)
def silu(input):
    return input * sigmoid(input)


@op(method=False)
def mish(input):
    return input * tanh(softplus(input))
