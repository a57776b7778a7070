"""``ember.optim``: optimizers and learning-rate schedulers with ``torch.optim``'s API.

SGD, Adam, AdamW, RMSprop and Adagrad update through fused C++/CUDA kernels; Adadelta, Adamax,
NAdam and LBFGS are written on NumPy/CuPy arrays.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
           "LBFGS",
           "SGD",
           "Adadelta",
           "Adagrad",
           "Adam",
           "AdamW",
           "Adamax",
           "NAdam",
           "Optimizer",
           "RMSprop",
           "lr_scheduler",
]
