// GEMM family (CPU): the contract is csrc/common/gemm_contract.h; see gemm.cpp for the blocking
// and the AVX2 / AVX-512 micro-kernels.
#pragma once
#include <cstdint>

#include "common/epilogue.h"
#include "cpu/context.h"

namespace ember::cpu {
#include "common/gemm_contract.h"
}  // namespace ember::cpu
