// Softmax and classification-loss kernels; see softmax_xent.cuh for the strategy.
#include <climits>

#include "cuda/check.cuh"
#include "cuda/reduce.cuh"
#include "cuda/softmax_xent.cuh"

namespace ember::cuda {
namespace {

// ---- online softmax statistics ----------------------------------------------------------------

// Running maximum m and sum s of exp(x - m) over the values seen; start from {-inf, 0}.
template <class T>
struct MaxSum {
  T m, s;
};

template <class T>
__device__ __forceinline__ MaxSum<T> max_sum_identity() { return {T(-INFINITY), T(0)}; }

template <class T>
__device__ __forceinline__ void add(MaxSum<T>& a, T x) {
  if (x > a.m) {  // a new maximum rescales the sum so far
    a.s = a.s * dev_exp(a.m - x) + T(1);
    a.m = x;
  } else if (x != T(-INFINITY)) {  // -inf adds exactly 0 (and would give exp(nan) when m = -inf); NaN propagates
    a.s += dev_exp(x - a.m);
  }
}

template <class T>
__device__ __forceinline__ MaxSum<T> merge(MaxSum<T> a, MaxSum<T> b) {
  const T m = a.m > b.m ? a.m : b.m;
  if (m == T(-INFINITY)) return {m, a.s + b.s};
  return {m, a.s * dev_exp(a.m - m) + b.s * dev_exp(b.m - m)};
}

template <class T>
struct MergeMaxSum {
  __device__ MaxSum<T> operator()(MaxSum<T> a, MaxSum<T> b) const { return merge(a, b); }
};

// log-sum-exp of a row given its merged statistics.
template <class T>
__device__ __forceinline__ T log_sum_exp(const MaxSum<T>& a) { return a.m + dev_log(a.s); }

// ---- softmax ---------------------------------------------------------------------------------

template <class T, int kRowThreads>
__global__ void softmax_rows_kernel(int64_t rows, int64_t dim, const T* x, T* out, bool log) {
  __shared__ MaxSum<T> scratch[32];
  for_each_row<kRowThreads>(rows, [&](int64_t row, int lane) {
    const T* xr = x + row * dim;
    T* yr = out + row * dim;  // may alias xr: each element is read, then written, by one thread
    MaxSum<T> a = max_sum_identity<T>();
    for (int64_t j = lane; j < dim; j += kRowThreads) add(a, xr[j]);
    a = row_reduce<kRowThreads>(a, MergeMaxSum<T>{}, max_sum_identity<T>(), scratch);
    if (log) {
      const T lse = log_sum_exp(a);
      for (int64_t j = lane; j < dim; j += kRowThreads) yr[j] = xr[j] - lse;
    } else {
      const T inv = T(1) / a.s;
      for (int64_t j = lane; j < dim; j += kRowThreads) yr[j] = dev_exp(xr[j] - a.m) * inv;
    }
  });
}

// One thread per (outer, inner) column of dim values, `inner` apart.
template <class T>
__global__ void softmax_columns_kernel(int64_t outer, int64_t dim, int64_t inner, const T* x, T* out, bool log) {
  for (int64_t col : grid_stride(outer * inner)) {
    const int64_t offset = (col / inner) * dim * inner + col % inner;
    const T* xc = x + offset;
    T* yc = out + offset;
    MaxSum<T> a = max_sum_identity<T>();
    for (int64_t j = 0; j < dim; ++j) add(a, xc[j * inner]);
    if (log) {
      const T lse = log_sum_exp(a);
      for (int64_t j = 0; j < dim; ++j) yc[j * inner] = xc[j * inner] - lse;
    } else {
      const T inv = T(1) / a.s;
      for (int64_t j = 0; j < dim; ++j) yc[j * inner] = dev_exp(xc[j * inner] - a.m) * inv;
    }
  }
}

// softmax:     grad_x = y * (g - sum(g * y));  log_softmax: grad_x = g - exp(y) * sum(g).
template <class T, int kRowThreads>
__global__ void softmax_backward_rows_kernel(int64_t rows, int64_t dim, const T* __restrict__ g,
                                             const T* __restrict__ y, T* grad_x, bool log) {
  __shared__ T scratch[32];
  for_each_row<kRowThreads>(rows, [&](int64_t row, int lane) {
    const T* gr = g + row * dim;
    const T* yr = y + row * dim;
    T* dr = grad_x + row * dim;  // may alias g
    T s = T(0);
    for (int64_t j = lane; j < dim; j += kRowThreads) s += log ? gr[j] : gr[j] * yr[j];
    s = row_sum<kRowThreads>(s, scratch);
    for (int64_t j = lane; j < dim; j += kRowThreads)
      dr[j] = log ? gr[j] - dev_exp(yr[j]) * s : yr[j] * (gr[j] - s);
  });
}

template <class T>
__global__ void softmax_backward_columns_kernel(int64_t outer, int64_t dim, int64_t inner, const T* __restrict__ g,
                                                const T* __restrict__ y, T* grad_x, bool log) {
  for (int64_t col : grid_stride(outer * inner)) {
    const int64_t offset = (col / inner) * dim * inner + col % inner;
    T s = T(0);
    for (int64_t j = 0; j < dim; ++j) {
      const int64_t e = offset + j * inner;
      s += log ? g[e] : g[e] * y[e];
    }
    for (int64_t j = 0; j < dim; ++j) {
      const int64_t e = offset + j * inner;
      grad_x[e] = log ? g[e] - dev_exp(y[e]) * s : y[e] * (g[e] - s);
    }
  }
}

// ---- cross-entropy ---------------------------------------------------------------------------

template <class T>
__device__ __forceinline__ T weight_or_one(const T* w, int64_t i) { return w ? w[i] : T(1); }

// A target that is neither a class nor ignore_index: remember the smallest such row.
__device__ __forceinline__ bool bad_target(int64_t t, int64_t C, int64_t ignore_index) {
  return t != ignore_index && (t < 0 || t >= C);
}

//   loss_m = (1 - ls) * w[t] * (lse_m - x[m, t]) + ls / C * sum_c w[c] * (lse_m - x[m, c])
template <class T, int kRowThreads>
__global__ void cross_entropy_forward_kernel(int64_t M, int64_t C, const T* __restrict__ logits,
                                             const int64_t* __restrict__ target, const T* __restrict__ weight,
                                             int64_t ignore_index, T ls, T* __restrict__ loss, T* __restrict__ lse,
                                             unsigned long long* __restrict__ first_bad) {
  __shared__ MaxSum<T> scratch[32];
  __shared__ T sum_scratch[32];
  for_each_row<kRowThreads>(M, [&](int64_t row, int lane) {
    const T* x = logits + row * C;
    MaxSum<T> a = max_sum_identity<T>();
    for (int64_t c = lane; c < C; c += kRowThreads) add(a, x[c]);
    a = row_reduce<kRowThreads>(a, MergeMaxSum<T>{}, max_sum_identity<T>(), scratch);
    const T l = log_sum_exp(a);
    const int64_t t = target[row];
    T smooth = T(0);  // sum_c w[c] * (l - x[c]): every term >= 0, no cancellation
    if (ls != T(0)) {
      for (int64_t c = lane; c < C; c += kRowThreads) smooth += weight_or_one(weight, c) * (l - x[c]);
      smooth = row_sum<kRowThreads>(smooth, sum_scratch);
    }
    if (lane != 0) return;
    lse[row] = l;
    if (t == ignore_index) {
      loss[row] = T(0);
    } else if (bad_target(t, C, ignore_index)) {
      loss[row] = T(NAN);
      atomicMin(first_bad, static_cast<unsigned long long>(row));
    } else {
      loss[row] = (T(1) - ls) * weight_or_one(weight, t) * (l - x[t]) + ls / T(C) * smooth;
    }
  });
}

// grad = g * (a * p_c - b * w_c) - [c == t] * g * (1 - ls) * w_t, p = exp(x - lse),
// a = (1 - ls) * w_t + ls * W / C, b = ls / C, W = sum_c w_c (weight_sum, or C without weights).
template <class T>
__global__ void cross_entropy_backward_kernel(int64_t M, int64_t C, const T* __restrict__ logits,
                                              const int64_t* __restrict__ target, const T* __restrict__ weight,
                                              const T* __restrict__ weight_sum, int64_t ignore_index, T ls,
                                              const T* __restrict__ lse, const T* __restrict__ grad_loss,
                                              T* __restrict__ grad_logits, unsigned long long* __restrict__ first_bad) {
  const T W = weight_sum ? *weight_sum : T(C);
  for (int64_t e : grid_stride(M * C)) {
    const int64_t m = e / C, c = e % C, t = target[m];
    if (t == ignore_index) {
      grad_logits[e] = T(0);
    } else if (bad_target(t, C, ignore_index)) {
      grad_logits[e] = T(NAN);
      if (c == 0) atomicMin(first_bad, static_cast<unsigned long long>(m));
    } else {
      const T g = grad_loss[m], wt = weight_or_one(weight, t);
      const T a = g * ((T(1) - ls) * wt + ls * W / T(C)), b = g * ls / T(C);
      T v = a * dev_exp(logits[e] - lse[m]) - b * weight_or_one(weight, c);
      if (c == t) v -= g * (T(1) - ls) * wt;
      grad_logits[e] = v;
    }
  }
}

template <class T>
__global__ void sum_kernel(int64_t n, const T* __restrict__ x, T* __restrict__ total) {
  __shared__ T scratch[32];
  T s = T(0);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) *total = s;
}

// Target-check state in the workspace: the smallest bad row, or ULLONG_MAX.
unsigned long long* new_bad_row_flag(const Context& ctx) {
  auto* flag = workspace<unsigned long long>(ctx, 1);
  check_cuda(cudaMemsetAsync(flag, 0xFF, sizeof(unsigned long long), stream_of(ctx)), "cross_entropy");
  return flag;
}

TargetCheck read_bad_row(const Context& ctx, const unsigned long long* flag, const int64_t* target) {
  const unsigned long long row = read_back(ctx, flag, "cross_entropy (target check)");
  if (row == ULLONG_MAX) return {};
  const int64_t m = static_cast<int64_t>(row);
  return {m, read_back(ctx, target + m, "cross_entropy (target check)")};
}

// ---- binary cross-entropy ----------------------------------------------------------------------

// softplus(-x) = log(1 + exp(-x)), stable for both signs of x.
template <class T>
__device__ __forceinline__ T softplus_neg(T x) {
  return (x < T(0) ? -x : T(0)) + dev_log1p(dev_exp(-fabs(x)));
}

template <class T>
__global__ void binary_cross_entropy_with_logits_forward_kernel(int64_t n, int64_t C, const T* __restrict__ logits, const T* __restrict__ target,
                                   const T* __restrict__ weight, const T* __restrict__ pos_weight,
                                   T* __restrict__ loss) {
  for (int64_t i : grid_stride(n)) {
    const T x = logits[i], y = target[i], p = weight_or_one(pos_weight, i % C);
    loss[i] = weight_or_one(weight, i) * ((T(1) - y) * x + (T(1) + (p - T(1)) * y) * softplus_neg(x));
  }
}

template <class T>
__global__ void binary_cross_entropy_with_logits_backward_kernel(int64_t n, int64_t C, const T* __restrict__ grad_loss,
                                    const T* __restrict__ logits, const T* __restrict__ target,
                                    const T* __restrict__ weight, const T* __restrict__ pos_weight,
                                    T* __restrict__ grad_logits, T* __restrict__ grad_target) {
  for (int64_t i : grid_stride(n)) {
    const T x = logits[i], y = target[i], p = weight_or_one(pos_weight, i % C);
    const T gw = grad_loss[i] * weight_or_one(weight, i);
    grad_logits[i] = gw * ((T(1) - y) - (T(1) + (p - T(1)) * y) * dev_sigmoid(-x));
    if (grad_target) grad_target[i] = gw * ((p - T(1)) * softplus_neg(x) - x);
  }
}

}  // namespace

template <class T>
void softmax_forward(const Context& ctx, int64_t outer, int64_t dim, int64_t inner, const T* x, T* out, bool log) {
  if (inner == 1) {
    launch_rows(outer, dim, [&](auto threads, unsigned grid) {
      softmax_rows_kernel<T, decltype(threads)::value><<<grid, kBlock1d, 0, stream_of(ctx)>>>(outer, dim, x, out, log);
    });
    check_launch("softmax_forward");
  } else {
    launch_1d(ctx, "softmax_forward", outer * inner, softmax_columns_kernel<T>, outer, dim, inner, x, out, log);
  }
}

template <class T>
void softmax_backward(const Context& ctx, int64_t outer, int64_t dim, int64_t inner, const T* grad_out, const T* out,
                      T* grad_x, bool log) {
  if (inner == 1) {
    launch_rows(outer, dim, [&](auto threads, unsigned grid) {
      softmax_backward_rows_kernel<T, decltype(threads)::value>
          <<<grid, kBlock1d, 0, stream_of(ctx)>>>(outer, dim, grad_out, out, grad_x, log);
    });
    check_launch("softmax_backward");
  } else {
    launch_1d(ctx, "softmax_backward", outer * inner, softmax_backward_columns_kernel<T>, outer, dim, inner, grad_out,
              out, grad_x, log);
  }
}

template <class T>
TargetCheck cross_entropy_forward(const Context& ctx, int64_t M, int64_t C, const T* logits, const int64_t* target,
                                  const T* weight, int64_t ignore_index, double label_smoothing, T* loss, T* lse) {
  if (M == 0) return {};
  unsigned long long* first_bad = new_bad_row_flag(ctx);
  launch_rows(M, C, [&](auto threads, unsigned grid) {
    cross_entropy_forward_kernel<T, decltype(threads)::value><<<grid, kBlock1d, 0, stream_of(ctx)>>>(
        M, C, logits, target, weight, ignore_index, T(label_smoothing), loss, lse, first_bad);
  });
  check_launch("cross_entropy_forward");
  return read_bad_row(ctx, first_bad, target);
}

template <class T>
TargetCheck cross_entropy_backward(const Context& ctx, int64_t M, int64_t C, const T* logits, const int64_t* target,
                                   const T* weight, int64_t ignore_index, double label_smoothing, const T* lse,
                                   const T* grad_loss, T* grad_logits) {
  if (M * C == 0) return {};
  unsigned long long* first_bad = new_bad_row_flag(ctx);
  T* weight_sum = nullptr;
  if (weight && label_smoothing != 0) {
    weight_sum = workspace<T>(ctx, 1);
    sum_kernel<<<1, kBlock1d, 0, stream_of(ctx)>>>(C, weight, weight_sum);
    check_launch("cross_entropy_backward (weight sum)");
  }
  launch_1d(ctx, "cross_entropy_backward", M * C, cross_entropy_backward_kernel<T>, M, C, logits, target, weight,
            weight_sum, ignore_index, T(label_smoothing), lse, grad_loss, grad_logits, first_bad);
  return read_bad_row(ctx, first_bad, target);
}

template <class T>
void binary_cross_entropy_with_logits_forward(const Context& ctx, int64_t M, int64_t C, const T* logits, const T* target,
                             const T* weight, const T* pos_weight, T* loss) {
  launch_1d(ctx, "binary_cross_entropy_with_logits_forward", M * C, binary_cross_entropy_with_logits_forward_kernel<T>, M * C, C, logits, target, weight,
            pos_weight, loss);
}

template <class T>
void binary_cross_entropy_with_logits_backward(const Context& ctx, int64_t M, int64_t C, const T* grad_loss, const T* logits,
                              const T* target, const T* weight, const T* pos_weight, T* grad_logits, T* grad_target) {
  launch_1d(ctx, "binary_cross_entropy_with_logits_backward", M * C, binary_cross_entropy_with_logits_backward_kernel<T>, M * C, C, grad_loss, logits, target,
            weight, pos_weight, grad_logits, grad_target);
}

#define EMBER_CUDA_INSTANTIATE_SOFTMAX_XENT(T)                                                                      \
  template void softmax_forward<T>(const Context&, int64_t, int64_t, int64_t, const T*, T*, bool);                  \
  template void softmax_backward<T>(const Context&, int64_t, int64_t, int64_t, const T*, const T*, T*, bool);       \
  template TargetCheck cross_entropy_forward<T>(const Context&, int64_t, int64_t, const T*, const int64_t*,         \
                                                const T*, int64_t, double, T*, T*);                                 \
  template TargetCheck cross_entropy_backward<T>(const Context&, int64_t, int64_t, const T*, const int64_t*,        \
                                                 const T*, int64_t, double, const T*, const T*, T*);                \
  template void binary_cross_entropy_with_logits_forward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*,          \
                                           const T*, T*);                                                           \
  template void binary_cross_entropy_with_logits_backward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*,         \
                                            const T*, const T*, T*, T*);

EMBER_CUDA_INSTANTIATE_SOFTMAX_XENT(float)
EMBER_CUDA_INSTANTIATE_SOFTMAX_XENT(double)
#undef EMBER_CUDA_INSTANTIATE_SOFTMAX_XENT

}  // namespace ember::cuda
