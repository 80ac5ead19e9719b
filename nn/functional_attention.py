"""nn.functional (attention): scaled_dot_product_attention and multi_head_attention_forward.

Both are composites of differentiable ops (matmul, where, softmax, dropout), so they need no rule of
their own and are differentiable to any order. What backward keeps alive is therefore what those
ops save: q and k (the scores matmul), the attention probabilities (softmax saves its output, and
the probabilities @ v matmul saves them again, the same buffer) and v; with masks also the bool
"keep" masks, and with dropout its mask. No (L, S) score tensor besides the probabilities is kept
(docs/api/rnn.md has the measured figures).

A fully masked row: scaled_dot_product_attention gives zeros there (output and gradients), as torch
2.13 does (its "safe softmax"); multi_head_attention_forward with need_weights=True uses a plain
softmax and gives NaN there, also as torch, and with need_weights=False goes through
scaled_dot_product_attention (zeros).
"""
from __future__ import annotations

import math
import warnings

import autograd as _ag
from autograd import graph as _graph
from autograd import ops as _ops
from autograd.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


class _Refused(RuntimeError, AssertionError):
    """torch raises AssertionError for these argument checks; ours is also a RuntimeError (the project's
    rule: a RuntimeError/ValueError naming the function), so `except` clauses written for either work."""


def _dropout(x, p):
    from .functional import dropout          # (nn.functional star-imports this module at its end)
    return dropout(x, p, True)


def _causal_keep(L, S, device):
    """(L, S) bool, True on and below the diagonal (top-left aligned, as torch's tril)."""
    rows = _ag.arange(L, device=device).reshape(L, 1)
    cols = _ag.arange(S, device=device).reshape(1, S)
    return cols <= rows


def _safe_softmax(scores):
    """softmax over the last dim; a row that is all -inf gives zeros (and zero gradients), not NaN."""
    with _ag.no_grad():
        dead = (scores == -math.inf).all(dim=-1, keepdim=True)
    # (while autograd.compile records, the general form, no host branch: with no dead row its
    # selects take every element from softmax(scores), so it is bitwise the short form)
    if _graph.TRACER is None and not bool(dead.any()):
        return _ops.softmax(scores, -1)
    zero = _ag.zeros((), dtype=scores.dtype, device=scores.device)
    return _ag.where(dead, zero, _ops.softmax(_ag.where(dead, zero, scores), -1))


def _repeat_heads(x, groups):
    """torch's repeat_interleave(groups, dim=-3): each key/value head serves `groups` query heads."""
    if groups == 1:
        return x
    shape = tuple(x.shape)
    x = x.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return x.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v over the last two dims (..., L, E) x (..., S, E) x (..., S, Ev).

    attn_mask: bool (True takes part) or floating (added to the scores), broadcast to (..., L, S);
    is_causal: the top-left aligned lower-triangular mask; dropout_p > 0 drops attention weights
    (always, as torch: pass 0.0 in evaluation); enable_gqa: key/value with fewer heads (dim -3)
    than the query, each serving a group of query heads."""
    who = "scaled_dot_product_attention"
    for n, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {n} must be a Tensor, got {type(t).__name__}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{who}: Expected query, key, and value to all be at least 2 dimensional, but got "
                           f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"{who}: Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype.name} key.dtype: {key.dtype.name} and value.dtype: {value.dtype.name} "
                           f"instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"{who}: query, key and value must be floating point, got {query.dtype.name}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{who}: Explicit attn_mask should not be set when is_causal=True")
    if attn_mask is not None and attn_mask.dtype not in (_ag.bool, _ag.float32, query.dtype):
        raise RuntimeError(f"{who}: Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {attn_mask.dtype.name} and  query.dtype: {query.dtype.name} instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{who}: dropout probability has to be between 0 and 1, but got {dropout_p}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{who}: query {tuple(query.shape)} and key {tuple(key.shape)} must have the same last "
                           f"dim (mat1 and mat2 shapes cannot be multiplied)")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{who}: key {tuple(key.shape)} and value {tuple(value.shape)} must have the same "
                           f"sequence length (dim -2)")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"{who}: Number of heads in key and value must divide the number of heads in query "
                               f"(query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)})")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hv)
    try:
        _ag.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2]))
    except (RuntimeError, ValueError):
        raise RuntimeError(f"{who}: the batch dims of query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                           f"{tuple(value.shape)} do not broadcast (the size of tensor a must match the size of "
                           f"tensor b)") from None
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if query.dtype is _ag.float16:
        # torch's CPU kernels accumulate half precision in float32; products of float16 overflow at 65504
        if attn_mask is not None and attn_mask.dtype is not _ag.bool:
            attn_mask = attn_mask.to(_ag.float32)
        out = scaled_dot_product_attention(query.float(), key.float(), value.float(), attn_mask, dropout_p,
                                           is_causal, scale)
        return out.to(_ag.float16)
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        scores = _ag.where(_causal_keep(L, S, query.device), scores, -math.inf)
    elif attn_mask is not None:
        if attn_mask.dtype is _ag.bool:
            scores = _ag.where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask.to(scores.dtype)
    p = _safe_softmax(scores)
    if dropout_p > 0.0:
        p = _dropout(p, dropout_p)
    return p @ value


# --- multi-head attention ---------------------------------------------------------------------------------
def _canonical_mask(mask, name, other, other_name, target, check_other=True):
    """A bool mask (True = masked out) as a float mask of 0 / -inf; float masks pass through."""
    if mask is None:
        return None
    if mask.dtype is not _ag.bool and not mask.dtype.is_floating_point:
        raise _Refused(f"multi_head_attention_forward: only bool and floating types of {name} are supported")
    if check_other and other is not None and mask.dtype is not other.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                      f"instead.", stacklevel=4)
    if mask.dtype is _ag.bool:
        zero = _ag.zeros((), dtype=target, device=mask.device)
        return _ag.where(mask, _ag.full((), -math.inf, dtype=target, device=mask.device), zero)
    return mask


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """torch's _mha_shape_check: True for a batched (3-D) query, False for an unbatched (2-D) one."""
    who = "multi_head_attention_forward"
    n = query.ndim
    if n not in (2, 3):
        raise _Refused(f"{who}: query should be unbatched 2D or batched 3D tensor but received {n}-D query "
                       f"tensor")
    kind = "batched (3-D)" if n == 3 else "unbatched (2-D)"
    if key.ndim != n or value.ndim != n:
        raise _Refused(f"{who}: For {kind} `query`, expected `key` and `value` to be {n}-D but found "
                       f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != n - 1:
        raise _Refused(f"{who}: For {kind} `query`, expected `key_padding_mask` to be `None` or {n - 1}-D but "
                       f"found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise _Refused(f"{who}: For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                       f"found {attn_mask.ndim}-D tensor instead")
    if n == 2 and attn_mask is not None and attn_mask.ndim == 3:
        want = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != want:
            raise _Refused(f"{who}: Expected `attn_mask` shape to be {want} but got {tuple(attn_mask.shape)}")
    return n == 3


def _heads_or_static(t, static, name, n_heads_total, head_dim, who):
    """Keys (or values) (S, N, E) as (N*H, S, hd), or the given static ones after a shape check."""
    if static is None:
        return t.reshape(t.shape[0], n_heads_total, head_dim).transpose(0, 1)
    if static.shape[0] != n_heads_total or static.shape[2] != head_dim:
        raise _Refused(f"{who}: expecting {name} of shape ({n_heads_total}, S, {head_dim}), got "
                       f"{tuple(static.shape)}")
    return static


def _linear(x, w, b):
    from .functional import linear           # (nn.functional star-imports this module at its end)
    return linear(x, w, b)


def _pad_last(mask):
    """Append one column of zeros (a key nobody masks) to a float mask."""
    return _ag.cat([mask, _ag.zeros(*mask.shape[:-1], 1, dtype=mask.dtype, device=mask.device)], dim=-1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch.nn.functional.multi_head_attention_forward on (L, N, E) / (S, N, E) inputs (or unbatched
    (L, E)): returns (output (L, N, E), weights (N, L, S) averaged over heads, or (N, H, L, S), or None)."""
    who = "multi_head_attention_forward"
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{who}: Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                           f"module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None             # the hint replaces the mask (torch: it must be the causal one)
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise _Refused(f"{who}: was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise _Refused(f"{who}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise _Refused(f"{who}: key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                           f"{tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise _Refused(f"{who}: use_separate_proj_weight is True but q/k/v_proj_weight is None")
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = _linear(query, q_proj_weight, b_q)
        k = _linear(key, k_proj_weight, b_k)
        v = _linear(value, v_proj_weight, b_v)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise _Refused(f"{who}: key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        if in_proj_weight is None:
            raise _Refused(f"{who}: use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:                        # self-attention: one matmul for q, k and v
            q, k, v = _linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        else:
            E = embed_dim
            b = (None,) * 3 if in_proj_bias is None else (in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:])
            q = _linear(query, in_proj_weight[:E], b[0])
            if key is value:                                     # encoder-decoder attention: one matmul for k, v
                k, v = _linear(key, in_proj_weight[E:], None if in_proj_bias is None else in_proj_bias[E:]).chunk(2, -1)
            else:
                k, v = _linear(key, in_proj_weight[E:2 * E], b[1]), _linear(value, in_proj_weight[2 * E:], b[2])
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"{who}: The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"{who}: The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                               f"{(bsz * num_heads, tgt_len, src_len)}.")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise _Refused(f"{who}: bias cannot be added to static key or value.")
        k = _ag.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = _ag.cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise _Refused(f"{who}: bias_k and bias_v must be given together")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)           # (N*H, L, hd)
    k = _heads_or_static(k, static_k, "static_k", bsz * num_heads, head_dim, who)
    v = _heads_or_static(v, static_v, "static_v", bsz * num_heads, head_dim, who)
    if add_zero_attn:
        z = _ag.zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype, device=k.device)
        k, v = _ag.cat([k, z], dim=1), _ag.cat([v, z], dim=1)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise _Refused(f"{who}: expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                           f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        if is_causal and attn_mask is None:
            raise _Refused(f"{who}: is_causal without attn_mask is not implemented for need_weights")
        scores = (q * math.sqrt(1.0 / float(head_dim))) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        w = _ops.softmax(scores, -1)                         # plain softmax: NaN on a fully masked row, as torch
        if dropout_p > 0.0:
            w = _dropout(w, dropout_p)
        out = (w @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        w = w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(dim=1)
        if not batched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not batched:
        out = out.squeeze(1)
    return out, None
