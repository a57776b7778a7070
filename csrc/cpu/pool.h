// Pooling and upsampling family (CPU): the contract is csrc/common/pool_contract.h. OpenMP runs
// over the planes, so every write (including the scatters of the backward passes) stays inside
// one thread's plane.
#pragma once
#include <cstdint>

#include "common/window2d.h"
#include "cpu/context.h"

namespace ember::cpu {
#include "common/pool_contract.h"
}  // namespace ember::cpu
