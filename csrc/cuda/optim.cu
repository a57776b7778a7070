// Optimizer update kernels; see optim.cuh. Option tests are uniform across a launch, so the
// branches cost nothing on the GPU; no state buffer is touched unless its option is on.
#include <cmath>

#include "cuda/check.cuh"
#include "cuda/optim.cuh"

namespace ember::cuda {
namespace {

// The gradient the update rules start from: negated when maximising, plus L2 weight decay.
template <class T>
__device__ __forceinline__ T effective_grad(T grad, T param, bool maximize, T weight_decay, bool decay) {
  const T g = maximize ? -grad : grad;
  return decay ? g + weight_decay * param : g;
}

template <class T>
struct SgdArgs {
  T lr, momentum, one_minus_dampening, weight_decay;
  bool decay, use_momentum, nesterov, maximize, first_step;
};

template <class T>
__global__ void sgd_kernel(int64_t n, T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ buffer,
                           SgdArgs<T> a) {
  for (int64_t i : grid_stride(n)) {
    T g = effective_grad(grad[i], param[i], a.maximize, a.weight_decay, a.decay);
    if (a.use_momentum) {
      const T buf = a.first_step ? g : a.momentum * buffer[i] + a.one_minus_dampening * g;
      buffer[i] = buf;
      g = a.nesterov ? g + a.momentum * buf : buf;
    }
    param[i] -= a.lr * g;
  }
}

template <class T>
struct AdamArgs {
  T step_size, bc2_sqrt, w1, b2, w2, eps, weight_decay, shrink;
  bool l2, decoupled, amsgrad, maximize;
};

template <class T>
__global__ void adam_kernel(int64_t n, T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ exp_avg,
                            T* __restrict__ exp_avg_sq, T* __restrict__ max_exp_avg_sq, AdamArgs<T> a) {
  for (int64_t i : grid_stride(n)) {
    const T p = a.decoupled ? param[i] * a.shrink : param[i];
    const T g = effective_grad(grad[i], p, a.maximize, a.weight_decay, a.l2);
    const T m = exp_avg[i] + a.w1 * (g - exp_avg[i]);
    const T v = a.b2 * exp_avg_sq[i] + a.w2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    T v_used = v;
    if (a.amsgrad) {
      v_used = max(max_exp_avg_sq[i], v);
      max_exp_avg_sq[i] = v_used;
    }
    param[i] = p - a.step_size * (m / (dev_sqrt(v_used) / a.bc2_sqrt + a.eps));
  }
}

template <class T>
struct RmspropArgs {
  T lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
  bool decay, centered, use_momentum, maximize;
};

template <class T>
__global__ void rmsprop_kernel(int64_t n, T* __restrict__ param, const T* __restrict__ grad,
                               T* __restrict__ square_avg, T* __restrict__ grad_avg, T* __restrict__ buffer,
                               RmspropArgs<T> a) {
  for (int64_t i : grid_stride(n)) {
    const T g = effective_grad(grad[i], param[i], a.maximize, a.weight_decay, a.decay);
    const T sq = a.alpha * square_avg[i] + a.one_minus_alpha * g * g;
    square_avg[i] = sq;
    T var = sq;
    if (a.centered) {
      const T ga = grad_avg[i] + a.one_minus_alpha * (g - grad_avg[i]);
      grad_avg[i] = ga;
      var = sq - ga * ga;
    }
    const T avg = dev_sqrt(var) + a.eps;
    if (a.use_momentum) {
      const T buf = a.momentum * buffer[i] + g / avg;
      buffer[i] = buf;
      param[i] -= a.lr * buf;
    } else {
      param[i] -= a.lr * (g / avg);
    }
  }
}

template <class T>
__global__ void adagrad_kernel(int64_t n, T* __restrict__ param, const T* __restrict__ grad,
                               T* __restrict__ state_sum, T clr, T weight_decay, bool decay, T eps, bool maximize) {
  for (int64_t i : grid_stride(n)) {
    const T g = effective_grad(grad[i], param[i], maximize, weight_decay, decay);
    const T s = state_sum[i] + g * g;
    state_sum[i] = s;
    param[i] -= clr * (g / (dev_sqrt(s) + eps));
  }
}

}  // namespace

template <class T>
void sgd_step(const Context& ctx, int64_t n, T* param, const T* grad, T* momentum_buffer, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize, bool first_step) {
  const SgdArgs<T> a{T(lr),     T(momentum),  T(1 - dampening), T(weight_decay), weight_decay != 0,
                     momentum != 0, nesterov, maximize,         first_step};
  launch_1d(ctx, "sgd_step", n, sgd_kernel<T>, n, param, grad, momentum_buffer, a);
}

template <class T>
void adam_step(const Context& ctx, int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
               int64_t step, double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad,
               bool maximize, bool decoupled_weight_decay) {
  // Bias corrections in double, once per call.
  const double bc1 = 1 - std::pow(beta1, double(step)), bc2 = 1 - std::pow(beta2, double(step));
  const AdamArgs<T> a{T(lr / bc1),
                      T(std::sqrt(bc2)),
                      T(1 - beta1),
                      T(beta2),
                      T(1 - beta2),
                      T(eps),
                      T(weight_decay),
                      T(1 - lr * weight_decay),
                      weight_decay != 0 && !decoupled_weight_decay,
                      weight_decay != 0 && decoupled_weight_decay,
                      amsgrad,
                      maximize};
  launch_1d(ctx, "adam_step", n, adam_kernel<T>, n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, a);
}

template <class T>
void rmsprop_step(const Context& ctx, int64_t n, T* param, const T* grad, T* square_avg, T* grad_avg,
                  T* momentum_buffer, double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, bool maximize) {
  const RmspropArgs<T> a{T(lr),     T(alpha), T(1 - alpha),  T(eps),  T(weight_decay), T(momentum),
                         weight_decay != 0, centered, momentum > 0, maximize};
  launch_1d(ctx, "rmsprop_step", n, rmsprop_kernel<T>, n, param, grad, square_avg, grad_avg, momentum_buffer, a);
}

template <class T>
void adagrad_step(const Context& ctx, int64_t n, T* param, const T* grad, T* state_sum, int64_t step, double lr,
                  double lr_decay, double weight_decay, double eps, bool maximize) {
  launch_1d(ctx, "adagrad_step", n, adagrad_kernel<T>, n, param, grad, state_sum,
            T(lr / (1 + double(step - 1) * lr_decay)), T(weight_decay), weight_decay != 0, T(eps), maximize);
}

#define EMBER_CUDA_INSTANTIATE_OPTIM(T)                                                                              \
  template void sgd_step<T>(const Context&, int64_t, T*, const T*, T*, double, double, double, double, bool, bool,    \
                            bool);                                                                                   \
  template void adam_step<T>(const Context&, int64_t, T*, const T*, T*, T*, T*, int64_t, double, double, double,     \
                             double, double, bool, bool, bool);                                                      \
  template void rmsprop_step<T>(const Context&, int64_t, T*, const T*, T*, T*, T*, double, double, double, double,   \
                                double, bool, bool);                                                                 \
  template void adagrad_step<T>(const Context&, int64_t, T*, const T*, T*, int64_t, double, double, double, double,  \
                                bool);

EMBER_CUDA_INSTANTIATE_OPTIM(float)
EMBER_CUDA_INSTANTIATE_OPTIM(double)
#undef EMBER_CUDA_INSTANTIATE_OPTIM

}  // namespace ember::cuda
