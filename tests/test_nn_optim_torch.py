"""Every optimizer of nn.optim step by step against torch.optim (the oracle): from identical
parameters and gradient sequences the parameters and the whole state agree to float64 rounding
over several steps, with several option combinations; a torch state_dict (tensors converted) loads
into ours and both continue identically, and ours into torch; hooks, zero_grad, flag errors."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from helpers import npy

torch = pytest.importorskip("torch", reason="torch.optim is the oracle for the update formulas")

SHAPES = [(3, 4), (5,), ()]
STEPS = 6

CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.2, maximize=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("AdamW", dict(lr=0.05, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.2, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),                                  # rho_t <= 5 for these steps: the SGD-like branch
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.5), weight_decay=0.1)),          # rho_t > 5 from step 2
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.6), weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=2, weight_decay=0.1, maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1, maximize=True)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


def _to_ours(v):
    if isinstance(v, torch.Tensor):
        return ag.tensor(v.detach().numpy().copy())
    if isinstance(v, dict):
        return {k: _to_ours(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_ours(x) for x in v)
    return v


def _to_torch(v):
    if isinstance(v, ag.Tensor):
        return torch.tensor(npy(v))
    if isinstance(v, dict):
        return {k: _to_torch(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_torch(x) for x in v)
    return v


def _setup(name, kw, dtype, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    # some gradient entries keep their sign and some flip, so Rprop meets every branch
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(2 * STEPS)]
    ours = [nn.Parameter(ag.tensor(a)) for a in init]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    return ours, theirs, grads, getattr(nn.optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)


def _run(opt, topt, ours, theirs, grads, rtol):
    for step, gs in enumerate(grads):
        for p, tp, g in zip(ours, theirs, gs):
            p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=rtol, atol=rtol, err_msg=f"step {step}")


def _compare_state(sd, tsd, rtol):
    assert sd["state"].keys() == tsd["state"].keys()
    for i, st in sd["state"].items():
        assert st.keys() == tsd["state"][i].keys()
        for k, v in st.items():
            tv = tsd["state"][i][k]
            assert tuple(v.shape) == tuple(tv.shape) and v.dtype.name == str(tv.dtype).split(".")[1], k
            np.testing.assert_allclose(npy(v), tv.numpy(), rtol=rtol, atol=rtol, err_msg=k)
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert g == tg


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_steps_match_torch(name, kw, dtype, device):
    ours, theirs, grads, opt, topt = _setup(name, kw, dtype)
    rtol = 1e-12 if dtype == "float64" else 3e-5
    _run(opt, topt, ours, theirs, grads[:STEPS], rtol)
    for p in ours:
        assert p.dtype.name == dtype and p.requires_grad and p.is_leaf
    _compare_state(opt.state_dict(), topt.state_dict(), rtol)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_state_dict_round_trips_with_torch(name, kw, device):
    """torch -> ours after 3 steps, both continue; ours -> a fresh torch optimizer, both continue."""
    ours, theirs, grads, opt, topt = _setup(name, kw, "float64", seed=1)
    _run(opt, topt, ours, theirs, grads[:3], 1e-12)
    # a fresh optimizer of ours on copies of the parameters takes torch's state, and so does a fresh
    # torch one (loading casts float32 scalar state such as NAdam's mu_product to the parameter dtype)
    ours2 = [nn.Parameter(p.detach().clone()) for p in ours]
    opt2 = getattr(nn.optim, name)(ours2, lr=123.0)
    opt2.load_state_dict(_to_ours(topt.state_dict()))
    theirs = [torch.nn.Parameter(tp.detach().clone()) for tp in theirs]
    topt_b = getattr(torch.optim, name)(theirs, lr=123.0)
    topt_b.load_state_dict(topt.state_dict())
    topt = topt_b
    assert opt2.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
    _compare_state(opt2.state_dict(), topt.state_dict(), 0)
    _run(opt2, topt, ours2, theirs, grads[3:6], 1e-12)
    # and torch takes ours
    theirs2 = [torch.nn.Parameter(tp.detach().clone()) for tp in theirs]
    topt2 = getattr(torch.optim, name)(theirs2, lr=123.0)
    topt2.load_state_dict(_to_torch(opt2.state_dict()))
    _run(opt2, topt2, ours2, theirs2, grads[6:9], 1e-12)
    _compare_state(opt2.state_dict(), topt2.state_dict(), 1e-12)


def test_param_groups_with_different_options(device):
    rng = np.random.default_rng(3)
    a0, b0 = rng.standard_normal((2, 3)), rng.standard_normal(4)
    a, b = nn.Parameter(ag.tensor(a0)), nn.Parameter(ag.tensor(b0))
    ta, tb = torch.nn.Parameter(torch.tensor(a0)), torch.nn.Parameter(torch.tensor(b0))
    opt = nn.optim.NAdam([{"params": [a]}, {"params": b, "lr": 0.1, "weight_decay": 0.2}], lr=0.01)
    topt = torch.optim.NAdam([{"params": [ta]}, {"params": tb, "lr": 0.1, "weight_decay": 0.2}], lr=0.01)
    c0 = rng.standard_normal(2)
    c, tc = nn.Parameter(ag.tensor(c0)), torch.nn.Parameter(torch.tensor(c0))
    opt.add_param_group({"params": [c], "betas": (0.5, 0.6)})
    topt.add_param_group({"params": [tc], "betas": (0.5, 0.6)})
    grads = [[rng.standard_normal(s) for s in ((2, 3), (4,), (2,))] for _ in range(5)]
    _run(opt, topt, [a, b, c], [ta, tb, tc], grads, 1e-12)
    _compare_state(opt.state_dict(), topt.state_dict(), 1e-12)


def test_named_parameters_and_param_names(device):
    lin = nn.Linear(3, 2)
    opt = nn.optim.SGD(lin.named_parameters(), lr=0.1)
    tlin = torch.nn.Linear(3, 2)
    topt = torch.optim.SGD(tlin.named_parameters(), lr=0.1)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]


def _quartic(xs, mod):
    # a smooth, non-quadratic, coupled objective over two parameter tensors
    x, y = xs
    A = mod.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]], dtype=x.dtype)
    return ((A @ x - y.sum()) ** 2).sum() + (x ** 4).sum() * 0.25 + ((y - 1.0) ** 2).sum() + (x[0] * y[1]) ** 2


def _closure(opt, params, mod):
    """LBFGS's closure: the quartic's loss at `params`, its gradient left in them."""
    def closure():
        opt.zero_grad()
        loss = _quartic(params, mod)
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe"),
                                dict(lr=0.5, history_size=3, max_iter=7, line_search_fn="strong_wolfe"),
                                dict(lr=0.2, history_size=2, max_iter=5, max_eval=6),
                                dict(tolerance_grad=1e-3, tolerance_change=1e-4, line_search_fn="strong_wolfe")],
                         ids=["fixed", "wolfe", "wolfe-hist3", "fixed-hist2", "tolerances"])
def test_lbfgs_matches_torch(kw, device):
    x0, y0 = np.array([1.5, -2.0, 0.7]), np.array([0.3, -1.2])
    ours = [nn.Parameter(ag.tensor(x0)), nn.Parameter(ag.tensor(y0))]
    theirs = [torch.nn.Parameter(torch.tensor(x0)), torch.nn.Parameter(torch.tensor(y0))]
    opt, topt = nn.optim.LBFGS(ours, **kw), torch.optim.LBFGS(theirs, **kw)
    closure, tclosure = _closure(opt, ours, ag), _closure(topt, theirs, torch)
    for it in range(3):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-10, err_msg=f"step {it}")
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=f"step {it}")
        st, tst = opt.state[ours[0]], topt.state[theirs[0]]
        assert (st["func_evals"], st["n_iter"]) == (tst["func_evals"], tst["n_iter"])
        assert len(st["old_dirs"]) == len(tst["old_dirs"])
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"] and sd["state"][0].keys() == tsd["state"][0].keys()
    # torch's state continues in ours
    ours2 = [nn.Parameter(ag.tensor(tp.detach().numpy().copy())) for tp in theirs]
    opt2 = nn.optim.LBFGS(ours2, **kw)
    opt2.load_state_dict(_to_ours(tsd))
    opt2.step(_closure(opt2, ours2, ag)), topt.step(tclosure)
    for p, tp in zip(ours2, theirs):
        np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_lbfgs_errors(device):
    p = nn.Parameter(ag.ones(2))
    with pytest.raises(ValueError, match="parameter groups"):
        nn.optim.LBFGS([{"params": [p]}, {"params": [nn.Parameter(ag.ones(1))]}])
    opt = nn.optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)
    q = nn.Parameter(ag.zeros(2))                         # already optimal: returns at once
    opt = nn.optim.LBFGS([q])

    def closure_q():
        opt.zero_grad()
        loss = (q * q).sum()
        loss.backward()
        return loss
    assert float(opt.step(closure_q)) == 0.0 and opt.state[q]["func_evals"] == 1


FLAG_CASES = [(n, kw) for n in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
                                "Rprop", "ASGD"]
              for kw in [dict(capturable=True), dict(fused=True), dict(fused=True, foreach=True),
                         dict(fused=True, differentiable=True), dict(foreach=True), dict(foreach=False)]]


def _outcome(fn):
    try:
        fn()
        return None
    except Exception as e:  # noqa: BLE001 - the oracle decides which type
        return type(e)


@pytest.mark.parametrize("name,kw", FLAG_CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in FLAG_CASES])
def test_flags_error_where_torch_errors(name, kw, device):
    import inspect
    if any(k not in inspect.signature(getattr(torch.optim, name)).parameters for k in kw):
        with pytest.raises(TypeError):
            getattr(nn.optim, name)([nn.Parameter(ag.ones(2))], **kw)
        return

    def ours():
        p = nn.Parameter(ag.ones(2))
        p.grad = ag.ones(2)
        getattr(nn.optim, name)([p], **kw).step()

    def theirs():
        p = torch.nn.Parameter(torch.ones(2))
        p.grad = torch.ones(2)
        getattr(torch.optim, name)([p], **kw).step()
    if device != "cpu" and kw.get("capturable"):
        pytest.skip("capturable is accepted on CUDA parameters: torch's CPU answer is not the oracle here")
    assert _outcome(ours) is _outcome(theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adadelta", "NAdam"])
def test_constructor_errors_match_torch(name):
    for kw in [dict(lr=-1.0), dict(weight_decay=-0.1), dict(betas=(1.0, 0.9)), dict(eps=-1.0), dict(rho=1.5),
               dict(momentum=-0.5), dict(momentum_decay=-1.0), dict(nesterov=True), dict(lr=torch.ones(2))]:
        sig = __import__("inspect").signature(getattr(torch.optim, name)).parameters
        if any(k not in sig for k in kw):
            continue
        ours_kw = {k: (ag.ones(2) if isinstance(v, torch.Tensor) else v) for k, v in kw.items()}
        t_err = _outcome(lambda: getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw))
        o_err = _outcome(lambda: getattr(nn.optim, name)([nn.Parameter(ag.ones(2))], **ours_kw))
        assert o_err is t_err, (name, kw)
    with pytest.raises(TypeError, match="ordered collections"):
        nn.optim.SGD([{"params": {nn.Parameter(ag.ones(1))}}])
    with pytest.raises(ValueError, match="non-leaf"):
        nn.optim.SGD([nn.Parameter(ag.ones(2)) * 2])


def test_tensor_lr(device):
    p, tp = nn.Parameter(ag.tensor([1.0, -2.0], dtype=ag.float64)), torch.nn.Parameter(torch.tensor([1.0, -2.0],
                                                                                          dtype=torch.float64))
    opt, topt = nn.optim.Adam([p], lr=ag.tensor(0.1)), torch.optim.Adam([tp], lr=torch.tensor(0.1))
    for _ in range(3):
        p.grad, tp.grad = p.detach() * 2, tp.detach() * 2
        opt.step(), topt.step()
    np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-12)


def test_step_hooks_and_zero_grad(device):
    p = nn.Parameter(ag.ones(3))
    opt = nn.optim.SGD([p], lr=0.5)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt, len(args))))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", float(p.sum()))))
    g = nn.optim.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global",)))
    p.grad = ag.ones(3)
    opt.step()
    assert calls == [("global",), ("pre", True, 1), ("post", 1.5)]
    h1.remove(), h2.remove(), g.remove()
    opt.step()
    assert len(calls) == 3

    # a pre hook may replace the arguments: here it supplies a closure
    def closure():
        return ag.tensor(7.0)
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": closure}))
    assert float(opt.step()) == 7.0
    bad = nn.optim.SGD([p], lr=0.1)
    bad.register_step_pre_hook(lambda o, a, k: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        bad.step()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and npy(p.grad).tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_state_dict_hooks(device):
    p = nn.Parameter(ag.ones(2))
    opt = nn.optim.Adam([p])
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("load-pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("load-post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1 and seen == ["pre"]
    opt.load_state_dict(sd)
    assert seen == ["pre", "pre", "load-pre", "load-post"][1:] or seen == ["pre", "load-pre", "load-post"]


def test_differentiable_step_matches_torch(device):
    """With differentiable=True the update is recorded: d(loss after 2 Adam steps)/d(initial value)."""
    x0 = np.array([0.5, -1.5, 2.0])
    w = ag.tensor(x0, requires_grad=True)
    tw = torch.tensor(x0, requires_grad=True)
    p, tp = w * 1.0, tw * 1.0              # non-leaf parameters: allowed only with differentiable=True
    opt = nn.optim.Adam([p], lr=0.1, weight_decay=0.1, differentiable=True)
    topt = torch.optim.Adam([tp], lr=0.1, weight_decay=0.1, differentiable=True)
    for _ in range(2):
        p.grad, tp.grad = p * 3.0, tp * 3.0
        opt.step(), topt.step()
    (p ** 2).sum().backward()
    (tp ** 2).sum().backward()
    np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(npy(w.grad), tw.grad.numpy(), rtol=1e-10)


def test_sgd_float32_default_scalar_dtype(device):
    p = nn.Parameter(ag.ones(2))
    opt = nn.optim.Adam([p])
    p.grad = ag.ones(2)
    opt.step()
    assert opt.state[p]["step"].dtype == ag.float32 and opt.state[p]["step"].shape == ()
    assert math.isclose(opt.state[p]["step"].item(), 1.0)


# --- nn.utils: clipping and parameter <-> vector -----------------------------------------------------

CLIP_SHAPES = [(3, 2), (4,), ()]


def _grad_pair(dtypes=("float64",) * 3, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    gs = [(rng.standard_normal(s) * scale).astype(d) for s, d in zip(CLIP_SHAPES, dtypes)]
    ps = [nn.Parameter(ag.zeros(g.shape, dtype=getattr(ag, d))) for g, d in zip(gs, dtypes)]
    tps = [torch.nn.Parameter(torch.zeros(g.shape, dtype=getattr(torch, d))) for g, d in zip(gs, dtypes)]
    for p, tp, g in zip(ps, tps, gs):
        p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
    return ps, tps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, math.inf, -math.inf, 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("dtypes", [("float64",) * 3, ("float32", "float64", "float32"), ("float32",) * 3],
                         ids=["f64", "mixed", "f32"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtypes, device):
    ps, tps = _grad_pair(dtypes)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type, foreach=False)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    assert total.dtype.name == str(ttotal.dtype).split(".")[1] and tuple(total.shape) == ()
    rtol = 1e-12 if dtypes == ("float64",) * 3 else 2e-6
    np.testing.assert_allclose(float(total), float(ttotal), rtol=rtol)
    for p, tp in zip(ps, tps):
        assert p.grad.dtype.name == str(tp.grad.dtype).split(".")[1]
        np.testing.assert_allclose(npy(p.grad), tp.grad.numpy(), rtol=rtol, atol=1e-30)


def test_get_total_norm_and_clip_grads_with_norm(device):
    ps, tps = _grad_pair()
    grads, tgrads = [p.grad for p in ps], [tp.grad for tp in tps]
    for nt in (2.0, math.inf, 1.5):
        np.testing.assert_allclose(float(nn.utils.get_total_norm(grads, nt)),
                                   float(torch.nn.utils.get_total_norm(tgrads, nt)), rtol=1e-12)
    total = nn.utils.get_total_norm(grads)
    nn.utils.clip_grads_with_norm_(ps, 0.3, total, foreach=True)
    torch.nn.utils.clip_grads_with_norm_(tps, 0.3, torch.nn.utils.get_total_norm(tgrads))
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(npy(p.grad), tp.grad.numpy(), rtol=1e-12)
    assert float(nn.utils.get_total_norm([])) == 0.0 and nn.utils.get_total_norm([]).dtype == ag.float32
    single = nn.utils.get_total_norm(grads[0])
    np.testing.assert_allclose(float(single), float(torch.nn.utils.get_total_norm(tgrads[0])), rtol=1e-12)


def test_clip_grad_errors_and_warnings(device):
    ps, tps = _grad_pair()
    ps[1].grad[0] = float("nan")
    tps[1].grad[0] = float("nan")
    with pytest.raises(RuntimeError) as ours:
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_(tps, 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)
    # without the check the non-finite norm scales the gradients anyway (NaN), as torch
    t = nn.utils.clip_grad_norm_(ps, 1.0)
    tt = torch.nn.utils.clip_grad_norm_(tps, 1.0)
    assert math.isnan(float(t)) and math.isnan(float(tt))
    assert np.isnan(npy(ps[0].grad)).all() == torch.isnan(tps[0].grad).all().item()
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.clip_grad_norm(_grad_pair()[0], 1.0)


@pytest.mark.parametrize("clip", [0.3, 2.0])
def test_clip_grad_value_matches_torch(clip, device):
    ps, tps = _grad_pair(scale=2.0)
    ps[2].grad = None
    tps[2].grad = None
    assert nn.utils.clip_grad_value_(ps, clip, foreach=False) is None
    torch.nn.utils.clip_grad_value_(tps, clip)
    for p, tp in zip(ps[:2], tps[:2]):
        np.testing.assert_array_equal(npy(p.grad), tp.grad.numpy())
    assert ps[2].grad is None
    p = nn.Parameter(ag.zeros(3))
    p.grad = ag.tensor([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(p, 1)
    assert npy(p.grad).tolist() == [-1.0, 0.5, 1.0]


def test_parameters_vector_round_trip(device):
    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(npy(lin.weight)))
        tlin.bias.copy_(torch.tensor(npy(lin.bias)))
    v, tv = nn.utils.parameters_to_vector(lin.parameters()), torch.nn.utils.parameters_to_vector(tlin.parameters())
    assert tuple(v.shape) == (8,) and v.dtype == ag.float32 and v.requires_grad
    np.testing.assert_array_equal(npy(v), tv.detach().numpy())
    (v * ag.arange(8.0)).sum().backward()              # differentiable: a cat of views
    np.testing.assert_array_equal(npy(lin.weight.grad).ravel(), np.arange(6.0))
    new = ag.arange(8.0) * 0.5
    nn.utils.vector_to_parameters(new, lin.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(8.0) * 0.5, tlin.parameters())
    np.testing.assert_array_equal(npy(lin.weight), tlin.weight.detach().numpy())
    np.testing.assert_array_equal(npy(lin.bias), tlin.bias.detach().numpy())
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad and tuple(lin.weight.shape) == (2, 3)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters([1.0] * 8, lin.parameters())


def test_optimizer_deepcopy_keeps_working(device):
    import copy
    p = nn.Parameter(ag.tensor([1.0, -2.0]))
    for opt in (nn.optim.LBFGS([p], max_iter=2), nn.optim.Adam([p], lr=0.1)):
        for clone in (copy.deepcopy(opt),):     # (Parameters are not picklable here: nn.save a state_dict)
            q = clone.param_groups[0]["params"][0]

            def closure():
                clone.zero_grad()
                loss = (q * q).sum()
                loss.backward()
                return loss
            clone.step(closure)
            assert float((q * q).sum()) < 5.0
            assert clone.register_step_pre_hook(lambda *a: None) is not None


def test_repr_and_state_access_like_torch(device):
    opt = nn.optim.SGD([{"params": [nn.Parameter(ag.ones(1))]}, {"params": [nn.Parameter(ag.ones(1))], "lr": 0.5}],
                       lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.ones(1))]},
                            {"params": [torch.nn.Parameter(torch.ones(1))], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert repr(opt) == repr(topt)
    p = opt.param_groups[0]["params"][0]
    assert opt.state[p] == {} and topt.state[topt.param_groups[0]["params"][0]] == {}


def test_subclass_step_runs_hooks_once(device):
    class Mine(nn.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)
    p = nn.Parameter(ag.ones(2))
    opt = Mine([p], lr=0.5)
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    p.grad = ag.ones(2)
    opt.step()
    assert calls == [1] and npy(p).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("name", ["NAdam", "ASGD", "Adam"])
def test_scalar_state_dtype_follows_default_dtype(name, device):
    prev, tprev = ag.get_default_dtype(), torch.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ours, theirs, grads, opt, topt = _setup(name, dict(lr=0.05), "float64")
        _run(opt, topt, ours, theirs, grads[:STEPS], 1e-12)
        _compare_state(opt.state_dict(), topt.state_dict(), 1e-12)
        assert opt.state[ours[0]]["step"].dtype == ag.float64
    finally:
        ag.set_default_dtype(prev)
        torch.set_default_dtype(tprev)


def _twin_models():
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()
    ours = ours.double() if hasattr(ours, "double") else ours.to(ag.float64)
    theirs.load_state_dict({k: torch.tensor(npy(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("how", ["swa", "ema", "avg_fn", "use_buffers"])
def test_averaged_model_matches_torch(how, device):
    su, tsu = nn.optim.swa_utils, torch.optim.swa_utils
    kw = {"swa": ({}, {}), "ema": (dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9)),
                                   dict(multi_avg_fn=tsu.get_ema_multi_avg_fn(0.9))),
          "avg_fn": (dict(avg_fn=su.get_ema_avg_fn(0.8)), dict(avg_fn=tsu.get_ema_avg_fn(0.8))),
          "use_buffers": (dict(use_buffers=True), dict(use_buffers=True))}[how]
    model, tmodel = _twin_models()
    avg, tavg = su.AveragedModel(model, **kw[0]), tsu.AveragedModel(tmodel, **kw[1])
    opt, topt = nn.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(tmodel.parameters(), lr=0.1)
    rng = np.random.default_rng(5)
    for _ in range(4):
        x = rng.standard_normal((6, 3))
        opt.zero_grad(), topt.zero_grad()
        (model(ag.tensor(x)) ** 2).sum().backward()
        (tmodel(torch.tensor(x)) ** 2).sum().backward()
        opt.step(), topt.step()
        avg.update_parameters(model)
        tavg.update_parameters(tmodel)
    sd, tsd = avg.state_dict(), tavg.state_dict()
    assert sd.keys() == tsd.keys()
    for k in sd:
        np.testing.assert_allclose(npy(sd[k]), tsd[k].numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
    x = rng.standard_normal((5, 3))
    avg.eval(), tavg.eval()
    np.testing.assert_allclose(npy(avg(ag.tensor(x))), tavg(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    # update_bn recomputes the BatchNorm statistics of the averaged model over a loader
    data = [rng.standard_normal((4, 3)) for _ in range(3)]
    nn.optim.swa_utils.update_bn([(ag.tensor(d), 0) for d in data], avg)
    torch.optim.swa_utils.update_bn([(torch.tensor(d), 0) for d in data], tavg)
    assert not avg.training and not tavg.training
    for k in ("module.1.running_mean", "module.1.running_var", "module.1.num_batches_tracked"):
        np.testing.assert_allclose(npy(avg.state_dict()[k]), tavg.state_dict()[k].numpy(), rtol=1e-12, err_msg=k)
    assert avg.module[1].momentum == 0.1


def test_averaged_model_errors():
    with pytest.raises(AssertionError, match="Only one of"):
        nn.optim.swa_utils.AveragedModel(nn.Linear(2, 2), avg_fn=nn.optim.swa_utils.get_swa_avg_fn(),
                                         multi_avg_fn=nn.optim.swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="Invalid decay"):
        nn.optim.swa_utils.get_ema_multi_avg_fn(1.5)


def test_lbfgs_float32_fixed_step_matches_torch(device):
    # (float32 with strong_wolfe may take other line-search branches: torch's float32 dot rounds
    # differently from the backend's, by an ulp, and the search compares those values)
    x0, y0 = np.array([1.5, -2.0, 0.7], dtype=np.float32), np.array([0.3, -1.2], dtype=np.float32)
    ours = [nn.Parameter(ag.tensor(x0)), nn.Parameter(ag.tensor(y0))]
    theirs = [torch.nn.Parameter(torch.tensor(x0)), torch.nn.Parameter(torch.tensor(y0))]
    opt, topt = nn.optim.LBFGS(ours, history_size=4), torch.optim.LBFGS(theirs, history_size=4)
    closure, tclosure = _closure(opt, ours, ag), _closure(topt, theirs, torch)
    for _ in range(3):
        opt.step(closure), topt.step(tclosure)
    for p, tp in zip(ours, theirs):
        assert p.dtype == ag.float32
        np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert opt.state[ours[0]]["H_diag"].dtype == ag.float32


def test_adafactor_batched_matrices(device):
    """A 3-D parameter: row/column factors per matrix of the batch, as torch."""
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal((2, 3, 4))
    p, tp = nn.Parameter(ag.tensor(x0)), torch.nn.Parameter(torch.tensor(x0))
    opt, topt = nn.optim.Adafactor([p], lr=0.1), torch.optim.Adafactor([tp], lr=0.1)
    grads = [[rng.standard_normal((2, 3, 4))] for _ in range(5)]
    _run(opt, topt, [p], [tp], grads, 1e-12)
    _compare_state(opt.state_dict(), topt.state_dict(), 1e-12)
    assert tuple(opt.state[p]["row_var"].shape) == (2, 3, 1) and tuple(opt.state[p]["col_var"].shape) == (2, 1, 4)


@pytest.mark.parametrize("kw", [dict(), dict(nesterov=False, momentum=0.9, weight_decay=0.0),
                                dict(adjust_lr_fn="match_rms_adamw", lr=0.01)])
@pytest.mark.parametrize("shape", [(4, 6), (6, 4)])
def test_muon_close_to_torch(kw, shape, device):
    """torch orthogonalizes in bfloat16 (tapegrad has none: float32 here), so agreement is to
    bfloat16 precision; the momentum state is exact."""
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal(shape)
    p, tp = nn.Parameter(ag.tensor(x0)), torch.nn.Parameter(torch.tensor(x0))
    opt, topt = nn.optim.Muon([p], **kw), torch.optim.Muon([tp], **kw)
    for _ in range(4):
        g = rng.standard_normal(shape)
        p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
        x_before = npy(p).copy()
        opt.step(), topt.step()
        step, tstep = npy(p) - x_before, tp.detach().numpy() - x_before
        np.testing.assert_allclose(step, tstep, atol=0.08 * np.abs(tstep).max())
        p.data = ag.tensor(tp.detach().numpy().copy())          # keep the runs together
    np.testing.assert_allclose(npy(opt.state[p]["momentum_buffer"]), topt.state[tp]["momentum_buffer"].numpy(),
                               rtol=1e-12)
    assert p.dtype == ag.float64
    with pytest.raises(ValueError, match="only supports 2D"):
        nn.optim.Muon([nn.Parameter(ag.ones(3))])
    with pytest.raises(ValueError, match="not supported"):
        nn.optim.Muon([nn.Parameter(ag.ones(2, 2))], adjust_lr_fn="x")
