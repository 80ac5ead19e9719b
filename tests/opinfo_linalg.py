"""Registry entries for issue 11's "Matrices and linear algebra": products (mv ... einsum), torch's
top-level decompositions and `autograd.linalg` (checked through Call, since the checker resolves
only top-level names).

Decompositions with a sign/phase gauge (eigh's and svd's vectors, qr's factors) are compared through
gauge-invariant functions of their outputs (V * V elementwise, U * U, ...), never the raw vectors,
whose signs are the LAPACK build's choice; symmetric inputs are made inside the call (A + A^T,
A A^T + 3I) so that finite differences see the same function as the analytic gradient, as torch's
own OpInfos do.
"""
from __future__ import annotations

import numpy as np

from tests.opinfo import FLOATS, OpInfo, Call, S, C, T, STRIDED, arr

F64_32 = ("float64", "float32")
LA = ("float64", "float32", "float16")          # float16: torch refuses (Low precision / not implemented)
INTS_TOO = FLOATS + ("int64",)
TOL32 = {"float32": (1e-4, 1e-4), "float16": (2e-2, 2e-2)}


def _torch():
    import torch
    return torch


def _ag():
    import autograd
    return autograd


def NS(label, f):
    """A call written once for both sides: f(namespace, *args) with namespace autograd or torch."""
    return Call(label, lambda *a, **k: f(_ag(), *a, **k), lambda *a, **k: f(_torch(), *a, **k))


def LN(name):
    """autograd.linalg.<name> against torch.linalg.<name>."""
    return NS(f"linalg.{name}", lambda ns, *a, **k: getattr(ns.linalg, name)(*a, **k))


def wc(shape, dt, seed=0):
    """A well-conditioned square matrix (batch): random plus 3 I."""
    a = arr(shape, "float64", "any", seed) + 3 * np.eye(shape[-1])
    return a.astype(dt)


def spd(ns, A):
    return A @ A.mT + 3 * ns.eye(A.shape[-1], dtype=A.dtype, device=A.device)


def sym(A):
    return A + A.mT


# --- products ---------------------------------------------------------------------------------------

def _mv(dt):
    return [S("2x3", arr((2, 3), dt, "any", 1), arr((3,), dt, "any", 2)),
            S("T", T(arr((2, 3), dt, "any", 1)), arr((3,), dt, "any", 2)),
            S("empty", arr((0, 3), dt), arr((3,), dt)),
            S("size-mismatch", arr((2, 3), dt), arr((4,), dt)), S("vec-2d", arr((2, 3), dt), arr((3, 1), dt))] + (
        [S("f32,f64", arr((2, 3), dt), arr((3,), "float64"))] if dt == "float32" else [])


def _dot(dt):
    return [S("3", arr((3,), dt, "any", 1), arr((3,), dt, "any", 2)), S("strided", STRIDED(arr((3,), dt, "any", 1)), arr((3,), dt, "any", 2)),
            S("empty", arr((0,), dt), arr((0,), dt)), S("mismatch", arr((3,), dt), arr((4,), dt)),
            S("2d", arr((2, 3), dt), arr((3,), dt))] + (
        [S("f32,f64", arr((3,), dt), arr((3,), "float64"))] if dt == "float32" else [])


def _inner(dt):
    return [S("vec", arr((3,), dt, "any", 1), arr((3,), dt, "any", 2)),
            S("mat", arr((2, 3), dt, "any", 1), arr((4, 3), dt, "any", 2)),
            S("3d,vec", arr((2, 2, 3), dt, "any", 1), arr((3,), dt, "any", 2)),
            S("0d", arr((), dt, "any", 1), arr((2, 3), dt, "any", 2)), S("mismatch", arr((2, 3), dt), arr((2, 4), dt))]


def _outer(dt):
    return [S("3x4", arr((3,), dt, "any", 1), arr((4,), dt, "any", 2)), S("empty", arr((0,), dt), arr((2,), dt)),
            S("2d-error", arr((2, 2), dt), arr((2,), dt))] + (
        [S("f32,f64", arr((3,), dt), arr((2,), "float64"))] if dt == "float32" else [])


def _addmm(dt):
    a, b = arr((2, 3), dt, "any", 1), arr((3, 4), dt, "any", 2)
    return [S("full", arr((2, 4), dt, "any", 3), a, b), S("row-bias", arr((4,), dt, "any", 3), a, b),
            S("beta,alpha", arr((2, 4), dt, "any", 3), a, b, beta=0.5, alpha=2.0),
            S("beta=0-nan", C(np.full((2, 4), np.nan if dt != "int64" else 7, dt)), a, b, beta=0),
            S("beta=0-leaf", arr((2, 4), dt, "any", 4), a, b, beta=0.0),
            S("alpha=0-nan", arr((2, 4), dt, "any", 3), a, np.full((3, 4), np.nan if dt != "int64" else 7, dt), alpha=0,
              gc=False),
            S("T", arr((1, 4), dt, "any", 3), T(a), b), S("bad-input", arr((3, 4), dt), a, b),
            S("mismatch", arr((2, 4), dt), a, arr((4, 4), dt))]


def _addmv(dt):
    m, v = arr((2, 3), dt, "any", 1), arr((3,), dt, "any", 2)
    return [S("full", arr((2,), dt, "any", 3), m, v), S("0d-input", arr((), dt, "any", 3), m, v),
            S("beta,alpha", arr((2,), dt, "any", 3), m, v, beta=-1.0, alpha=0.5),
            S("mismatch", arr((2,), dt), m, arr((4,), dt))]


def _addbmm(dt):
    b1, b2 = arr((3, 2, 4), dt, "any", 1), arr((3, 4, 2), dt, "any", 2)
    return [S("full", arr((2, 2), dt, "any", 3), b1, b2), S("beta,alpha", arr((2,), dt, "any", 3), b1, b2, beta=2.0, alpha=-1.0),
            S("batch-mismatch", arr((2, 2), dt), b1, arr((2, 4, 2), dt)), S("2d-error", arr((2, 2), dt), arr((2, 4), dt), arr((4, 2), dt))]


def _baddbmm(dt):
    b1, b2 = arr((2, 2, 3), dt, "any", 1), arr((2, 3, 2), dt, "any", 2)
    return [S("full", arr((2, 2, 2), dt, "any", 3), b1, b2), S("bcast", arr((2,), dt, "any", 3), b1, b2, beta=0.5, alpha=3.0),
            S("beta=0", C(np.full((2, 2, 2), np.inf if dt != "int64" else 7, dt)), b1, b2, beta=0.0),
            S("alpha=0-nan", arr((2, 2, 2), dt, "any", 3), b1, np.full((2, 3, 2), np.nan if dt != "int64" else 7, dt),
              alpha=0, gc=False),
            S("mismatch", arr((2, 2, 2), dt), b1, arr((2, 4, 2), dt))]


def _tensordot(dt):
    a, b = arr((2, 3, 4), dt, "any", 1), arr((3, 4, 2), dt, "any", 2)
    return [S("dims=2", a, b), S("dims=1", a, arr((4, 2), dt, "any", 3), 1), S("dims=0", arr((2,), dt), arr((3,), dt), 0),
            S("lists", a, b, ([1, 2], [0, 1])), S("lists-swapped", a, arr((4, 3), dt, "any", 4), dims=([2, 1], [0, 1])),
            S("ints", a, arr((4, 5), dt, "any", 4), dims=(2, 0)),
            S("mismatch", a, b, ([0], [0])), S("too-many", arr((2,), dt), arr((2,), dt), 2)]


def _kron(dt):
    return [S("mat", arr((2, 3), dt, "any", 1), arr((2, 2), dt, "any", 2)), S("vec,mat", arr((2,), dt, "any", 1), arr((2, 3), dt, "any", 2)),
            S("3d", arr((1, 2, 2), dt, "any", 1), arr((2, 1, 2), dt, "any", 2)), S("0d", arr((), dt, "any", 1), arr((3,), dt, "any", 2))] + (
        [S("f32,f64", arr((2,), dt), arr((2,), "float64"))] if dt == "float32" else [])


def _cross(dt, linalg=False):
    out = [S("rows", arr((4, 3), dt, "any", 1), arr((4, 3), dt, "any", 2), dim=1),
           S("bcast", arr((2, 1, 3), dt, "any", 1), arr((4, 3), dt, "any", 2), dim=-1),
           S("dim0", arr((3, 2), dt, "any", 1), arr((3, 2), dt, "any", 2), dim=0),
           S("not-3", arr((4, 2), dt), arr((4, 2), dt), dim=1)]
    if not linalg:
        out += [S("default-dim", arr((3, 3), dt, "any", 1), arr((3, 3), dt, "any", 2)),
                S("no-size-3", arr((2, 2), dt), arr((2, 2), dt))]
    return out


def _cdist(dt):
    x1, x2 = arr((3, 2), dt, "any", 1), arr((4, 2), dt, "any", 2)
    big1, big2 = arr((27, 2), dt, "any", 3), arr((3, 2), dt, "any", 4)
    return [S("p=2", x1, x2), S("p=1", x1, x2, p=1.0), S("p=3", x1, x2, p=3.0), S("p=inf", x1, x2, p=float("inf"), gc=False),
            S("p=0.5", x1, x2, p=0.5), S("batched", arr((2, 3, 2), dt, "any", 5), arr((1, 2, 2), dt, "any", 6)),
            S("mm-mode", x1, x2, compute_mode="use_mm_for_euclid_dist"), S("mm-auto", big1, big2, gc=False),
            S("same-point", x1, C(arr((3, 2), dt, "any", 1)), gc=False),
            S("p=inf-ties", np.array([[0.0, 1.0], [2.0, 3.0], [1.0, 1.0]], dt), np.array([[0.0, 2.0], [2.0, 3.0]], dt),
              p=float("inf"), gc=False),
            S("cols-mismatch", x1, arr((4, 3), dt)), S("1d", arr((3,), dt), arr((3,), dt)), S("neg-p", x1, x2, p=-1.0)]


def _einsum(dt):
    a = lambda s, seed: arr(s, dt, "any", seed)   # noqa: E731
    return [S("mm", "ij,jk->ik", a((2, 3), 1), a((3, 4), 2)), S("implicit", "ij,jk", a((2, 3), 1), a((3, 4), 2)),
            S("trace", "ii", a((3, 3), 1)), S("diag", "ii->i", a((3, 3), 1)), S("transpose", "ij->ji", a((2, 3), 1)),
            S("bmm", "bij,bjk->bik", a((2, 2, 3), 1), a((2, 3, 2), 2)),
            S("ellipsis", "...ij,...jk", a((2, 1, 2, 3), 1), a((3, 3, 2), 2)),
            S("three", "ijk,jl,lk->i", a((2, 3, 2), 1), a((3, 2), 2), a((2, 2), 3)),
            S("chain4", "ab,bc,cd,de->ae", a((2, 3), 1), a((3, 2), 2), a((2, 3), 3), a((3, 2), 4)),
            S("repeated-diag", "iij,jk->ik", a((2, 2, 3), 1), a((3, 2), 2)), S("outer3", "i,j,k", a((2,), 1), a((3,), 2), a((2,), 3)),
            S("broadcast-1", "bi,bi->b", a((1, 3), 1), a((4, 3), 2)), S("upper-labels", "Ab,bA", a((2, 3), 1), a((3, 2), 2)),
            S("spaces", "i j , j k -> i k", a((2, 3), 1), a((3, 2), 2)), S("list-form", "ij,jk", [a((2, 3), 1), a((3, 2), 2)]),
            S("sublist", a((2, 3), 1), [0, 1], a((3, 2), 2), [1, 2], [0, 2]), S("sum-all", "ij->", a((2, 3), 1)),
            S("empty", "ij,jk", a((0, 3), 1), a((3, 2), 2)),
            S("bad-output", "ij->k", a((2, 3), 1)), S("repeat-output", "ij->ii", a((2, 3), 1)),
            S("bad-ndim", "ij", a((3,), 1)), S("size-mismatch", "i,i", a((3,), 1), a((4,), 2)),
            S("few-operands", "i,j", a((3,), 1)), S("bad-char", "i1", a((3,), 1))] + (
        [S("f32,f64", "i,i", a((3,), 1), arr((3,), "float64"))] if dt == "float32" else [])


def _chain(dt):
    return [S("three", arr((2, 3), dt, "any", 1), arr((3, 4), dt, "any", 2), arr((4, 2), dt, "any", 3)),
            S("one", arr((2, 3), dt, "any", 1)), S("mismatch", arr((2, 3), dt), arr((2, 3), dt)),
            S("1d-error", arr((3,), dt), arr((3, 2), dt))]


def _multi_dot(dt):
    return [S("three", [arr((2, 3), dt, "any", 1), arr((3, 4), dt, "any", 2), arr((4, 2), dt, "any", 3)]),
            S("vec-ends", [arr((3,), dt, "any", 1), arr((3, 4), dt, "any", 2), arr((4,), dt, "any", 3)]),
            S("first-vec", [arr((3,), dt, "any", 1), arr((3, 2), dt, "any", 2)]),
            S("one-error", [arr((2, 3), dt)]), S("3d-error", [arr((2, 3), dt), arr((2, 3, 2), dt)]),
            S("mismatch", [arr((2, 3), dt), arr((2, 3), dt)])]


def _matrix_power(dt, neg=True):
    a = wc((3, 3), dt, 1) / 3
    out = [S("n=3", a, 3), S("n=1", a, 1), S("n=0", a, 0), S("n=2,batched", wc((2, 2, 2), dt, 2) / 3, 2),
           S("not-square", arr((2, 3), dt), 2), S("1d", arr((3,), dt), 2)]
    if neg:
        out += [S("n=-2", a, -2)]
    return out


# --- decompositions ---------------------------------------------------------------------------------

def _square(dt):
    return [S("3x3", wc((3, 3), dt, 1)), S("batched", wc((2, 3, 3), dt, 2)), S("T", T(wc((3, 3), dt, 3))),
            S("1x1", wc((1, 1), dt, 4)), S("empty-batch", wc((0, 2, 2), dt, 5)),
            S("not-square", arr((2, 3), dt)), S("1d", arr((3,), dt))] + (
        [S("int", np.array([[1, 2], [3, 4]]))] if dt == "float64" else [])


NANMAT = [[[np.nan, 1.0], [2.0, 3.0]], [[1.0, 0.0], [0.0, 1.0]]]


def _det_samples(dt):
    return _square(dt) + [S("negative-det", np.array([[0.0, 2.0], [1.5, 0.5]], dt), gc=False),
                          S("nan", np.array(NANMAT, dt), gc=False)]


def _det_only(dt):
    # det's gradient at a singular matrix is the cofactor matrix (torch's SVD formula); near-singular too
    return _det_samples(dt) + [S("singular-exact", np.diag(np.array([1.0, 0.0, 2.0], dt))),
                               S("near-singular", np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], dt), gc=False)]


def _solve(dt, left=True):
    A = wc((3, 3), dt, 1)
    out = [S("mat", A, arr((3, 2), dt, "any", 2)), S("vec", A, arr((3,), dt, "any", 2)),
           S("batched", wc((2, 3, 3), dt, 3), arr((2, 3, 2), dt, "any", 4)),
           S("batched-vec", wc((2, 3, 3), dt, 3), arr((2, 3), dt, "any", 4)),
           S("bcast", wc((2, 1, 3, 3), dt, 3), arr((3, 3, 1), dt, "any", 4)),
           S("mismatch", A, arr((4, 2), dt)), S("not-square", arr((2, 3), dt), arr((2, 2), dt))]
    out += [S("left=False", A, arr((2, 3), dt, "any", 5), left=False),
            S("left=False-vec", A, arr((3,), dt, "any", 5), left=False),
            S("left=False-vec-1x1", wc((1, 1), dt, 7), arr((1,), dt, "any", 5), left=False),
            S("nan", np.array(NANMAT, dt), arr((2, 2, 1), dt, "any", 6), gc=False)]
    if dt == "float32":
        out.append(S("f32,f64", A, arr((3,), "float64")))
    return out


def _solve_tri(dt):
    A = wc((3, 3), dt, 1)
    B = arr((3, 2), dt, "any", 2)
    return [S("upper", A, B, upper=True), S("lower", A, B, upper=False), S("unit", A, B, upper=True, unitriangular=True),
            S("right", A, arr((2, 3), dt, "any", 3), upper=False, left=False),
            S("right-unit", A, arr((2, 3), dt, "any", 3), upper=True, left=False, unitriangular=True),
            S("batched", wc((2, 3, 3), dt, 4), B, upper=False), S("mismatch", A, arr((4, 2), dt), upper=True),
            S("singular", np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 4.0], [5.0, 6.0, 1.0]], dt), B, upper=True, gc=False),
            S("singular-right", np.array([[0.0, 1.0], [3.0, 2.0]], dt), arr((3, 2), dt, "any", 5), upper=False, left=False,
              gc=False),
            S("vec-error", A, arr((3,), dt), upper=True)]


def _mat_any(dt):
    return [S("3x3", wc((3, 3), dt, 1)), S("tall", arr((4, 2), dt, "any", 2)), S("wide", arr((2, 4), dt, "any", 3)),
            S("batched", arr((2, 3, 2), dt, "any", 4)), S("1d", arr((3,), dt))]


def _eigh_calls(name):
    return NS(name, lambda ns, A, *a, **k: (lambda r: (r[0], r[1] * r[1]))(ns.linalg.eigh(sym(A), *a, **k)))


def _svd_inv(ns, A, full_matrices=True):
    U, S_, Vh = ns.linalg.svd(A, full_matrices=full_matrices)
    k = S_.shape[-1]
    u, v = U[..., :, :k], Vh[..., :k, :]
    if not full_matrices:
        return u * u, S_, v * v
    U, Vh = U.detach(), Vh.detach()
    return u * u, S_, v * v, U @ U.mT, Vh.mT @ Vh            # the full factors: orthogonal


def _qr_inv(ns, A, mode="reduced"):
    Q, R = ns.linalg.qr(A, mode=mode)
    return Q * Q, R * R


def _norm_samples(dt):
    x = arr((2, 3), dt, "nonzero", 1)
    v = arr((4,), dt, "nonzero", 2)
    return [S("default", x), S("vec", v), S("vec-ord1", v, 1), S("vec-ord-inf", v, float("inf")),
            S("vec-ord3", v, 3.0), S("mat-fro", x, "fro"), S("mat-nuc", x, "nuc"), S("mat-2", x, 2),
            S("mat-(-2)", x, -2), S("mat-1", x, 1), S("mat-inf", x, float("inf")), S("mat-(-1)", x, -1),
            S("dim=1", x, dim=1), S("dims,keepdim", arr((2, 3, 2), dt, "nonzero", 3), "fro", (0, 2), True),
            S("3d-ord-error", arr((2, 2, 2), dt), 2), S("bad-dim", x, None, (0, 1, 1)), S("str-vec", v, "fro")]


def _vector_norm(dt):
    x = arr((2, 3, 2), dt, "nonzero", 1)
    return [S("default", x), S("ord1", x, 1), S("ord0", x, 0, gc=False), S("ord-inf", x, float("-inf")),
            S("ord3,dim", x, 3.0, 1), S("dims,keepdim", x, 2, (0, 2), True), S("dtype", x, dtype=_Dt("float64")),
            S("ord-0.5", x, -0.5), S("zero", np.zeros(3, dt), gc=False), S("empty-inf", arr((0,), dt), float("inf")),
            S("int", np.array([1, 2])), S("T", T(arr((2, 3), dt, "nonzero", 2)))]


def _Dt(name):
    from tests.opinfo import D
    return D(name)


def _matrix_norm(dt):
    x = arr((2, 3, 4), dt, "nonzero", 1)
    return [S("fro", x), S("nuc", x, "nuc"), S("2", x, 2), S("-2", x, -2), S("1", x, 1), S("-1", x, -1),
            S("inf", x, float("inf")), S("-inf", x, float("-inf")), S("dims,keepdim", x, 1, (2, 0), True),
            S("nuc,keepdim", x, "nuc", (0, 2), True), S("bad-ord", x, 3), S("1d", arr((3,), dt)),
            S("same-dims", x, "fro", (1, 1))]


def _pinv(dt):
    return [S("3x3", wc((3, 3), dt, 1)), S("tall", arr((4, 2), dt, "any", 2)), S("wide", arr((2, 3), dt, "any", 3)),
            S("batched", arr((2, 3, 2), dt, "any", 4)), S("rank-deficient", np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], dt), gc=False),
            S("rtol", arr((3, 2), dt, "any", 5), rtol=0.5, gc=False), S("atol", arr((3, 2), dt, "any", 5), atol=0.1),
            S("1d", arr((3,), dt))]


def _rank(dt):
    return [S("full", wc((3, 3), dt, 1)), S("deficient", np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], dt)),
            S("batched", np.stack([np.eye(3, dtype=dt), np.diag(np.array([1.0, 0.0, 1e-9])).astype(dt)])),
            S("atol", np.diag(np.array([3.0, 1.0, 0.1])).astype(dt), atol=0.5),
            S("rtol", np.diag(np.array([3.0, 1.0, 0.1])).astype(dt), rtol=0.2),
            S("hermitian", np.diag(np.array([3.0, -1.0, 0.0])).astype(dt), hermitian=True),
            S("1d", arr((3,), dt))]


def _lstsq_calls():
    # rank and the solution; residuals/singular values are empty for the default CPU driver
    # torch's singular_values do not require grad (gradcheck would see their derivative): the first
    # call leaves them out, the second compares all four outputs
    return [NS("linalg.lstsq", lambda ns, A, B, *a, **k: tuple(ns.linalg.lstsq(A, B, *a, **k))[:3]),
            NS("linalg.lstsq-all", lambda ns, A, B, *a, **k: tuple(ns.linalg.lstsq(A, B, *a, **k)))]


def _lstsq(dt):
    return [S("tall", arr((4, 2), dt, "any", 1), arr((4, 3), dt, "any", 2)),
            S("square", wc((3, 3), dt, 1), arr((3, 2), dt, "any", 2)),
            S("batched-vec", arr((2, 4, 2), dt, "any", 3), arr((2, 4), dt, "any", 4)),
            S("gelsd", arr((4, 2), dt, "any", 1), arr((4, 3), dt, "any", 2), driver="gelsd"),
            S("gels", arr((4, 2), dt, "any", 1), arr((4, 1), dt, "any", 2), driver="gels"),
            S("mismatch", arr((4, 2), dt), arr((3, 2), dt)), S("bad-driver", arr((4, 2), dt), arr((4, 2), dt), driver="x")]


KNOWN = {
    ("det", "float*/singular-exact", "grad"): "issue 11 #linalg, deliberate (docs/api/linalg.md): torch 2.13's det "
    "gradient at an exactly singular matrix (det == 0) is 0; ours is the cofactor matrix, the true derivative, "
    "which torch itself gives for a matrix whose det is merely tiny",
}

ENTRIES = [
    OpInfo("mv", ["autograd.mv", "Tensor.mv"], _mv, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("dot", ["autograd.dot", "Tensor.dot"], _dot, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("vdot", ["autograd.vdot", "Tensor.vdot"], _dot, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("inner", ["autograd.inner", "Tensor.inner"], _inner, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("outer", ["autograd.outer", "Tensor.outer", "autograd.ger", "Tensor.ger"], _outer, dtypes=INTS_TOO, smooth=True,
           tol=TOL32),
    OpInfo("addmm", ["autograd.addmm", "Tensor.addmm"], _addmm, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("addmv", ["autograd.addmv", "Tensor.addmv"], _addmv, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("addbmm", ["autograd.addbmm", "Tensor.addbmm"], _addbmm, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("baddbmm", ["autograd.baddbmm", "Tensor.baddbmm"], _baddbmm, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("tensordot", ["autograd.tensordot"], _tensordot, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("kron", ["autograd.kron", "Tensor.kron"], _kron, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("cross", ["autograd.cross", "Tensor.cross"], _cross, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("linalg.cross", [LN("cross")], lambda dt: _cross(dt, True), dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("cdist", ["autograd.cdist"], _cdist, dtypes=("float64", "float32", "float16"), tol=TOL32),
    OpInfo("einsum", ["autograd.einsum"], _einsum, dtypes=INTS_TOO, smooth=True, tol=TOL32),
    OpInfo("chain_matmul", ["autograd.chain_matmul"], _chain, dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.multi_dot", [LN("multi_dot")], _multi_dot, dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("matrix_power", ["autograd.matrix_power", "Tensor.matrix_power", LN("matrix_power")], _matrix_power,
           dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("matrix_power-int", ["autograd.matrix_power", "Tensor.matrix_power"], lambda dt: [
        S("n=0", arr((2, 3, 3), dt, "any", 1), 0), S("n=1", arr((3, 3), dt, "any", 2), 1), S("n=3", arr((3, 3), dt, "any", 3), 3),
        S("n=-1", arr((3, 3), dt, "any", 4), -1)], dtypes=("int64", "bool"), grad=False, errors=("matrix_power", "inv")),
    OpInfo("matrix_power-f16", ["autograd.matrix_power"], lambda dt: _matrix_power(dt, False)[:1] + [
        S("n=-1", arr((2, 2), dt), -1)], dtypes=("float16",), grad=False, tol=TOL32, errors=("matrix_power", "inv")),
    # --- decompositions, torch's top-level names
    OpInfo("inverse", ["autograd.inverse", "Tensor.inverse", LN("inv")], _square, dtypes=LA, smooth=True, tol=TOL32,
           errors=("inverse", "inv")),
    OpInfo("det", ["autograd.det", "Tensor.det", LN("det")], _det_only, dtypes=LA, smooth=True, tol=TOL32),
    OpInfo("slogdet", ["autograd.slogdet", "Tensor.slogdet", LN("slogdet")], _det_samples, dtypes=LA, smooth=True,
           tol=TOL32),
    OpInfo("logdet", ["autograd.logdet", "Tensor.logdet"],
           lambda dt: [s for s in _det_samples(dt) if s.id not in ("empty-batch",)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("cholesky", [NS("autograd.cholesky", lambda ns, A, *a, **k: ns.cholesky(spd(ns, A), *a, **k)),
                        NS("Tensor.cholesky", lambda ns, A, *a, **k: spd(ns, A).cholesky(*a, **k))],
           lambda dt: [S("3x3", arr((3, 3), dt, "any", 1)), S("upper", arr((3, 3), dt, "any", 1), upper=True),
                       S("batched", arr((2, 2, 2), dt, "any", 2))], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("svd", [NS("autograd.svd", lambda ns, A, *a, **k: (lambda r: (r[0] * r[0], r[1], r[2] * r[2]))(ns.svd(A, *a, **k)))],
           lambda dt: [S("3x3", wc((3, 3), dt, 1)), S("tall", arr((4, 2), dt, "any", 2)), S("wide", arr((2, 3), dt, "any", 3)),
                       S("some=False", arr((3, 2), dt, "any", 2), some=False, gc=False),
                       S("no-uv", arr((3, 2), dt, "any", 4), compute_uv=False)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("pinverse", ["autograd.pinverse", "Tensor.pinverse"], lambda dt: _pinv(dt)[:4] + [
        S("rcond", arr((3, 2), dt, "any", 5), rcond=0.5, gc=False)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("qr", [NS("autograd.qr", lambda ns, A, *a, **k: (lambda r: (r[0] * r[0], r[1] * r[1]))(ns.qr(A, *a, **k)))],
           lambda dt: [S("tall", arr((4, 3), dt, "any", 1)), S("wide", arr((2, 4), dt, "any", 2)), S("square", wc((3, 3), dt, 3)),
                       S("some=False-wide", arr((2, 3), dt, "any", 4), some=False)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("matrix_exp", ["autograd.matrix_exp", "Tensor.matrix_exp", LN("matrix_exp")], lambda dt: [
        S("3x3", arr((3, 3), dt, "any", 1)), S("batched", arr((2, 2, 2), dt, "any", 2) * 3), S("zeros", np.zeros((2, 2), dt)),
        S("1x1", arr((1, 1), dt, "any", 3)), S("big-norm", np.array([[0.0, 6.0], [-6.0, 0.5]], dt)), S("T", T(arr((3, 3), dt, "any", 4))),
        S("empty", arr((2, 0, 0), dt)), S("inf", np.array([[np.inf, 0.0], [0.0, 1.0]], dt), gc=False),
        S("not-square", arr((2, 3), dt)), S("1d", arr((3,), dt))] + (
        [S("int", np.array([[1, 2], [3, 4]]))] if dt == "float64" else []), dtypes=F64_32, smooth=True, tol=TOL32),
    # --- autograd.linalg
    OpInfo("linalg.solve", [LN("solve")], _solve, dtypes=LA, smooth=True, tol=TOL32),
    OpInfo("linalg.solve_triangular", [LN("solve_triangular")], _solve_tri, dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.cholesky", [NS("linalg.cholesky(AA^T+3I)", lambda ns, A, **k: ns.linalg.cholesky(spd(ns, A), **k))],
           lambda dt: [S("3x3", arr((3, 3), dt, "any", 1)), S("upper", arr((3, 3), dt, "any", 1), upper=True),
                       S("batched", arr((2, 3, 3), dt, "any", 2)), S("1x1", arr((1, 1), dt, "any", 3))],
           dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.cholesky-errors", [LN("cholesky")], lambda dt: [
        S("not-pd", np.array([[1.0, 2.0], [2.0, 1.0]], dt)), S("not-square", arr((2, 3), dt)), S("1d", arr((3,), dt)),
        S("lower-read", np.array([[4.0, 100.0], [2.0, 5.0]], dt)), S("nan", np.array(NANMAT[0], dt))], dtypes=LA, grad=False, tol=TOL32,
        errors=("cholesky",)),
    OpInfo("linalg.cholesky_ex", [LN("cholesky_ex")], lambda dt: [
        S("pd", C(wc((3, 3), dt, 1) @ wc((3, 3), dt, 1).T)),
        S("not-pd", C(np.array([[4.0, 2.0, 1.0], [2.0, 1.0, 3.0], [1.0, 3.0, 5.0]], dt))),
        S("not-pd-upper", C(np.array([[4.0, 2.0, 1.0], [2.0, 1.0, 3.0], [1.0, 3.0, 5.0]], dt)), upper=True),
        S("batch", C(np.array([[[1.0, 2.0], [2.0, 1.0]], [[4.0, 2.0], [2.0, 3.0]]], dt))),
        S("first-minor", C(np.array([[-1.0, 5.0], [5.0, 1.0]], dt))), S("nan", C(np.array([[np.nan, 0.0], [0.0, 1.0]], dt))),
        S("check_errors", C(np.array([[1.0, 2.0], [2.0, 1.0]], dt)), check_errors=True)],
        dtypes=F64_32, grad=False, tol=TOL32, errors=("cholesky",)),
    OpInfo("linalg.cholesky_ex-grad", [NS("linalg.cholesky_ex(AA^T+3I)", lambda ns, A, **k: tuple(ns.linalg.cholesky_ex(spd(ns, A), **k)))],
           lambda dt: [S("3x3", arr((3, 3), dt, "any", 1)), S("upper", arr((2, 2), dt, "any", 2), upper=True)],
           dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.eigh", [_eigh_calls("linalg.eigh(A+A^T)")], lambda dt: [
        S("3x3", arr((3, 3), dt, "any", 1)), S("batched", arr((2, 2, 2), dt, "any", 2)), S("UPLO=U", arr((3, 3), dt, "any", 3), "U"),
        S("bad-UPLO", arr((2, 2), dt), "X")], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.eigh-uplo", [NS("linalg.eigh(tri)", lambda ns, A, *a: (lambda r: (r[0], r[1] * r[1]))(ns.linalg.eigh(A, *a)))],
           lambda dt: [S("L", C(np.array([[2.0, 99.0], [0.5, 1.0]], dt))), S("U", C(np.array([[2.0, 0.5], [99.0, 1.0]], dt)), "U"),
                       S("not-square", arr((2, 3), dt)), S("1d", arr((3,), dt))],
           dtypes=F64_32, grad=False, tol=TOL32, errors=("eigh",)),
    OpInfo("linalg.eigvalsh", [NS("linalg.eigvalsh(A+A^T)", lambda ns, A, *a: ns.linalg.eigvalsh(sym(A), *a))], lambda dt: [
        S("3x3", arr((3, 3), dt, "any", 1)), S("batched", arr((2, 2, 2), dt, "any", 2)), S("UPLO=U", arr((3, 3), dt, "any", 3), "U")],
        dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.eigh-vectors", [NS("eigh(A+A^T).V^2", lambda ns, A: ns.linalg.eigh(sym(A))[1] ** 2)],
           lambda dt: [S("3x3", arr((3, 3), dt, "any", 4))], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.svd", [NS("linalg.svd", _svd_inv)], lambda dt: [
        S("3x3", wc((3, 3), dt, 1)), S("tall", arr((4, 2), dt, "any", 2)), S("wide", arr((2, 3), dt, "any", 3)),
        S("tall-reduced", arr((4, 2), dt, "any", 2), full_matrices=False), S("wide-reduced", arr((2, 3), dt, "any", 3), False),
        S("batched", arr((2, 3, 2), dt, "any", 4), full_matrices=False), S("1d", arr((3,), dt))],
        dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.svd-vectors", [NS("svd.U^2", lambda ns, A: ns.linalg.svd(A, full_matrices=False)[0] ** 2),
                                  NS("svd.Vh^2", lambda ns, A: ns.linalg.svd(A, full_matrices=False)[2] ** 2)],
           lambda dt: [S("tall", arr((3, 2), dt, "any", 5)), S("wide", arr((2, 3), dt, "any", 6))], dtypes=F64_32, smooth=True,
           tol=TOL32),
    OpInfo("linalg.svdvals", [LN("svdvals")], _mat_any, dtypes=LA, smooth=True, tol=TOL32),
    OpInfo("linalg.qr", [NS("linalg.qr", _qr_inv)], lambda dt: [
        S("tall", arr((4, 3), dt, "any", 1)), S("wide", arr((2, 4), dt, "any", 2)), S("square", wc((3, 3), dt, 3)),
        S("batched", arr((2, 3, 2), dt, "any", 4)), S("complete-wide", arr((2, 3), dt, "any", 5), "complete"),
        S("bad-mode", arr((2, 2), dt), "x"), S("1d", arr((3,), dt))], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.qr-parts", [NS("qr.Q^2", lambda ns, A: ns.linalg.qr(A)[0] ** 2), NS("qr.R^2", lambda ns, A: ns.linalg.qr(A)[1] ** 2)],
           lambda dt: [S("tall", arr((3, 2), dt, "any", 6)), S("wide", arr((2, 3), dt, "any", 7))], dtypes=F64_32, smooth=True,
           tol=TOL32),
    OpInfo("linalg.qr-r", [NS("linalg.qr(mode=r).R^2", lambda ns, A: ns.linalg.qr(A, mode="r")[1] ** 2)],
           lambda dt: [S("tall", C(arr((3, 2), dt, "any", 6)))], dtypes=F64_32, grad=False, tol=TOL32),
    OpInfo("linalg.pinv", [LN("pinv")], lambda dt: _pinv(dt) + [S("hermitian", (lambda a: a + a.T)(wc((3, 3), dt, 6)), hermitian=True, gc=False)],
           dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.matrix_rank", [LN("matrix_rank")], _rank, dtypes=F64_32, grad=False),
    OpInfo("linalg.lstsq", _lstsq_calls(), _lstsq, dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.norm", [LN("norm")], _norm_samples, dtypes=F64_32, smooth=False, tol=TOL32),
    OpInfo("linalg.vector_norm", [LN("vector_norm")], _vector_norm, dtypes=FLOATS, tol={**TOL32, "float16": (5e-3, 1e-2)}),
    OpInfo("linalg.matrix_norm", [LN("matrix_norm")], _matrix_norm, dtypes=F64_32, tol=TOL32),
    OpInfo("linalg.vecdot", [LN("vecdot")], lambda dt: [
        S("last", arr((2, 3), dt, "any", 1), arr((3,), dt, "any", 2)), S("dim0", arr((2, 3), dt, "any", 1), arr((2, 1), dt, "any", 2), dim=0)],
        dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.diagonal", [LN("diagonal")], lambda dt: [
        S("default", arr((2, 3, 4), dt, "any", 1)), S("offset", arr((2, 3, 4), dt, "any", 1), offset=1),
        S("neg-offset", arr((3, 4), dt, "any", 2), offset=-2), S("dims", arr((2, 3, 4), dt, "any", 3), dim1=0, dim2=2),
        S("big-offset", arr((3, 4), dt, "any", 2), offset=5), S("same-dims", arr((3, 4), dt), dim1=1, dim2=1),
        S("1d", arr((3,), dt))], dtypes=("float64", "int64"), smooth=True),
    OpInfo("linalg.vander", [LN("vander")], lambda dt: [
        S("default", arr((3,), dt, "any", 1)), S("N", arr((2, 3), dt, "any", 2), N=4), S("N=1", arr((3,), dt), N=1),
        S("0d", arr((), dt))], dtypes=("float64", "int64"), smooth=True),
    OpInfo("linalg.tensorinv", [LN("tensorinv")], lambda dt: [
        S("ind=1", wc((4, 4), dt, 1).reshape(4, 2, 2), ind=1), S("ind=2", wc((6, 6), dt, 2).reshape(2, 3, 6)),
        S("bad", arr((2, 3), dt), ind=1)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.tensorsolve", [LN("tensorsolve")], lambda dt: [
        S("2x3", wc((6, 6), dt, 1).reshape(2, 3, 6), arr((2, 3), dt, "any", 2)),
        S("dims", wc((6, 6), dt, 1).reshape(6, 2, 3), arr((2, 3), dt, "any", 2), dims=(0,)),
        S("bad", arr((2, 3, 5), dt), arr((2, 3), dt))], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.cond", [LN("cond")], lambda dt: [
        S("default", wc((3, 3), dt, 1)), S("fro", wc((3, 3), dt, 1), "fro"), S("1", wc((2, 3, 3), dt, 2), 1),
        S("-2", arr((3, 2), dt, "any", 3), -2), S("nuc", wc((3, 3), dt, 4), "nuc"), S("inf", wc((3, 3), dt, 4), float("inf")),
        S("singular-1", C(np.array([[1.0, 2.0], [2.0, 4.0]], dt)), 1), S("bad-p", wc((2, 2), dt), 3),
        S("not-square-1", arr((2, 3), dt), 1)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.lu_factor", [LN("lu_factor")], lambda dt: [
        S("3x3", arr((3, 3), dt, "any", 1)), S("batched", arr((2, 3, 3), dt, "any", 2)), S("wide", arr((2, 4), dt, "any", 3)),
        S("tall", arr((4, 2), dt, "any", 4)), S("singular", np.zeros((2, 2), dt), gc=False),
        S("no-pivot", arr((2, 2), dt), pivot=False), S("1d", arr((3,), dt))], dtypes=LA, smooth=True, tol=TOL32),
    OpInfo("linalg.lu_factor_ex", [LN("lu_factor_ex")], lambda dt: [
        S("3x3", arr((3, 3), dt, "any", 1)), S("zero-column", C(np.array([[0.0, 1.0], [0.0, 1.0]], dt))),
        S("singular-batch", C(np.array([np.eye(2), np.zeros((2, 2))], dt))),
        S("check_errors", C(np.zeros((2, 2), dt)), check_errors=True)], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.lu", [LN("lu")], lambda dt: [
        S("3x3", arr((3, 3), dt, "any", 1)), S("batched", arr((2, 3, 3), dt, "any", 2)), S("wide", arr((2, 4), dt, "any", 3)),
        S("tall", arr((4, 2), dt, "any", 4)), S("empty", arr((0, 0), dt))], dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.lu_solve", [NS("linalg.lu_solve(lu_factor(A))", lambda ns, A, B, **k: ns.linalg.lu_solve(
        *ns.linalg.lu_factor(A), B, **k))], lambda dt: [
        S("left", wc((3, 3), dt, 1), arr((3, 2), dt, "any", 2)), S("adjoint", wc((3, 3), dt, 1), arr((3, 2), dt, "any", 2), adjoint=True),
        S("right", wc((3, 3), dt, 1), arr((2, 3), dt, "any", 3), left=False),
        S("right-adjoint", wc((3, 3), dt, 1), arr((2, 3), dt, "any", 3), left=False, adjoint=True),
        S("batched", wc((2, 3, 3), dt, 4), arr((2, 3, 1), dt, "any", 5)), S("mismatch", wc((3, 3), dt, 1), arr((4, 2), dt))],
        dtypes=F64_32, smooth=True, tol=TOL32),
    OpInfo("linalg.inv_ex", [LN("inv_ex")], lambda dt: [
        S("3x3", wc((3, 3), dt, 1)), S("batched", wc((2, 3, 3), dt, 2)),
        S("singular", C(np.array([[[1.0, 2.0], [2.0, 4.0]], np.eye(2)], dt))), S("zeros", C(np.zeros((2, 2), dt))),
        S("check_errors", C(np.array([[1.0, 2.0], [2.0, 4.0]], dt)), check_errors=True), S("not-square", arr((2, 3), dt))],
        dtypes=F64_32, smooth=True, tol=TOL32, errors=("inv",)),
    OpInfo("linalg.solve_ex", [LN("solve_ex")], lambda dt: [
        S("mat", wc((3, 3), dt, 1), arr((3, 2), dt, "any", 2)), S("vec", wc((3, 3), dt, 1), arr((3,), dt, "any", 2)),
        S("left=False", wc((3, 3), dt, 1), arr((2, 3), dt, "any", 3), left=False),
        S("singular", C(np.array([[1.0, 2.0], [2.0, 4.0]], dt)), C(np.ones((2, 2), dt))),
        S("singular-vec-right", C(np.array([[1.0, 2.0], [2.0, 4.0]], dt)), C(np.ones(2, dt)), left=False),
        S("check_errors", C(np.zeros((2, 2), dt)), C(np.ones(2, dt)), check_errors=True)],
        dtypes=F64_32, smooth=True, tol=TOL32, errors=("solve",)),
    OpInfo("linalg.matmul", [LN("matmul")], lambda dt: [S("2d", arr((2, 3), dt, "any", 1), arr((3, 2), dt, "any", 2))],
           dtypes=("float64",), smooth=True),
]
