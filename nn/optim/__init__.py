"""Optimizers (PyTorch's `torch.optim`) and learning-rate schedulers (`nn.optim.lr_scheduler`)."""
from . import lr_scheduler, swa_utils  # noqa: F401
from .adafactor import Adafactor, Muon
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .lbfgs import LBFGS
from .optimizer import Optimizer, register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from .rmsprop import Adadelta, Adagrad, RMSprop
from .rprop import ASGD, Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
           "Rprop", "ASGD", "LBFGS", "Adafactor", "Muon", "lr_scheduler", "swa_utils", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]
