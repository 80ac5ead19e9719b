"""Property test: random expression graphs built from the op set are gradchecked."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd as ag

UNARY = [ag.tanh, ag.sigmoid, ag.sin, lambda t: t * t, lambda t: ag.exp(t * 0.3), ag.silu, ag.softplus,
         lambda t: ag.softmax(t, -1), lambda t: t.sum(-1, keepdim=True), lambda t: t.mean(0, keepdim=True),
         lambda t: ag.log(1 + t * t), lambda t: t.T.reshape(t.shape), lambda t: ag.logsumexp(t, 0, keepdim=True)]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (1.5 + b * b),
          lambda a, b: a @ b.T @ a if a.shape == b.shape else a * b]


@st.composite
def programs(draw):
    n_steps = draw(st.integers(1, 6))
    steps = []
    for _ in range(n_steps):
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, 10))))
        else:
            steps.append(("b", draw(st.integers(0, len(BINARY) - 1)), draw(st.integers(0, 10)),
                          draw(st.integers(0, 10))))
    return steps


def run(steps, a, b):
    vals = [a, b]
    for s in steps:
        if s[0] == "u":
            vals.append(UNARY[s[1]](vals[s[2] % len(vals)]))
        else:
            x, y = vals[s[2] % len(vals)], vals[s[3] % len(vals)]
            vals.append(BINARY[s[1]](x, y))
    return vals[-1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**16))
def test_random_graphs_gradcheck(steps, seed):
    rng = np.random.default_rng(seed)
    a = ag.tensor(rng.uniform(-1, 1, (2, 2)), dtype=ag.float64, requires_grad=True)
    b = ag.tensor(rng.uniform(-1, 1, (2, 2)), dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda x, y: run(steps, x, y), (a, b), atol=1e-5, rtol=1e-3)
