"""nn.Module system: registration order, iteration, modes, state_dict keys vs torch, hooks, repr."""
import numpy as np
import pytest

import autograd as ag
import nn
from helpers import npy


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 3)
        self.register_buffer("scale", ag.ones(3))
        self.register_buffer("tmp", ag.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.bn(self.fc1(x)))) * self.scale


def test_registration_order_and_names():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
                                                    "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_buffers()] == ["scale", "tmp", "bn.running_mean", "bn.running_var",
                                                 "bn.num_batches_tracked"]
    assert [n for n, _ in m.named_children()] == ["fc1", "bn", "act", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "bn", "act", "fc2"]
    # a module's own tensors come before its children's, as torch orders them
    assert list(m.state_dict()) == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                    "bn.running_var", "bn.num_batches_tracked", "fc2.weight", "fc2.bias"]
    assert isinstance(m.fc1.weight, nn.Parameter) and m.fc1.weight.requires_grad
    assert tuple(m.fc1.weight.shape) == (8, 4)


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for key names")

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.bn = torch.nn.BatchNorm1d(8)
            self.act = torch.nn.ReLU()
            self.fc2 = torch.nn.Linear(8, 3)
            self.register_buffer("scale", torch.ones(3))
            self.register_buffer("tmp", torch.zeros(1), persistent=False)

    ours, theirs = Net().state_dict(), TNet().state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert tuple(ours[k].shape) == tuple(theirs[k].shape), k
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2, 2))
    tseq = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                               torch.nn.Linear(2, 2))
    assert list(seq.state_dict()) == list(tseq.state_dict())
    assert str(seq) == str(tseq)


def test_load_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    x = ag.randn(5, 4)
    a.eval(), b.eval()
    assert not np.allclose(npy(a(x)), npy(b(x)))
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(npy(a(x)), npy(b(x)))
    sd = a.state_dict()
    sd["extra"] = ag.zeros(1)
    del sd["fc1.bias"]
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\).*"extra".*\n.*Missing key\(s\).*"fc1.bias"'):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]
    sd = a.state_dict()
    sd["fc2.weight"] = ag.zeros(3, 9)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc2.weight.*\(3, 9\).*\(3, 8\)"):
        b.load_state_dict(sd)


def test_load_torch_state_dict_gives_torch_outputs():
    torch = pytest.importorskip("torch", reason="torch is the oracle")
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    m = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    m.load_state_dict({k: ag.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(npy(m(ag.tensor(x))), t(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_train_eval_zero_grad_apply_to():
    m = Net()
    assert m.training and m.bn.training
    m.eval()
    assert not m.training and not m.bn.training and not m.fc2.training
    m.train()
    assert m.bn.training
    m(ag.randn(4, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Net"]
    w = m.fc1.weight
    m.double()
    assert m.fc1.weight is w and w.dtype is ag.float64 and m.bn.running_mean.dtype is ag.float64
    assert m.bn.num_batches_tracked.dtype is ag.int64          # integer buffers keep their dtype
    m.to(ag.float32)
    assert w.dtype is ag.float32
    m.to("cpu")
    assert w.device == "cpu"


def test_registration_api_and_errors():
    m = nn.Module()
    m.register_parameter("p", nn.Parameter(ag.zeros(2)))
    m.add_module("sub", nn.Linear(2, 2))
    m.register_buffer("b", ag.ones(1))
    assert [n for n, _ in m.named_parameters()] == ["p", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="parameter 'p'"):
        m.p = ag.zeros(2)
    with pytest.raises(KeyError):
        m.register_buffer("a.b", ag.ones(1))
    with pytest.raises(TypeError):
        m.register_parameter("q", ag.zeros(1))
    del m.sub
    assert [n for n, _ in m.named_parameters()] == ["p"]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        m.nothing
    shared = nn.Linear(2, 2)
    s = nn.Sequential(shared, shared)
    assert len(list(s.parameters())) == 2            # shared parameters appear once, like torch


def test_containers():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    s.append(nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and isinstance(s[1:], nn.Sequential)
    assert s(ag.randn(4, 2)).shape == (4, 1)
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"] and len(ml) == 3
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.Identity()})
    assert list(md.keys()) == ["a", "b"] and "a.weight" in md.state_dict()
    x = ag.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Identity()(x) is x
    with pytest.raises(IndexError):
        s[5]


def test_forward_hooks():
    m = nn.Linear(3, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(tuple(out.shape)) or out + 1)
    x = ag.randn(4, 3)
    with ag.no_grad():
        expect = (x * 2) @ m.weight.T + m.bias + 1
    np.testing.assert_allclose(npy(m(x)), npy(expect), rtol=1e-6)
    assert calls == [(4, 2)]
    h1.remove(), h2.remove()
    with ag.no_grad():
        np.testing.assert_allclose(npy(m(x)), npy(x @ m.weight.T + m.bias), rtol=1e-6)


def test_full_backward_hook_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is the oracle for hook semantics")
    m = nn.Linear(3, 2).double()
    t = torch.nn.Linear(3, 2).double()
    t.load_state_dict({k: torch.tensor(npy(v)) for k, v in m.state_dict().items()})
    got, want = [], []
    h = m.register_full_backward_hook(lambda mod, gi, go: got.append((npy(gi[0]), npy(go[0]))))
    t.register_full_backward_hook(lambda mod, gi, go: want.append((gi[0].numpy().copy(), go[0].numpy().copy())))
    xv = np.random.default_rng(1).standard_normal((4, 3))
    x = ag.tensor(xv, requires_grad=True)
    tx = torch.tensor(xv, requires_grad=True)
    (m(x) ** 2).sum().backward()
    (t(tx) ** 2).sum().backward()
    assert len(got) == len(want) == 1
    np.testing.assert_allclose(got[0][0], want[0][0], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], want[0][1], rtol=1e-12)
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), rtol=1e-12)
    # a hook that returns a replacement grad_input changes what flows further back
    h.remove()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    x.grad = None
    m(x).sum().backward()
    assert float(abs(x.grad).sum()) == 0
    assert m.weight.grad is not None


def test_backward_hook_without_input_grad():
    m = nn.Linear(3, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, tuple(go[0].shape))))
    m(ag.randn(5, 3)).sum().backward()
    assert seen == [((None,), (5, 2))]


def test_parameter_repr_and_module_repr():
    p = nn.Parameter(ag.zeros(2))
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is ag.Tensor
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"


def test_replaced_parameters_buffers_and_modules_keep_their_place_as_torch(device):
    """Assigning a new Parameter, registering a buffer again or replacing a child keeps the name's
    place in state_dict / named_children, as torch's dict assignment does (it was moved to the end)."""
    torch = pytest.importorskip("torch", reason="torch is the oracle for the order")

    def edit(mod, lib, P):
        lin, bn, seq = mod
        lin.weight = P(lib.ones(3, 2))
        bn.register_buffer("running_mean", lib.zeros(3))
        lin.register_parameter("bias", P(lib.zeros(3)))
        seq[0] = lib.nn.Tanh() if lib is torch else nn.Tanh()
        seq.add_module("1", lib.nn.Sigmoid() if lib is torch else nn.Sigmoid())
        return [list(lin.state_dict()), list(bn.state_dict()), [n for n, _ in seq.named_children()],
                [type(c).__name__ for c in seq.children()]]
    ours = edit((nn.Linear(2, 3, device=device), nn.BatchNorm1d(3, device=device),
                 nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))), ag, nn.Parameter)
    theirs = edit((torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3),
                   torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU(), torch.nn.Linear(1, 1))),
                  torch, torch.nn.Parameter)
    assert ours == theirs
    assert ours[0] == ["weight", "bias"] and ours[3] == ["Tanh", "Sigmoid", "Linear"]
