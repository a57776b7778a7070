// Normalisation family (CUDA): the declarations of csrc/cpu/norm.h with the CUDA context. The
// contract of every kernel (layouts, saved statistics, optional arrays, empty inputs, running
// statistics) is written once there and holds for these kernels too; arrays are C-contiguous
// device memory. Below: only what is CUDA-specific.
//
// Numerics (both precisions): statistics are Welford triples (count, mean, M2) accumulated in
// double per thread and merged pairwise (Chan et al.) across a warp with shuffles and across
// warps through shared memory, in a fixed order (deterministic). Gradient sums accumulate in
// double. x - mean is formed as (x - mean_hi) - mean_lo with mean_hi = mean rounded to T, so
// float32 inputs with a large mean keep their precision (as the CPU kernels).
//
// Parallel layout: batch norm reduces each channel with a grid of (channel, slice) blocks whose
// partial statistics a second kernel merges (enough blocks to fill the GPU even with few
// channels); layer norm and group norm give each row (or (sample, group)) to one warp when it is
// short and to one block otherwise; normalising and grad_x are elementwise kernels driven by
// per-channel coefficients. Scratch (partials, coefficients) comes from the context workspace.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {

template <class T>
void batch_norm_forward_train(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x, const T* weight,
                              const T* bias, T* running_mean, T* running_var, double momentum, double eps, T* out,
                              T* save_mean, T* save_rstd);

template <class T>
void batch_norm_forward_eval(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x, const T* weight,
                             const T* bias, const T* running_mean, const T* running_var, double eps, T* out);

template <class T>
void batch_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* grad_out, const T* x,
                         const T* weight, const T* save_mean, const T* save_rstd, T* grad_x, T* grad_weight,
                         T* grad_bias);

template <class T>
void layer_norm_forward(const Context& ctx, int64_t M, int64_t D, const T* x, const T* weight, const T* bias,
                        double eps, T* out, T* save_mean, T* save_rstd);

template <class T>
void layer_norm_backward(const Context& ctx, int64_t M, int64_t D, const T* grad_out, const T* x, const T* weight,
                         const T* save_mean, const T* save_rstd, T* grad_x, T* grad_weight, T* grad_bias);

template <class T>
void group_norm_forward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups, const T* x,
                        const T* weight, const T* bias, double eps, T* out, T* save_mean, T* save_rstd);

template <class T>
void group_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups, const T* grad_out,
                         const T* x, const T* weight, const T* save_mean, const T* save_rstd, T* grad_x,
                         T* grad_weight, T* grad_bias);

}  // namespace ember::cuda
