// GEMM family (CUDA): C = alpha * op(A) @ op(B) + beta * C, then an optional fused epilogue.
// Same declarations as csrc/cpu/gemm.h with the CUDA context; host-includable (no CUDA headers).
#pragma once
#include <cstdint>

#include "common/epilogue.h"
#include "cuda/context.cuh"

namespace ember::cuda {

// Strided-batched, row-major GEMM, launched on ctx.stream.
// For b in [0, batch): C_b (M x N, leading dim ldc) = alpha * op(A_b) @ op(B_b) + beta * C_b,
// then C_b += bias (per column or per row) and the activation is applied.
// op(A_b) is M x K: A_b is M x K (lda >= K) or, with trans_a, K x M (lda >= M); likewise B.
// A_b = A + b * stride_a (stride 0 broadcasts one matrix over the batch); same for B and C.
// When beta == 0, C is not read (it may hold NaN). All pointers are device pointers.
// FLOPs: 2 * batch * M * N * K. Minimum bytes: sizeof(T) * batch * (M*K + K*N + M*N (+M*N if beta)).
// float: warp-tiled SIMT kernel (128x128x8 block tile, 8x8 per thread, 16-byte loads when
// aligned); double: 64x64x8 block tile, 4x4 per thread.
template <class T>
void gemm(const Context& ctx, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N,
          int64_t K, T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
          int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c,
          const Epilogue<T>& epilogue = {});

// The same contract for float32 on tensor cores: the operands are rounded to TF32 (10-bit
// mantissa) and multiplied with mma.sync m16n8k8, accumulating in float32. Relative error is
// about 1e-3 * sqrt(K) rather than 1e-7 * sqrt(K); used only when the caller allows TF32.
void gemm_tf32(const Context& ctx, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N,
               int64_t K, float alpha, const float* A, int64_t lda, int64_t stride_a, const float* B,
               int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c,
               const Epilogue<float>& epilogue = {});

}  // namespace ember::cuda
