// Optimizer updates (CUDA): the declarations of csrc/cpu/optim.h with the CUDA context and the
// same update rules (PyTorch's single-tensor forms; a weight decay of 0 is skipped, not
// multiplied). Every array is a contiguous device buffer of n elements, updated in place by one
// fused elementwise kernel: one launch per parameter tensor (no multi-tensor apply yet).
// Hyper-parameters arrive in double; derived constants (bias corrections, 1 - beta) are formed in
// double on the host, then the arithmetic runs in T, as on the CPU.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {

// SGD with momentum/dampening/Nesterov/weight decay/maximize.
// FLOPs ~ 6n; bytes (3 + 2*(momentum != 0)) * n * sizeof(T).
template <class T>
void sgd_step(const Context& ctx, int64_t n, T* param, const T* grad, T* momentum_buffer, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize, bool first_step);

// Adam / AdamW (decoupled_weight_decay), optional AMSGrad; step >= 1 after incrementing.
// FLOPs ~ 14n + n sqrt; bytes (7 + 2*amsgrad) * n * sizeof(T).
template <class T>
void adam_step(const Context& ctx, int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
               int64_t step, double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad,
               bool maximize, bool decoupled_weight_decay);

// RMSprop, optionally centered and with momentum. FLOPs ~ 10n + n sqrt; bytes up to 9 * n * sizeof(T).
template <class T>
void rmsprop_step(const Context& ctx, int64_t n, T* param, const T* grad, T* square_avg, T* grad_avg,
                  T* momentum_buffer, double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, bool maximize);

// Adagrad; step >= 1 after incrementing. FLOPs ~ 7n + n sqrt; bytes 5 * n * sizeof(T).
template <class T>
void adagrad_step(const Context& ctx, int64_t n, T* param, const T* grad, T* state_sum, int64_t step, double lr,
                  double lr_decay, double weight_decay, double eps, bool maximize);

}  // namespace ember::cuda
