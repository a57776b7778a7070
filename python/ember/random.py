"""Random number generation. One NumPy ``Generator`` per ``ember.Generator`` (the global default
one is reseeded by ``ember.manual_seed``, which also seeds CuPy's generator), so that runs are
reproducible end to end."""
from __future__ import annotations

import numpy as np

from . import backend

_DEFAULT_SEED = 67280421310721  # PyTorch's default initial seed, so fresh processes agree on a value


class Generator:
    """``ember.Generator(device='cpu')``: an independent random stream."""

    def __init__(self, device="cpu") -> None:
        from ._device import device as _device

        self.device = _device(device)
        self._seed = _DEFAULT_SEED
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart this stream from ``seed``; returns the generator, as ``torch.Generator.manual_seed``."""
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from a non-deterministic random number and return it, as ``torch.Generator.seed``."""
        import secrets

        return self.manual_seed(secrets.randbits(63))._seed

    def initial_seed(self) -> int:
        """The seed this stream was last started from, as ``torch.Generator.initial_seed``."""
        return self._seed

    def get_state(self):
        """The stream's state (NumPy's bit-generator state dict, not PyTorch's ByteTensor), for ``set_state``."""
        return self._rng.bit_generator.state

    def set_state(self, state) -> Generator:
        """Restore a state from ``get_state``; returns the generator, as ``torch.Generator.set_state``."""
        self._rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every generator Ember uses (CPU, and CUDA when available)."""
    default_generator.manual_seed(seed)
    if backend.cuda_available():
        backend.require_cuda().random.seed(int(seed) % (2**63))
    return default_generator


def seed() -> int:
    """Reseed the default generator non-deterministically and return the seed, as ``torch.seed``."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's initial seed, as ``torch.initial_seed``."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (NumPy's bit-generator state dict, not PyTorch's ByteTensor); see
    ``set_rng_state``."""
    return default_generator.get_state()


def set_rng_state(state) -> None:
    """Restore the default generator's state from ``get_rng_state``, as ``torch.set_rng_state``."""
    default_generator.set_state(state)


def numpy_generator(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (or the default one)."""
    return (generator or default_generator)._rng


def random_array(kind: str, shape, dtype, dev, generator: Generator | None = None, **params):
    """Draw ``kind`` ('uniform', 'normal', 'integers', 'permutation') with shape/dtype on ``dev``.

    CPU draws come from the ember generator; CUDA draws come from CuPy's generator (seeded by
    ``manual_seed``) so that no host-to-device copy is needed, unless an explicit generator is given.
    """
    if dev.type == "cuda" and generator is None:
        cp = backend.require_cuda()
        rs = cp.random
        if kind == "uniform":
            return rs.uniform(params.get("low", 0.0), params.get("high", 1.0), size=shape).astype(dtype)
        if kind == "normal":
            return rs.normal(params.get("mean", 0.0), params.get("std", 1.0), size=shape).astype(dtype)
        if kind == "integers":
            return rs.randint(params["low"], params["high"], size=shape).astype(dtype)
        if kind == "permutation":
            return rs.permutation(params["n"]).astype(dtype)
    rng = numpy_generator(generator)
    if kind == "uniform":
        out = rng.uniform(params.get("low", 0.0), params.get("high", 1.0), size=shape)
    elif kind == "normal":
        out = rng.normal(params.get("mean", 0.0), params.get("std", 1.0), size=shape)
    elif kind == "integers":
        out = rng.integers(params["low"], params["high"], size=shape)
    elif kind == "permutation":
        out = rng.permutation(params["n"])
    else:
        raise ValueError(f"unknown distribution {kind!r}")
    out = np.asarray(out, dtype=dtype)
    return backend.to_device_array(out, dev)
