"""Convolution layers (torch.nn.Conv1d/2d/3d, ConvTranspose1d/2d/3d) and nn.Fold / nn.Unfold.

One `_ConvNd` serves every dimensionality: parameter names, shapes and default initialisation are
torch's (weight (out, in/groups, *k) or, transposed, (in, out/groups, *k); Kaiming-uniform with
a = sqrt(5), bias U(+-1/sqrt(fan_in))), so a torch state_dict loads unchanged both ways. Non-zero
padding modes pad with `F.pad` first and then convolve without padding, as torch does.
"""
from __future__ import annotations

import numbers

import autograd as _ag

from . import functional as F
from .functional_conv import _conv_padding, _ntuple
from .layers import _reset_weight_and_bias
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Fold", "Unfold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _n = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        name, n = type(self).__name__, self._n
        if not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.dilation = _ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one of ['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.padding_mode = padding_mode
        # (left, right) per dim from the last one backwards, as F.pad wants them (torch's name)
        pads = _conv_padding(self.padding, self.kernel_size, self.dilation, self.stride, name)
        self._reversed_padding_repeated_twice = [v for lo_hi in reversed(pads) for v in lo_hi]
        wshape = ((in_channels, out_channels // groups) if self._transposed
                  else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(_ag.empty(*wshape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_ag.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_weight_and_bias(self.weight, self.bias)

    def _check_input(self, input, weight):
        """Errors that name the module and the shapes (then F.conv*'s own checks)."""
        n = self._n
        if input.ndim not in (n + 1, n + 2) or input.shape[input.ndim - n - 1] != self.in_channels:
            dims = ", ".join("DHW"[3 - n:]) if n > 1 else "L"
            raise RuntimeError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}): expected input (N, "
                               f"{self.in_channels}, {dims}) or ({self.in_channels}, {dims}), got "
                               f"{tuple(input.shape)}")
        if input.dtype is not weight.dtype:
            raise RuntimeError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}): Input type "
                               f"({input.dtype.name}) and weight type ({weight.dtype.name}) should be the same")

    def extra_repr(self):
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = (F.conv1d, F.conv2d, F.conv3d)[self._n - 1]
        if self.padding_mode != "zeros":
            return fn(F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                      self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        weight = self.weight              # read once: a parametrized weight is computed on each read
        self._check_input(input, weight)
        return self._conv_forward(input, weight, self.bias)


class Conv1d(_Conv):
    """Over (N, C, L) or (C, L)."""
    _n = 1


class Conv2d(_Conv):
    """Over (N, C, H, W) or (C, H, W)."""
    _n = 2


class Conv3d(_Conv):
    """Over (N, C, D, H, W) or (C, D, H, W)."""
    _n = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size):
        """torch's: the output_padding that makes the result exactly output_size (checked in range)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        size = [int(v) for v in output_size]
        if len(size) == n + 2 or (len(size) == n + 1 and input.ndim == n + 1):
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"{type(self).__name__}: ConvTranspose{n}D: for {input.ndim}D input, output_size must "
                             f"have {n} or {n + 2} elements (got {len(output_size)})")
        out = []
        for j in range(n):
            lo = ((input.shape[input.ndim - n + j] - 1) * self.stride[j] - 2 * self.padding[j]
                  + self.dilation[j] * (self.kernel_size[j] - 1) + 1)
            hi = lo + self.stride[j] - 1
            if not lo <= size[j] <= hi:
                raise ValueError(f"{type(self).__name__}: requested an output size of {size}, but valid sizes range "
                                 f"from {lo} to {hi} (for an input of {list(input.shape[input.ndim - n:])})")
            out.append(size[j] - lo)
        return tuple(out)

    def forward(self, input, output_size=None):
        weight = self.weight              # read once: a parametrized weight is computed on each read
        self._check_input(input, weight)
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._n - 1]
        op = self._output_padding(input, output_size)
        return fn(input, weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    _n = 1


class ConvTranspose2d(_ConvTranspose):
    _n = 2


class ConvTranspose3d(_ConvTranspose):
    _n = 3


class Fold(Module):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")
