// Every kernel family's binding, registered the same way in both modules: each module defines
// its Backend (how it views arrays and makes a kernel context) and calls bind_kernel_families.
#pragma once
#include <pybind11/pybind11.h>

#include "bind/attention.h"
#include "bind/conv.h"
#include "bind/elementwise.h"
#include "bind/gemm.h"
#include "bind/norm.h"
#include "bind/optim.h"
#include "bind/pool.h"
#include "bind/rnn_cell.h"
#include "bind/softmax_xent.h"

namespace ember::bind {

// The kernel headers of the backend (csrc/cpu/*.h or csrc/cuda/*.cuh) must be included before
// this header's templates are instantiated: the bindings reach the kernels by argument-dependent
// lookup on Backend's context type.
template <class Backend>
void bind_kernel_families(py::module_& m) {
  bind_gemm<Backend>(m);
  bind_conv<Backend>(m);
  bind_pool<Backend>(m);
  bind_norm<Backend>(m);
  bind_softmax_xent<Backend>(m);
  bind_rnn_cell<Backend>(m);
  bind_attention<Backend>(m);
  bind_optim<Backend>(m);
  bind_elementwise<Backend>(m);
}

}  // namespace ember::bind
