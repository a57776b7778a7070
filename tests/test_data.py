"""ember.utils.data: datasets, samplers, collation and the DataLoader (in-process and workers).

Datasets used with worker processes are defined at module level: workers are started with
``spawn`` and unpickle them by importing this module.
"""
from __future__ import annotations

import collections
import os

import ember
import numpy as np
import pytest
from ember.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

# ----------------------------------------------------------------- datasets for the tests


class Squares(Dataset):
    """Sample i: (float32 array [i, i], int i, dict with i*i and a name)."""

    def __init__(self, n: int = 23) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return np.full(2, i, np.float32), i, {"square": i * i, "name": f"s{i}"}


class Counting(IterableDataset):
    """0 .. n-1; each worker takes every num_workers-th number starting at its id."""

    def __init__(self, n: int = 17) -> None:
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self) -> int:
        return self.n


class RandomDraws(Dataset):
    """Each sample is a number drawn from ember's global generator (seeded per worker)."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        return float(ember.random.numpy_generator().random())


_INIT_MARK = None


def _mark_worker(worker_id: int) -> None:
    global _INIT_MARK
    _INIT_MARK = 100 + worker_id


class ReportsInit(Dataset):
    """Returns what ``worker_init_fn`` stored in this process, and the worker id."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        return _INIT_MARK, get_worker_info().id


class FailsAtThree(Dataset):
    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        if i == 3:
            raise ValueError("sample 3 is broken")
        return i


class DiesAtTwo(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        if i == 2:
            os._exit(3)  # simulate a worker killed by the system
        return i


def _batches_as_lists(loader):
    """Every batch of Squares as plain Python values, to compare loaders."""
    return [(arrays.numpy().tolist(), ints.tolist(), extra["square"].tolist(), extra["name"])
            for arrays, ints, extra in loader]


# ------------------------------------------------------------------------------ datasets


def test_tensor_dataset_rows_and_length():
    x, y = ember.arange(12).reshape(6, 2), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    row, label = ds[4]
    assert row.tolist() == [8, 9] and label.item() == 4
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, ember.arange(5))


def test_subset_and_concat():
    a, b = Squares(3), Squares(5)
    assert Subset(b, [4, 0])[0][1] == 4
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 8
    assert [both[i][1] for i in range(8)] == [0, 1, 2, 0, 1, 2, 3, 4]
    assert both[-1][1] == 4
    with pytest.raises(IndexError):
        both[8]


def test_random_split_lengths_fractions_and_seed():
    ds = Squares(11)
    parts = random_split(ds, [0.5, 0.5], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [6, 5]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(11))
    again = random_split(ds, [0.5, 0.5], generator=ember.Generator().manual_seed(1))
    assert again[0].indices == parts[0].indices
    assert [len(p) for p in random_split(ds, [3, 8])] == [3, 8]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])


# ------------------------------------------------------------------------------ samplers


def test_sequential_and_random_samplers():
    data = range(10)
    assert list(SequentialSampler(data)) == list(range(10))
    ember.manual_seed(0)
    first = list(RandomSampler(data))
    ember.manual_seed(0)
    assert list(RandomSampler(data)) == first
    assert sorted(first) == list(range(10))
    g = ember.Generator().manual_seed(5)
    sampler = RandomSampler(data, generator=g)
    epoch1, epoch2 = list(sampler), list(sampler)
    assert epoch1 != epoch2  # a new order every epoch
    long = list(RandomSampler(data, num_samples=25))
    assert len(long) == 25 and collections.Counter(long[:20]) == collections.Counter(list(data) * 2)
    with_replacement = list(RandomSampler(data, replacement=True, num_samples=50))
    assert len(with_replacement) == 50 and set(with_replacement) <= set(data)


def test_subset_random_sampler():
    indices = [3, 7, 11, 20]
    drawn = list(SubsetRandomSampler(indices))
    assert sorted(drawn) == indices


def test_weighted_random_sampler():
    ember.manual_seed(0)
    weights = [0.0, 1.0, 3.0]
    draws = list(WeightedRandomSampler(weights, num_samples=4000))
    counts = collections.Counter(draws)
    assert counts[0] == 0
    # 4000 draws with p = 3/4: the share of index 2 is within 5 standard deviations of 0.75.
    assert abs(counts[2] / 4000 - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 4000)
    unique = list(WeightedRandomSampler([1, 1, 1, 1], num_samples=4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0, 0.0], num_samples=2, replacement=False)
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0, -1.0], num_samples=2)


def test_batch_sampler():
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2


# ----------------------------------------------------------------------------- collation


def test_default_collate_numbers_arrays_tensors():
    batch = default_collate([(np.zeros((2, 3), np.float32), 1, 0.5, True, np.int16(4)),
                             (np.ones((2, 3), np.float32), 2, 1.5, False, np.int16(5))])
    arrays, ints, floats, bools, np_scalars = batch
    assert isinstance(batch, list)
    assert tuple(arrays.shape) == (2, 2, 3) and arrays.dtype == ember.float32
    assert ints.dtype == ember.int64 and ints.tolist() == [1, 2]
    assert floats.dtype == ember.float64 and floats.tolist() == [0.5, 1.5]
    assert bools.dtype == ember.bool and bools.tolist() == [True, False]
    assert np_scalars.dtype == ember.int16
    stacked = default_collate([ember.ones(3, dtype=ember.float64), ember.zeros(3, dtype=ember.float64)])
    assert tuple(stacked.shape) == (2, 3) and stacked.dtype == ember.float64


def test_default_collate_structures():
    Point = collections.namedtuple("Point", ["x", "y"])
    batch = default_collate([{"p": Point(1, 2.0), "tag": "a", "seq": [1, 2]},
                             {"p": Point(3, 4.0), "tag": "b", "seq": [3, 4]}])
    assert isinstance(batch["p"], Point)
    assert batch["p"].x.tolist() == [1, 3] and batch["p"].y.tolist() == [2.0, 4.0]
    assert batch["tag"] == ["a", "b"]
    assert [column.tolist() for column in batch["seq"]] == [[1, 3], [2, 4]]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError):
        default_collate([None, None])


def test_default_convert_makes_tensors_without_stacking():
    converted = default_convert({"a": np.arange(3), "b": (np.float32(2.0), "text")})
    assert isinstance(converted["a"], ember.Tensor) and converted["a"].tolist() == [0, 1, 2]
    assert isinstance(converted["b"], list) and converted["b"][0].item() == 2.0
    assert converted["b"][1] == "text"


# ---------------------------------------------------------------------- DataLoader, 1 proc


def test_loader_batches_in_order_with_len_and_drop_last():
    loader = DataLoader(Squares(23), batch_size=5)
    assert loader.dataset.n == 23 and len(loader) == 5
    batches = _batches_as_lists(loader)
    assert [b[1] for b in batches] == [list(range(i, min(i + 5, 23))) for i in range(0, 23, 5)]
    assert batches[0][0][1] == [1.0, 1.0] and batches[0][3][2] == "s2"
    dropped = DataLoader(Squares(23), batch_size=5, drop_last=True)
    assert len(dropped) == 4 and len(list(dropped)) == 4


def test_loader_shuffle_reproducible_with_manual_seed_and_generator():
    ember.manual_seed(3)
    first = _batches_as_lists(DataLoader(Squares(), batch_size=4, shuffle=True))
    ember.manual_seed(3)
    second = _batches_as_lists(DataLoader(Squares(), batch_size=4, shuffle=True))
    assert first == second
    assert sorted(i for batch in first for i in batch[1]) == list(range(23))
    loader = DataLoader(Squares(), batch_size=4, shuffle=True,
                        generator=ember.Generator().manual_seed(9))
    epoch1, epoch2 = _batches_as_lists(loader), _batches_as_lists(loader)
    assert epoch1 != epoch2
    again = DataLoader(Squares(), batch_size=4, shuffle=True,
                       generator=ember.Generator().manual_seed(9))
    assert _batches_as_lists(again) == epoch1


def test_loader_options_and_errors():
    unbatched = list(DataLoader(Squares(3), batch_size=None))
    assert isinstance(unbatched[1][0], ember.Tensor) and unbatched[1][1] == 1
    by_batch_sampler = DataLoader(Squares(6), batch_sampler=[[5, 0], [2]])
    assert [b[1].tolist() for b in by_batch_sampler] == [[5, 0], [2]]
    custom = DataLoader(Squares(4), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(custom) == [2, 2]
    assert DataLoader(Squares(4), pin_memory=True).pin_memory
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(Squares(), sampler=SequentialSampler(range(3)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(Squares(), batch_size=4, batch_sampler=[[0]])
    with pytest.raises(ValueError):
        DataLoader(Counting(), shuffle=True)
    with pytest.raises(ValueError):
        DataLoader(Squares(), num_workers=-1)


def test_loader_over_iterable_dataset():
    loader = DataLoader(Counting(10), batch_size=4)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(loader) == 3
    assert len(list(DataLoader(Counting(10), batch_size=4, drop_last=True))) == 2


def test_loader_over_tensor_dataset():
    x = ember.randn(10, 3)
    y = ember.arange(10)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[:4])
    assert yb.tolist() == [0, 1, 2, 3]


# ------------------------------------------------------------------- DataLoader, workers


def test_workers_give_the_same_batches_as_the_main_process():
    def loader(workers):
        return DataLoader(Squares(), batch_size=4, shuffle=True, num_workers=workers,
                          generator=ember.Generator().manual_seed(7))

    assert _batches_as_lists(loader(2)) == _batches_as_lists(loader(0))


def test_workers_with_iterable_dataset_and_tensor_dataset():
    batches = [b.tolist() for b in DataLoader(Counting(17), batch_size=4, num_workers=2)]
    # Worker 0 streams the even numbers, worker 1 the odd ones; batches alternate.
    assert batches == [[0, 2, 4, 6], [1, 3, 5, 7], [8, 10, 12, 14], [9, 11, 13, 15], [16]]
    x = ember.randn(9, 2)
    from_workers = [xb.numpy() for xb, _ in DataLoader(TensorDataset(x, ember.arange(9)),
                                                       batch_size=4, num_workers=2)]
    np.testing.assert_array_equal(np.concatenate(from_workers), x.numpy())


def test_worker_seeding_and_init_fn():
    def draws():
        loader = DataLoader(RandomDraws(), batch_size=2, num_workers=2,
                            generator=ember.Generator().manual_seed(0))
        return [b.tolist() for b in loader]

    first = draws()
    assert draws() == first  # the workers' generators are seeded from the loader's generator
    assert first[0] != first[1]  # ... and differently in each worker
    marks = DataLoader(ReportsInit(), batch_size=1, num_workers=2, worker_init_fn=_mark_worker)
    for mark, worker_id in marks:
        assert mark.item() == 100 + worker_id.item()


def test_persistent_workers_across_epochs():
    loader = DataLoader(Squares(), batch_size=5, num_workers=2, persistent_workers=True)
    reference = _batches_as_lists(DataLoader(Squares(), batch_size=5))
    assert _batches_as_lists(loader) == reference
    abandoned = iter(loader)
    next(abandoned)  # stop half-way: the next epoch must not see this epoch's leftovers
    assert _batches_as_lists(loader) == reference


def test_worker_errors_reach_the_main_process():
    loader = DataLoader(FailsAtThree(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError, match=r"(?s)worker process .*sample 3 is broken"):
        list(loader)


def test_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(DiesAtTwo(), batch_size=1, num_workers=1))
