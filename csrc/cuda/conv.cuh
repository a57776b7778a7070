// Convolution family (CUDA): the declarations of csrc/cpu/conv.h with the CUDA context; same
// layouts and semantics (NCHW, C-contiguous, PyTorch's cross-correlation, groups, dilation).
// Column matrix: col[(c*kh + i)*kw + j][b*L + oh*OW + ow] = x[b, c, oh*sh - ph + i*dh,
// ow*sw - pw + j*dw] (0 in the padding), L = OH*OW. All pointers are device pointers; the
// convolutions stage column matrices in the context's workspace, a chunk of samples at a time.
#pragma once
#include <cstdint>

#include "common/window2d.h"
#include "cuda/context.cuh"

namespace ember::cuda {

// Unfolds B samples x (B, C, H, W) into col (C*kh*kw, B*L); every element written.
// One thread per (c, b, oh, ow), looping over the kh*kw taps. Bytes: sizeof(T) * (B*C*H*W + C*kh*kw*B*L).
template <class T>
void im2col(const Context& ctx, const T* x, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH,
            int64_t OW, const Window2d& win, T* col);

// Adjoint of im2col: x (B, C, H, W) = sum of the col entries im2col would copy from each
// position (0 where no window reaches). One thread per input element gathering its taps, so no
// atomics and a fixed summation order. Bytes as im2col; C*kh*kw*B*L additions.
template <class T>
void col2im(const Context& ctx, const T* col, int64_t B, int64_t C, int64_t H, int64_t W, int64_t OH,
            int64_t OW, const Window2d& win, T* x);

// out (N, O, OH, OW) = conv2d(x (N, C, H, W), weight (O, C/groups, kh, kw)) + bias (O or nullptr).
// im2col + one strided-batched GEMM per group over the samples of a chunk, bias fused into the
// GEMM epilogue; 1x1/stride-1/unpadded windows use x directly. FLOPs 2*N*O*(C/groups)*kh*kw*L.
template <class T>
void conv2d_forward(const Context& ctx, const T* x, const T* weight, const T* bias, T* out, int64_t N,
                    int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW, int64_t groups,
                    const Window2d& win);

// grad_x (N, C, H, W) = weight^T @ grad_out (N, O, OH, OW), folded by col2im; overwrites grad_x
// (positions no window reaches get 0). (OH, OW) may be smaller than (H, W) implies. FLOPs as forward.
template <class T>
void conv2d_backward_input(const Context& ctx, const T* grad_out, const T* weight, T* grad_x, int64_t N,
                           int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW, int64_t groups,
                           const Window2d& win);

// grad_weight (O, C/groups, kh, kw) = sum over samples of grad_out[n] @ im2col(x[n])^T, per group;
// overwritten (zero when N == 0). Samples sit side by side along the reduction (grad_out is
// regrouped to (O, B*L)), one GEMM batched over the groups per chunk; the GEMM splits the long
// reduction over blocks when the output is small. FLOPs as forward.
template <class T>
void conv2d_backward_weight(const Context& ctx, const T* x, const T* grad_out, T* grad_weight, int64_t N,
                            int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW, int64_t groups,
                            const Window2d& win);

// grad_bias[o] = sum over n and s of grad_out (N, O, S); one block per channel, accumulated in
// double for both precisions (as the CPU kernel). FLOPs N*O*S; bytes sizeof(T) * N*O*S.
template <class T>
void conv2d_backward_bias(const Context& ctx, const T* grad_out, T* grad_bias, int64_t N, int64_t O, int64_t S);

}  // namespace ember::cuda
