#include "cpu/conv.h"

#include <algorithm>
#include <vector>

#include <omp.h>

#include "cpu/gemm.h"

namespace ember::cpu {

namespace {

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
        if (ih < 0 || ih >= H) {
          std::fill(dst, dst + OW, T(0));
          continue;
        }
        const T* src = x + ih * W;
        std::fill(dst, dst + lo, T(0));
        if (w.sw == 1) {
          std::copy(src + lo + col_offset, src + hi + col_offset, dst + lo);
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * w.sw + col_offset];
        }
        std::fill(dst + hi, dst + OW, T(0));
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
// it right away (while it is still in cache) with serial GEMMs: no barriers between threads and
// no reduction over threads except for the weight gradient. With one team (a batch of one, or
// one thread) the region is inactive, so im2col and the GEMM parallelise themselves instead.
struct BatchPlan {
  int teams;
  int64_t chunk;
};

// All teams' column buffers together stay within this budget, so scratch memory does not grow
// with the batch.
constexpr int64_t kColumnBudgetBytes = int64_t(8) << 20;

template <class T>
BatchPlan plan_batch(int64_t N, int64_t rows_per_sample, int64_t L) {
  const int teams = static_cast<int>(std::clamp<int64_t>(omp_get_max_threads(), 1, N));
  const int64_t slice = (N + teams - 1) / teams;
  const int64_t sample_bytes = std::max<int64_t>(1, rows_per_sample * L * int64_t(sizeof(T)));
  return {teams, std::clamp<int64_t>(kColumnBudgetBytes / teams / sample_bytes, 1, slice)};
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

// grad_out (B, O, L) -> (O, B*L): the samples side by side, as the weight-gradient GEMM reads.
template <class T>
void gather_samples(const T* grad_out, int64_t B, int64_t O, int64_t L, T* dst) {
#pragma omp parallel for collapse(2) schedule(static) if (!omp_in_parallel())
  for (int64_t o = 0; o < O; ++o)
    for (int64_t b = 0; b < B; ++b)
      std::copy(grad_out + (b * O + o) * L, grad_out + (b * O + o + 1) * L, dst + (o * B + b) * L);
}

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

// Per group g and sample b: out[b, g] (Og x L) = weight[g] (Og x Kg) @ col[g, b] (Kg x L) + bias,
// one strided-batched GEMM over the samples of a chunk (weight broadcast with stride 0).
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
  const BatchPlan plan = plan_batch<T>(N, groups * Kg, L);
  const int64_t col_size = groups * Kg * plan.chunk * L;
  std::vector<T> cols(static_cast<size_t>(plan.teams * col_size));
  split_batch(N, plan.teams, [&](int64_t first, int64_t last, int64_t team) {
    T* col = cols.data() + team * col_size;
    for (int64_t n0 = first; n0 < last; n0 += plan.chunk) {
      const int64_t B = std::min(plan.chunk, last - n0);
      im2col(ctx, x + n0 * C * H * W, B, C, H, W, OH, OW, win, col);
      for (int64_t g = 0; g < groups; ++g)
        gemm(ctx, false, false, B, Og, L, Kg, T(1), weight + g * Og * Kg, Kg, 0,
             col + g * Kg * B * L, B * L, L, T(0), out + (n0 * O + g * Og) * L, L, O * L,
             epilogue(g));
    }
  });
}

// Per group and sample: col[g, b] (Kg x L) = weight[g]^T (Kg x Og) @ grad_out[b, g] (Og x L),
// then col2im folds the columns back onto grad_x.
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
  const BatchPlan plan = plan_batch<T>(N, groups * Kg, L);
  const int64_t col_size = groups * Kg * plan.chunk * L;
  std::vector<T> cols(static_cast<size_t>(plan.teams * col_size));
  split_batch(N, plan.teams, [&](int64_t first, int64_t last, int64_t team) {
    T* col = cols.data() + team * col_size;
    for (int64_t n0 = first; n0 < last; n0 += plan.chunk) {
      const int64_t B = std::min(plan.chunk, last - n0);
      for (int64_t g = 0; g < groups; ++g)
        gemm(ctx, true, false, B, Kg, L, Og, T(1), weight + g * Og * Kg, Kg, 0,
             grad_out + (n0 * O + g * Og) * L, L, O * L, T(0), col + g * Kg * B * L, B * L, L);
      col2im(ctx, col, B, C, H, W, OH, OW, win, grad_x + n0 * C * H * W);
    }
  });
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
  const BatchPlan plan = plan_batch<T>(N, groups * Kg + O, L);
  const int64_t col_size = groups * Kg * plan.chunk * L, gathered_size = O * plan.chunk * L;
  std::vector<T> cols(static_cast<size_t>(plan.teams * col_size));
  std::vector<T> gathered(plan.chunk > 1 ? static_cast<size_t>(plan.teams * gathered_size) : 0);
  // Team 0 accumulates straight into grad_weight; teams the runtime does not start leave zeros.
  std::vector<T> partials(static_cast<size_t>((plan.teams - 1) * weight_size), T(0));
  split_batch(N, plan.teams, [&](int64_t first, int64_t last, int64_t team) {
    T* col = cols.data() + team * col_size;
    T* gw = team == 0 ? grad_weight : partials.data() + (team - 1) * weight_size;
    for (int64_t n0 = first; n0 < last; n0 += plan.chunk) {
      const int64_t B = std::min(plan.chunk, last - n0);
      im2col(ctx, x + n0 * C * H * W, B, C, H, W, OH, OW, win, col);
      const T* go = grad_out + n0 * O * L;  // for one sample, (O, L) is already the layout
      if (B > 1) {
        gather_samples(go, B, O, L, gathered.data() + team * gathered_size);
        go = gathered.data() + team * gathered_size;
      }
      const T beta = n0 == first ? T(0) : T(1);
      for (int64_t g = 0; g < groups; ++g)
        gemm(ctx, false, true, 1, Og, Kg, B * L, T(1), go + g * Og * B * L, B * L, 0,
             col + g * Kg * B * L, B * L, 0, beta, gw + g * Og * Kg, Kg, 0);
    }
  });
#pragma omp parallel for schedule(static) if (plan.teams > 1)
  for (int64_t e = 0; e < weight_size; ++e)
    for (int64_t t = 0; t + 1 < plan.teams; ++t) grad_weight[e] += partials[t * weight_size + e];
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
