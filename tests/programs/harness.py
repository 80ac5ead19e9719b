"""The corpus harness (issue 13): every program in tests/programs/ is written once, the way its model
PyTorch program is, and runs twice: with torch's import block and with ours. Nothing else changes.

A program module defines `imports(lib)` (the import block: "torch" or "tapegrad") and
`program(lib, H, steps)`, which builds its model and data, trains for `steps` steps and returns the loss
of every step (Python floats) and the final model. `H` is the only harness affordance a program uses:
- `H.init(model)`: on the torch run, records torch's freshly initialised state_dict; on ours, loads it
  (so both start from the same weights; init distributions are tested elsewhere);
- `H.noise(t)`: a standard-normal tensor like `t` from a shared NumPy stream, used where the model
  program calls `torch.randn_like` for a reparameterisation (random streams differ between the engines);
- `H.uniform(shape)`: likewise, uniform [0, 1) draws.
Dropout is kept in the programs but given p=0 by the comparison (its masks cannot match torch's).
"""
from __future__ import annotations

import importlib

import numpy as np


class Harness:
    def __init__(self, lib, reference=None, seed=0):
        self.lib = lib
        self.reference = reference          # torch's initial state_dicts as NumPy arrays (ours only)
        self.initial = {}
        self.rng = np.random.default_rng(seed)

    def _mod(self):
        return importlib.import_module("torch" if self.lib == "torch" else "autograd")

    def init(self, model, name="model"):
        if self.lib == "torch":
            self.initial[name] = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
        elif self.reference is not None:
            ag = self._mod()
            model.load_state_dict({k: ag.tensor(v) for k, v in self.reference[name].items()}, strict=True)
        return model

    def noise(self, t):
        dt = str(t.dtype).split(".")[-1]
        return self._mod().tensor(self.rng.standard_normal(tuple(t.shape)).astype(dt))

    def uniform(self, shape):
        return self._mod().tensor(self.rng.random(shape))


def run(name, lib, steps, reference=None, **kw):
    prog = importlib.import_module(f"tests.programs.{name}")
    H = Harness(lib, reference)
    losses, model = prog.program(lib, H, steps, **kw)
    state = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v))
             for k, v in model.state_dict().items()}
    return losses, state, H.initial
