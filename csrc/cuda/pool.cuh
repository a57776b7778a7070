// Pooling and upsampling family (CUDA): the contract is csrc/common/pool_contract.h, with the
// CUDA context; arrays are C-contiguous device memory.
//
// Every kernel runs one thread per element it writes. Forward passes and the backward passes
// that can be written as gathers (average pooling as the adjoint gather over the windows holding
// each input, adaptive average, nearest upsampling, unpool backward) need no atomics and sum in a
// fixed order; the scatters whose sources are data-dependent or overlap irregularly (max pooling
// backward, bilinear backward) zero the output and use atomicAdd. max_unpool2d_forward finds the
// largest i per position (the CPU's "last write") with an atomicMax pass over a workspace of
// planes*OH*OW int64, which adds 8 * planes*(H*W + 2*OH*OW) bytes. indices_in_range runs one
// reduction kernel and a 4-byte copy back to the host. Out-of-range indices, which the bindings
// reject before any kernel runs, are skipped by the scatter and read as 0 by the unpool gather.
#pragma once
#include <cstdint>

#include "common/window2d.h"
#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/pool_contract.h"
}  // namespace ember::cuda
