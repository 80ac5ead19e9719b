"""Activation modules: thin wrappers over `nn.functional`, plus SwiGLU (which PyTorch lacks).

`SwiGLU(in_features, hidden_features, out_features=None)` is the feed-forward gate of
Shazeer (2020) used by LLaMA: W2(silu(W1 x) * W3 x), three bias-free Linear layers named
w1, w2, w3. The functional `swiglu(x)` is only the gate, on x = [W1 x, W3 x] split in halves.
"""
from __future__ import annotations

from . import functional as F
from .layers import Linear
from .module import Module


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class SiLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.silu(x)


Swish = SiLU


class Mish(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.mish(x)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class SwiGLU(Module):
    """W2(silu(W1 x) * W3 x); W1, W3: in -> hidden, W2: hidden -> out (default in); no biases
    unless bias=True."""

    def __init__(self, in_features, hidden_features, out_features=None, bias=False, device=None, dtype=None):
        super().__init__()
        out_features = in_features if out_features is None else out_features
        self.w1 = Linear(in_features, hidden_features, bias=bias, device=device, dtype=dtype)
        self.w2 = Linear(hidden_features, out_features, bias=bias, device=device, dtype=dtype)
        self.w3 = Linear(in_features, hidden_features, bias=bias, device=device, dtype=dtype)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))
