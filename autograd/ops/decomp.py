"""Inverses, determinants, solvers and decompositions, batched over leading dims, with PyTorch's
gradient formulas (FunctionsManual.cpp / derivatives.yaml), each written beside its forward in
differentiable Tensor ops, so they differentiate twice.

Forwards call the array API's `linalg` extension (`B.xp.linalg`: inv, det, slogdet, solve,
cholesky, qr, svd, svdvals, eigh, eigvalsh) on float32/float64. What the extension lacks is
composed here: a triangular solve is a solve on the masked triangle (substitution where that
triangle is singular, for torch's inf/nan), pinv and matrix_rank come
from the SVD with torch's tolerances, lstsq is pinv(A) @ B (torch's own gradient for lstsq is that
of pinv(A) @ B). Decompositions with several outputs (qr, svd, eigh) are recorded as one node
through the custom-Function machinery, which carries several outputs; their rules receive None
for an output the caller never used, as torch's do (its "undefined gradient" fast paths).

Where a gradient is undefined (repeated eigen/singular values, singular matrices, the sign or
phase of eigenvectors) the formulas divide by zero as torch's do; docs/api/linalg.md lists them.
The public functions live in autograd/linalg.py (torch.linalg) and, for the names torch has at
the top level (det, logdet, slogdet, inverse, cholesky, svd, pinverse, qr), here as @op.
"""
from __future__ import annotations

from collections import namedtuple

from backends import dtypes as _dt
from ..function import Function
from ..graph import depends_on, primitive
from ..tensor import Tensor, _wrap
from ._core import apply
from ._registry import op
from .linalg import matmul

# --- argument checks -------------------------------------------------------------------------------


def check_float(A, name, what="A"):
    """torch's linalg functions take float32/float64 only (no float16/bfloat16 on the CPU)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(A).__name__}")
    dt = A.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {dt.name}")
    if dt is _dt.float16:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {dt.name}")


def check_matrix(A, name, what="A", square=False):
    check_float(A, name, what)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions (got shape "
                           f"{tuple(A.shape)})")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def _same(name, A, B):
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of type {A.dtype.name} "
                           f"and B of type {B.dtype.name} instead")


def _linalg(B, f, *args, name, msg=None, **kwargs):
    """B.xp.linalg.f(*args, **kwargs), quietly; a library's LinAlgError becomes torch's RuntimeError."""
    q = B.enter_quiet()
    try:
        return getattr(B.xp.linalg, f)(*args, **kwargs)
    except (ValueError, RuntimeError) as e:      # NumPy's LinAlgError is a ValueError
        raise RuntimeError(f"{name}: {msg or 'the computation failed'} ({type(e).__name__}: {e})") from None
    finally:
        B.exit_quiet(q)


# --- small matrix helpers (masks on arrays, selections as differentiable Tensor ops) ---------------

def _tri_mask(xp, m, n, k=0, lower=True):
    """A bool (m, n) array: True on the lower (upper) triangle from diagonal k on."""
    r = xp.arange(m)[:, None]
    c = xp.arange(n)[None, :]
    return (c - r <= k) if lower else (c - r >= k)


def tril(x, k=0):
    from .unary import where
    m = _tri_mask(x._backend.xp, x.shape[-2], x.shape[-1], k, True)
    return where(_wrap(m, x._backend), x, 0.0)


def triu(x, k=0):
    from .unary import where
    m = _tri_mask(x._backend.xp, x.shape[-2], x.shape[-1], k, False)
    return where(_wrap(m, x._backend), x, 0.0)


def eye_like(x, n=None, m=None):
    from ..factories import eye
    n = x.shape[-1] if n is None else n
    return eye(n, m, dtype=x.dtype, device=x.device)


def diag_embed(v):
    """(..., k) -> (..., k, k) with v on the diagonal."""
    return v.unsqueeze(-1) * eye_like(v, v.shape[-1])


def diagonal(x):
    """(..., m, n) -> (..., min(m, n)): the main diagonal."""
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    return (x * eye_like(x, m, n)).sum(-1)[..., :k]


def _sym_arr(xp, a, lower=True):
    """The symmetric matrix whose lower (upper) triangle is a's: what LAPACK reads for eigh/cholesky."""
    n = a.shape[-1]
    keep = _tri_mask(xp, n, n, 0, lower)
    strict = _tri_mask(xp, n, n, -1 if lower else 1, lower)
    z = xp.zeros((), dtype=a.dtype)
    return xp.where(keep, a, z) + xp.matrix_transpose(xp.where(strict, a, z))


# --- inverse, determinant ----------------------------------------------------------------------------

def _nan_matrices(xp, a):
    """(batch..., 1, 1) bool: the matrices holding a nan (LAPACK's factorizations may leave part of
    such a result finite; torch's inverse and solve are nan throughout, and so are ours)."""
    return xp.any(xp.isnan(a), axis=(-2, -1), keepdims=True)


def _poison(xp, a, out):
    bad = _nan_matrices(xp, a)
    return xp.where(bad, xp.asarray(float("nan"), dtype=out.dtype), out)


@primitive(save=("out",))
class Inv:
    def forward(B, a):
        return _poison(B.xp, a, _linalg(B, "inv", a, name="linalg.inv",
                                        msg="The diagonal element is zero, the inversion could not be "
                                            "completed because the input matrix is singular"))

    def backward(ctx, g):
        # d(A^-1) = -A^-1 dA A^-1  =>  gA = -A^-T g A^-T
        inv_t = ctx.out.mT
        return -matmul(inv_t, matmul(g, inv_t))


def linalg_inv(A, name="linalg.inv"):
    check_matrix(A, name, square=True)
    return apply(Inv, (A,))


@primitive(save=("a", "out"))
class Det:
    def forward(B, a):
        return _linalg(B, "det", a, name="linalg.det")

    def backward(ctx, g):
        # d det = det * tr(A^-1 dA)  =>  gA = g det A^-T for an invertible A. A (numerically)
        # singular one takes torch's other formula, the cofactors through the SVD (no inverse):
        # det A = det U det Vh prod S, so gA = U diag(g det U det Vh prod_{j != i} S_j) Vh
        a, out = ctx.saved_tensors
        if a.shape[-1] == 0:
            return g.unsqueeze(-1).unsqueeze(-1) * a
        xp = a._backend.xp
        if bool(xp.any(xp.abs(out._data) < 100 * _eps(a.dtype))):     # nan is not singular
            return det_singular_backward(g, a)
        return (g * out).unsqueeze(-1).unsqueeze(-1) * solve_mat(a.mT, eye_like(a))


def det_singular_backward(g, a):
    from .unary import where
    U, S, Vh = LinalgSvd.apply(a, True)
    alpha = linalg_det(U) * linalg_det(Vh)
    n = S.shape[-1]
    I = eye_like(S, n) == 1
    others = where(I, 1.0, S.unsqueeze(-2).expand(*S.shape[:-1], n, n)).prod(-1)      # prod_{j != i} S_j
    D = (alpha * g).unsqueeze(-1) * others
    return matmul(U * D.unsqueeze(-2), Vh)


def linalg_det(A, name="linalg.det"):
    if isinstance(A, Tensor) and A.dtype is _dt.float16 and A.numel() == 0 and A.ndim > 2 \
            and A.shape[-1] == A.shape[-2]:       # torch runs no kernel, so refuses nothing
        return A.sum((-2, -1))
    check_matrix(A, name, square=True)
    return apply(Det, (A,))


@primitive(save=("a",))
class LogAbsDet:
    """log|det A|, computed by the caller's slogdet (passed as `value`, so slogdet runs once)."""
    def forward(B, a, value):
        return value

    def backward(ctx, g):
        return g.unsqueeze(-1).unsqueeze(-1) * linalg_inv(ctx.a).mT


slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])


def linalg_slogdet(A, name="linalg.slogdet"):
    check_matrix(A, name, square=True)
    B = A._backend
    xp = B.xp
    res = _linalg(B, "slogdet", A._data, name=name)
    sign, lad = res[0], res[1]
    if A._data.ndim and A.numel():               # a matrix with a nan: sign 0, log|det| nan (torch)
        bad = _nan_matrices(xp, A._data)[..., 0, 0]
        sign = xp.where(bad, xp.zeros((), dtype=A._data.dtype), sign)
        lad = xp.where(bad, xp.asarray(float("nan"), dtype=A._data.dtype), lad)
    lad = apply(LogAbsDet, (A,), B.asarray(lad))
    # the sign has a zero gradient, but torch's requires grad (both outputs come from one node)
    return slogdet_result(depends_on(_wrap(B.asarray(sign), B), A), lad)


# --- solvers -------------------------------------------------------------------------------------------

@primitive(save=("a", "out"))
class Solve:
    """X = A^-1 B for B (..., n, k), batch dims already broadcast."""
    def forward(B, a, b):
        return _poison(B.xp, a, _linalg(B, "solve", a, b, name="linalg.solve",
                                        msg="The solver failed because the input matrix is singular"))

    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = solve_mat(a.mT, g)
        ga = -matmul(gb, x.mT) if ctx.needs_input_grad[0] else None
        return ga, gb


def solve_mat(A, Bm):
    """A^-1 Bm for a matrix right-hand side, broadcasting the batch dims of A and Bm."""
    from .shape import broadcast_shapes
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]))
    A = A.broadcast_to(batch + tuple(A.shape[-2:])) if tuple(A.shape[:-2]) != batch else A
    Bm = Bm.broadcast_to(batch + tuple(Bm.shape[-2:])) if tuple(Bm.shape[:-2]) != batch else Bm
    return apply(Solve, (A, Bm))


def _is_vector_rhs(A, Bv):
    return Bv.ndim == 1 or (A.ndim - 1 == Bv.ndim and tuple(Bv.shape) == tuple(A.shape[:-1]))


def linalg_solve(A, B, *, left=True, name="linalg.solve"):
    check_matrix(A, name, square=True)
    check_float(B, name, "B")
    _same(name, A, B)
    vec = _is_vector_rhs(A, B)
    if not vec and B.ndim < 2:
        raise RuntimeError(f"{name}: B must have at least 2 dimensions (got shape {tuple(B.shape)})")
    n = A.shape[-1]
    if vec and not left:                           # torch: a vector is a column, which XA = B cannot take
        if n == 1:
            raise RuntimeError(f"{name}: Vector broadcasting of the left hand side is not supported for "
                               f"left=False. In this case linalg.solve is equivalent to B / A.squeeze(-1)")
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation XA = B ({n}x{n} and "
                           f"{B.shape[-1]}x1)")
    Bm = B.unsqueeze(-1) if vec else B
    if not left:                                   # X A = B  <=>  A^T X^T = B^T
        Bm = B.mT
    if Bm.shape[-2] != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
                           f"{'x'.join(map(str, B.shape[-2:] if B.ndim > 1 else B.shape))})")
    try:
        X = solve_mat(A if left else A.mT, Bm)
    except RuntimeError as e:
        if "broadcast" in str(e):
            raise RuntimeError(f"{name}: the batch dims of A {tuple(A.shape)} and B {tuple(B.shape)} do not "
                               f"broadcast") from None
        raise
    if vec:
        return X.squeeze(-1)
    return X if left else X.mT


@primitive(save=("a", "out"))
class SolveTriangular:
    """X = op(A)^-1 B (left) or B op(A)^-1, op(A) the upper/lower triangle of A (unit diagonal if
    asked). The array API has no triangular solve: the masked triangle goes to `solve`, and a
    singular triangle (which `solve` refuses) to substitution, giving torch's inf/nan."""
    def forward(B, a, b, upper, left, unitriangular):
        xp = B.xp
        n = a.shape[-1]
        t = xp.where(_tri_mask(xp, n, n, 0, not upper), a, xp.zeros((), dtype=a.dtype))
        if unitriangular:
            eye = xp.eye(n, dtype=a.dtype)
            t = xp.where(eye == 1, eye, t)
        lower = not upper
        if not left:                                   # X T = B  <=>  T^T X^T = B^T
            t, b, lower = xp.matrix_transpose(t), xp.matrix_transpose(b), not lower
        try:
            x = _linalg(B, "solve", t, b, name="linalg.solve_triangular")
        except RuntimeError:
            x = _substitute(xp, t, b, lower)
        return x if left else xp.matrix_transpose(x)

    def backward(ctx, g):
        # torch's linalg_solve_triangular_backward: gB = op(A)^-T g, gA = -gB X^T projected on the triangle
        a, x = ctx.saved_tensors
        upper, left, unit = ctx.upper, ctx.left, ctx.unitriangular
        gb = apply(SolveTriangular, (a.mT, g), not upper, left, unit)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -matmul(gb, x.mT) if left else -matmul(x.mT, gb)
            ga = triu(ga, int(unit)) if upper else tril(ga, -int(unit))
        return ga, gb


def _substitute(xp, t, b, lower):
    """Forward (lower) or back (upper) substitution, one row at a time (n steps, each vectorized over
    the batch and the right-hand sides): a zero pivot gives inf/nan, as LAPACK's trsm."""
    n = t.shape[-1]
    rows = [None] * n
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        acc = b[..., i, :]
        done = list(range(i)) if lower else list(range(i + 1, n))
        if done:                                   # the solved rows, times row i's coefficients: one matmul
            lo, hi = done[0], done[-1] + 1
            acc = acc - xp.matmul(t[..., i:i + 1, lo:hi], xp.stack(rows[lo:hi], axis=-2))[..., 0, :]
        rows[i] = acc / t[..., i, i][..., None]
    return xp.stack(rows, axis=-2) if n else b


def linalg_solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    from .shape import broadcast_shapes
    name = "linalg.solve_triangular"
    check_matrix(A, name, square=True)
    check_matrix(B, name, "B")
    _same(name, A, B)
    n = A.shape[-1]
    k = B.shape[-2] if left else B.shape[-1]
    if k != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    A = A.broadcast_to(batch + (n, n))
    B = B.broadcast_to(batch + tuple(B.shape[-2:]))
    return apply(SolveTriangular, (A, B), bool(upper), bool(left), bool(unitriangular))


# --- Cholesky ----------------------------------------------------------------------------------------

@primitive(save=("out",))
class Cholesky:
    """The lower factor L of A = L L^T, reading A's lower triangle (as LAPACK does)."""
    def forward(B, a):
        xp = B.xp
        info = None
        if bool(xp.any(xp.isnan(a))):
            info = _potf2(B, a)[1]
        else:
            try:
                return _linalg(B, "cholesky", _sym_arr(xp, a, True), name="linalg.cholesky")
            except RuntimeError:
                info = _potf2(B, a)[1]
        k = int(xp.min(xp.where(info > 0, info, xp.asarray(a.shape[-1] + 1, dtype=info.dtype))))
        raise RuntimeError(f"linalg.cholesky: The factorization could not be completed because the input is not "
                           f"positive-definite (the leading minor of order {k} is not positive-definite).")

    def backward(ctx, g):
        # torch's cholesky_backward (Murray 2016): gA = sym(L^-T phi(L^T gL) L^-1), phi = tril with half diagonal
        L = ctx.out
        Linv = linalg_inv(L)
        phi = tril(matmul(L.mT, g))
        phi = phi - 0.5 * diag_embed(diagonal(phi))
        ga = matmul(matmul(Linv.mT, phi), Linv)
        return 0.5 * (ga + ga.mT)


def linalg_cholesky(A, *, upper=False, name="linalg.cholesky"):
    check_matrix(A, name, square=True)
    if upper:                      # U = chol(A reading its upper triangle)^T
        return apply(Cholesky, (A.mT,)).mT
    return apply(Cholesky, (A,))


def _potf2(B, a):
    """LAPACK's unblocked Cholesky (lower) on (..., n, n) arrays, column by column, vectorized over
    the batch: (L, info). Where a leading minor of order j is not positive-definite, info = j and,
    as LAPACK leaves it, column j holds the failed pivot and A's own entries below it, later columns
    A's own (lower) entries."""
    xp = B.xp
    n = a.shape[-1]
    i32 = B.native_dtype(_dt.int32)
    batch = a.shape[:-2]
    info = xp.zeros(batch, dtype=i32)
    failed = xp.zeros(batch + (1,), dtype=xp.bool)
    cols = []
    for j in range(n):
        if j:
            Lj = xp.stack(cols, axis=-1)                          # (..., n, j)
            row = Lj[..., j:j + 1, :]                             # (..., 1, j)
            d = a[..., j, j:j + 1] - xp.sum(row * row, axis=-1)[..., 0:1]
            below = a[..., j + 1:, j] - xp.matmul(Lj[..., j + 1:, :], xp.matrix_transpose(row))[..., 0]
        else:
            d = a[..., 0, 0:1]
            below = a[..., 1:, 0]
        bad = ~(d > 0)                                            # nan counts as not positive
        new = bad & ~failed
        info = xp.where(new[..., 0], xp.asarray(j + 1, dtype=i32), info)
        root = xp.sqrt(xp.where(bad, xp.ones((), dtype=a.dtype), d))
        good = xp.concat([root, below / root], axis=-1)
        kept = xp.concat([d, a[..., j + 1:, j]], axis=-1)         # the failed column, as LAPACK leaves it
        orig = a[..., j:, j]
        col = xp.where(failed, orig, xp.where(new, kept, good))
        cols.append(xp.concat([xp.zeros(batch + (j,), dtype=a.dtype), col], axis=-1))
        failed = failed | new
    L = xp.stack(cols, axis=-1) if cols else a
    return L, info


cholesky_ex_result = namedtuple("cholesky_ex", ["L", "info"])


def linalg_cholesky_ex(A, *, upper=False, check_errors=False, name="linalg.cholesky_ex"):
    """(L, info): info = the order of the first leading minor that is not positive-definite (0 if
    none), L then as LAPACK leaves it (not differentiable there; zero gradient)."""
    check_matrix(A, name, square=True)
    M = A.mT if upper else A
    be = A._backend
    q = be.enter_quiet()
    try:
        Larr, info = _potf2(be, M._data)
    finally:
        be.exit_quiet(q)
    bad = int(be.xp.max(info)) if info.size and bool(be.xp.any(info > 0)) else 0
    if not bad:
        return cholesky_ex_result(linalg_cholesky(A, upper=upper, name=name), _wrap(be.asarray(info), be))
    if check_errors:
        k = int(be.xp.min(be.xp.where(info > 0, info, be.xp.asarray(M.shape[-1] + 1, dtype=info.dtype))))
        raise RuntimeError(f"{name}: The factorization could not be completed because the input is not "
                           f"positive-definite (the leading minor of order {k} is not positive-definite).")
    L = depends_on(_wrap(Larr, be), A)
    return cholesky_ex_result(L.mT if upper else L, _wrap(be.asarray(info), be))


# --- decompositions with several outputs ---------------------------------------------------------

def _arrays(be, *arrs):
    return tuple(_wrap(be.asarray(a), be) for a in arrs)


class LinalgEigh(Function):
    @staticmethod
    def forward(ctx, A, lower):
        ctx.set_materialize_grads(False)
        be = A._backend
        res = _linalg(be, "eigh", _sym_arr(be.xp, A._data, lower), name="linalg.eigh",
                      msg="The algorithm failed to converge")
        L, V = _arrays(be, res[0], res[1])
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        return eigh_backward(gL, gV, L, V), None


def eigh_backward(gL, gV, L, V):
    """torch's linalg_eig_backward, Hermitian case: gA = V (diag(gL) + skew(V^T gV) / E) V^T,
    E[i, j] = L[j] - L[i] (undefined for repeated eigenvalues)."""
    if gV is None:
        if gL is None:
            return None
        return matmul(V * gL.unsqueeze(-2), V.mT)
    from .unary import where
    VhgV = matmul(V.mT, gV)
    VhgV = 0.5 * (VhgV - VhgV.mT)
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    I = eye_like(L, L.shape[-1]) == 1
    gA = VhgV / where(I, 1.0, E)
    if gL is not None:
        gA = gA + diag_embed(gL)
    return matmul(V, matmul(gA, V.mT))


eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def linalg_eigh(A, UPLO="L", name="linalg.eigh"):
    check_matrix(A, name, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{name}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L, V = LinalgEigh.apply(A, UPLO == "L")
    return eigh_result(L, V)


def linalg_eigvalsh(A, UPLO="L"):
    name = "linalg.eigvalsh"
    check_matrix(A, name, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{name}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A.requires_grad:
        return LinalgEigh.apply(A, UPLO == "L")[0]
    be = A._backend
    return _wrap(be.asarray(_linalg(be, "eigvalsh", _sym_arr(be.xp, A._data, UPLO == "L"), name=name)), be)


class LinalgSvd(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        ctx.set_materialize_grads(False)
        be = A._backend
        res = _linalg(be, "svd", A._data, full_matrices=full_matrices, name="linalg.svd", msg="The algorithm failed to converge")
        U, S, Vh = _arrays(be, res[0], res[1], res[2])
        ctx.full = full_matrices
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        if ctx.full:                  # torch: the extra columns of U / rows of Vh get no gradient
            k = S.shape[-1]
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU = None if gU is None else gU[..., :, :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        return svd_backward(gU, gS, gVh, U, S, Vh), None


def svd_backward(gU, gS, gVh, U, S, Vh):
    """torch's svd_backward (real case), for the reduced U (m, k), S (k), Vh (k, n)."""
    if gU is None and gS is None and gVh is None:
        return None
    from .unary import where
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        return matmul(U, gS.unsqueeze(-1) * Vh) if m >= n else matmul(U * gS.unsqueeze(-2), Vh)
    UhgU = None if gU is None else (lambda X: X - X.mT)(matmul(U.mT, gU))
    VhgV = None if gVh is None else (lambda X: X - X.mT)(matmul(Vh, gVh.mT))
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    I = eye_like(S, S.shape[-1]) == 1
    E = where(I, 1.0, E)
    if gU is not None and gVh is not None:
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif gU is None:
        gA = S.unsqueeze(-1) * VhgV / E
    else:
        gA = UhgU * S.unsqueeze(-2) / E
    if gS is not None:
        gA = gA + diag_embed(gS)
    if m > n and gU is not None:
        gA = matmul(U, gA)
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - matmul(U, matmul(U.mT, gUSinv))
        return matmul(gA, Vh)
    if m < n and gVh is not None:
        gA = matmul(gA, Vh)
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - matmul(matmul(SinvgVh, Vh.mT), Vh)
        return matmul(U, gA)
    return matmul(U, matmul(gA, Vh)) if m >= n else matmul(matmul(U, gA), Vh)


svd_result = namedtuple("svd", ["U", "S", "Vh"])


def linalg_svd(A, full_matrices=True, *, driver=None, name="linalg.svd"):
    check_matrix(A, name)
    if driver is not None:
        raise RuntimeError(f"{name}: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER "
                           f"backend.")
    U, S, Vh = LinalgSvd.apply(A, bool(full_matrices))
    return svd_result(U, S, Vh)


def linalg_svdvals(A, *, driver=None):
    name = "linalg.svdvals"
    check_matrix(A, name)
    if driver is not None:
        raise RuntimeError(f"{name}: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER "
                           f"backend.")
    if A.requires_grad:
        return LinalgSvd.apply(A, False)[1]
    be = A._backend
    return _wrap(be.asarray(_linalg(be, "svdvals", A._data, name=name)), be)


class LinalgQr(Function):
    @staticmethod
    def forward(ctx, A, mode):
        ctx.set_materialize_grads(False)
        be = A._backend
        res = _linalg(be, "qr", A._data, mode="reduced" if mode == "r" else mode, name="linalg.qr")
        Q, R = _arrays(be, res[0], res[1])
        ctx.mode = mode
        ctx.save_for_backward(Q, R)
        if mode == "r":
            Q = _wrap(be.xp.zeros((0,), dtype=A._data.dtype), be)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("linalg.qr: The derivative of linalg.qr depends on Q, which is not computed when "
                               "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                               "differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        return qr_backward(gQ, gR, Q, R), None


def qr_backward(gQ, gR, Q, R):
    """Reverse mode of A = QR. m >= n: gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q.
    m < n: A = [X | Y] with X = QU square; Y's gradient is Q gV and X's is the square case with
    gQ + Y gV^T (torch's linalg_qr_backward)."""
    if gQ is None and gR is None:
        return None
    from .shape import cat
    m, n = Q.shape[-2], R.shape[-1]
    if m < n:
        U, V = R[..., :, :m], R[..., :, m:]
        gU = None if gR is None else gR[..., :, :m]
        gV = None if gR is None else gR[..., :, m:]
        Y = matmul(Q, V)
        if gV is not None:
            gQ = matmul(Y, gV.mT) if gQ is None else gQ + matmul(Y, gV.mT)
        gX = qr_backward(gQ, gU, Q, U)
        gY = matmul(Q, gV) if gV is not None else Y * 0
        return cat([gX, gY], -1)
    M = 0
    if gR is not None:
        M = matmul(R, gR.mT)
    if gQ is not None:
        M = M - matmul(gQ.mT, Q)
    copyltu = tril(M) + tril(M, -1).mT
    b = matmul(Q, copyltu)
    if gQ is not None:
        b = b + gQ
    # b R^-T: solve R X^T = b^T
    return apply(SolveTriangular, (R, b.mT), True, True, False).mT


qr_result = namedtuple("qr", ["Q", "R"])


def linalg_qr(A, mode="reduced", name="linalg.qr"):
    check_matrix(A, name)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"{name}: qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                           f"(default), 'r', or 'complete'")
    Q, R = LinalgQr.apply(A, mode)
    return qr_result(Q, R)


# --- pseudo-inverse, rank, least squares -----------------------------------------------------------

def _tolerance(xp, S, m, n, atol, rtol, dtype_eps):
    """torch's cutoff max(atol, rtol * s_max); rtol defaults to eps * max(m, n), or to 0 when only
    atol is given (and positive)."""
    def val(t):
        return t._data if isinstance(t, Tensor) else t
    if rtol is None:
        rtol = 0.0 if atol is not None and not _is_zero(atol) else dtype_eps * max(m, n)
    atol = 0.0 if atol is None else atol
    smax = xp.max(S, axis=-1, keepdims=True) if S.shape[-1] else xp.zeros(S.shape[:-1] + (1,), dtype=S.dtype)
    a, r = val(atol), val(rtol)
    a = a[..., None] if not isinstance(a, (int, float)) else a
    r = r[..., None] if not isinstance(r, (int, float)) else r
    return xp.maximum(xp.asarray(a, dtype=S.dtype), r * smax)


def _is_zero(x):
    if isinstance(x, Tensor):
        return bool((x == 0).all())
    return x == 0


def _eps(dt):
    return 2.220446049250313e-16 if dt is _dt.float64 else 1.1920928955078125e-07


@primitive(save=("a", "out"))
class Pinv:
    def forward(B, a, atol, rtol, hermitian):
        xp = B.xp
        m, n = a.shape[-2], a.shape[-1]
        if hermitian:
            w, V = _linalg(B, "eigh", _sym_arr(xp, a, True), name="linalg.pinv")
            S = xp.abs(w)
            tol = _tolerance(xp, S, m, n, atol, rtol, _eps(B.dtype_from_native(a.dtype)))
            Sinv = xp.where(S > tol, 1 / xp.where(S > tol, w, xp.ones((), dtype=a.dtype)), xp.zeros((), dtype=a.dtype))
            return xp.matmul(V * Sinv[..., None, :], xp.matrix_transpose(V))
        U, S, Vh = _linalg(B, "svd", a, full_matrices=False, name="linalg.pinv")
        tol = _tolerance(xp, S, m, n, atol, rtol, _eps(B.dtype_from_native(a.dtype)))
        Sinv = xp.where(S > tol, 1 / xp.where(S > tol, S, xp.ones((), dtype=a.dtype)), xp.zeros((), dtype=a.dtype))
        return xp.matmul(xp.matrix_transpose(Vh) * Sinv[..., None, :], xp.matrix_transpose(U))

    def backward(ctx, g):
        a, p = ctx.saved_tensors
        return pinv_backward(g, p, a)


def pinv_backward(g, pinvA, A):
    """torch's pinv_backward (real case)."""
    m, n = A.shape[-2], A.shape[-1]
    pinvAh = pinvA.mT
    gh = g.mT
    if m <= n:
        K = matmul(gh, pinvA)
        KpinvAh = matmul(K, pinvAh)
        return (-matmul(pinvA, K).mT + KpinvAh - matmul(matmul(A, pinvA), KpinvAh)
                + matmul(matmul(pinvAh, pinvA), gh - matmul(K, A)))
    K = matmul(pinvA, gh)
    pinvAhK = matmul(pinvAh, K)
    return (-matmul(K, pinvA).mT + matmul(matmul(gh - matmul(A, K), pinvA), pinvAh) + pinvAhK
            - matmul(matmul(pinvAhK, pinvA), A))


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False, name="linalg.pinv"):
    check_matrix(A, name, square=hermitian)
    return apply(Pinv, (A,), atol, rtol, bool(hermitian))


def linalg_matrix_rank(A, *, atol=None, rtol=None, hermitian=False, name="linalg.matrix_rank"):
    check_matrix(A, name, square=hermitian)
    be = A._backend
    xp = be.xp
    a = A._data
    m, n = a.shape[-2], a.shape[-1]
    if hermitian:
        S = xp.abs(_linalg(be, "eigvalsh", _sym_arr(xp, a, True), name=name))
    else:
        S = _linalg(be, "svdvals", a, name=name)
    tol = _tolerance(xp, S, m, n, atol, rtol, _eps(A.dtype))
    r = xp.sum(xp.astype(S > tol, be.native_dtype(_dt.int64)), axis=-1)
    return _wrap(be.asarray(r), be)


lstsq_result = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def linalg_lstsq(A, B, rcond=None, *, driver=None):
    """min ||A X - B||: X = pinv(A) B (torch's gradient for lstsq is exactly that of pinv(A) B).
    residuals, rank and singular_values follow the CPU driver's conventions (default 'gelsy')."""
    name = "linalg.lstsq"
    check_matrix(A, name)
    check_float(B, name, "B")
    _same(name, A, B)
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    driver = "gelsy" if driver is None else driver
    if driver not in drivers:
        raise RuntimeError(f"{name}: parameter `driver` should be one of {drivers}")
    vec = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vec else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size(-2) (shapes {tuple(A.shape)} and "
                           f"{tuple(B.shape)})")
    m, n = A.shape[-2], A.shape[-1]
    rtol = rcond if rcond is not None and rcond > 0 else None
    P = linalg_pinv(A, rtol=rtol, name=name)
    X = matmul(P, Bm)
    be = A._backend
    xp = be.xp
    batch = tuple(X.shape[:-2])
    empty = _wrap(xp.zeros((0,), dtype=A._data.dtype), be)
    rank = linalg_matrix_rank(A, rtol=rtol, name=name) if driver != "gels" else \
        _wrap(xp.zeros((0,), dtype=be.native_dtype(_dt.int64)), be)
    rank = rank.broadcast_to(batch) * 1 if driver != "gels" and tuple(rank.shape) != batch else rank
    residuals = depends_on(empty, A)          # torch's residuals are differentiable, even empty
    if driver != "gelsy" and m > n:
        full = driver == "gels" or bool((rank == min(m, n)).all())
        if full:
            residuals = ((matmul(A, X) - Bm) ** 2).sum(-2)
    sv = linalg_svdvals(A.detach()) if driver in ("gelsd", "gelss") else empty
    return lstsq_result(X.squeeze(-1) if vec else X, residuals, rank, sv)


# --- torch's top-level spellings ---------------------------------------------------------------------

@op()
def det(input):
    return linalg_det(input, "det")


@op()
def logdet(input):
    """log det A: nan for a negative determinant, -inf for a singular matrix (torch.logdet)."""
    from .unary import where
    sign, lad = linalg_slogdet(input, "logdet")
    return where(sign == -1, float("nan"), lad)      # as torch: nan (and a zero gradient) for det < 0


@op()
def slogdet(input):
    return linalg_slogdet(input, "slogdet")


@op()
def inverse(input):
    return linalg_inv(input, "inverse")


@op()
def cholesky(input, upper=False):
    return linalg_cholesky(input, upper=upper, name="cholesky")


svd_uv = namedtuple("svd", ["U", "S", "V"])


@op()
def svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with V, not V^T; some=False gives the full U and V. Without compute_uv,
    U and V are zeros of shape (m, m) and (n, n)."""
    check_matrix(input, "svd")
    if not compute_uv:
        from ..factories import zeros
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        S = linalg_svdvals(input)
        return svd_uv(zeros(batch + (m, m), dtype=input.dtype, device=input.device), S,
                      zeros(batch + (n, n), dtype=input.dtype, device=input.device))
    U, S, Vh = linalg_svd(input, full_matrices=not some, name="svd")
    return svd_uv(U, S, Vh.mT)


@op()
def pinverse(input, rcond=1e-15):
    return linalg_pinv(input, rtol=rcond, name="pinverse")


@op()
def qr(input, some=True):
    return linalg_qr(input, "reduced" if some else "complete", name="qr")
