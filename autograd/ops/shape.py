"""Shape ops: views (reshape, permute, expand and what is built on them), joining and splitting.

A view shares its input's storage and version counter and remembers its base (`index.as_view`);
its gradient is the inverse view. narrow and select are basic indexing, in `index`. split, chunk,
unbind and tensor_split cut a tensor into pieces with ONE node (`Split`), whose rule joins the
pieces' gradients in one concatenation; split, chunk and unbind mark their pieces as outputs of a
multi-view op (PyTorch refuses recorded in-place writes into those, not into tensor_split's).
"""
from __future__ import annotations

import math

from backends import dtypes as _dt
from ..grad_mode import state
from .. import graph as _graph
from ..grad_mode import grad_enabled, watching
from ..graph import Op, primitive
from ..tensor import Tensor, _wrap
from ._core import apply, builtins_max, builtins_sum, norm_dim, norm_dims, result_dtype
from ._registry import op


@primitive(view=True, warns=False)
class Reshape:
    def forward(B, x, shape): return B.xp.reshape(x, shape)
    def backward(ctx, g): return g.reshape(ctx.input_shapes[0])


@primitive(view=True, warns=False)
class Permute:
    def forward(B, x, dims): return B.xp.permute_dims(x, dims)

    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.permute(*inv)


@primitive(view=True, warns=False)
class Expand:
    def forward(B, x, shape): return B.xp.broadcast_to(x, shape)
    def backward(ctx, g): return g                      # the engine sums it back to the input's shape


@primitive(name="clone")
class Contiguous:
    """A row-major copy (`Tensor.contiguous()` of a non-contiguous tensor; PyTorch's CloneBackward)."""
    def forward(B, x):
        out = B.xp.empty(x.shape, dtype=x.dtype)
        B.setitem(out, (...,), x)
        return out

    def backward(ctx, g): return g


@primitive(args=("*arrays", "dim", "sizes"))
class Cat:
    def forward(B, *arrays_dim_sizes):
        *arrays, dim, sizes = arrays_dim_sizes
        return B.xp.concat(arrays, axis=dim)

    def backward(ctx, g): return pieces(g, ctx.dim, _bounds(ctx.sizes))


@primitive(args=("*arrays", "dim"))
class Stack:
    def forward(B, *arrays_dim):
        *arrays, dim = arrays_dim
        return B.xp.stack(arrays, axis=dim)

    def backward(ctx, g): return pieces(g, ctx.dim, _bounds((1,) * g.shape[ctx.dim]), keep=False)


@primitive(view=True)
class Split:
    """x cut along `dim` into the pieces [lo, hi) of `bounds` (with `keep=False`, index lo with the dim
    dropped: unbind), each a view of x, recorded as ONE node with an output per piece (`pieces`).
    Its rule is one concatenation of the pieces' gradients, the engine giving unused pieces zeros:
    recorded one by one, each piece would send back a zero array the size of x, O(n^2) for n pieces."""
    def forward(B, x, dim, bounds, keep, indices):
        return tuple(B.getitem(x, i) for i in indices)

    def backward(ctx, *grads):
        if not ctx.keep:
            return apply(Stack, grads, ctx.dim)
        return _join(grads, ctx.dim, ctx.bounds, ctx.input_shapes[0], ctx.indices)


Unbind = Op("unbind", Split.forward, Split.backward, view=True)     # its own name on the tape


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
    if shape == x._data.shape and not (x._rg and state.enabled):
        return as_view(_wrap(x._data, x._backend), x, Reshape, (shape,))
    out = apply(Reshape, (x,), shape)
    be = x._backend
    # a reshape of a 1-d (or 0-d) tensor is always a view; of a non-contiguous one the library may copy
    if x._data.ndim > 1 and be.storage(out._data) is not be.storage(x._data):
        out._vc = [0]           # a copy (as torch's reshape makes there): not a view
        return out
    return as_view(out, x, Reshape, (shape,))


def view(x, *shape):
    """reshape that must give a view (PyTorch's Tensor.view)."""
    out = reshape(x, *shape)
    if out._vc is not x._vc:
        raise RuntimeError(f"view: view size is not compatible with input tensor's size and stride (at least one "
                           f"dimension spans across two contiguous subspaces): shape {tuple(x.shape)} with stride "
                           f"{x.stride()} to {tuple(out.shape)}. Use .reshape(...) instead.")
    return out


@op()
def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: number of dims {len(dims)} does not match the tensor's {x.ndim}")
    dims = tuple(norm_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return as_view(apply(Permute, (x,), dims), x, Permute, (dims,))


@op(aliases=("swapaxes", "swapdims"))
def transpose(x, dim0, dim1):
    if x.ndim == 0:             # PyTorch: dims 0 and -1 of a 0-d tensor name the tensor itself
        return x
    d0, d1 = norm_dim(dim0, x.ndim, "transpose"), norm_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    dims = tuple(dims)
    return as_view(apply(Permute, (x,), dims), x, Permute, (dims,))


@op(export=False)          # torch has Tensor.expand only
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
    return as_view(apply(Expand, (x,), full), x, Expand, (full,))


@op()
def broadcast_to(x, shape):
    return expand(x, tuple(shape))


@op(method=False)
def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


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
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten: only one dimension can be inferred (sizes {sizes})")
    n = x.shape[d]
    known = math.prod(s for s in sizes if s != -1)
    if (n % known if known else n) if -1 in sizes else known != n:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {d} ({n}) in "
                           f"the input tensor")
    if -1 in sizes:
        sizes[sizes.index(-1)] = n // known if known else 0
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


@op(method=False, aliases=("concat", "concatenate"))
def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of Tensors")
    # PyTorch skips 1-D empty tensors in cat
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
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
    dt = result_dtype(*tensors)
    return apply(Stack, tuple(t.to(dt) for t in tensors), d)


@op()
def narrow(x, dim, start, length):
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, x.ndim, "narrow")
    if isinstance(start, Tensor):
        if start.ndim or start.dtype.is_floating_point or start.dtype is _dt.bool_:
            raise RuntimeError("narrow: start must be an 0-dim integral Tensor.")
        start = start.item()
    start, length, n = int(start), int(length), x.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}).")
    idx = [slice(None)] * x.ndim
    idx[d] = slice(start, start + length)
    return getitem(x, tuple(idx))


@op()
def split(tensor, split_size_or_sections, dim=0):
    x = tensor
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = ([s] * (n // s) + ([n % s] if n % s else [])) if s else []
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if builtins_sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
    return pieces(x, d, _bounds(sizes), multi="Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes")


@op()
def chunk(x, chunks, dim=0):
    if not isinstance(chunks, int) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = norm_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:
        return pieces(x, d, ((0, 0),) * chunks, multi="Split")
    return split(x, -(-n // chunks), d)


@op()
def unbind(x, dim=0):
    if x.ndim == 0:
        raise IndexError(f"unbind: Dimension specified as {dim} but tensor has no dimensions")
    d = norm_dim(dim, x.ndim, "unbind")
    return pieces(x, d, _bounds((1,) * x.shape[d]), keep=False, multi="Unbind")


def pieces(x, dim, bounds, keep=True, multi=None):
    """The views x[..., lo:hi, ...] along `dim` for each (lo, hi) in `bounds` (with `keep=False`, x[..., lo,
    ...]), as the outputs of one Split node (see Split). `multi` names the op for PyTorch's refusal of
    recorded in-place writes into them (split, chunk, unbind; tensor_split's pieces take such writes)."""
    lead = (slice(None),) * dim
    indices = tuple(lead + ((slice(lo, hi) if keep else lo), Ellipsis) for lo, hi in bounds)
    op = Split if keep else Unbind
    params = (dim, tuple(bounds), keep, indices)
    be = x._backend
    arrs = op.forward(be, x._data, *params)
    if x._rg and grad_enabled():
        outs = _record_pieces(op, x, arrs, params, be)
    else:
        outs = [_wrap(a, be) for a in arrs]
    for i, (o, index) in enumerate(zip(outs, indices)):
        as_view(o, x, Getitem, (index, True), None if multi is None else (multi, i))
    return tuple(outs)


def _record_pieces(op, x, arrs, params, be):
    """The Tensors of arrays `arrs`, the outputs of op on x, recorded as one node with several outputs
    (graph.record makes single-output nodes; custom Functions record several the same way)."""
    node = (op.node_cls or _graph._node_class(op))()
    node.op, node.params, node.seq = op, params, next(_graph._seq)
    node.hooks = None
    node.source = _graph.user_source() if watching() else None       # anomaly mode or record_source()
    node.next = _graph.edges((x,))
    node.out_meta = tuple((a.shape, a.dtype) for a in arrs)
    node.saved = node.versions = ()
    if _graph.PROFILER is not None:
        _graph.profile_saved(node)
    return [_wrap(a, be, True, node, i) for i, a in enumerate(arrs)]


def _bounds(sizes):
    out, start = [], 0
    for s in sizes:
        out.append((start, start + s))
        start += s
    return tuple(out)


def _join(grads, dim, bounds, shape, indices):
    """x's gradient from its pieces' (Split's rule): one concatenation, zeros where no piece lies;
    pieces that overlap (tensor_split with decreasing indices) are scattered one by one."""
    g0 = grads[0]
    be, native = g0._backend, g0._data.dtype
    parts, sizes, pos = [], [], 0
    for g, (lo, hi) in zip(grads, bounds):
        if lo == hi:
            continue
        if lo < pos:
            return _scatter_pieces(grads, indices, shape)
        if lo > pos:
            gap = shape[:dim] + (lo - pos,) + shape[dim + 1:]
            parts.append(_wrap(be.xp.zeros(gap, dtype=native), be))
            sizes.append(lo - pos)
        parts.append(g)
        sizes.append(hi - lo)
        pos = hi
    if pos < shape[dim] or not parts:
        rest = shape[:dim] + (shape[dim] - pos,) + shape[dim + 1:]
        parts.append(_wrap(be.xp.zeros(rest, dtype=native), be))
        sizes.append(shape[dim] - pos)
    if len(parts) == 1:
        return parts[0]
    return apply(Cat, tuple(parts), dim, tuple(sizes))


def _scatter_pieces(grads, indices, shape):
    from .index import index_add_zeros
    total = None
    for g, index in zip(grads, indices):
        s = index_add_zeros(g, index, shape, True)
        total = s if total is None else total + s
    return total


@op()
def select(x, dim, index):
    d = norm_dim(dim, x.ndim, "select")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x.shape)} at dimension {d}")
    idx = [slice(None)] * x.ndim
    idx[d] = index
    return getitem(x, tuple(idx))


@op(method=False, export=False)     # torch has no torch.pad: users reach it as nn.functional.pad
def pad(input, pad, mode="constant", value=0.0):
    x = input
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


@op(export=False)          # torch has Tensor.repeat only
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


from .index import Getitem, as_view, getitem  # noqa: E402 - narrow and select are basic indexing


def inplace_view_(x, name, op_, params):
    """x becomes op_(x, *params), a view of its own storage, in place (transpose_, t_, squeeze_,
    unsqueeze_, swapaxes_, swapdims_): its data, its history (recorded as the view op, PyTorch's
    rebase) and, when x is itself a view, the steps that derive it from its base. Views taken of x
    before are described from x's old layout, so that case is refused rather than mis-derived."""
    from ..inplace import _check_leaf
    from .index import ViewInfo, live_views
    _check_leaf(x, name)
    view = getattr(x, "_view", None) if len(x._vc) > 1 else None
    if view is None and any(v is not x for v in live_views(x._vc)):
        raise NotImplementedError(f"{name}: the tensor (shape {tuple(x.shape)}) has live views; changing its "
                                  f"shape in place would leave them derived from the old layout. Use the "
                                  f"out-of-place {name[:-1]}() instead")
    res = apply(op_, (x,), *params)
    x._data = res._data
    if res.grad_fn is not None:
        x.grad_fn, x._idx = res.grad_fn, res._idx
    if view is not None:
        x._view = ViewInfo((view.base, view.steps + ((op_, params),), view.no_grad or not state.enabled, view.multi))
    x._vc[0] += 1
    return x


def transpose_dims(x, dim0, dim1, name):
    if x.ndim == 0:
        norm_dim(dim0, 0, name), norm_dim(dim1, 0, name)
        return ()
    d0, d1 = norm_dim(dim0, x.ndim, name), norm_dim(dim1, x.ndim, name)
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return tuple(dims)
