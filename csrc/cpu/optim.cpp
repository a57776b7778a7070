// Optimizer updates: one fused pass over each parameter and its state. See
// csrc/common/optim_contract.h for the update rules (PyTorch's, single-tensor form). Memory-bound:
// each element is loaded and stored once, where NumPy would make one pass per operator.
//
// No run-time option is tested inside a loop: GCC would unswitch the loop on it, and the copies
// it makes lose their `omp simd` status and stay scalar (measured: Adam 5x slower). Options that
// change which operations run are template parameters (dispatched once by with_flags); maximize
// and AdamW's decay become exact multiplications (by -1, and by 1 - lr * weight_decay, which is
// 1 without decay). A weight decay of 0 is skipped rather than multiplied, as PyTorch does, so
// that 0 * inf never turns a parameter into NaN. Loop functions take every value by copy, so that
// storing to the parameter cannot change an option.
#include "cpu/optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace ember::cpu {
namespace {

// Element count below which the loop runs serially.
constexpr int64_t kParallelGrain = 1 << 15;

// Calls fn(std::bool_constant<f>...) for the run-time flags f..., so that fn can pass them on as
// template arguments.
template <class Fn>
void with_flags(Fn&& fn) {
  fn();
}
template <class Fn, class... Rest>
void with_flags(Fn&& fn, bool first, Rest... rest) {
  auto bind_first = [&](auto flag) {
    with_flags([&](auto... tail) { fn(flag, tail...); }, rest...);
  };
  if (first)
    bind_first(std::true_type{});
  else
    bind_first(std::false_type{});
}

// The gradient PyTorch's update rules start from: sign is -1 when maximising; Decay adds the L2
// term weight_decay * param.
template <bool Decay, class T>
inline T effective_grad(T grad, T param, T sign, T weight_decay) {
  const T g = sign * grad;
  if constexpr (Decay) return g + weight_decay * param;
  return g;
}

template <bool Decay, bool Momentum, bool Nesterov, bool FirstStep, class T>
void sgd_loop(int64_t n, T* param, const T* grad, T* momentum_buffer, T lr, T momentum,
              T one_minus_dampening, T weight_decay, T sign) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    T g = effective_grad<Decay>(grad[i], param[i], sign, weight_decay);
    if constexpr (Momentum) {
      T buf;
      if constexpr (FirstStep)
        buf = g;  // PyTorch initialises the buffer to the first gradient
      else
        buf = momentum * momentum_buffer[i] + one_minus_dampening * g;
      momentum_buffer[i] = buf;
      if constexpr (Nesterov)
        g = g + momentum * buf;
      else
        g = buf;
    }
    param[i] -= lr * g;
  }
}

template <bool Decay, bool AmsGrad, class T>
void adam_loop(int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
               T step_size, T bc2_sqrt, T w1, T b2, T w2, T eps, T weight_decay, T shrink, T sign) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T p = param[i] * shrink;  // AdamW's decoupled decay (shrink = 1 otherwise)
    const T g = effective_grad<Decay>(grad[i], p, sign, weight_decay);
    const T m = exp_avg[i] + w1 * (g - exp_avg[i]);
    const T v = b2 * exp_avg_sq[i] + w2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    T v_used = v;
    if constexpr (AmsGrad) {
      const T previous = max_exp_avg_sq[i];  // a local, so that max() compiles to a vector max
      v_used = std::max(previous, v);
      max_exp_avg_sq[i] = v_used;
    }
    param[i] = p - step_size * (m / (std::sqrt(v_used) / bc2_sqrt + eps));
  }
}

template <bool Decay, bool Centered, bool Momentum, class T>
void rmsprop_loop(int64_t n, T* param, const T* grad, T* square_avg, T* grad_avg,
                  T* momentum_buffer, T lr, T alpha, T one_minus_alpha, T eps, T weight_decay,
                  T momentum, T sign) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T g = effective_grad<Decay>(grad[i], param[i], sign, weight_decay);
    const T sq = alpha * square_avg[i] + one_minus_alpha * g * g;
    square_avg[i] = sq;
    T var = sq;
    if constexpr (Centered) {
      const T ga = grad_avg[i] + one_minus_alpha * (g - grad_avg[i]);
      grad_avg[i] = ga;
      var = sq - ga * ga;
    }
    const T avg = std::sqrt(var) + eps;
    if constexpr (Momentum) {
      const T buf = momentum * momentum_buffer[i] + g / avg;
      momentum_buffer[i] = buf;
      param[i] -= lr * buf;
    } else {
      param[i] -= lr * (g / avg);
    }
  }
}

template <bool Decay, class T>
void adagrad_loop(int64_t n, T* param, const T* grad, T* state_sum, T clr, T eps, T weight_decay,
                  T sign) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T g = effective_grad<Decay>(grad[i], param[i], sign, weight_decay);
    const T s = state_sum[i] + g * g;
    state_sum[i] = s;
    param[i] -= clr * (g / (std::sqrt(s) + eps));
  }
}

template <class T>
T sign_of(bool maximize) {
  return maximize ? T(-1) : T(1);
}

}  // namespace

template <class T>
void sgd_step(const Context&, int64_t n, T* param, const T* grad, T* momentum_buffer, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov, bool maximize,
              bool first_step) {
  with_flags(
      [&](auto decay, auto use_momentum, auto use_nesterov, auto first) {
        sgd_loop<decay, use_momentum, use_nesterov, first>(
            n, param, grad, momentum_buffer, T(lr), T(momentum), T(1 - dampening),
            T(weight_decay), sign_of<T>(maximize));
      },
      weight_decay != 0, momentum != 0, nesterov, first_step);
}

template <class T>
void adam_step(const Context&, int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq,
               T* max_exp_avg_sq, int64_t step, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay) {
  // Bias corrections in double, once per call.
  const double bc1 = 1 - std::pow(beta1, double(step)), bc2 = 1 - std::pow(beta2, double(step));
  const double shrink = decoupled_weight_decay ? 1 - lr * weight_decay : 1;
  with_flags(
      [&](auto l2, auto use_max) {
        adam_loop<l2, use_max>(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, T(lr / bc1),
                               T(std::sqrt(bc2)), T(1 - beta1), T(beta2), T(1 - beta2), T(eps),
                               T(weight_decay), T(shrink), sign_of<T>(maximize));
      },
      weight_decay != 0 && !decoupled_weight_decay, amsgrad);
}

template <class T>
void rmsprop_step(const Context&, int64_t n, T* param, const T* grad, T* square_avg, T* grad_avg,
                  T* momentum_buffer, double lr, double alpha, double eps, double weight_decay,
                  double momentum, bool centered, bool maximize) {
  with_flags(
      [&](auto decay, auto is_centered, auto use_momentum) {
        rmsprop_loop<decay, is_centered, use_momentum>(
            n, param, grad, square_avg, grad_avg, momentum_buffer, T(lr), T(alpha), T(1 - alpha),
            T(eps), T(weight_decay), T(momentum), sign_of<T>(maximize));
      },
      weight_decay != 0, centered, momentum > 0);
}

template <class T>
void adagrad_step(const Context&, int64_t n, T* param, const T* grad, T* state_sum, int64_t step,
                  double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
  with_flags(
      [&](auto decay) {
        adagrad_loop<decay>(n, param, grad, state_sum, T(lr / (1 + double(step - 1) * lr_decay)),
                            T(eps), T(weight_decay), sign_of<T>(maximize));
      },
      weight_decay != 0);
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void sgd_step<T>(const Context&, int64_t, T*, const T*, T*, double, double, double,   \
                            double, bool, bool, bool);                                           \
  template void adam_step<T>(const Context&, int64_t, T*, const T*, T*, T*, T*, int64_t, double, \
                             double, double, double, double, bool, bool, bool);                  \
  template void rmsprop_step<T>(const Context&, int64_t, T*, const T*, T*, T*, T*, double,       \
                                double, double, double, double, bool, bool);                     \
  template void adagrad_step<T>(const Context&, int64_t, T*, const T*, T*, int64_t, double,      \
                                double, double, double, bool);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::cpu
