// Which fused activation an elementwise kernel computes (csrc/common/elementwise_contract.h);
// the bindings map PyTorch's names and `approximate` argument onto it. Shared by both backends.
#pragma once

namespace ember {

enum class ActivationKind : int {
  gelu,       // exact: x * Phi(x)
  gelu_tanh,  // PyTorch's approximate='tanh'
  silu,
  relu,
};

}  // namespace ember
