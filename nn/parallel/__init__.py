"""`nn.parallel` (PyTorch's `torch.nn.parallel`): DistributedDataParallel over `autograd.distributed`."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
