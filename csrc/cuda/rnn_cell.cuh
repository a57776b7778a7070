// Recurrent cells (CUDA): the contract is csrc/common/rnn_cell_contract.h, with the CUDA context.
// One thread per (b, h) unit computes all of that unit's gates, so each thread reads and writes
// every gate value of its unit once (neighbouring threads take neighbouring h: coalesced).
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/rnn_cell_contract.h"
}  // namespace ember::cuda
