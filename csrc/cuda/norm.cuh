// Normalisation family (CUDA): the contract of every kernel (layouts, saved statistics, optional
// arrays, empty inputs, running statistics) is csrc/common/norm_contract.h, with the CUDA
// context; arrays are C-contiguous device memory. Below: only what is CUDA-specific.
//
// Numerics (both precisions): statistics are Welford triples (count, mean, M2) accumulated in
// double per thread and merged pairwise (Chan et al.) across a warp with shuffles and across
// warps through shared memory, in a fixed order (deterministic). Gradient sums accumulate in
// double. x - mean is formed as (x - mean_hi) - mean_lo with mean_hi = mean rounded to T, so
// float32 inputs with a large mean keep their precision (as the CPU kernels).
//
// Parallel layout: batch norm reduces each channel with a grid of (channel, slice) blocks whose
// partial statistics a second kernel merges (enough blocks to fill the GPU even with few
// channels); layer norm and group norm give each row (or (sample, group)) to one warp when it is
// short and to one block otherwise; normalising and grad_x are elementwise kernels driven by
// per-channel coefficients. Scratch (partials, coefficients) comes from the context workspace.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/norm_contract.h"
}  // namespace ember::cuda
