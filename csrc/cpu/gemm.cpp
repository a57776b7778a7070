#include "cpu/gemm.h"

#include <cmath>

namespace ember::cpu {

template <class T>
static inline T apply_activation(T v, Activation act) {
  switch (act) {
    case Activation::relu: return v > T(0) ? v : T(0);
    case Activation::gelu: return T(0.5) * v * (T(1) + std::erf(v * T(0.70710678118654752440)));
    default: return v;
  }
}

// Reference-quality loop nest (i, k, j order so the inner loop streams rows of B and C);
// replaced by the packed, register-blocked kernel.
template <class T>
void gemm(const Context&, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K,
          T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
          int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c, const Epilogue<T>& ep) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < M; ++i) {
      const T* Ab = A + b * stride_a;
      const T* Bb = B + b * stride_b;
      T* c = C + b * stride_c + i * ldc;
      for (int64_t j = 0; j < N; ++j) c[j] = beta == T(0) ? T(0) : beta * c[j];
      for (int64_t k = 0; k < K; ++k) {
        const T a = alpha * (trans_a ? Ab[k * lda + i] : Ab[i * lda + k]);
        for (int64_t j = 0; j < N; ++j) c[j] += a * (trans_b ? Bb[j * ldb + k] : Bb[k * ldb + j]);
      }
      for (int64_t j = 0; j < N; ++j) {
        T v = c[j];
        if (ep.bias) v += ep.bias_per_row ? ep.bias[i] : ep.bias[j];
        c[j] = apply_activation(v, ep.activation);
      }
    }
  }
}

template void gemm<float>(const Context&, bool, bool, int64_t, int64_t, int64_t, int64_t, float,
                          const float*, int64_t, int64_t, const float*, int64_t, int64_t, float,
                          float*, int64_t, int64_t, const Epilogue<float>&);
template void gemm<double>(const Context&, bool, bool, int64_t, int64_t, int64_t, int64_t, double,
                           const double*, int64_t, int64_t, const double*, int64_t, int64_t, double,
                           double*, int64_t, int64_t, const Epilogue<double>&);

}  // namespace ember::cpu
