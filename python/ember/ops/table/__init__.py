"""The op table: one row per public differentiable op, so a reader finds everything that serves an
op from its row alone (its public callable, the Op class that implements it, the CPU/CUDA kernel
bindings it runs, the composite written with Tensor ops, a NumPy float64 reference, the sample
inputs the generic test tests/test_op_table.py runs, the shapes the benchmark uses and the test and
benchmark modules serving it).

The rows live in one module per family of ops (core: elementwise, reductions and the kernel-backed
ops; shape: views, joins and copies; indexing: gather/scatter/masking; numeric: clamps, linear
algebra and the remaining reductions; nn: pooling, padding, resampling and the other
nn.functional layers; loss: the losses), all built on ._base. Sample inputs are small (at most ~7
per dimension), seeded, and cover odd and size-1 shapes, empty dimensions, non-contiguous
(transposed) inputs and broadcasting where the op broadcasts. Kernel names are today's names in
``ember._C`` / ``ember._C_cuda``.
"""
from __future__ import annotations

from . import core, indexing, loss, nn, numeric, shape
from ._base import OpInfo, Sample, to_numpy
from .core import (
    conv2d_ref,
    cross_entropy_ref,
    gru_cell_ref,
    layer_norm_ref,
    log_softmax_ref,
    lstm_cell_ref,
    sdpa_ref,
    sigmoid_ref,
    softmax_ref,
)

__all__ = [
    "OP_TABLE",
    "ROWS",
    "OpInfo",
    "Sample",
    "conv2d_ref",
    "cross_entropy_ref",
    "gru_cell_ref",
    "layer_norm_ref",
    "log_softmax_ref",
    "lstm_cell_ref",
    "sdpa_ref",
    "sigmoid_ref",
    "softmax_ref",
    "to_numpy",
]

ROWS: list[OpInfo] = [row for family in (core, shape, indexing, numeric, nn, loss) for row in family.rows()]
OP_TABLE: dict[str, OpInfo] = {row.name: row for row in ROWS}
assert len(OP_TABLE) == len(ROWS), "duplicate op names in the table"
