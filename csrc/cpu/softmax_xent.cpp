// Softmax, log-softmax and the classification losses. See csrc/common/softmax_xent_contract.h for the contracts.
//
// Softmax strategy: the classic three passes (max, exp and sum, normalise) over data that stays
// in cache. A contiguous row (inner == 1) is small enough for L1/L2; for a strided softmax
// (inner > 1) a tile of kTile neighbouring columns of all `dim` rows is processed together,
// vectorised across the columns. A single-pass online softmax would save one pass over cached
// data but costs a second exp per element, so it does not pay here (attention uses it, where the
// scores are never stored). Reductions accumulate in T with vector lanes as partial sums.
// Options (log, weight) are tested outside the vectorised loops, never inside: GCC would
// unswitch such a loop, and the copies lose their `omp simd` vectorisation.
#include "cpu/softmax_xent.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

constexpr int64_t kParallelGrain = 1 << 14;
constexpr int64_t kTile = 64;  // columns per tile of a strided softmax

template <class T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];  // a local: max() of a memory reference does not vectorise
    m = std::max(m, v);
  }
  return m;
}

// sum_i exp(x_i - shift); also stores the exponentials when `out` is given.
template <class T>
T sum_exp(const T* x, int64_t n, T shift, T* out) {
  T s = 0;
  if (out) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) {
      const T e = vexp(x[i] - shift);
      out[i] = e;
      s += e;
    }
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += vexp(x[i] - shift);
  }
  return s;
}

template <class T>
EMBER_AVX512_CLONES void softmax_row(const T* x, T* out, int64_t n, bool log) {
  const T m = row_max(x, n);
  if (log) {
    const T lse = m + std::log(sum_exp(x, n, m, static_cast<T*>(nullptr)));
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] - lse;
  } else {
    const T inv = T(1) / sum_exp(x, n, m, out);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] *= inv;
  }
}

// Softmax along the rows of a (dim, w) tile whose rows are `inner` apart, vectorised across w.
template <class T>
EMBER_AVX512_CLONES void softmax_tile(const T* x, T* out, int64_t dim, int64_t inner, int64_t w,
                                      bool log) {
  T m[kTile], s[kTile];
  std::fill(m, m + w, -std::numeric_limits<T>::infinity());
  std::fill(s, s + w, T(0));
  for (int64_t j = 0; j < dim; ++j) {
    const T* xj = x + j * inner;
#pragma omp simd
    for (int64_t i = 0; i < w; ++i) {
      const T v = xj[i];
      m[i] = std::max(m[i], v);
    }
  }
  for (int64_t j = 0; j < dim; ++j) {
    const T* xj = x + j * inner;
    T* oj = out + j * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) s[i] += vexp(xj[i] - m[i]);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        oj[i] = vexp(xj[i] - m[i]);
        s[i] += oj[i];
      }
    }
  }
  // Reuse s as the per-column factor (1 / sum) or offset (log-sum-exp).
  for (int64_t i = 0; i < w; ++i) s[i] = log ? m[i] + std::log(s[i]) : T(1) / s[i];
  for (int64_t j = 0; j < dim; ++j) {
    const T* xj = x + j * inner;
    T* oj = out + j * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) oj[i] = xj[i] - s[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) oj[i] *= s[i];
    }
  }
}

template <class T>
EMBER_AVX512_CLONES void softmax_backward_row(const T* g, const T* y, T* dx, int64_t n, bool log) {
  T s = 0;
  if (log) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += g[i];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = g[i] - vexp(y[i]) * s;
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += g[i] * y[i];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (g[i] - s);
  }
}

template <class T>
EMBER_AVX512_CLONES void softmax_backward_tile(const T* g, const T* y, T* dx, int64_t dim,
                                               int64_t inner, int64_t w, bool log) {
  T s[kTile];
  std::fill(s, s + w, T(0));
  for (int64_t j = 0; j < dim; ++j) {
    const T* gj = g + j * inner;
    const T* yj = y + j * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) s[i] += gj[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) s[i] += gj[i] * yj[i];
    }
  }
  for (int64_t j = 0; j < dim; ++j) {
    const T* gj = g + j * inner;
    const T* yj = y + j * inner;
    T* dj = dx + j * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) dj[i] = gj[i] - vexp(yj[i]) * s[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) dj[i] = yj[i] * (gj[i] - s[i]);
    }
  }
}

// Runs fn(offset, width) over every (outer, column tile) of an (outer, dim, inner) array, where
// offset is the first element of the tile; in parallel when the array is large enough.
template <class Fn>
void for_each_tile(int64_t outer, int64_t dim, int64_t inner, Fn&& fn) {
  const int64_t tiles = (inner + kTile - 1) / kTile;
#pragma omp parallel for collapse(2) schedule(static) if (outer * dim * inner > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < tiles; ++t)
      fn(o * dim * inner + t * kTile, std::min(kTile, inner - t * kTile));
}

// Checks every target before anything is read through it.
TargetCheck check_targets(int64_t M, int64_t C, const int64_t* target, int64_t ignore_index) {
  for (int64_t m = 0; m < M; ++m) {
    const int64_t t = target[m];
    if (t != ignore_index && (t < 0 || t >= C)) return {m, t};
  }
  return {};
}

template <class T>
T weight_or_one(const T* w, int64_t i) {
  return w ? w[i] : T(1);
}

}  // namespace

template <class T>
void softmax_forward(const Context&, int64_t outer, int64_t dim, int64_t inner, const T* x, T* out,
                     bool log) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * dim > kParallelGrain)
    for (int64_t o = 0; o < outer; ++o) softmax_row(x + o * dim, out + o * dim, dim, log);
    return;
  }
  for_each_tile(outer, dim, inner, [&](int64_t off, int64_t w) {
    softmax_tile(x + off, out + off, dim, inner, w, log);
  });
}

template <class T>
void softmax_backward(const Context&, int64_t outer, int64_t dim, int64_t inner, const T* grad_out,
                      const T* out, T* grad_x, bool log) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * dim > kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      softmax_backward_row(grad_out + o * dim, out + o * dim, grad_x + o * dim, dim, log);
    return;
  }
  for_each_tile(outer, dim, inner, [&](int64_t off, int64_t w) {
    softmax_backward_tile(grad_out + off, out + off, grad_x + off, dim, inner, w, log);
  });
}

namespace {

// Loss of one row x (C logits) with target t (see softmax_xent.h); also returns its log-sum-exp.
template <class T>
EMBER_AVX512_CLONES T cross_entropy_row(const T* x, int64_t C, int64_t t, bool ignored,
                                        const T* weight, T ls, T& lse) {
  const T mx = row_max(x, C);
  const T l = mx + std::log(sum_exp(x, C, mx, static_cast<T*>(nullptr)));
  lse = l;
  if (ignored) return T(0);
  T value = (T(1) - ls) * weight_or_one(weight, t) * (l - x[t]);
  if (ls != T(0)) {
    // Every term w_c * (lse - x_c) is >= 0, so this sum has no cancellation.
    T s = 0;
    if (weight) {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += weight[c] * (l - x[c]);
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += l - x[c];
    }
    value += ls / T(C) * s;
  }
  return value;
}

// Gradient of one row's loss times g: dx = a * p - b * w, then dx[t] -= g (1 - ls) w_t
// (see cross_entropy_backward for a and b).
template <class T>
EMBER_AVX512_CLONES void cross_entropy_grad_row(const T* x, int64_t C, int64_t t, const T* weight,
                                                T weight_sum, T ls, T g, T lse, T* dx) {
  const T wt = weight_or_one(weight, t);
  const T a = g * ((T(1) - ls) * wt + ls * weight_sum / T(C)), b = g * ls / T(C);
  if (weight) {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) dx[c] = a * vexp(x[c] - lse) - b * weight[c];
  } else {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) dx[c] = a * vexp(x[c] - lse) - b;
  }
  dx[t] -= g * (T(1) - ls) * wt;
}

}  // namespace

template <class T>
TargetCheck cross_entropy_forward(const Context&, int64_t M, int64_t C, const T* logits,
                                  const int64_t* target, const T* weight, int64_t ignore_index,
                                  double label_smoothing, T* loss, T* lse) {
  const TargetCheck check = check_targets(M, C, target, ignore_index);
  if (check.index >= 0) return check;
#pragma omp parallel for schedule(static) if (M * C > kParallelGrain)
  for (int64_t m = 0; m < M; ++m)
    loss[m] = cross_entropy_row(logits + m * C, C, target[m], target[m] == ignore_index, weight,
                                T(label_smoothing), lse[m]);
  return {};
}

// grad = g * (a * p_c - b * w_c) - [c == t] * g * (1 - ls) * w_t with p = softmax,
// a = (1 - ls) * w_t + ls * W / C and b = ls / C, W = sum_c w_c.
template <class T>
TargetCheck cross_entropy_backward(const Context&, int64_t M, int64_t C, const T* logits,
                                   const int64_t* target, const T* weight, int64_t ignore_index,
                                   double label_smoothing, const T* lse, const T* grad_loss,
                                   T* grad_logits) {
  const TargetCheck check = check_targets(M, C, target, ignore_index);
  if (check.index >= 0) return check;
  T W = T(C);
  if (weight) {
    W = 0;
    for (int64_t c = 0; c < C; ++c) W += weight[c];
  }
#pragma omp parallel for schedule(static) if (M * C > kParallelGrain)
  for (int64_t m = 0; m < M; ++m) {
    if (target[m] == ignore_index)
      std::fill(grad_logits + m * C, grad_logits + (m + 1) * C, T(0));
    else
      cross_entropy_grad_row(logits + m * C, C, target[m], weight, W, T(label_smoothing),
                             grad_loss[m], lse[m], grad_logits + m * C);
  }
  return {};
}

namespace {
// softplus(-x) = log(1 + exp(-x)), stable for both signs of x.
template <class T>
T softplus_neg(T x) {
  return std::max(-x, T(0)) + std::log1p(vexp(-std::fabs(x)));
}

// Runs fn(i, c) for every element i of an (M, C) array, c its column; in parallel when large.
template <class Fn>
void for_each_element(int64_t M, int64_t C, Fn&& fn) {
#pragma omp parallel for schedule(static) if (M * C > kParallelGrain)
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c) fn(m * C + c, c);
}
}  // namespace

template <class T>
void binary_cross_entropy_with_logits_forward(const Context&, int64_t M, int64_t C, const T* logits,
                             const T* target, const T* weight, const T* pos_weight, T* loss) {
  for_each_element(M, C, [&](int64_t i, int64_t c) {
    const T x = logits[i], y = target[i];
    const T p = weight_or_one(pos_weight, c);
    loss[i] = weight_or_one(weight, i) *
              ((T(1) - y) * x + (T(1) + (p - T(1)) * y) * softplus_neg(x));
  });
}

template <class T>
void binary_cross_entropy_with_logits_backward(const Context&, int64_t M, int64_t C, const T* grad_loss,
                              const T* logits, const T* target, const T* weight,
                              const T* pos_weight, T* grad_logits, T* grad_target) {
  for_each_element(M, C, [&](int64_t i, int64_t c) {
    const T x = logits[i], y = target[i];
    const T p = weight_or_one(pos_weight, c);
    const T gw = grad_loss[i] * weight_or_one(weight, i);
    grad_logits[i] = gw * ((T(1) - y) - (T(1) + (p - T(1)) * y) * vsigmoid(-x));
    if (grad_target) grad_target[i] = gw * ((p - T(1)) * softplus_neg(x) - x);
  });
}

#define EMBER_INSTANTIATE(T)                                                                      \
  template void softmax_forward<T>(const Context&, int64_t, int64_t, int64_t, const T*, T*, bool); \
  template void softmax_backward<T>(const Context&, int64_t, int64_t, int64_t, const T*, const T*, \
                                    T*, bool);                                                     \
  template TargetCheck cross_entropy_forward<T>(const Context&, int64_t, int64_t, const T*,        \
                                                const int64_t*, const T*, int64_t, double, T*,     \
                                                T*);                                               \
  template TargetCheck cross_entropy_backward<T>(const Context&, int64_t, int64_t, const T*,       \
                                                 const int64_t*, const T*, int64_t, double,        \
                                                 const T*, const T*, T*);                          \
  template void binary_cross_entropy_with_logits_forward<T>(const Context&, int64_t, int64_t, const T*, const T*,   \
                                           const T*, const T*, T*);                                \
  template void binary_cross_entropy_with_logits_backward<T>(const Context&, int64_t, int64_t, const T*, const T*,  \
                                            const T*, const T*, const T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::cpu
