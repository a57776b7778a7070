// Fused elementwise activations (CPU): the contract is csrc/common/elementwise_contract.h. Each
// is one multithreaded pass over memory whose NumPy composition would cost several (and, for
// exact GELU, needs erf, which NumPy lacks); see elementwise.cpp for the vectorisation.
#pragma once
#include <cstdint>

#include "common/activation_kind.h"
#include "cpu/context.h"

namespace ember::cpu {
#include "common/elementwise_contract.h"
}  // namespace ember::cpu
