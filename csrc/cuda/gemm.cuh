// GEMM family (CUDA): the contract (and the declaration of gemm) is csrc/common/gemm_contract.h,
// with the CUDA context; launched on ctx.stream, all pointers device pointers. Host-includable
// (no CUDA headers). float: warp-tiled SIMT kernel (128x128x8 block tile, 8x8 per thread,
// 16-byte loads when aligned); double: 64x64x8 block tile, 4x4 per thread.
#pragma once
#include <cstdint>

#include "common/epilogue.h"
#include "cuda/context.cuh"

namespace ember::cuda {

#include "common/gemm_contract.h"

// The same contract for float32 on tensor cores: the operands are rounded to TF32 (10-bit
// mantissa) and multiplied with mma.sync m16n8k8, accumulating in float32. Relative error is
// about 1e-3 * sqrt(K) rather than 1e-7 * sqrt(K); used only when the caller allows TF32.
void gemm_tf32(const Context& ctx, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N,
               int64_t K, float alpha, const float* A, int64_t lda, int64_t stride_a, const float* B,
               int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
               const Epilogue<float>& epilogue = {});

}  // namespace ember::cuda
