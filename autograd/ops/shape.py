"""Shape ops: views (reshape, permute, expand and what is built on them), joining and splitting.

A view shares its input's storage and version counter; its gradient is the inverse view.
Slicing ops (narrow, select, split, chunk, unbind) are basic indexing, in `index`.
"""
from __future__ import annotations

import math

from ..grad_mode import state
from ..graph import primitive
from ..tensor import _wrap
from ._core import apply, builtins_max, builtins_sum, norm_dim, norm_dims, result_dtype
from ._registry import op


@primitive(view=True)
class Reshape:
    def forward(B, x, shape): return B.xp.reshape(x, shape)
    def backward(ctx, g): return g.reshape(ctx.input_shapes[0])


@primitive(view=True)
class Permute:
    def forward(B, x, dims): return B.xp.permute_dims(x, dims)

    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.permute(*inv)


@primitive(view=True)
class Expand:
    def forward(B, x, shape): return B.xp.broadcast_to(x, shape)
    def backward(ctx, g): return g                      # the engine sums it back to the input's shape


@primitive(args=("*arrays", "dim", "sizes"))
class Cat:
    def forward(B, *arrays_dim_sizes):
        *arrays, dim, sizes = arrays_dim_sizes
        return B.xp.concat(arrays, axis=dim)

    def backward(ctx, g):
        out, start = [], 0
        for s in ctx.sizes:
            out.append(g.narrow(ctx.dim, start, s))
            start += s
        return tuple(out)


@primitive()
class Pad:
    def forward(B, x, pads, value):
        xp = B.xp
        shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, pads))
        out = xp.full(shape, value, dtype=x.dtype)
        out[tuple(slice(lo, lo + s) for s, (lo, hi) in zip(x.shape, pads))] = x
        return out

    def backward(ctx, g):
        return g[tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(ctx.pads))]


@op()
def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    bad = [s for s in shape if not hasattr(type(s), "__index__")]
    if bad:
        raise TypeError(f"reshape(): argument 'shape' must be a tuple of ints, not {type(bad[0]).__name__}")
    shape = tuple(int(s) for s in shape)
    n = x.numel()
    if shape.count(-1) > 1:
        raise RuntimeError("reshape: only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or n % known:
            raise RuntimeError(f"reshape: shape '{list(shape)}' is invalid for input of size {n}")
        shape = tuple(n // known if s == -1 else s for s in shape)
    if math.prod(shape) != n:
        raise RuntimeError(f"reshape: shape '{list(shape)}' is invalid for input of size {n}")
    if shape == x._data.shape:
        return apply(Reshape, (x,), shape) if x._rg and state.enabled else _wrap_view(x)
    return apply(Reshape, (x,), shape)


def _wrap_view(x):
    t = _wrap(x._data, x._backend)
    t._vc = x._vc
    return t


@op()
def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: number of dims {len(dims)} does not match the tensor's {x.ndim}")
    dims = tuple(norm_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return apply(Permute, (x,), dims)


@op(aliases=("swapaxes", "swapdims"))
def transpose(x, dim0, dim1):
    if x.ndim == 0:             # PyTorch: dims 0 and -1 of a 0-d tensor name the tensor itself
        return x
    d0, d1 = norm_dim(dim0, x.ndim, "transpose"), norm_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return apply(Permute, (x,), tuple(dims))


@op()
def expand(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    full = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = x.shape[i - lead]
        elif i >= lead and x.shape[i - lead] not in (1, s):
            raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing size "
                               f"({x.shape[i - lead]}) at non-singleton dimension {i}. Target sizes: "
                               f"{list(shape)}. Tensor sizes: {list(x.shape)}")
        full.append(int(s))
    full = tuple(full)
    if full == x._data.shape:
        return x
    return apply(Expand, (x,), full)


@op()
def broadcast_to(x, shape):
    return expand(x, tuple(shape))


@op(method=False)
def broadcast_tensors(*ts):
    shape = broadcast_shapes(*(t.shape for t in ts))
    return tuple(expand(t, shape) for t in ts)


@op(method=False)
def broadcast_shapes(*shapes):
    n = builtins_max(len(s) for s in shapes)
    out = []
    for i in range(n):
        dims = {s[i - n + len(s)] for s in shapes if i - n + len(s) >= 0} - {1}
        if len(dims) > 1:
            raise RuntimeError(f"shapes {' and '.join(str(tuple(s)) for s in shapes)} are not broadcastable")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


@op()
def unsqueeze(x, dim):
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    s = list(x.shape)
    s.insert(d, 1)
    return reshape(x, tuple(s))


@op()
def squeeze(x, dim=None):
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        dims = norm_dims(dim, x.ndim, "squeeze")
    s = tuple(sz for i, sz in enumerate(x.shape) if not (i in dims and sz == 1))
    return reshape(x, s)


@op()
def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s = norm_dim(start_dim, x.ndim, "flatten")
    e = norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


@op()
def unflatten(x, dim, sizes):
    d = norm_dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


@op(method=False, aliases=("concat", "concatenate"))
def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of Tensors")
    # PyTorch skips 1-D empty tensors in cat
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = tensors[0]
    d = norm_dim(dim, ref.ndim, "cat")
    dt = result_dtype(*tensors)
    tensors = [t.to(dt) for t in tensors]
    for t in tensors:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; got "
                               f"{', '.join(str(tuple(u.shape)) for u in tensors)}")
    return apply(Cat, tuple(tensors), d, tuple(t.shape[d] for t in tensors))



@op(method=False)
def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: expects each tensor to be equal size, but got {sorted(shapes)}")
    d = norm_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


@op()
def narrow(x, dim, start, length):
    d = norm_dim(dim, x.ndim, "narrow")
    idx = [slice(None)] * x.ndim
    idx[d] = slice(start, start + length)
    return getitem(x, tuple(idx))


@op()
def split(x, split_size_or_sections, dim=0):
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins_sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} do not sum to the dim's size {n}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


@op()
def chunk(x, chunks, dim=0):
    d = norm_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    size = -(-n // chunks) if n else 1
    return split(x, size, d)


@op()
def unbind(x, dim=0):
    d = norm_dim(dim, x.ndim, "unbind")
    return tuple(select(x, d, i) for i in range(x.shape[d]))


@op()
def select(x, dim, index):
    d = norm_dim(dim, x.ndim, "select")
    idx = [slice(None)] * x.ndim
    idx[d] = index
    return getitem(x, tuple(idx))


@op(method=False)
def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's F.pad: `pad` lists (left, right) pairs starting from the last dim."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most 2 * ndim ({2 * x.ndim})")
    pads = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0 or hi < 0:
            raise NotImplementedError("pad: negative padding is not supported")
        pads[x.ndim - 1 - i] = (int(lo), int(hi))
    return apply(Pad, (x,), tuple(pads), value)


@op()
def repeat(x, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the "
                           f"tensor's ({x.ndim})")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    # tile = expand over interleaved unit dims, then merge: differentiable with no rule of its own
    inter = [v for s in shape for v in (1, s)]
    target = [v for s, r in zip(shape, sizes) for v in (r, s)]
    return x.reshape(inter).expand(target).reshape([s * r for s, r in zip(shape, sizes)])


from .index import getitem  # noqa: E402 - narrow and select are basic indexing
