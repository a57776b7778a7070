// Convolution kernels: im2col / col2im / regrouping kernels, one thread per element they write,
// and the convolutions built from them and the GEMM (csrc/cuda/gemm.cu).
#include <algorithm>

#include "cuda/check.cuh"
#include "cuda/conv.cuh"
#include "cuda/gemm.cuh"
#include "cuda/reduce.cuh"

namespace ember::cuda {
namespace {

template <class T>
__global__ void im2col_kernel(const T* __restrict__ x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH,
                              int64_t OW, Window2d win, T* __restrict__ col) {
  const int64_t L = OH * OW, total = C * B * L, ldcol = B * L, taps = win.kh * win.kw;
  for (int64_t e : grid_stride(total)) {
    // e = (c * B + b) * L + l: consecutive threads write consecutive columns of each row.
    const int64_t l = e % L, cb = e / L, b = cb % B, c = cb / B;
    const int64_t oh = l / OW, ow = l % OW;
    const T* plane = x + (b * C + c) * H * W;
    T* dst = col + c * taps * ldcol + b * L + l;
    for (int64_t i = 0; i < win.kh; ++i) {
      const int64_t ih = oh * win.sh - win.ph + i * win.dh;
      const bool row_ok = ih >= 0 && ih < H;
      for (int64_t j = 0; j < win.kw; ++j) {
        const int64_t iw = ow * win.sw - win.pw + j * win.dw;
        dst[(i * win.kw + j) * ldcol] = (row_ok && iw >= 0 && iw < W) ? plane[ih * W + iw] : T(0);
      }
    }
  }
}

// Output positions o with o * stride + offset = p for input position p: iterating the taps t,
// p + pad - t * dilation must be a non-negative multiple of the stride below the output size.
template <class T>
__global__ void col2im_kernel(const T* __restrict__ col, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH,
                              int64_t OW, Window2d win, T* __restrict__ x) {
  const int64_t L = OH * OW, total = B * C * H * W, ldcol = B * L, taps = win.kh * win.kw;
  for (int64_t e : grid_stride(total)) {
    const int64_t w = e % W, h = (e / W) % H, c = (e / (H * W)) % C, b = e / (C * H * W);
    const T* src = col + c * taps * ldcol + b * L;
    T sum = T(0);
    for (int64_t i = 0; i < win.kh; ++i) {
      const int64_t th = h + win.ph - i * win.dh;
      if (th < 0) break;  // later taps reach further up
      if (th % win.sh != 0 || th / win.sh >= OH) continue;
      const int64_t oh = th / win.sh;
      for (int64_t j = 0; j < win.kw; ++j) {
        const int64_t tw = w + win.pw - j * win.dw;
        if (tw < 0) break;
        if (tw % win.sw != 0 || tw / win.sw >= OW) continue;
        sum += src[(i * win.kw + j) * ldcol + oh * OW + tw / win.sw];
      }
    }
    x[e] = sum;
  }
}

// grad_out (B, O, L) -> out (O, B*L): the samples side by side along each channel's row.
template <class T>
__global__ void regroup_kernel(const T* __restrict__ src, int64_t B, int64_t O, int64_t L, T* __restrict__ dst) {
  const int64_t total = B * O * L;
  for (int64_t e : grid_stride(total)) {
    const int64_t l = e % L, ob = e / L, b = ob % B, o = ob / B;  // e indexes dst
    dst[e] = src[(b * O + o) * L + l];
  }
}

template <class T>
__global__ void bias_grad_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_bias, int64_t N, int64_t O,
                                 int64_t S) {
  __shared__ double scratch[32];
  for (int64_t o = blockIdx.x; o < O; o += gridDim.x) {
    double sum = 0.0;
    for (int64_t e = threadIdx.x; e < N * S; e += blockDim.x) {  // e = n * S + s
      const int64_t n = e / S, s = e % S;
      sum += double(grad_out[(n * O + o) * S + s]);
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) grad_bias[o] = static_cast<T>(sum);
  }
}

// Column matrices are staged for a chunk of samples at a time, bounded so the workspace stays
// modest next to the activations while the GEMMs stay long.
constexpr int64_t kColumnBudgetBytes = int64_t(256) << 20;

template <class T>
int64_t chunk_samples(int64_t N, int64_t rows_per_sample, int64_t L) {
  const int64_t bytes = std::max<int64_t>(1, rows_per_sample * L * int64_t(sizeof(T)));
  return std::clamp<int64_t>(kColumnBudgetBytes / bytes, 1, std::max<int64_t>(N, 1));
}

// A 1x1, stride-1, unpadded window: x is its own column matrix.
inline bool is_pointwise(const Window2d& w) {
  return w.kh == 1 && w.kw == 1 && w.sh == 1 && w.sw == 1 && w.ph == 0 && w.pw == 0;
}

}  // namespace

template <class T>
void im2col(const Context& ctx, const T* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
            const Window2d& win, T* col) {
  launch_1d(ctx, "im2col", C * B * OH * OW, im2col_kernel<T>, x, B, C, H, W, OH, OW, win, col);
}

template <class T>
void col2im(const Context& ctx, const T* col, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
            const Window2d& win, T* x) {
  launch_1d(ctx, "col2im", B * C * H * W, col2im_kernel<T>, col, B, C, H, W, OH, OW, win, x);
}

// Per group g and sample b: out[b, g] (Og x L) = weight[g] (Og x Kg) @ col[g, b] (Kg x L) + bias[g],
// one GEMM batched over the chunk's samples (the weight broadcast with batch stride 0).
template <class T>
void conv2d_forward(const Context& ctx, const T* x, const T* weight, const T* bias, T* out, int64_t N, int64_t C,
                    int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW, int64_t groups, const Window2d& win) {
  const int64_t Cg = C / groups, Og = O / groups, Kg = Cg * win.kh * win.kw, L = OH * OW;
  if (N == 0 || L == 0) return;
  auto epilogue = [&](int64_t g) {
    return Epilogue<T>{bias ? bias + g * Og : nullptr, /*bias_per_row=*/true, Activation::none};
  };
  if (is_pointwise(win)) {
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, false, false, N, Og, L, Kg, T(1), weight + g * Og * Kg, Kg, 0, x + g * Cg * L, L, C * L, T(0),
           out + g * Og * L, L, O * L, epilogue(g));
    return;
  }
  const int64_t chunk = chunk_samples<T>(N, C * win.kh * win.kw, L);
  T* col = workspace<T>(ctx, C * win.kh * win.kw * chunk * L);
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t B = std::min(chunk, N - n0);
    im2col(ctx, x + n0 * C * H * W, B, C, H, W, OH, OW, win, col);
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, false, false, B, Og, L, Kg, T(1), weight + g * Og * Kg, Kg, 0, col + g * Kg * B * L, B * L, L,
           T(0), out + (n0 * O + g * Og) * L, L, O * L, epilogue(g));
  }
}

// Per group and sample: col[g, b] (Kg x L) = weight[g]^T (Kg x Og) @ grad_out[b, g] (Og x L),
// then col2im folds the columns onto grad_x.
template <class T>
void conv2d_backward_input(const Context& ctx, const T* grad_out, const T* weight, T* grad_x, int64_t N, int64_t C,
                           int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW, int64_t groups,
                           const Window2d& win) {
  const int64_t Cg = C / groups, Og = O / groups, Kg = Cg * win.kh * win.kw, L = OH * OW;
  if (N == 0) return;
  if (is_pointwise(win) && OH == H && OW == W) {
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, true, false, N, Kg, L, Og, T(1), weight + g * Og * Kg, Kg, 0, grad_out + g * Og * L, L, O * L,
           T(0), grad_x + g * Cg * L, L, C * L);
    return;
  }
  const int64_t chunk = chunk_samples<T>(N, C * win.kh * win.kw, L);
  T* col = workspace<T>(ctx, C * win.kh * win.kw * chunk * L);
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t B = std::min(chunk, N - n0);
    for (int64_t g = 0; g < groups; ++g)
      gemm(ctx, true, false, B, Kg, L, Og, T(1), weight + g * Og * Kg, Kg, 0, grad_out + (n0 * O + g * Og) * L, L,
           O * L, T(0), col + g * Kg * B * L, B * L, L);
    col2im(ctx, col, B, C, H, W, OH, OW, win, grad_x + n0 * C * H * W);
  }
}

// grad_weight[g] (+)= grad_out[:, g] (Og x B*L) @ col[g]^T (B*L x Kg), batched over the groups.
template <class T>
void conv2d_backward_weight(const Context& ctx, const T* x, const T* grad_out, T* grad_weight, int64_t N, int64_t C,
                            int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW, int64_t groups,
                            const Window2d& win) {
  const int64_t Cg = C / groups, Og = O / groups, Kg = Cg * win.kh * win.kw, L = OH * OW;
  if (N == 0 || L == 0) {
    check_cuda(cudaMemsetAsync(grad_weight, 0, sizeof(T) * O * Kg, stream_of(ctx)), "conv2d_backward_weight");
    return;
  }
  const int64_t chunk = chunk_samples<T>(N, C * win.kh * win.kw + O, L);
  T* col = workspace<T>(ctx, C * win.kh * win.kw * chunk * L);
  T* regrouped = chunk > 1 ? workspace<T>(ctx, O * chunk * L) : nullptr;
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t B = std::min(chunk, N - n0);
    im2col(ctx, x + n0 * C * H * W, B, C, H, W, OH, OW, win, col);
    const T* go = grad_out + n0 * O * L;
    if (B > 1) {
      launch_1d(ctx, "conv2d_backward_weight (regroup)", B * O * L, regroup_kernel<T>, go, B, O, L, regrouped);
      go = regrouped;
    }
    gemm(ctx, false, true, groups, Og, Kg, B * L, T(1), go, B * L, Og * B * L, col, B * L, Kg * B * L,
         n0 == 0 ? T(0) : T(1), grad_weight, Kg, Og * Kg);
  }
}

template <class T>
void conv2d_backward_bias(const Context& ctx, const T* grad_out, T* grad_bias, int64_t N, int64_t O, int64_t S) {
  if (O == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(O, 1 << 20));
  bias_grad_kernel<<<blocks, kBlock1d, 0, stream_of(ctx)>>>(grad_out, grad_bias, N, O, S);
  check_launch("conv2d_backward_bias");
}

#define EMBER_CUDA_INSTANTIATE_CONV(T)                                                                          \
  template void im2col<T>(const Context&, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,         \
                          const Window2d&, T*);                                                                   \
  template void col2im<T>(const Context&, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,         \
                          const Window2d&, T*);                                                                   \
  template void conv2d_forward<T>(const Context&, const T*, const T*, const T*, T*, int64_t, int64_t, int64_t,    \
                                  int64_t, int64_t, int64_t, int64_t, int64_t, const Window2d&);                  \
  template void conv2d_backward_input<T>(const Context&, const T*, const T*, T*, int64_t, int64_t, int64_t,       \
                                         int64_t, int64_t, int64_t, int64_t, int64_t, const Window2d&);           \
  template void conv2d_backward_weight<T>(const Context&, const T*, const T*, T*, int64_t, int64_t, int64_t,      \
                                          int64_t, int64_t, int64_t, int64_t, int64_t, const Window2d&);          \
  template void conv2d_backward_bias<T>(const Context&, const T*, T*, int64_t, int64_t, int64_t);

EMBER_CUDA_INSTANTIATE_CONV(float)
EMBER_CUDA_INSTANTIATE_CONV(double)
#undef EMBER_CUDA_INSTANTIATE_CONV

}  // namespace ember::cuda
