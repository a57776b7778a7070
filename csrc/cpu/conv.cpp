#include "cpu/conv.h"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "cpu/gemm.h"
#include "cpu/scratch.h"

namespace ember::cpu {

namespace {

// dst[0:n] = src[0:n] for the short runs im2col copies (LeNet's rows are 10-28 values): whole
// 32-byte moves, the last one overlapping the previous, instead of a memmove call or a vector
// loop whose scalar remainder dominates at these lengths.
template <class T>
inline void copy_run(T* dst, const T* src, int64_t n) {
  constexpr int64_t kLanes = 32 / sizeof(T);
  if (n < kLanes) {
    for (int64_t k = 0; k < n; ++k) dst[k] = src[k];
    return;
  }
  for (int64_t k = 0; k + kLanes < n; k += kLanes) std::memcpy(dst + k, src + k, 32);
  std::memcpy(dst + n - kLanes, src + n - kLanes, 32);
}

// One input plane (H, W) -> its kh*kw rows of the column matrix (row stride ldcol).
template <class T>
void im2col_plane(const T* x, int64_t H, int64_t W, int64_t OH, int64_t OW, const Window2d& w,
                  T* col, int64_t ldcol) {
  for (int64_t i = 0; i < w.kh; ++i) {
    for (int64_t j = 0; j < w.kw; ++j) {
      T* row = col + (i * w.kw + j) * ldcol;
      const int64_t col_offset = j * w.dw - w.pw;  // input column of output column 0
      int64_t lo, hi;
      valid_range(col_offset, w.sw, W, OW, lo, hi);
      for (int64_t oh = 0; oh < OH; ++oh) {
        T* dst = row + oh * OW;
        const int64_t ih = oh * w.sh - w.ph + i * w.dh;
        const bool inside = ih >= 0 && ih < H;
        const int64_t first = inside ? lo : OW, last = inside ? hi : OW;
        for (int64_t ow = 0; ow < first; ++ow) dst[ow] = T(0);  // padding: a few values
        if (inside) {
          const T* src = x + ih * W + col_offset;
          if (w.sw == 1) {
            copy_run(dst + lo, src + lo, hi - lo);
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * w.sw];
          }
        }
        for (int64_t ow = last; ow < OW; ++ow) dst[ow] = T(0);
      }
    }
  }
}

// The adjoint of im2col_plane: overwrites the plane x with the sum of its column entries.
template <class T>
void col2im_plane(const T* col, int64_t ldcol, int64_t H, int64_t W, int64_t OH, int64_t OW,
                  const Window2d& w, T* x) {
  std::fill(x, x + H * W, T(0));
  for (int64_t i = 0; i < w.kh; ++i) {
    for (int64_t j = 0; j < w.kw; ++j) {
      const T* row = col + (i * w.kw + j) * ldcol;
      const int64_t col_offset = j * w.dw - w.pw;
      int64_t lo, hi;
      valid_range(col_offset, w.sw, W, OW, lo, hi);
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t ih = oh * w.sh - w.ph + i * w.dh;
        if (ih < 0 || ih >= H) continue;
        const T* src = row + oh * OW;
        T* dst = x + ih * W;
#pragma omp simd
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow * w.sw + col_offset] += src[ow];
      }
    }
  }
}

// A 1x1, stride-1, unpadded window maps input pixel p to output pixel p: x is its own column
// matrix (dilation does not matter for a single tap).
inline bool is_pointwise(const Window2d& w) {
  return w.kh == 1 && w.kw == 1 && w.sh == 1 && w.sw == 1 && w.ph == 0 && w.pw == 0;
}

// How the batch is shared: `teams` threads each own a contiguous slice of samples and walk it
// in chunks of `chunk` samples, unfolding a chunk into their own column buffer and multiplying
// it right away (while it is still in cache) with one serial GEMM per group whose columns are
// all the chunk's output positions: the weight is packed once per chunk rather than once per
// sample, and small images (LeNet's 10x10 or 1x1 maps) still give the GEMM a wide matrix. No
// barriers between threads and no reduction over threads except for the weight gradient. With
// one team (a batch of one, or one thread) the region is inactive, so im2col and the GEMM
// parallelise themselves instead.
struct BatchPlan {
  int teams;
  int64_t chunk;
};

// Each team's scratch (column buffer and sample-major <-> channel-major staging) stays within
// this budget, about an L2 cache, so scratch memory does not grow with the batch and the
// unfolded columns are still cached when the GEMM reads them.
constexpr int64_t kTeamScratchBytes = int64_t(2) << 20;

template <class T>
BatchPlan plan_batch(int64_t N, int64_t rows_per_sample, int64_t L) {
  const int teams = static_cast<int>(std::clamp<int64_t>(omp_get_max_threads(), 1, N));
  const int64_t slice = (N + teams - 1) / teams;
  const int64_t sample_bytes = std::max<int64_t>(1, rows_per_sample * L * int64_t(sizeof(T)));
  return {teams, std::clamp<int64_t>(kTeamScratchBytes / sample_bytes, 1, slice)};
}

// The teams' column buffers and staging areas, and the weight gradient's partial sums; owned by
// the calling thread and reused from call to call.
thread_local ScratchBuffer column_scratch, staging_scratch, partial_scratch;

// Each team's column buffer (rows x chunk*L) and staging area (O x chunk*L, only needed when a
// chunk holds more than one sample), carved out of the calling thread's scratch.
template <class T>
class TeamBuffers {
 public:
  TeamBuffers(const BatchPlan& plan, int64_t rows, int64_t O, int64_t L)
      : col_size_(rows * plan.chunk * L), staged_size_(O * plan.chunk * L),
        cols_(column_scratch.get<T>(plan.teams * col_size_)),
        staged_(staging_scratch.get<T>(plan.chunk > 1 ? plan.teams * staged_size_ : 0)) {}
  T* columns(int64_t team) const { return cols_ + team * col_size_; }
  T* staging(int64_t team) const { return staged_ + team * staged_size_; }

 private:
  int64_t col_size_, staged_size_;
  T* cols_;
  T* staged_;
};

void trim_scratch() {
  column_scratch.trim();
  staging_scratch.trim();
  partial_scratch.trim();
}

// Calls body(first, last, team) for each team's slice [first, last) of the N samples.
template <class Body>
void split_batch(int64_t N, int teams, Body&& body) {
#pragma omp parallel num_threads(teams)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    body(N * t / nt, N * (t + 1) / nt, t);
  }
}

// src (P, Q, L) -> dst (Q, P, L). Converts between the sample-major layout of activations
// (B, O, L) and the channel-major one (O, B*L) in which a chunk's samples sit side by side as
// the columns of one GEMM.
template <class T>
void swap_leading_axes(const T* src, int64_t P, int64_t Q, int64_t L, T* dst) {
#pragma omp parallel for collapse(2) schedule(static) if (!omp_in_parallel())
  for (int64_t q = 0; q < Q; ++q)
    for (int64_t p = 0; p < P; ++p) {
      const T* from = src + (p * Q + q) * L;
      T* to = dst + (q * P + p) * L;
#pragma omp simd
      for (int64_t l = 0; l < L; ++l) to[l] = from[l];  // L may be tiny (a 1x1 output map)
    }
}

// The batch of a convolution in team slices and chunks (plan_batch), with each team's buffers for
// `rows` unfolded rows per sample and O output channels of L positions.
template <class T>
struct SampleChunks {
  BatchPlan plan;
  TeamBuffers<T> buffers;
  SampleChunks(int64_t N, int64_t rows, int64_t O, int64_t L)
      : plan(plan_batch<T>(N, rows + O, L)), buffers(plan, rows, O, L) {}

  // body(team, first, n0, B) for each chunk of B samples from n0 in the slice of team `team`,
  // which starts at sample `first`.
  template <class Body>
  void run(int64_t N, Body&& body) const {
    split_batch(N, plan.teams, [&](int64_t first, int64_t last, int64_t team) {
      for (int64_t n0 = first; n0 < last; n0 += plan.chunk)
        body(team, first, n0, std::min(plan.chunk, last - n0));
    });
  }

  // grad_out of samples [n0, n0 + B) channel-major, (O, B*L): for one sample that is already its
  // layout; a chunk is staged in the team's buffer.
  const T* channel_major(const T* grad_out, int64_t n0, int64_t B, int64_t O, int64_t L,
                         int64_t team) const {
    const T* go = grad_out + n0 * O * L;
    if (B == 1) return go;
    swap_leading_axes(go, B, O, L, buffers.staging(team));
    return buffers.staging(team);
  }
};

}  // namespace

template <class T>
void im2col(const Context&, const T* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH,
            int64_t OW, const Window2d& win, T* col) {
  const int64_t L = OH * OW, taps = win.kh * win.kw, ldcol = B * L;
#pragma omp parallel for collapse(2) schedule(static) if (!omp_in_parallel())
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      im2col_plane(x + (b * C + c) * H * W, H, W, OH, OW, win, col + c * taps * ldcol + b * L,
                   ldcol);
}

template <class T>
void col2im(const Context&, const T* col, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH,
            int64_t OW, const Window2d& win, T* x) {
  const int64_t L = OH * OW, taps = win.kh * win.kw, ldcol = B * L;
#pragma omp parallel for collapse(2) schedule(static) if (!omp_in_parallel())
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      col2im_plane(col + c * taps * ldcol + b * L, ldcol, H, W, OH, OW, win,
                   x + (b * C + c) * H * W);
}

// Per group g and chunk of B samples: out[:, g] (Og x B*L) = weight[g] (Og x Kg) @ col[g]
// (Kg x B*L) + bias, computed channel-major into the team's staging buffer and then put back
// sample-major (a chunk of one sample is already in the output's layout).
template <class T>
void conv2d_forward(const Context& ctx, const T* x, const T* weight, const T* bias, T* out,
                    int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW,
                    int64_t groups, const Window2d& win) {
  const int64_t Cg = C / groups, Og = O / groups, Kg = Cg * win.kh * win.kw, L = OH * OW;
  if (N == 0 || L == 0) return;
  auto epilogue = [&](int64_t g) {
    return Epilogue<T>{bias ? bias + g * Og : nullptr, /*bias_per_row=*/true, Activation::none};
  };
  if (is_pointwise(win)) {  // no unfolding: the batched GEMM shares the samples by itself
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, false, false, N, Og, L, Kg, T(1), weight + g * Og * Kg, Kg, 0, x + g * Cg * L, L,
           C * L, T(0), out + g * Og * L, L, O * L, epilogue(g));
    return;
  }
  const SampleChunks<T> chunks(N, groups * Kg, O, L);
  chunks.run(N, [&](int64_t team, int64_t, int64_t n0, int64_t B) {
    T* col = chunks.buffers.columns(team);
    T* dst = B > 1 ? chunks.buffers.staging(team) : out + n0 * O * L;
    im2col(ctx, x + n0 * C * H * W, B, C, H, W, OH, OW, win, col);
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, false, false, 1, Og, B * L, Kg, T(1), weight + g * Og * Kg, Kg, 0,
           col + g * Kg * B * L, B * L, 0, T(0), dst + g * Og * B * L, B * L, 0, epilogue(g));
    if (B > 1) swap_leading_axes(dst, O, B, L, out + n0 * O * L);
  });
  trim_scratch();
}

// Per group and chunk of B samples: col[g] (Kg x B*L) = weight[g]^T (Kg x Og) @ grad_out[:, g]
// (Og x B*L, gathered channel-major), then col2im folds the columns back onto grad_x.
template <class T>
void conv2d_backward_input(const Context& ctx, const T* grad_out, const T* weight, T* grad_x,
                           int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH,
                           int64_t OW, int64_t groups, const Window2d& win) {
  const int64_t Cg = C / groups, Og = O / groups, Kg = Cg * win.kh * win.kw, L = OH * OW;
  if (N == 0) return;
  if (is_pointwise(win) && OH == H && OW == W) {
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, true, false, N, Kg, L, Og, T(1), weight + g * Og * Kg, Kg, 0,
           grad_out + g * Og * L, L, O * L, T(0), grad_x + g * Cg * L, L, C * L);
    return;
  }
  const SampleChunks<T> chunks(N, groups * Kg, O, L);
  chunks.run(N, [&](int64_t team, int64_t, int64_t n0, int64_t B) {
    T* col = chunks.buffers.columns(team);
    const T* go = chunks.channel_major(grad_out, n0, B, O, L, team);
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, true, false, 1, Kg, B * L, Og, T(1), weight + g * Og * Kg, Kg, 0,
           go + g * Og * B * L, B * L, 0, T(0), col + g * Kg * B * L, B * L, 0);
    col2im(ctx, col, B, C, H, W, OH, OW, win, grad_x + n0 * C * H * W);
  });
  trim_scratch();
}

// The samples of a chunk sit side by side along the GEMM's reduction dimension:
// grad_weight[g] += grad_out[:, g] (Og x B*L) @ col[g]^T (B*L x Kg). Each team accumulates its
// slice of the batch into its own partial gradient; the partials are summed at the end in team
// order, so the result does not depend on scheduling.
template <class T>
void conv2d_backward_weight(const Context& ctx, const T* x, const T* grad_out, T* grad_weight,
                            int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH,
                            int64_t OW, int64_t groups, const Window2d& win) {
  const int64_t Cg = C / groups, Og = O / groups, Kg = Cg * win.kh * win.kw, L = OH * OW;
  const int64_t weight_size = O * Kg;
  if (N == 0 || L == 0) {
    std::fill(grad_weight, grad_weight + weight_size, T(0));
    return;
  }
  const SampleChunks<T> chunks(N, groups * Kg, O, L);
  const int teams = chunks.plan.teams;
  // Team 0 accumulates straight into grad_weight; teams the runtime does not start leave zeros.
  T* const partials = partial_scratch.get<T>((teams - 1) * weight_size);
  std::fill(partials, partials + (teams - 1) * weight_size, T(0));
  chunks.run(N, [&](int64_t team, int64_t first, int64_t n0, int64_t B) {
    T* col = chunks.buffers.columns(team);
    T* gw = team == 0 ? grad_weight : partials + (team - 1) * weight_size;
    im2col(ctx, x + n0 * C * H * W, B, C, H, W, OH, OW, win, col);
    const T* go = chunks.channel_major(grad_out, n0, B, O, L, team);
    const T beta = n0 == first ? T(0) : T(1);
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, false, true, 1, Og, Kg, B * L, T(1), go + g * Og * B * L, B * L, 0,
           col + g * Kg * B * L, B * L, 0, beta, gw + g * Og * Kg, Kg, 0);
  });
#pragma omp parallel for schedule(static) if (teams > 1)
  for (int64_t e = 0; e < weight_size; ++e)
    for (int64_t t = 0; t + 1 < teams; ++t) grad_weight[e] += partials[t * weight_size + e];
  trim_scratch();
}

template <class T>
void conv2d_backward_bias(const Context&, const T* grad_out, T* grad_bias, int64_t N, int64_t O,
                          int64_t S) {
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < O; ++o) {
    double sum = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      const T* plane = grad_out + (n * O + o) * S;
#pragma omp simd reduction(+ : sum)
      for (int64_t s = 0; s < S; ++s) sum += plane[s];
    }
    grad_bias[o] = static_cast<T>(sum);
  }
}

#define EMBER_INSTANTIATE_CONV(T)                                                                 \
  template void im2col<T>(const Context&, const T*, int64_t, int64_t, int64_t, int64_t, int64_t,  \
                          int64_t, const Window2d&, T*);                                          \
  template void col2im<T>(const Context&, const T*, int64_t, int64_t, int64_t, int64_t, int64_t,  \
                          int64_t, const Window2d&, T*);                                          \
  template void conv2d_forward<T>(const Context&, const T*, const T*, const T*, T*, int64_t,      \
                                  int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,  \
                                  const Window2d&);                                               \
  template void conv2d_backward_input<T>(const Context&, const T*, const T*, T*, int64_t,         \
                                         int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,    \
                                         int64_t, const Window2d&);                               \
  template void conv2d_backward_weight<T>(const Context&, const T*, const T*, T*, int64_t,        \
                                          int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,   \
                                          int64_t, const Window2d&);                              \
  template void conv2d_backward_bias<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t);

EMBER_INSTANTIATE_CONV(float)
EMBER_INSTANTIATE_CONV(double)
#undef EMBER_INSTANTIATE_CONV

}  // namespace ember::cpu
