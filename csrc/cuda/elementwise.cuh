// Fused elementwise activations (CUDA): the contract is csrc/common/elementwise_contract.h.
// Exact GELU is x * Phi(x) with CUDA's normcdf (within a few ulp everywhere, also in float32's
// far tails). Contiguous device buffers; one thread per element in a grid-stride loop, one pass
// over memory.
#pragma once
#include <cstdint>

#include "common/activation_kind.h"
#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/elementwise_contract.h"
}  // namespace ember::cuda
