// Vectorisable elementary functions for the CPU kernels (exp, expm1, tanh, sigmoid and its
// derivative).
//
// Why not std::exp: without -ffast-math GCC cannot call a vector libm, so a loop calling
// std::exp runs one element at a time. These versions are plain arithmetic and bit operations
// that GCC vectorises inside `#pragma omp simd` loops (AVX2 baseline, AVX-512 in functions
// compiled with a target attribute).
//
// Why selects are bit blends: a float `c ? a : b` followed by more arithmetic is turned by GCC
// into a branch with arithmetic on each side, which it then refuses to vectorise (the arithmetic
// might trap under the default -ftrapping-math). Blending with an all-ones/all-zeros integer mask
// keeps the code branch-free.
//
// Accuracy (relative): exp and expm1 within ~2 ulp of T, tanh and sigmoid within ~4 ulp.
// NaN propagates; exp(-inf) = 0, exp(+inf) = inf, tanh(+-inf) = +-1, sigmoid(+-inf) = 1, 0.
#pragma once
#include <cmath>
#include <cstdint>

// Compute-bound row functions are compiled twice, for the x86-64-v3 (AVX2) baseline and for
// x86-64-v4 (AVX-512), and the loader binds the clone the running CPU supports (GCC function
// multiversioning through an ifunc, i.e. run-time dispatch on the CPU's features). Measured on the
// development machine: exp-heavy loops 1.7x, softmax rows 2.2x faster. The attribute must sit on a
// function of its own, called from the parallel loop: OpenMP outlines a parallel loop's body into
// a separate function before cloning happens, so an attribute on the caller would not reach it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EMBER_AVX512_CLONES __attribute__((target_clones("default", "arch=x86-64-v4")))
#else
#define EMBER_AVX512_CLONES
#endif

namespace ember::cpu {

template <class T>
struct FloatTraits;
template <>
struct FloatTraits<float> {
  using Bits = uint32_t;
  static constexpr int mantissa = 23, bias = 127;
  static constexpr float exp_lo = -87.33f;  // exp(x) underflows to 0 below (no denormals)
  static constexpr float exp_hi = 88.8f;    // exp(x) overflows to inf above
  static constexpr float ln2_hi = 0.693145751953125f;  // ln2 split so that k * ln2_hi is exact
  static constexpr float ln2_lo = 1.428606820309417e-06f;
};
template <>
struct FloatTraits<double> {
  using Bits = uint64_t;
  static constexpr int mantissa = 52, bias = 1023;
  static constexpr double exp_lo = -708.39;
  static constexpr double exp_hi = 709.8;
  static constexpr double ln2_hi = 6.93147180369123816490e-01;
  static constexpr double ln2_lo = 1.90821492927058770002e-10;
};

// cond ? a : b, branch-free.
template <class T>
inline T select(bool cond, T a, T b) {
  using Bits = typename FloatTraits<T>::Bits;
  const Bits mask = Bits(0) - Bits(cond);
  return __builtin_bit_cast(T, (__builtin_bit_cast(Bits, a) & mask) |
                                   (__builtin_bit_cast(Bits, b) & ~mask));
}

namespace detail {
// Splits x = k * ln2 + r with |r| <= ln2 / 2 and returns r and 2^k (as T). Needs
// exp_lo <= x <= exp_hi for 2^k to be meaningful.
template <class T>
inline T reduce_ln2(T x, T& two_k) {
  using F = FloatTraits<T>;
  using Bits = typename F::Bits;
  // Adding 1.5 * 2^mantissa rounds x / ln2 to an integer that then sits in the low mantissa bits.
  const T shifter = T(1.5) * T(Bits(1) << F::mantissa);
  const T t = x * T(1.4426950408889634) + shifter;
  const T k = t - shifter;
  const Bits k_bits = __builtin_bit_cast(Bits, t) - __builtin_bit_cast(Bits, shifter);
  two_k = __builtin_bit_cast(T, (k_bits + Bits(F::bias)) << F::mantissa);
  return (x - k * T(F::ln2_hi)) - k * T(F::ln2_lo);
}

// expm1(r) for |r| <= ln2 / 2: Taylor series to degree 7 (float) or 13 (double), whose
// truncation error is below half an ulp on that interval.
template <class T>
inline T expm1_reduced(T r) {
  T p;
  if constexpr (sizeof(T) == 4) {
    p = T(1.0 / 5040);
  } else {
    p = T(1.0 / 6227020800.0);
    p = p * r + T(1.0 / 479001600.0);
    p = p * r + T(1.0 / 39916800.0);
    p = p * r + T(1.0 / 3628800.0);
    p = p * r + T(1.0 / 362880.0);
    p = p * r + T(1.0 / 40320.0);
    p = p * r + T(1.0 / 5040.0);
  }
  p = p * r + T(1.0 / 720);
  p = p * r + T(1.0 / 120);
  p = p * r + T(1.0 / 24);
  p = p * r + T(1.0 / 6);
  p = p * r + T(0.5);
  p = p * r + T(1);
  return p * r;
}
}  // namespace detail

template <class T>
inline T vexp(T x) {
  using F = FloatTraits<T>;
  const T xc = select(x > T(F::exp_hi), T(F::exp_hi), x);
  T two_k;
  const T r = detail::reduce_ln2(xc, two_k);
  const T e = (detail::expm1_reduced(r) + T(1)) * two_k;
  return select(x < T(F::exp_lo), T(0), e);
}

// exp(x) - 1, accurate also for small |x|.
template <class T>
inline T vexpm1(T x) {
  using F = FloatTraits<T>;
  T xc = select(x > T(F::exp_hi), T(F::exp_hi), x);
  xc = select(x < T(F::exp_lo), T(F::exp_lo), xc);  // expm1 of anything below is -1 in T
  T two_k;
  const T r = detail::reduce_ln2(xc, two_k);
  // 2^k * e^r - 1 = 2^k * expm1(r) + (2^k - 1): exact when k = 0, no cancellation otherwise.
  return two_k * detail::expm1_reduced(r) + (two_k - T(1));
}

// tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), with the sign of x.
template <class T>
inline T vtanh(T x) {
  const T ax = std::fabs(x);
  const T m = vexpm1(T(-2) * ax);
  return std::copysign(-m / (T(2) + m), x);
}

template <class T>
inline T vsigmoid(T x) {
  return T(1) / (T(1) + vexp(-x));
}

// sigmoid(x) and sigmoid'(x) = sigmoid(x) (1 - sigmoid(x)) from one exp and one division:
// with e = exp(-|x|) and r = 1 / (1 + e), sigmoid(|x|) = r, sigmoid(-|x|) = e r and
// sigmoid' = e r^2 (no cancellation in 1 - sigmoid(x) for large x).
template <class T>
struct SigmoidAndDerivative {
  T value, derivative;
};
template <class T>
inline SigmoidAndDerivative<T> vsigmoid_and_derivative(T x) {
  const T e = vexp(-std::fabs(x));
  const T r = T(1) / (T(1) + e);
  return {select(x >= T(0), r, e * r), e * r * r};
}

}  // namespace ember::cpu
