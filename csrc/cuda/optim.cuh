// Optimizer updates (CUDA): the contract is csrc/common/optim_contract.h, with the CUDA context.
// Every array is a contiguous device buffer, updated in place by one fused elementwise kernel:
// one launch per parameter tensor (no multi-tensor apply yet).
// Hyper-parameters arrive in double; derived constants (bias corrections, 1 - beta) are formed in
// double on the host, then the arithmetic runs in T, as on the CPU.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/optim_contract.h"
}  // namespace ember::cuda
