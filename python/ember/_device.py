"""``ember.device``: where a tensor's memory lives ('cpu' or 'cuda[:index]')."""
from __future__ import annotations


class device:  # noqa: N801 - PyTorch's spelling
    """Where a tensor's memory lives, as ``torch.device``: ``device('cpu')``, ``device('cuda')``,
    ``device('cuda:1')`` or ``device('cuda', 1)``; compares equal to its string spelling."""

    __slots__ = ("index", "type")

    def __init__(self, spec="cpu", index: int | None = None) -> None:
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda", "mps"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")
        if kind == "mps":
            raise RuntimeError("ember has no MPS backend; use 'cpu' or 'cuda' "
                               "(ember.backends.mps.is_available() is False)")
        self.type = kind
        self.index = int(idx) if idx else index
        if self.type == "cpu":
            self.index = None

    def __eq__(self, other) -> bool:
        try:
            other = device(other)
        except (TypeError, RuntimeError):
            return False
        if self.type != other.type:
            return False
        return self.type == "cpu" or (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
