"""tapegrad's neural-network package (PyTorch's `torch.nn`): modules, layers, losses, init,
optimizers (`nn.optim`), data loading (`nn.data`) and safetensors checkpoints (`nn.save`/`nn.load`)."""
from . import data, functional, init, optim, utils  # noqa: F401
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,
                         LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, RReLU, Sigmoid, SiLU, Softmax, Softmax2d,
                         Softmin, Softplus, Softshrink, Softsign, SwiGLU, Swish, Tanh, Tanhshrink, Threshold)
from .containers import Flatten, Identity, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential, Unflatten
from .layers import Embedding, Linear
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
from .loss import *  # noqa: E402,F401,F403
from .linear_layers import *  # noqa: E402,F401,F403
from .parallel.sync_batchnorm import SyncBatchNorm  # noqa: E402,F401  (torch.nn.SyncBatchNorm)


def __getattr__(name):
    """nn's subpackages load on first use (`torch.nn.parallel.X` after only `import autograd as torch`);
    any other missing name says it is not part of tapegrad."""
    import importlib.util
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'nn' has no attribute '{name}' (torch.nn.{name} is not part of tapegrad: see the "
                         "README's porting guide)")
