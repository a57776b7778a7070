// Normalisation kernels; see norm.cuh for the numerics and the parallel layout.
#include <algorithm>

#include "cuda/check.cuh"
#include "cuda/norm.cuh"
#include "cuda/reduce.cuh"

namespace ember::cuda {
namespace {

// ---- Welford statistics -----------------------------------------------------------------------

// Count, mean and sum of squared deviations of the values seen; zero-initialise with Welford{}.
struct Welford {
  double n, mean, m2;

  __device__ void add(double x) {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  // Chan et al.'s pairwise combination: exact in exact arithmetic, stable in floating point.
  __device__ void merge(const Welford& o) {
    if (o.n == 0) return;
    if (n == 0) {
      *this = o;
      return;
    }
    const double total = n + o.n, d = o.mean - mean;
    mean += d * (o.n / total);
    m2 += o.m2 + d * d * (n * o.n / total);
    n = total;
  }
  __device__ double variance() const { return n > 0 ? m2 / n : 0.0; }  // biased; 0 when empty
};

__device__ __forceinline__ Welford merged(Welford a, const Welford& b) {
  a.merge(b);
  return a;
}

template <int kRowThreads>
__device__ __forceinline__ Welford row_merge(const Welford& w, Welford* scratch) {
  return row_reduce<kRowThreads>(w, merged, Welford{}, scratch);
}

__device__ __forceinline__ Welford block_merge(const Welford& w, Welford* scratch) {
  return block_reduce(w, merged, Welford{}, scratch);
}

// ---- coefficients of the elementwise passes ----------------------------------------------------

// x - mean formed as (x - hi) - lo, hi = mean rounded to T, lo the rest (see norm.cuh).
template <class T>
struct SplitMean {
  T hi, lo;
};
template <class T>
__device__ __forceinline__ SplitMean<T> split_mean(double mean) {
  const T hi = T(mean);
  return {hi, T(mean - double(hi))};
}

template <class T>
struct Affine {  // out = ((x - hi) - lo) * scale + shift
  SplitMean<T> m;
  T scale, shift;
};

template <class T>
struct GradAffine {  // grad_x = a * dy + b * ((x - hi) - lo) + c
  SplitMean<T> m;
  T a, b, c;
};

template <class T>
__device__ __forceinline__ T weight_or_one(const T* w, int64_t i) { return w ? w[i] : T(1); }
template <class T>
__device__ __forceinline__ T bias_or_zero(const T* b, int64_t i) { return b ? b[i] : T(0); }

// Elementwise passes over (.., Q, S) arrays: element e uses the coefficients of q = (e / S) % Q
// (Q = C for batch norm's channels, Q = N*C for group norm's (sample, channel) planes).
template <class T>
__global__ void affine_kernel(int64_t total, int64_t S, int64_t Q, const T* __restrict__ x,
                              const Affine<T>* __restrict__ coef, T* __restrict__ out) {
  for (int64_t e : grid_stride(total)) {
    const Affine<T> k = coef[(e / S) % Q];
    out[e] = ((x[e] - k.m.hi) - k.m.lo) * k.scale + k.shift;
  }
}

template <class T>
__global__ void grad_affine_kernel(int64_t total, int64_t S, int64_t Q, const T* __restrict__ dy,
                                   const T* __restrict__ x, const GradAffine<T>* __restrict__ coef,
                                   T* __restrict__ dx) {
  for (int64_t e : grid_stride(total)) {
    const GradAffine<T> k = coef[(e / S) % Q];
    dx[e] = k.a * dy[e] + k.b * ((x[e] - k.m.hi) - k.m.lo) + k.c;
  }
}

// ---- batch norm ------------------------------------------------------------------------------

// Block (c, slice) visits its slice of channel c's N*S values, calling f(flat index into x).
template <class F>
__device__ __forceinline__ void for_channel_slice(int64_t N, int64_t C, int64_t S, F&& f) {
  const int64_t c = blockIdx.x, total = N * S, chunk = (total + gridDim.y - 1) / gridDim.y;
  const int64_t end = min(total, (blockIdx.y + 1) * chunk);
  for (int64_t i = blockIdx.y * chunk + threadIdx.x; i < end; i += blockDim.x) {
    const int64_t n = i / S;
    f((n * C + c) * S + (i - n * S));
  }
}

template <class T>
__global__ void bn_stats_kernel(int64_t N, int64_t C, int64_t S, const T* __restrict__ x,
                                Welford* __restrict__ partial) {
  __shared__ Welford scratch[32];
  Welford w{};
  for_channel_slice(N, C, S, [&](int64_t e) { w.add(double(x[e])); });
  w = block_merge(w, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x * int64_t(gridDim.y) + blockIdx.y] = w;
}

// One thread per channel: merge the slices, save the statistics, update the running ones.
template <class T>
__global__ void bn_finalize_kernel(int64_t C, int64_t slices, const Welford* __restrict__ partial,
                                   const T* __restrict__ weight, const T* __restrict__ bias, T* running_mean,
                                   T* running_var, double momentum, double eps, T* __restrict__ save_mean,
                                   T* __restrict__ save_rstd, Affine<T>* __restrict__ coef) {
  for (int64_t c : grid_stride(C)) {
    Welford w{};
    for (int64_t s = 0; s < slices; ++s) w.merge(partial[c * slices + s]);
    const double var = w.variance(), rstd = 1.0 / sqrt(var + eps);
    save_mean[c] = T(w.mean);
    save_rstd[c] = T(rstd);
    if (w.n > 0) {  // an empty batch leaves the running statistics alone (as PyTorch)
      if (running_mean) running_mean[c] = T((1 - momentum) * double(running_mean[c]) + momentum * w.mean);
      if (running_var) {
        const double unbiased = w.n > 1 ? var * w.n / (w.n - 1) : var;
        running_var[c] = T((1 - momentum) * double(running_var[c]) + momentum * unbiased);
      }
    }
    coef[c] = {split_mean<T>(w.mean), T(double(weight_or_one(weight, c)) * rstd), bias_or_zero(bias, c)};
  }
}

template <class T>
__global__ void bn_eval_coef_kernel(int64_t C, const T* __restrict__ weight, const T* __restrict__ bias,
                                    const T* __restrict__ running_mean, const T* __restrict__ running_var,
                                    double eps, Affine<T>* __restrict__ coef) {
  for (int64_t c : grid_stride(C)) {
    const double rstd = 1.0 / sqrt(double(running_var[c]) + eps);
    coef[c] = {split_mean<T>(double(running_mean[c])), T(double(weight_or_one(weight, c)) * rstd),
               bias_or_zero(bias, c)};
  }
}

// Per slice: sum(dy) and sum(dy * (x - mean)) in double.
template <class T>
__global__ void bn_grad_sums_kernel(int64_t N, int64_t C, int64_t S, const T* __restrict__ dy,
                                    const T* __restrict__ x, const T* __restrict__ save_mean,
                                    double2* __restrict__ partial) {
  __shared__ double scratch[32];
  const double mean = double(save_mean[blockIdx.x]);
  double s_dy = 0, s_dyx = 0;
  for_channel_slice(N, C, S, [&](int64_t e) {
    s_dy += double(dy[e]);
    s_dyx += double(dy[e]) * (double(x[e]) - mean);
  });
  s_dy = block_sum(s_dy, scratch);
  s_dyx = block_sum(s_dyx, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x * int64_t(gridDim.y) + blockIdx.y] = {s_dy, s_dyx};
}

// With xhat = (x - mean) * rstd and n values per channel, the training-mode gradient
// w * rstd * (dy - sum(dy)/n - xhat * sum(dy * xhat)/n) is a * dy + b * (x - mean) + c.
template <class T>
__global__ void bn_grad_finalize_kernel(int64_t C, int64_t slices, double count, const double2* __restrict__ partial,
                                        const T* __restrict__ weight, const T* __restrict__ save_mean,
                                        const T* __restrict__ save_rstd, T* __restrict__ grad_weight,
                                        T* __restrict__ grad_bias, GradAffine<T>* __restrict__ coef) {
  for (int64_t c : grid_stride(C)) {
    double s_dy = 0, s_dyx = 0;
    for (int64_t s = 0; s < slices; ++s) {
      s_dy += partial[c * slices + s].x;
      s_dyx += partial[c * slices + s].y;
    }
    const double rstd = double(save_rstd[c]);
    if (grad_bias) grad_bias[c] = T(s_dy);
    if (grad_weight) grad_weight[c] = T(s_dyx * rstd);
    if (coef && count > 0) {
      const double a = double(weight_or_one(weight, c)) * rstd;
      coef[c] = {split_mean<T>(double(save_mean[c])), T(a), T(-a * rstd * rstd * s_dyx / count), T(-a * s_dy / count)};
    }
  }
}

// Slices per channel: enough blocks to fill the GPU, each with at least ~4096 values.
int64_t channel_slices(int64_t C, int64_t per_channel) {
  const int64_t fill = (4 * int64_t(sm_count()) + C - 1) / C;
  return std::clamp<int64_t>(std::min(fill, per_channel / 4096), 1, 65535);
}

// ---- layer norm and group norm rows ----------------------------------------------------------

// The statistics of one row of `len` values (a layer norm row, a group norm (sample, group)):
// Welford over the row's threads, saved by lane 0 as save_mean[row] and save_rstd[row].
struct NormRowStats {
  double mean, rstd;
};
template <int kRowThreads, class T>
__device__ __forceinline__ NormRowStats norm_row_stats(const T* xr, int64_t len, int64_t row, int lane, double eps,
                                                       Welford* scratch, T* save_mean, T* save_rstd) {
  Welford w{};
  for (int64_t i = lane; i < len; i += kRowThreads) w.add(double(xr[i]));
  w = row_merge<kRowThreads>(w, scratch);
  const double rstd = 1.0 / sqrt(w.variance() + eps);
  if (lane == 0) {
    save_mean[row] = T(w.mean);
    save_rstd[row] = T(rstd);
  }
  return {w.mean, rstd};
}

// ---- layer norm ------------------------------------------------------------------------------

template <class T, int kRowThreads>
__global__ void layer_norm_forward_kernel(int64_t M, int64_t D, const T* __restrict__ x, const T* __restrict__ weight,
                                          const T* __restrict__ bias, double eps, T* __restrict__ out,
                                          T* __restrict__ save_mean, T* __restrict__ save_rstd) {
  __shared__ Welford scratch[32];
  for_each_row<kRowThreads>(M, [&](int64_t row, int lane) {
    const T* xr = x + row * D;
    const NormRowStats st = norm_row_stats<kRowThreads>(xr, D, row, lane, eps, scratch, save_mean, save_rstd);
    const SplitMean<T> m = split_mean<T>(st.mean);
    const T r = T(st.rstd);
    T* yr = out + row * D;
    for (int64_t d = lane; d < D; d += kRowThreads)
      yr[d] = ((xr[d] - m.hi) - m.lo) * r * weight_or_one(weight, d) + bias_or_zero(bias, d);
  });
}

// Per row, with g = dy * w and xhat = (x - mean) * rstd:
//   grad_x = rstd * (g - mean(g) - xhat * mean(g * xhat)).
template <class T, int kRowThreads>
__global__ void layer_norm_grad_x_kernel(int64_t M, int64_t D, const T* __restrict__ dy, const T* __restrict__ x,
                                         const T* __restrict__ weight, const T* __restrict__ save_mean,
                                         const T* __restrict__ save_rstd, T* __restrict__ dx) {
  __shared__ double scratch[32];
  for_each_row<kRowThreads>(M, [&](int64_t row, int lane) {
    const T* dyr = dy + row * D;
    const T* xr = x + row * D;
    const double mean = double(save_mean[row]), rstd = double(save_rstd[row]);
    double s_g = 0, s_gx = 0;
    for (int64_t d = lane; d < D; d += kRowThreads) {
      const double g = double(dyr[d]) * double(weight_or_one(weight, d));
      s_g += g;
      s_gx += g * (double(xr[d]) - mean);
    }
    s_g = row_sum<kRowThreads>(s_g, scratch);
    s_gx = row_sum<kRowThreads>(s_gx, scratch);
    const T r = T(rstd), g_mean = T(s_g / double(D)), gx_coef = T(rstd * rstd * s_gx / double(D));
    const SplitMean<T> m = split_mean<T>(mean);
    T* dxr = dx + row * D;
    for (int64_t d = lane; d < D; d += kRowThreads)
      dxr[d] = r * (dyr[d] * weight_or_one(weight, d) - g_mean - ((xr[d] - m.hi) - m.lo) * gx_coef);
  });
}

// Column sums over a slice of rows (thread per column, coalesced along rows):
// partial[slice] = (sum dy * xhat, sum dy), each D doubles.
template <class T>
__global__ void layer_norm_columns_kernel(int64_t M, int64_t D, int64_t rows_per_slice, const T* __restrict__ dy,
                                          const T* __restrict__ x, const T* __restrict__ save_mean,
                                          const T* __restrict__ save_rstd, double* __restrict__ partial) {
  const int64_t d = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (d >= D) return;
  const int64_t r0 = blockIdx.y * rows_per_slice, r1 = min(M, r0 + rows_per_slice);
  double s_w = 0, s_b = 0;
  for (int64_t m = r0; m < r1; ++m) {
    const double g = double(dy[m * D + d]);
    s_w += g * (double(x[m * D + d]) - double(save_mean[m])) * double(save_rstd[m]);
    s_b += g;
  }
  partial[2 * blockIdx.y * D + d] = s_w;
  partial[(2 * blockIdx.y + 1) * D + d] = s_b;
}

template <class T>
__global__ void layer_norm_columns_finalize_kernel(int64_t D, int64_t slices, const double* __restrict__ partial,
                                                   T* __restrict__ grad_weight, T* __restrict__ grad_bias) {
  for (int64_t d : grid_stride(D)) {
    double s_w = 0, s_b = 0;
    for (int64_t s = 0; s < slices; ++s) {
      s_w += partial[2 * s * D + d];
      s_b += partial[(2 * s + 1) * D + d];
    }
    if (grad_weight) grad_weight[d] = T(s_w);
    if (grad_bias) grad_bias[d] = T(s_b);
  }
}

// ---- group norm ------------------------------------------------------------------------------

// Row = (sample, group): K = Cg*S contiguous values; channel c0 + i / S for value i.
template <class T, int kRowThreads>
__global__ void group_norm_forward_kernel(int64_t rows, int64_t G, int64_t Cg, int64_t S, const T* __restrict__ x,
                                          const T* __restrict__ weight, const T* __restrict__ bias, double eps,
                                          T* __restrict__ out, T* __restrict__ save_mean, T* __restrict__ save_rstd) {
  __shared__ Welford scratch[32];
  const int64_t K = Cg * S;
  for_each_row<kRowThreads>(rows, [&](int64_t row, int lane) {
    const T* xr = x + row * K;
    const NormRowStats st = norm_row_stats<kRowThreads>(xr, K, row, lane, eps, scratch, save_mean, save_rstd);
    const double rstd = st.rstd;
    const SplitMean<T> m = split_mean<T>(st.mean);
    const int64_t c0 = (row % G) * Cg;
    T* yr = out + row * K;
    for (int64_t i = lane; i < K; i += kRowThreads) {
      const int64_t c = c0 + i / S;
      yr[i] = ((xr[i] - m.hi) - m.lo) * T(double(weight_or_one(weight, c)) * rstd) + bias_or_zero(bias, c);
    }
  });
}

// Row = (sample, channel) plane of S values: sums[nc] = (sum dy, sum dy * (x - group mean)).
template <class T, int kRowThreads>
__global__ void group_norm_plane_sums_kernel(int64_t N, int64_t C, int64_t S, int64_t G, const T* __restrict__ dy,
                                             const T* __restrict__ x, const T* __restrict__ save_mean,
                                             double2* __restrict__ sums) {
  __shared__ double scratch[32];
  const int64_t Cg = C / G;
  for_each_row<kRowThreads>(N * C, [&](int64_t nc, int lane) {
    const double mean = double(save_mean[(nc / C) * G + (nc % C) / Cg]);
    const T* dyr = dy + nc * S;
    const T* xr = x + nc * S;
    double a = 0, b = 0;
    for (int64_t s = lane; s < S; s += kRowThreads) {
      a += double(dyr[s]);
      b += double(dyr[s]) * (double(xr[s]) - mean);
    }
    a = row_sum<kRowThreads>(a, scratch);
    b = row_sum<kRowThreads>(b, scratch);
    if (lane == 0) sums[nc] = {a, b};
  });
}

// One thread per (sample, group), with g = dy * w[c] over its K values:
//   grad_x = rstd * (g - sum(g)/K - xhat * sum(g * xhat)/K) = a * dy + b * (x - mean) + c per channel.
template <class T>
__global__ void group_norm_coef_kernel(int64_t N, int64_t C, int64_t S, int64_t G, const T* __restrict__ weight,
                                       const T* __restrict__ save_mean, const T* __restrict__ save_rstd,
                                       const double2* __restrict__ sums, GradAffine<T>* __restrict__ coef) {
  const int64_t Cg = C / G;
  const double K = double(Cg) * double(S);
  for (int64_t ng : grid_stride(N * G)) {
    const int64_t n = ng / G, c0 = (ng % G) * Cg;
    const double mean = double(save_mean[ng]), rstd = double(save_rstd[ng]);
    double g_sum = 0, gx_sum = 0;
    for (int64_t j = 0; j < Cg; ++j) {
      const double w = double(weight_or_one(weight, c0 + j));
      g_sum += w * sums[n * C + c0 + j].x;
      gx_sum += w * sums[n * C + c0 + j].y;
    }
    const double gx_coef = rstd * rstd * gx_sum / K;
    for (int64_t j = 0; j < Cg; ++j) {
      const double w = double(weight_or_one(weight, c0 + j));
      coef[n * C + c0 + j] = {split_mean<T>(mean), T(rstd * w), T(-rstd * gx_coef), T(-rstd * g_sum / K)};
    }
  }
}

// One thread per channel: grad_weight = sum_n sum(dy * (x - mean)) * rstd, grad_bias = sum_n sum(dy).
template <class T>
__global__ void group_norm_param_grad_kernel(int64_t N, int64_t C, int64_t G, const T* __restrict__ save_rstd,
                                             const double2* __restrict__ sums, T* __restrict__ grad_weight,
                                             T* __restrict__ grad_bias) {
  const int64_t Cg = C / G;
  for (int64_t c : grid_stride(C)) {
    double w = 0, b = 0;
    for (int64_t n = 0; n < N; ++n) {
      w += sums[n * C + c].y * double(save_rstd[n * G + c / Cg]);
      b += sums[n * C + c].x;
    }
    if (grad_weight) grad_weight[c] = T(w);
    if (grad_bias) grad_bias[c] = T(b);
  }
}

}  // namespace

template <class T>
void batch_norm_forward_train(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x, const T* weight,
                              const T* bias, T* running_mean, T* running_var, double momentum, double eps, T* out,
                              T* save_mean, T* save_rstd) {
  if (C == 0) return;
  const int64_t slices = channel_slices(C, N * S);
  Welford* partial = workspace<Welford>(ctx, C * slices);
  Affine<T>* coef = workspace<Affine<T>>(ctx, C);
  bn_stats_kernel<<<dim3(unsigned(C), unsigned(slices)), kBlock1d, 0, stream_of(ctx)>>>(N, C, S, x, partial);
  check_launch("batch_norm_forward_train (statistics)");
  launch_1d(ctx, "batch_norm_forward_train (finalize)", C, bn_finalize_kernel<T>, C, slices, partial, weight, bias,
            running_mean, running_var, momentum, eps, save_mean, save_rstd, coef);
  launch_1d(ctx, "batch_norm_forward_train", N * C * S, affine_kernel<T>, N * C * S, S, C, x, coef, out);
}

template <class T>
void batch_norm_forward_eval(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* x, const T* weight,
                             const T* bias, const T* running_mean, const T* running_var, double eps, T* out) {
  if (N * C * S == 0) return;
  Affine<T>* coef = workspace<Affine<T>>(ctx, C);
  launch_1d(ctx, "batch_norm_forward_eval (coefficients)", C, bn_eval_coef_kernel<T>, C, weight, bias, running_mean,
            running_var, eps, coef);
  launch_1d(ctx, "batch_norm_forward_eval", N * C * S, affine_kernel<T>, N * C * S, S, C, x, coef, out);
}

template <class T>
void batch_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, const T* grad_out, const T* x,
                         const T* weight, const T* save_mean, const T* save_rstd, T* grad_x, T* grad_weight,
                         T* grad_bias) {
  if (C == 0) return;
  const int64_t slices = channel_slices(C, N * S);
  double2* partial = workspace<double2>(ctx, C * slices);
  GradAffine<T>* coef = grad_x ? workspace<GradAffine<T>>(ctx, C) : nullptr;
  bn_grad_sums_kernel<<<dim3(unsigned(C), unsigned(slices)), kBlock1d, 0, stream_of(ctx)>>>(N, C, S, grad_out, x,
                                                                                           save_mean, partial);
  check_launch("batch_norm_backward (sums)");
  launch_1d(ctx, "batch_norm_backward (finalize)", C, bn_grad_finalize_kernel<T>, C, slices, double(N) * double(S),
            partial, weight, save_mean, save_rstd, grad_weight, grad_bias, coef);
  if (grad_x)
    launch_1d(ctx, "batch_norm_backward", N * C * S, grad_affine_kernel<T>, N * C * S, S, C, grad_out, x, coef,
              grad_x);
}

template <class T>
void layer_norm_forward(const Context& ctx, int64_t M, int64_t D, const T* x, const T* weight, const T* bias,
                        double eps, T* out, T* save_mean, T* save_rstd) {
  launch_rows(M, D, [&](auto threads, unsigned grid) {
    layer_norm_forward_kernel<T, decltype(threads)::value>
        <<<grid, kBlock1d, 0, stream_of(ctx)>>>(M, D, x, weight, bias, eps, out, save_mean, save_rstd);
  });
  check_launch("layer_norm_forward");
}

template <class T>
void layer_norm_backward(const Context& ctx, int64_t M, int64_t D, const T* grad_out, const T* x, const T* weight,
                         const T* save_mean, const T* save_rstd, T* grad_x, T* grad_weight, T* grad_bias) {
  if (grad_x) {
    launch_rows(M, D, [&](auto threads, unsigned grid) {
      layer_norm_grad_x_kernel<T, decltype(threads)::value>
          <<<grid, kBlock1d, 0, stream_of(ctx)>>>(M, D, grad_out, x, weight, save_mean, save_rstd, grad_x);
    });
    check_launch("layer_norm_backward (grad_x)");
  }
  if ((!grad_weight && !grad_bias) || D == 0) return;
  // Row slices: enough column blocks x slices to fill the GPU, each slice at least 32 rows.
  const int64_t column_blocks = (D + kBlock1d - 1) / kBlock1d;
  const int64_t slices = std::clamp<int64_t>(
      std::min((4 * int64_t(sm_count()) + column_blocks - 1) / column_blocks, (M + 31) / 32), 1, 65535);
  const int64_t rows_per_slice = (M + slices - 1) / slices;
  double* partial = workspace<double>(ctx, 2 * slices * D);
  layer_norm_columns_kernel<<<dim3(unsigned(column_blocks), unsigned(slices)), kBlock1d, 0, stream_of(ctx)>>>(
      M, D, rows_per_slice, grad_out, x, save_mean, save_rstd, partial);
  check_launch("layer_norm_backward (column sums)");
  launch_1d(ctx, "layer_norm_backward (weight and bias)", D, layer_norm_columns_finalize_kernel<T>, D, slices,
            partial, grad_weight, grad_bias);
}

template <class T>
void group_norm_forward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups, const T* x,
                        const T* weight, const T* bias, double eps, T* out, T* save_mean, T* save_rstd) {
  const int64_t G = num_groups, Cg = C / G;
  launch_rows(N * G, Cg * S, [&](auto threads, unsigned grid) {
    group_norm_forward_kernel<T, decltype(threads)::value>
        <<<grid, kBlock1d, 0, stream_of(ctx)>>>(N * G, G, Cg, S, x, weight, bias, eps, out, save_mean, save_rstd);
  });
  check_launch("group_norm_forward");
}

template <class T>
void group_norm_backward(const Context& ctx, int64_t N, int64_t C, int64_t S, int64_t num_groups, const T* grad_out,
                         const T* x, const T* weight, const T* save_mean, const T* save_rstd, T* grad_x,
                         T* grad_weight, T* grad_bias) {
  const int64_t G = num_groups;
  if (C == 0) return;
  double2* sums = workspace<double2>(ctx, std::max<int64_t>(N * C, 1));
  launch_rows(N * C, S, [&](auto threads, unsigned grid) {
    group_norm_plane_sums_kernel<T, decltype(threads)::value>
        <<<grid, kBlock1d, 0, stream_of(ctx)>>>(N, C, S, G, grad_out, x, save_mean, sums);
  });
  check_launch("group_norm_backward (sums)");
  if (grad_x && N * C * S > 0) {
    GradAffine<T>* coef = workspace<GradAffine<T>>(ctx, N * C);
    launch_1d(ctx, "group_norm_backward (coefficients)", N * G, group_norm_coef_kernel<T>, N, C, S, G, weight,
              save_mean, save_rstd, sums, coef);
    launch_1d(ctx, "group_norm_backward", N * C * S, grad_affine_kernel<T>, N * C * S, S, N * C, grad_out, x, coef,
              grad_x);
  }
  if (grad_weight || grad_bias)
    launch_1d(ctx, "group_norm_backward (weight and bias)", C, group_norm_param_grad_kernel<T>, N, C, G, save_rstd,
              sums, grad_weight, grad_bias);
}

#define EMBER_CUDA_INSTANTIATE_NORM(T)                                                                             \
  template void batch_norm_forward_train<T>(const Context&, int64_t, int64_t, int64_t, const T*, const T*,          \
                                            const T*, T*, T*, double, double, T*, T*, T*);                          \
  template void batch_norm_forward_eval<T>(const Context&, int64_t, int64_t, int64_t, const T*, const T*, const T*, \
                                           const T*, const T*, double, T*);                                         \
  template void batch_norm_backward<T>(const Context&, int64_t, int64_t, int64_t, const T*, const T*, const T*,     \
                                       const T*, const T*, T*, T*, T*);                                             \
  template void layer_norm_forward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*, double, T*,   \
                                      T*, T*);                                                                      \
  template void layer_norm_backward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*, const T*,    \
                                       const T*, T*, T*, T*);                                                       \
  template void group_norm_forward<T>(const Context&, int64_t, int64_t, int64_t, int64_t, const T*, const T*,       \
                                      const T*, double, T*, T*, T*);                                                \
  template void group_norm_backward<T>(const Context&, int64_t, int64_t, int64_t, int64_t, const T*, const T*,      \
                                       const T*, const T*, const T*, T*, T*, T*);

EMBER_CUDA_INSTANTIATE_NORM(float)
EMBER_CUDA_INSTANTIATE_NORM(double)
#undef EMBER_CUDA_INSTANTIATE_NORM

}  // namespace ember::cuda
