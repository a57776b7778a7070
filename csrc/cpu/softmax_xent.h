// Softmax / log-softmax and the classification losses (CPU): the contract is
// csrc/common/softmax_xent_contract.h; softmax_xent.cpp has the implementation notes.
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace ember::cpu {
#include "common/softmax_xent_contract.h"
}  // namespace ember::cpu
