"""detect_anomaly: the first op to produce NaN/Inf is named, with direction and creating line."""
import inspect
import re
import warnings

import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy

F = re.escape(__file__)


def here():
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # NumPy's divide-by-zero chatter, torch's anomaly notes
        yield


def test_forward_error_is_raised_by_the_bad_op_itself():
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    with ag.detect_anomaly():
        y = x * 2                     # clean
        line = here()
        with pytest.raises(RuntimeError, match=rf"op 'log' returned nan .*{F}:{line + 1}\)"):
            y.log()
        with pytest.raises(RuntimeError, match=r"op 'div' returned inf"):
            x / ag.zeros(2)


def test_forward_inf_can_be_allowed():
    with ag.detect_anomaly(check_inf=False):
        y = ag.tensor([1.0]) / ag.zeros(1)         # inf passes
        assert np.isinf(npy(y)).all()
        with pytest.raises(RuntimeError, match="op 'sub' returned nan"):
            y - y


def test_no_checks_when_disabled():
    x = ag.tensor([-1.0], requires_grad=True)
    assert not ag.is_anomaly_enabled()
    y = x.log()                                    # nan, silently
    assert np.isnan(npy(y)).all()
    with ag.detect_anomaly():
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled()


def test_backward_names_op_and_creation_line_like_torch():
    torch = pytest.importorskip("torch")
    x = ag.zeros(3, requires_grad=True)
    with ag.detect_anomaly():
        line = here()
        s = x.sqrt()                  # sqrt'(0) * 0 = inf * 0 = nan in backward
        y = (s * 0).sum()
        with pytest.raises(RuntimeError) as e:
            y.backward()
    assert str(e.value) == (f"anomaly in backward: the gradient rule of op 'sqrt' (created at {__file__}:{line}) "
                            f"returned nan values for its input 0.")
    tx = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="SqrtBackward0"), torch.autograd.detect_anomaly():
        (tx.sqrt() * 0).sum().backward()


def test_backward_first_bad_in_backward_order_inf():
    x = ag.zeros(3, requires_grad=True)
    with ag.detect_anomaly():
        a = x.sqrt()
        line_b = here()
        b = x.sqrt()                  # created later, so its rule runs first in backward
        y = (a - b).sum()
        with pytest.raises(RuntimeError, match=rf"op 'sqrt' \(created at {F}:{line_b}\) returned -?inf"):
            y.backward()


def test_inf_minus_inf_when_summed_is_named_where_torch_is_silent():
    torch = pytest.importorskip("torch")
    tx = torch.zeros(3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            (tx.sqrt() - tx.sqrt()).sum().backward()        # torch: no error...
    assert torch.isnan(tx.grad).all()                       # ...and a nan gradient
    x = ag.zeros(3, requires_grad=True)
    with ag.detect_anomaly(check_inf=False):                # torch's mode: inf allowed, nan not
        line_a = here()
        a = x.sqrt()
        b = x.sqrt()
        y = (a - b).sum()
        with pytest.raises(RuntimeError) as e:
            y.backward()
    assert str(e.value) == (
        "anomaly in backward: nan appeared when gradients were summed into a leaf tensor of shape (3,): each "
        f"contribution was clean, the sum is not (the last one came from op 'sqrt', created at "
        f"{__file__}:{line_a}).")
    assert x.grad is None


def test_finite_contributions_summing_to_inf_in_float32():
    x = ag.zeros(2, requires_grad=True)                      # float32
    with ag.detect_anomaly():
        h = x * 1
        line_p = here()
        p = h * 3e38                                         # forward is 0: clean
        q = h * 3e38
        y = (p + q).sum()
        with pytest.raises(RuntimeError, match=rf"inf appeared when gradients were summed into output 0 of op "
                                               rf"'mul' \(created at {F}:{line_p - 2}\).*last one came from op "
                                               rf"'mul', created at {F}:{line_p}\)"):
            y.backward()
    # without anomaly mode it silently gives inf
    (x * 1 * 3e38 + x * 1 * 3e38).sum().backward()
    assert np.isinf(npy(x.grad)).all()


def test_clean_graph_passes_and_gradient_is_unchanged():
    x = ag.tensor([0.5, 1.5], requires_grad=True)
    with ag.detect_anomaly():
        (x.sqrt() + x.sqrt() + x.log()).sum().backward()
    np.testing.assert_allclose(npy(x.grad), 1 / np.sqrt([0.5, 1.5]) + 1 / np.array([0.5, 1.5]), rtol=1e-6)


def test_decorator_form():
    @ag.detect_anomaly()
    def f(x):
        return x.log()
    with pytest.raises(RuntimeError, match="anomaly in forward: op 'log'"):
        f(ag.tensor([-1.0]))
    assert not ag.is_anomaly_enabled()


def test_anomaly_state_restored_after_backward_error():
    x = ag.zeros(1, requires_grad=True)
    with ag.detect_anomaly():
        y = (x.sqrt() * 0).sum()
        with pytest.raises(RuntimeError):
            y.backward()
        assert ag.is_anomaly_enabled()                       # run_backward restored it
        with pytest.raises(RuntimeError, match="forward"):
            ag.tensor([-1.0]).log()
