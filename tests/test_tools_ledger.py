"""The saved-memory ledger and profile_memory, against byte counts done by hand from the `save=`
declarations in autograd/ops/ (matmul: both inputs; relu, tanh, exp, sqrt: the output;
sin, pow by a number: the input; add, sub, sum, reshape, getitem: nothing)."""
import inspect

import pytest

import autograd as ag

pytestmark = pytest.mark.usefixtures("source_lines")  # these tests check the recorded file:line


def mlp(dtype=ag.float32):
    ag.manual_seed(0)
    x = ag.randn(4, 3, dtype=dtype)
    t = ag.randn(4, 2, dtype=dtype)
    W1 = ag.randn(3, 5, dtype=dtype, requires_grad=True)
    b1 = ag.zeros(5, dtype=dtype, requires_grad=True)
    W2 = ag.randn(5, 2, dtype=dtype, requires_grad=True)
    b2 = ag.zeros(2, dtype=dtype, requires_grad=True)
    line = inspect.currentframe().f_lineno + 1
    h = (x @ W1 + b1).relu()
    out = h @ W2 + b2
    loss = ((out - t) ** 2).sum()
    return loss, line, (W1, b1, W2, b2)


# hand count, float32 (4 bytes): x@W1 keeps x (4*3) and W1 (3*5); relu keeps h (4*5); h@W2 keeps h
# (already counted) and W2 (5*2); **2 keeps out - t (4*2); the adds, the sub and sum keep nothing
HAND = {"matmul": 4 * (12 + 15) + 4 * 10, "relu": 4 * 20, "pow_scalar": 4 * 8}


@pytest.mark.parametrize("dtype,scale", [(ag.float32, 1), (ag.float64, 2)])
def test_mlp_ledger_matches_hand_count(dtype, scale):
    loss, line, _ = mlp(dtype)
    r = ag.tape_report(loss)
    assert r.total_bytes == scale * sum(HAND.values()) == scale * 260
    assert {k: v for k, v in r.by_op.items() if v} == {k: scale * v for k, v in HAND.items()}
    assert [row.op for row in r.rows] == ["matmul", "add", "relu", "matmul", "add", "sub", "pow_scalar", "sum"]
    by_seq = sorted(r.rows, key=lambda row: row.seq)
    assert by_seq == r.rows
    m1, _, relu, m2 = r.rows[:4]
    assert (m1.saved_bytes, m1.new_bytes) == (scale * 108, scale * 108)
    assert (m2.saved_bytes, m2.new_bytes) == (scale * 120, scale * 40)     # h is relu's, counted once
    assert m1.shape == (4, 5) and m1.dtype == dtype.name and r.rows[-1].shape == ()
    assert [row.source for row in r.rows[:3]] == [(__file__, line)] * 3
    assert r.rows[3].source == (__file__, line + 1)
    assert r.rows[-1].source == (__file__, line + 2)


def test_table_is_printable_and_has_every_row():
    loss, line, _ = mlp()
    r = ag.tape_report(loss)
    text = str(r)
    assert text == r.table()
    lines = text.splitlines()
    assert "total saved for backward: 260 bytes" in text
    for row in r.rows:
        assert any(l.split()[:2] == [str(row.seq), row.op] for l in lines)
    assert f"test_tools_ledger.py:{line}" in text


def test_zero_under_no_grad_and_for_leaves():
    with ag.no_grad():
        loss, _, _ = mlp()
    r = ag.tape_report(loss)
    assert r.total_bytes == 0 and r.rows == [] and r.by_op == {}
    w = ag.ones(3, requires_grad=True)
    assert ag.tape_report(w).total_bytes == 0


def test_views_of_one_buffer_count_once():
    w = ag.randn(4, 6, requires_grad=True)
    a = w.exp()                       # keeps a: 96 bytes
    c = a.reshape(6, 4).sin()         # keeps a view of a: nothing new
    d = a.permute(1, 0)[1:].cos()     # a view of a view of a: nothing new
    assert ag.tape_report([c, d]).total_bytes == 96
    r = ag.tape_report(c)
    assert [(row.op, row.saved_bytes, row.new_bytes) for row in r.rows] == [
        ("exp", 96, 96), ("reshape", 0, 0), ("sin", 96, 0)]


def test_saved_slice_keeps_its_whole_buffer():
    w = ag.randn(4, 6, requires_grad=True)
    s = (w * 2)[0:1].sin()            # mul keeps the 0-d scalar 2 (4; w's gradient needs only it); sin keeps a slice of w*2
    r = ag.tape_report(s)
    assert r.by_op == {"mul": 4, "sin": 96, "getitem": 0}


def test_index_arrays_kept_by_getitem_are_counted():
    w = ag.randn(10, requires_grad=True)
    idx = ag.tensor([1, 3, 3, 7])     # int64: 32 bytes, kept as getitem's parameter
    r = ag.tape_report(w[idx].sum())
    assert r.by_op["getitem"] == 32


def test_freed_rows_after_backward_with_and_without_retain():
    loss, _, _ = mlp()
    loss.backward(retain_graph=True)
    assert ag.tape_report(loss).total_bytes == 260
    loss.backward()
    r = ag.tape_report(loss)
    assert r.total_bytes == 0 and all(row.freed for row in r.rows)


def test_profile_peak_equals_ledger_and_falls_to_zero():
    with ag.profile_memory() as prof:
        loss, _, params = mlp()
        total = ag.tape_report(loss).total_bytes
        assert prof.current == total == 260
        loss.backward()
    assert prof.peak == 260
    assert prof.current == 0
    tl = prof.timeline
    lives = [e.live_bytes for e in tl]
    saves = [e for e in tl if e.kind == "save"]
    frees = [e for e in tl if e.kind == "free"]
    assert tl[:len(saves)] == saves and tl[len(saves):] == frees     # forward, then backward
    assert lives[len(saves) - 1] == 260 and lives[-1] == 0
    assert lives[:len(saves)] == sorted(lives[:len(saves)])
    assert lives[len(saves):] == sorted(lives[len(saves):], reverse=True)
    assert sum(e.delta for e in tl) == 0
    assert [e.op for e in saves] == ["matmul", "relu", "matmul", "pow_scalar"]
    assert [e.delta for e in saves] == [108, 80, 40, 32]
    assert [e.op for e in frees] == ["pow_scalar", "matmul", "relu", "matmul"]
    assert [e.time for e in tl] == sorted(e.time for e in tl)


def test_profile_counts_graph_dropped_without_backward():
    with ag.profile_memory() as prof:
        loss, _, _ = mlp()
        assert prof.current == 260
        del loss
        assert prof.current == 0
    assert prof.peak == 260 and prof.timeline[-1].kind == "collect"


def test_profile_is_silent_under_no_grad_and_when_off():
    from autograd import graph
    with ag.profile_memory() as prof, ag.no_grad():
        mlp()
    assert prof.peak == 0 and prof.timeline == []
    assert graph.PROFILER is None
    with ag.profile_memory() as outer:
        with ag.profile_memory() as inner:
            assert graph.PROFILER is inner
        assert graph.PROFILER is outer
    assert graph.PROFILER is None


def test_custom_function_saves_are_profiled():
    class Square(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ag.randn(5, requires_grad=True)
    with ag.profile_memory() as prof:
        y = Square.apply(x)
        assert ag.tape_report(y).by_op == {"Square": 20}
        y.sum().backward()
    assert prof.peak == 20 and prof.current == 0
