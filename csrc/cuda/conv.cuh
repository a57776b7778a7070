// Convolution family (CUDA): the contract is csrc/common/conv_contract.h, with the CUDA context;
// all pointers are device pointers.
//
// im2col runs one thread per (c, b, oh, ow), looping over the kh*kw taps; col2im one thread per
// input element gathering its taps, so no atomics and a fixed summation order. The convolutions
// stage column matrices in the context's workspace, a chunk of samples at a time: the forward is
// im2col + one strided-batched GEMM per group over the chunk's samples, bias fused into the GEMM
// epilogue (1x1/stride-1/unpadded windows use x directly); the weight gradient regroups grad_out
// to (O, B*L) so that the samples sit side by side along the reduction, one GEMM batched over the
// groups per chunk, and the GEMM splits the long reduction over blocks when the output is small.
// conv2d_backward_bias gives each channel one block.
#pragma once
#include <cstdint>

#include "common/window2d.h"
#include "cuda/context.cuh"

namespace ember::cuda {
#include "common/conv_contract.h"
}  // namespace ember::cuda
