// ember._C: the CPU kernels. Each family's binding is written once in csrc/bind/<family>.h and
// instantiated here (bind/families.h) with the CPU backend (NumPy arrays, ember::cpu::Context).
#include <pybind11/pybind11.h>

#include <omp.h>

#include "bind/array_view.h"
#include "bind/families.h"
#include "cpu/attention.h"
#include "cpu/conv.h"
#include "cpu/elementwise.h"
#include "cpu/gemm.h"
#include "cpu/pool.h"
#include "cpu/norm.h"
#include "cpu/optim.h"
#include "cpu/rnn_cell.h"
#include "cpu/softmax_xent.h"

namespace ember::bind {

struct CpuBackend {
  static ArrayView view(py::handle obj, const char* name) { return numpy_view(obj, name); }
  static cpu::Context context() { return {}; }
};

}  // namespace ember::bind

PYBIND11_MODULE(_C, m) {
  using namespace ember::bind;
  m.doc() = "Ember CPU kernels (C++17, OpenMP). Arrays are NumPy; outputs are allocated by the caller.";
  m.def("num_threads", []() { return omp_get_max_threads(); }, "OpenMP threads the kernels use.");
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw py::value_error("argument 'n' must be >= 1");
    omp_set_num_threads(n);
  }, py::arg("n"));
  bind_kernel_families<CpuBackend>(m);
}
