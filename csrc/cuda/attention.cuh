// Scaled dot-product attention (CUDA), fused FlashAttention-2 style: the contract is
// csrc/common/attention_contract.h, with the CUDA context. The forward reads k and v once per
// query tile (mostly from L2).
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
#include "common/attention_contract.h"
}  // namespace ember::cuda
