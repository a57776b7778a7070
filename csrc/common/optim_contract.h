// Optimizer updates: one fused pass over a parameter and its state, in place, following PyTorch's
// documented update rules exactly (torch.optim.SGD, Adam/AdamW, RMSprop, Adagrad, single-tensor
// "foreach=False" semantics). This is the contract of the family, written once for both backends.
// csrc/cpu/optim.h and csrc/cuda/optim.cuh include this file inside their own namespace after
// declaring their Context, so it has no include guard and includes nothing itself; each adds its
// implementation notes.
//
// Every array is a contiguous buffer of n elements (n == 0 writes nothing); optional state is
// nullptr when the option that needs it is off. Hyper-parameters are double in every precision;
// the arithmetic runs in T. A weight decay of 0 is skipped, not multiplied in.

// SGD with optional momentum/dampening/Nesterov/weight decay/maximize.
//   g = (maximize ? -grad : grad) + weight_decay * param
//   if momentum != 0: buf = first_step ? g : momentum * buf + (1 - dampening) * g
//                     g = nesterov ? g + momentum * buf : buf
//   param -= lr * g
// Reads grad; reads+writes param and momentum_buffer (required iff momentum != 0).
// FLOPs ~ 6n; bytes (3 + 2*(momentum != 0)) * n * sizeof(T).
template <class T>
void sgd_step(const Context& ctx, int64_t n, T* param, const T* grad, T* momentum_buffer,
              double lr, double momentum, double dampening, double weight_decay, bool nesterov,
              bool maximize, bool first_step);

// Adam / AdamW (decoupled_weight_decay). step is the step count after incrementing (>= 1).
//   g = maximize ? -grad : grad
//   AdamW: param *= 1 - lr * weight_decay;   Adam: g += weight_decay * param
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
//   bc1 = 1 - beta1^step; bc2 = 1 - beta2^step
//   amsgrad: vmax = max(vmax, v), denominator uses vmax instead of v
//   param -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
// Reads grad; reads+writes param, exp_avg, exp_avg_sq, max_exp_avg_sq (required iff amsgrad).
// FLOPs ~ 14n + n sqrt; bytes (7 + 2*amsgrad) * n * sizeof(T).
template <class T>
void adam_step(const Context& ctx, int64_t n, T* param, const T* grad, T* exp_avg, T* exp_avg_sq,
               T* max_exp_avg_sq, int64_t step, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay);

// RMSprop.
//   g = (maximize ? -grad : grad) + weight_decay * param
//   sq = alpha * sq + (1 - alpha) * g^2
//   centered: ga = alpha * ga + (1 - alpha) * g; avg = sqrt(sq - ga^2) + eps
//   else:     avg = sqrt(sq) + eps
//   momentum > 0: buf = momentum * buf + g / avg; param -= lr * buf
//   else:         param -= lr * g / avg
// Reads grad; reads+writes param, square_avg, grad_avg (required iff centered), momentum_buffer
// (required iff momentum > 0). FLOPs ~ 10n + n sqrt; bytes (5 + 2 + 2) * n * sizeof(T) at most.
template <class T>
void rmsprop_step(const Context& ctx, int64_t n, T* param, const T* grad, T* square_avg,
                  T* grad_avg, T* momentum_buffer, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize);

// Adagrad. step is the step count after incrementing (>= 1).
//   g = (maximize ? -grad : grad) + weight_decay * param
//   clr = lr / (1 + (step - 1) * lr_decay)
//   state_sum += g^2;  param -= clr * g / (sqrt(state_sum) + eps)
// Reads grad; reads+writes param, state_sum. FLOPs ~ 7n + n sqrt; bytes 5 * n * sizeof(T).
template <class T>
void adagrad_step(const Context& ctx, int64_t n, T* param, const T* grad, T* state_sum,
                  int64_t step, double lr, double lr_decay, double weight_decay, double eps,
                  bool maximize);
