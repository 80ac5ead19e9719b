"""`nn.parallel` (PyTorch's `torch.nn.parallel`): DistributedDataParallel and SyncBatchNorm over
`autograd.distributed`."""
from .distributed import DistributedDataParallel
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "SyncBatchNorm"]
