// Softmax / log-softmax and the classification losses (CUDA): the contract is
// csrc/common/softmax_xent_contract.h, with the CUDA context.
//
// Strategy: contiguous rows (inner == 1) go to one warp each when short and to one block when
// long; each thread keeps an online (running max, sum of exp(x - max)) pair over its elements,
// the pairs are merged across the row, and a second pass writes the result: two passes over x
// instead of three. Strided softmax (inner > 1) gives each column to one thread (neighbouring
// threads read neighbouring columns, so loads coalesce). Float32 reduces in float.
// Cross-entropy: one warp or block per row for the forward; the backward gives each logit a
// thread that recomputes p = exp(x - lse) and writes its gradient in the same pass. The target
// check runs on the device and its TargetCheck is copied back, which synchronises ctx.stream once
// per call; a row with a bad target is never indexed with it (its loss or gradient row is NaN).
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/softmax_xent_contract.h"
}  // namespace ember::cuda
