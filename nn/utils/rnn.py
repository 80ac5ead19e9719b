"""Variable-length batches for the recurrent modules (PyTorch's `torch.nn.utils.rnn`).

A `PackedSequence` stores the time steps of a batch of sequences, sorted longest first, one after
the other: `data` is (sum of lengths, *), `batch_sizes[t]` the number of sequences still running at
step t (an int64 CPU tensor, as torch), `sorted_indices` / `unsorted_indices` the permutation from
the caller's batch order to the sorted one and back (on the data's device).

Packing and padding are each one gather (advanced getitem) with an index built from the lengths on
the device, so both are differentiable to any order; the only Python loops are over the time steps
and over the list of sequences a caller passes in.
"""
from __future__ import annotations

from collections import namedtuple

import autograd as _ag
from autograd.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def invert_permutation(permutation):
    """The inverse of an int64 permutation tensor (None stays None)."""
    if permutation is None:
        return None
    n = permutation.numel()
    ar = _ag.arange(n, dtype=_ag.int64, device=permutation.device)
    # inverse[j] = the i with permutation[i] == j: one comparison table, no scatter (array_api_strict has none)
    return (permutation.reshape(1, n) == ar.reshape(n, 1)).to(_ag.int64).argmax(dim=1)


class PackedSequence(_PackedSequenceBase):
    """(data, batch_sizes, sorted_indices, unsorted_indices); see the module docstring."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:                    # torch: PackedSequence((data, batch_sizes))
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Convert `data` (dtype and/or device); the indices follow the data's device, batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def double(self):
        return self.to(_ag.float64)

    def float(self):
        return self.to(_ag.float32)

    def half(self):
        return self.to(_ag.float16)

    def long(self):
        return self.to(_ag.int64)

    def int(self):
        return self.to(_ag.int32)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _lengths_list(lengths, who):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"{who}: 'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D {lengths.dtype.name} tensor")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def _packed_index(batch_sizes, batch, device):
    """Flat positions t * batch + b of the packed rows in a time-major (T, batch) layout."""
    i64 = _ag.int64
    parts = [_ag.arange(b, dtype=i64, device=device) + t * batch for t, b in enumerate(batch_sizes)]
    return _ag.cat(parts) if parts else _ag.zeros(0, dtype=i64, device=device)


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = how many of the (descending) lengths exceed t."""
    out, b = [0] * (sorted_lengths[0] if sorted_lengths else 0), len(sorted_lengths)
    i = len(sorted_lengths) - 1
    for t in range(len(out)):
        while i >= 0 and sorted_lengths[i] <= t:
            i -= 1
            b -= 1
        out[t] = b
    return out


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (or (B, T, *) when batch_first) whose sequences have `lengths`."""
    who = "pack_padded_sequence"
    lengths = _lengths_list(lengths, who)
    if input.ndim < 2:
        raise RuntimeError(f"{who}: input must be at least 2-D (T, B, *), got {tuple(input.shape)}")
    batch = input.shape[0 if batch_first else 1]
    if len(lengths) != batch:
        raise RuntimeError(f"{who}: Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(f"{who}: `lengths` array must be sorted in decreasing order when `enforce_sorted` "
                               f"is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                               f"pack_sequence to sidestep this requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = sorted(range(batch), key=lambda i: -lengths[i])        # stable, as torch's sort here
        lengths = [lengths[i] for i in order]
    if lengths and lengths[-1] <= 0:
        raise RuntimeError(f"{who}: Length of all samples has to be greater than 0, but found an element in "
                           f"'lengths' that is <= 0")
    steps = input.shape[1 if batch_first else 0]
    if lengths and lengths[0] > steps:
        raise RuntimeError(f"{who}: the longest length {lengths[0]} exceeds the input's {steps} time steps "
                           f"(input of shape {tuple(input.shape)})")
    dev = input.device
    sorted_indices = None if order is None else _ag.tensor(order, dtype=_ag.int64, device=dev)
    x = input.transpose(0, 1) if batch_first else input
    if sorted_indices is not None:
        x = x[:, sorted_indices]
    bs = _batch_sizes(lengths)
    flat = x[:len(bs)].reshape(len(bs) * batch, *x.shape[2:])
    data = flat[_packed_index(bs, batch, dev)]
    return PackedSequence(data, _ag.tensor(bs, dtype=_ag.int64, device="cpu"), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths int64 CPU tensor)."""
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    bs = [int(v) for v in batch_sizes.tolist()]
    steps, batch = len(bs), bs[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length={total_length} and max sequence "
                             f"length being {steps}")
        steps = total_length
    dev = data.device
    i64 = _ag.int64
    # row of the packed data for each (t, b); the appended padding row where b has ended
    offsets = [0]
    for b in bs:
        offsets.append(offsets[-1] + b)
    total = offsets[-1]
    sizes = _ag.tensor(bs + [0] * (steps - len(bs)), dtype=i64, device=dev).reshape(steps, 1)
    starts = _ag.tensor(offsets[:-1] + [total] * (steps - len(bs)), dtype=i64, device=dev).reshape(steps, 1)
    cols = _ag.arange(batch, dtype=i64, device=dev).reshape(1, batch)
    idx = _ag.where(cols < sizes, starts + cols, _ag.full((), total, dtype=i64, device=dev))
    pad = _ag.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=dev)
    out = _ag.cat([data, pad])[idx]                                    # (T, B, *)
    lengths = [0] * batch                  # lengths[i] = how many steps have batch_size > i
    for b in bs:
        lengths[b - 1] += 1
    for i in range(batch - 2, -1, -1):
        lengths[i] += lengths[i + 1]
    if unsorted_indices is not None:
        out = out[:, unsorted_indices]
        order = [int(v) for v in unsorted_indices.tolist()]
        lengths = [lengths[i] for i in order]
    if batch_first:
        out = out.transpose(0, 1)
    return out, _ag.tensor(lengths, dtype=i64, device="cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack (L_i, *) tensors into (T, B, *) (or (B, T, *)), padding each to the longest with padding_value."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    trail = tuple(sequences[0].shape[1:])
    for s in sequences:
        if s.ndim == 0 or tuple(s.shape[1:]) != trail:
            raise RuntimeError(f"pad_sequence: every sequence must be (L, {', '.join(map(str, trail)) or ''}...) "
                               f"with the same trailing dims {trail}, got {tuple(s.shape)}")
    lengths = [s.shape[0] for s in sequences]
    steps, batch = max(lengths), len(sequences)
    dev, dt = sequences[0].device, sequences[0].dtype
    i64 = _ag.int64
    offsets, o = [], 0
    for n in lengths:
        offsets.append(o)
        o += n
    total = o
    t = _ag.arange(steps, dtype=i64, device=dev).reshape(steps, 1)
    ln = _ag.tensor(lengths, dtype=i64, device=dev).reshape(1, batch)
    start = _ag.tensor(offsets, dtype=i64, device=dev).reshape(1, batch)
    src = t if padding_side == "right" else t - (steps - ln)           # position within each sequence
    idx = _ag.where((src >= 0) & (src < ln), start + src, _ag.full((), total, dtype=i64, device=dev))
    pad = _ag.full((1, *trail), padding_value, dtype=dt, device=dev)
    out = _ag.cat([*sequences, pad])[idx]                              # (T, B, *)
    return out.transpose(0, 1) if batch_first else out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :n] for i, n in enumerate(_lengths_list(lengths, "unpad_sequence"))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences of a PackedSequence, in the caller's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
