"""Recurrent layers (PyTorch's RNN, LSTM, GRU and their cells), composed from differentiable ops.

Parameters, their names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`), shapes, order and
initialisation (every weight U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))) are torch's, so a torch
state_dict loads unchanged in both directions.

One direction of one layer runs over "packed" rows: a (sum of batch sizes, features) matrix whose
time step t holds `batch_sizes[t]` rows. A padded (T, N, *) input is the special case of N rows at
every step, so PackedSequence input needs no separate code path. The input projection of all steps
is one matmul; each step then does one matmul of the hidden state with all gates' weights
(4 gates for LSTM, 3 for GRU). Sequences that have ended (or, running backwards, not yet started)
keep their hidden state: the step updates the first `batch_sizes[t]` rows only.
"""
from __future__ import annotations

import math
import numbers
import warnings

import autograd as _ag

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _reset_uniform(module):
    """Every parameter of an RNN or RNN cell U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


# --- one time step, given the input projection gi = W_ih x + b_ih of that step ------------------
def _rnn_step(act):
    def step(gi, h, c, w_hh, b_hh, w_hr):
        return act(gi + F.linear(h, w_hh, b_hh)), None
    return step


def _lstm_step(gi, h, c, w_hh, b_hh, w_hr):
    n = c.shape[-1]
    gates = gi + F.linear(h, w_hh, b_hh)                   # one matmul for the 4 gates (i, f, g, o)
    i_f, g, o = gates.split([2 * n, n, n], 1)
    i, f = i_f.sigmoid().split([n, n], 1)
    c = f * c + i * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi, h, c, w_hh, b_hh, w_hr):
    n = h.shape[-1]
    gh = F.linear(h, w_hh, b_hh)                           # one matmul for the 3 gates (r, z, n)
    gi_rz, gi_n = gi.split([2 * n, n], 1)
    gh_rz, gh_n = gh.split([2 * n, n], 1)
    r, z = (gi_rz + gh_rz).sigmoid().split([n, n], 1)
    new = (gi_n + r * gh_n).tanh()
    return new + z * (h - new), None                        # (1 - z) * n + z * h


_STEPS = {"RNN_TANH": _rnn_step(_ag.tanh), "RNN_RELU": _rnn_step(_ag.relu), "LSTM": _lstm_step, "GRU": _gru_step}


def _direction(step, x, batch_sizes, h, c, weights, reverse):
    """One direction of one layer over packed rows x: (output rows in x's order, h_n, c_n)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    gi_steps = F.linear(x, w_ih, b_ih).split(list(batch_sizes))   # the input projection of every step at once
    full = h.shape[0]
    outs = [None] * len(batch_sizes)
    for t in (reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))):
        b = batch_sizes[t]
        gi = gi_steps[t]
        if b == full:
            h, c = step(gi, h, c, w_hh, b_hh, w_hr)
            outs[t] = h
            continue
        hb, cb = step(gi, h[:b], None if c is None else c[:b], w_hh, b_hh, w_hr)
        outs[t] = hb
        h = _ag.cat([hb, h[b:]])
        if c is not None:
            c = _ag.cat([cb, c[b:]])
    out = outs[0] if len(outs) == 1 else _ag.cat(outs)
    return out, h, c


class RNNBase(Module):
    """What RNN, LSTM and GRU share: torch's parameters and argument checks, and the layer loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        kw = dict(dtype=dtype, device=device)
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                params = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden))]
                if bias:
                    params += [(f"bias_ih_l{layer}{suffix}", (gate_size,)), (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                if proj_size > 0:
                    params.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in params:
                    setattr(self, name, Parameter(_ag.empty(*shape, **kw)))
                self._flat_weights_names.extend(n for n, _ in params)
                self._all_weights.append([n for n, _ in params])
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op, as torch's off cuDNN."""

    def reset_parameters(self):
        _reset_uniform(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- forward ----------------------------------------------------------------------------
    def _layer_weights(self, index):
        names = self._all_weights[index]
        w = [getattr(self, n) for n in names]
        w_ih, w_hh = w[0], w[1]
        b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
        w_hr = w[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _check_input(self, input, packed):
        w = self._flat_weights[0]
        if input.dtype is not w.dtype:
            raise ValueError(f"{type(self).__name__}: RNN input dtype ({input.dtype.name}) does not match weight "
                             f"dtype ({w.dtype.name}). Convert input: input.to({w.dtype.name}), or convert model: "
                             f"model.to({input.dtype.name})")
        expected = 2 if packed else 3
        if input.ndim != expected:
            raise RuntimeError(f"{type(self).__name__}: input must have {expected} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _check_hidden(self, hx, expected, what="hidden", dtype=None):
        if tuple(hx.shape) != expected:
            label = {"hidden": "hidden size", "h": "hidden[0] size", "c": "hidden[1] size"}[what]
            raise RuntimeError(f"{type(self).__name__}: Expected {label} {expected}, got {list(hx.shape)}")
        if hx.dtype is not dtype:
            raise RuntimeError(f"{type(self).__name__}: the initial state's dtype {hx.dtype.name} does not match "
                               f"the input's ({dtype.name}): mat1 and mat2 must have the same dtype")

    def forward(self, input, hx=None):
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        sorted_indices = unsorted_indices = None
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(v) for v in batch_sizes_t.tolist()]
            batch = batch_sizes[0]
            x = data
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
            batched = input.ndim == 3
            batch_dim = 0 if self.batch_first else 1
            if not batched:
                input = input.unsqueeze(batch_dim)
            if hx is not None:
                states = hx if lstm else (hx,)
                want = 3 if batched else 2
                if any(s.ndim != want for s in states):
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    if lstm:                                     # torch's words
                        got = ", ".join(f"{s.ndim}-D" for s in states)
                        msg = f"For {kind} input, hx and cx should also be {want}-D but got ({got}) tensors"
                    else:
                        msg = f"For {kind} input, hx should also be {want}-D but got {hx.ndim}-D tensor"
                    raise RuntimeError(f"{name}: {msg}")
                if not batched:
                    hx = tuple(s.unsqueeze(1) for s in states) if lstm else hx.unsqueeze(1)
            x = input.transpose(0, 1) if self.batch_first else input          # (T, N, I)
        self._check_input(x, packed)
        if not packed:
            steps, batch = x.shape[0], x.shape[1]
            if steps == 0:
                raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
            batch_sizes = [batch] * steps
            x = x.reshape(steps * batch, self.input_size)
        h_shape = (self.num_layers * directions, batch, real_hidden)
        c_shape = (self.num_layers * directions, batch, self.hidden_size)
        dt, dev = x.dtype, x.device
        if hx is None:
            h0 = _ag.zeros(*h_shape, dtype=dt, device=dev)
            c0 = _ag.zeros(*c_shape, dtype=dt, device=dev) if lstm else None
        else:
            h0, c0 = hx if lstm else (hx, None)
            if sorted_indices is not None:                        # the caller's batch order -> sorted
                h0 = h0[:, sorted_indices]
                c0 = c0[:, sorted_indices] if lstm else None
            self._check_hidden(h0, h_shape, "h" if lstm else "hidden", dt)
            if lstm:
                self._check_hidden(c0, c_shape, "c", dt)
        if batch == 0:                                           # nothing runs: zeros of torch's shapes
            out = _ag.zeros(x.shape[0], directions * real_hidden, dtype=dt, device=dev)
            hs, cs = h0, c0
        else:
            out, hs, cs = self._run(x, batch_sizes, h0, c0)
        if unsorted_indices is not None:
            hs = hs[:, unsorted_indices]
            cs = cs[:, unsorted_indices] if lstm else None
        hidden = (hs, cs) if lstm else hs
        if packed:
            return PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices), hidden
        out = out.reshape(len(batch_sizes), batch, directions * real_hidden)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(batch_dim)
            hidden = (hs.squeeze(1), cs.squeeze(1)) if lstm else hs.squeeze(1)
        return out, hidden

    def _run(self, x, batch_sizes, h0, c0):
        step = _STEPS[self.mode]
        directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                out, h, c = _direction(step, x, batch_sizes, h0[k], None if c0 is None else c0[k],
                                       self._layer_weights(k), reverse=d == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            x = outs[0] if directions == 1 else _ag.cat(outs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, _ag.stack(hs), (_ag.stack(cs) if c0 is not None else None)


class RNN(RNNBase):
    """Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity          # (torch's repr of RNN does not show it; its cells' do)


class LSTM(RNNBase):
    """LSTM (gates i, f, g, o, in torch's order), with an optional projection h = W_hr (o * tanh(c))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """GRU (gates r, z, n, in torch's order): n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# --- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = Parameter(_ag.empty(num_chunks * hidden_size, input_size, **kw))
        self.weight_hh = Parameter(_ag.empty(num_chunks * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(_ag.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(_ag.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        _reset_uniform(self)

    def _prepare(self, input, states):
        """Checks; batch an unbatched input and its states; zeros for missing states."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[1]} expected "
                               f"{self.input_size}")
        if input.dtype is not self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype {input.dtype.name} does not match the weights' "
                               f"{self.weight_ih.dtype.name} (mat1 and mat2 must have the same dtype)")
        out = []
        for i, s in enumerate(states):
            if s is None:
                s = _ag.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            else:
                if s.ndim not in (1, 2):
                    raise ValueError(f"{name}: Expected hx[{i}] to be 1D or 2D, got {s.ndim}D instead")
                if not batched:
                    s = s.unsqueeze(0)
                if s.ndim != 2 or s.shape[0] != input.shape[0]:
                    raise RuntimeError(f"{name}: Input batch size {input.shape[0]} doesn't match hidden{i} batch "
                                       f"size {s.shape[0] if s.ndim == 2 else tuple(s.shape)}")
                if s.shape[1] != self.hidden_size:
                    raise RuntimeError(f"{name}: hidden{i} has inconsistent hidden_size: got {s.shape[1]}, "
                                       f"expected {self.hidden_size}")
                if s.dtype is not input.dtype:
                    raise RuntimeError(f"{name}: hidden{i} dtype {s.dtype.name} does not match the input's "
                                       f"{input.dtype.name}")
            out.append(s)
        return input, out, batched


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        x, (h,), batched = self._prepare(input, [hx])
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"RNNCell: Unknown nonlinearity: {self.nonlinearity}")
        step = _STEPS["RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"]
        h, _ = step(F.linear(x, self.weight_ih, self.bias_ih), h, None, self.weight_hh, self.bias_hh, None)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, [None, None] if hx is None else list(hx))
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        x, (h,), batched = self._prepare(input, [hx])
        h, _ = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, None, self.weight_hh, self.bias_hh, None)
        return h if batched else h.squeeze(0)
