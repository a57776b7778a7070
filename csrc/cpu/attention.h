// Scaled dot-product attention (CPU): the contract is csrc/common/attention_contract.h; attention.cpp has the
// implementation notes.
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace ember::cpu {
#include "common/attention_contract.h"
}  // namespace ember::cpu
