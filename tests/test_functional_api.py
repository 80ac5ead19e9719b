"""autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) against torch.autograd.functional and
finite differences, inference_mode, and forward_ad (issue 11, "Grad modes and functional transforms")."""
import numpy as np
import pytest

import autograd as ag
import autograd.functional as AF

torch = pytest.importorskip("torch", reason="torch.autograd.functional is the oracle")
TF = torch.autograd.functional
# torch's own forward AD / vmap paths warn that torch.jit.script is deprecated: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

X = np.array([0.3, -0.7, 1.2])
Y = np.array([[0.5, 2.0], [1.0, -1.5]])
VX = np.array([1.0, -2.0, 0.5])
VY = np.array([[0.25, 1.0], [-1.0, 2.0]])


def _lib_fns(lib):
    """The same functions written once for either library (what they use exists in both)."""
    F = lib.nn.functional if lib is torch else __import__("nn").functional
    return {
        # scalar functions of (x, y): smooth, and with kinks away from the sample point
        "smooth": lambda a, b: (a.exp() * a.sin()).sum() + (b @ b).tanh().sum() * a[0],
        "kinks": lambda a, b: (a.relu() * 3).sum() + b.abs().max() * a.sum() + F.softmax(b, 1)[0, 1],
        "indexing": lambda a, b: (lib.cat([a, b.reshape(-1)]) ** 2)[1:5].sum() * lib.where(a > 0, a, a * 2).prod(),
        # vector functions
        "tuple-out": lambda a, b: (a * a.sum(), (b ** 2).sum(1) * a[:2]),
        "single-out": lambda a, b: a.tanh() * b.sum(),
    }


SCALAR = ["smooth", "kinks", "indexing"]
VECTOR = ["tuple-out", "single-out"]


def _ours(device):
    return ag.tensor(X, dtype=ag.float64, device=device), ag.tensor(Y, dtype=ag.float64, device=device)


def _theirs():
    return torch.tensor(X), torch.tensor(Y)


def _v(device, which):
    v = {"x": VX, "y": VY}
    return tuple(ag.tensor(v[w], dtype=ag.float64, device=device) for w in which)


def _tv(which):
    v = {"x": VX, "y": VY}
    return tuple(torch.tensor(v[w]) for w in which)


def _same(ours, theirs, path="result"):
    """Same structure (tuple nesting, single tensors where torch has them), shapes, dtypes, values."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), \
            f"{path}: {type(ours).__name__} vs torch's {type(theirs).__name__} of {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _same(o, t, f"{path}[{i}]")
        return
    assert isinstance(ours, ag.Tensor), f"{path}: {type(ours).__name__}, torch gives a Tensor"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.detach().cpu().numpy(force=True), theirs.detach().numpy(), rtol=1e-9, atol=1e-11,
                               err_msg=path)


@pytest.mark.parametrize("name", SCALAR)
def test_scalar_transforms_match_torch(device, name):
    f, tf = _lib_fns(ag)[name], _lib_fns(torch)[name]
    _same(AF.vjp(f, _ours(device)), TF.vjp(tf, _theirs()), "vjp")
    _same(AF.jvp(f, _ours(device), _v(device, "xy")), TF.jvp(tf, _theirs(), _tv("xy")), "jvp")
    _same(AF.jacobian(f, _ours(device)), TF.jacobian(tf, _theirs()), "jacobian")
    _same(AF.hessian(f, _ours(device)), TF.hessian(tf, _theirs()), "hessian")
    _same(AF.hvp(f, _ours(device), _v(device, "xy")), TF.hvp(tf, _theirs(), _tv("xy")), "hvp")
    _same(AF.vhp(f, _ours(device), _v(device, "xy")), TF.vhp(tf, _theirs(), _tv("xy")), "vhp")


@pytest.mark.parametrize("name", VECTOR)
def test_vector_transforms_match_torch(device, name):
    f, tf = _lib_fns(ag)[name], _lib_fns(torch)[name]
    out = f(*_ours(device))
    outs = out if isinstance(out, tuple) else (out,)
    v = tuple(ag.ones(o.shape, dtype=ag.float64, device=device) * 0.5 for o in outs)
    tv = tuple(torch.ones(tuple(o.shape), dtype=torch.float64) * 0.5 for o in outs)
    v, tv = (v, tv) if isinstance(out, tuple) else (v[0], tv[0])
    _same(AF.vjp(f, _ours(device), v), TF.vjp(tf, _theirs(), tv), "vjp")
    _same(AF.jvp(f, _ours(device), _v(device, "xy")), TF.jvp(tf, _theirs(), _tv("xy")), "jvp")
    _same(AF.jacobian(f, _ours(device)), TF.jacobian(tf, _theirs()), "jacobian")
    _same(AF.jacobian(f, _ours(device), vectorize=True), TF.jacobian(tf, _theirs(), vectorize=True), "vectorize")
    _same(AF.jacobian(f, _ours(device), vectorize=True, strategy="forward-mode"),
          TF.jacobian(tf, _theirs(), vectorize=True, strategy="forward-mode"), "forward-mode")


@pytest.mark.parametrize("name", SCALAR)
def test_forward_over_reverse_hessian(device, name):
    f, tf = _lib_fns(ag)[name], _lib_fns(torch)[name]
    ours = AF.hessian(f, _ours(device), vectorize=True, outer_jacobian_strategy="forward-mode")
    theirs = TF.hessian(tf, _theirs(), vectorize=True, outer_jacobian_strategy="forward-mode")
    _same(ours, theirs, "hessian forward-over-reverse")             # lists, as torch's vmap path gives


def test_single_tensor_inputs_give_single_tensors(device):
    x, tx = _ours(device)[0], _theirs()[0]
    for fn in (AF.jacobian, AF.hessian):
        _same(fn(lambda a: (a ** 3).sum(), x), getattr(TF, fn.__name__)(lambda a: (a ** 3).sum(), tx), fn.__name__)
    _same(AF.jacobian(lambda a: a.exp(), x), TF.jacobian(lambda a: a.exp(), tx), "jacobian 1-1")
    _same(AF.jacobian(lambda a: (a.exp(), a.sum()), x), TF.jacobian(lambda a: (a.exp(), a.sum()), tx), "jac tuple-out")
    _same(AF.jacobian(lambda a, b: a.sum() * b, (x, x)), TF.jacobian(lambda a, b: a.sum() * b, (tx, tx)), "jac tuple-in")
    v, tv = _v(device, "x")[0], _tv("x")[0]
    _same(AF.hvp(lambda a: (a ** 3).sum(), x, v), TF.hvp(lambda a: (a ** 3).sum(), tx, tv), "hvp")
    s = ag.tensor(0.7, dtype=ag.float64, device=device)       # v may be omitted for one-element inputs/outputs
    _same(AF.jvp(lambda a: a.sin(), s), TF.jvp(lambda a: a.sin(), torch.tensor(0.7, dtype=torch.float64)), "jvp v=None")
    _same(AF.vjp(lambda a: (a ** 2).sum(), x), TF.vjp(lambda a: (a ** 2).sum(), tx), "vjp v=None")


def _fd_jacobian(f, x, eps=1e-6):
    """Central differences of f (NumPy in, NumPy out) at x: shape f(x).shape + x.shape."""
    y0 = f(x)
    J = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        J[(...,) + i] = (f(x + d) - f(x - d)) / (2 * eps)
    return J


def test_against_finite_differences(device):
    def g(a):
        return a.tanh() * (a ** 2).sum()
    x = ag.tensor(X, dtype=ag.float64, device=device)

    def num(fn):
        return lambda xn: fn(ag.tensor(xn, dtype=ag.float64, device=device)).detach().cpu().numpy(force=True)
    J = AF.jacobian(g, x).cpu().numpy(force=True)
    np.testing.assert_allclose(J, _fd_jacobian(num(g), X), rtol=1e-6, atol=1e-8)

    def h(a):
        return (a.tanh() * (a ** 2).sum()).sum()
    H = AF.hessian(h, x).cpu().numpy(force=True)

    def grad_np(xn):
        t = ag.tensor(xn, dtype=ag.float64, device=device, requires_grad=True)
        return ag.grad(h(t), t)[0].cpu().numpy(force=True)
    np.testing.assert_allclose(H, _fd_jacobian(grad_np, X), rtol=1e-6, atol=1e-8)
    v = ag.tensor(VX, dtype=ag.float64, device=device)
    _, jv = AF.jvp(g, x, v)
    np.testing.assert_allclose(jv.cpu().numpy(force=True), J @ VX, rtol=1e-9, atol=1e-12)
    _, hv = AF.hvp(h, x, v)
    np.testing.assert_allclose(hv.cpu().numpy(force=True), H @ VX, rtol=1e-9, atol=1e-12)


def test_create_graph_keeps_the_graph(device):
    x = ag.tensor(X, dtype=ag.float64, device=device, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    out, vjp = AF.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
    tout, tvjp = TF.vjp(lambda a: (a ** 3).sum(), tx, create_graph=True)
    assert vjp.requires_grad and out.requires_grad
    vjp.sum().backward()
    tvjp.sum().backward()
    _same(x.grad, tx.grad, "d(sum of vjp)/dx")          # 6x
    H = AF.hessian(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert H.requires_grad
    _, v = AF.vjp(lambda a: a.exp(), x, ag.ones(3, dtype=ag.float64, device=device))
    assert not v.requires_grad                           # without create_graph, results are detached
    J = AF.jacobian(lambda a: a.exp(), x)
    assert not J.requires_grad


def test_strict_mode_and_argument_errors(device):
    x = ag.tensor(X, dtype=ag.float64, device=device)
    tx = torch.tensor(X)
    cases = [
        ("vjp independent", lambda m, t: m.vjp(lambda a, b: a * 2, (t, t), (t,) and t * 0 + 1, strict=True)),
        ("jacobian independent", lambda m, t: m.jacobian(lambda a, b: a * 2, (t, t), strict=True)),
        ("output without grad", lambda m, t: m.jacobian(lambda a: a.detach(), t, strict=True)),
        ("linear hessian", lambda m, t: m.hessian(lambda a: a.sum(), t, strict=True)),
        ("vectorize+strict", lambda m, t: m.jacobian(lambda a: a * 2, t, strict=True, vectorize=True)),
        ("v wrong size", lambda m, t: m.vjp(lambda a: a * 2, t, t[:2])),
        ("v wrong count", lambda m, t: m.jvp(lambda a, b: a * b, (t, t), (t,))),
        ("v needed", lambda m, t: m.vjp(lambda a: a * 2, t)),
        ("hvp non-scalar", lambda m, t: m.hvp(lambda a: a * 2, t, t)),
        ("vhp tuple out", lambda m, t: m.vhp(lambda a: (a.sum(), a.sum()), t, t)),
        ("hessian non-scalar", lambda m, t: m.hessian(lambda a: a * 2, t)),
        ("not a tensor", lambda m, t: m.jacobian(lambda a: a, [1.0, 2.0])),
        ("tuple with a non-tensor", lambda m, t: m.jacobian(lambda a, b: a, (t, 3.0))),
        ("forward-mode", lambda m, t: m.jacobian(lambda a: a * 2, t, strategy="forward-mode", vectorize=True,
                                                  create_graph=True)),
    ]
    for name, call in cases:
        with pytest.raises(Exception) as theirs:
            call(TF, tx)
        with pytest.raises(Exception) as ours:
            call(AF, x)
        assert ours.type is theirs.type, f"{name}: {ours.type.__name__} vs torch's {theirs.type.__name__}"
        # the same message, up to torch's own names
        assert str(ours.value).replace("autograd.", "torch.autograd.")[:40] == str(theirs.value)[:40] or \
            str(theirs.value)[:30] in str(ours.value).replace("autograd.", "torch.autograd."), \
            f"{name}: {ours.value} vs torch's {theirs.value}"
    with pytest.raises(NotImplementedError, match="vectorize=True"):          # as torch
        AF.jacobian(lambda a: a * 2, x, strategy="forward-mode")
    with pytest.raises(RuntimeError, match="strict=True"):
        AF.jacobian(lambda a: a * 2, x, strategy="forward-mode", vectorize=True, strict=True)
    with pytest.raises(ValueError, match="reverse-mode"):
        AF.jacobian(lambda a: a * 2, x, strategy="sideways")


def test_strict_accepts_dependent_functions(device):
    x = ag.tensor(X, dtype=ag.float64, device=device)
    AF.jacobian(lambda a: a.exp(), x, strict=True)
    AF.hessian(lambda a: (a ** 3).sum(), x, strict=True)
    AF.jvp(lambda a: a.exp(), x, x, strict=True)
    AF.hvp(lambda a: (a ** 3).sum(), x, x, strict=True)


def test_transforms_leave_grad_mode_and_inputs_alone(device):
    x = ag.tensor(X, dtype=ag.float64, device=device, requires_grad=True)
    with ag.no_grad():
        J = AF.jacobian(lambda a: a.exp(), x)
        assert not ag.is_grad_enabled()
    assert tuple(J.shape) == (3, 3) and x.grad is None


# --- inference mode -----------------------------------------------------------------------------------

def test_inference_mode_matches_torch(device):
    w = ag.ones(3, requires_grad=True, device=device)
    tw = torch.ones(3, requires_grad=True)
    with ag.inference_mode():
        assert ag.is_inference_mode_enabled() and not ag.is_grad_enabled()
        x = ag.ones(3, device=device)
        v = x[:2]
        y = w * 2
    with torch.inference_mode():
        tx = torch.ones(3)
        ty = tw * 2
    assert not ag.is_inference_mode_enabled() and ag.is_grad_enabled()
    assert x.is_inference() and v.is_inference() and ag.is_inference(y) and not y.requires_grad
    assert ty.is_inference() and not ty.requires_grad
    assert not w.is_inference() and not (x * 2).is_inference() and not x.clone().is_inference()
    assert x.detach().is_inference() and x.view(3).is_inference()
    assert (x + w).requires_grad                                  # not saved: allowed, as torch
    for name, ours, theirs in [
        ("saved for backward", lambda: x * w, lambda: tx * tw),
        ("saved deeper", lambda: (w * 2).exp() * x, lambda: (tw * 2).exp() * tx),
        ("requires_grad", lambda: x.requires_grad_(), lambda: tx.requires_grad_()),
        ("in place", lambda: x.add_(1), lambda: tx.add_(1)),
    ]:
        with pytest.raises(RuntimeError) as t_err:
            theirs()
        with pytest.raises(RuntimeError) as o_err:
            ours()
        assert str(t_err.value).split(".")[0][:30] in str(o_err.value), name
    with ag.inference_mode():
        x.add_(1)                                                # in place inside inference mode is fine
        x.requires_grad_(False)


def test_inference_mode_forms(device):
    @ag.inference_mode
    def f():
        return ag.ones(1, device=device)

    @ag.inference_mode()
    def g():
        return ag.ones(1, device=device)

    @ag.inference_mode(mode=False)
    def h():
        return ag.ones(1, device=device)
    assert f().is_inference() and g().is_inference() and not h().is_inference()
    with ag.inference_mode():
        with ag.inference_mode(False):
            assert ag.is_grad_enabled() and not ag.is_inference_mode_enabled()
            assert not ag.ones(1, device=device).is_inference()
        z = ag.ones(2, requires_grad=True, device=device)
        with ag.enable_grad():                                   # inference mode still records nothing
            assert not (z * 2).requires_grad
        assert ag.inference_mode().clone().mode is True
    with ag.inference_mode(False):
        assert ag.is_grad_enabled()
    with pytest.raises(ValueError):
        with ag.inference_mode():
            raise ValueError("restored on error")
    assert not ag.is_inference_mode_enabled() and ag.is_grad_enabled()


def test_inference_mode_is_thread_local(device):
    import threading
    seen = {}

    def other():
        seen["mode"] = ag.is_inference_mode_enabled()
        seen["tensor"] = ag.ones(1, device=device).is_inference()
    with ag.inference_mode():
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"mode": False, "tensor": False}


# --- forward AD (stretch): tangents by the double-backward trick ------------------------------------

def test_forward_ad_matches_torch(device):
    import autograd.forward_ad as fw
    tfw = torch.autograd.forward_ad
    lib_fns = {
        "sum-sin": lambda lib, a, b: (a.sin() * 2).sum(),
        "outer-relu": lambda lib, a, b: (a.relu().reshape(3, 1) * b.reshape(1, 4)).exp() @ b.reshape(4, 1),
        "two-duals": lambda lib, a, b: a.sum() * b + lib.cat([a, a]).max(),
    }
    for name, fn in lib_fns.items():
        with fw.dual_level() as lvl, tfw.dual_level() as tlvl:
            assert lvl == tlvl == 0
            a = fw.make_dual(ag.tensor(X, dtype=ag.float64, device=device), ag.tensor(VX, dtype=ag.float64, device=device))
            ta = tfw.make_dual(torch.tensor(X), torch.tensor(VX))
            b0, tb0 = ag.tensor(Y, dtype=ag.float64, device=device), torch.tensor(Y)
            if name == "two-duals":
                b = fw.make_dual(b0, ag.tensor(VY, dtype=ag.float64, device=device))
                tb = tfw.make_dual(tb0, torch.tensor(VY))
            else:
                b, tb = b0, tb0
            out, tout = fn(ag, a, b), fn(torch, ta, tb)
            p, t = fw.unpack_dual(out)
            tp, tt = tfw.unpack_dual(tout)
            _same(p, tp, f"{name} primal")
            _same(t, tt, f"{name} tangent")
            assert fw.unpack_dual(b0 * 2).tangent is None
        assert fw.unpack_dual(out).tangent is None                 # the level is closed


def test_forward_ad_errors_and_identity(device):
    import autograd.forward_ad as fw
    tfw = torch.autograd.forward_ad
    x, v = ag.tensor([1.0, 2.0], device=device), ag.tensor([0.5, -1.0], device=device)
    tx, tv = torch.tensor([1.0, 2.0]), torch.tensor([0.5, -1.0])
    for ours, theirs in [(lambda: fw.make_dual(x, v), lambda: tfw.make_dual(tx, tv)),
                         (lambda: fw.exit_dual_level(), lambda: tfw.exit_dual_level())]:
        with pytest.raises(RuntimeError) as te:
            theirs()
        with pytest.raises(RuntimeError) as oe:
            ours()
        assert str(te.value)[:40] == str(oe.value)[:40]
    with fw.dual_level(), tfw.dual_level():
        d = fw.make_dual(x, v)
        assert fw.unpack_dual(d).tangent is v and fw.unpack_dual(d).primal.tolist() == [1.0, 2.0]
        for ours, theirs, err in [
                (lambda: fw.make_dual(x, v[:1]), lambda: tfw.make_dual(tx, tv[:1]), RuntimeError),
                (lambda: fw.make_dual(x.long(), v), lambda: tfw.make_dual(tx.long(), tv), ValueError),
                (lambda: fw.make_dual(x, v.long()), lambda: tfw.make_dual(tx, tv.long()), ValueError)]:
            with pytest.raises(err):
                theirs()
            with pytest.raises(err):
                ours()
        assert isinstance(fw.unpack_dual(d), fw.UnpackedDualTensor)
