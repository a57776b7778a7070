// Optimizer updates (CPU): the contract is csrc/common/optim_contract.h; optim.cpp has the
// implementation notes.
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace ember::cpu {
#include "common/optim_contract.h"
}  // namespace ember::cpu
