// Normalisation family (CPU): the contract is csrc/common/norm_contract.h; norm.cpp has the
// implementation notes.
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace ember::cpu {
#include "common/norm_contract.h"
}  // namespace ember::cpu
