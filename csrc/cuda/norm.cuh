// Normalisation family (CUDA): the declarations of csrc/cpu/norm.h with the CUDA context and the
// same contracts. Layouts: batch/group norm x (N, C, S), layer norm x (M, D), C-contiguous device
// memory; statistics saved as mean and rstd = 1/sqrt(var + eps) (biased variance); optional
// arrays are nullptr (absent weight = 1, bias = 0, gradient not computed).
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

// Reads x (N,C,S), weight, bias (C); writes out, save_mean, save_rstd; updates running_mean and
// running_var (C) like PyTorch (momentum, unbiased variance; untouched for an empty batch).
// FLOPs ~ 8*N*C*S; bytes ~ 3 * N*C*S * sizeof(T).
template <class T>
void batch_norm_forward_train(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x, const T* weight,
                              const T* bias, T* running_mean, T* running_var, double momentum, double eps, T* out,
                              T* save_mean, T* save_rstd);

// out = (x - running_mean) * rstd(running_var) * weight + bias. FLOPs 2*N*C*S; bytes 2*N*C*S*sizeof(T).
template <class T>
void batch_norm_forward_eval(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x, const T* weight,
                             const T* bias, const T* running_mean, const T* running_var, double eps, T* out);

// Reads grad_out, x (N,C,S), weight, save_mean, save_rstd (C); writes grad_x (N,C,S), grad_weight,
// grad_bias (C). One reduction pass (sum dy, sum dy*(x-mean) per channel), then an elementwise
// pass. FLOPs ~ 8*N*C*S; bytes ~ 5 * N*C*S * sizeof(T).
template <class T>
void batch_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* grad_out, const T* x,
                         const T* weight, const T* save_mean, const T* save_rstd, T* grad_x, T* grad_weight,
                         T* grad_bias);

// Layer norm over rows of D. Reads x (M,D), weight, bias (D); writes out (M,D), save_mean,
// save_rstd (M). FLOPs ~ 8*M*D; bytes ~ 2 * M*D * sizeof(T) (the second read hits L1/L2).
template <class T>
void layer_norm_forward(const Context& ctx, int64_t M, int64_t D, const T* x, const T* weight, const T* bias,
                        double eps, T* out, T* save_mean, T* save_rstd);

// Reads grad_out, x (M,D), weight (D), save_mean, save_rstd (M); writes grad_x (M,D) (row
// kernel) and grad_weight, grad_bias (D) (column sums: row slices reduce into workspace
// partials, summed in a fixed order). FLOPs ~ 10*M*D; bytes ~ 3-5 * M*D * sizeof(T).
template <class T>
void layer_norm_backward(const Context& ctx, int64_t M, int64_t D, const T* grad_out, const T* x, const T* weight,
                         const T* save_mean, const T* save_rstd, T* grad_x, T* grad_weight, T* grad_bias);

// Group norm: statistics per (sample, group) over its (C/G)*S contiguous values, affine per
// channel. Reads x (N,C,S), weight, bias (C); writes out, save_mean, save_rstd (N,G).
// FLOPs ~ 8*N*C*S; bytes ~ 2 * N*C*S * sizeof(T).
template <class T>
void group_norm_forward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups, const T* x,
                        const T* weight, const T* bias, double eps, T* out, T* save_mean, T* save_rstd);

// Reads grad_out, x (N,C,S), weight (C), save_mean, save_rstd (N,G); writes grad_x (N,C,S),
// grad_weight, grad_bias (C). Per (sample, channel) sums, then per-group coefficients, then an
// elementwise pass. FLOPs ~ 10*N*C*S; bytes ~ 3 * N*C*S * sizeof(T).
template <class T>
void group_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups, const T* grad_out,
                         const T* x, const T* weight, const T* save_mean, const T* save_rstd, T* grad_x,
                         T* grad_weight, T* grad_bias);

}  // namespace ember::cuda
