"""Optimizers, schedulers and clipping against torch: from identical parameters and gradients the
first steps agree to float rounding; state_dict layout matches torch's; lr sequences match."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from helpers import npy

torch = pytest.importorskip("torch", reason="torch.optim is the oracle for update formulas")

RNG = np.random.default_rng(0)
SHAPES = [(3, 4), (4,), ()]

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, eps=1e-3)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.5)),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_first_steps_match_torch(name, kw, dtype):
    init = [RNG.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[RNG.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(3)]
    ours = [nn.Parameter(ag.tensor(a)) for a in init]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    opt = getattr(nn.optim, name)(ours, **kw, foreach=False)
    topt = getattr(torch.optim, name)(theirs, **kw, foreach=False)
    rtol = 1e-13 if dtype == "float64" else 2e-6
    for step in range(3):
        for p, tp, g in zip(ours, theirs, grads[step]):
            p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            assert p.dtype.name == dtype
            np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=rtol, atol=rtol, err_msg=f"step {step}")
    # same state layout and values
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["state"].keys() == tsd["state"].keys()
    for i in sd["state"]:
        assert sd["state"][i].keys() == tsd["state"][i].keys()
        for k, v in sd["state"][i].items():
            np.testing.assert_allclose(npy(v), tsd["state"][i][k].numpy(), rtol=rtol, atol=rtol)
    ours_g = {k: v for k, v in sd["param_groups"][0].items()}
    theirs_g = tsd["param_groups"][0]
    for k in ours_g:
        assert k in theirs_g, k
        assert ours_g[k] == theirs_g[k] or (isinstance(theirs_g[k], tuple) and tuple(ours_g[k]) == theirs_g[k]), k


def test_param_groups_and_state_dict_round_trip():
    a, b = nn.Parameter(ag.ones(2)), nn.Parameter(ag.ones(3))
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    c = nn.Parameter(ag.ones(1))
    opt.add_param_group({"params": c, "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    for p in (a, b, c):
        p.grad = ag.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1], [2]]
    assert set(sd["state"]) == {0, 1}             # no momentum, no state (as torch)
    a2, b2, c2 = (nn.Parameter(p.detach().clone()) for p in (a, b, c))
    opt2 = nn.optim.SGD([{"params": [a2]}, {"params": [b2]}, {"params": [c2]}], lr=9.0)
    opt2.load_state_dict(sd)
    assert [g["lr"] for g in opt2.param_groups] == [0.1, 0.5, 0.1]
    for o, ps in ((opt, (a, b, c)), (opt2, (a2, b2, c2))):
        for p in ps:
            p.grad = ag.full_like(p, 2.0)
        o.step()
    for p, q in zip((a, b, c), (a2, b2, c2)):
        np.testing.assert_array_equal(npy(p), npy(q))
    with pytest.raises(ValueError, match="parameter groups"):
        nn.optim.SGD([a2], lr=1.0).load_state_dict(sd)
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([], lr=0.1)


def test_zero_grad_and_closure():
    p = nn.Parameter(ag.tensor([1.0, 2.0]))
    opt = nn.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(npy(p), [0.8, 1.6], rtol=1e-6)
    opt.zero_grad(set_to_none=False)
    assert npy(p.grad).tolist() == [0, 0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()          # no grad: nothing changes
    np.testing.assert_allclose(npy(p), [0.8, 1.6], rtol=1e-6)


def test_updates_are_in_place():
    p = nn.Parameter(ag.randn(5))
    data = p._data
    opt = nn.optim.Adam([p], lr=0.1)
    p.grad = ag.ones(5)
    opt.step()
    assert p._data is data and p.version > 0 and p.grad_fn is None and p.requires_grad
    buf = opt.state[p]["exp_avg"]._data
    opt.step()
    assert opt.state[p]["exp_avg"]._data is buf


SCHED = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=3)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e / (1 + e))),
]


@pytest.mark.parametrize("name,kw", SCHED, ids=[s[0] + str(i) for i, s in enumerate(SCHED)])
def test_scheduler_sequences_match_torch(name, kw):
    p, tp = nn.Parameter(ag.ones(1)), torch.nn.Parameter(torch.ones(1))
    opt = nn.optim.SGD([p], lr=0.3)
    topt = torch.optim.SGD([tp], lr=0.3)
    s = getattr(nn.optim.lr_scheduler, name)(opt, **kw)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    ours, theirs = [s.get_last_lr()[0]], [ts.get_last_lr()[0]]
    for _ in range(14):
        opt.step(), topt.step()
        s.step(), ts.step()
        ours.append(s.get_last_lr()[0])
        theirs.append(ts.get_last_lr()[0])
    assert ours == theirs                      # bit for bit
    assert opt.param_groups[0]["lr"] == ours[-1]
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 14


def test_scheduler_state_dict_resumes():
    p = nn.Parameter(ag.ones(1))
    opt = nn.optim.SGD([p], lr=1.0)
    s = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        s.step()
    sd = s.state_dict()
    p2 = nn.Parameter(ag.ones(1))
    opt2 = nn.optim.SGD([p2], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    s2 = nn.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    s2.load_state_dict(sd)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    for _ in range(3):
        s.step(), s2.step()
    assert s.get_last_lr() == s2.get_last_lr()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    gs = [RNG.standard_normal(s) for s in [(3, 2), (4,)]]
    ps = [nn.Parameter(ag.zeros(*g.shape, dtype=ag.float64)) for g in gs]
    tps = [torch.nn.Parameter(torch.zeros(*g.shape, dtype=torch.float64)) for g in gs]
    for p, tp, g in zip(ps, tps, gs):
        p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    np.testing.assert_allclose(float(total), float(ttotal), rtol=1e-13)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(npy(p.grad), tp.grad.numpy(), rtol=1e-13)


def test_clip_grad_value_and_nonfinite():
    p = nn.Parameter(ag.zeros(4))
    p.grad = ag.tensor([-3.0, 0.5, 2.0, -0.1])
    nn.utils.clip_grad_value_([p], 1.0)
    assert npy(p.grad).tolist() == [-1.0, 0.5, 1.0, pytest.approx(-0.1)]
    p.grad = ag.tensor([float("inf"), 1.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
                                  "Rprop", "Adafactor", "ASGD"])
def test_step_count_lives_where_torch_keeps_it(device, name):
    """torch keeps a non-capturable optimizer's step count (and NAdam's mu_product) on the CPU, so
    reading it back for the bias corrections never waits for a GPU; capturable puts it on the
    parameter's device (which needs CUDA), and ASGD always does. (On the NumPy backend both are the CPU; with
    --backend array_api_strict or cupy the parameter is elsewhere and this tells them apart.)"""
    def run(**kw):
        p = nn.Parameter(ag.ones(3, device=device))
        opt = getattr(nn.optim, name)([p], lr=0.1, **kw)
        for _ in range(2):
            p.grad = ag.full((3,), 0.5, device=device)
            opt.step()
        return p, opt.state[p]
    p, st = run()
    where = str(p.device) if name == "ASGD" else "cpu"
    assert str(st["step"].device) == where and st["step"].shape == () and st["step"].dtype == ag.float32
    assert float(st["step"]) == 2.0
    if name == "NAdam":
        assert str(st["mu_product"].device) == "cpu"
    assert str(p.device) == str(ag.ones(1, device=device).device) and float(p.sum()) < 3.0   # it stepped
