"""Activation checkpointing: the same gradients as the plain computation, fewer saved bytes."""
import numpy as np
import pytest

import autograd as ag

pytestmark = pytest.mark.usefixtures("source_lines")  # these tests check the recorded file:line
from tests.helpers import npy


def make():
    ag.manual_seed(0)
    x = ag.randn(4, 3, dtype=ag.float64)
    W1 = ag.randn(3, 5, dtype=ag.float64, requires_grad=True)
    W2 = ag.randn(5, 5, dtype=ag.float64, requires_grad=True)
    W3 = ag.randn(5, 1, dtype=ag.float64, requires_grad=True)
    return x, W1, W2, W3


def run(ck, x, W1, W2, W3, seg):
    for w in (W1, W2, W3):
        w.grad = None
    h0 = (x @ W1).relu()
    h2 = ag.checkpoint(seg, h0) if ck else seg(h0)
    y = (h2 @ W3).sum()
    r = ag.tape_report(y)
    y.backward()
    return r, [npy(w.grad) for w in (W1, W2, W3)]


def test_same_gradients_and_hand_counted_saving():
    x, W1, W2, W3 = make()
    seg = lambda h: (h @ W2).tanh().sin()                                   # noqa: E731
    r0, g0 = run(False, x, W1, W2, W3, seg)
    r1, g1 = run(True, x, W1, W2, W3, seg)
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)            # the same ops in the same order: bit-equal
    # float64. plain: x@W1 keeps x, W1 (12+15); relu h0 (20); h0@W2 adds W2 (25); tanh its output (20);
    # sin keeps tanh's output (counted); h2@W3 keeps h2 (20) and W3 (5)
    assert r0.total_bytes == 8 * (27 + 20 + 25 + 20 + 20 + 5)
    # checkpointed: the segment keeps only h0 (already relu's): W2 and tanh's output are gone
    assert r1.total_bytes == 8 * (27 + 20 + 20 + 5)
    assert [row.op for row in r1.rows] == ["matmul", "relu", "Checkpoint", "matmul", "sum"]
    assert r1.rows[2].saved_bytes == 8 * 20 and r1.rows[2].new_bytes == 0


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tck
    x, W1, W2, W3 = make()
    seg = lambda h: ((h @ W2).tanh() * h).exp()                              # noqa: E731
    _, g = run(True, x, W1, W2, W3, seg)
    tx, tW1, tW2, tW3 = (torch.tensor(npy(t), requires_grad=t.requires_grad) for t in (x, W1, W2, W3))
    tseg = lambda h: ((h @ tW2).tanh() * h).exp()                            # noqa: E731
    (tck(tseg, (tx @ tW1).relu(), use_reentrant=False) @ tW3).sum().backward()
    for a, b in zip(g, (tW1.grad, tW2.grad, tW3.grad)):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12)


def dropout_seg(W2):
    def seg(h):
        h = (h @ W2).tanh()
        keep = (ag.rand(*h.shape, dtype=h.dtype) > 0.5).to(h.dtype)
        return h * keep * 2
    return seg


def test_random_segment_replays_the_same_mask():
    x, W1, W2, W3 = make()
    ag.manual_seed(7)
    _, g0 = run(False, x, W1, W2, W3, dropout_seg(W2))
    after_plain = ag.rand(1).item()
    ag.manual_seed(7)
    _, g1 = run(True, x, W1, W2, W3, dropout_seg(W2))
    after_ck = ag.rand(1).item()
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    assert after_plain == after_ck         # the replay restored the generator where it was


def test_without_preserved_rng_the_mask_differs():
    # shows the test above can fail: the replay draws a fresh mask, so W2's gradient changes
    x, W1, W2, W3 = make()
    ag.manual_seed(7)
    _, g0 = run(False, x, W1, W2, W3, dropout_seg(W2))
    ag.manual_seed(7)
    seg = dropout_seg(W2)
    for w in (W1, W2, W3):
        w.grad = None
    h0 = (x @ W1).relu()
    (ag.checkpoint(seg, h0, preserve_rng_state=False) @ W3).sum().backward()
    assert not np.array_equal(g0[1], npy(W2.grad))


def test_multiple_outputs_kwargs_nontensor_args_and_leaf_input():
    x, W1, W2, W3 = make()
    x.requires_grad_()

    def seg(a, k, b, scale=1.0):
        return (a * b).sin() * scale * k, (a @ W2).exp()

    def total(ck):
        for t in (x, W1, W2):
            t.grad = None
        a = x @ W1
        b = a.cos()
        u, v = ag.checkpoint(seg, a, 3, b, scale=0.5) if ck else seg(a, 3, b, scale=0.5)
        (u.sum() + (v * v).sum()).backward()
        return [npy(t.grad) for t in (x, W1, W2)]

    for p, c in zip(total(False), total(True)):
        np.testing.assert_allclose(p, c, rtol=1e-12)


def test_autograd_grad_and_leaf_hooks_fire_once():
    x, W1, W2, W3 = make()
    calls = []
    W2.register_hook(lambda g: calls.append(1))
    seg = lambda h: (h @ W2).tanh() + (h @ W2)                              # W2 used twice inside
    h0 = (x @ W1).relu()
    y = (ag.checkpoint(seg, h0) @ W3).sum()
    gW2, gW1 = ag.grad(y, [W2, W1])
    assert calls == [1]
    assert W2.grad is None and W1.grad is None             # autograd.grad touches no .grad
    h0 = (x @ W1).relu()
    y = (seg(h0) @ W3).sum()
    eW2, eW1 = ag.grad(y, [W2, W1])
    np.testing.assert_allclose(npy(gW2), npy(eW2), rtol=1e-12)
    np.testing.assert_allclose(npy(gW1), npy(eW1), rtol=1e-12)


def test_input_modified_in_place_after_checkpoint_is_caught():
    x, W1, W2, W3 = make()
    h0 = x @ W1
    y = ag.checkpoint(lambda h: (h @ W2).sin(), h0)
    h0.add_(1)
    with pytest.raises(RuntimeError, match=r"saved by op 'Checkpoint' .* is at version 1; expected version 0"):
        y.sum().backward()


def test_under_no_grad_it_is_a_plain_call():
    x, W1, W2, W3 = make()
    with ag.no_grad():
        y = ag.checkpoint(lambda h: h @ W2, x @ W1)
    assert y.grad_fn is None and not y.requires_grad


def test_second_order_through_parameters():
    x, W1, W2, W3 = make()
    seg = lambda h: (h @ W2).tanh()                                          # noqa: E731
    outs = []
    for ck in (False, True):
        h0 = (x @ W1).relu()
        y = ((ag.checkpoint(seg, h0) if ck else seg(h0)) @ W3).sum()
        (g,) = ag.grad(y, W2, create_graph=True)
        (gg,) = ag.grad((g * g).sum(), W2)
        outs.append(npy(gg))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10)
