// Pooling and upsampling family (CUDA): the declarations of csrc/cpu/pool.h with the CUDA
// context and the same semantics (PyTorch's windows, NaN and tie rules, index conventions).
// Arrays are `planes` = N*C planes of (H, W) in and (OH, OW) out, C-contiguous device memory.
// Every kernel runs one thread per element it writes. Forward passes and the backward passes
// that can be written as gathers (average pooling, adaptive average, nearest upsampling, unpool)
// need no atomics and sum in a fixed order; the scatters whose sources are data-dependent or
// overlap irregularly (max pooling backward, bilinear backward) zero the output and use atomicAdd.
// The kernels are memory-bound; bytes are given per kernel.
#pragma once
#include <cstdint>

#include "common/window2d.h"
#include "cuda/context.cuh"

namespace ember::cuda {

// Window maximum and its flat index ih*W + iw (NaN wins, the last one; ties keep the first).
// Bytes: sizeof(T) * planes*(H*W + OH*OW) + 8 * planes*OH*OW (reads hit cache when windows overlap).
template <class T>
void max_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t* indices, int64_t planes, int64_t H,
                        int64_t W, int64_t OH, int64_t OW, const Window2d& win);

// grad_x zeroed, then grad_x[p, indices[p, o]] += grad_out[p, o] by atomicAdd (windows may
// overlap); out-of-range indices are skipped. Bytes as the forward.
template <class T>
void max_pool2d_backward(const Context& ctx, const T* grad_out, const int64_t* indices, T* grad_x, int64_t planes,
                         int64_t H, int64_t W, int64_t OH, int64_t OW);

// Window mean with PyTorch's divisor rules (see cpu/pool.h). Bytes sizeof(T) * planes*(H*W + OH*OW).
template <class T>
void avg_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Window2d& win, bool count_include_pad, int64_t divisor_override);

// Adjoint of the above as a gather: each input element sums grad_out / divisor over the windows
// that contain it. Overwrites grad_x. Bytes as the forward.
template <class T>
void avg_pool2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H, int64_t W,
                         int64_t OH, int64_t OW, const Window2d& win, bool count_include_pad,
                         int64_t divisor_override);

// Adaptive windows [floor(i*in/out), ceil((i+1)*in/out)) per axis; forward mean, backward gather.
template <class T>
void adaptive_avg_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW);
template <class T>
void adaptive_avg_pool2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                                  int64_t W, int64_t OH, int64_t OW);

// Maximum and index over the adaptive windows, with max_pool2d's NaN and tie rules.
template <class T>
void adaptive_max_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t* indices, int64_t planes,
                                 int64_t H, int64_t W, int64_t OH, int64_t OW);

// out zeroed, then out[p, indices[p, i]] = x[p, i]; where indices repeat, the largest i wins
// (the CPU's "last write"), found with an atomicMax pass over a workspace of planes*OH*OW int64.
// Bytes: sizeof(T) * planes*(H*W + OH*OW) + 8 * planes*(H*W + 2*OH*OW).
template <class T>
void max_unpool2d_forward(const Context& ctx, const T* x, const int64_t* indices, T* out, int64_t planes,
                          int64_t H, int64_t W, int64_t OH, int64_t OW);

// grad_x[p, i] = grad_out[p, indices[p, i]] (0 for an out-of-range index). Bytes as the forward.
template <class T>
void max_unpool2d_backward(const Context& ctx, const T* grad_out, const int64_t* indices, T* grad_x,
                           int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

// Nearest: out[p, oh, ow] = x[p, floor(oh*H/OH), floor(ow*W/OW)]; backward gathers, per input,
// the outputs oh in [ceil(ih*OH/H), ceil((ih+1)*OH/H)) (likewise w). Bytes sizeof(T) * planes*(H*W + OH*OW).
template <class T>
void upsample_nearest2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                int64_t OH, int64_t OW);
template <class T>
void upsample_nearest2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                                 int64_t W, int64_t OH, int64_t OW);

// Bilinear with PyTorch's source coordinates (see cpu/pool.h); the backward zeroes grad_x and
// scatters the four weighted contributions of each grad_out element with atomicAdd.
// FLOPs ~ 8 per output; bytes sizeof(T) * planes*(H*W + OH*OW).
template <class T>
void upsample_bilinear2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW, bool align_corners);
template <class T>
void upsample_bilinear2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                                  int64_t W, int64_t OH, int64_t OW, bool align_corners);

// True when every one of the `count` indices lies in [0, limit). The answer is needed on the
// host, so this synchronises ctx.stream (one reduction kernel and an 4-byte copy). Bytes 8 * count.
bool indices_in_range(const Context& ctx, const int64_t* indices, int64_t count, int64_t limit);

}  // namespace ember::cuda
