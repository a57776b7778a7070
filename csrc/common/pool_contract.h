// Pooling and upsampling family on C-contiguous NCHW arrays, with PyTorch's semantics: the
// contract of the family, written once for both backends. csrc/cpu/pool.h and
// csrc/cuda/pool.cuh include this file inside their own namespace after declaring their Context
// (and common/window2d.h), so it has no include guard and includes nothing itself; each adds its
// implementation notes.
//
// Every kernel sees its arrays as `planes` = N*C independent planes: an input plane (H, W) and an
// output plane (OH, OW); 1-D variants are the H = 1 case. planes == 0 writes nothing. Output
// sizes are chosen by the caller (ceil_mode, adaptive or upsampling sizes) and checked by the
// binding. Indices are int64 flat positions ih*W + iw inside a plane, as in PyTorch. The kernels
// are memory-bound: bytes are given per kernel, FLOPs are a few per element read.

// out[p, oh, ow] = max of x[p] over the window of (oh, ow), clipped to the input (padding acts as
// -inf); indices[p, oh, ow] = where it was found. A NaN in the window wins (the last NaN, as in
// PyTorch); ties keep the first position in row-major order. Every window must hold at least one
// input element. Reads x; writes out and indices.
// Bytes: sizeof(T) * planes*(H*W + OH*OW) + 8 * planes*OH*OW.
template <class T>
void max_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t* indices, int64_t planes,
                        int64_t H, int64_t W, int64_t OH, int64_t OW, const Window2d& win);

// grad_x[p, indices[p, o]] += grad_out[p, o] over the OH*OW outputs o, grad_x zeroed first: the
// backward of max_pool2d and of adaptive_max_pool2d. Indices must lie in [0, H*W) (the bindings
// check them with indices_in_range).
// Bytes: sizeof(T) * planes*(H*W + OH*OW) + 8 * planes*OH*OW.
template <class T>
void max_pool2d_backward(const Context& ctx, const T* grad_out, const int64_t* indices, T* grad_x,
                         int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

// out[p, oh, ow] = sum of x[p] over the window of (oh, ow) / divisor, where the window (no
// dilation: win.dh and win.dw are ignored) is clipped to input + padding for count_include_pad's
// divisor and to the input for the sum; divisor = divisor_override if > 0, else the clipped
// window's size with (count_include_pad) or without the padding. A window with no input element
// gives 0. Reads x; writes out. Bytes: sizeof(T) * planes*(H*W + OH*OW).
template <class T>
void avg_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H,
                        int64_t W, int64_t OH, int64_t OW, const Window2d& win,
                        bool count_include_pad, int64_t divisor_override);

// The adjoint of avg_pool2d_forward: grad_x = sum over the windows that hold each input element
// of grad_out / divisor. Reads grad_out; overwrites grad_x. Bytes as the forward.
template <class T>
void avg_pool2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes,
                         int64_t H, int64_t W, int64_t OH, int64_t OW, const Window2d& win,
                         bool count_include_pad, int64_t divisor_override);

// Adaptive pooling: output row i covers input rows [floor(i*H/OH), ceil((i+1)*H/OH)), likewise
// columns; H, W >= 1. Forward: the window mean; backward: its adjoint (grad_x overwritten).
// Bytes: sizeof(T) * planes*(H*W + OH*OW) when windows do not overlap.
template <class T>
void adaptive_avg_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H,
                                 int64_t W, int64_t OH, int64_t OW);
template <class T>
void adaptive_avg_pool2d_backward(const Context& ctx, const T* grad_out, T* grad_x,
                                  int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

// The window maximum and its index over the adaptive windows, with max_pool2d's NaN and tie
// rules; the backward is max_pool2d_backward. Reads x; writes out and indices.
template <class T>
void adaptive_max_pool2d_forward(const Context& ctx, const T* x, T* out, int64_t* indices,
                                 int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

// out (planes, OH, OW) is zeroed, then out[p, indices[p, i]] = x[p, i] for the H*W inputs i
// (the last write wins where indices repeat). Indices must lie in [0, OH*OW).
// Bytes: sizeof(T) * planes*(H*W + OH*OW) + 8 * planes*H*W.
template <class T>
void max_unpool2d_forward(const Context& ctx, const T* x, const int64_t* indices, T* out,
                          int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

// The gather grad_x[p, i] = grad_out[p, indices[p, i]] (grad_out is (planes, OH, OW), indices
// and grad_x (planes, H, W)). Indices must lie in [0, OH*OW). Bytes as the forward.
template <class T>
void max_unpool2d_backward(const Context& ctx, const T* grad_out, const int64_t* indices,
                           T* grad_x, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

// Nearest upsampling (any sizes >= 1, also downsampling): out[p, oh, ow] =
// x[p, floor(oh*H/OH), floor(ow*W/OW)]. Backward: grad_x overwritten with the sums of the
// grad_out elements that read each input. Bytes: sizeof(T) * planes*(H*W + OH*OW).
template <class T>
void upsample_nearest2d_forward(const Context& ctx, const T* x, T* out, int64_t planes, int64_t H,
                                int64_t W, int64_t OH, int64_t OW);
template <class T>
void upsample_nearest2d_backward(const Context& ctx, const T* grad_out, T* grad_x, int64_t planes,
                                 int64_t H, int64_t W, int64_t OH, int64_t OW);

// Bilinear upsampling with PyTorch's source coordinates: align_corners maps the corner pixels
// onto each other, src = dst * (in-1)/(out-1); otherwise pixel centres are aligned,
// src = max(0, (dst + 0.5) * in/out - 0.5). Each output blends the 2x2 inputs around src.
// Backward: grad_x overwritten with the four weighted contributions of every grad_out element.
// FLOPs ~ 8 per output; bytes: sizeof(T) * planes*(H*W + OH*OW).
template <class T>
void upsample_bilinear2d_forward(const Context& ctx, const T* x, T* out, int64_t planes,
                                 int64_t H, int64_t W, int64_t OH, int64_t OW, bool align_corners);
template <class T>
void upsample_bilinear2d_backward(const Context& ctx, const T* grad_out, T* grad_x,
                                  int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                  bool align_corners);

// True when every one of the `count` indices lies in [0, limit) (true for count == 0): the
// bindings check the indices of the scatter/gather kernels above with it before calling them.
// The CUDA version synchronises ctx.stream, since the answer is needed on the host.
// Bytes: 8 * count.
bool indices_in_range(const Context& ctx, const int64_t* indices, int64_t count, int64_t limit);
