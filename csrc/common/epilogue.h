// What a GEMM may do to each output element before storing it, so that bias-add and activation
// do not cost another pass over C. Shared by the CPU and CUDA GEMMs.
#pragma once
#include <cstdint>

namespace ember {

enum class Activation : int { none = 0, relu = 1, gelu = 2 /* exact, erf-based */ };

template <class T>
struct Epilogue {
  const T* bias = nullptr;       // optional; length N (bias_per_row=false) or M (true)
  bool bias_per_row = false;     // Linear adds bias per column, convolution per row (channel)
  Activation activation = Activation::none;
};

}  // namespace ember
