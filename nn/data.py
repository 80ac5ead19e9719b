"""Datasets and batching (PyTorch's `torch.utils.data`): TensorDataset, samplers (incl.
DistributedSampler) and DataLoader.

DataLoader's shuffled order is a RandomSampler's: `autograd.randperm`, i.e. the generator that
`autograd.manual_seed` seeds (or `generator`, an autograd.Generator or any object with a
`permutation(n)` method, e.g. a NumPy Generator); samples are collated by stacking tensors along a
new dim 0.
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


class Sampler:
    """An iterable over dataset indices (PyTorch's `torch.utils.data.Sampler`)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices (without replacement), drawn from `generator` or the global one."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if replacement:
            raise NotImplementedError("RandomSampler: replacement=True is not supported")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is not None and hasattr(self.generator, "permutation"):
            order = [int(i) for i in self.generator.permutation(n)]
        elif self.generator is not None:
            order = _ag.randperm(n, generator=self.generator).tolist()
        else:
            order = _ag.randperm(n).tolist()
        return iter(order[:self.num_samples])

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of batch_size."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


class DistributedSampler(Sampler):
    """The indices of one rank's share of the dataset (PyTorch's `torch.utils.data.distributed.
    DistributedSampler`): every rank draws the same permutation (seeded by `seed + epoch`; call
    `set_epoch` before each epoch), pads it to a multiple of the number of replicas by repeating its
    start (or drops the tail with drop_last), and takes every num_replicas-th index from `rank`.
    The split is torch's; the permutation is the engine's own generator's (not torch's stream)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        from autograd import distributed as dist
        if num_replicas is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas not given and the default process group is not "
                                   "initialized (call autograd.distributed.init_process_group first)")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: rank not given and the default process group is not initialized")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.shuffle, self.seed, self.drop_last = 0, shuffle, seed, drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = _ag.Generator().manual_seed(self.seed + self.epoch)     # the same order on every rank
            indices = _ag.randperm(n, generator=g, device="cpu").tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch


class DataLoader:
    """Batches of a dataset (PyTorch's `torch.utils.data.DataLoader`). `sampler` (e.g. a
    DistributedSampler) or `batch_sampler` pick the indices; `num_workers`, `pin_memory` and the other
    multiprocessing options are accepted and ignored: loading runs in the calling process."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                         or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.drop_last, self.generator = drop_last, generator
        self.num_workers = num_workers
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn or default_collate

    def __iter__(self):
        if self.batch_sampler is None:                    # batch_size=None: samples one by one
            for i in self.sampler:
                yield self.dataset[i]
            return
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for idx in self.batch_sampler:
            if fast:                                       # one gather per tensor instead of stacking rows
                yield tuple(t[_ag.tensor(idx)] for t in self.dataset.tensors)
            else:
                yield self.collate_fn([self.dataset[i] for i in idx])

    def __len__(self):
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)
