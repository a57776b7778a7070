"""``Optimizer``: the base of every optimizer, as ``torch.optim.Optimizer``.

An optimizer holds ``param_groups`` (dicts with a ``'params'`` list and that group's options, the
missing ones filled from ``defaults``) and ``state`` (a dict keyed by parameter). ``step`` updates
parameters in place: it writes ``p._data`` so that a Parameter keeps its identity, and bumps
``p._version`` so that a graph that saved the old value refuses to backpropagate through it.

SGD, Adam, AdamW, RMSprop and Adagrad run the fused C++/CUDA kernels of ``csrc/cpu/optim.h``
through :func:`_fused_update`; the other optimizers are written on NumPy/CuPy arrays.
"""
from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from itertools import chain
from typing import Any, Callable

import numpy as np

from .. import _dtype, backend, profiler
from ..autograd import grad_mode
from ..tensor import Tensor


class _RequiredParameter:
    """Marks an option that every parameter group must set (``torch.optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _RemovableHandle:
    """Returned by the hook registrations; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _with_step_hooks(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` to run the step pre/post hooks and to record (for the lr
    schedulers' order check) that the optimizer has stepped. A ``step`` that calls
    ``super().step()`` runs the hooks once."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self._in_step:
            return step(self, *args, **kwargs)
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("optimizer step pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        self._in_step = True
        try:
            with profiler.record_function(f"Optimizer.step#{type(self).__name__}.step"):
                out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._opt_called = True
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    return wrapper


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, or of dicts each holding ``'params'`` and per-group options.
        defaults: the options (and their default values) that groups not setting them take.
    """

    _in_step = False
    _opt_called = False  # set by the first step(); lr schedulers warn if they step first

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._step_pre_hooks: OrderedDict = OrderedDict()
        self._step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got {type(params).__name__}")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a new layer to fine-tune)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use a "
                            "list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each "
                          "duplicate is updated once per occurrence", stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: to ``None`` (default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    # ---- hooks ----------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs before each ``step``; it may return new
        ``(args, kwargs)``."""
        handle = _RemovableHandle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> _RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        handle = _RemovableHandle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    # ---- state dict -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``: parameters are
        replaced by their position in the concatenation of all groups' ``params`` (PyTorch's
        format). The state's tensors are the optimizer's own (not copies)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a :meth:`state_dict`: the groups' options and the per-parameter state. Tensors are
        copied, floating-point ones cast to their parameter's dtype (except ``step``), all moved to
        the parameter's device."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        by_index = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                            chain.from_iterable(g["params"] for g in self.param_groups)))
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in by_index:
                param = by_index[key]
                state[param] = {k: _cast_state(param, v, k) for k, v in value.items()}
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: v for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"


def _cast_state(param: Tensor, value, key=None):
    """A copy of a loaded state value placed like ``param``: floating-point tensors take its dtype
    (the scalar ``step`` keeps its own), every tensor its device; containers are walked."""
    if isinstance(value, Tensor):
        arr = value._data
        if key != "step" and arr.dtype.kind == "f":
            arr = arr.astype(param._data.dtype)
        return Tensor._make(backend.to_device_array(arr, param.device).copy())
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


# ---- helpers shared by the optimizers ------------------------------------------------------------
def _scalar_tensor(value: float) -> Tensor:
    """A 0-d CPU tensor for scalar state (``step``, NAdam's ``mu_product``): float64 when the
    default dtype is float64, else float32, as PyTorch stores them."""
    dt = np.float64 if _dtype.get_default_dtype() is _dtype.float64 else np.float32
    return Tensor._make(np.array(value, dtype=dt))


def _increment_step(state: dict) -> int:
    """Advance ``state['step']`` (a scalar tensor, or a number from an old state dict) and return
    the new count."""
    step = state.get("step")
    if not isinstance(step, Tensor):
        step = state["step"] = _scalar_tensor(0.0 if step is None else float(step))
    step._data += 1
    return int(step._data)


def _zeros_like(p: Tensor) -> Tensor:
    return Tensor._make(backend.xp_of(p._data).zeros_like(p._data))


def _init_state(state: dict, p: Tensor, *buffers: str, **scalars: float) -> dict:
    """A parameter's ``state``, filled on its first update (when ``buffers[0]`` is missing): ``step``
    at 0, then each of ``scalars`` as a scalar tensor and each of ``buffers`` as zeros like ``p``."""
    if buffers[0] not in state:
        state["step"] = _scalar_tensor(0.0)
        for name, value in scalars.items():
            state[name] = _scalar_tensor(value)
        for name in buffers:
            state[name] = _zeros_like(p)
    return state


# PyTorch's constructor checks: option -> (how its message names it, the valid values).
_OPTION_RULES: dict[str, tuple[str, Callable[[float], bool]]] = {
    "lr": ("learning rate", lambda v: v >= 0.0),
    "eps": ("epsilon value", lambda v: v >= 0.0),
    "rho": ("rho value", lambda v: 0.0 <= v <= 1.0),
    **{name: (f"{name} value", lambda v: v >= 0.0)
       for name in ("weight_decay", "momentum", "alpha", "lr_decay", "initial_accumulator_value",
                    "momentum_decay")},
}


def _check_options(**options) -> None:
    """PyTorch's argument checks of the optimizers' constructors, run in the order given (the one
    of PyTorch's constructor, so that the first bad option is the one reported)."""
    for name, value in options.items():
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
            continue
        label, valid = _OPTION_RULES[name]
        if not valid(value):
            raise ValueError(f"Invalid {label}: {value}")


def _evaluate_closure(closure):
    if closure is None:
        return None
    with grad_mode.enable_grad():
        return closure()


def _params_with_grad(group: dict):
    return (p for p in group["params"] if p.grad is not None)


class _ParamwiseOptimizer(Optimizer):
    """An optimizer whose ``step`` updates each parameter that has a gradient on its own, through
    ``_update(p, group)``. The constructor checks the options named in ``_checked`` (in
    PyTorch's order) before it takes the parameters, as PyTorch's constructors do."""

    _checked: tuple[str, ...] = ()

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self._check(defaults)
        if defaults.get("differentiable"):
            raise NotImplementedError("ember optimizers update parameters in place outside "
                                      "autograd; differentiable=True is not supported")
        super().__init__(params, defaults)

    def _check(self, defaults: dict[str, Any]) -> None:
        _check_options(**{name: defaults[name] for name in self._checked})

    def _update(self, p: Tensor, group: dict) -> None:
        raise NotImplementedError

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            for p in _params_with_grad(group):
                self._update(p, group)
        return loss


def _grad_of(p: Tensor, maximize: bool, weight_decay: float):
    """The gradient array to descend along: negated for ``maximize``, plus the L2 penalty
    ``weight_decay * p``. It may be ``p.grad``'s own array: read it, never write it."""
    g = p.grad._data
    g = -g if maximize else g
    return g + weight_decay * p._data if weight_decay != 0 else g


def _mark_updated(p: Tensor) -> None:
    p._version += 1


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fused_update(kernel: str, param: Tensor, buffers: list[Tensor | None], **options) -> None:
    """Run the fused update kernel ``kernel`` (``sgd_step``, ``adam_step``, ...) of ``param``'s
    device: it reads ``param.grad`` and updates ``param`` and the state ``buffers`` (``None`` for
    the ones the options leave unused) in place.

    The kernels take contiguous float32/float64 arrays. Other parameters (float16, strided views)
    are staged through contiguous copies in float32 (or their own float dtype) and written back, so
    that every rule has one definition."""
    p = param._data
    xp = backend.xp_of(p)
    kernels = backend.kernels_of(p)
    fn = getattr(kernels, kernel, None)
    if fn is None:
        raise RuntimeError(f"{kernels.__name__} has no {kernel} kernel: rebuild ember from sources "
                           "that include the optimizer kernels")
    direct = p.dtype in _KERNEL_DTYPES and p.flags.c_contiguous and all(
        b is None or b._data.flags.c_contiguous for b in buffers)
    work_dtype = p.dtype if p.dtype in _KERNEL_DTYPES else np.dtype(np.float32)
    grad = xp.asarray(param.grad._data, dtype=work_dtype, order="C")
    if direct:
        fn(p, grad, *(None if b is None else b._data for b in buffers), **options)
    else:
        tensors = [param] + [b for b in buffers if b is not None]
        work = [xp.asarray(t._data, dtype=work_dtype, order="C") for t in tensors]
        staged = iter(work[1:])
        fn(work[0], grad, *(None if b is None else next(staged) for b in buffers), **options)
        for t, w in zip(tensors, work):
            t._data[...] = w
    _mark_updated(param)
