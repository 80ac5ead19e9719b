"""`Optimizer`: parameter groups, per-parameter state, hooks, and torch's state_dict layout.

Subclasses implement `step()` with PyTorch's single-tensor update formulas (torch's default on
CPU), with in-place tensor ops (`add_`, `mul_`, `addcmul_`, `addcdiv_`, `lerp_`), so the Parameter
objects a model holds are updated where they are. Every subclass's `step` is wrapped (as torch's
`profile_hook_step` does) to run the step pre/post hooks and to run under no_grad, or with grad
enabled when the optimizer was built with `differentiable=True` (the update is then recorded, so
a loss after the step can be differentiated through it).

`state_dict()` is torch's layout: {'state': {index: {...}}, 'param_groups': [{..., 'params':
[index, ...]}]}, indices counted across groups in order, so a torch optimizer's state_dict (tensors
converted) loads into ours and continues identically, and ours into torch.
"""
from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict

import autograd as _ag
from autograd import graph as _graph
from autograd.grad_mode import enable_grad, set_grad_enabled
from autograd.graph import add_hook
from autograd.tensor import Tensor, _wrap

from ..module import zero_grads


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()

_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """A step pre hook for every optimizer: hook(optimizer, args, kwargs) -> None or (args, kwargs)."""
    return add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """A step post hook for every optimizer: hook(optimizer, args, kwargs) -> None."""
    return add_hook(_global_optimizer_post_hooks, hook)


def _hooked_step(step):
    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        if self.__dict__.get("_in_step"):       # a subclass's step calling super().step(): hooks ran once
            return step(*args, **kwargs)
        for pre in (*_global_optimizer_pre_hooks.values(), *self._optimizer_step_pre_hooks.values()):
            result = pre(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
        self._in_step = True
        try:
            with set_grad_enabled(bool(self.defaults.get("differentiable", False))):
                out = step(*args, **kwargs)
        finally:
            self._in_step = False
        for post in (*self._optimizer_step_post_hooks.values(), *_global_optimizer_post_hooks.values()):
            post(self, args, kwargs)
        return out
    wrapper._hooked = True
    return wrapper


def _add_hook(hooks, hook, prepend):
    """add_hook, first in line with `prepend` (the state-dict hooks' option)."""
    handle = add_hook(hooks, hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class Optimizer:
    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)  # Parameter -> dict (Tensor hashes by identity), as torch's
        self.param_groups = []
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
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

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        group = dict(param_group)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):   # named_parameters()
            names = [n for n, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not self.defaults.get("differentiable", False) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        if self.param_groups and (("param_names" in group) != ("param_names" in self.param_groups[0])):
            raise ValueError("all optimizer param groups should be with/without names. Some param groups have "
                             "names and some don't")
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

    # --- hooks ------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), called before each step."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None, called after each step."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # --- state dict -----------------------------------------------------------------------------
    def state_dict(self):
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index, groups, start = {}, [], 0
        for g in self.param_groups:
            for i, p in enumerate(g["params"]):
                index.setdefault(id(p), start + i)
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in g["params"]]
            start += len(g["params"])
            groups.append(packed)
        state = {(index[id(p)] if isinstance(p, Tensor) else p): s for p, s in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            out = hook(self, sd)
            if out is not None:
                sd = out
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            out = hook(self, state_dict)
            if out is not None:
                state_dict = out
        saved = copy.deepcopy(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups ({len(saved)}; this "
                             f"optimizer has {len(self.param_groups)})")
        for i, (ours, theirs) in enumerate(zip(self.param_groups, saved)):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group (group {i}: {len(theirs['params'])} saved, "
                                 f"{len(ours['params'])} here)")
        by_index, group_of = {}, {}
        for ours, theirs in zip(self.param_groups, saved):
            for p, idx in zip(ours["params"], theirs["params"]):
                by_index[idx] = p
                group_of[idx] = theirs
        self.state = defaultdict(dict)
        for idx, s in state_dict["state"].items():
            p = by_index.get(idx)
            if p is None:
                self.state[idx] = s
                continue
            g = group_of[idx]
            self.state[p] = _cast_state(p, s, g.get("fused") or g.get("capturable"))
        new_groups = []
        for ours, theirs in zip(self.param_groups, saved):
            g = dict(theirs)
            g["params"] = ours["params"]
            if "param_names" in ours and "param_names" not in g:
                g["param_names"] = ours["param_names"]
            for k, v in self.defaults.items():       # older state dicts: torch's __setstate__ defaults
                g.setdefault(k, v)
            new_groups.append(g)
        self.param_groups = new_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def __repr__(self):
        out = type(self).__name__ + " ("
        for i, g in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for k in sorted(g):
                if k != "params":
                    out += f"    {k}: {g[k]}\n"
        return out + ")"


def _cast_state(p, value, step_to_float32, key=None):
    """torch's load_state_dict cast: floating tensors to the parameter's dtype and device, others to
    its device, 'step' kept as it is (float32 where fused/capturable); containers recursively."""
    if isinstance(value, Tensor):
        if key == "step":
            v = value.detach().clone()
            return v.to(_ag.float32).to(p.device) if step_to_float32 else v
        if p.is_floating_point():
            return value.detach().to(p.device).to(p.dtype).clone()
        return value.detach().to(p.device).clone()
    if isinstance(value, dict):
        return {k: _cast_state(p, v, step_to_float32, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, v, step_to_float32) for v in value)
    return copy.deepcopy(value)


def _grad(p, maximize):
    return -p.grad if maximize else p.grad


def params_with_grad(group, name=None):
    """(param, gradient) for each parameter of a group that has a gradient, negated if maximizing:
    the loop every optimizer's step starts with. With `name`, checks the capturable/fused flags
    the way torch does."""
    maximize = group.get("maximize", False)
    for p in group["params"]:
        if p.grad is not None:
            if name is not None:
                _check_device(group, p, name)
            yield p, _grad(p, maximize)


_CAPTURABLE_DEVICES = ("cuda",)


def _check_device(group, p, name):
    if group.get("capturable") and p.device.type not in _CAPTURABLE_DEVICES:
        raise AssertionError(f"{name}: if capturable=True, params and state_steps must be on supported devices: "
                             f"{list(_CAPTURABLE_DEVICES)} (got a parameter on '{p.device}')")
    if group.get("fused") and not p.is_floating_point():
        raise RuntimeError(f"{name}: `fused=True` requires all the params to be floating point Tensors of "
                           f"supported devices, got {p.dtype}")


def check_fused(defaults, name):
    """torch's constructor checks on the fused flag."""
    if defaults.get("fused"):
        if defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= float(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


def scalar(v):
    """A hyperparameter that may be given as a 1-element tensor (lr), as a Python number. While
    autograd.compile traces, a tensor's value is read without ending the trace: the compiled
    function guards on that value (a changed lr retraces, as a changed float lr does)."""
    if isinstance(v, Tensor):
        return value_of(v) if tracing() else v.item()
    return v


def value_of(t):
    """t.item() without ending an autograd.compile trace (for values the trace guards on)."""
    return t._backend.to_numpy(t._data).reshape(()).item()


def scalar_dtype():
    """torch's _get_scalar_dtype: the dtype of 'step' and the other scalar state tensors."""
    return _ag.float64 if _ag.get_default_dtype() == _ag.float64 else _ag.float32


def new_step(p, group, value=0.0, on_device=False):
    """A fresh 0-d step count (or NAdam's mu_product) for parameter p, where torch keeps it: on the
    CPU, so that reading it (`.item()`, the bias corrections' Python floats) never waits for a GPU,
    unless the group is capturable or fused (then on p's device, as torch), or differentiable (its
    tensor arithmetic meets p's tensors; torch mixes a CPU scalar in, tapegrad keeps one device);
    `on_device=True` for the optimizers torch always keeps it with p (ASGD)."""
    dev = p.device if (on_device or group.get("capturable") or group.get("fused") or group.get("differentiable")) \
        else "cpu"
    return _ag.tensor(value, dtype=scalar_dtype(), device=dev)


def _step_tensor(state):
    """Increment and return the step count (a scalar tensor, as in torch)."""
    s = state["step"]
    if not isinstance(s, Tensor):             # an old-style state dict's Python number (kept on the CPU, as new_step)
        s = state["step"] = _ag.tensor(float(s), dtype=scalar_dtype(), device="cpu")
    s.add_(1)
    return s.item()



def _bump_step(state):
    """Increment the step count without reading it back (no host sync, nothing that ends an
    autograd.compile trace): for steps that use the count as a tensor or not at all."""
    s = state["step"]
    if not isinstance(s, Tensor):
        s = state["step"] = _ag.tensor(float(s), dtype=scalar_dtype())
    s.add_(1)
    return s


def tracing(p=None):
    """True while autograd.compile records a step (and, with a parameter, when its dtype is one
    whose Python-scalar operands `replayed_scalar` reproduces: float32 / float64)."""
    tr = _graph.TRACER
    if tr is None or not tr.active():
        return False
    return p is None or p.dtype in (_ag.float32, _ag.float64, _ag.float16)


def _scalar_native(like):
    """The dtype a replayed scalar takes for a tensor like `like`: its own, but float32 for float16
    (a float16 tensor meets a Python number in float32 in mul/div, torch's rule: a 0-d float32
    tensor as the second operand of mul/div takes the same path, `in_float32`)."""
    be = like._backend
    return be.native_dtype(_ag.float32) if like.dtype is _ag.float16 else like._data.dtype


def replayed_scalar(kernel, step, like, *params):
    """`kernel(step_array, *params)` -> a Python float, made a 0-d array of `like`'s dtype, as a
    Tensor; recorded by autograd.compile as one host computation that every replay runs again on
    the step count's new value. The value and its conversion are exactly those of eager code that
    reads `step.item()`, computes the same float and uses it as a scalar operand of a float32 /
    float64 tensor (`as_tensor_like`: `xp.asarray(value, dtype)`), so the replay is bitwise eager."""
    be, dt = like._backend, _scalar_native(like)
    tr = _graph.TRACER
    tr.depth += 1                              # the kernel's own namespace calls are not recorded
    try:
        out = _scalar_kernel(step._data, be, dt, kernel, *params)
    finally:
        tr.depth -= 1
    tr.kernel(_scalar_kernel, (step,), (be, dt, kernel) + params, out)
    return _wrap(out, be)


def replayed_scalar2(kernel, step, other, like, *params):
    """replayed_scalar of two 0-d state tensors: `kernel(step_value, other_value, *params)`."""
    be, dt = like._backend, _scalar_native(like)
    tr = _graph.TRACER
    tr.depth += 1
    try:
        out = _scalar_kernel2(step._data, other._data, be, dt, kernel, *params)
    finally:
        tr.depth -= 1
    tr.kernel(_scalar_kernel2, (step, other), (be, dt, kernel) + params, out)
    return _wrap(out, be)


def _scalar_kernel(step, be, dt, kernel, *params):
    return be.xp.asarray(kernel(float(step), *params), dtype=dt)


def _scalar_kernel2(step, other, be, dt, kernel, *params):
    return be.xp.asarray(kernel(float(step), float(other), *params), dtype=dt)


def replayed_value(kernel, tensors, like=None, *params, dtype=None):
    """replayed_scalar of any number of 0-d tensors: `kernel(*values, *params)` (Python floats of
    the tensors' current values, as `.item()` reads them) as a 0-d Tensor of `like`'s scalar dtype,
    or of `dtype` (an autograd dtype: `autograd.bool` for a flag that a `where` selects with), on
    `like`'s device (the tensors may live elsewhere: a step count is kept on the CPU), else theirs."""
    be = (like if like is not None else tensors[0])._backend
    dt = be.native_dtype(dtype) if dtype is not None else _scalar_native(like)
    tr = _graph.TRACER
    tr.depth += 1
    try:
        out = _scalar_kernel_n(*[t._data for t in tensors], (be, dt, kernel, params))
    finally:
        tr.depth -= 1
    tr.kernel(_scalar_kernel_n, tuple(tensors), ((be, dt, kernel, params),), out)
    return _wrap(out, be)


def _scalar_kernel_n(*args):
    *arrays, (be, dt, kernel, params) = args
    return be.xp.asarray(kernel(*[float(a) for a in arrays], *params), dtype=dt)
