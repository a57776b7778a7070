"""A DataLoader whose batches are graphs merged into one :class:`~ember.graph.Batch`."""
from __future__ import annotations

from typing import Any

from ember.utils.data import DataLoader as _TensorDataLoader
from ember.utils.data import Dataset

from .data import Batch

__all__ = ["DataLoader"]


class DataLoader(_TensorDataLoader):
    """``DataLoader(graphs, batch_size=32, shuffle=True)``: each batch is a :class:`Batch`
    with a ``batch`` vector mapping nodes to their graph (for ``global_*_pool``).

    Takes the same options as :class:`ember.utils.data.DataLoader` except ``collate_fn``.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 **options: Any) -> None:
        if "collate_fn" in options:
            raise TypeError("the graph DataLoader always collates with Batch.from_data_list")
        super().__init__(dataset, batch_size, shuffle, collate_fn=Batch.from_data_list, **options)
