"""Stateless layer functions (PyTorch's `torch.nn.functional`): activations, linear, conv, pooling,
normalisation, dropout, embedding; the losses live in `functional_losses` and are re-exported here.

Everything is composed from differentiable autograd ops (the activations already exist in
`autograd.ops` and are reused, not redefined), plus the engine-internal fused `linear`.
Convolution, pooling and padding live in `functional_conv`, resampling in `functional_resample`,
normalisation and dropout in `functional_norm` (re-exported here). Errors name the function and
the shapes.
"""
from __future__ import annotations


import autograd as _ag
from autograd import ops as _ops
from autograd.ops._core import apply as _apply
from autograd.ops.linalg import Linear as _Linear
from autograd.tensor import Tensor

# --- activations (reused from autograd.ops) ------------------------------------------------
relu = _ops.relu
leaky_relu = _ops.leaky_relu
elu = _ops.elu
gelu = _ops.gelu
silu = _ops.silu
mish = _ops.mish
softplus = _ops.softplus
sigmoid = _ops.sigmoid
tanh = _ops.tanh


def softmax(input, dim=None, dtype=None):
    if dim is None:
        raise TypeError("softmax: pass dim explicitly (PyTorch's implicit dim choice is deprecated)")
    return _ops.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim=None, dtype=None):
    if dim is None:
        raise TypeError("log_softmax: pass dim explicitly (PyTorch's implicit dim choice is deprecated)")
    return _ops.log_softmax(input if dtype is None else input.to(dtype), dim)


def swiglu(input, dim=-1):
    """SwiGLU on a pre-projected tensor: split `dim` into halves (a, b) and return silu(a) * b.

    This is the gate of Shazeer's GLU variants (2020) once W1 x and W3 x are computed by one
    matmul and concatenated as [W1 x, W3 x]; the module `nn.SwiGLU` holds the three weights."""
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"swiglu: dim {dim} of input {tuple(input.shape)} must have an even size, got {n}")
    a, b = input.chunk(2, dim)
    return silu(a) * b


# --- linear ---------------------------------------------------------------------------------
def _linear_fits(input, weight, bias):
    """Every check of `linear` passes (the common case, decided in one expression on the arrays'
    shapes and dtypes: no Size built); nn.Linear asks the same before applying the op itself."""
    xd, wd = input._data, weight._data
    xs, ws = xd.shape, wd.shape
    return (bool(xs) and len(ws) == 2 and xs[-1] == ws[1] and xd.dtype == wd.dtype
            and (bias is None or bias._data.shape == ws[:1] and bias._data.dtype == xd.dtype))


def _linear_op(input, weight, bias):
    """The fused Linear op on checked arguments."""
    return _apply(_Linear, (input, weight) if bias is None else (input, weight, bias))


def linear(input, weight, bias=None):
    if _linear_fits(input, weight, bias):
        return _linear_op(input, weight, bias)
    xs, ws = input._data.shape, weight._data.shape
    if not xs or not ws:
        raise RuntimeError(f"linear: both arguments to linear need to be at least 1D, but they are {input.ndim}D "
                           f"and {weight.ndim}D")
    if xs[-1] != ws[-1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} does not match weight of shape "
                           f"{tuple(weight.shape)} (in_features {weight.shape[-1]})")
    if len(ws) != 2 or (bias is not None and bias._data.shape != ws[:1]):
        raise RuntimeError(f"linear: weight must be (out, in) and bias (out,), got {tuple(weight.shape)} and "
                           f"{None if bias is None else tuple(bias.shape)}")
    if input._data.dtype != weight._data.dtype:          # torch refuses to promote here
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got input {input.dtype.name} and "
                           f"weight {weight.dtype.name}")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"linear: bias of dtype {bias.dtype.name} must have the dtype of input and weight "
                           f"({input.dtype.name}): self and mat2 must have the same dtype")
    return _linear_op(input, weight, bias)


# --- embedding --------------------------------------------------------------------------------------
def _index_out_of_range(input, n):
    """Some index outside [0, n), decided by array-namespace calls (one fused test, one reduction):
    autograd.compile records them and re-decides the check on each replay, where `int(t.min())`
    would end its trace."""
    xp, d = input._backend.xp, input._data
    i64 = xp.int64
    d = xp.astype(d, i64)                                 # uint8/int32 indices; n may exceed their range
    return bool(xp.any(xp.logical_or(xp.less(d, xp.asarray(0, dtype=i64)),
                                     xp.greater_equal(d, xp.asarray(n, dtype=i64)))))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """weight[input]. padding_idx: that row receives no gradient; max_norm: the looked-up rows whose
    norm_type-norm exceeds it are rescaled in place first (torch's embedding_renorm_);
    scale_grad_by_freq: each row's gradient is divided by how often its index occurs in `input`."""
    from .functional_layers import _ScaleGrad, freq_scale, renorm_rows_
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported (tapegrad has no sparse tensors)")
    if not isinstance(input, Tensor) or input.dtype.is_floating_point:
        raise RuntimeError(f"embedding: expected integer indices, got "
                           f"{input.dtype.name if isinstance(input, Tensor) else type(input).__name__}")
    n = weight.shape[0]
    if input.numel() and _index_out_of_range(input, n):
        raise IndexError(f"embedding: index out of range: indices must be in [0, {n}), got min "
                         f"{int(input.min())} and max {int(input.max())}")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError(f"embedding: Padding_idx must be within num_embeddings ({n}), got {padding_idx}")
        padding_idx %= n
    if max_norm is not None:
        renorm_rows_(weight, input, max_norm, norm_type)
    out = weight[input]
    if scale_grad_by_freq and input.numel():
        out = _ScaleGrad.apply(out, freq_scale(input).to(weight.dtype).unsqueeze(-1))
    if padding_idx is not None:
        # the padding row keeps its value but receives no gradient (torch's semantics)
        pad = (input == padding_idx).unsqueeze(-1)
        out = _ops.where(pad, out.detach(), out)
    return out


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (torch adds eps to the difference)."""
    return _ops.norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def one_hot(tensor, num_classes=-1):
    """int64 (..., num_classes) with a 1 at each class index; num_classes=-1 infers max + 1 (torch's
    checks and messages: int64 input only, values in [0, num_classes))."""
    if not isinstance(tensor, Tensor) or tensor.dtype is not _ag.int64:
        got = tensor.dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensor of type LongTensor, got {got}")
    n = tensor.numel()
    if num_classes <= 0 and n == 0:                 # torch: also for num_classes=0
        raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
    if n:
        lo, hi = int(tensor.min()), int(tensor.max())
        if lo < 0:
            raise RuntimeError(f"one_hot: Class values must be non-negative, got {lo}.")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes, got {hi} with "
                               f"num_classes={num_classes}.")
    elif num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes should be positive or -1, got {num_classes}.")
    ar = _ag.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == ar).to(_ag.int64)


from .functional_losses import *  # noqa: E402,F401,F403
from .functional_activation import *  # noqa: E402,F401,F403
from .functional_conv import *  # noqa: E402,F401,F403
from .functional_resample import *  # noqa: E402,F401,F403
from .functional_norm import *  # noqa: E402,F401,F403
from .functional_attention import *  # noqa: E402,F401,F403
from .functional_layers import *  # noqa: E402,F401,F403


def __getattr__(name):
    raise AttributeError(f"module 'nn.functional' has no attribute '{name}' (torch.nn.functional.{name} is not part "
                         "of tapegrad: see the README's porting guide)")
