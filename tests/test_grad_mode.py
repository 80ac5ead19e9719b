"""Grad modes: no_grad / enable_grad / set_grad_enabled — nestable, thread-local, exception-safe."""
import threading

import pytest

import autograd as ag


def test_no_grad_records_and_saves_nothing():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        y = (x * 2).exp()
    assert not y.requires_grad and y.grad_fn is None
    assert ag.is_grad_enabled()


def test_nesting_and_enable_grad_inside_no_grad():
    x = ag.tensor([1.0], requires_grad=True)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            y = x * 2
        assert not ag.is_grad_enabled()
    assert y.requires_grad


def test_decorators():
    @ag.no_grad()
    def f(t):
        return t * 2

    @ag.enable_grad()
    def g(t):
        return t * 2

    x = ag.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    with ag.no_grad():
        assert g(x).requires_grad
    assert ag.is_grad_enabled()


def test_restored_on_exception():
    with pytest.raises(ValueError):
        with ag.no_grad():
            raise ValueError("boom")
    assert ag.is_grad_enabled()

    @ag.no_grad()
    def bad():
        raise KeyError

    with pytest.raises(KeyError):
        bad()
    assert ag.is_grad_enabled()


def test_set_grad_enabled_as_function_and_context():
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
    finally:
        ag.set_grad_enabled(True)
    assert ag.is_grad_enabled()

    @ag.set_grad_enabled(False)
    def f():
        return ag.is_grad_enabled()

    assert ag.is_grad_enabled()          # decorating does not change the mode
    assert f() is False
    assert ag.is_grad_enabled()


def test_thread_local():
    seen = {}
    started, release = threading.Event(), threading.Event()

    def worker():
        seen["worker_start"] = ag.is_grad_enabled()
        with ag.no_grad():
            started.set()
            release.wait(5)
            seen["worker_inside"] = ag.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    started.wait(5)
    seen["main_while_worker_no_grad"] = ag.is_grad_enabled()
    release.set()
    t.join()
    assert seen == {"worker_start": True, "worker_inside": False, "main_while_worker_no_grad": True}
    with ag.no_grad():
        out = {}
        th = threading.Thread(target=lambda: out.setdefault("v", ag.is_grad_enabled()))
        th.start()
        th.join()
        assert out["v"] is True          # a new thread starts with recording on
