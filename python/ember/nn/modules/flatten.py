"""``Flatten`` and ``Unflatten``."""
from __future__ import annotations

from ... import ops
from .module import _FunctionalModule


class Flatten(_FunctionalModule, fn=ops.flatten, args=("start_dim", "end_dim")):
    """Flatten dims ``start_dim..end_dim`` into one: (N, *dims) -> (N, prod(dims)) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__(start_dim, end_dim)


class Unflatten(_FunctionalModule, fn=ops.unflatten, args=("dim", "unflattened_size")):
    """Expand dim ``dim`` into ``unflattened_size``: e.g. (N, 50) -> (N, 2, 5, 5)."""

    def __init__(self, dim: int | str, unflattened_size) -> None:
        if not isinstance(dim, int):
            raise TypeError("invalid argument type for dim parameter: Ember has no named tensors, "
                            "dim must be an int")
        if not isinstance(unflattened_size, (tuple, list)) or \
                not all(isinstance(s, int) for s in unflattened_size):
            raise TypeError("unflattened_size must be tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        super().__init__(dim, unflattened_size)
