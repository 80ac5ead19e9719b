"""Layers with parameters: Linear and Embedding (convolution, pooling, normalisation and dropout live in
conv.py, pooling.py, normalization.py and dropout.py).

Parameter shapes, names and default initialisations are PyTorch's (Linear weight is
(out, in); weights Kaiming-uniform with a = sqrt(5), biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
Embedding N(0, 1), norms ones and zeros), so a torch state_dict loads unchanged. The forward
passes are the functions of `nn.functional`.
"""
from __future__ import annotations

import math

import autograd as _ag

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _empty(*shape, dtype=None, device=None):
    return _ag.empty(*shape, dtype=dtype, device=device)



def _reset_weight_and_bias(weight, bias):
    """PyTorch's default for Linear and Conv: Kaiming-uniform(a=sqrt(5)) weight, bias U(+-1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)

class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        xs = input._data.shape
        if not xs or xs[-1] != self.in_features:
            raise RuntimeError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): "
                               f"input of shape {tuple(input.shape)} must end with {self.in_features}")
        if input._data.dtype != self.weight._data.dtype:
            raise RuntimeError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): mat1 and "
                               f"mat2 must have the same dtype, but got input {input.dtype.name} and weight "
                               f"{self.weight.dtype.name}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, _weight=None,
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx %= num_embeddings
        self.padding_idx, self.max_norm = padding_idx, max_norm
        if _weight is None:
            self.weight = Parameter(_empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with _ag.no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        m = cls(embeddings.shape[0], embeddings.shape[1], padding_idx=padding_idx, _weight=embeddings.detach().clone())
        m.weight.requires_grad_(not freeze)
        return m

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
