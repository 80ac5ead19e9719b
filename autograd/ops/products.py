"""Matrix and vector products beyond matmul: mv, dot, inner, outer, the add*mm family, tensordot,
kron, cross, cdist, chain_matmul and matrix_power.

All are composites of matmul (one fused product, whose rule is already beside it in linalg.py),
reshapes, permutes and elementwise ops, so their gradients are PyTorch's without a rule of their own
and differentiate twice. Argument checks follow PyTorch's: the products take one dtype (no
promotion, as torch's BLAS kernels), outer/kron promote as elementwise multiplication does.
"""
from __future__ import annotations

import math
import numbers

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor
from ._core import apply, norm_dim
from ._registry import op
from .linalg import Matmul, matmul


def _tensor(x, name, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    return x


def _same_dtype(name, *ts):
    """torch's BLAS-backed products take one dtype: no promotion."""
    d0 = ts[0].dtype
    for t in ts[1:]:
        if t.dtype is not d0:
            raise RuntimeError(f"{name}: expected all tensors to have the same dtype, but got "
                               f"{', '.join(u.dtype.name for u in ts)} (shapes "
                               f"{', '.join(str(tuple(u.shape)) for u in ts)})")
    if d0 is _dt.bool_:
        raise RuntimeError(f"{name}: not implemented for 'Bool' tensors")


def _shapes(*ts):
    return " and ".join(str(tuple(t.shape)) for t in ts)


# --- vector products -------------------------------------------------------------------------------

@op()
def mv(input, vec):
    """matrix (n, m) @ vector (m,) -> (n,)."""
    _tensor(input, "mv"), _tensor(vec, "mv", "vec")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got {input.ndim}-D matrix and {vec.ndim}-D "
                           f"vector (shapes {_shapes(input, vec)})")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    _same_dtype("mv", input, vec)
    return apply(Matmul, (input, vec))


def _vector_product(name, input, other, other_name):
    """dot and vdot (the same for real dtypes): two 1-D tensors of one dtype and size, torch's messages."""
    _tensor(input, name), _tensor(other, name, other_name)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"{name}: 1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"{name}: inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {other.shape[0]} elements respectively")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{name}: expected both vectors to have same dtype, but found {input.dtype.name} and "
                           f"{other.dtype.name}")
    _same_dtype(name, input, other)
    return apply(Matmul, (input, other))


@op()
def dot(input, tensor):
    """The inner product of two 1-D tensors of one dtype and size."""
    return _vector_product("dot", input, tensor, "tensor")


@op()
def vdot(input, other):
    """dot with the first argument conjugated: dot, for the real dtypes this engine has."""
    return _vector_product("vdot", input, other, "other")


@op()
def inner(input, other):
    """Sum over the last dims: shape input.shape[:-1] + other.shape[:-1]; a 0-d operand multiplies."""
    _tensor(input, "inner"), _tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: inner() the last dimension must match on both input tensors but got "
                           f"shapes {_shapes(input, other)}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"inner: both inputs should have same dtype (got {input.dtype.name} and "
                           f"{other.dtype.name})")
    return tensordot(input, other, ([-1], [-1]))


@op(aliases=("ger",))
def outer(input, vec2):
    """input[i] * vec2[j]: the outer product of two vectors (promoting, as multiplication)."""
    _tensor(input, "outer"), _tensor(vec2, "outer", "vec2")
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return input.reshape(-1, 1) * vec2


# --- the add*mm family: beta * input + alpha * product --------------------------------------------

def _scaled_sum(name, input, prod, beta, alpha):
    """beta * input + alpha * prod, input broadcast to prod's shape (never the other way); beta = 0
    ignores input entirely (its nan and inf are not propagated), as torch."""
    from .shape import broadcast_shapes
    try:
        ok = broadcast_shapes(tuple(input.shape), tuple(prod.shape)) == tuple(prod.shape)
    except RuntimeError:
        ok = False
    if not ok:
        raise RuntimeError(f"{name}: the input of shape {tuple(input.shape)} cannot be broadcast to the "
                           f"product's shape {tuple(prod.shape)}")
    for k, v in (("beta", beta), ("alpha", alpha)):
        if not isinstance(v, numbers.Number) or isinstance(v, complex):
            raise TypeError(f"{name}(): argument '{k}' must be a real number, not {type(v).__name__}")
    if not prod.dtype.is_floating_point:       # torch converts the scalars to the integer dtype (0.5 -> 0)
        beta, alpha = int(beta), int(alpha)
    # BLAS's alpha = 0 never reads the product (nan/inf ignored); torch's baddbmm and its float16 addmm
    # kernels are not BLAS and do read it
    if alpha == 0 and name != "baddbmm" and not (name == "addmm" and prod.dtype is _dt.float16):
        prod = apply(Unread, (prod,))
    elif alpha != 1:
        prod = prod * alpha
    if beta == 0:                               # input unread, but still given a (zero) gradient, as torch
        return apply(Unread, (input,)) + prod if input.requires_grad else prod
    inp = input if beta == 1 else input * beta
    return inp + prod


@primitive()
class Unread:
    """0 * x without reading x, as BLAS's alpha = 0: zeros forward (nan/inf in x ignored), 0 * g back
    (so the factors' gradients are 0 * their products, nan where those are, as torch's)."""
    def forward(B, x):
        return B.xp.zeros_like(x)

    def backward(ctx, g):
        return g * 0


def _check_add(name, input, *ts):
    _tensor(input, name)
    for t in ts:
        _tensor(t, name, "tensor")
    _same_dtype(name, input, *ts)


@op(inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); input broadcast to (n, p)."""
    _check_add("addmm", input, mat1, mat2)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: mat1 and mat2 must be matrices, got {mat1.ndim}-D and {mat2.ndim}-D tensors")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _scaled_sum("addmm", input, apply(Matmul, (mat1, mat2)), beta, alpha)


@op(inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec); input broadcast to (n,)."""
    _check_add("addmv", input, mat, vec)
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"addmv: vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, got input ({input.shape}), mat ({mat.shape[0]}x{mat.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    return _scaled_sum("addmv", input, apply(Matmul, (mat, vec)), beta, alpha)


def _check_batches(name, b1, b2):
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError(f"{name}: batch1 and batch2 must be 3D tensors, got {b1.ndim}D and {b2.ndim}D")
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"{name}: batch1 and batch2 must have same number of batches, got {b1.shape[0]} and "
                           f"{b2.shape[0]}")
    if b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"{name}: Incompatible matrix sizes for bmm ({b1.shape[1]}x{b1.shape[2]} and "
                           f"{b2.shape[1]}x{b2.shape[2]})")


@op(inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b], as one (n, b*m) @ (b*m, p) product."""
    _check_add("addbmm", input, batch1, batch2)
    _check_batches("addbmm", batch1, batch2)
    b, n, m = batch1.shape
    p = batch2.shape[2]
    prod = apply(Matmul, (batch1.permute(1, 0, 2).reshape(n, b * m), batch2.reshape(b * m, p)))
    return _scaled_sum("addbmm", input, prod, beta, alpha)


@op(inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2); input broadcast to (b, n, p)."""
    _check_add("baddbmm", input, batch1, batch2)
    _check_batches("baddbmm", batch1, batch2)
    return _scaled_sum("baddbmm", input, apply(Matmul, (batch1, batch2)), beta, alpha)


# --- tensordot, kron, cross ------------------------------------------------------------------------

def contract(a, b, dims_a, dims_b):
    """sum over dims_a of a with dims_b of b (paired), one matmul: a's free dims, then b's."""
    fa = [d for d in range(a.ndim) if d not in dims_a]
    fb = [d for d in range(b.ndim) if d not in dims_b]
    k = math.prod(a.shape[d] for d in dims_a)
    sa = tuple(a.shape[d] for d in fa)
    sb = tuple(b.shape[d] for d in fb)
    a2 = a.permute(*fa, *dims_a).reshape(math.prod(sa), k)
    b2 = b.permute(*dims_b, *fb).reshape(k, math.prod(sb))
    return apply(Matmul, (a2, b2)).reshape(sa + sb)


@op(method=False)
def tensordot(a, b, dims=2, out=None):
    """Contract the last `dims` dims of a with the first of b, or the paired lists dims=(da, db)."""
    _tensor(a, "tensordot", "a"), _tensor(b, "tensordot", "b")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > a.ndim or n > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n} (shapes "
                               f"{_shapes(a, b)})")
        da, db = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be an int or a pair of lists of dims")
        for d in dims:
            if not isinstance(d, (list, tuple)):
                raise TypeError(f"tensordot(): dims must be an int or a pair of lists of dims, got {dims!r}")
        da, db = (list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(f"tensordot: both dimension lists should have same length (got {len(da)} and "
                               f"{len(db)})")
        da = [norm_dim(d, a.ndim, "tensordot") for d in da]
        db = [norm_dim(d, b.ndim, "tensordot") for d in db]
    if a.dtype is not b.dtype:
        raise RuntimeError(f"tensordot: both inputs should have same dtype (got {a.dtype.name} and {b.dtype.name})")
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[x]} "
                               f"in dim {x} and second has size {b.shape[y]} in dim {y}")
    _same_dtype("tensordot", a, b)
    res = contract(a, b, da, db)
    if out is not None:
        out.copy_(res)
        return out
    return res


@op()
def kron(input, other):
    """The Kronecker product: out[i * other.size + j] = input[i] * other[j] along every dim."""
    _tensor(input, "kron"), _tensor(other, "kron", "other")
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape(tuple(v for s in sa for v in (s, 1)))
    b = other.reshape(tuple(v for s in sb for v in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def _cross(input, other, dim, name):
    from .shape import broadcast_shapes, stack
    _tensor(input, name), _tensor(other, name, "other")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{name}: expected both inputs to have the same dtype, got {input.dtype.name} and "
                           f"{other.dtype.name}")
    if input.ndim != other.ndim:
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions (shapes {_shapes(input, other)})")
    shape = broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if dim is None:                 # torch.cross: the first dim of size 3
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"{name}: no dimension of size 3 in input (shapes {_shapes(input, other)})")
    d = norm_dim(dim, len(shape), name)
    if input.shape[d - len(shape) + input.ndim] != 3 or other.shape[d - len(shape) + other.ndim] != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d - len(shape) + input.ndim]} and {other.shape[d - len(shape) + other.ndim]}")
    a, b = input.broadcast_to(shape), other.broadcast_to(shape)
    a1, a2, a3 = (a.select(d, i) for i in range(3))
    b1, b2, b3 = (b.select(d, i) for i in range(3))
    return stack([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], d)


@op()
def cross(input, other, dim=None):
    """The cross product along `dim` (default: the first dim of size 3), inputs broadcast."""
    return _cross(input, other, dim, "cross")


def linalg_cross(input, other, *, dim=-1):
    return _cross(input, other, dim, "linalg.cross")


# --- cdist -------------------------------------------------------------------------------------------

@op(method=False)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M): (..., P, R).
    p = 2 goes through one matmul (|x|^2 + |y|^2 - 2 x.y, as torch) when compute_mode asks or when
    P or R exceeds 25; otherwise the differences are formed, as torch's direct kernel does."""
    from .reduce import norm
    from .shape import broadcast_shapes
    _tensor(x1, "cdist", "x1"), _tensor(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if not (x1.dtype.is_floating_point and x2.dtype.is_floating_point):
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype.name}, X2 got: "
                           f"{x2.dtype.name}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"cdist: expected both inputs to have the same dtype, got {x1.dtype.name} and "
                           f"{x2.dtype.name}")
    if not isinstance(p, numbers.Real) or p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values (got {p})")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"cdist: {compute_mode} is not a valid value for compute_mode")
    batch = broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    P, R, M = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    a = x1.broadcast_to(batch + (P, M))
    b = x2.broadcast_to(batch + (R, M))
    if P == 0 or R == 0 or M == 0:
        return (a.unsqueeze(-2) - b.unsqueeze(-3)).abs().sum(-1)      # zeros of the right shape
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist"
                         or compute_mode == modes[0] and (P > 25 or R > 25))
    if use_mm:
        return apply(EuclidDist, (a, b))
    if x1.dtype is _dt.float16:
        raise RuntimeError("cdist: not implemented for 'Half' (use compute_mode='use_mm_for_euclid_dist')")
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)
    if p == math.inf:
        return apply(CdistInf, (diff,))
    return norm(diff, float(p), -1)


@primitive(save=("x1", "x2", "out"))
class EuclidDist:
    """torch's _euclidean_dist: sqrt(max(|x1|^2 + |x2|^2 - 2 x1 x2^T, 0)) in one matmul, with its
    gradient (ratio = g / dist, 0 where dist is 0)."""
    def forward(B, x1, x2):
        xp = B.xp
        n1 = xp.sum(x1 * x1, axis=-1)[..., :, None]
        n2 = xp.sum(x2 * x2, axis=-1)[..., None, :]
        d2 = n1 + n2 - 2 * xp.matmul(x1, xp.matrix_transpose(x2))
        return xp.sqrt(xp.maximum(d2, xp.zeros((), dtype=d2.dtype)))

    def backward(ctx, g):
        from .unary import where
        x1, x2, out = ctx.saved_tensors
        zero = out == 0
        ratio = where(zero, 0.0, g / where(zero, 1.0, out))
        g1 = x1 * ratio.sum(-1, keepdim=True) - matmul(ratio, x2)
        g2 = x2 * ratio.sum(-2).unsqueeze(-1) - matmul(ratio.mT, x1)
        return g1, g2


@primitive(save=("diff", "out"))
class CdistInf:
    """max |x1_i - x2_i| over the last dim; torch's _cdist_backward gives every coordinate at the
    maximum the whole gradient (the vector norm's rule shares it among ties)."""
    def forward(B, diff):
        return B.xp.max(B.xp.abs(diff), axis=-1)

    def backward(ctx, g):
        from .unary import sign
        diff, out = ctx.saved_tensors
        at_max = _wrap_like(diff, diff._backend.xp.abs(diff._data) == out._data[..., None])
        return g.unsqueeze(-1) * sign(diff) * at_max


def _wrap_like(ref, arr):
    from ..tensor import _wrap
    return _wrap(ref._backend.xp.astype(arr, ref._data.dtype), ref._backend)


# --- chains and powers -------------------------------------------------------------------------------

def _chain(mats, name):
    """The product of a list of matrices in the cheapest order (dynamic programming over
    parenthesizations, as torch's multi_dot)."""
    n = len(mats)
    if n == 1:
        return mats[0]
    if n == 2:
        return apply(Matmul, (mats[0], mats[1]))
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def build(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return apply(Matmul, (build(i, k), build(k + 1, j)))
    return build(0, n - 1)


@op(method=False)
def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices, in the cheapest order (torch's deprecated spelling of multi_dot)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        _tensor(m, "chain_matmul", "matrices")
        if m.ndim != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {m.ndim}, expected 2 instead (matrix {i})")
    res = _multi_dot_checked(list(matrices), "chain_matmul")
    if out is not None:
        out.copy_(res)
        return out
    return res


def _multi_dot_checked(mats, name):
    _same_dtype(name, *mats)
    for i in range(len(mats) - 1):
        if mats[i].shape[-1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"{name}(): tensors {i} and {i + 1} with shapes {tuple(mats[i].shape)} and "
                               f"{tuple(mats[i + 1].shape)} cannot be multiplied")
    if len(mats) == 1:
        return mats[0].clone()
    return _chain(mats, name)


def multi_dot(tensors, *, out=None):
    """torch.linalg.multi_dot: the first tensor may be 1-D (a row), the last 1-D (a column)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        _tensor(t, "linalg.multi_dot", "tensors")
        ok = t.ndim == 2 or t.ndim == 1 and i in (0, len(tensors) - 1)
        if not ok:
            which = "first" if i == 0 else "last" if i == len(tensors) - 1 else f"{i}th"
            raise RuntimeError(f"multi_dot(): the {which} tensor must be {'1D or 2D' if i in (0, len(tensors) - 1) else '2D'} "
                               f"but got {t.ndim}D")
    first_1d, last_1d = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first_1d:
        mats[0] = mats[0].unsqueeze(0)
    if last_1d:
        mats[-1] = mats[-1].unsqueeze(-1)
    res = _multi_dot_checked(mats, "multi_dot")
    if first_1d and last_1d:
        res = res.reshape(())
    elif first_1d:
        res = res.squeeze(0)
    elif last_1d:
        res = res.squeeze(-1)
    if out is not None:
        out.copy_(res)
        return out
    return res


@op()
def matrix_power(input, n):
    """input @ input @ ... (n times) by repeated squaring; n = 0 the identity, n < 0 powers of the
    inverse (float only)."""
    return _matrix_power(input, n, "matrix_power")


def _matrix_power(A, n, name):
    from ..factories import eye
    _tensor(A, name)
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"{name}(): argument 'n' must be int, not {type(n).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2] if A.ndim > 1 else ''}"
                           f" by {A.shape[-1] if A.ndim else ''} matrices (shape {tuple(A.shape)})")
    n = int(n)
    if n == 0:                     # the identity, with a zero gradient (torch's result requires grad)
        from ..graph import depends_on
        return depends_on(eye(A.shape[-1], dtype=A.dtype, device=A.device).broadcast_to(tuple(A.shape)).clone(), A)
    if n < 0:
        from .decomp import linalg_inv
        A = linalg_inv(A, name if name != "matrix_power" else "linalg.inv")
        n = -n
    if A.dtype is _dt.bool_ and n > 1:
        raise RuntimeError(f"{name}: not implemented for 'Bool'")
    result = None
    z = A
    while True:                       # binary powering: log2(n) products
        if n & 1:
            result = z if result is None else matmul(result, z)
        n >>= 1
        if not n:
            break
        z = matmul(z, z)
    return result.clone() if result is A else result
