"""`Optimizer`: parameter groups, per-parameter state, and torch's state_dict layout.

Subclasses implement `step()` with PyTorch's exact update formulas, under no_grad and with
in-place tensor ops (`add_`, `mul_`, `addcmul_`, `addcdiv_`, `lerp_`), so the Parameter objects a
model holds are updated where they are. `state_dict()` is torch's layout:
{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}, indices counted
across groups in order, so it round-trips through `nn.save` and matches torch's keys.
"""
from __future__ import annotations

import copy

import autograd as _ag
from autograd.grad_mode import enable_grad
from autograd.tensor import Tensor

from ..module import zero_grads


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}                 # Parameter -> dict (Tensor hashes by identity)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):
        raise NotImplementedError

    # --- state dict -----------------------------------------------------------------------------
    def state_dict(self):
        index, groups, start = {}, [], 0
        for g in self.param_groups:
            for i, p in enumerate(g["params"]):
                index.setdefault(id(p), start + i)
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in g["params"]]
            start += len(g["params"])
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved)} parameter groups; this optimizer has "
                             f"{len(self.param_groups)}")
        for i, (ours, theirs) in enumerate(zip(self.param_groups, saved)):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has {len(theirs['params'])} parameters; "
                                 f"this optimizer's has {len(ours['params'])}")
        by_index = {}
        for ours, theirs in zip(self.param_groups, saved):
            for p, idx in zip(ours["params"], theirs["params"]):
                by_index[int(idx)] = p
        self.state = {}
        for idx, s in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                continue
            self.state[p] = {k: self._cast(p, k, v) for k, v in s.items()}
        new_groups = []
        for ours, theirs in zip(self.param_groups, saved):
            g = {k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"}
            g["params"] = ours["params"]
            new_groups.append(g)
        self.param_groups = new_groups

    @staticmethod
    def _cast(p, key, v):
        if not isinstance(v, Tensor):
            return copy.deepcopy(v)
        if key == "step":                         # torch keeps step as a float32 scalar tensor
            return v.detach().clone().to(_ag.float32)
        if v.is_floating_point():
            if tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"optimizer state '{key}' has shape {tuple(v.shape)}, but its parameter has "
                                 f"shape {tuple(p.shape)}")
            return v.detach().to(p.device).to(p.dtype).clone()
        return v.detach().to(p.device).clone()

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


def _grad(p, maximize):
    return -p.grad if maximize else p.grad


def params_with_grad(group):
    """(param, gradient) for each parameter of a group that has a gradient, negated if maximizing:
    the loop every optimizer's step starts with."""
    maximize = group["maximize"]
    for p in group["params"]:
        if p.grad is not None:
            yield p, _grad(p, maximize)


def _step_tensor(state):
    """Increment and return the step count (a float32 scalar tensor, as in torch)."""
    s = state["step"]
    s.add_(1)
    return s.item()


