// Fused elementwise activations whose NumPy composition costs several passes over memory
// (and, for exact GELU, needs erf, which NumPy lacks), and ReLU, the most common activation,
// multithreaded in one pass. Contiguous buffers of n elements.
#pragma once
#include <cstdint>

#include "cpu/context.h"

namespace ember::cpu {

// GELU. approximate=false: out = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))).
// approximate=true (PyTorch's approximate='tanh'):
//   out = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
// Reads x, writes out (may alias x). FLOPs ~ 10n + n erf/tanh; bytes 2*n*sizeof(T).
template <class T>
void gelu_forward(const Context& ctx, int64_t n, const T* x, T* out, bool approximate);

// grad_x = grad_out * d gelu(x) / dx. Reads grad_out, x; writes grad_x (may alias grad_out).
// FLOPs ~ 15n + n (erf, exp) or tanh; bytes 3*n*sizeof(T).
template <class T>
void gelu_backward(const Context& ctx, int64_t n, const T* grad_out, const T* x, T* grad_x,
                   bool approximate);

// SiLU (swish): out = x * sigmoid(x). Reads x, writes out (may alias x).
// FLOPs ~ 4n + n exp; bytes 2*n*sizeof(T).
template <class T>
void silu_forward(const Context& ctx, int64_t n, const T* x, T* out);

// grad_x = grad_out * (s + x * s * (1 - s)), s = sigmoid(x). Reads grad_out, x; writes grad_x.
// FLOPs ~ 7n + n exp; bytes 3*n*sizeof(T).
template <class T>
void silu_backward(const Context& ctx, int64_t n, const T* grad_out, const T* x, T* grad_x);

// ReLU: out = max(x, 0), NaN stays NaN (as PyTorch). Reads x, writes out (may alias x).
// FLOPs n; bytes 2*n*sizeof(T).
template <class T>
void relu_forward(const Context& ctx, int64_t n, const T* x, T* out);

// grad_x = grad_out where out > 0, else 0 (a select, not a product: an infinite grad_out at a
// clipped position gives 0, not NaN; PyTorch's threshold_backward on the result). Reads
// grad_out, out (ReLU's result); writes grad_x (may alias grad_out). FLOPs n; bytes 3*n*sizeof(T).
template <class T>
void relu_backward(const Context& ctx, int64_t n, const T* grad_out, const T* out, T* grad_x);

}  // namespace ember::cpu
