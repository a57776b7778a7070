// Softmax / log-softmax and the classification losses built on them (cross-entropy with class
// weights, ignore_index and label smoothing; binary cross-entropy with logits): the contract of
// the family, written once for both backends. csrc/cpu/softmax_xent.h and
// csrc/cuda/softmax_xent.cuh include this file inside their own namespace after declaring their
// Context, so it has no include guard and includes nothing itself; each adds its implementation
// notes.
//
// Softmax layout: a C-contiguous array viewed as (outer, dim, inner); the softmax runs along the
// middle axis, so softmax over any axis of an N-d array needs no transpose (the binding computes
// outer = product of the sizes before the axis, inner = product of the sizes after it).
// Scalar hyper-parameters are double in every precision; optional arrays are nullptr when absent.
// Empty inputs (outer*dim*inner == 0, M == 0, M*C == 0) write nothing; the bindings reject
// C == 0 with M > 0 for cross-entropy.

// Result of the target check done by the cross-entropy kernels: a kernel never indexes with a
// target it has not checked. index = -1 when every target is in [0, C) or equals ignore_index;
// otherwise the first offending row and its target value (the outputs are then unspecified; the
// binding raises ValueError).
struct TargetCheck {
  int64_t index = -1;
  int64_t value = 0;
};

// out = softmax(x) (log=false) or log_softmax(x) (log=true) along the middle axis.
// Reads x, writes out (outer, dim, inner); out may alias x.
// FLOPs ~ 4*n + n exp; bytes 2*n*sizeof(T), n = outer*dim*inner.
template <class T>
void softmax_forward(const Context& ctx, int64_t outer, int64_t dim, int64_t inner, const T* x,
                     T* out, bool log);

// Gradient of softmax_forward from its output: reads grad_out and out, writes grad_x, all
// (outer, dim, inner).
//   log=false: grad_x = out * (grad_out - sum(grad_out * out))
//   log=true:  grad_x = grad_out - exp(out) * sum(grad_out)
// FLOPs ~ 4*n; bytes 3*n*sizeof(T).
template <class T>
void softmax_backward(const Context& ctx, int64_t outer, int64_t dim, int64_t inner,
                      const T* grad_out, const T* out, T* grad_x, bool log);

// Per-row cross-entropy (PyTorch CrossEntropyLoss, reduction='none', class-index targets):
//   lse_m = logsumexp(logits[m, :])
//   loss_m = (1 - ls) * w[t] * (lse_m - x[m, t]) + ls / C * sum_c w[c] * (lse_m - x[m, c])
// with t = target[m], ls = label_smoothing, w = weight (all ones when nullptr); rows whose target
// equals ignore_index get loss 0 (their lse is still written).
// Reads logits (M,C), target (M), weight (C); writes loss (M), lse (M).
// FLOPs ~ 5*M*C + M*C exp; bytes M*C*sizeof(T) + M*(8 + 2*sizeof(T)).
template <class T>
TargetCheck cross_entropy_forward(const Context& ctx, int64_t M, int64_t C, const T* logits,
                                  const int64_t* target, const T* weight, int64_t ignore_index,
                                  double label_smoothing, T* loss, T* lse);

// Gradient of the per-row loss above, scaled by grad_loss (M) (the Python layer folds the mean
// reduction into grad_loss):
//   grad_logits[m, c] = grad_loss[m] * ((1 - ls) * w[t] * (p_mc - [c == t])
//                                       + ls / C * (W * p_mc - w[c])),  p = exp(x - lse), W = sum w
// and 0 for ignored rows. Reads logits (M,C), target, grad_loss, lse (M), weight (C);
// writes grad_logits (M,C). FLOPs ~ 6*M*C + M*C exp; bytes 2*M*C*sizeof(T).
template <class T>
TargetCheck cross_entropy_backward(const Context& ctx, int64_t M, int64_t C, const T* logits,
                                   const int64_t* target, const T* weight, int64_t ignore_index,
                                   double label_smoothing, const T* lse, const T* grad_loss,
                                   T* grad_logits);

// Binary cross-entropy with logits, elementwise over an array viewed as (M, C) (C = last dim):
//   loss = w * ((1 - y) * x + (1 + (p - 1) * y) * softplus(-x)),  softplus evaluated stably,
// y = target, w = weight (same shape as logits, or nullptr), p = pos_weight[c] (C, or nullptr).
// Reads logits, target, weight (M,C), pos_weight (C); writes loss (M,C).
// FLOPs ~ 10*M*C + exp + log1p per element; bytes 3-4 * M*C*sizeof(T).
template <class T>
void binary_cross_entropy_with_logits_forward(const Context& ctx, int64_t M, int64_t C, const T* logits,
                             const T* target, const T* weight, const T* pos_weight, T* loss);

// Backward of the above, times grad_loss (M,C):
//   grad_logits = g * w * ((1 - y) - (1 + (p - 1) * y) * sigmoid(-x))
//   grad_target = g * w * ((p - 1) * softplus(-x) - x)           (optional: nullptr to skip)
// Reads grad_loss, logits, target, weight (M,C), pos_weight (C); writes grad_logits (M,C) and
// grad_target (M,C). FLOPs ~ 12*M*C + exp per element; bytes 5-6 * M*C*sizeof(T).
template <class T>
void binary_cross_entropy_with_logits_backward(const Context& ctx, int64_t M, int64_t C, const T* grad_loss,
                              const T* logits, const T* target, const T* weight,
                              const T* pos_weight, T* grad_logits, T* grad_target);
