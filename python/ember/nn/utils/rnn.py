"""Variable-length sequences for the recurrent layers: ``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pad_sequence``, ``pack_sequence`` and their inverses.

A packed sequence stores only the valid time steps, time-major: ``data`` is (sum(lengths), *)
with the ``batch_sizes[t]`` sequences still running at step t stacked in order (sequences sorted
by decreasing length; ``sorted_indices`` maps back to the caller's batch order). Packing and
unpacking are gathers (``index_select``), so gradients flow through them.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import backend, ops
from ...tensor import Tensor


def _long(values, device=None) -> Tensor:
    arr = np.asarray(values, dtype=np.int64)
    return Tensor._make(backend.to_device_array(arr, device) if device is not None else arr)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of an index permutation (``None`` stays ``None``), as PyTorch's
    ``nn.utils.rnn.invert_permutation``."""
    if permutation is None:
        return None
    perm = backend.to_host(permutation._data)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=perm.dtype)
    return _long(inverse, permutation.device)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Holds ``data`` (sum(lengths), *), ``batch_sizes`` (max_len,) int64 on the CPU, and the
    permutations between the caller's batch order and the length-sorted order (or None)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), PyTorch's legacy form
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data) -> PackedSequence:
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """Move/cast ``data`` (indices follow to the device; ``batch_sizes`` stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: t.to(data.device)) if data.device != self.data.device else (lambda t: t)
        return type(self)(data, self.batch_sizes,
                          move(self.sorted_indices) if self.sorted_indices is not None else None,
                          move(self.unsorted_indices) if self.unsorted_indices is not None else None)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to("cuda")

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self._with_data(self.data.double())

    def float(self) -> PackedSequence:
        return self._with_data(self.data.float())

    def half(self) -> PackedSequence:
        return self._with_data(self.data.half())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return backend.to_host(lengths._data).astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences with the given
    ``lengths``. Unless ``enforce_sorted=False``, lengths must be in decreasing order."""
    lengths = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if len(lengths) != input.shape[batch_dim]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={input.shape[batch_dim]})")
    if len(lengths) and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    sorted_indices = None
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _long(order, input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if len(lengths) and lengths[0] > steps:
        raise RuntimeError(f"a sequence length ({lengths[0]}) exceeds the padded length ({steps})")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0] if len(lengths) else 0)[:, None]).sum(1)
    # row t*B + b of the flattened input, for every valid (t, b), time-major
    rows = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)]) if len(batch_sizes) \
        else np.zeros(0, dtype=np.int64)
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _long(rows, input.device))
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Inverse of ``pack_padded_sequence``: (T, B, *) (or (B, T, *)) padded with ``padding_value``,
    and the lengths (B,) as an int64 CPU tensor, both in the caller's original batch order."""
    data = sequence.data
    batch_sizes = backend.to_host(sequence.batch_sizes._data).astype(np.int64)
    max_len = len(batch_sizes)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_len}")
        max_len = total_length
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]) if len(batch_sizes) else np.zeros(0, np.int64)
    pad_row = data.shape[0]
    index = np.full((max_len, batch), pad_row, dtype=np.int64)
    for t, (start, n) in enumerate(zip(starts, batch_sizes)):
        index[t, :n] = start + np.arange(n)
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    filler = ops.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = ops.cat([data, filler]).index_select(0, _long(index.reshape(-1), data.device))
    padded = padded.reshape((max_len, batch) + tuple(data.shape[1:]))
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[backend.to_host(sequence.unsorted_indices._data)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _long(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length tensors (L_i, *) into (max L, B, *) (or (B, max L, *))."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = max_len - s.shape[0]
        widths = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(ops.pad(s, widths, value=padding_value) if extra else s)
    return ops.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """Inverse of ``pad_sequence``: the list of (L_i, *) tensors."""
    seqs = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [seqs[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (decreasing lengths unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Inverse of ``pack_sequence``: the list of (L_i, *) tensors in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
