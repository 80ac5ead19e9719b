"""nn.functional resampling (issue 12): interpolate (every torch mode, antialias included), the
deprecated upsample aliases, pixel and channel shuffles, grid_sample and affine_grid.

interpolate is separable: per spatial dim one gather of all the taps (an int64 index tensor built
on the device, shape (out, taps)) and one weighted sum, with torch's own index arithmetic (float32
scales for nearest, its antialias filters). grid_sample gathers each corner (tap) by index tensors
and weights it with differentiable weights, so the gradient reaches both the input (getitem's
scatter-add) and the grid. No loop over batch, channels or pixels.
"""
from __future__ import annotations

import math
import warnings

import autograd as _ag
from autograd import ops as _ops
from autograd.tensor import Tensor, _wrap

from .functional_conv import _adaptive_avg_pool, _i64

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle", "grid_sample", "affine_grid"]


# --- resampling ----------------------------------------------------------------------------------
def _gather_taps(x, axis, idx, w):
    """sum_t x[..., idx[o, t], ...] * w[o, t] along `axis`: one gather of all taps, one weighted sum
    (getitem's gradient scatters back; w may be None for a single unweighted tap)."""
    be = x._backend
    sel = x[(slice(None),) * axis + (_wrap(idx, be),)]                 # (..., O, T, ...)
    if w is None:
        return sel.squeeze(axis + 1)
    shape = (idx.shape[0], idx.shape[1]) + (1,) * (x.ndim - 1 - axis)
    return (sel * _wrap(be.xp.reshape(w, shape), be)).sum(dim=axis + 1)


def _opmath(be, input):
    """The dtype torch computes resampling coordinates in: float64 for float64, else float32."""
    return be.native_dtype(_ag.float64 if input.dtype is _ag.float64 else _ag.float32)


def _area_scale(in_size, out_size, align_corners, scale):
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _resample_dim(x, axis, out_size, scale, mode, align_corners, shortcuts=False):
    be = x._backend
    xp, i64 = be.xp, _i64(be)
    size = x.shape[axis]
    f32 = be.native_dtype(_ag.float32)
    o = xp.arange(out_size, dtype=i64)
    if mode in ("nearest", "nearest-exact"):
        # torch computes these indices with a float32 scale (compute_scales_value<float>)
        sc = xp.asarray(1.0 / scale if scale is not None and scale > 0 else size / out_size, dtype=f32)
        if mode == "nearest":
            # torch's 2-D kernel short-cuts these two sizes whatever the scale; its 1-D and 3-D ones do not
            if shortcuts and out_size == size:
                src = o
            elif shortcuts and out_size == 2 * size:
                src = o // 2
            else:
                src = xp.astype(xp.floor(xp.astype(o, f32) * sc), i64)
        else:
            src = xp.astype(xp.floor((xp.astype(o, f32) + 0.5) * sc), i64)
        src = xp.minimum(src, xp.asarray(size - 1, dtype=i64))
        return _gather_taps(x, axis, xp.reshape(src, (-1, 1)), None)
    if mode in ("linear", "aa-linear", "aa-cubic") and out_size == size:
        return x           # torch's linear and antialiased kernels copy a dim whose size is unchanged, whatever the
        #                    scale (its plain bicubic and nearest kernels do not)
    acc = _opmath(be, x)
    sc = xp.asarray(_area_scale(size, out_size, align_corners, scale), dtype=acc)
    of = xp.astype(o, acc)
    if mode in ("aa-linear", "aa-cubic"):
        idx, w = _antialias_taps(xp, i64, acc, size, out_size, float(sc), mode == "aa-cubic")
    elif mode == "cubic":
        real = of * sc if align_corners else sc * (of + 0.5) - 0.5
        base = xp.floor(real)
        t = xp.reshape(real - base, (-1, 1))
        a = -0.75
        t4 = xp.concat([t + 1.0, t, 1.0 - t, 2.0 - t], axis=1)          # distance to each of 4 taps
        near = ((a + 2) * t4 - (a + 3)) * t4 * t4 + 1
        far = ((a * t4 - 5 * a) * t4 + 8 * a) * t4 - 4 * a
        w = xp.concat([far[:, :1], near[:, 1:3], far[:, 3:]], axis=1)
        idx = xp.reshape(xp.astype(base, i64), (-1, 1)) + xp.reshape(xp.arange(-1, 3, dtype=i64), (1, 4))
        idx = xp.clip(idx, 0, size - 1)
    else:                                                                    # linear
        if align_corners:
            real = of * sc
        else:
            real = xp.maximum(sc * (of + 0.5) - 0.5, xp.zeros((), dtype=acc))
        lo = xp.astype(real, i64)                                            # trunc == floor (real >= 0)
        lam = xp.reshape(real - xp.astype(lo, acc), (-1, 1))
        hi = xp.minimum(lo + 1, xp.asarray(size - 1, dtype=i64))
        idx = xp.concat([xp.reshape(lo, (-1, 1)), xp.reshape(hi, (-1, 1))], axis=1)
        w = xp.concat([1.0 - lam, lam], axis=1)
    return _gather_taps(x, axis, idx, xp.astype(w, x._data.dtype))


def _antialias_taps(xp, i64, acc, size, out_size, scale, cubic):
    """torch's antialiased taps (_compute_indices_min_size_weights_aa): the filter (triangle, or Keys
    cubic with a = -0.5) stretched by the downscale factor, normalised per output."""
    interp = 4 if cubic else 2
    support = interp * 0.5 * scale if scale >= 1.0 else interp * 0.5
    taps = int(math.ceil(support)) * 2 + 1
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    center = xp.asarray(scale, dtype=acc) * (xp.astype(xp.arange(out_size, dtype=i64), acc) + 0.5)
    xmin = xp.maximum(xp.astype(center - support + 0.5, i64), xp.asarray(0, dtype=i64))
    xsize = xp.minimum(xp.astype(center + support + 0.5, i64), xp.asarray(size, dtype=i64)) - xmin
    xsize = xp.clip(xsize, 0, taps)
    j = xp.reshape(xp.arange(taps, dtype=i64), (1, taps))
    xmin2, center2 = xp.reshape(xmin, (-1, 1)), xp.reshape(center, (-1, 1))
    t = xp.abs((xp.astype(j + xmin2, acc) - center2 + 0.5) * invscale)
    if cubic:
        a = -0.5
        w = xp.where(t < 1.0, ((a + 2) * t - (a + 3)) * t * t + 1,
                     xp.where(t < 2.0, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, xp.zeros((), dtype=acc)))
    else:
        w = xp.maximum(1.0 - t, xp.zeros((), dtype=acc))
    w = xp.where(j < xp.reshape(xsize, (-1, 1)), w, xp.zeros((), dtype=acc))
    total = xp.sum(w, axis=1, keepdims=True)
    w = w / xp.where(total != 0, total, xp.ones((), dtype=acc))
    return xp.clip(j + xmin2, 0, size - 1), w


_INTERP_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """torch's F.interpolate: separable, one gather of the taps per spatial dim (no pixel loop)."""
    if mode not in _INTERP_MODES:
        raise NotImplementedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear "
                                  f"| area | nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    scales = None
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"interpolate: Input and output must have the same number of spatial dimensions, "
                                 f"but got input with spatial dimensions of {list(input.shape[2:])} and output size "
                                 f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"output size in (o1, o2, ...,oK) format.")
            out_size = [int(v) for v in size]
        else:
            out_size = [int(size)] * dim
    elif scale_factor is not None:
        out_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"interpolate: Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of {list(input.shape[2:])} and "
                                 f"scale_factor of shape {scale_factor}. Please provide input tensor in (N, C, d1, "
                                 f"d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(v) for v in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
    else:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        out_size = [math.floor(float(input.shape[i + 2]) * scales[i]) for i in range(dim)]
        scales = None
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.ndim == 4):
            raise ValueError("interpolate: Anti-alias option is restricted to bilinear and bicubic modes and "
                             "requires a 4-D tensor as input")
    want = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}.get(mode)
    if input.ndim not in (3, 4, 5) or (want is not None and input.ndim != want):
        if want is not None and input.ndim in (3, 4, 5):
            raise NotImplementedError(f"interpolate: Got {input.ndim}D input, but {mode} mode needs {want}D input")
        raise NotImplementedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear "
                                  f"| area | nearest-exact (got {mode})")
    if out_size is None:
        out_size = [int(float(input.shape[i + 2]) * scales[i]) for i in range(dim)]
    if mode == "area":
        return _adaptive_avg_pool(input, dim, out_size, "interpolate")
    if any(o <= 0 for o in out_size) or any(v <= 0 for v in input.shape[2:]):
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, input.shape[2:]))}) and output ({', '.join(map(str, out_size))})")
    if not input.dtype.is_floating_point and mode != "nearest" and mode != "nearest-exact":
        raise RuntimeError(f'interpolate: "upsample_{mode}" not implemented for \'{input.dtype.name}\'')
    kind = {"linear": "linear", "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if antialias:
        kind = "aa-" + kind
    x = input
    for i in range(dim):
        x = _resample_dim(x, 2 + i, out_size[i], None if scales is None else scales[i], kind, align_corners,
                          shortcuts=dim == 2)
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (warns, as torch)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): a reshape and a permute."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): pixel_shuffle's inverse."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """(N, g*k, *) -> channels reordered as (k, g): a reshape, a transpose and a reshape."""
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle: channel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"channel_shuffle: Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError(f"channel_shuffle: Number of channels must be divisible by groups. Got {c} channels and "
                           f"{groups} groups.")
    rest = tuple(input.shape[2:])
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def _reflect(coord, twice_low, twice_high):
    """torch's reflect_coordinates, in differentiable ops."""
    if twice_low == twice_high:
        return coord * 0.0
    lo, span = twice_low / 2, (twice_high - twice_low) / 2
    d = (coord - lo).abs()
    flips = _ops.floor(d / span).detach()
    extra = d - flips * span
    even = _ops.remainder(flips, 2.0) == 0
    return _ops.where(even, extra + lo, span - extra + lo)


def _grid_coord(coord, size, padding_mode, align_corners):
    """Normalised [-1, 1] grid coordinates to pixel coordinates, with torch's padding rules."""
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return c


_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _cubic_weights(t):
    """The 4 cubic-convolution weights (A = -0.75, torch's) for fractional offsets t, as tensors."""
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample (N, C, H, W) at grid (N, Ho, Wo, 2) points (x, y in [-1, 1]), or (N, C, D, H, W) at
    (N, Do, Ho, Wo, 3) points: each corner (tap) is one gather by index tensors, weighted by
    differentiable weights, so the gradient reaches both the input (scatter-add) and the grid."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"grid_sample: nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', "
                         f"or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
    align_corners = bool(align_corners)
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sample(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sample(): bicubic interpolation only supports 4D input")
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"grid_sample(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype.name} and grid has {grid.dtype.name}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'grid_sample: "grid_sampler" not implemented for \'{input.dtype.name}\'')
    k = input.ndim - 2
    n = input.shape[0]
    spatial = tuple(input.shape[2:])
    if grid.shape[0] != n or grid.shape[-1] != k:
        raise RuntimeError(f"grid_sample(): expected grid to have size {k} in last dimension and the same batch size "
                           f"as input, but got grid with sizes {list(grid.shape)} and input with sizes "
                           f"{list(input.shape)}")
    if 0 in spatial:
        raise RuntimeError(f"grid_sample(): expected input to have non-empty spatial dimensions, but input has "
                           f"sizes {list(input.shape)}")
    be = input._backend
    xp, i64 = be.xp, _i64(be)
    batch = _wrap(xp.reshape(xp.arange(n, dtype=i64), (n,) + (1,) * k), be)
    nat = input._data.dtype

    def tap(idx):             # values at integer positions (one backend array per spatial dim), 0 outside
        inside = None
        clipped = []
        for d, i in enumerate(idx):
            ok = (i >= 0) & (i < spatial[d])
            inside = ok if inside is None else inside & ok
            clipped.append(_wrap(xp.clip(i, 0, spatial[d] - 1), be))
        vals = input[(batch, slice(None)) + tuple(clipped)]                  # (N, *Out, C)
        return vals * _wrap(xp.astype(inside, nat), be).unsqueeze(-1)

    # grid component j is the coordinate of spatial dim k - 1 - j (x: the last one)
    raw = [grid[..., k - 1 - d] for d in range(k)]
    if mode == "bicubic":
        pos = [_unnormalize(c, sz, align_corners) for c, sz in zip(raw, spatial)]
        base = [_ops.floor(c).detach() for c in pos]
        w = [_cubic_weights(c - b) for c, b in zip(pos, base)]
        out = None
        for i in range(4):
            for j in range(4):
                with _ag.no_grad():          # torch's get_value_bounded: the taps' positions carry no gradient
                    yy = _grid_coord_px(base[0] + (i - 1), spatial[0], padding_mode, align_corners)
                    xx = _grid_coord_px(base[1] + (j - 1), spatial[1], padding_mode, align_corners)
                idx = [xp.astype(yy._data, i64), xp.astype(xx._data, i64)]
                term = tap(idx) * (w[0][i] * w[1][j]).unsqueeze(-1)
                out = term if out is None else out + term
        return out.permute(0, k + 1, *range(1, k + 1))
    pos = [_grid_coord(c, sz, padding_mode, align_corners) for c, sz in zip(raw, spatial)]
    if mode == "nearest":
        # round half to even (nearbyint); the grid gets a zero gradient, as torch
        idx = [xp.astype(xp.round(c._data), i64) for c in pos]
        out = tap(idx) + (raw[0] * 0.0).unsqueeze(-1)
        return out.permute(0, k + 1, *range(1, k + 1))
    lo = [_ops.floor(c).detach() for c in pos]
    out = None
    for corner in range(2 ** k):
        bits = [(corner >> (k - 1 - d)) & 1 for d in range(k)]
        weight = None
        for d, bit in enumerate(bits):
            wd = (pos[d] - lo[d]) if bit else (lo[d] + 1 - pos[d])
            weight = wd if weight is None else weight * wd
        idx = [xp.astype(lo[d]._data, i64) + bits[d] for d in range(k)]
        term = tap(idx) * weight.unsqueeze(-1)
        out = term if out is None else out + term
    return out.permute(0, k + 1, *range(1, k + 1))


def _grid_coord_px(c, size, padding_mode, align_corners):
    """torch's compute_coordinates on pixel coordinates (border clamp / reflection), then truncation."""
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return _ops.trunc(c)


def _linspace_norm(n, align_corners, dtype, device):
    if n <= 1:
        return _ag.zeros(max(n, 1), dtype=dtype, device=device)[:n] if n == 0 else \
            _ag.zeros(1, dtype=dtype, device=device)
    r = _ag.linspace(-1.0, 1.0, n, dtype=dtype, device=device)
    return r if align_corners else r * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) for affine matrices theta: base grid @ theta^T."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
    align_corners = bool(align_corners)
    if not isinstance(theta, Tensor) or not theta.dtype.is_floating_point:
        raise ValueError(f"affine_grid: Expected theta to have floating point type, but got "
                         f"{theta.dtype.name if isinstance(theta, Tensor) else type(theta).__name__}")
    size = [int(v) for v in size]
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"affine_grid: Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"affine_grid: Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid: only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: Expected theta batch size {theta.shape[0]} to match size {size}")
    k = len(spatial)
    dt, dev = theta.dtype, theta.device
    # coordinates x (fastest, last spatial dim), y, (z), then 1
    axes = [_linspace_norm(s, align_corners, dt, dev) for s in reversed(spatial)]
    parts = []
    for j, a in enumerate(axes):               # j=0: x along the last spatial dim
        shape = [1] * k
        shape[k - 1 - j] = spatial[k - 1 - j]
        parts.append(a.reshape(*shape).expand(*spatial))
    parts.append(_ag.ones(*spatial, dtype=dt, device=dev))
    base = _ag.stack(parts, dim=-1).reshape(1, -1, k + 1)                    # (1, P, k+1)
    grid = base @ theta.transpose(1, 2)                                      # (N, P, k)
    return grid.reshape(size[0], *spatial, k)
