"""nn.RNN / LSTM / GRU, their cells and nn.utils.rnn, checked against torch 2.13 on the test's backend:
forward values and exact shapes, gradients of the input, the initial states and every parameter
(torch's weights copied into ours), state_dict both ways, init distribution, repr, errors, packed
sequences, and gradcheck in float64 on small sizes."""
import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from helpers import assert_same_as_torch, load_torch_weights, npy

torch = pytest.importorskip("torch", reason="torch is the oracle of the recurrent layers")
R = nn.utils.rnn
TR = torch.nn.utils.rnn
RNG = np.random.default_rng(12)


_copy = load_torch_weights


def _same(a, b, rtol=1e-9, atol=1e-11):
    assert_same_as_torch(a, b, rtol, atol)


def _pair(name, device, *args, dtype="float64", **kw):
    t = getattr(torch.nn, name)(*args, dtype=getattr(torch, dtype), **kw)
    o = getattr(nn, name)(*args, dtype=getattr(ag, dtype), device=device, **kw)
    _copy(o, t, device)
    return o, t


def _leaf(a, device):
    return ag.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)


def _states(name, hidden):
    """Flat list of the final states of a module's output."""
    return list(hidden) if name == "LSTM" else [hidden]


CONFIGS = [("RNN", dict()), ("RNN", dict(nonlinearity="relu", num_layers=2)),
           ("RNN", dict(bidirectional=True, batch_first=True)),
           ("LSTM", dict()), ("LSTM", dict(num_layers=2, bidirectional=True)), ("LSTM", dict(bias=False)),
           ("LSTM", dict(proj_size=2)), ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True, batch_first=True)),
           ("GRU", dict()), ("GRU", dict(num_layers=3, batch_first=True)), ("GRU", dict(bidirectional=True, bias=False))]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{','.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CONFIGS])
@pytest.mark.parametrize("initial", [False, True], ids=["zero-state", "given-state"])
def test_recurrent_matches_torch(name, kw, initial, device):
    o, t = _pair(name, device, 3, 4, **kw)
    steps, batch = 5, 2
    shape = (batch, steps, 3) if kw.get("batch_first") else (steps, batch, 3)
    ox, tx = _leaf(RNG.standard_normal(shape), device)
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    oh = th = None
    leaves = [(ox, tx)]
    if initial:
        hsize = kw.get("proj_size") or 4
        h = _leaf(RNG.standard_normal((layers * dirs, batch, hsize)), device)
        leaves.append(h)
        if name == "LSTM":
            c = _leaf(RNG.standard_normal((layers * dirs, batch, 4)), device)
            leaves.append(c)
            oh, th = (h[0], c[0]), (h[1], c[1])
        else:
            oh, th = h
    oy, ohn = o(ox, oh)
    ty, thn = t(tx, th)
    _same(oy, ty)
    for a, b in zip(_states(name, ohn), _states(name, thn)):
        _same(a, b)
    # one weighted backward through the output and every final state
    tw = [torch.tensor(RNG.standard_normal(tuple(v.shape))) for v in [ty, *_states(name, thn)]]
    torch.autograd.backward([ty, *_states(name, thn)], tw)
    ag.backward([oy, *_states(name, ohn)], [ag.tensor(w.numpy(), device=device) for w in tw])
    for a, b in leaves:
        _same(a.grad, b.grad)
    for pname, p in t.named_parameters():
        _same(getattr(o, pname).grad, p.grad)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(name, device):
    o, t = _pair(name, device, 3, 4, num_layers=2)
    x = RNG.standard_normal((6, 3))
    oy, oh = o(ag.tensor(x, device=device))
    ty, th = t(torch.tensor(x))
    _same(oy, ty)
    for a, b in zip(_states(name, oh), _states(name, th)):
        _same(a, b)
    h0 = RNG.standard_normal((2, 4))
    state_o = (ag.tensor(h0, device=device),) * 2 if name == "LSTM" else ag.tensor(h0, device=device)
    state_t = (torch.tensor(h0),) * 2 if name == "LSTM" else torch.tensor(h0)
    _same(o(ag.tensor(x, device=device), state_o)[0], t(torch.tensor(x), state_t)[0])
    with pytest.raises(RuntimeError, match="unbatched 2-D input, hx"):
        o(ag.tensor(x, device=device), (ag.zeros(2, 1, 4),) * 2 if name == "LSTM" else ag.zeros(2, 1, 4))


@pytest.mark.parametrize("name,kw", [("RNN", dict(num_layers=2, bidirectional=True)),
                                     ("LSTM", dict(num_layers=2, proj_size=2, bidirectional=True)),
                                     ("GRU", dict(num_layers=2, bias=False))])
def test_state_dict_both_ways(name, kw, device):
    o = getattr(nn, name)(3, 4, device=device, **kw)
    t = getattr(torch.nn, name)(3, 4, **kw)
    assert list(o.state_dict()) == list(t.state_dict())
    assert [n for n, _ in o.named_parameters()] == [n for n, _ in t.named_parameters()]
    for (n, p), (_, q) in zip(o.named_parameters(), t.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape), n
    _copy(o, t, device)                                              # torch -> ours, strict
    t2 = getattr(torch.nn, name)(3, 4, **kw)
    t2.load_state_dict({k: torch.tensor(npy(v)) for k, v in o.state_dict().items()}, strict=True)   # ours -> torch
    x = RNG.standard_normal((4, 2, 3)).astype(np.float32)
    ty, _ = t2(torch.tensor(x))
    oy, _ = o(ag.tensor(x, device=device))
    _same(oy, ty, rtol=1e-5, atol=1e-6)
    assert o.all_weights[0][0] is o.weight_ih_l0 and len(o.all_weights) == len(t.all_weights)


@pytest.mark.parametrize("name,kw", [("RNN", dict()), ("LSTM", dict(proj_size=20)), ("GRU", dict(bidirectional=True)),
                                     ("RNNCell", dict()), ("LSTMCell", dict()), ("GRUCell", dict())])
def test_init_is_uniform_in_torch_bounds(name, kw, device):
    ag.manual_seed(1)
    m = getattr(nn, name)(30, 64, device=device, **kw)
    bound = 1 / math.sqrt(64)
    every = np.concatenate([npy(p).ravel() for p in m.parameters()])
    assert every.dtype == np.float32
    assert np.abs(every).max() <= bound and np.abs(every).max() > 0.95 * bound
    assert abs(every.std() - bound / math.sqrt(3)) < 0.03 * bound           # U(-b, b) has std b / sqrt(3)
    assert abs(every.mean()) < 0.03 * bound


def test_repr_and_attributes_match_torch():
    cases = [("RNN", (3, 4), dict(nonlinearity="relu", num_layers=2, dropout=0.5, batch_first=True)),
             ("LSTM", (3, 4), dict(proj_size=2, bias=False, bidirectional=True)), ("GRU", (5, 6), dict()),
             ("RNNCell", (3, 4), dict(bias=False, nonlinearity="relu")), ("LSTMCell", (3, 4), dict()),
             ("GRUCell", (3, 4), dict(bias=False))]
    for name, args, kw in cases:
        o, t = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(o) == repr(t)
        for attr in ("input_size", "hidden_size", "bias", "num_layers", "batch_first", "dropout", "bidirectional",
                     "proj_size", "mode", "nonlinearity", "_flat_weights_names"):
            if hasattr(t, attr):
                assert getattr(o, attr) == getattr(t, attr), (name, attr)


def test_constructor_errors_and_warning():
    for kw, exc in [(dict(dropout=1.5), ValueError), (dict(dropout=True), ValueError), (dict(num_layers=0), ValueError),
                    (dict(proj_size=4), ValueError), (dict(proj_size=-1), ValueError), (dict(bias=1), TypeError),
                    (dict(batch_first=None), TypeError)]:
        with pytest.raises(exc):
            torch.nn.LSTM(3, 4, **kw)
        with pytest.raises(exc):
            nn.LSTM(3, 4, **kw)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match="input_size must be greater than zero"):
        nn.GRU(0, 3)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.3)


def test_forward_errors(device):
    m = nn.LSTM(3, 4, device=device)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        m(ag.zeros(2, 1, 5, device=device))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(ag.zeros(2, 1, 3, 1, device=device))
    with pytest.raises(ValueError, match="RNN input dtype \\(float64\\) does not match weight dtype \\(float32\\)"):
        m(ag.zeros(2, 1, 3, dtype=ag.float64, device=device))
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 2, 4\\), got \\[1, 3, 4\\]"):
        m(ag.zeros(5, 2, 3, device=device), (ag.zeros(1, 3, 4, device=device), ag.zeros(1, 2, 4, device=device)))
    with pytest.raises(RuntimeError, match="Expected hidden\\[1\\] size"):
        m(ag.zeros(5, 2, 3, device=device), (ag.zeros(1, 2, 4, device=device), ag.zeros(1, 2, 5, device=device)))
    with pytest.raises(RuntimeError, match="batched 3-D input, hx and cx should also be 3-D"):
        m(ag.zeros(5, 2, 3, device=device), (ag.zeros(2, 4, device=device), ag.zeros(2, 4, device=device)))
    g = nn.GRU(3, 4, device=device)
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 2, 4\\), got \\[1, 3, 4\\]"):
        g(ag.zeros(5, 2, 3, device=device), ag.zeros(1, 3, 4, device=device))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        g(ag.zeros(0, 2, 3, device=device))
    with pytest.raises(RuntimeError, match="dtype"):
        g(ag.zeros(5, 2, 3, device=device), ag.zeros(1, 2, 4, dtype=ag.float64, device=device))


def test_empty_batch(device):
    o, t = _pair("LSTM", device, 3, 4, bidirectional=True)
    oy, (oh, oc) = o(ag.zeros(5, 0, 3, dtype=ag.float64, device=device))
    ty, (th, tc) = t(torch.zeros(5, 0, 3, dtype=torch.float64))
    _same(oy, ty)
    _same(oh, th)
    _same(oc, tc)


def test_dropout_between_layers_train_and_eval(device):
    o, t = _pair("GRU", device, 3, 4, num_layers=2, dropout=1.0)    # p=1: layer 2 sees zeros (deterministic)
    x = RNG.standard_normal((4, 2, 3))
    for train in (True, False):
        o.train(train)
        t.train(train)
        oy, oh = o(ag.tensor(x, device=device))
        ty, th = t(torch.tensor(x))
        _same(oy, ty)
        _same(oh, th)
    o.train()
    o.dropout = 0.5
    a, b = o(ag.tensor(x, device=device))[0], o(ag.tensor(x, device=device))[0]
    assert not np.allclose(npy(a), npy(b))                      # fresh masks each call in training
    o.eval()
    np.testing.assert_array_equal(npy(o(ag.tensor(x, device=device))[0]), npy(o(ag.tensor(x, device=device))[0]))


# --- cells --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                     ("LSTMCell", dict()), ("LSTMCell", dict(bias=False)), ("GRUCell", dict())])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(name, kw, batched, device):
    o, t = _pair(name, device, 3, 4, **kw)
    xs = (2, 3) if batched else (3,)
    hs = (2, 4) if batched else (4,)
    ox, tx = _leaf(RNG.standard_normal(xs), device)
    lstm = name == "LSTMCell"
    oh, th = _leaf(RNG.standard_normal(hs), device)
    oc, tc = _leaf(RNG.standard_normal(hs), device)
    for with_state in (False, True):
        ostate = ((oh, oc) if lstm else oh) if with_state else None
        tstate = ((th, tc) if lstm else th) if with_state else None
        oo, to = o(ox, ostate), t(tx, tstate)
        oo, to = (list(oo), list(to)) if lstm else ([oo], [to])
        for a, b in zip(oo, to):
            _same(a, b)
        tw = [torch.tensor(RNG.standard_normal(tuple(v.shape))) for v in to]
        torch.autograd.backward(to, tw)
        ag.backward(oo, [ag.tensor(w.numpy(), device=device) for w in tw])
    for a, b in [(ox, tx), (oh, th)] + ([(oc, tc)] if lstm else []):
        _same(a.grad, b.grad)
    for pname, p in t.named_parameters():
        _same(getattr(o, pname).grad, p.grad)
    assert list(o.state_dict()) == list(t.state_dict())


def test_cell_errors(device):
    c = nn.GRUCell(3, 4, device=device)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        c(ag.zeros(2, 5, device=device))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        c(ag.zeros(2, 3, device=device), ag.zeros(3, 4, device=device))
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 5, expected 4"):
        c(ag.zeros(2, 3, device=device), ag.zeros(2, 5, device=device))
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        c(ag.zeros(1, 2, 3, device=device))
    with pytest.raises(ValueError, match="Expected hx\\[1\\] to be 1D or 2D"):
        nn.LSTMCell(3, 4, device=device)(ag.zeros(2, 3, device=device), (ag.zeros(2, 4), ag.zeros(1, 2, 4)))


# --- gradcheck in float64 -------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", [("RNN", dict(bidirectional=True)), ("LSTM", dict(proj_size=1, num_layers=2)),
                                     ("GRU", dict(bidirectional=True))])
def test_gradcheck_recurrent(name, kw, device):
    m = getattr(nn, name)(2, 2, dtype=ag.float64, device=device, **kw)
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    x = ag.tensor(RNG.standard_normal((3, 2, 2)), device=device, requires_grad=True)
    h = ag.tensor(RNG.standard_normal((layers * dirs, 2, kw.get("proj_size") or 2)), device=device, requires_grad=True)
    if name == "LSTM":
        c = ag.tensor(RNG.standard_normal((layers * dirs, 2, 2)), device=device, requires_grad=True)
        f = (lambda x, h, c: (lambda y, s: (y, *s))(*m(x, (h, c))))
        assert ag.gradcheck(f, (x, h, c))
    else:
        assert ag.gradcheck(lambda x, h: m(x, h), (x, h))
    names = ["weight_ih_l0", "weight_hh_l0", "bias_hh_l0"] + (["weight_hr_l0"] if name == "LSTM" else [])

    def with_weights(*ws):                   # the module reading the tensors gradcheck perturbs
        saved = dict(m._parameters)
        m._parameters.update(zip(names, ws))
        try:
            return m(x.detach())[0]
        finally:
            m._parameters.update(saved)
    assert ag.gradcheck(with_weights, tuple(getattr(m, n).detach().requires_grad_() for n in names))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_gradcheck_cells(name, device):
    m = getattr(nn, name)(3, 2, dtype=ag.float64, device=device)
    x = ag.tensor(RNG.standard_normal((2, 3)), device=device, requires_grad=True)
    h = ag.tensor(RNG.standard_normal((2, 2)), device=device, requires_grad=True)
    if name == "LSTMCell":
        c = ag.tensor(RNG.standard_normal((2, 2)), device=device, requires_grad=True)
        assert ag.gradcheck(lambda x, h, c: m(x, (h, c)), (x, h, c))
        assert ag.gradgradcheck(lambda x, h, c: m(x, (h, c)), (x, h, c))
    else:
        assert ag.gradcheck(lambda x, h: m(x, h), (x, h))
        assert ag.gradgradcheck(lambda x, h: m(x, h), (x, h))


# --- nn.utils.rnn and PackedSequence input ----------------------------------------------------------

LENS = [3, 5, 1, 5]


def _seqs(device, trail=(3,)):
    xs = [RNG.standard_normal((n, *trail)) for n in LENS]
    return [ag.tensor(x, device=device, requires_grad=True) for x in xs], [torch.tensor(x, requires_grad=True) for x in xs]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence(side, batch_first, device):
    oxs, txs = _seqs(device, (2, 3))
    o, t = R.pad_sequence(oxs, batch_first, -2.5, side), TR.pad_sequence(txs, batch_first, -2.5, side)
    _same(o, t)
    w = RNG.standard_normal(tuple(t.shape))
    (t * torch.tensor(w)).sum().backward()
    (o * ag.tensor(w, device=device)).sum().backward()
    for a, b in zip(oxs, txs):
        _same(a.grad, b.grad)
    ints = [ag.tensor([1, 2], device=device), ag.tensor([3], device=device)]
    _same(R.pad_sequence(ints, padding_value=7), TR.pad_sequence([torch.tensor([1, 2]), torch.tensor([3])], padding_value=7))
    with pytest.raises(ValueError, match="padding_side"):
        R.pad_sequence(ints, padding_side="middle")


@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [5, 3, 3, 1]), (False, [2, 5, 3, 5])])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_packed(enforce_sorted, lengths, batch_first, device):
    x = RNG.standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    ox, tx = _leaf(x, device)
    o = R.pack_padded_sequence(ox, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    t = TR.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(o, R.PackedSequence) and isinstance(o, tuple)
    _same(o.data, t.data)
    _same(o.batch_sizes, t.batch_sizes)
    assert o.batch_sizes.device == ag.device("cpu")
    for a, b in [(o.sorted_indices, t.sorted_indices), (o.unsorted_indices, t.unsorted_indices)]:
        assert (a is None) == (b is None)
        if a is not None:
            _same(a, b)
    for total in (None, 7):
        op, ol = R.pad_packed_sequence(o, batch_first, 0.5, total)
        tp, tl = TR.pad_packed_sequence(t, batch_first, 0.5, total)
        _same(op, tp)
        _same(ol, tl)
    w = RNG.standard_normal(tuple(tp.shape))
    (tp * torch.tensor(w)).sum().backward()
    (op * ag.tensor(w, device=device)).sum().backward()
    _same(ox.grad, tx.grad)
    seqs = R.unpack_sequence(o)
    for s, n, i in zip(seqs, lengths, range(4)):
        _same(s, (tx[i, :n] if batch_first else tx[:n, i]))


def test_pack_errors(device):
    x = ag.zeros(3, 3, device=device)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [3, 3, 0])
    with pytest.raises(RuntimeError, match="Expected `len\\(lengths\\)` to be equal to batch_size"):
        R.pack_padded_sequence(x, [3, 2])
    p = R.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match="total_length"):
        R.pad_packed_sequence(p, total_length=2)


def test_packed_sequence_methods(device):
    p = R.pack_sequence([ag.ones(3, 2, device=device), ag.ones(1, 2, device=device)])
    assert p.double().data.dtype is ag.float64 and p.double().batch_sizes is p.batch_sizes
    assert p.to(ag.float32) is p
    assert R.invert_permutation(None) is None
    perm = ag.tensor([2, 0, 3, 1], device=device)
    _same(R.invert_permutation(perm), TR.invert_permutation(torch.tensor([2, 0, 3, 1])))


@pytest.mark.parametrize("name,kw", [("RNN", dict(num_layers=2)), ("LSTM", dict(bidirectional=True, proj_size=2)),
                                     ("GRU", dict(num_layers=2, bidirectional=True))])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_modules_on_packed_sequences(name, kw, enforce_sorted, device):
    o, t = _pair(name, device, 3, 4, **kw)
    oxs, txs = _seqs(device)
    if enforce_sorted:
        order = sorted(range(4), key=lambda i: -LENS[i])
        oxs, txs = [oxs[i] for i in order], [txs[i] for i in order]
    op, tp = R.pack_sequence(oxs, enforce_sorted), TR.pack_sequence(txs, enforce_sorted)
    dirs = 2 if kw.get("bidirectional") else 1
    n = kw.get("num_layers", 1) * dirs
    oh, th = _leaf(RNG.standard_normal((n, 4, kw.get("proj_size") or 4)), device)
    oc, tc = _leaf(RNG.standard_normal((n, 4, 4)), device)
    lstm = name == "LSTM"
    oy, ohn = o(op, (oh, oc) if lstm else oh)
    ty, thn = t(tp, (th, tc) if lstm else th)
    assert isinstance(oy, R.PackedSequence)
    _same(oy.data, ty.data)
    _same(oy.batch_sizes, ty.batch_sizes)
    outs_o, outs_t = [oy.data, *_states(name, ohn)], [ty.data, *_states(name, thn)]
    for a, b in zip(outs_o[1:], outs_t[1:]):
        _same(a, b)
    tw = [torch.tensor(RNG.standard_normal(tuple(v.shape))) for v in outs_t]
    torch.autograd.backward(outs_t, tw)
    ag.backward(outs_o, [ag.tensor(w.numpy(), device=device) for w in tw])
    for a, b in list(zip(oxs, txs)) + [(oh, th)] + ([(oc, tc)] if lstm else []):
        _same(a.grad, b.grad)
    for pname, p in t.named_parameters():
        _same(getattr(o, pname).grad, p.grad)
    # no initial state: zeros, as torch
    _same(o(R.pack_sequence([x.detach() for x in oxs], enforce_sorted))[0].data,
          t(TR.pack_sequence([x.detach() for x in txs], enforce_sorted))[0].data)


def test_gradcheck_packed(device):
    m = nn.GRU(2, 2, bidirectional=True, dtype=ag.float64, device=device)
    xs = [ag.tensor(RNG.standard_normal((n, 2)), device=device, requires_grad=True) for n in (1, 3, 2)]

    def f(a, b, c):
        out, h = m(R.pack_sequence([a, b, c], enforce_sorted=False))
        return R.pad_packed_sequence(out)[0], h
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ag.gradcheck(f, tuple(xs))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_gradgradcheck_recurrent(name, device):
    """Double backward through the time loop (the per-step split's backward is a differentiable cat)."""
    m = getattr(nn, name)(2, 2, bidirectional=True, dtype=ag.float64, device=device)
    x = ag.tensor(RNG.standard_normal((2, 1, 2)), device=device, requires_grad=True)
    assert ag.gradgradcheck(lambda x: m(x)[0], (x,))


def test_signatures_match_torch():
    import inspect

    def params(fn):
        return [(p.name, p.default) for p in list(inspect.signature(fn).parameters.values())[1:]
                if p.kind is not p.VAR_KEYWORD]
    for name in ("RNNCell", "LSTMCell", "GRUCell"):
        assert params(getattr(nn, name).__init__) == params(getattr(torch.nn, name).__init__)
        assert [n for n, _ in params(getattr(nn, name).forward)] == ["input", "hx"]
    # torch's RNN/LSTM/GRU take *args, **kwargs; their documented overloads:
    common = [("input_size", inspect.Parameter.empty), ("hidden_size", inspect.Parameter.empty), ("num_layers", 1)]
    tail = [("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)]
    dev = [("device", None), ("dtype", None)]
    assert params(nn.RNN.__init__) == common + [("nonlinearity", "tanh")] + tail + dev
    assert params(nn.LSTM.__init__) == common + tail + [("proj_size", 0)] + dev
    assert params(nn.GRU.__init__) == common + tail + dev
    for name in ("RNN", "LSTM", "GRU"):
        assert params(getattr(nn, name).forward) == params(getattr(torch.nn, name).forward)
