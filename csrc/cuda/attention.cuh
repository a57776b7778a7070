// Scaled dot-product attention (CUDA), fused FlashAttention-2 style: the declarations of
// csrc/cpu/attention.h with the CUDA context and the same contracts (layouts q (B,Tq,D),
// k (B,Tk,D), v (B,Tk,Dv), out (B,Tq,Dv), lse (B,Tq); optional additive mask (B or 1,Tq,Tk);
// top-left causal masking; a query that sees no key gets out = 0, lse = -inf and no gradient).
//
// Forward: a block owns a tile of kB queries (Q tile and its output accumulator in shared
// memory) and streams kB-key tiles of K and V through shared memory. Each thread owns a 4 x 4
// patch of the score tile and the same 4 rows of the output; per row, the running max and sum
// of exponentials (online softmax) are combined across the kB/4 threads of the row with warp
// shuffles, and the output is rescaled only when the max grows. Scores never reach global
// memory; key tiles past the diagonal are skipped under is_causal. Accumulation in T (float32
// accumulates in float).
//
// Backward, recomputing P = exp(S - lse) from the saved lse, without atomics:
//   1. Delta_i = sum_d grad_out_id * out_id (one warp per row);
//   2. grad_k, grad_v: a block owns a key tile (its dK, dV accumulators in shared memory) and
//      streams the query tiles that can see it: dV += P^T dO, dK += dS^T Q;
//   3. grad_q: a block owns a query tile and streams the key tiles: dQ += dS K,
// with dP = dO V^T and dS = P * (dP - Delta). Every output element has one writer, so results
// are deterministic.
//
// Tiles are kB = 64 (256 threads) or, when the head dimensions need too much shared memory (or
// Tq is short), kB = 32 (64 threads). Head dimensions up to ~400 (float32) / ~200 (float64) fit;
// larger ones raise std::runtime_error.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {

// Reads q, k, v, mask; writes out and lse. FLOPs 2*B*Tq*Tk*(D + Dv) (about halved by is_causal)
// + B*Tq*Tk exp. Bytes: q, out, lse and mask once; k and v once per query tile (mostly from L2).
template <class T>
void scaled_dot_product_attention_forward(const Context& ctx, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv, const T* q, const T* k,
                  const T* v, const T* mask, int64_t mask_batch_stride, bool is_causal, double scale, T* out, T* lse);

// Reads grad_out, q, k, v, mask, out, lse; writes grad_q, grad_k, grad_v (see cpu/attention.h).
// FLOPs ~ 5*B*Tq*Tk*(D + Dv) (S and dP are computed by both the dK/dV and the dQ kernel).
template <class T>
void scaled_dot_product_attention_backward(const Context& ctx, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv, const T* grad_out,
                   const T* q, const T* k, const T* v, const T* mask, int64_t mask_batch_stride, bool is_causal,
                   double scale, const T* out, const T* lse, T* grad_q, T* grad_k, T* grad_v);

}  // namespace ember::cuda
