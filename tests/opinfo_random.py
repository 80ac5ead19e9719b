"""Registry entries for the random sampling ops (issue 11, "Random numbers").

A draw cannot be compared with torch's value by value (torch's Mersenne Twister stream is not
reproduced), so these samples are the ones whose result is certain: probabilities 0 and 1,
std 0, rate 0, one-hot weights. They check, against torch, shapes, dtypes, broadcasting, the zero
gradients torch defines for samplers, and the errors. The distributions themselves are tested
statistically in tests/test_random_api.py.
"""
from __future__ import annotations

import numpy as np

from tests.opinfo import C, Call, FLOATS, OpInfo, S

NONDET = {"Generator", "get_rng_state", "set_rng_state", "default_generator", "inference_mode",
          "is_inference_mode_enabled", "is_inference"}


def _p01(shape, dt, seed=0):
    return (np.random.default_rng(seed).random(shape) > 0.5).astype(dt)


def _bernoulli(dt):
    return [S("p01", _p01((2, 3), dt), gc=False), S("0d", np.array(1.0, dt), gc=False),
            S("empty", np.zeros((0, 2), dt), gc=False),
            S("p=0", _p01((3,), dt), 0.0, gc=False), S("p=1", _p01((3,), dt), 1.0, gc=False),
            S("p>1-error", np.array([0.5, 2.0], dt), gc=False), S("p<0-error", np.array([-0.5], dt), gc=False),
            S("nan-error", np.array([np.nan], dt), gc=False), S("p=2-error", _p01((3,), dt), 2.0, gc=False)]


def _normal(dt):
    m = np.random.default_rng(1).standard_normal((2, 3)).astype(dt)
    return [S("tensor,tensor0", m, C(np.zeros((2, 3), dt)), gc=False),
            S("broadcast", m, C(np.zeros((3,), dt)), gc=False),
            S("tensor,float0", m, 0.0, gc=False),
            S("0d", np.array(1.5, dt), C(np.zeros((), dt)), gc=False),
            S("std<0-error", m, -1.0, gc=False),
            S("std-tensor<0-error", m, C(-np.ones((2, 3), dt)), gc=False),
            S("shapes-error", np.zeros((6,), dt), C(np.zeros((2, 3), dt)), gc=False)]


def _normal_float_mean(dt):
    return [S("float,tensor0", C(np.zeros((2, 3), dt)), gc=False)]


def _poisson(dt):
    return [S("rate0", np.zeros((2, 3), dt), gc=False), S("empty", np.zeros((0,), dt), gc=False),
            S("negative-error", np.array([-1.0], dt), gc=False)]


def _multinomial(dt):
    onehot = np.array([[0, 0, 1, 0], [1, 0, 0, 0]], dt)
    return [S("rows,replacement", onehot, 5, True), S("1d,replacement", onehot[0], 3, replacement=True),
            S("one,without", onehot, 1), S("1d,one", onehot[1], 1),
            S("empty-rows", np.zeros((0, 3), dt), 2),
            S("negative-error", np.array([1.0, -1.0], dt), 1), S("zero-sum-error", np.zeros((2, 3), dt), 1),
            S("inf-error", np.array([1.0, np.inf], dt), 1), S("nan-error", np.array([1.0, np.nan], dt), 1),
            S("too-many-error", onehot, 5), S("3d-error", np.ones((2, 2, 2), dt), 1),
            S("zero-samples-error", onehot, 0)]


def _torch():
    import torch
    return torch


ENTRIES = [
    OpInfo("bernoulli", ["autograd.bernoulli", "Tensor.bernoulli"], _bernoulli, dtypes=FLOATS),
    OpInfo("normal", ["autograd.normal"], _normal, dtypes=FLOATS),
    OpInfo("normal(float,tensor)", [Call("normal(0.0, std)", lambda s: __import__("autograd").normal(0.0, s),
                                         lambda s: _torch().normal(0.0, s))],
           _normal_float_mean, dtypes=FLOATS, grad=False),
    OpInfo("poisson", ["autograd.poisson"], _poisson, dtypes=FLOATS),
    OpInfo("multinomial", ["autograd.multinomial", "Tensor.multinomial"], _multinomial, dtypes=FLOATS, grad=False,
           errors=("multinomial", "prob", "sample")),
]

NON_OPS = NONDET
