"""``nn.Parameter``: a tensor that a Module registers as learnable (requires_grad by default)."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        from ..ops import empty

        if data is None:
            data = empty(0)
        p = object.__new__(cls)
        p._init(data._data, False)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        from ..tensor import _rebuild

        return (_rebuild_parameter, (_rebuild, Tensor.__reduce_ex__(self, protocol)[1]))

    def __deepcopy__(self, memo):
        out = Parameter(Tensor._make(self._data.copy()), self.requires_grad)
        memo[id(self)] = out
        return out


def _rebuild_parameter(rebuild, args):
    t = rebuild(*args)
    return Parameter(t, t.requires_grad)


class UninitializedParameter(Parameter):
    pass
