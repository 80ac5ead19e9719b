"""Datasets and batching (PyTorch's `torch.utils.data`): TensorDataset and DataLoader.

DataLoader draws each epoch's order from `autograd.randperm`, i.e. from the backend generator
that `autograd.manual_seed` seeds (or from `generator`, any object with a `permutation(n)`
method, e.g. a NumPy Generator), and collates samples by stacking tensors along a new dim 0.
"""
from __future__ import annotations

import math
import numbers

import autograd as _ag
from autograd.tensor import Tensor


class Dataset:
    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor (all must share dim 0)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0]
        for i, t in enumerate(tensors):
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError(f"TensorDataset: size mismatch between tensors: tensor 0 has {n} rows, tensor {i} "
                                 f"has shape {tuple(t.shape)}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


def default_collate(batch):
    """A list of samples -> one batch: tensors stacked, numbers made tensors, tuples/dicts per field."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _ag.stack(list(batch), 0)
    if isinstance(first, bool) or isinstance(first, numbers.Number):
        return _ag.tensor(list(batch), dtype=_ag.float64 if isinstance(first, float) else None)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("default_collate: each sample in a batch must have the same number of fields")
        return type(first)(default_collate(list(f)) for f in zip(*batch)) if isinstance(first, tuple) \
            else [default_collate(list(f)) for f in zip(*batch)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.generator = drop_last, generator
        self.collate_fn = collate_fn or default_collate

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        if self.generator is not None:
            return [int(i) for i in self.generator.permutation(n)]
        return _ag.randperm(n).tolist()

    def __iter__(self):
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            if len(idx) < self.batch_size and self.drop_last:
                return
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
                # one gather per tensor instead of stacking single rows
                yield tuple(t[_ag.tensor(idx)] for t in self.dataset.tensors)
            else:
                yield self.collate_fn([self.dataset[i] for i in idx])

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
