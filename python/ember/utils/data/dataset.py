"""Datasets: the objects a :class:`~ember.utils.data.DataLoader` draws samples from.

Two kinds, as in PyTorch:

* map-style (:class:`Dataset`): ``len(ds)`` samples reached by index, ``ds[i]``;
* iterable-style (:class:`IterableDataset`): a stream, ``iter(ds)``, for data that cannot be
  indexed cheaply (a file read line by line, a generator of synthetic samples).
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

import ember

T_co = TypeVar("T_co", covariant=True)

__all__ = [
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``.

    ``ds1 + ds2`` concatenates two datasets into a :class:`ConcatDataset`.
    """

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define ``__iter__()``.

    With ``num_workers > 0`` every worker process iterates its own copy of the dataset, so a
    dataset that should not repeat samples splits the work itself, using
    :func:`~ember.utils.data.get_worker_info` to learn which worker it runs in.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class TensorDataset(Dataset[tuple]):
    """Samples are rows of tensors that share their first dimension.

    ``TensorDataset(x, y)`` with ``x`` of shape ``(N, ...)`` and ``y`` of shape ``(N, ...)``
    gives ``ds[i] == (x[i], y[i])``.
    """

    def __init__(self, *tensors: ember.Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        sizes = [t.shape[0] for t in tensors]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at positions ``indices``, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int) -> T_co:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """Several map-style datasets one after another.

    ``cumulative_sizes[k]`` is the number of samples in datasets ``0..k``; index ``i`` falls in
    the first dataset whose cumulative size exceeds ``i``.
    """

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for dataset in self.datasets:
            total += len(dataset)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        if index < 0:
            if -index > len(self):
                raise IndexError(f"index {index} is out of range for a dataset of length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"index {index} is out of range for a dataset of length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def _lengths_from_fractions(fractions: Sequence[float], total: int) -> list:
    """Turn fractions summing to 1 into integer lengths summing to ``total``.

    Each subset first gets ``floor(total * fraction)``; the few samples left over are handed
    out one at a time, to subsets 0, 1, 2, ... in turn.
    """
    lengths = [math.floor(total * fraction) for fraction in fractions]
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    return lengths


def random_split(
    dataset: Dataset[T_co],
    lengths: Sequence[float],
    generator: ember.Generator | None = None,
) -> list:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s.

    ``lengths`` holds either integer lengths that add up to ``len(dataset)`` or fractions that
    add up to 1 (``[0.8, 0.2]``). Pass a seeded ``generator`` for a split that does not change
    from run to run: ``random_split(ds, [0.8, 0.2], generator=ember.Generator().manual_seed(0))``.
    """
    total = len(dataset)
    is_fractions = all(0 <= length <= 1 for length in lengths) and math.isclose(sum(lengths), 1)
    if is_fractions and sum(lengths) != total:
        lengths = _lengths_from_fractions(lengths, total)
    if sum(lengths) != total:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the dataset "
            f"({total}); pass lengths that add up to it or fractions that add up to 1"
        )
    permutation = ember.random.numpy_generator(generator).permutation(total).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, permutation[start : start + length]))
        start += length
    return subsets
