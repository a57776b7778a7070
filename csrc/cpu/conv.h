// Convolution family (CPU): the contract is csrc/common/conv_contract.h.
//
// im2col and col2im run OpenMP over (sample, channel); col2im is race-free since the rows of
// channel c only ever touch plane c. The convolutions split the batch over the threads; each
// unfolds a chunk of its samples at a time into its own column buffer (scratch bounded by a fixed
// budget) and multiplies it with one serial GEMM per group over all the chunk's output positions;
// 1x1 stride-1 unpadded convolutions read x directly as the column matrix. For the weight
// gradient the samples of a chunk sit side by side along the reduction dimension; each thread
// sums its slice of the batch into its own partial gradient, and the partials are added in a
// fixed order (deterministic for a given thread count).
#pragma once
#include <cstdint>

#include "common/window2d.h"
#include "cpu/context.h"

namespace ember::cpu {
#include "common/conv_contract.h"
}  // namespace ember::cpu
