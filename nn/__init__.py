"""tapegrad's neural-network package (PyTorch's `torch.nn`): modules, layers, losses, init,
optimizers (`nn.optim`), data loading (`nn.data`) and safetensors checkpoints (`nn.save`/`nn.load`)."""
from . import data, functional, init, optim, utils  # noqa: F401
from .activation import (ELU, GELU, LeakyReLU, LogSoftmax, Mish, ReLU, Sigmoid, SiLU, Softmax, Softplus, SwiGLU,
                         Swish, Tanh)
from .containers import Flatten, Identity, ModuleDict, ModuleList, Sequential, Unflatten
from .layers import AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, LayerNorm, Linear, MaxPool2d
from .loss import (AsymmetricMSELoss, BCELoss, BCEWithLogitsLoss, ContrastiveLoss, CrossEntropyLoss, FocalLoss,
                   HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss, TripletMarginLoss)
from .module import Module
from .parameter import Parameter
from .checkpoint import load, save  # noqa: E402,F401

# layer families added by issue 12, each module's __all__ (one file per family: no shared export list)
from .rnn import *  # noqa: E402,F401,F403
from .transformer import *  # noqa: E402,F401,F403
from .conv import *  # noqa: E402,F401,F403
from .pooling import *  # noqa: E402,F401,F403
from .normalization import *  # noqa: E402,F401,F403
from .padding import *  # noqa: E402,F401,F403
from .dropout import *  # noqa: E402,F401,F403


def __getattr__(name):
    """nn's subpackages load on first use (`torch.nn.parallel.X` after only `import autograd as torch`);
    any other missing name says it is not part of tapegrad."""
    import importlib.util
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'nn' has no attribute '{name}' (torch.nn.{name} is not part of tapegrad: see the "
                         "README's porting guide)")
