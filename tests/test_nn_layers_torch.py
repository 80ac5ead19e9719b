"""issue 12's layers against torch 2.13: Bilinear, LazyLinear, EmbeddingBag, Embedding's options
(padding_idx, max_norm, norm_type, scale_grad_by_freq, from_pretrained), ChannelShuffle, CosineSimilarity,
PairwiseDistance, Identity, ParameterList and ParameterDict: constructor signatures, parameter names,
init distributions, state_dict both ways, repr, forward and gradients, gradcheck in float64."""
import inspect

import numpy as np
import pytest

import autograd as ag
import nn
from helpers import npy

RNG = np.random.default_rng(11)


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle")


def _sync(ours, theirs, device):
    """torch's state_dict (scaled, so not the init) into ours strictly, and ours back into torch."""
    torch = _torch()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    sd = {k: v.detach().numpy() * 1.5 for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: ag.tensor(v) for k, v in sd.items()}, strict=True)
    theirs.load_state_dict({k: torch.from_numpy(npy(v).copy()) for k, v in ours.state_dict().items()}, strict=True)
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k])
    ours.to(device)


def _compare(ours, theirs, inputs, device, grad_inputs=()):
    torch = _torch()
    to = [ag.tensor(a, device=device, requires_grad=i in grad_inputs) for i, a in enumerate(inputs)]
    tt = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(inputs)]
    yo, yt = ours(*to), theirs(*tt)
    assert tuple(yo.shape) == tuple(yt.shape) and yo.dtype.name == str(yt.dtype)[6:]
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(tuple(yt.shape))
    yo.backward(ag.tensor(g, device=device))
    yt.backward(torch.tensor(g))
    for (name, po), pt in zip(ours.named_parameters(), theirs.parameters()):
        if pt.requires_grad:
            np.testing.assert_allclose(npy(po.grad), pt.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    for i in grad_inputs:
        np.testing.assert_allclose(npy(to[i].grad), tt[i].grad.numpy(), rtol=1e-10, atol=1e-12)


SIGS = ["Bilinear", "LazyLinear", "EmbeddingBag", "Embedding", "ChannelShuffle", "CosineSimilarity",
        "PairwiseDistance", "ParameterList", "ParameterDict"]


@pytest.mark.parametrize("name", SIGS)
def test_constructor_signature_matches_torch(name):
    torch = _torch()
    ours = inspect.signature(getattr(nn, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(bias, device):
    torch = _torch()
    ours, theirs = nn.Bilinear(3, 2, 4, bias=bias, dtype=ag.float64), torch.nn.Bilinear(3, 2, 4, bias=bias,
                                                                                         dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    assert tuple(ours.weight.shape) == (4, 3, 2) and (ours.bias is None) == (not bias)
    _sync(ours, theirs, device)
    _compare(ours, theirs, [RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))], device, (0, 1))
    x1, x2 = (ag.tensor(RNG.standard_normal(s), device=device, requires_grad=True) for s in ((2, 3), (2, 2)))
    assert ag.gradcheck(lambda a, b, w: nn.functional.bilinear(a, b, w, ours.bias),
                        (x1, x2, ag.tensor(npy(ours.weight), device=device, requires_grad=True)))


def test_bilinear_init_is_uniform_in_bound():
    m = nn.Bilinear(16, 3, 2000)
    w, b = npy(m.weight), npy(m.bias)
    assert np.abs(w).max() <= 0.25 and abs(np.abs(w).max() - 0.25) < 1e-3       # U(-1/sqrt(16), 1/sqrt(16))
    assert abs(w.std() - 0.25 / np.sqrt(3)) < 5e-3 and np.abs(b).max() <= 0.25


def test_lazy_linear(device):
    torch = _torch()
    m = nn.LazyLinear(4, dtype=ag.float64)
    assert m.has_uninitialized_params()
    y = m(ag.tensor(RNG.standard_normal((2, 3)), device=device) if device == "cpu" else ag.ones(2, 3, dtype=ag.float64))
    assert tuple(y.shape) == (2, 4) and tuple(m.weight.shape) == (4, 3) and m.in_features == 3
    t = torch.nn.Linear(3, 4, dtype=torch.float64)
    assert list(m.state_dict()) == list(t.state_dict())
    assert type(m) is nn.Linear and repr(m) == repr(t)                  # torch's cls_to_become
    lazy = torch.nn.LazyLinear(4)
    lazy(torch.ones(2, 3))
    assert type(lazy) is torch.nn.Linear


EMB = [{}, {"padding_idx": 1}, {"padding_idx": -2, "scale_grad_by_freq": True}, {"max_norm": 1.0},
       {"max_norm": 1.5, "norm_type": 1.0}, {"scale_grad_by_freq": True}]


@pytest.mark.parametrize("kwargs", EMB, ids=[str(i) for i in range(len(EMB))])
def test_embedding_options(kwargs, device):
    torch = _torch()
    ours = nn.Embedding(6, 3, dtype=ag.float64, **kwargs)
    theirs = torch.nn.Embedding(6, 3, dtype=torch.float64, **kwargs)
    assert repr(ours) == repr(theirs)
    if "padding_idx" in kwargs:
        assert np.all(npy(ours.weight)[kwargs["padding_idx"]] == 0)
    _sync(ours, theirs, device)
    _compare(ours, theirs, [np.array([[1, 2, 1], [4, 4, 1], [0, 4, 5]])], device)
    if "max_norm" in kwargs:            # the looked-up rows were renormalised in place, as torch's
        np.testing.assert_allclose(npy(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)


def test_embedding_from_pretrained_and_errors(device):
    torch = _torch()
    w = RNG.standard_normal((4, 2))
    base = ag.tensor(w, device=device)
    m = nn.Embedding.from_pretrained(base, padding_idx=1)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w), padding_idx=1)
    assert repr(m) == repr(t) and not m.weight.requires_grad
    np.testing.assert_array_equal(npy(m.weight), w)                  # the padding row is not zeroed
    assert nn.Embedding.from_pretrained(base, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.functional.embedding(ag.tensor(np.array([0])), ag.ones(3, 2), padding_idx=-4)
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(ag.ones(3))
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(3, 2, sparse=True)(ag.tensor(np.array([0])))


BAG = [  # kwargs, input, offsets, per_sample_weights
    ({}, np.array([1, 2, 4, 4, 5, 0, 1]), np.array([0, 2, 2, 5]), None),
    ({"mode": "sum"}, np.array([1, 2, 4, 4, 5, 0, 1]), np.array([0, 2, 2, 5]), RNG.uniform(0.5, 2, 7)),
    ({"mode": "max"}, np.array([1, 2, 4, 4, 5, 0, 1]), np.array([0, 2, 2, 5]), None),
    ({"mode": "mean", "padding_idx": 4}, np.array([1, 2, 4, 4, 5, 0, 1]), np.array([0, 2, 2, 5]), None),
    ({"mode": "max", "padding_idx": 0}, np.array([[1, 0, 3], [0, 0, 0], [5, 5, 2]]), None, None),
    ({"mode": "sum", "include_last_offset": True}, np.array([1, 2, 4, 4, 5, 0, 1]), np.array([0, 2, 2, 7]), None),
    ({"mode": "sum", "max_norm": 1.0}, np.array([[1, 3], [3, 5]]), None, None),
]


@pytest.mark.parametrize("kwargs,inp,offsets,psw", BAG, ids=[str(i) for i in range(len(BAG))])
def test_embedding_bag(kwargs, inp, offsets, psw, device):
    torch = _torch()
    ours = nn.EmbeddingBag(6, 3, dtype=ag.float64, **kwargs)
    theirs = torch.nn.EmbeddingBag(6, 3, dtype=torch.float64, **kwargs)
    assert repr(ours) == repr(theirs)
    _sync(ours, theirs, device)
    wo = ag.tensor(psw, device=device, requires_grad=True) if psw is not None else None
    wt = torch.tensor(psw, requires_grad=True) if psw is not None else None
    io, it = ag.tensor(inp, device=device), torch.tensor(inp)
    oo = ag.tensor(offsets, device=device) if offsets is not None else None
    ot = torch.tensor(offsets) if offsets is not None else None
    yo, yt = ours(io, oo, per_sample_weights=wo), theirs(it, ot, per_sample_weights=wt)
    assert tuple(yo.shape) == tuple(yt.shape) and yo.dtype is ag.float64
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(tuple(yt.shape))
    yo.backward(ag.tensor(g, device=device))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(npy(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(npy(ours.weight), theirs.weight.detach().numpy(), rtol=1e-12)
    if psw is not None:
        np.testing.assert_allclose(npy(wo.grad), wt.grad.numpy(), rtol=1e-10)
    if kwargs.get("mode") != "max":
        w0 = ag.tensor(npy(ours.weight), device=device, requires_grad=True)
        assert ag.gradcheck(lambda w: nn.functional.embedding_bag(io, w, oo, mode=kwargs.get("mode", "mean"),
                                                                  padding_idx=ours.padding_idx), (w0,))


def test_embedding_bag_scale_grad_by_freq_is_embeddings_per_bag(device):
    # torch 2.13's CPU embedding_bag scales by the frequency of the wrong entries (it divides row r's gradient
    # by the count of index value p at position p); ours divides by how often r occurs, as F.embedding does
    torch = _torch()
    w = RNG.standard_normal((6, 3))
    inp, off = np.array([1, 2, 4, 4, 5, 0, 1]), np.array([0, 2, 2, 5])
    wo = ag.tensor(w, device=device, requires_grad=True)
    nn.functional.embedding_bag(ag.tensor(inp, device=device), wo, ag.tensor(off, device=device), mode="sum",
                                scale_grad_by_freq=True).sum().backward()
    wt = torch.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(inp), wt, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(npy(wo.grad), wt.grad.numpy(), rtol=1e-12)


def test_embedding_bag_init_and_errors():
    m = nn.EmbeddingBag(2000, 4, padding_idx=3)
    w = npy(m.weight)
    assert np.all(w[3] == 0) and abs(w.std() - 1.0) < 0.03 and abs(w.mean()) < 0.03
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        m(ag.tensor(np.array([1, 2])))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        nn.EmbeddingBag(5, 2, mode="max", scale_grad_by_freq=True)(ag.tensor(np.array([[1, 2]])))
    e = nn.EmbeddingBag.from_pretrained(ag.ones(3, 2), mode="sum")
    assert not e.weight.requires_grad and e.mode == "sum"


def test_channel_shuffle(device):
    torch = _torch()
    ours, theirs = nn.ChannelShuffle(3), torch.nn.ChannelShuffle(3)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal((2, 6, 2, 2))
    yo, yt = ours(ag.tensor(x, device=device)), theirs(torch.tensor(x))
    np.testing.assert_array_equal(npy(yo), yt.numpy())


@pytest.mark.parametrize("name,args,shapes", [("CosineSimilarity", (), [(3, 4), (3, 4)]),
                                              ("CosineSimilarity", (-1, 1e-3), [(2, 1, 4), (3, 4)]),
                                              ("PairwiseDistance", (), [(3, 4), (3, 4)]),
                                              ("PairwiseDistance", (1.0, 1e-3, True), [(3, 4), (4,)])])
def test_distance_modules(name, args, shapes, device):
    torch = _torch()
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs) and vars(theirs).keys() >= {"eps"}
    _compare(ours, theirs, [RNG.standard_normal(s) for s in shapes], device, (0, 1))
    a, b = (ag.tensor(RNG.standard_normal(s), device=device, requires_grad=True) for s in shapes)
    assert ag.gradcheck(ours, (a, b))


def test_identity_ignores_its_arguments(device):
    m = nn.Identity(3, 4, foo="bar")
    x = ag.tensor(RNG.standard_normal(3), device=device)
    assert m(x) is x and list(m.state_dict()) == []


def test_parameter_list(device):
    torch = _torch()
    ours = nn.ParameterList([ag.ones(2, device="cpu"), nn.Parameter(ag.zeros(2, 3, dtype=ag.float64, device="cpu"))])
    theirs = torch.nn.ParameterList([torch.ones(2), torch.nn.Parameter(torch.zeros(2, 3, dtype=torch.float64))])
    assert repr(ours).replace("autograd.", "torch.") == repr(theirs)
    assert isinstance(ours[0], nn.Parameter) and len(ours) == 2 and len(list(ours.parameters())) == 2
    ours.append(ag.ones(1))
    theirs.append(torch.ones(1))
    _sync(ours, theirs, device)
    assert [tuple(p.shape) for p in ours] == [(2,), (2, 3), (1,)]
    assert isinstance(ours[1:], nn.ParameterList) and len(ours[1:]) == 2
    ours[0] = ag.zeros(5)
    assert tuple(ours[0].shape) == (5,) and tuple(ours[-1].shape) == (1,)
    ours += [ag.ones(4)]
    assert list(ours.state_dict()) == ["0", "1", "2", "3"]
    s = nn.Sequential()
    s.params = nn.ParameterList([ag.ones(2)])
    assert list(s.state_dict()) == ["params.0"]


def test_parameter_dict(device):
    torch = _torch()
    ours = nn.ParameterDict({"b": ag.ones(2), "a": nn.Parameter(ag.zeros(3))})
    theirs = torch.nn.ParameterDict({"b": torch.ones(2), "a": torch.nn.Parameter(torch.zeros(3))})
    assert list(ours.keys()) == list(theirs.keys()) == ["a", "b"]            # a plain dict is sorted
    one = nn.ParameterDict({"w": ag.ones(2, 3, dtype=ag.float64, device="cpu")})
    assert repr(one).replace("autograd.", "torch.") == repr(torch.nn.ParameterDict({"w": torch.ones(2, 3).double()}))
    assert repr(nn.ParameterDict({"a": ag.ones(1, device="cpu"), "b": ag.ones(1, device="cpu")})).replace(
        "autograd.", "torch.") == repr(torch.nn.ParameterDict({"a": torch.ones(1), "b": torch.ones(1)}))
    _sync(ours, theirs, device)
    ours["c"] = ag.ones(1)
    assert isinstance(ours["c"], nn.Parameter) and "c" in ours and len(ours) == 3
    assert list(ours.state_dict()) == ["a", "b", "c"]
    assert tuple(ours.pop("a").shape) == (3,) and list(ours) == ["b", "c"]
    ours.update([("d", ag.ones(2)), ("e", ag.ones(2))])
    assert list(ours) == ["b", "c", "d", "e"] and ours.get("zz") is None
    with pytest.raises(KeyError):
        ours["zz"]
    del ours["b"]
    assert list(dict(ours.named_parameters())) == ["c", "d", "e"]
