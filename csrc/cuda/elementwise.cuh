// Fused elementwise activations (CUDA): the declarations of csrc/cpu/elementwise.h with the CUDA
// context and the same functions (PyTorch's exact and tanh GELU, SiLU, ReLU), in stable forms: exact
// GELU is x * Phi(x) with CUDA's normcdf (within a few ulp everywhere, also in float32's far
// tails) and 0.5 (1 + tanh u) = sigmoid(2u). Contiguous device buffers of n elements; one thread
// per element in a grid-stride loop, one pass over memory.
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {

// out = gelu(x) (approximate: the tanh form); out may alias x. FLOPs ~ 10n; bytes 2*n*sizeof(T).
template <class T>
void gelu_forward(const Context& ctx, int64_t n, const T* x, T* out, bool approximate);

// grad_x = grad_out * gelu'(x); grad_x may alias grad_out. FLOPs ~ 15n; bytes 3*n*sizeof(T).
template <class T>
void gelu_backward(const Context& ctx, int64_t n, const T* grad_out, const T* x, T* grad_x, bool approximate);

// out = x * sigmoid(x); out may alias x. FLOPs ~ 4n; bytes 2*n*sizeof(T).
template <class T>
void silu_forward(const Context& ctx, int64_t n, const T* x, T* out);

// grad_x = grad_out * (s + x * s * (1 - s)), s = sigmoid(x). FLOPs ~ 7n; bytes 3*n*sizeof(T).
template <class T>
void silu_backward(const Context& ctx, int64_t n, const T* grad_out, const T* x, T* grad_x);

// out = max(x, 0), NaN kept; out may alias x. FLOPs n; bytes 2*n*sizeof(T).
template <class T>
void relu_forward(const Context& ctx, int64_t n, const T* x, T* out);

// grad_x = out <= 0 ? 0 : grad_out (out: ReLU's result). FLOPs n; bytes 3*n*sizeof(T).
template <class T>
void relu_backward(const Context& ctx, int64_t n, const T* grad_out, const T* out, T* grad_x);

}  // namespace ember::cuda
