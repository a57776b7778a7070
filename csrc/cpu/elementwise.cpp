// Fused activations. See csrc/common/elementwise_contract.h. Each is one pass over memory, in chunks run in parallel;
// a chunk function vectorises (sigmoid from vec_math.h, the normal CDF below) and is compiled for
// AVX2 and AVX-512 (EMBER_AVX512_CLONES), except exact GELU in float64, which calls libm's
// std::erfc one element at a time (there is no vector erfc without -ffast-math).
//
// Stable forms: Phi(x) = erfc(-x / sqrt 2) / 2 and 0.5 * (1 + tanh u) = sigmoid(2u) are exact
// identities that avoid the cancellation of 1 + erf and 1 + tanh for negative x (which costs
// float64 four digits at x = -6.4); the results are the same functions PyTorch defines.
#include "cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

constexpr int64_t kParallelGrain = 1 << 15;
constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kTanhCubic = 0.044715;

// Coefficients of P (highest degree first), see normal_cdf_pdf.
constexpr float kErfcP[] = {
    1.047839402e-01f, -4.465911361e-01f, 6.254994818e-01f,  -1.888367204e-01f,
    -1.931877701e-01f, 7.737964216e-02f, -1.233017225e-01f, 4.136459881e-02f,
    1.714323853e-01f,  4.201156517e-01f, 9.999973300e-01f,  -1.488655665e+00f};

// Phi(x) and phi(x) in float32, vectorisable. With z = |x| / sqrt 2,
//   erfc(z) = t * exp(-z^2) * exp(P(t)),  t = 1 / (1 + 0.4 z),
// P being a degree-11 polynomial fitted for Ember (least squares on Chebyshev nodes, in float64,
// against scipy.special.erfcx) to log(erfcx(z)) - log(t); its fit error is 2e-8 and the whole
// evaluation is within 7 ulp of Phi over the float range. exp(-z^2) = exp(-x^2 / 2) uses x^2 split
// exactly into hi + lo with an FMA: rounding z itself would cost z^2 ulp.
struct NormalCdfPdf {
  float cdf, pdf;
};
inline NormalCdfPdf normal_cdf_pdf(float x) {
  const float t = 1.0f / (1.0f + 0.4f * float(kInvSqrt2) * std::fabs(x));
  float p = kErfcP[0];
  for (int i = 1; i < 12; ++i) p = p * t + kErfcP[i];  // unrolled: fixed trip count
  const float xx = x * x, xx_lo = std::fma(x, x, -xx);
  const float gauss = vexp(-0.5f * xx) * (1.0f - 0.5f * xx_lo);  // exp(-x^2 / 2)
  const float half_erfc = 0.5f * t * vexp(p) * gauss;            // Phi(-|x|)
  return {select(x >= 0.0f, 1.0f - half_erfc, half_erfc), float(kInvSqrt2Pi) * gauss};
}

// ---- one contiguous chunk of each activation (compiled for AVX2 and AVX-512) --------------------

template <class T>
EMBER_AVX512_CLONES void gelu_tanh_chunk(int64_t n, const T* x, T* out) {
  const T two_c = T(2 * kSqrt2OverPi), a = T(kTanhCubic);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * vsigmoid(two_c * (x[i] + a * x[i] * x[i] * x[i]));
}

// d/dx [x * s] = s + x * 2 sigmoid'(2u) * c * (1 + 3 a x^2), s = sigmoid(2u), u = c (x + a x^3).
template <class T>
EMBER_AVX512_CLONES void gelu_tanh_grad_chunk(int64_t n, const T* g, const T* x, T* dx) {
  const T c = T(kSqrt2OverPi), a = T(kTanhCubic);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const auto s = vsigmoid_and_derivative(T(2) * c * (v + a * v * v * v));
    dx[i] = g[i] * (s.value + v * T(2) * s.derivative * c * (T(1) + T(3) * a * v * v));
  }
}

// Exact GELU: float32 vectorises through normal_cdf_pdf; float64 calls libm's erfc per element.
template <class T>
EMBER_AVX512_CLONES void gelu_exact_chunk(int64_t n, const T* x, T* out) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * normal_cdf_pdf(x[i]).cdf;
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = T(0.5) * x[i] * std::erfc(-x[i] * T(kInvSqrt2));
  }
}

// d/dx [x * Phi(x)] = Phi(x) + x * phi(x).
template <class T>
EMBER_AVX512_CLONES void gelu_exact_grad_chunk(int64_t n, const T* g, const T* x, T* dx) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const NormalCdfPdf f = normal_cdf_pdf(x[i]);
      dx[i] = g[i] * (f.cdf + x[i] * f.pdf);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const T v = x[i];
      dx[i] = g[i] * (T(0.5) * std::erfc(-v * T(kInvSqrt2)) +
                      v * T(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v));
    }
  }
}

template <class T>
EMBER_AVX512_CLONES void silu_chunk(int64_t n, const T* x, T* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * vsigmoid(x[i]);
}

// d/dx [x s] = s + x * s (1 - s), s = sigmoid(x).
template <class T>
EMBER_AVX512_CLONES void silu_grad_chunk(int64_t n, const T* g, const T* x, T* dx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const auto s = vsigmoid_and_derivative(x[i]);
    dx[i] = g[i] * (s.value + x[i] * s.derivative);
  }
}

template <class T>
EMBER_AVX512_CLONES void relu_chunk(int64_t n, const T* x, T* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] < T(0) ? T(0) : x[i];  // keeps NaN
}

// PyTorch's threshold_backward(grad, result, 0): grad where result <= 0 is false (NaN included).
template <class T>
EMBER_AVX512_CLONES void relu_grad_chunk(int64_t n, const T* g, const T* y, T* dx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = y[i] <= T(0) ? T(0) : g[i];
}

// Runs fn(begin, count) over [0, n) in chunks, in parallel when n is large enough.
template <class Fn>
void for_each_chunk(int64_t n, Fn&& fn) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) fn(c * kChunk, std::min(kChunk, n - c * kChunk));
}

}  // namespace

template <class T>
void activation_forward(const Context&, ActivationKind kind, int64_t n, const T* x, T* out) {
  for_each_chunk(n, [&](int64_t i, int64_t m) {
    switch (kind) {
      case ActivationKind::gelu: gelu_exact_chunk(m, x + i, out + i); break;
      case ActivationKind::gelu_tanh: gelu_tanh_chunk(m, x + i, out + i); break;
      case ActivationKind::silu: silu_chunk(m, x + i, out + i); break;
      case ActivationKind::relu: relu_chunk(m, x + i, out + i); break;
    }
  });
}

template <class T>
void activation_backward(const Context&, ActivationKind kind, int64_t n, const T* grad_out,
                         const T* saved, T* grad_x) {
  for_each_chunk(n, [&](int64_t i, int64_t m) {
    const T *g = grad_out + i, *s = saved + i;
    switch (kind) {
      case ActivationKind::gelu: gelu_exact_grad_chunk(m, g, s, grad_x + i); break;
      case ActivationKind::gelu_tanh: gelu_tanh_grad_chunk(m, g, s, grad_x + i); break;
      case ActivationKind::silu: silu_grad_chunk(m, g, s, grad_x + i); break;
      case ActivationKind::relu: relu_grad_chunk(m, g, s, grad_x + i); break;
    }
  });
}

template void activation_forward<float>(const Context&, ActivationKind, int64_t, const float*,
                                        float*);
template void activation_forward<double>(const Context&, ActivationKind, int64_t, const double*,
                                         double*);
template void activation_backward<float>(const Context&, ActivationKind, int64_t, const float*,
                                         const float*, float*);
template void activation_backward<double>(const Context&, ActivationKind, int64_t, const double*,
                                          const double*, double*);

}  // namespace ember::cpu
