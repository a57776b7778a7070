// Normalisation kernels. See csrc/common/norm_contract.h for the memory contracts.
//
// Accuracy: statistics are computed in two passes (mean, then the mean of squared deviations)
// with double accumulators in both precisions, so inputs with a large mean relative to their
// spread (mean 1e4, std 1 in float32) keep their variance. When normalising, x - mean is formed
// as (x - mean_hi) - mean_lo, mean_hi = mean rounded to T: the first subtraction is exact for x
// near the mean, so float32 output does not inherit the rounding error of a float32 mean.
//
// Locality: each parallel task owns one statistic's data (a channel, a row or a group), which
// stays in cache between the passes over it, so DRAM sees roughly one read of x per pass group.
//
// Hot loops test no run-time option (GCC would unswitch them, and the copies lose their `omp simd`
// vectorisation): layer norm without weight or bias runs with a row of ones or zeros instead.
// The loop functions (one block, row or channel slice each) are compiled for AVX2 and AVX-512
// (EMBER_AVX512_CLONES): the double accumulations then run 8 lanes wide.
#include "cpu/norm.h"

#include <omp.h>

#include <cmath>
#include <vector>

#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

// Below this many elements of work, threads cost more than they save.
constexpr int64_t kParallelGrain = 1 << 15;

template <class T>
EMBER_AVX512_CLONES double sum(const T* x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(x[i]);
  return s;
}

template <class T>
EMBER_AVX512_CLONES double sum_sq_dev(const T* x, int64_t n, double mean) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(x[i]) - mean;
    s += d * d;
  }
  return s;
}

// sum(dy) and sum(dy * (x - mean)) in one pass.
template <class T>
EMBER_AVX512_CLONES void sum_dy_dyx(const T* dy, const T* x, int64_t n, double mean, double& s_dy,
                                    double& s_dyx) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < n; ++i) {
    a += double(dy[i]);
    b += double(dy[i]) * (double(x[i]) - mean);
  }
  s_dy += a;
  s_dyx += b;
}

// mean split as hi + lo with hi = mean rounded to T (see the file comment).
template <class T>
struct SplitMean {
  T hi, lo;
  explicit SplitMean(double mean) : hi(T(mean)), lo(T(mean - double(T(mean)))) {}
};

// out = ((x - mean) * scale + shift) over n contiguous elements.
template <class T>
EMBER_AVX512_CLONES void normalise(const T* x, T* out, int64_t n, SplitMean<T> m, T scale,
                                   T shift) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = ((x[i] - m.hi) - m.lo) * scale + shift;
}

// Mean and biased variance of `blocks` blocks of `len` elements starting every `stride` elements.
// noclone: the link-time (LTO) constant-propagated clone of this function once lost the
// vectorisation of the `omp simd` reductions inlined into it (GCC 12), making layer and group
// norm 4x slower.
template <class T>
__attribute__((noclone)) void moments(const T* x, int64_t blocks, int64_t len, int64_t stride,
                                      double& mean, double& var) {
  const double count = double(blocks) * double(len);
  if (count == 0) {  // empty batch: report zeros rather than 0/0
    mean = var = 0;
    return;
  }
  double s = 0;
  for (int64_t b = 0; b < blocks; ++b) s += sum(x + b * stride, len);
  mean = s / count;
  double q = 0;
  for (int64_t b = 0; b < blocks; ++b) q += sum_sq_dev(x + b * stride, len, mean);
  var = q / count;
}

inline double rstd_of(double var, double eps) { return 1.0 / std::sqrt(var + eps); }

template <class T>
T weight_or_one(const T* w, int64_t i) {
  return w ? w[i] : T(1);
}
template <class T>
T bias_or_zero(const T* b, int64_t i) {
  return b ? b[i] : T(0);
}

// dx = a * dy + b * (x - mean) + c over n contiguous elements: the batch and group norm input
// gradient within one channel.
template <class T>
EMBER_AVX512_CLONES void norm_input_grad(const T* dy, const T* x, T* dx, int64_t n,
                                         SplitMean<T> m, T a, T b, T c) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = a * dy[i] + b * ((x[i] - m.hi) - m.lo) + c;
}

// One row of layer norm: statistics, then out = (x - mean) * rstd * weight + bias.
template <class T>
EMBER_AVX512_CLONES void layer_norm_row(const T* x, T* y, int64_t D, const T* weight,
                                        const T* bias, double eps, T& save_mean, T& save_rstd) {
  double mean, var;
  moments(x, 1, D, D, mean, var);
  const double rstd = rstd_of(var, eps);
  save_mean = T(mean);
  save_rstd = T(rstd);
  const SplitMean<T> sm(mean);
  const T r = T(rstd);
#pragma omp simd
  for (int64_t d = 0; d < D; ++d) y[d] = ((x[d] - sm.hi) - sm.lo) * r * weight[d] + bias[d];
}

// One row of the layer norm backward (see layer_norm_backward): adds the row's dy * xhat and dy
// to the column sums dw and db (when given) and writes dx (when given).
template <class T>
EMBER_AVX512_CLONES void layer_norm_backward_row(const T* dy, const T* x, int64_t D,
                                                 const T* weight, double mean, double rstd,
                                                 double* dw, double* db, T* dx) {
  double s_g = 0, s_gx = 0;  // sum(g), sum(g * (x - mean)) with g = dy * w
#pragma omp simd reduction(+ : s_g, s_gx)
  for (int64_t d = 0; d < D; ++d) {
    const double g = double(dy[d]) * double(weight[d]);
    s_g += g;
    s_gx += g * (double(x[d]) - mean);
  }
  // A separate pass: fused into the one above, it measured 20% slower.
  if (dw) {
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) {
      dw[d] += double(dy[d]) * (double(x[d]) - mean) * rstd;
      db[d] += double(dy[d]);
    }
  }
  if (dx) {
    const T r = T(rstd), g_mean = T(s_g / double(D)), gx_coef = T(rstd * rstd * s_gx / double(D));
    const SplitMean<T> sm(mean);
#pragma omp simd
    for (int64_t d = 0; d < D; ++d)
      dx[d] = r * (dy[d] * weight[d] - g_mean - ((x[d] - sm.hi) - sm.lo) * gx_coef);
  }
}

// `given`, or a row of n copies of `fill` held in `storage` when `given` is nullptr.
template <class T>
const T* row_or_fill(const T* given, int64_t n, T fill, std::vector<T>& storage) {
  if (given) return given;
  storage.assign(size_t(n), fill);
  return storage.data();
}

}  // namespace

template <class T>
void batch_norm_forward_train(const Context&, int64_t N, int64_t C, int64_t S, const T* x,
                              const T* weight, const T* bias, T* running_mean, T* running_var,
                              double momentum, double eps, T* out, T* save_mean, T* save_rstd) {
  const int64_t count = N * S;
#pragma omp parallel for schedule(static) if (N * C * S > kParallelGrain)
  for (int64_t c = 0; c < C; ++c) {
    double mean, var;
    moments(x + c * S, N, S, C * S, mean, var);
    const double rstd = rstd_of(var, eps);
    save_mean[c] = T(mean);
    save_rstd[c] = T(rstd);
    // An empty batch leaves the running statistics alone (as PyTorch).
    if (running_mean && count > 0)
      running_mean[c] = T((1 - momentum) * double(running_mean[c]) + momentum * mean);
    if (running_var && count > 0) {
      const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
      running_var[c] = T((1 - momentum) * double(running_var[c]) + momentum * unbiased);
    }
    const T scale = T(double(weight_or_one(weight, c)) * rstd);
    const T shift = bias_or_zero(bias, c);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t off = (n * C + c) * S;
      normalise(x + off, out + off, S, SplitMean<T>(mean), scale, shift);
    }
  }
}

template <class T>
void batch_norm_forward_eval(const Context&, int64_t N, int64_t C, int64_t S, const T* x,
                             const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, double eps, T* out) {
#pragma omp parallel for collapse(2) schedule(static) if (N * C * S > kParallelGrain)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const double rstd = rstd_of(double(running_var[c]), eps);
      const int64_t off = (n * C + c) * S;
      normalise(x + off, out + off, S, SplitMean<T>(double(running_mean[c])),
                T(double(weight_or_one(weight, c)) * rstd), bias_or_zero(bias, c));
    }
}

// With xhat = (x - mean) * rstd and n values per channel, the training-mode gradient is
//   grad_x = w * rstd * (dy - sum(dy) / n - xhat * sum(dy * xhat) / n)
// which, expanded in (x - mean), is grad_x = a * dy + b * (x - mean) + c.
template <class T>
void batch_norm_backward(const Context&, int64_t N, int64_t C, int64_t S, const T* grad_out,
                         const T* x, const T* weight, const T* save_mean, const T* save_rstd,
                         T* grad_x, T* grad_weight, T* grad_bias) {
  const double count = double(N) * double(S);
#pragma omp parallel for schedule(static) if (N * C * S > kParallelGrain)
  for (int64_t c = 0; c < C; ++c) {
    const double mean = double(save_mean[c]), rstd = double(save_rstd[c]);
    double s_dy = 0, s_dyx = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t off = (n * C + c) * S;
      sum_dy_dyx(grad_out + off, x + off, S, mean, s_dy, s_dyx);
    }
    if (grad_bias) grad_bias[c] = T(s_dy);
    if (grad_weight) grad_weight[c] = T(s_dyx * rstd);
    if (!grad_x || count == 0) continue;
    const double a = double(weight_or_one(weight, c)) * rstd;
    const T ta = T(a), tb = T(-a * rstd * rstd * s_dyx / count), tc = T(-a * s_dy / count);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t off = (n * C + c) * S;
      norm_input_grad(grad_out + off, x + off, grad_x + off, S, SplitMean<T>(mean), ta, tb, tc);
    }
  }
}

template <class T>
void layer_norm_forward(const Context&, int64_t M, int64_t D, const T* x, const T* weight_or_null,
                        const T* bias_or_null, double eps, T* out, T* save_mean, T* save_rstd) {
  std::vector<T> ones, zeros;
  const T* weight = row_or_fill(weight_or_null, D, T(1), ones);
  const T* bias = row_or_fill(bias_or_null, D, T(0), zeros);
#pragma omp parallel for schedule(static) if (M * D > kParallelGrain)
  for (int64_t m = 0; m < M; ++m)
    layer_norm_row(x + m * D, out + m * D, D, weight, bias, eps, save_mean[m], save_rstd[m]);
}

// Per row, with g = dy * w and xhat = (x - mean) * rstd:
//   grad_x = rstd * (g - mean(g) - xhat * mean(g * xhat))
// grad_weight and grad_bias are column sums over the rows; each thread accumulates its rows
// into a private row of partial sums, added up at the end (no atomics, deterministic).
template <class T>
void layer_norm_backward(const Context&, int64_t M, int64_t D, const T* grad_out, const T* x,
                         const T* weight_or_null, const T* save_mean, const T* save_rstd, T* grad_x,
                         T* grad_weight, T* grad_bias) {
  std::vector<T> ones;
  const T* weight = row_or_fill(weight_or_null, D, T(1), ones);
  const bool parallel = M * D > kParallelGrain;
  const int threads = parallel ? omp_get_max_threads() : 1;
  const bool need_columns = grad_weight || grad_bias;
  // partial[t] holds thread t's sums of dy * xhat (first D) and of dy (next D).
  std::vector<double> partial(need_columns ? size_t(threads) * 2 * D : 0, 0.0);
#pragma omp parallel num_threads(threads) if (parallel)
  {
    double* dw = need_columns ? partial.data() + size_t(omp_get_thread_num()) * 2 * D : nullptr;
    double* db = need_columns ? dw + D : nullptr;
#pragma omp for schedule(static)
    for (int64_t m = 0; m < M; ++m)
      layer_norm_backward_row(grad_out + m * D, x + m * D, D, weight, double(save_mean[m]),
                              double(save_rstd[m]), dw, db, grad_x ? grad_x + m * D : nullptr);
  }
  if (!need_columns) return;
  for (int64_t d = 0; d < D; ++d) {
    double w = 0, b = 0;
    for (int t = 0; t < threads; ++t) {
      w += partial[size_t(t) * 2 * D + d];
      b += partial[size_t(t) * 2 * D + D + d];
    }
    if (grad_weight) grad_weight[d] = T(w);
    if (grad_bias) grad_bias[d] = T(b);
  }
}

template <class T>
void group_norm_forward(const Context&, int64_t N, int64_t C, int64_t S, int64_t num_groups,
                        const T* x, const T* weight, const T* bias, double eps, T* out,
                        T* save_mean, T* save_rstd) {
  const int64_t G = num_groups, Cg = C / G;
#pragma omp parallel for schedule(static) if (N * C * S > kParallelGrain)
  for (int64_t ng = 0; ng < N * G; ++ng) {
    const int64_t off = ng * Cg * S;  // a group is contiguous: Cg channels of S values
    double mean, var;
    moments(x + off, 1, Cg * S, 0, mean, var);
    const double rstd = rstd_of(var, eps);
    save_mean[ng] = T(mean);
    save_rstd[ng] = T(rstd);
    const int64_t c0 = (ng % G) * Cg;
    for (int64_t j = 0; j < Cg; ++j)
      normalise(x + off + j * S, out + off + j * S, S, SplitMean<T>(mean),
                T(double(weight_or_one(weight, c0 + j)) * rstd), bias_or_zero(bias, c0 + j));
  }
}

// Per (sample, group), with g = dy * w[c] and xhat = (x - mean) * rstd over its K = Cg*S values:
//   grad_x = rstd * (g - sum(g) / K - xhat * sum(g * xhat) / K)
// Pass 1 stores per (sample, channel) sums of dy and dy * (x - mean); they give the group sums
// (weighted by w[c]) and, summed over samples, grad_weight and grad_bias. Pass 2 writes grad_x.
template <class T>
void group_norm_backward(const Context&, int64_t N, int64_t C, int64_t S, int64_t num_groups,
                         const T* grad_out, const T* x, const T* weight, const T* save_mean,
                         const T* save_rstd, T* grad_x, T* grad_weight, T* grad_bias) {
  const int64_t G = num_groups, Cg = C / G;
  const double K = double(Cg) * double(S);
  std::vector<double> s_dy(size_t(N * C)), s_dyx(size_t(N * C));
  const bool parallel = N * C * S > kParallelGrain;
#pragma omp parallel if (parallel)
  {
#pragma omp for schedule(static)
    for (int64_t ng = 0; ng < N * G; ++ng) {
      const double mean = double(save_mean[ng]), rstd = double(save_rstd[ng]);
      const int64_t n = ng / G, c0 = (ng % G) * Cg;
      double g_sum = 0, gx_sum = 0;
      for (int64_t j = 0; j < Cg; ++j) {
        const int64_t nc = n * C + c0 + j;
        double a = 0, b = 0;
        sum_dy_dyx(grad_out + nc * S, x + nc * S, S, mean, a, b);
        s_dy[nc] = a;
        s_dyx[nc] = b;
        const double w = double(weight_or_one(weight, c0 + j));
        g_sum += w * a;
        gx_sum += w * b;
      }
      if (!grad_x) continue;
      const SplitMean<T> sm(mean);
      const double gx_coef = rstd * rstd * gx_sum / K;
      for (int64_t j = 0; j < Cg; ++j) {
        const int64_t nc = n * C + c0 + j;
        // grad_x = a * dy + b * (x - mean) + c for this channel
        const double w = double(weight_or_one(weight, c0 + j));
        norm_input_grad(grad_out + nc * S, x + nc * S, grad_x + nc * S, S, sm, T(rstd * w),
                        T(-rstd * gx_coef), T(-rstd * g_sum / K));
      }
    }
#pragma omp for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      double w = 0, b = 0;
      for (int64_t n = 0; n < N; ++n) {
        w += s_dyx[n * C + c] * double(save_rstd[n * G + c / Cg]);
        b += s_dy[n * C + c];
      }
      if (grad_weight) grad_weight[c] = T(w);
      if (grad_bias) grad_bias[c] = T(b);
    }
  }
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void batch_norm_forward_train<T>(const Context&, int64_t, int64_t, int64_t, const T*, \
                                            const T*, const T*, T*, T*, double, double, T*, T*,  \
                                            T*);                                                 \
  template void batch_norm_forward_eval<T>(const Context&, int64_t, int64_t, int64_t, const T*,  \
                                           const T*, const T*, const T*, const T*, double, T*);  \
  template void batch_norm_backward<T>(const Context&, int64_t, int64_t, int64_t, const T*,      \
                                       const T*, const T*, const T*, const T*, T*, T*, T*);      \
  template void layer_norm_forward<T>(const Context&, int64_t, int64_t, const T*, const T*,      \
                                      const T*, double, T*, T*, T*);                             \
  template void layer_norm_backward<T>(const Context&, int64_t, int64_t, const T*, const T*,     \
                                       const T*, const T*, const T*, T*, T*, T*);                \
  template void group_norm_forward<T>(const Context&, int64_t, int64_t, int64_t, int64_t,        \
                                      const T*, const T*, const T*, double, T*, T*, T*);         \
  template void group_norm_backward<T>(const Context&, int64_t, int64_t, int64_t, int64_t,       \
                                       const T*, const T*, const T*, const T*, const T*, T*, T*, \
                                       T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::cpu
