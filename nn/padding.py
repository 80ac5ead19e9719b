"""Padding layers (torch.nn.ZeroPad*, ConstantPad*, ReflectionPad*, ReplicationPad*, CircularPad*):
each stores `padding` as torch does (a 2n-tuple) and calls `F.pad` with its mode."""
from __future__ import annotations

from . import functional as F
from .functional_conv import _ntuple
from .module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
           for n in (1, 2, 3)]


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._n, "padding")

    def forward(self, input):
        name, n = type(self).__name__, self._n
        if self._mode == "circular" and input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{name}: expected {n + 1}D or {n + 2}D input (got {input.ndim}D input)")
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _make(kind, base, mode, n):
    return type(f"{kind}Pad{n}d", (base,), {"_n": n, "_mode": mode, "__module__": __name__,
                                            "__qualname__": f"{kind}Pad{n}d"})


ZeroPad1d, ZeroPad2d, ZeroPad3d = (_make("Zero", _ZeroPadNd, "constant", n) for n in (1, 2, 3))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (_make("Constant", _ConstantPadNd, "constant", n) for n in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_make("Reflection", _PadNd, "reflect", n) for n in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (_make("Replication", _PadNd, "replicate", n)
                                                        for n in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_make("Circular", _PadNd, "circular", n) for n in (1, 2, 3))
