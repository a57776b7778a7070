"""Collation: turning a list of samples into one batch.

:func:`default_collate` follows PyTorch's rules, applied recursively to the structure of the
first sample:

========================  ============================================================
sample element            batched as
========================  ============================================================
``ember.Tensor``          ``ember.stack`` along a new first dimension (device kept)
NumPy array               a tensor stacked from the arrays (dtype kept)
NumPy scalar              a 1-D tensor of that dtype
``bool`` / ``int``        a ``bool`` / ``int64`` tensor
``float``                 a ``float64`` tensor
``str`` / ``bytes``       a list, unchanged
mapping (dict, ...)       a mapping of the same type, each key collated
namedtuple                the same namedtuple type, each field collated
tuple / list              a list with each position collated (all samples equal length)
========================  ============================================================

Samples of ``(image, label)`` therefore give ``[images (B, ...), labels (B,)]``.

Worker processes collate into NumPy arrays only (:func:`_collate_on_host`) so that no tensor
has to be pickled; the main process then turns the arrays into tensors with
:func:`default_convert`. Both paths share :func:`_collate`, so they give the same batches.
"""
from __future__ import annotations

import collections.abc
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

import ember

from ._arrays import to_numpy

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; found {}"
)


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _has_numeric_dtype(array: np.ndarray | np.generic) -> bool:
    # Strings ('U', 'S'), void ('V') and Python objects ('O') cannot become tensors.
    return array.dtype.kind not in "USVO"


def _rebuild(prototype: Any, items: Any) -> Any:
    """A container of ``prototype``'s type holding ``items``, or the plain ``items`` when that
    type cannot be built from them (for example a ``defaultdict`` or ``range``)."""
    try:
        return type(prototype)(items)
    except TypeError:
        return items


def _map_structure(fn: Callable[[Any], Any], data: Any) -> Any:
    """Apply ``fn`` to every leaf of nested mappings, namedtuples and sequences (not strings).

    Plain tuples come back as lists, as in PyTorch's ``default_convert``.
    """
    if isinstance(data, (str, bytes)):
        return fn(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: _map_structure(fn, value) for key, value in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(_map_structure(fn, value) for value in data))
    if isinstance(data, tuple):
        return [_map_structure(fn, value) for value in data]
    if isinstance(data, collections.abc.Sequence):
        return _rebuild(data, [_map_structure(fn, value) for value in data])
    return fn(data)


def _array_to_tensor(leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray) and _has_numeric_dtype(leaf):
        return ember.from_numpy(leaf)
    if isinstance(leaf, np.generic) and _has_numeric_dtype(leaf):
        return ember.from_numpy(np.asarray(leaf))
    return leaf


def _tensor_to_array(leaf: Any) -> Any:
    return to_numpy(leaf) if isinstance(leaf, ember.Tensor) else leaf


def default_convert(data: Any) -> Any:
    """Turn the NumPy arrays and NumPy scalars inside ``data`` into tensors.

    Used instead of :func:`default_collate` when batching is off (``batch_size=None``): each
    sample is converted but not stacked. Tensors and other leaves are left as they are.
    """
    return _map_structure(_array_to_tensor, data)


def _collate(batch: Sequence[Any], stack_tensors: Callable[[Sequence[Any]], Any]) -> Any:
    """Collate ``batch`` following the table in the module docstring.

    Tensors are stacked by ``stack_tensors``; every other numeric leaf becomes a NumPy array.
    """
    elem = batch[0]
    if isinstance(elem, ember.Tensor):
        return stack_tensors(batch)
    if isinstance(elem, (str, bytes)):  # before NumPy: np.str_ is also a str
        return list(batch)
    if isinstance(elem, (np.ndarray, np.generic)):
        if not _has_numeric_dtype(elem):
            raise TypeError(_COLLATE_ERROR.format(f"an array of dtype {elem.dtype}"))
        return np.stack(batch) if isinstance(elem, np.ndarray) else np.asarray(batch)
    if isinstance(elem, bool):  # before int: bool is a subclass of int
        return np.asarray(batch, dtype=np.bool_)
    if isinstance(elem, int):
        return np.asarray(batch, dtype=np.int64)
    if isinstance(elem, float):
        return np.asarray(batch, dtype=np.float64)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: _collate([sample[key] for sample in batch], stack_tensors)
                               for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(_collate(field, stack_tensors) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [_collate(column, stack_tensors) for column in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild(elem, columns)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def _stack_on_host(tensors: Sequence[ember.Tensor]) -> np.ndarray:
    return np.stack([to_numpy(t) for t in tensors])


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch (rules in the module docstring).

    Two samples ``(image, label)`` with images of shape ``(1, 28, 28)`` and integer labels give
    ``[images, labels]``: a ``(2, 1, 28, 28)`` tensor and an ``int64`` tensor of shape ``(2,)``.
    """
    return default_convert(_collate(batch, ember.stack))


def _collate_on_host(batch: Sequence[Any]) -> Any:
    """:func:`default_collate` without the final conversion: tensors become NumPy arrays.

    Runs in worker processes; the main process applies :func:`default_convert`.
    """
    return _collate(batch, _stack_on_host)


def _convert_on_host(sample: Any) -> Any:
    """The worker-side half of :func:`default_convert`: tensors become NumPy arrays."""
    return _map_structure(_tensor_to_array, sample)
