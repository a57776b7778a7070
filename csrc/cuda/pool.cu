// Pooling and upsampling kernels: one thread per element written, grid-stride loops over
// flat indices e = (p * rows + row) * cols + col.
#include <algorithm>

#include "cuda/check.cuh"
#include "cuda/pool.cuh"

namespace ember::cuda {
namespace {

// The taps start, start + d, ..., start + (k-1)*d inside [0, size) as the loop
// `for (i = first; i < end; i += d)`.
struct Taps {
  int64_t first, end;
};

__device__ __forceinline__ Taps clip_taps(int64_t start, int64_t k, int64_t d, int64_t size) {
  int64_t first = start;
  if (first < 0) first += (-first + d - 1) / d * d;  // the first tap at or after 0
  return {first, min(start + (k - 1) * d + 1, size)};
}

// Adaptive pooling's window along one axis: [floor(i*in/out), ceil((i+1)*in/out)).
__device__ __forceinline__ Taps adaptive_window(int64_t i, int64_t in, int64_t out) {
  return {i * in / out, ((i + 1) * in + out - 1) / out};
}

// Maximum over rows `r` and columns `c` of a plane: a NaN wins (v != v), ties keep the first.
template <class T>
__device__ __forceinline__ void window_max(const T* plane, int64_t W, Taps r, int64_t dh, Taps c, int64_t dw, T& best,
                                           int64_t& arg) {
  best = T(-INFINITY);
  arg = r.first * W + c.first;
  for (int64_t ih = r.first; ih < r.end; ih += dh)
    for (int64_t iw = c.first; iw < c.end; iw += dw) {
      const T v = plane[ih * W + iw];
      if (v > best || v != v) {
        best = v;
        arg = ih * W + iw;
      }
    }
}

// Average pooling's clipped window and divisor (PyTorch's rules); divisor 0: no input element.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

__device__ __forceinline__ AvgWindow avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W, const Window2d& win,
                                                bool count_include_pad, int64_t divisor_override) {
  int64_t h0 = oh * win.sh - win.ph, w0 = ow * win.sw - win.pw;
  int64_t h1 = min(h0 + win.kh, H + win.ph), w1 = min(w0 + win.kw, W + win.pw);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = max(h0, int64_t(0));
  w0 = max(w0, int64_t(0));
  h1 = min(h1, H);
  w1 = min(w1, W);
  if (h0 >= h1 || w0 >= w1) return {h0, h1, w0, w1, 0};
  const int64_t divisor = divisor_override > 0 ? divisor_override
                          : count_include_pad  ? padded_size
                                               : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
}

// Bilinear source taps along one axis: inputs i0, i1 (equal at the border) with weights l0 + l1 = 1.
template <class T>
struct LinearTap {
  int64_t i0, i1;
  T l0, l1;
};

template <class T>
__device__ __forceinline__ LinearTap<T> linear_tap(int64_t o, int64_t in, int64_t out, bool align_corners) {
  if (in == out) return {o, o, T(1), T(0)};  // PyTorch copies when the sizes agree
  const T scale = align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0)) : T(in) / T(out);
  const T src = align_corners ? scale * T(o) : max(scale * (T(o) + T(0.5)) - T(0.5), T(0));
  const int64_t i0 = min(static_cast<int64_t>(src), in - 1);
  const T l1 = min(max(src - T(i0), T(0)), T(1));
  return {i0, i0 + (i0 < in - 1 ? 1 : 0), T(1) - l1, l1};
}

// ---- kernels --------------------------------------------------------------------------------

template <class T>
__global__ void max_pool_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t* __restrict__ indices,
                                int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW, Window2d win) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    const Taps rows = clip_taps(oh * win.sh - win.ph, win.kh, win.dh, H);
    const Taps cols = clip_taps(ow * win.sw - win.pw, win.kw, win.dw, W);
    window_max(x + p * H * W, W, rows, win.dh, cols, win.dw, out[e], indices[e]);
  }
}

template <class T>
__global__ void adaptive_max_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t* __restrict__ indices,
                                    int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    window_max(x + p * H * W, W, adaptive_window(oh, H, OH), 1, adaptive_window(ow, W, OW), 1, out[e], indices[e]);
  }
}

// dst (planes, dst_len) += src at the positions `indices` names; dst was zeroed.
template <class T>
__global__ void scatter_add_kernel(const T* __restrict__ src, const int64_t* __restrict__ indices, T* __restrict__ dst,
                                   int64_t planes, int64_t src_len, int64_t dst_len) {
  for (int64_t e : grid_stride(planes * src_len)) {
    const int64_t idx = indices[e];
    if (idx >= 0 && idx < dst_len) atomicAdd(dst + (e / src_len) * dst_len + idx, src[e]);
  }
}

template <class T>
__global__ void avg_pool_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t planes, int64_t H, int64_t W,
                                int64_t OH, int64_t OW, Window2d win, bool count_include_pad,
                                int64_t divisor_override) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    const AvgWindow a = avg_window(oh, ow, H, W, win, count_include_pad, divisor_override);
    const T* plane = x + p * H * W;
    T sum = T(0);
    for (int64_t ih = a.h0; ih < a.h1; ++ih)
      for (int64_t iw = a.w0; iw < a.w1; ++iw) sum += plane[ih * W + iw];
    out[e] = a.divisor ? sum / T(a.divisor) : T(0);
  }
}

// Input (ih, iw) lies in the windows of outputs oh with oh*sh - ph <= ih < oh*sh - ph + kh.
template <class T>
__global__ void avg_pool_backward_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_x, int64_t planes,
                                         int64_t H, int64_t W, int64_t OH, int64_t OW, Window2d win,
                                         bool count_include_pad, int64_t divisor_override) {
  for (int64_t e : grid_stride(planes * H * W)) {
    const int64_t iw = e % W, ih = (e / W) % H, p = e / (H * W);
    const int64_t oh_lo = ih + win.ph < win.kh ? 0 : (ih + win.ph - win.kh) / win.sh + 1;
    const int64_t oh_hi = min(OH - 1, (ih + win.ph) / win.sh);
    const int64_t ow_lo = iw + win.pw < win.kw ? 0 : (iw + win.pw - win.kw) / win.sw + 1;
    const int64_t ow_hi = min(OW - 1, (iw + win.pw) / win.sw);
    const T* g = grad_out + p * OH * OW;
    T sum = T(0);
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh)
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const AvgWindow a = avg_window(oh, ow, H, W, win, count_include_pad, divisor_override);
        if (a.divisor) sum += g[oh * OW + ow] / T(a.divisor);
      }
    grad_x[e] = sum;
  }
}

template <class T>
__global__ void adaptive_avg_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t planes, int64_t H,
                                    int64_t W, int64_t OH, int64_t OW) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    const Taps rows = adaptive_window(oh, H, OH), cols = adaptive_window(ow, W, OW);
    const T* plane = x + p * H * W;
    T sum = T(0);
    for (int64_t ih = rows.first; ih < rows.end; ++ih)
      for (int64_t iw = cols.first; iw < cols.end; ++iw) sum += plane[ih * W + iw];
    out[e] = sum / T((rows.end - rows.first) * (cols.end - cols.first));
  }
}

// Input ih lies in the adaptive windows oh = floor(ih*OH/H), ... while their start is <= ih.
template <class T>
__global__ void adaptive_avg_backward_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_x, int64_t planes,
                                             int64_t H, int64_t W, int64_t OH, int64_t OW) {
  for (int64_t e : grid_stride(planes * H * W)) {
    const int64_t iw = e % W, ih = (e / W) % H, p = e / (H * W);
    const T* g = grad_out + p * OH * OW;
    T sum = T(0);
    for (int64_t oh = ih * OH / H; oh < OH; ++oh) {
      const Taps rows = adaptive_window(oh, H, OH);
      if (rows.first > ih) break;
      for (int64_t ow = iw * OW / W; ow < OW; ++ow) {
        const Taps cols = adaptive_window(ow, W, OW);
        if (cols.first > iw) break;
        sum += g[oh * OW + ow] / T((rows.end - rows.first) * (cols.end - cols.first));
      }
    }
    grad_x[e] = sum;
  }
}

// Pass 1 of max_unpool: winner[p, pos] = the largest i whose index names pos (winner starts at -1).
__global__ void unpool_winner_kernel(const int64_t* __restrict__ indices, long long* __restrict__ winner,
                                     int64_t planes, int64_t in_len, int64_t out_len) {
  for (int64_t e : grid_stride(planes * in_len)) {
    const int64_t idx = indices[e];
    if (idx >= 0 && idx < out_len) atomicMax(winner + (e / in_len) * out_len + idx, (long long)(e % in_len));
  }
}

// Pass 2: out[p, pos] = x[p, winner] or 0.
template <class T>
__global__ void unpool_write_kernel(const T* __restrict__ x, const long long* __restrict__ winner, T* __restrict__ out,
                                    int64_t planes, int64_t in_len, int64_t out_len) {
  for (int64_t e : grid_stride(planes * out_len)) {
    const long long w = winner[e];
    out[e] = w >= 0 ? x[(e / out_len) * in_len + w] : T(0);
  }
}

template <class T>
__global__ void unpool_backward_kernel(const T* __restrict__ grad_out, const int64_t* __restrict__ indices,
                                       T* __restrict__ grad_x, int64_t planes, int64_t in_len, int64_t out_len) {
  for (int64_t e : grid_stride(planes * in_len)) {
    const int64_t idx = indices[e];
    grad_x[e] = (idx >= 0 && idx < out_len) ? grad_out[(e / in_len) * out_len + idx] : T(0);
  }
}

template <class T>
__global__ void nearest_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t planes, int64_t H, int64_t W,
                               int64_t OH, int64_t OW) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    out[e] = x[(p * H + oh * H / OH) * W + ow * W / OW];
  }
}

// Input ih is read by the outputs oh with floor(oh*H/OH) == ih: oh in [ceil(ih*OH/H), ceil((ih+1)*OH/H)).
template <class T>
__global__ void nearest_backward_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_x, int64_t planes,
                                        int64_t H, int64_t W, int64_t OH, int64_t OW) {
  for (int64_t e : grid_stride(planes * H * W)) {
    const int64_t iw = e % W, ih = (e / W) % H, p = e / (H * W);
    const int64_t oh0 = (ih * OH + H - 1) / H, oh1 = ((ih + 1) * OH + H - 1) / H;
    const int64_t ow0 = (iw * OW + W - 1) / W, ow1 = ((iw + 1) * OW + W - 1) / W;
    const T* g = grad_out + p * OH * OW;
    T sum = T(0);
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow) sum += g[oh * OW + ow];
    grad_x[e] = sum;
  }
}

template <class T>
__global__ void bilinear_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t planes, int64_t H, int64_t W,
                                int64_t OH, int64_t OW, bool align_corners) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    const LinearTap<T> h = linear_tap<T>(oh, H, OH, align_corners), w = linear_tap<T>(ow, W, OW, align_corners);
    const T* r0 = x + (p * H + h.i0) * W;
    const T* r1 = x + (p * H + h.i1) * W;
    out[e] = h.l0 * (w.l0 * r0[w.i0] + w.l1 * r0[w.i1]) + h.l1 * (w.l0 * r1[w.i0] + w.l1 * r1[w.i1]);
  }
}

template <class T>
__global__ void bilinear_backward_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_x, int64_t planes,
                                         int64_t H, int64_t W, int64_t OH, int64_t OW, bool align_corners) {
  for (int64_t e : grid_stride(planes * OH * OW)) {
    const int64_t ow = e % OW, oh = (e / OW) % OH, p = e / (OH * OW);
    const LinearTap<T> h = linear_tap<T>(oh, H, OH, align_corners), w = linear_tap<T>(ow, W, OW, align_corners);
    const T g = grad_out[e];
    T* r0 = grad_x + (p * H + h.i0) * W;
    T* r1 = grad_x + (p * H + h.i1) * W;
    atomicAdd(r0 + w.i0, h.l0 * w.l0 * g);
    atomicAdd(r0 + w.i1, h.l0 * w.l1 * g);
    atomicAdd(r1 + w.i0, h.l1 * w.l0 * g);
    atomicAdd(r1 + w.i1, h.l1 * w.l1 * g);
  }
}

__global__ void out_of_range_kernel(const int64_t* __restrict__ indices, int64_t count, int64_t limit,
                                    int* __restrict__ found) {
  for (int64_t e : grid_stride(count))
    if (indices[e] < 0 || indices[e] >= limit) *found = 1;  // every writer stores the same value
}

template <class T>
void zero(const Context& ctx, T* p, int64_t count, const char* what) {
  check_cuda(cudaMemsetAsync(p, 0, sizeof(T) * count, stream_of(ctx)), what);  // 0 bits = +0.0
}

}  // namespace

template <class T>
void max_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t* indices, int64_t planes, int64_t H,
                        int64_t W, int64_t OH, int64_t OW, const Window2d& win) {
  launch_1d(ctx, "max_pool2d_forward", planes * OH * OW, max_pool_kernel<T>, x, out, indices, planes, H, W, OH, OW,
            win);
}

template <class T>
void max_pool2d_backward(const Context& ctx, const T* grad_out, const int64_t* indices, T* grad_x, int64_t planes,
                         int64_t H, int64_t W, int64_t OH, int64_t OW) {
  zero(ctx, grad_x, planes * H * W, "max_pool2d_backward");
  launch_1d(ctx, "max_pool2d_backward", planes * OH * OW, scatter_add_kernel<T>, grad_out, indices, grad_x, planes,
            OH * OW, H * W);
}

template <class T>
void avg_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Window2d& win, bool count_include_pad, int64_t divisor_override) {
  launch_1d(ctx, "avg_pool2d_forward", planes * OH * OW, avg_pool_kernel<T>, x, out, planes, H, W, OH, OW, win,
            count_include_pad, divisor_override);
}

template <class T>
void avg_pool2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H, int64_t W,
                         int64_t OH, int64_t OW, const Window2d& win, bool count_include_pad,
                         int64_t divisor_override) {
  launch_1d(ctx, "avg_pool2d_backward", planes * H * W, avg_pool_backward_kernel<T>, grad_out, grad_x, planes, H, W,
            OH, OW, win, count_include_pad, divisor_override);
}

template <class T>
void adaptive_avg_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW) {
  launch_1d(ctx, "adaptive_avg_pool2d_forward", planes * OH * OW, adaptive_avg_kernel<T>, x, out, planes, H, W, OH,
            OW);
}

template <class T>
void adaptive_avg_pool2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                                  int64_t W, int64_t OH, int64_t OW) {
  launch_1d(ctx, "adaptive_avg_pool2d_backward", planes * H * W, adaptive_avg_backward_kernel<T>, grad_out, grad_x,
            planes, H, W, OH, OW);
}

template <class T>
void adaptive_max_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t* indices, int64_t planes,
                                 int64_t H, int64_t W, int64_t OH, int64_t OW) {
  launch_1d(ctx, "adaptive_max_pool2d_forward", planes * OH * OW, adaptive_max_kernel<T>, x, out, indices, planes, H,
            W, OH, OW);
}

template <class T>
void max_unpool2d_forward(const Context& ctx, const T* x, const int64_t* indices, T* out, int64_t planes, int64_t H,
                          int64_t W, int64_t OH, int64_t OW) {
  if (planes * OH * OW == 0) return;
  long long* winner = workspace<long long>(ctx, planes * OH * OW);
  check_cuda(cudaMemsetAsync(winner, 0xFF, sizeof(long long) * planes * OH * OW, stream_of(ctx)),  // all -1
             "max_unpool2d_forward");
  launch_1d(ctx, "max_unpool2d_forward (winners)", planes * H * W, unpool_winner_kernel, indices, winner, planes,
            H * W, OH * OW);
  launch_1d(ctx, "max_unpool2d_forward", planes * OH * OW, unpool_write_kernel<T>, x, winner, out, planes, H * W,
            OH * OW);
}

template <class T>
void max_unpool2d_backward(const Context& ctx, const T* grad_out, const int64_t* indices, T* grad_x,
                           int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  launch_1d(ctx, "max_unpool2d_backward", planes * H * W, unpool_backward_kernel<T>, grad_out, indices, grad_x,
            planes, H * W, OH * OW);
}

template <class T>
void upsample_nearest2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                int64_t OH, int64_t OW) {
  launch_1d(ctx, "upsample_nearest2d_forward", planes * OH * OW, nearest_kernel<T>, x, out, planes, H, W, OH, OW);
}

template <class T>
void upsample_nearest2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                                 int64_t W, int64_t OH, int64_t OW) {
  launch_1d(ctx, "upsample_nearest2d_backward", planes * H * W, nearest_backward_kernel<T>, grad_out, grad_x, planes,
            H, W, OH, OW);
}

template <class T>
void upsample_bilinear2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW, bool align_corners) {
  launch_1d(ctx, "upsample_bilinear2d_forward", planes * OH * OW, bilinear_kernel<T>, x, out, planes, H, W, OH, OW,
            align_corners);
}

template <class T>
void upsample_bilinear2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                                  int64_t W, int64_t OH, int64_t OW, bool align_corners) {
  zero(ctx, grad_x, planes * H * W, "upsample_bilinear2d_backward");
  launch_1d(ctx, "upsample_bilinear2d_backward", planes * OH * OW, bilinear_backward_kernel<T>, grad_out, grad_x,
            planes, H, W, OH, OW, align_corners);
}

bool indices_in_range(const Context& ctx, const int64_t* indices, int64_t count, int64_t limit) {
  if (count == 0) return true;
  int* found = workspace<int>(ctx, 1);
  check_cuda(cudaMemsetAsync(found, 0, sizeof(int), stream_of(ctx)), "indices_in_range");
  launch_1d(ctx, "indices_in_range", count, out_of_range_kernel, indices, count, limit, found);
  return read_back(ctx, found, "indices_in_range") == 0;
}

#define EMBER_CUDA_INSTANTIATE_POOL(T)                                                                            \
  template void max_pool2d_forward<T>(const Context&, const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, \
                                      int64_t, const Window2d&);                                                  \
  template void max_pool2d_backward<T>(const Context&, const T*, const int64_t*, T*, int64_t, int64_t, int64_t,   \
                                       int64_t, int64_t);                                                         \
  template void avg_pool2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t,  \
                                      const Window2d&, bool, int64_t);                                            \
  template void avg_pool2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, \
                                       const Window2d&, bool, int64_t);                                           \
  template void adaptive_avg_pool2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t,  \
                                               int64_t);                                                          \
  template void adaptive_avg_pool2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t, \
                                                int64_t);                                                         \
  template void adaptive_max_pool2d_forward<T>(const Context&, const T*, T*, int64_t*, int64_t, int64_t, int64_t, \
                                               int64_t, int64_t);                                                 \
  template void max_unpool2d_forward<T>(const Context&, const T*, const int64_t*, T*, int64_t, int64_t, int64_t,  \
                                        int64_t, int64_t);                                                        \
  template void max_unpool2d_backward<T>(const Context&, const T*, const int64_t*, T*, int64_t, int64_t, int64_t, \
                                         int64_t, int64_t);                                                       \
  template void upsample_nearest2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t,   \
                                              int64_t);                                                           \
  template void upsample_nearest2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t,  \
                                               int64_t);                                                          \
  template void upsample_bilinear2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t,  \
                                               int64_t, bool);                                                    \
  template void upsample_bilinear2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t, int64_t, \
                                                int64_t, bool);

EMBER_CUDA_INSTANTIATE_POOL(float)
EMBER_CUDA_INSTANTIATE_POOL(double)
#undef EMBER_CUDA_INSTANTIATE_POOL

}  // namespace ember::cuda
