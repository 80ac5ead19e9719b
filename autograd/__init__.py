"""tapegrad's autograd: tensors, a dynamic tape, reverse-mode gradients (PyTorch's `torch`)."""
from __future__ import annotations

from backends import dtypes as _dt
from backends.dtypes import DType as dtype, device  # noqa: F401

from .tensor import Size, Tensor  # noqa: I001 - first: the other modules build on it
from . import cuda  # noqa: F401
from .anomaly import detect_anomaly, is_anomaly_enabled
from .engine import backward, grad
from .factories import (arange, as_tensor, empty, empty_like, eye, from_dlpack, from_numpy, full, full_like,
                        get_default_device, get_default_dtype, linspace, ones, ones_like, rand, rand_like,
                        randint, randint_like, randn, randn_like, randperm, set_default_device,
                        set_default_dtype, tensor, tril_indices, triu_indices, zeros, zeros_like)
from .function import Function, FunctionCtx
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import RemovableHandle, SavedTensorError, record_source
from .ops import exports as _op_exports
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,  # noqa: F401
                     set_rng_state)

float16, float32, float64 = _dt.float16, _dt.float32, _dt.float64
half, float, double = float16, float32, float64
uint8, int8, int16, int32, int64 = _dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64
long, int = int64, int32
bool = _dt.bool_
promote_types = _dt.promote_types

globals().update(_op_exports())     # every op declared with @op in autograd/ops, by its public name


def numel(input):
    return input.numel()


def is_inference(input):
    return input.is_inference()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def clone(input):
    return input.clone()


def detach(input):
    return input.detach()


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input, other):
    return input.equal(other)


__version__ = "0.1.0"

# engine tools: memory ledger, checkpointing, graph export
from .ledger import profile_memory, tape_report  # noqa: E402
from .compile import compile  # noqa: E402,A001  (torch.compile: record a step once, replay it)
from .checkpoint import checkpoint  # noqa: E402
from .export import render_dot, to_dot, to_json  # noqa: E402

# namespaces (torch.linalg, torch.special, torch.autograd.functional, torch.autograd.forward_ad,
# torch.distributed); each module owns its names
from . import distributed, forward_ad, functional, linalg, special  # noqa: E402,F401


def __getattr__(name):
    """`torch.nn`, `torch.optim` and `torch.utils.data` spelled through the top-level module, so that a
    program ported by `import autograd as torch` keeps writing `torch.nn.Linear`, `torch.optim.Adam`,
    `torch.utils.data.DataLoader` (nn is its own package: imported on first use, not by autograd)."""
    import importlib
    if name == "nn":
        return importlib.import_module("nn")
    if name == "optim":
        return importlib.import_module("nn.optim")
    if name in ("save", "load"):                   # torch.save(model.state_dict(), path): safetensors, never pickle
        return getattr(importlib.import_module("nn"), name)
    if name == "utils":
        import types
        utils = types.SimpleNamespace(data=importlib.import_module("nn.data"))
        globals()["utils"] = utils
        return utils
    raise AttributeError(f"module 'autograd' has no attribute '{name}' (torch.{name} is not part of tapegrad: "
                         "see the README's porting guide)")
