"""Registry entries (issue 12, attention): F.scaled_dot_product_attention and F.multi_head_attention_forward,
checked against torch 2.13 by tests/test_conformance.py (values, dtypes, shapes, gradients of every float
input, gradcheck / gradgradcheck in float64 on the small samples, errors where torch raises)."""
from __future__ import annotations

import numpy as np

from tests.opinfo import C, FLOATS, OpInfo, S, arr


def _sdpa(dt):
    q, k, v = arr((2, 3, 4), dt, "any", 1), arr((2, 5, 4), dt, "any", 2), arr((2, 5, 6), dt, "any", 3)
    keep = np.array(arr((3, 5), "bool", "any", 4))
    keep[1] = False                                                   # a fully masked row: zeros, as torch
    neg = np.array(arr((2, 1, 5), "float64", "any", 5), dtype=dt)
    neg[0, 0, :] = -np.inf
    small = (arr((2, 2), dt, "any", 6), arr((3, 2), dt, "any", 7), arr((3, 2), dt, "any", 8))
    small_keep = np.array([[True, False, True], [False, False, False]])
    out = [
        S("3d", q, k, v),
        S("2d", q[0], k[0], v[0]),
        S("4d-heads", arr((1, 2, 3, 4), dt, "any", 9), arr((1, 2, 5, 4), dt, "any", 10), arr((1, 2, 5, 3), dt, "any", 11)),
        S("broadcast-batch", arr((2, 1, 3, 4), dt, "any", 12), arr((1, 2, 5, 4), dt, "any", 13),
          arr((2, 2, 5, 3), dt, "any", 14)),
        S("bool-mask", q, k, v, attn_mask=C(keep)),
        S("float-mask-inf-row", q, k, v, attn_mask=C(neg), gc=False),
        S("float-mask-grad", q, k, v, attn_mask=arr((3, 5), dt, "any", 15)),
        S("causal", q, k, v, is_causal=True),
        S("causal-L>S", arr((2, 5, 4), dt, "any", 16), arr((2, 3, 4), dt, "any", 17), arr((2, 3, 2), dt, "any", 18),
          is_causal=True),
        S("scale", q, k, v, scale=0.25),
        S("gqa", arr((1, 4, 3, 4), dt, "any", 19), arr((1, 2, 5, 4), dt, "any", 20), arr((1, 2, 5, 3), dt, "any", 21),
          enable_gqa=True),
        S("empty-L", arr((2, 0, 4), dt, "any", 22), k, v),
        S("large-logits", C(q * 0 + 130), C(k * 0 + 130), v, gc=False),  # float16 q.k (67,600) overflows
        S("small", *small),
        S("small-mask", *small, attn_mask=C(small_keep)),
        S("small-causal-scale", *small, is_causal=True, scale=2.0),
        S("small-float-mask", *small, attn_mask=arr((2, 3), dt, "any", 23)),
        # errors torch raises
        S("err-causal-and-mask", q, k, v, attn_mask=C(keep), is_causal=True),
        S("err-int-mask", q, k, v, attn_mask=C(np.ones((3, 5), np.int64))),
        S("err-E-mismatch", q, arr((2, 5, 3), dt, "any", 24), v),
        S("err-gqa-heads", arr((1, 4, 3, 4), dt, "any", 19), arr((1, 3, 5, 4), dt, "any", 20),
          arr((1, 3, 5, 3), dt, "any", 21), enable_gqa=True),
        S("err-1d-query", q[0, 0], k[0], v[0]),
        S("err-1d-value", q[0], k[0], v[0, :, 0]),
        S("empty-S", q, arr((2, 0, 4), dt, "any", 26), arr((2, 0, 6), dt, "any", 27)),
        S("err-heads-without-gqa", arr((1, 4, 3, 4), dt, "any", 19), arr((1, 2, 5, 4), dt, "any", 20),
          arr((1, 2, 5, 3), dt, "any", 21)),
    ]
    if dt == "float32":
        out.append(S("float64-mask", q, k, v, attn_mask=C(arr((3, 5), "float64", "any", 25))))
        out.append(S("err-mixed-dtypes", q, arr((2, 5, 4), "float64", "any", 2), v))
    return out


def _mha(dt):
    E, H, L, S_, N = 4, 2, 3, 5, 2

    def w(shape, seed):
        return arr(shape, dt, "any", seed) * 0.5

    q, k, v = w((L, N, E), 1), w((S_, N, E), 2), w((S_, N, E), 3)
    in_w, in_b, out_w, out_b = w((3 * E, E), 4), w((3 * E,), 5), w((E, E), 6), w((E,), 7)
    base = (E, H, in_w, in_b, None, None, False, 0.0, out_w, out_b)
    kpm = np.zeros((N, S_), bool)
    kpm[0, [1, 3]] = True
    am = arr((L, S_), dt, "any", 8)
    small = (w((1, 1, 2), 9), w((2, 1, 2), 10), w((2, 1, 2), 11), 2, 1, w((6, 2), 12), None, None, None, False, 0.0,
             w((2, 2), 13), None)
    return [
        S("basic", q, k, v, *base),
        S("no-weights", q, k, v, *base, need_weights=False),
        S("per-head-weights", q, k, v, *base, average_attn_weights=False),
        S("key-padding-mask", q, k, v, *base, key_padding_mask=C(kpm)),
        S("kpm-no-weights", q, k, v, *base, key_padding_mask=C(kpm), need_weights=False),
        S("float-attn-mask", q, k, v, *base, attn_mask=am),
        S("bool-attn-mask-3d", q, k, v, *base, attn_mask=C(arr((N * H, L, S_), "bool", "any", 14)), need_weights=False),
        S("bias-kv-zero-attn", q, k, v, E, H, in_w, in_b, w((1, 1, E), 15), w((1, 1, E), 16), True, 0.0, out_w, out_b,
          key_padding_mask=C(kpm)),
        S("separate-proj", q, w((S_, N, 3), 17), w((S_, N, 5), 18), E, H, None, in_b, None, None, False, 0.0, out_w,
          out_b, use_separate_proj_weight=True, q_proj_weight=w((E, E), 19), k_proj_weight=w((E, 3), 20),
          v_proj_weight=w((E, 5), 21)),
        S("unbatched", q[:, 0], k[:, 0], v[:, 0], *base),
        S("eval-dropout", q, k, v, E, H, in_w, in_b, None, None, False, 0.5, out_w, out_b, training=False),
        S("causal-hint", w((L, N, E), 22), w((L, N, E), 23), w((L, N, E), 24), *base,
          attn_mask=C(np.triu(np.full((L, L), -np.inf), 1).astype(dt)), is_causal=True, need_weights=False),
        S("small", *small),
        S("err-embed-dim", q, k, v, 5, *base[1:]),
        S("err-heads", q, k, v, E, 3, *base[2:]),
        S("err-mask-shape", q, k, v, *base, attn_mask=C(np.zeros((L, L), dt))),
        S("err-causal-without-mask", q, k, v, *base, is_causal=True),
        S("err-int-kpm", q, k, v, *base, key_padding_mask=C(kpm.astype(np.int64))),
    ]


ENTRIES = [
    OpInfo("F.scaled_dot_product_attention", ["F.scaled_dot_product_attention"], _sdpa, dtypes=FLOATS, smooth=True),
    OpInfo("F.multi_head_attention_forward", ["F.multi_head_attention_forward"], _mha, dtypes=FLOATS,
           smooth=True),
]
