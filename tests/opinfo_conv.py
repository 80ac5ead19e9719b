"""Conformance entries for issue 12's convolution, pooling, resampling and normalisation functions
(nn.functional), checked against torch by tests/test_conformance.py. conv2d, max_pool2d, avg_pool2d,
batch_norm, layer_norm, dropout and pad keep their entries in tests/opinfo.py."""
from __future__ import annotations

import numpy as np

from tests.opinfo import C, OpInfo, S, T, arr

F16_TOL = {"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5)}


def _e(name, gen, calls=None, **kw):
    return OpInfo(f"F.{name}", calls or [f"F.{name}"], gen, **kw)


def _conv(n):
    def gen(dt):
        sp = (5, 4, 3)[:n]
        x, w, b = arr((2, 2, *sp), dt, "any", 1), arr((3, 2, *(2,) * n), dt, "any", 2), arr((3,), dt, "any", 3)
        out = [S("bias", x, w, b), S("stride-pad", x, w, None, stride=2, padding=1),
               S("dilation", x, w, dilation=2 if n == 1 else (1,) * (n - 1) + (2,)),
               S("groups", arr((1, 4, *sp), dt), arr((2, 2, *(2,) * n), dt, "any", 2), groups=2),
               S("same", x, arr((3, 2, *(3,) * n), dt, "any", 4), padding="same"),
               S("valid", x, w, padding="valid"), S("unbatched", arr((2, *sp), dt), w),
               S("small", arr((1, 1, *(3,) * n), dt), arr((1, 1, *(2,) * n), dt, "any", 5)),
               S("channel-mismatch", arr((1, 3, *sp), dt), w), S("too-small", arr((1, 2, *(1,) * n), dt), w),
               S("same-strided", x, w, stride=2, padding="same")]
        if n == 1:
            out.append(S("T", T(arr((2, 5, 2), dt)), w))
        return out
    return gen


def _convt(n):
    def gen(dt):
        sp = (4, 3, 2)[:n]
        x, b = arr((2, 2, *sp), dt, "any", 1), arr((4,), dt, "any", 3)
        w = arr((2, 2, *(3,) * n), dt, "any", 2)                   # (in, out/groups, *k)
        return [S("bias", x, w, arr((2,), dt, "any", 3)), S("stride", x, w, stride=2),
                S("pad-outpad", x, w, None, stride=2, padding=1, output_padding=1),
                S("groups", x, arr((2, 2, *(2,) * n), dt, "any", 4), b, groups=2),
                S("dilation", x, w, dilation=2), S("unbatched", arr((2, *sp), dt), w),
                S("small", arr((1, 1, *(2,) * n), dt), arr((1, 1, *(2,) * n), dt, "any", 5), stride=2),
                S("bad-outpad", x, w, stride=1, output_padding=1), S("channel-mismatch", arr((1, 3, *sp), dt), w)]
    return gen


def _pool1d(max_):
    def gen(dt):
        x = arr((2, 3, 7), dt, "distinct" if max_ else "any", 1)
        out = [S("k2", x, 2), S("k3s2p1", x, 3, stride=2, padding=1), S("ceil", x, 2, stride=2, ceil_mode=True),
               S("ceil-pad", x, 3, stride=2, padding=1, ceil_mode=True), S("unbatched", arr((2, 5), dt, "distinct", 2), 2),
               S("small", arr((1, 1, 5), dt, "distinct", 3), 2, stride=1), S("bad-pad", x, 2, padding=2),
               S("too-small", arr((1, 1, 1), dt), 2)]
        if max_:
            out += [S("dilation", x, 2, dilation=2)]
        else:
            out += [S("no-count-pad", x, 3, stride=2, padding=1, count_include_pad=False),
                    S("ceil-no-count", x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)]
        return out
    return gen


def _pool2d_more(dt):
    x = arr((1, 2, 5, 6), dt, "any", 1)
    return [S("ceil", x, 2, ceil_mode=True), S("ceil-pad", x, 3, stride=2, padding=1, ceil_mode=True),
            S("ceil-no-count", x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
            S("ceil-divisor", x, 2, ceil_mode=True, divisor_override=2)]


def _pool3d(max_):
    def gen(dt):
        x = arr((1, 2, 4, 4, 5), dt, "distinct" if max_ else "any", 1)
        out = [S("k2", x, 2), S("k3s2p1", x, 3, stride=2, padding=1), S("unbatched", arr((1, 3, 3, 3), dt, "distinct", 2), 2),
               S("small", arr((1, 1, 2, 2, 3), dt, "distinct", 3), 2, stride=1), S("ceil", x, 3, stride=2, ceil_mode=True)]
        if not max_:
            out.append(S("no-count-pad", x, 3, stride=2, padding=1, count_include_pad=False))
        return out
    return gen


def _adaptive(n, max_):
    def gen(dt):
        sp = (7, 5, 4)[:n]
        x = arr((2, 2, *sp), dt, "distinct" if max_ else "any", 1)
        small = arr((1, 1, *(3, 3, 2)[:n]), dt, "distinct", 2)
        out = [S("shrink", x, (3, 2, 3)[:n] if n > 1 else 3), S("grow", x, (9, 7, 5)[:n] if n > 1 else 10),
               S("int", x, 2), S("one", x, 1), S("unbatched", arr((2, *sp), dt, "distinct", 3), 2),
               S("small", small, (2, 2, 1)[:n] if n > 1 else 2), S("bad-dims", arr(sp[:1], dt), 2)]
        if n == 2:
            out.append(S("none", x, (None, 3)))
        if max_:
            out += [S("indices", x, 3, return_indices=True), S("empty-batch", arr((0, 2, *sp), dt), 2)]
        return out
    return gen


def _lp(n):
    def gen(dt):
        x = arr((1, 2, *(6, 5, 4)[:n]), dt, "pos", 1)
        return [S("p2", x, 2.0, 2), S("p1-stride", x, 1.0, 3, stride=2), S("p3-ceil", x, 3.0, 2, ceil_mode=True),
                S("small", arr((1, 1, *(3, 2, 2)[:n]), dt, "pos", 2), 2.0, 2, stride=1)]
    return gen


def _unpool(n):
    def gen(dt):
        # indices from a max pool over (2, 3, 4[, 4]) with kernel 2: every index inside its window
        sp = (4, 4, 4)[:n]
        rng = np.random.default_rng(1)
        pooled = tuple(s // 2 for s in sp)
        off = [rng.integers(0, 2, (2, 3) + pooled) for _ in range(n)]
        idx = 0
        for j in range(n):
            pos = np.arange(pooled[j]).reshape([-1 if i == j else 1 for i in range(n)]) * 2 + off[j]
            idx = idx * sp[j] + pos
        idx = np.asarray(idx, dtype=np.int64)
        x = arr((2, 3) + pooled, dt, "any", 2)
        return [S("k2", x, idx, 2), S("output_size", x, idx, 2, output_size=tuple(s + 1 for s in sp)),
                S("output_size-full", x, idx, 2, output_size=(2, 3) + tuple(s + 1 for s in sp)),
                S("stride", x, idx, 2, stride=2, padding=0), S("bad-output_size", x, idx, 2, output_size=(9,) * n),
                S("empty-batch", arr((0, 3) + pooled, dt), np.zeros((0, 3) + pooled, np.int64), 2),
                S("bad-index", x, np.full((2, 3) + pooled, 99, np.int64), 2)]
    return gen


def _interp(dt):
    x3, x4, x5 = arr((1, 2, 5), dt, "any", 1), arr((1, 2, 4, 3), dt, "any", 2), arr((1, 1, 3, 2, 3), dt, "any", 3)
    out = [S("nearest-size", x4, size=(7, 5)), S("nearest-scale", x4, scale_factor=2), S("nearest-down", x4, size=(3, 2)),
           S("nearest-1d", x3, size=8), S("nearest-3d", x5, scale_factor=(2, 1.5, 1)),
           S("nearest-odd-scale", x4, scale_factor=1.7), S("nearest-recompute", x4, scale_factor=1.7, recompute_scale_factor=True),
           S("nearest-exact", x4, size=(7, 5), mode="nearest-exact"), S("nearest-exact-down", x3, size=3, mode="nearest-exact"),
           S("linear", x3, size=8, mode="linear"), S("linear-ac", x3, size=8, mode="linear", align_corners=True),
           S("linear-down", x3, size=3, mode="linear"), S("linear-scale", x3, scale_factor=1.5, mode="linear"),
           S("bilinear", x4, size=(6, 5), mode="bilinear"), S("bilinear-ac", x4, size=(6, 5), mode="bilinear", align_corners=True),
           S("bilinear-scale", x4, scale_factor=(2, 0.5), mode="bilinear"),
           S("bilinear-ac-to-1", x4, size=(1, 5), mode="bilinear", align_corners=True),
           S("bicubic", x4, size=(6, 5), mode="bicubic"), S("bicubic-ac", x4, size=(5, 7), mode="bicubic", align_corners=True),
           S("bicubic-down", x4, size=(3, 2), mode="bicubic"), S("trilinear", x5, size=(4, 3, 2), mode="trilinear"),
           S("trilinear-ac", x5, scale_factor=2, mode="trilinear", align_corners=True),
           S("bilinear-aa-down", arr((1, 2, 7, 6), dt, "any", 5), size=(3, 4), mode="bilinear", antialias=True),
           S("bilinear-aa-up", x4, size=(6, 5), mode="bilinear", antialias=True, align_corners=True),
           S("bicubic-aa-down", arr((1, 2, 7, 6), dt, "any", 5), scale_factor=0.45, mode="bicubic", antialias=True),
           S("bicubic-aa-small", arr((1, 1, 4, 3), dt, "any", 6), size=(2, 2), mode="bicubic", antialias=True),
           S("error-aa-nearest", x4, size=(2, 2), antialias=True),
           S("nearest-exact-1d-f32-rounding", arr((1, 1, 7), dt, "any", 7), scale_factor=2.7, mode="nearest-exact"),
           S("linear-same-size-scale", x3, scale_factor=1.1, mode="linear"),
           S("bilinear-one-dim-same", x4, scale_factor=(1.2, 1.6), mode="bilinear"),
           S("bilinear-aa-one-dim-same", x4, scale_factor=(1.2, 0.6), mode="bilinear", antialias=True),
           S("bicubic-same-size-scale", x4, scale_factor=1.2, mode="bicubic"),
           S("area", x4, size=(2, 2), mode="area"), S("area-scale", x4, scale_factor=0.5, mode="area"),
           S("small-bilinear", arr((1, 1, 2, 2), dt, "any", 4), size=(3, 3), mode="bilinear"),
           S("small-bicubic", arr((1, 1, 2, 2), dt, "any", 4), size=(3, 2), mode="bicubic"),
           S("error-both", x4, size=3, scale_factor=2), S("error-none", x4), S("error-ac-nearest", x4, size=3, align_corners=True),
           S("error-bilinear-3d", x3, size=4, mode="bilinear"), S("error-len", x4, size=(3, 3, 3)),
           S("error-recompute-size", x4, size=3, recompute_scale_factor=True), S("error-mode", x4, size=3, mode="cubic")]
    if dt == "float32":
        out.append(S("nearest-int", np.arange(12, dtype=np.int64).reshape(1, 1, 3, 4), size=(5, 6)))
    return out


def _grid_sample(dt, bicubic=False):
    rng = np.random.default_rng(3)
    x = arr((2, 2, 4, 5), dt, "any", 1)
    g = np.asarray(rng.uniform(-1.2, 1.2, (2, 3, 2, 2)), dtype=dt)
    small_x, small_g = arr((1, 1, 2, 3), dt, "any", 2), np.asarray(rng.uniform(-1.1, 1.1, (1, 2, 2, 2)), dtype=dt)
    g3 = np.asarray(rng.uniform(-1.2, 1.2, (1, 2, 3, 2, 3)), dtype=dt)
    out = []
    for mode in (("bicubic",) if bicubic else ("bilinear", "nearest")):
        for pm in ("zeros", "border", "reflection"):
            for ac in (False, True):
                out.append(S(f"{mode}-{pm}-ac={ac}", x, g, mode=mode, padding_mode=pm, align_corners=ac,
                             gc=False))
    out += [S("small-bilinear", small_x, small_g, align_corners=False),
            S("small-border", small_x, small_g, padding_mode="border", align_corners=True),
            S("small-reflection", small_x, small_g, padding_mode="reflection", align_corners=False),
            S("5d-bicubic", arr((1, 2, 3, 4, 3), dt, "any", 5), g3, mode="bicubic")]
    if bicubic:
        return out[:6] + [S("small-bicubic", small_x, small_g, mode="bicubic", align_corners=False),
                          S("small-bicubic-reflection", small_x, small_g, mode="bicubic", padding_mode="reflection",
                            align_corners=True)]
    out += [S("5d-bilinear", arr((1, 2, 3, 4, 3), dt, "any", 5), g3, align_corners=False, gc=False),
            S("5d-border-ac", arr((1, 2, 3, 4, 3), dt, "any", 5), g3, padding_mode="border", align_corners=True, gc=False),
            S("5d-nearest-reflection", arr((1, 2, 3, 4, 3), dt, "any", 5), g3, mode="nearest", padding_mode="reflection",
              align_corners=False, gc=False),
            S("5d-small", arr((1, 1, 2, 2, 2), dt, "any", 6), g3[:, :1, :1], align_corners=False),
            S("bad-mode", x, g, mode="linear"), S("bad-padding", x, g, padding_mode="wrap"),
            S("bad-grid", x, g[..., :1])]
    return out


def _affine_grid(dt):
    th = arr((2, 2, 3), dt, "any", 1)
    th3 = arr((1, 3, 4), dt, "any", 2)
    return [S("2d", th, (2, 3, 4, 5), align_corners=False), S("2d-ac", th, [2, 1, 3, 2], align_corners=True),
            S("3d", th3, (1, 1, 2, 3, 2), align_corners=False), S("size-1", th, (2, 1, 1, 3), align_corners=False),
            S("bad-theta", th3, (1, 1, 3, 4), align_corners=False), S("bad-size", th, (2, 3, 4), align_corners=False)]


def _fold_unfold(dt):
    x = arr((2, 2, 4, 5), dt, "any", 1)
    return [S("k2", x, 2), S("k-rect", x, (2, 3), dilation=1, padding=1, stride=(2, 1)), S("dil", x, 2, dilation=2),
            S("unbatched", arr((2, 3, 3), dt), 2), S("small", arr((1, 1, 3, 3), dt), 2, stride=2, padding=1),
            S("too-big", x, 6), S("bad-dims", arr((2, 3), dt), 2)]


def _fold(dt):
    x = arr((2, 8, 12), dt, "any", 1)
    return [S("k2", x, (4, 5), 2), S("pad-stride", arr((2, 8, 6), dt, "any", 2), (4, 5), 2, padding=1, stride=2),
            S("dil", arr((1, 4, 6), dt, "any", 3), (4, 5), 2, dilation=2), S("unbatched", arr((8, 12), dt), (4, 5), 2),
            S("small", arr((1, 4, 4), dt, "any", 4), (3, 3), 2), S("bad-L", arr((2, 8, 11), dt), (4, 5), 2),
            S("bad-channels", arr((2, 7, 12), dt), (4, 5), 2)]


def _shuffle(dt):
    return [S("r2", arr((2, 8, 2, 3), dt), 2), S("3d", arr((4, 2, 2), dt), 2), S("batch-dims", arr((2, 1, 9, 1, 2), dt), 3),
            S("bad-channels", arr((1, 6, 2, 2), dt), 2), S("2d", arr((4, 4), dt), 2)]


def _channel_shuffle(dt):
    return [S("g2", arr((2, 6, 2, 2), dt), 2), S("3d", arr((1, 6, 3), dt), 3), S("g1", arr((1, 4, 2), dt), 1),
            S("bad-groups", arr((1, 5, 2), dt), 2), S("2d", arr((2, 4), dt), 2)]


def _unshuffle(dt):
    return [S("r2", arr((2, 2, 4, 6), dt), 2), S("3d", arr((1, 3, 3), dt), 3), S("bad-size", arr((1, 1, 3, 4), dt), 2)]


def _group_norm(dt):
    x = arr((2, 4, 3), dt, "any", 1)
    return [S("affine", x, 2, arr((4,), dt, "any", 2), arr((4,), dt, "any", 3)), S("plain", x, 4),
            S("one-group", arr((2, 4, 2, 2), dt, "any", 4), 1), S("2d-input", arr((3, 4), dt, "any", 5), 2),
            S("small", arr((1, 2, 3), dt, "any", 6), 1, eps=1e-3), S("bad-groups", x, 3),
            S("T", T(arr((2, 3, 4), dt, "any", 7)), 2), S("one-value", arr((1, 2), dt), 2),
            S("empty-batch", arr((0, 4, 3), dt), 2)]


def _instance_norm(dt):
    x = arr((2, 3, 4), dt, "any", 1)
    rm, rv = C(arr((3,), dt, "any", 2)), C(np.abs(arr((3,), dt, "any", 3)) + 0.5)
    return [S("plain", x), S("affine", x, None, None, arr((3,), dt, "any", 4), arr((3,), dt, "any", 5)),
            S("running", x, C(np.zeros(3, dt)), C(np.ones(3, dt)), momentum=0.2),
            S("eval-stats", x, rm, rv, use_input_stats=False), S("2d", arr((2, 2, 3, 2), dt, "any", 6)),
            S("small", arr((1, 2, 3), dt, "any", 7)), S("one-value", arr((2, 3, 1), dt)),
            S("empty-batch", arr((0, 3, 4), dt))]


def _rms_norm(dt):
    x = arr((2, 3, 4), dt, "any", 1)
    return [S("weight", x, (4,), arr((4,), dt, "any", 2)), S("two", x, (3, 4)), S("eps", x, [4], eps=1e-3),
            S("small", arr((2, 3), dt, "any", 3), 3), S("mismatch", x, (3,)), S("bad-weight", x, (4,), arr((3,), dt))]


def _lrn(dt):
    return [S("3d", arr((2, 5, 3), dt, "any", 1), 3), S("4d", arr((1, 4, 2, 3), dt, "any", 2), 2, alpha=0.1, beta=0.5, k=2.0),
            S("5d", arr((1, 3, 2, 2, 2), dt, "any", 3), 4), S("small", arr((1, 3, 2), dt, "any", 4), 2, alpha=0.5),
            S("2d-error", arr((2, 3), dt), 2)]


def _normalize(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("default", x), S("dim0", x, dim=0), S("p1", x, p=1.0, dim=-1), S("zero-row", np.zeros((2, 3), dt), gc=False),
            S("3d", arr((2, 3, 2), dt, "any", 2), p=3.0, dim=2), S("small", arr((2, 3), dt, "any", 3))]


def _drop(name):
    def gen(dt):
        shape = {"dropout1d": (2, 3, 4), "dropout2d": (2, 3, 2, 2), "dropout3d": (2, 2, 2, 2, 2)}.get(name, (3, 4))
        train = name not in ("alpha_dropout", "feature_alpha_dropout")
        out = [S("eval", arr(shape, dt), 0.5, training=False), S("p=0", arr(shape, dt), 0.0, training=True),
               S("p=1", arr(shape, dt), 1.0, training=True), S("bad-p", arr(shape, dt), 1.5, training=True)]
        if train:
            out.append(S("default-training-p=0", arr(shape, dt), 0.0))
        if name == "dropout1d":
            out.append(S("bad-dims", arr((2, 3, 4, 5), dt), 0.5))
        return out
    return gen


def _pad_more(dt):
    x = arr((2, 3, 1, 5), dt, "any", 1)
    return [S("reflect-one-dim-empty", arr((2, 3, 3, 1), dt), (-1, 0, 1, -1), "reflect"),
            S("replicate-one-dim-empty", x, (1, 0, 0, -1), "replicate"),
            S("circular-empty", arr((1, 1, 4), dt), (-2, -2), "circular"),
            S("replicate-all-empty", arr((1, 1, 4), dt), (-2, -2), "replicate"),
            S("circular-negative-wrap", arr((1, 1, 3), dt, "any", 2), (-1, 2), "circular"),
            S("reflect-2d", arr((1, 2, 3, 4), dt, "any", 3), (2, 1, 1, 2), "reflect"),
            S("replicate-3d", arr((1, 1, 2, 3, 2), dt, "any", 4), (1, 0, 2, 1, 0, 1), "replicate")]


def _batch_norm_more(dt):
    return [S("empty-batch", arr((0, 3, 2), dt), C(np.zeros(3, dt)), C(np.ones(3, dt)), training=True),
            S("3d-train", arr((2, 2, 2, 2, 2), dt, "any", 3), None, None, arr((2,), dt, "any", 4), training=True)]


ENTRIES = [
    _e("pad-more", _pad_more, calls=["F.pad"], dtypes=("float64", "float32", "int64"), smooth=True, errors=("pad",)),
    _e("batch_norm-more", _batch_norm_more, calls=["F.batch_norm"], smooth=True, tol=F16_TOL),
    _e("conv1d", _conv(1), smooth=True, tol=F16_TOL), _e("conv3d", _conv(3), smooth=True, tol=F16_TOL),
    _e("conv2d-more", lambda dt: [S("same-even", arr((1, 2, 5, 4), dt), arr((3, 2, 2, 4), dt, "any", 2), padding="same"),
                                  S("pad-tuple", arr((1, 2, 5, 4), dt), arr((3, 2, 2, 2), dt, "any", 2), padding=(1, 0))],
       calls=["F.conv2d"], smooth=True, tol=F16_TOL),
    _e("conv_transpose1d", _convt(1), smooth=True, tol=F16_TOL),
    _e("conv_transpose2d", _convt(2), smooth=True, tol=F16_TOL),
    _e("conv_transpose3d", _convt(3), smooth=True, tol=F16_TOL),
    _e("unfold", _fold_unfold, smooth=True), _e("fold", _fold, smooth=True),
    _e("max_pool1d", _pool1d(True), calls=["F.max_pool1d", "F.max_pool1d_with_indices"]), _e("avg_pool1d", _pool1d(False), smooth=True),
    _e("avg_pool2d-ceil", _pool2d_more, calls=["F.avg_pool2d"], smooth=True),
    _e("max_pool2d-ceil", lambda dt: _pool2d_more(dt)[:2], calls=["F.max_pool2d", "F.max_pool2d_with_indices"]),
    _e("max_pool3d", _pool3d(True), calls=["F.max_pool3d", "F.max_pool3d_with_indices"]), _e("avg_pool3d", _pool3d(False), smooth=True),
    _e("adaptive_avg_pool1d", _adaptive(1, False), smooth=True), _e("adaptive_avg_pool2d", _adaptive(2, False), smooth=True),
    _e("adaptive_avg_pool3d", _adaptive(3, False), smooth=True),
    _e("adaptive_max_pool1d", _adaptive(1, True), calls=["F.adaptive_max_pool1d", "F.adaptive_max_pool1d_with_indices"]), _e("adaptive_max_pool2d", _adaptive(2, True), calls=["F.adaptive_max_pool2d", "F.adaptive_max_pool2d_with_indices"]),
    _e("adaptive_max_pool3d", _adaptive(3, True), calls=["F.adaptive_max_pool3d", "F.adaptive_max_pool3d_with_indices"]),
    _e("lp_pool1d", _lp(1)), _e("lp_pool2d", _lp(2)), _e("lp_pool3d", _lp(3)),
    _e("max_unpool1d", _unpool(1)), _e("max_unpool2d", _unpool(2)), _e("max_unpool3d", _unpool(3)),
    _e("interpolate", _interp, smooth=True, tol=F16_TOL),
    _e("grid_sample", _grid_sample, tol=F16_TOL),
    # float16: the cubic weights' derivative w.r.t. the grid loses ~3% to half rounding (torch's too, differently)
    _e("grid_sample-bicubic", lambda dt: _grid_sample(dt, True), calls=["F.grid_sample"],
       tol={"float16": (5e-2, 5e-2), "float32": (1e-5, 1e-5)}), _e("affine_grid", _affine_grid, smooth=True, tol=F16_TOL),
    _e("pixel_shuffle", _shuffle, smooth=True), _e("channel_shuffle", _channel_shuffle, smooth=True), _e("pixel_unshuffle", _unshuffle, smooth=True),
    _e("group_norm", _group_norm, smooth=True, tol=F16_TOL), _e("instance_norm", _instance_norm, smooth=True, tol=F16_TOL),
    _e("rms_norm", _rms_norm, smooth=True, tol=F16_TOL), _e("local_response_norm", _lrn, smooth=True, tol=F16_TOL),
    _e("normalize", _normalize, smooth=True, tol=F16_TOL),
    *[_e(n, _drop(n)) for n in ("dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")],
]

# deprecated aliases of interpolate that warn as torch's do (the registry wants silent forwards); covered by
# interpolate's entry and tests/test_nn_conv.py
NON_OPS = {"upsample", "upsample_nearest", "upsample_bilinear"}

_TORCH_BACKWARD_SHORTCUT = ("issue 12 #resampling: torch 2.13's backward copies a dim whose size is unchanged where its own "
                            "forward resamples it through the given scale (bicubic; antialiased bilinear), so torch's "
                            "gradient is not the gradient of torch's forward; ours is (values match torch, gradcheck passes)")
KNOWN = {
    ("F.interpolate", "float*/bicubic-same-size-scale", "grad"): _TORCH_BACKWARD_SHORTCUT,
    ("F.interpolate", "float64/bilinear-aa-one-dim-same", "grad"): _TORCH_BACKWARD_SHORTCUT,
    ("F.interpolate", "float32/bilinear-aa-one-dim-same", "grad"): _TORCH_BACKWARD_SHORTCUT,
}
