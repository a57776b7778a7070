#include "cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ember::cpu {

namespace {

// The taps start, start + d, ..., start + (k-1)*d that fall inside [0, size), as the loop
// `for (i = first; i < end; i += d)`; empty when first >= end.
struct Taps {
  int64_t first, end;
};

inline Taps clip_taps(int64_t start, int64_t k, int64_t d, int64_t size) {
  int64_t first = start;
  if (first < 0) first += (-first + d - 1) / d * d;  // the first tap at or after 0
  return {first, std::min(start + (k - 1) * d + 1, size)};
}

// Max pooling's update rule, for the elements of a window in row-major order: a NaN wins (the
// last one, as in PyTorch), ties keep the first position.
template <class T>
inline bool replaces_max(T v, T best) {
  return v > best || std::isnan(v);
}

// Maximum of a plane over rows `r` and columns `c`, and its flat index.
template <class T>
inline void window_max(const T* plane, int64_t W, Taps r, int64_t dh, Taps c, int64_t dw, T& best,
                       int64_t& arg) {
  best = -std::numeric_limits<T>::infinity();
  arg = r.first * W + c.first;
  for (int64_t ih = r.first; ih < r.end; ih += dh) {
    for (int64_t iw = c.first; iw < c.end; iw += dw) {
      const T v = plane[ih * W + iw];
      if (replaces_max(v, best)) {
        best = v;
        arg = ih * W + iw;
      }
    }
  }
}

// The table (f(0), ..., f(n - 1)) of a per-position quantity (taps, spans, sources), computed
// once per call and shared by all planes.
template <class F>
auto per_position(int64_t n, F&& f) {
  std::vector<decltype(f(int64_t(0)))> table(n);
  for (int64_t i = 0; i < n; ++i) table[i] = f(i);
  return table;
}

// Along the columns, for each kernel tap j: input column ow*sw + offset of output ow, valid
// (inside the input) for the outputs [lo, hi). Looping tap by tap over these ranges replaces
// per-output clipping by straight runs over a row, which the compiler vectorises.
struct TapRange {
  int64_t offset, lo, hi;
};

inline std::vector<TapRange> column_taps(int64_t W, int64_t OW, int64_t kw, int64_t sw, int64_t pw,
                                         int64_t dw) {
  return per_position(kw, [&](int64_t j) {
    TapRange tap{j * dw - pw, 0, 0};
    valid_range(tap.offset, sw, W, OW, tap.lo, tap.hi);
    return tap;
  });
}

// Average pooling along one axis, for each output: the input range [first, end) its window
// covers, and the window length that enters the divisor: clipped to input + padding with
// count_include_pad, to the input otherwise (PyTorch's rules; the divisor is the product over
// the two axes).
struct AvgSpan {
  int64_t first, end, count;
};

inline std::vector<AvgSpan> avg_spans(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p,
                                      bool count_include_pad) {
  return per_position(out, [&](int64_t o) {
    const int64_t start = o * s - p, stop = std::min(start + k, in + p);
    const int64_t first = std::max<int64_t>(start, 0), end = std::min(stop, in);
    return AvgSpan{first, end, count_include_pad ? stop - start : end - first};
  });
}

// The divisor of output (r, c); 0 marks a window holding no input element (its output is 0).
inline int64_t avg_divisor(const AvgSpan& r, const AvgSpan& c, int64_t divisor_override) {
  if (r.first >= r.end || c.first >= c.end) return 0;
  return divisor_override > 0 ? divisor_override : r.count * c.count;
}

// Adaptive pooling's window along one axis: [floor(i*in/out), ceil((i+1)*in/out)).
inline Taps adaptive_window(int64_t i, int64_t in, int64_t out) {
  return {i * in / out, ((i + 1) * in + out - 1) / out};
}

// max_pool2d_backward and max_unpool2d_forward: dst (planes, dst_len) is zeroed, then each src
// element is added to (or stored at) the position its index names.
template <bool Accumulate, class T>
void scatter_planes(const T* src, const int64_t* indices, T* dst, int64_t planes, int64_t src_len,
                    int64_t dst_len) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* s = src + p * src_len;
    const int64_t* idx = indices + p * src_len;
    T* d = dst + p * dst_len;
    std::fill(d, d + dst_len, T(0));
    for (int64_t i = 0; i < src_len; ++i) {
      if (Accumulate)
        d[idx[i]] += s[i];
      else
        d[idx[i]] = s[i];
    }
  }
}

// Where output coordinate o reads along one axis of bilinear upsampling: inputs i0 and i1
// (equal at the border) with weights l0 + l1 = 1. PyTorch's formulas, in the kernel's precision.
template <class T>
struct LinearTap {
  int64_t i0, i1;
  T l0, l1;
};

template <class T>
std::vector<LinearTap<T>> linear_taps(int64_t in, int64_t out, bool align_corners) {
  const T scale = align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0)) : T(in) / T(out);
  return per_position(out, [&](int64_t o) {
    // PyTorch copies instead of interpolating when the sizes agree.
    if (in == out) return LinearTap<T>{o, o, T(1), T(0)};
    const T src = align_corners ? scale * T(o) : std::max(scale * (T(o) + T(0.5)) - T(0.5), T(0));
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const T l1 = std::clamp(src - T(i0), T(0), T(1));
    return LinearTap<T>{i0, i0 + (i0 < in - 1 ? 1 : 0), T(1) - l1, l1};
  });
}

// Nearest upsampling's source index along one axis: floor(o * in / out).
inline std::vector<int64_t> nearest_sources(int64_t in, int64_t out) {
  return per_position(out, [&](int64_t o) { return o * in / out; });
}

}  // namespace

// Row by row of the output: every output of the row starts at -inf (index: its first tap inside
// the input), then each input row of the window and each column tap update the whole output row.
// Each output still sees its taps in row-major order, so NaN and tie rules are per window.
template <class T>
void max_pool2d_forward(const Context&, const T* x, T* out, int64_t* indices, int64_t planes,
                        int64_t H, int64_t W, int64_t OH, int64_t OW, const Window2d& win) {
  const std::vector<TapRange> taps = column_taps(W, OW, win.kw, win.sw, win.pw, win.dw);
  const int64_t sw = win.sw;  // a local: stores to the int64 indices could alias win.sw
  std::vector<int64_t> first_col(OW);
  for (int64_t ow = 0; ow < OW; ++ow)
    first_col[ow] = clip_taps(ow * win.sw - win.pw, win.kw, win.dw, W).first;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = x + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      T* best = out + (p * OH + oh) * OW;
      int64_t* arg = indices + (p * OH + oh) * OW;
      const Taps rows = clip_taps(oh * win.sh - win.ph, win.kh, win.dh, H);
      for (int64_t ow = 0; ow < OW; ++ow) {
        best[ow] = -std::numeric_limits<T>::infinity();
        arg[ow] = rows.first * W + first_col[ow];
      }
      for (int64_t ih = rows.first; ih < rows.end; ih += win.dh) {
        const T* row = plane + ih * W;
        for (const TapRange t : taps) {  // a copy, for the same reason
          for (int64_t ow = t.lo; ow < t.hi; ++ow) {  // branch-free, so it vectorises
            const int64_t iw = ow * sw + t.offset;
            const T v = row[iw];
            const bool take = replaces_max(v, best[ow]);
            best[ow] = take ? v : best[ow];
            arg[ow] = take ? ih * W + iw : arg[ow];
          }
        }
      }
    }
  }
}

template <class T>
void max_pool2d_backward(const Context&, const T* grad_out, const int64_t* indices, T* grad_x,
                         int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  scatter_planes<true>(grad_out, indices, grad_x, planes, OH * OW, H * W);
}

// Row by row of the output, as max_pool2d_forward: the window sums accumulate in the output row
// (in the same row-major order as a per-window loop), then each is divided by its divisor.
template <class T>
void avg_pool2d_forward(const Context&, const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                        int64_t OH, int64_t OW, const Window2d& win, bool count_include_pad,
                        int64_t divisor_override) {
  const std::vector<AvgSpan> rows = avg_spans(H, OH, win.kh, win.sh, win.ph, count_include_pad);
  const std::vector<AvgSpan> cols = avg_spans(W, OW, win.kw, win.sw, win.pw, count_include_pad);
  const std::vector<TapRange> taps = column_taps(W, OW, win.kw, win.sw, win.pw, 1);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = x + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      T* sum = out + (p * OH + oh) * OW;
      std::fill(sum, sum + OW, T(0));
      for (int64_t ih = rows[oh].first; ih < rows[oh].end; ++ih) {
        const T* row = plane + ih * W;
        for (const TapRange t : taps)
          for (int64_t ow = t.lo; ow < t.hi; ++ow) sum[ow] += row[ow * win.sw + t.offset];
      }
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t divisor = avg_divisor(rows[oh], cols[ow], divisor_override);
        sum[ow] = divisor ? sum[ow] / T(divisor) : T(0);
      }
    }
  }
}

// The adjoint, row by row: each output's share grad_out / divisor is added to every input of
// its window, one column tap at a time.
template <class T>
void avg_pool2d_backward(const Context&, const T* grad_out, T* grad_x, int64_t planes, int64_t H,
                         int64_t W, int64_t OH, int64_t OW, const Window2d& win,
                         bool count_include_pad, int64_t divisor_override) {
  const std::vector<AvgSpan> rows = avg_spans(H, OH, win.kh, win.sh, win.ph, count_include_pad);
  const std::vector<AvgSpan> cols = avg_spans(W, OW, win.kw, win.sw, win.pw, count_include_pad);
  const std::vector<TapRange> taps = column_taps(W, OW, win.kw, win.sw, win.pw, 1);
#pragma omp parallel
  {
    std::vector<T> share(OW);
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      T* plane = grad_x + p * H * W;
      std::fill(plane, plane + H * W, T(0));
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T* g = grad_out + (p * OH + oh) * OW;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t divisor = avg_divisor(rows[oh], cols[ow], divisor_override);
          share[ow] = divisor ? g[ow] / T(divisor) : T(0);
        }
        for (int64_t ih = rows[oh].first; ih < rows[oh].end; ++ih) {
          T* row = plane + ih * W;
          for (const TapRange t : taps)
            for (int64_t ow = t.lo; ow < t.hi; ++ow) row[ow * win.sw + t.offset] += share[ow];
        }
      }
    }
  }
}

template <class T>
void adaptive_avg_pool2d_forward(const Context&, const T* x, T* out, int64_t planes, int64_t H,
                                 int64_t W, int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = x + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Taps rows = adaptive_window(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Taps cols = adaptive_window(ow, W, OW);
        T sum = T(0);
        for (int64_t ih = rows.first; ih < rows.end; ++ih)
          for (int64_t iw = cols.first; iw < cols.end; ++iw) sum += plane[ih * W + iw];
        out[(p * OH + oh) * OW + ow] =
            sum / T((rows.end - rows.first) * (cols.end - cols.first));
      }
    }
  }
}

template <class T>
void adaptive_avg_pool2d_backward(const Context&, const T* grad_out, T* grad_x, int64_t planes,
                                  int64_t H, int64_t W, int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T* plane = grad_x + p * H * W;
    std::fill(plane, plane + H * W, T(0));
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Taps rows = adaptive_window(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Taps cols = adaptive_window(ow, W, OW);
        const T g = grad_out[(p * OH + oh) * OW + ow] /
                    T((rows.end - rows.first) * (cols.end - cols.first));
        for (int64_t ih = rows.first; ih < rows.end; ++ih)
          for (int64_t iw = cols.first; iw < cols.end; ++iw) plane[ih * W + iw] += g;
      }
    }
  }
}

template <class T>
void adaptive_max_pool2d_forward(const Context&, const T* x, T* out, int64_t* indices,
                                 int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = x + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Taps rows = adaptive_window(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t o = (p * OH + oh) * OW + ow;
        window_max(plane, W, rows, 1, adaptive_window(ow, W, OW), 1, out[o], indices[o]);
      }
    }
  }
}

template <class T>
void max_unpool2d_forward(const Context&, const T* x, const int64_t* indices, T* out,
                          int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  scatter_planes<false>(x, indices, out, planes, H * W, OH * OW);
}

template <class T>
void max_unpool2d_backward(const Context&, const T* grad_out, const int64_t* indices, T* grad_x,
                           int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* g = grad_out + p * OH * OW;
    for (int64_t i = p * H * W; i < (p + 1) * H * W; ++i) grad_x[i] = g[indices[i]];
  }
}

template <class T>
void upsample_nearest2d_forward(const Context&, const T* x, T* out, int64_t planes, int64_t H,
                                int64_t W, int64_t OH, int64_t OW) {
  const std::vector<int64_t> src_h = nearest_sources(H, OH), src_w = nearest_sources(W, OW);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oh = 0; oh < OH; ++oh) {
      const T* row = x + (p * H + src_h[oh]) * W;
      T* dst = out + (p * OH + oh) * OW;
      for (int64_t ow = 0; ow < OW; ++ow) dst[ow] = row[src_w[ow]];
    }
  }
}

template <class T>
void upsample_nearest2d_backward(const Context&, const T* grad_out, T* grad_x, int64_t planes,
                                 int64_t H, int64_t W, int64_t OH, int64_t OW) {
  const std::vector<int64_t> src_h = nearest_sources(H, OH), src_w = nearest_sources(W, OW);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T* plane = grad_x + p * H * W;
    std::fill(plane, plane + H * W, T(0));
    for (int64_t oh = 0; oh < OH; ++oh) {
      const T* g = grad_out + (p * OH + oh) * OW;
      T* row = plane + src_h[oh] * W;
      for (int64_t ow = 0; ow < OW; ++ow) row[src_w[ow]] += g[ow];
    }
  }
}

template <class T>
void upsample_bilinear2d_forward(const Context&, const T* x, T* out, int64_t planes, int64_t H,
                                 int64_t W, int64_t OH, int64_t OW, bool align_corners) {
  const auto th = linear_taps<T>(H, OH, align_corners), tw = linear_taps<T>(W, OW, align_corners);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* plane = x + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const LinearTap<T> h = th[oh];
      const T* r0 = plane + h.i0 * W;
      const T* r1 = plane + h.i1 * W;
      T* dst = out + (p * OH + oh) * OW;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const LinearTap<T> w = tw[ow];
        dst[ow] = h.l0 * (w.l0 * r0[w.i0] + w.l1 * r0[w.i1]) +
                  h.l1 * (w.l0 * r1[w.i0] + w.l1 * r1[w.i1]);
      }
    }
  }
}

template <class T>
void upsample_bilinear2d_backward(const Context&, const T* grad_out, T* grad_x, int64_t planes,
                                  int64_t H, int64_t W, int64_t OH, int64_t OW,
                                  bool align_corners) {
  const auto th = linear_taps<T>(H, OH, align_corners), tw = linear_taps<T>(W, OW, align_corners);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T* plane = grad_x + p * H * W;
    std::fill(plane, plane + H * W, T(0));
    for (int64_t oh = 0; oh < OH; ++oh) {
      const LinearTap<T> h = th[oh];
      T* r0 = plane + h.i0 * W;
      T* r1 = plane + h.i1 * W;
      const T* g = grad_out + (p * OH + oh) * OW;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const LinearTap<T> w = tw[ow];
        r0[w.i0] += h.l0 * w.l0 * g[ow];
        r0[w.i1] += h.l0 * w.l1 * g[ow];
        r1[w.i0] += h.l1 * w.l0 * g[ow];
        r1[w.i1] += h.l1 * w.l1 * g[ow];
      }
    }
  }
}

bool indices_in_range(const Context&, const int64_t* indices, int64_t count, int64_t limit) {
  int64_t outside = 0;
#pragma omp parallel for simd reduction(+ : outside) schedule(static)
  for (int64_t i = 0; i < count; ++i) outside += (indices[i] < 0) | (indices[i] >= limit);
  return outside == 0;
}

#define EMBER_INSTANTIATE_POOL(T)                                                                 \
  template void max_pool2d_forward<T>(const Context&, const T*, T*, int64_t*, int64_t, int64_t,   \
                                      int64_t, int64_t, int64_t, const Window2d&);                \
  template void max_pool2d_backward<T>(const Context&, const T*, const int64_t*, T*, int64_t,     \
                                       int64_t, int64_t, int64_t, int64_t);                       \
  template void avg_pool2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t,    \
                                      int64_t, int64_t, const Window2d&, bool, int64_t);          \
  template void avg_pool2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t,   \
                                       int64_t, int64_t, const Window2d&, bool, int64_t);         \
  template void adaptive_avg_pool2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t,    \
                                               int64_t, int64_t, int64_t);                        \
  template void adaptive_avg_pool2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t,   \
                                                int64_t, int64_t, int64_t);                       \
  template void adaptive_max_pool2d_forward<T>(const Context&, const T*, T*, int64_t*, int64_t,   \
                                               int64_t, int64_t, int64_t, int64_t);               \
  template void max_unpool2d_forward<T>(const Context&, const T*, const int64_t*, T*, int64_t,    \
                                        int64_t, int64_t, int64_t, int64_t);                      \
  template void max_unpool2d_backward<T>(const Context&, const T*, const int64_t*, T*, int64_t,   \
                                         int64_t, int64_t, int64_t, int64_t);                     \
  template void upsample_nearest2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t,     \
                                              int64_t, int64_t, int64_t);                         \
  template void upsample_nearest2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t,    \
                                               int64_t, int64_t, int64_t);                        \
  template void upsample_bilinear2d_forward<T>(const Context&, const T*, T*, int64_t, int64_t,    \
                                               int64_t, int64_t, int64_t, bool);                  \
  template void upsample_bilinear2d_backward<T>(const Context&, const T*, T*, int64_t, int64_t,   \
                                                int64_t, int64_t, int64_t, bool);

EMBER_INSTANTIATE_POOL(float)
EMBER_INSTANTIATE_POOL(double)
#undef EMBER_INSTANTIATE_POOL

}  // namespace ember::cpu
