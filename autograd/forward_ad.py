"""`autograd.forward_ad` (PyTorch's `torch.autograd.forward_ad`): dual_level, make_dual, unpack_dual,
enter_dual_level, exit_dual_level.

Tangents are not pushed through the ops as they run (that would need a tangent rule per primitive
and a hook in the dispatch). Instead a dual tensor is recorded on the tape, and `unpack_dual(y)`
computes y's tangent when asked, with the double-backward trick: for a cotangent u,
g = J^T u is linear in u, so the gradient of g with respect to u in the direction of the tangent
t is J t. That is exact and needs no rule beyond the reverse ones (which are all differentiable),
at the cost of two backward passes per unpack and these differences from torch:
- a dual tensor, and what is computed from it, require grad (torch: only if the primal did);
- ops run under no_grad / inference_mode record nothing, so their results have no tangent;
- in-place writes to the dual tensor itself lose its tangent (write to a clone).
"""
from __future__ import annotations

from collections import namedtuple

from .tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_levels: list = []      # one dict per open level: id(dual) -> (dual, wrt, tangent, primal requires grad)


def enter_dual_level():
    """Open a new forward AD level and return its index."""
    _levels.append({})
    return len(_levels) - 1


def exit_dual_level(*, level=None):
    """Close the innermost level (tangents made in it are gone)."""
    if not _levels:
        raise RuntimeError("Dual level must be a positive number.")
    if level is not None and level != len(_levels) - 1:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. This is "
                           "not supported.")
    _levels.pop()


class dual_level:
    """`with dual_level():` opens a forward AD level for make_dual / unpack_dual and closes it after."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _level(level, name):
    if level is None:
        level = len(_levels) - 1
    if not 0 <= level < len(_levels):
        return None
    return _levels[level]


def make_dual(tensor, tangent, *, level=None):
    """A tensor equal to `tensor` that carries `tangent` (same shape) as its forward gradient."""
    lv = _level(level, "make_dual")
    if lv is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual: expected a Tensor and a tangent Tensor")
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype!r}")
    if not tangent.dtype.is_floating_point:
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype!r}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError(f"make_dual: the tangent is on {tangent.device}, the tensor on {tensor.device}")
    if id(tensor) in lv and lv[id(tensor)][0] is tensor:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {len(_levels) - 1 if level is None else level} is not supported.")
    from .grad_mode import enable_grad
    with enable_grad():
        if tensor.requires_grad:            # keep the user's graph: differentiate with respect to the copy
            dual = tensor.clone()
            wrt = dual
        else:
            wrt = tensor.detach().requires_grad_(True)
            dual = wrt.clone()              # a non-leaf, so in-place ops on it are allowed as on tensor
    lv[id(dual)] = (dual, wrt, tangent, tensor.requires_grad)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): tensor's forward gradient at the level, None where it has none."""
    lv = _level(level, "unpack_dual")
    if lv is None or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    ent = lv.get(id(tensor))
    if ent is not None and ent[0] is tensor:
        return UnpackedDualTensor(tensor if ent[3] else tensor.detach(), ent[2])
    if not tensor.requires_grad or not lv or not tensor.dtype.is_floating_point:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(tensor, _tangent(tensor, list(lv.values())))


def _tangent(y, entries):
    """J t summed over the level's duals, by the double-backward trick (None if y depends on none)."""
    from .engine import grad
    from .factories import zeros_like
    from .grad_mode import enable_grad
    with enable_grad():
        u = zeros_like(y, requires_grad=True)
        gs = grad([y], [e[1] for e in entries], [u], create_graph=True, retain_graph=True, allow_unused=True)
        pairs = [(g, e[2].to(g.dtype)) for g, e in zip(gs, entries) if g is not None]
        if not pairs:
            return None
        live = [(g, t) for g, t in pairs if g.requires_grad]
        if not live:
            return zeros_like(y).detach()
        (t,) = grad([g for g, _ in live], [u], [t for _, t in live], retain_graph=True, allow_unused=True)
    return zeros_like(y).detach() if t is None else t.detach()
