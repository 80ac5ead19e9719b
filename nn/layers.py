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
        # read once each: a parametrized weight (spectral_norm) is computed per read. A registered
        # parameter straight from _parameters (self.weight would first miss the instance and the
        # class, then reach Module.__getattr__); a parametrized or replaced one through the attribute
        params = self._parameters
        weight = params.get("weight")
        if weight is None:
            weight = self.weight
        bias = params["bias"] if "bias" in params else self.bias
        xs = input._data.shape
        if xs and xs[-1] == self.in_features and F._linear_fits(input, weight, bias):
            return F._linear_op(input, weight, bias)
        if not xs or xs[-1] != self.in_features:
            raise RuntimeError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): "
                               f"input of shape {tuple(input.shape)} must end with {self.in_features}")
        if input._data.dtype != weight._data.dtype:
            raise RuntimeError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): mat1 and "
                               f"mat2 must have the same dtype, but got input {input.dtype.name} and weight "
                               f"{weight.dtype.name}")
        return F.linear(input, weight, bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        padding_idx = _padding_idx(padding_idx, num_embeddings, "Padding_idx")
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(_empty(num_embeddings, embedding_dim, dtype=dtype, device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            assert tuple(_weight.shape) == (num_embeddings, embedding_dim), \
                "Shape of weight does not match num_embeddings and embedding_dim"
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        _reset_embedding(self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """The weight shares `embeddings`' storage, as torch's (the padding row is not zeroed)."""
        assert embeddings.ndim == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s


def _padding_idx(padding_idx, num_embeddings, word):
    """Embedding / EmbeddingBag's padding_idx, a negative one counted from the end; torch asserts, so
    AssertionError as there (`word`: torch capitalises it in one message and not the other)."""
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num_embeddings, f"{word} must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num_embeddings, f"{word} must be within num_embeddings"
            padding_idx = num_embeddings + padding_idx
    return padding_idx


def _reset_embedding(weight, padding_idx):
    """N(0, 1) rows, the padding row zero (Embedding and EmbeddingBag)."""
    init.normal_(weight)
    if padding_idx is not None:
        with _ag.no_grad():
            weight[padding_idx] = 0.0
