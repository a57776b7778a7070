"""``ember.nn``: modules, ``functional`` (as F), ``init`` and ``utils``, with PyTorch's API
(``from ember import nn``; ``nn.Linear(784, 512)``, ``nn.Sequential(...)``, ``nn.LSTM(...)``)."""
from __future__ import annotations

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F403
from .parameter import Parameter, UninitializedParameter  # noqa: F401
