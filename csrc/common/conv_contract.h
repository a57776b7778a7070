// Convolution family: 2-D convolution (cross-correlation, as in PyTorch) on C-contiguous NCHW
// arrays, by im2col + GEMM; 1-D convolution is the H = 1 case. This is the contract of the
// family, written once for both backends. csrc/cpu/conv.h and csrc/cuda/conv.cuh include this
// file inside their own namespace after declaring their Context (and common/window2d.h), so it
// has no include guard and includes nothing itself; each adds its implementation notes.
//
// Shapes: x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O), out (N, O, OH, OW) with
// OH = floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1 (likewise OW); L = OH*OW output positions.
// Group g reads channels [g*C/groups, (g+1)*C/groups) and writes outputs [g*O/groups, ...).
// The "column" matrix of B samples has one row per (c, i, j) tap (c-major, then i, then j) and
// one column per (sample, output position): col[(c*kh + i)*kw + j][b*L + oh*OW + ow]
// = x[b, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw], or 0 where that lies in the padding.
// Empty batches: N == 0 (or L == 0) writes nothing, except conv2d_backward_weight, which zeroes
// grad_weight, and conv2d_backward_bias, which zeroes grad_bias.

// Unfolds B samples x (B, C, H, W) into col (C*kh*kw, B*OH*OW), every element written.
// Bytes: sizeof(T) * (B*C*H*W + C*kh*kw*B*L); no FLOPs.
template <class T>
void im2col(const Context& ctx, const T* x, int64_t B, int64_t C, int64_t H, int64_t W,
            int64_t OH, int64_t OW, const Window2d& win, T* col);

// The adjoint of im2col: x (B, C, H, W) = sum of the col (C*kh*kw, B*OH*OW) entries that im2col
// would have copied from each position; x is overwritten (positions no window touches get 0).
// FLOPs: C*kh*kw*B*L additions; bytes as im2col.
template <class T>
void col2im(const Context& ctx, const T* col, int64_t B, int64_t C, int64_t H, int64_t W,
            int64_t OH, int64_t OW, const Window2d& win, T* x);

// out = conv2d(x, weight) + bias (bias may be nullptr). Reads x, weight, bias; writes out.
// FLOPs: 2 * N * O * (C/groups)*kh*kw * L. Minimum bytes: sizeof(T) * (x + weight + out sizes).
template <class T>
void conv2d_forward(const Context& ctx, const T* x, const T* weight, const T* bias, T* out,
                    int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH, int64_t OW,
                    int64_t groups, const Window2d& win);

// grad_x = d(sum(grad_out * conv2d(x, weight))) / dx, i.e. weight^T @ grad_out then col2im.
// Reads grad_out (N, O, OH, OW) and weight; overwrites grad_x (N, C, H, W). (H, W) need only
// satisfy OH <= floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1 (likewise W): rows and columns that
// no window reaches get 0. This is also the forward of conv_transpose2d.
// FLOPs: 2 * N * O * (C/groups)*kh*kw * L (+ the col2im additions).
template <class T>
void conv2d_backward_input(const Context& ctx, const T* grad_out, const T* weight, T* grad_x,
                           int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH,
                           int64_t OW, int64_t groups, const Window2d& win);

// grad_weight = sum over samples of grad_out[n] @ im2col(x[n])^T, per group. Reads x and
// grad_out; overwrites grad_weight (O, C/groups, kh, kw) (zero when N == 0).
// FLOPs: 2 * N * O * (C/groups)*kh*kw * L.
template <class T>
void conv2d_backward_weight(const Context& ctx, const T* x, const T* grad_out, T* grad_weight,
                            int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t OH,
                            int64_t OW, int64_t groups, const Window2d& win);

// grad_bias[o] = sum over n and the S spatial positions of grad_out[n, o, :]. Reads grad_out
// (N, O, S); overwrites grad_bias (O). Accumulates in double for both precisions (the
// reduction is N*S long). FLOPs N*O*S; bytes sizeof(T) * N*O*S.
template <class T>
void conv2d_backward_bias(const Context& ctx, const T* grad_out, T* grad_bias, int64_t N,
                          int64_t O, int64_t S);
