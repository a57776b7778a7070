// Normalisation family: batch norm, layer norm and group norm (forward and backward): the
// contract of the family, written once for both backends. csrc/cpu/norm.h and
// csrc/cuda/norm.cuh include this file inside their own namespace after declaring their Context,
// so it has no include guard and includes nothing itself; each adds its implementation notes.
// The per-kernel FLOP/byte counts are the CPU implementation's.
//
// Layouts (all arrays C-contiguous):
//   batch norm / group norm: x viewed as (N, C, S), S = product of the spatial dims (S may be 1).
//   layer norm:              x viewed as (M, D), D = product of the normalised trailing dims.
// Statistics are saved as mean and rstd = 1 / sqrt(var + eps) (biased variance), which is
// everything the backward needs besides x itself. Optional arrays (weight, bias, running
// statistics, gradients) are nullptr when absent; an absent weight acts as 1, an absent bias as 0,
// and an absent gradient is simply not computed.
// Scalar hyper-parameters are double in every precision; statistics and gradient sums accumulate
// in double in both precisions (see norm.cpp for why).
// Batch norm, training mode. Reads x (N,C,S), weight (C), bias (C); writes out (N,C,S),
// save_mean (C), save_rstd (C); updates running_mean/running_var (C) in place like PyTorch:
// running = (1 - momentum) * running + momentum * batch_stat, with the unbiased variance
// (n / (n - 1), n = N*S; the biased variance when n == 1) for running_var. An empty batch
// (N*S == 0) leaves running_mean/running_var untouched (as PyTorch) and saves mean 0 and
// rstd 1/sqrt(eps); its backward writes grad_weight = grad_bias = 0.
// FLOPs ~ 8*N*C*S; bytes ~ 3 * N*C*S * sizeof(T) (two reads of x: statistics, then normalise).
template <class T>
void batch_norm_forward_train(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x,
                              const T* weight, const T* bias, T* running_mean, T* running_var,
                              double momentum, double eps, T* out, T* save_mean, T* save_rstd);

// Batch norm, evaluation mode: out = (x - running_mean) / sqrt(running_var + eps) * weight + bias.
// Reads x (N,C,S), running_mean/running_var/weight/bias (C); writes out (N,C,S).
// FLOPs 2*N*C*S; bytes 2 * N*C*S * sizeof(T).
template <class T>
void batch_norm_forward_eval(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x,
                             const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, double eps, T* out);

// Batch norm backward (training mode, batch statistics). Reads grad_out, x (N,C,S), weight (C),
// save_mean, save_rstd (C); writes grad_x (N,C,S), grad_weight (C), grad_bias (C), each optional.
// One fused pass computes sum(dy) and sum(dy * xhat) per channel, a second writes grad_x.
// FLOPs ~ 8*N*C*S; bytes ~ 5 * N*C*S * sizeof(T).
template <class T>
void batch_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* grad_out,
                         const T* x, const T* weight, const T* save_mean, const T* save_rstd,
                         T* grad_x, T* grad_weight, T* grad_bias);

// Layer norm over the last D elements of each of M rows. Reads x (M,D), weight (D), bias (D);
// writes out (M,D), save_mean (M), save_rstd (M).
// FLOPs ~ 8*M*D; bytes ~ 2 * M*D * sizeof(T) (a row stays in cache between its two passes).
template <class T>
void layer_norm_forward(const Context& ctx, int64_t M, int64_t D, const T* x, const T* weight,
                        const T* bias, double eps, T* out, T* save_mean, T* save_rstd);

// Layer norm backward. Reads grad_out, x (M,D), weight (D), save_mean, save_rstd (M); writes
// grad_x (M,D), grad_weight (D), grad_bias (D), each optional.
// FLOPs ~ 10*M*D; bytes ~ 3 * M*D * sizeof(T).
template <class T>
void layer_norm_backward(const Context& ctx, int64_t M, int64_t D, const T* grad_out, const T* x,
                         const T* weight, const T* save_mean, const T* save_rstd, T* grad_x,
                         T* grad_weight, T* grad_bias);

// Group norm: the C channels split into G = num_groups groups of C/G consecutive channels
// (C % G == 0); statistics per (sample, group) over (C/G)*S elements, affine per channel.
// Reads x (N,C,S), weight (C), bias (C); writes out (N,C,S), save_mean (N,G), save_rstd (N,G).
// FLOPs ~ 8*N*C*S; bytes ~ 2-3 * N*C*S * sizeof(T).
template <class T>
void group_norm_forward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups,
                        const T* x, const T* weight, const T* bias, double eps, T* out,
                        T* save_mean, T* save_rstd);

// Group norm backward. Reads grad_out, x (N,C,S), weight (C), save_mean, save_rstd (N,G);
// writes grad_x (N,C,S), grad_weight (C), grad_bias (C), each optional.
// FLOPs ~ 10*N*C*S; bytes ~ 3 * N*C*S * sizeof(T).
template <class T>
void group_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups,
                         const T* grad_out, const T* x, const T* weight, const T* save_mean,
                         const T* save_rstd, T* grad_x, T* grad_weight, T* grad_bias);
