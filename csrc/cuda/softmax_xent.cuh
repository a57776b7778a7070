// Softmax / log-softmax and the classification losses (CUDA): the declarations of
// csrc/cpu/softmax_xent.h with the CUDA context and the same contracts. Softmax views a
// C-contiguous array as (outer, dim, inner) and normalises along dim.
//
// Strategy: contiguous rows (inner == 1) go to one warp each when short and to one block when
// long; each thread keeps an online (running max, sum of exp(x - max)) pair over its elements,
// the pairs are merged across the row, and a second pass writes the result: two passes over x
// instead of three. Strided softmax (inner > 1) gives each column to one thread (neighbouring
// threads read neighbouring columns, so loads coalesce). Float32 reduces in float.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {

// Result of the cross-entropy target check (see cpu/softmax_xent.h): index = -1 when every target
// is in [0, C) or equals ignore_index, else the first offending row and its target value.
// Finding it on the device and returning it to the host synchronises ctx.stream once per call;
// rows with a bad target are never indexed with it (their loss / gradient row is set to NaN).
struct TargetCheck {
  int64_t index = -1;
  int64_t value = 0;
};

// out = softmax(x) or log_softmax(x) along the middle axis; out may alias x.
// FLOPs ~ 4*n + n exp; bytes 2*n*sizeof(T) (+ n*sizeof(T) re-read, usually from cache).
template <class T>
void softmax_forward(const Context& ctx, int64_t outer, int64_t dim, int64_t inner, const T* x, T* out, bool log);

// grad_x from grad_out and the forward output (see cpu/softmax_xent.h). FLOPs ~ 4*n; bytes 3*n*sizeof(T).
template <class T>
void softmax_backward(const Context& ctx, int64_t outer, int64_t dim, int64_t inner, const T* grad_out, const T* out,
                      T* grad_x, bool log);

// Per-row cross-entropy with class weights, ignore_index and label smoothing; writes loss (M)
// and lse (M). One warp or block per row. FLOPs ~ 5*M*C + M*C exp; bytes M*C*sizeof(T) + M*(8 + 2*sizeof(T)).
template <class T>
TargetCheck cross_entropy_forward(const Context& ctx, int64_t M, int64_t C, const T* logits, const int64_t* target,
                                  const T* weight, int64_t ignore_index, double label_smoothing, T* loss, T* lse);

// Gradient of the per-row loss times grad_loss (M): one thread per logit recomputes
// p = exp(x - lse) and writes the gradient in the same pass. FLOPs ~ 6*M*C + M*C exp; bytes 2*M*C*sizeof(T).
template <class T>
TargetCheck cross_entropy_backward(const Context& ctx, int64_t M, int64_t C, const T* logits, const int64_t* target,
                                   const T* weight, int64_t ignore_index, double label_smoothing, const T* lse,
                                   const T* grad_loss, T* grad_logits);

// Binary cross-entropy with logits, elementwise over (M, C) (see cpu/softmax_xent.h).
// FLOPs ~ 10*M*C + exp + log1p per element; bytes 3-4 * M*C*sizeof(T).
template <class T>
void binary_cross_entropy_with_logits_forward(const Context& ctx, int64_t M, int64_t C, const T* logits, const T* target,
                             const T* weight, const T* pos_weight, T* loss);

// Its backward times grad_loss; grad_target optional (nullptr). FLOPs ~ 12*M*C + exp per element.
template <class T>
void binary_cross_entropy_with_logits_backward(const Context& ctx, int64_t M, int64_t C, const T* grad_loss, const T* logits,
                              const T* target, const T* weight, const T* pos_weight, T* grad_logits, T* grad_target);

}  // namespace ember::cuda
