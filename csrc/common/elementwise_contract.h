// Fused elementwise activations (GELU exact and tanh, SiLU, ReLU): the contract of the family,
// written once for both backends. csrc/cpu/elementwise.h and csrc/cuda/elementwise.cuh include
// this file inside their own namespace after declaring their Context, so it has no include guard
// and includes nothing itself; implementation notes live in those headers.
//
// Buffers are contiguous, n elements each; n == 0 writes nothing. out may alias x and grad_x may
// alias grad_out. The functions, in PyTorch's definitions:
//   gelu:      out = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
//   gelu_tanh: out = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
//   silu:      out = x * sigmoid(x)
//   relu:      out = max(x, 0), NaN stays NaN
// Both backends evaluate them in stable forms (Phi without the cancellation of 1 + erf for
// negative x, 0.5 * (1 + tanh u) = sigmoid(2u)), which are the same functions.

// out = kind(x). Reads x, writes out. FLOPs ~ 10n (gelu), 4n (silu), n (relu) plus one
// erf/tanh/exp per element; bytes 2*n*sizeof(T).
template <class T>
void activation_forward(const Context& ctx, ActivationKind kind, int64_t n, const T* x, T* out);

// grad_x = grad_out * kind'(x). `saved` is the forward's input x for gelu, gelu_tanh and silu,
// and its result out for relu, whose gradient is a select rather than a product: grad_x =
// grad_out where out > 0, else 0 (an infinite grad_out at a clipped position gives 0, not NaN;
// PyTorch's threshold_backward on the result). silu' = s + x * s * (1 - s), s = sigmoid(x).
// Reads grad_out and saved, writes grad_x. FLOPs ~ 15n (gelu), 7n (silu), n (relu) plus the
// transcendentals; bytes 3*n*sizeof(T).
template <class T>
void activation_backward(const Context& ctx, ActivationKind kind, int64_t n, const T* grad_out,
                         const T* saved, T* grad_x);
