// Fused activation kernels; see csrc/common/elementwise_contract.h and elementwise.cuh.
#include "cuda/check.cuh"
#include "cuda/elementwise.cuh"

namespace ember::cuda {
namespace {

constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kTanhCubic = 0.044715;

// sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2, without overflow for large |x|.
template <class T>
__device__ __forceinline__ T sigmoid_derivative(T x) {
  const T e = dev_exp(-fabs(x)), d = T(1) + e;
  return e / (d * d);
}

template <class T>
__global__ void gelu_kernel(int64_t n, const T* x, T* out, bool approximate) {
  const T two_c = T(2 * kSqrt2OverPi), a = T(kTanhCubic);
  for (int64_t i : grid_stride(n)) {
    const T v = x[i];
    out[i] = approximate ? v * dev_sigmoid(two_c * (v + a * v * v * v)) : v * dev_normcdf(v);
  }
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x); tanh form with s = sigmoid(2u), u = c (x + a x^3):
// d/dx [x s] = s + x * 2 sigmoid'(2u) * c * (1 + 3 a x^2).
template <class T>
__global__ void gelu_backward_kernel(int64_t n, const T* grad_out, const T* x, T* grad_x, bool approximate) {
  const T c = T(kSqrt2OverPi), a = T(kTanhCubic);
  for (int64_t i : grid_stride(n)) {
    const T v = x[i];
    T d;
    if (approximate) {
      const T two_u = T(2) * c * (v + a * v * v * v);
      d = dev_sigmoid(two_u) + v * T(2) * sigmoid_derivative(two_u) * c * (T(1) + T(3) * a * v * v);
    } else {
      d = dev_normcdf(v) + v * T(kInvSqrt2Pi) * dev_exp(T(-0.5) * v * v);
    }
    grad_x[i] = grad_out[i] * d;
  }
}

template <class T>
__global__ void silu_kernel(int64_t n, const T* x, T* out) {
  for (int64_t i : grid_stride(n)) out[i] = x[i] * dev_sigmoid(x[i]);
}

template <class T>
__global__ void silu_backward_kernel(int64_t n, const T* grad_out, const T* x, T* grad_x) {
  for (int64_t i : grid_stride(n)) grad_x[i] = grad_out[i] * (dev_sigmoid(x[i]) + x[i] * sigmoid_derivative(x[i]));
}

template <class T>
__global__ void relu_kernel(int64_t n, const T* x, T* out) {
  for (int64_t i : grid_stride(n)) out[i] = x[i] < T(0) ? T(0) : x[i];  // keeps NaN
}

template <class T>
__global__ void relu_backward_kernel(int64_t n, const T* grad_out, const T* out, T* grad_x) {
  for (int64_t i : grid_stride(n)) grad_x[i] = out[i] <= T(0) ? T(0) : grad_out[i];
}

}  // namespace

template <class T>
void activation_forward(const Context& ctx, ActivationKind kind, int64_t n, const T* x, T* out) {
  switch (kind) {
    case ActivationKind::gelu:
    case ActivationKind::gelu_tanh:
      launch_1d(ctx, "gelu_forward", n, gelu_kernel<T>, n, x, out, kind == ActivationKind::gelu_tanh);
      return;
    case ActivationKind::silu: launch_1d(ctx, "silu_forward", n, silu_kernel<T>, n, x, out); return;
    case ActivationKind::relu: launch_1d(ctx, "relu_forward", n, relu_kernel<T>, n, x, out); return;
  }
}

template <class T>
void activation_backward(const Context& ctx, ActivationKind kind, int64_t n, const T* grad_out, const T* saved,
                         T* grad_x) {
  switch (kind) {
    case ActivationKind::gelu:
    case ActivationKind::gelu_tanh:
      launch_1d(ctx, "gelu_backward", n, gelu_backward_kernel<T>, n, grad_out, saved, grad_x,
                kind == ActivationKind::gelu_tanh);
      return;
    case ActivationKind::silu:
      launch_1d(ctx, "silu_backward", n, silu_backward_kernel<T>, n, grad_out, saved, grad_x);
      return;
    case ActivationKind::relu:
      launch_1d(ctx, "relu_backward", n, relu_backward_kernel<T>, n, grad_out, saved, grad_x);
      return;
  }
}

template void activation_forward<float>(const Context&, ActivationKind, int64_t, const float*, float*);
template void activation_forward<double>(const Context&, ActivationKind, int64_t, const double*, double*);
template void activation_backward<float>(const Context&, ActivationKind, int64_t, const float*, const float*,
                                         float*);
template void activation_backward<double>(const Context&, ActivationKind, int64_t, const double*, const double*,
                                          double*);

}  // namespace ember::cuda
