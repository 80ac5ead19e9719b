"""Learning-rate schedulers against torch.optim.lr_scheduler (the oracle): lr (and cycled momentum)
sequences over 100 steps equal torch's bit for bit, with two parameter groups; state_dict contents
match torch's and resume; ReduceLROnPlateau on a metric sequence; SequentialLR / ChainedScheduler;
the closed forms used by step(epoch); errors where torch raises."""
import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch", reason="torch.optim.lr_scheduler is the oracle for lr sequences")

N = 100


def _pair(opt_name="SGD", **okw):
    okw = {"lr": 0.1, **okw}
    ours = nn.optim.__dict__[opt_name]([{"params": [nn.Parameter(ag.ones(2))]},
                                        {"params": [nn.Parameter(ag.ones(1))], "lr": 0.03}], **okw)
    theirs = torch.optim.__dict__[opt_name]([{"params": [torch.nn.Parameter(torch.ones(2))]},
                                             {"params": [torch.nn.Parameter(torch.ones(1))], "lr": 0.03}], **okw)
    return ours, theirs


def _lambda(e):
    return 0.97 ** e / (1 + 0.01 * e)


def _mult(e):
    return 0.95 if e % 3 else 1.01


SCHED = [
    ("StepLR", dict(step_size=7, gamma=0.5), {}),
    ("MultiStepLR", dict(milestones=[5, 20, 20, 61], gamma=0.3), {}),
    ("ExponentialLR", dict(gamma=0.96), {}),
    ("MultiplicativeLR", dict(lr_lambda=_mult), {}),
    ("LambdaLR", dict(lr_lambda=_lambda), {}),
    ("LambdaLR", dict(lr_lambda=[_lambda, lambda e: 1.0 / (e + 1)]), {}),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=30), {}),
    ("LinearLR", dict(), {}),
    ("ConstantLR", dict(factor=0.4, total_iters=12), {}),
    ("PolynomialLR", dict(total_iters=60, power=2.5), {}),
    ("PolynomialLR", dict(), {}),
    ("CosineAnnealingLR", dict(T_max=17, eta_min=0.001), {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=9, T_mult=2, eta_min=1e-4), {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=13), {}),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.2, step_size_up=7), dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.3, step_size_up=5, step_size_down=11, mode="triangular2"),
     dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.3, step_size_up=6, mode="exp_range", gamma=0.98,
                      base_momentum=0.7, max_momentum=[0.95, 0.9]), dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.3, step_size_up=6, scale_fn=lambda x: 1 / (1 + 0.1 * x),
                      scale_mode="iterations", cycle_momentum=False), {}),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=8), dict(opt="Adam")),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=N), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
                        div_factor=10.0, final_div_factor=100.0), dict(opt="Adam")),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=N, three_phase=True, base_momentum=0.8, max_momentum=0.92),
     dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=N, cycle_momentum=False, pct_start=0.5), {}),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(SCHED)]


def _make(name, kw, okw):
    okw = dict(okw)
    opt_name = okw.pop("opt", "SGD")
    opt, topt = _pair(opt_name, **okw)
    return opt, topt, getattr(nn.optim.lr_scheduler, name)(opt, **kw), getattr(torch.optim.lr_scheduler, name)(topt,
                                                                                                            **kw)


def _hyper(opt):
    return [(g["lr"], g.get("momentum"), tuple(g["betas"]) if "betas" in g else None) for g in opt.param_groups]


@pytest.mark.parametrize("name,kw,okw", SCHED, ids=IDS)
def test_sequences_equal_torch(name, kw, okw, device):
    opt, topt, s, ts = _make(name, kw, okw)
    n = N - 1 if name == "OneCycleLR" else N        # OneCycleLR may not step past total_steps
    assert s.get_last_lr() == ts.get_last_lr() and _hyper(opt) == _hyper(topt)
    for i in range(n):
        opt.step(), topt.step()
        s.step(), ts.step()
        assert s.get_last_lr() == ts.get_last_lr(), f"step {i}"        # bit for bit
        assert _hyper(opt) == _hyper(topt), f"step {i}"
        assert s.last_epoch == ts.last_epoch
    assert isinstance(s.get_last_lr()[0], float)
    if name == "OneCycleLR":
        with pytest.raises(ValueError, match="Tried to step"):
            s.step(), s.step()


def _plain(sd):
    """A scheduler state_dict with functions dropped (torch keeps those out too)."""
    return {k: v for k, v in sd.items() if not callable(v) and k != "_scale_fn_ref"}


@pytest.mark.parametrize("name,kw,okw", SCHED, ids=IDS)
def test_state_dict_matches_and_resumes(name, kw, okw, device):
    opt, topt, s, ts = _make(name, kw, okw)
    for _ in range(23):
        opt.step(), topt.step()
        s.step(), ts.step()
    sd, tsd = s.state_dict(), ts.state_dict()
    assert "optimizer" not in sd and sd.keys() == tsd.keys()
    for k in sd:
        if k in ("_scale_fn_ref", "lr_lambdas", "_scale_fn_custom"):
            continue
        assert sd[k] == tsd[k], k
    # a fresh scheduler on a fresh optimizer resumes from torch's state dict
    opt2, topt2, _, _ = _make(name, kw, okw)
    opt2.load_state_dict(opt.state_dict())
    s2 = getattr(nn.optim.lr_scheduler, name)(opt2, **{**kw, "last_epoch": 22} if name not in (
        "CyclicLR", "OneCycleLR") else kw)
    s2.load_state_dict(dict(tsd))
    for i in range(20):
        opt2.step(), topt.step()
        s2.step(), ts.step()
        assert s2.get_last_lr() == ts.get_last_lr(), f"step {i}"


PLATEAU = [dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.05, cooldown=3, min_lr=0.004),
           dict(threshold_mode="abs", threshold=0.2, patience=0, min_lr=[0.01, 0.001], eps=1e-3),
           dict(mode="max", threshold_mode="abs", patience=1, factor=0.3, cooldown=1)]


@pytest.mark.parametrize("kw", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau(kw, device):
    opt, topt = _pair()
    s = nn.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    rng = np.random.default_rng(0)
    metrics = np.cumsum(rng.standard_normal(N) * 0.3) + np.sin(np.arange(N) / 5.0)
    for i, m in enumerate(metrics):
        # a metric may be a tensor (a loss) or a Python float
        s.step(ag.tensor(m) if i % 2 else float(m))
        ts.step(torch.tensor(m) if i % 2 else float(m))
        assert s.get_last_lr() == ts.get_last_lr(), f"step {i}"
        assert (s.best, s.num_bad_epochs, s.cooldown_counter, s.last_epoch) == \
            (ts.best, ts.num_bad_epochs, ts.cooldown_counter, ts.last_epoch)
    assert s.state_dict() == ts.state_dict()
    s2 = nn.optim.lr_scheduler.ReduceLROnPlateau(_pair()[0])
    s2.load_state_dict(ts.state_dict())
    assert s2.mode == s.mode and s2._is_better(-1e9, 0.0) == s._is_better(-1e9, 0.0)


def test_reduce_lr_on_plateau_errors():
    opt, topt = _pair()
    for kw in [dict(factor=1.0), dict(mode="mean"), dict(threshold_mode="x"), dict(min_lr=[0.1])]:
        with pytest.raises(ValueError) as ours:
            nn.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        with pytest.raises(ValueError) as theirs:
            torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
        assert str(ours.value) == str(theirs.value)


def _seq(mod, opt):
    ls = mod.optim.lr_scheduler
    return ls.SequentialLR(opt, [ls.LinearLR(opt, start_factor=0.1, total_iters=10), ls.ExponentialLR(opt, 0.9),
                                 ls.CosineAnnealingLR(opt, T_max=20)], milestones=[10, 40])


def _chain(mod, opt):
    ls = mod.optim.lr_scheduler
    return ls.ChainedScheduler([ls.ConstantLR(opt, factor=0.5, total_iters=15), ls.ExponentialLR(opt, 0.97),
                                ls.MultiStepLR(opt, milestones=[30, 60], gamma=0.5)])


@pytest.mark.parametrize("build", [_seq, _chain], ids=["SequentialLR", "ChainedScheduler"])
def test_composite_schedulers(build, device):
    opt, topt = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch warns about its inner schedulers' initial steps
        s, ts = build(nn, opt), build(torch, topt)
    assert s.get_last_lr() == ts.get_last_lr()
    for i in range(N):
        opt.step(), topt.step()
        s.step(), ts.step()
        assert s.get_last_lr() == ts.get_last_lr(), f"step {i}"
    sd, tsd = s.state_dict(), ts.state_dict()
    assert len(sd["_schedulers"]) == len(tsd["_schedulers"])
    for a, b in zip(sd["_schedulers"], tsd["_schedulers"]):
        assert a["last_epoch"] == b["last_epoch"] and a["_last_lr"] == b["_last_lr"]
    opt2, _ = _pair()
    opt2.load_state_dict(opt.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s2 = build(nn, opt2)
    s2.load_state_dict(tsd)
    opt2.param_groups[0]["lr"], opt2.param_groups[1]["lr"] = (g["lr"] for g in opt.param_groups)
    for _ in range(5):
        s.step(), s2.step()
        assert s2.get_last_lr() == s.get_last_lr()


def test_composite_errors():
    opt, topt = _pair()
    other, _ = _pair()
    ls = nn.optim.lr_scheduler
    with pytest.raises(ValueError, match="at least one"):
        ls.SequentialLR(opt, [], milestones=[])
    with pytest.raises(ValueError, match="milestone"):
        ls.SequentialLR(opt, [ls.ExponentialLR(opt, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        ls.SequentialLR(opt, [ls.ExponentialLR(opt, 0.9), ls.ExponentialLR(other, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        ls.ChainedScheduler([ls.ReduceLROnPlateau(opt)])


@pytest.mark.parametrize("name,kw", [("StepLR", dict(step_size=3, gamma=0.5)), ("MultiStepLR", dict(milestones=[2, 5])),
                                     ("ExponentialLR", dict(gamma=0.8)), ("CosineAnnealingLR", dict(T_max=7)),
                                     ("LinearLR", dict(total_iters=6)), ("ConstantLR", dict(total_iters=4)),
                                     ("PolynomialLR", dict(total_iters=8, power=0.7)),
                                     ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2))])
def test_step_with_epoch_uses_closed_form(name, kw):
    opt, topt = _pair()
    s, ts = getattr(nn.optim.lr_scheduler, name)(opt, **kw), getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    for e in [3, 1, 9, 4, 20, 0]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s.step(e), ts.step(e)
        assert s.get_last_lr() == ts.get_last_lr(), e
        assert s.last_epoch == ts.last_epoch


def test_constructor_errors_match_torch():
    cases = [("ConstantLR", dict(factor=1.5)), ("LinearLR", dict(start_factor=0.0)), ("LinearLR", dict(end_factor=2.0)),
             ("CosineAnnealingWarmRestarts", dict(T_0=0)), ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=0)),
             ("CyclicLR", dict(base_lr=0.1, max_lr=1.0, mode="nope")),
             ("OneCycleLR", dict(max_lr=1.0)), ("OneCycleLR", dict(max_lr=1.0, total_steps=0)),
             ("OneCycleLR", dict(max_lr=1.0, total_steps=10, pct_start=1.5)),
             ("OneCycleLR", dict(max_lr=1.0, total_steps=10, anneal_strategy="exp")),
             ("OneCycleLR", dict(max_lr=[1.0], total_steps=10)),
             ("LambdaLR", dict(lr_lambda=[_lambda])), ("StepLR", dict(step_size=2, last_epoch=5))]
    for name, kw in cases:
        opt, topt = _pair()
        with pytest.raises(Exception) as theirs:
            getattr(torch.optim.lr_scheduler, name)(topt, **kw)
        with pytest.raises(type(theirs.value)) as ours:
            getattr(nn.optim.lr_scheduler, name)(opt, **kw)
        assert str(ours.value) == str(theirs.value), name
    with pytest.raises(ValueError, match="momentum or beta1"):
        nn.optim.lr_scheduler.OneCycleLR(nn.optim.Adagrad([nn.Parameter(ag.ones(1))]), max_lr=1.0, total_steps=5)
    with pytest.raises(TypeError, match="not an Optimizer"):
        nn.optim.lr_scheduler.StepLR(object(), 3)


def test_tensor_lr_updated_in_place():
    p = nn.Parameter(ag.ones(1))
    lr = ag.tensor(0.1)
    opt = nn.optim.Adam([p], lr=lr)
    s = nn.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step(), s.step()
    assert opt.param_groups[0]["lr"] is lr and math.isclose(lr.item(), 0.05, rel_tol=1e-6)


def test_warnings_like_torch():
    opt, _ = _pair()
    s = nn.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.2], anneal_epochs=4, anneal_strategy="linear"),
                                dict(swa_lr=0.01, anneal_epochs=0)])
def test_swalr_equals_torch(kw, device):
    opt, topt = _pair()
    s, ts = nn.optim.swa_utils.SWALR(opt, **kw), torch.optim.swa_utils.SWALR(topt, **kw)
    assert s.get_last_lr() == ts.get_last_lr()
    for i in range(20):
        opt.step(), topt.step()
        s.step(), ts.step()
        assert s.get_last_lr() == ts.get_last_lr(), f"step {i}"
    sd, tsd = s.state_dict(), ts.state_dict()
    assert sd == {k: v for k, v in tsd.items()}
    with pytest.raises(ValueError, match="anneal_strategy"):
        nn.optim.swa_utils.SWALR(opt, 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs"):
        nn.optim.swa_utils.SWALR(opt, 0.1, anneal_epochs=-1)
