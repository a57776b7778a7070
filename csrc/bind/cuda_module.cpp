// ember._C_cuda: the CUDA kernels. Each family's binding is written once in csrc/bind/<family>.h
// and instantiated here with the CUDA backend: arrays are read through __cuda_array_interface__
// (CuPy) and kernels launch on CuPy's current stream, fetched at call time. Importing this module
// makes no CUDA call, so it imports on machines without a GPU or driver.
#include <pybind11/pybind11.h>

#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "bind/array_view.h"
#include "bind/families.h"
#include "cuda/attention.cuh"
#include "cuda/conv.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/gemm.cuh"
#include "cuda/norm.cuh"
#include "cuda/optim.cuh"
#include "cuda/pool.cuh"
#include "cuda/rnn_cell.cuh"
#include "cuda/softmax_xent.cuh"

namespace ember::bind {

struct CudaBackend {
  static ArrayView view(py::handle obj, const char* name) { return cuda_view(obj, name); }

  // CuPy's current stream for this thread and device (0 is the legacy default stream), and a
  // workspace allocator drawing from CuPy's memory pool. The buffers it hands out live as long
  // as the Context, i.e. until the binding call returns (the GIL is held throughout).
  static cuda::Context context() {
    PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> cupy;
    const py::object& cp =
        cupy.call_once_and_store_result([]() { return py::object(py::module_::import("cupy")); }).get_stored();
    cuda::Context ctx;
    ctx.stream = reinterpret_cast<void*>(cp.attr("cuda").attr("get_current_stream")().attr("ptr").cast<uintptr_t>());
    auto held = std::make_shared<std::vector<py::object>>();
    ctx.workspace = [held, empty = cp.attr("empty")](size_t bytes) -> void* {
      if (bytes == 0) return nullptr;
      py::object buffer = empty(py::int_(bytes), py::arg("dtype") = "uint8");
      held->push_back(buffer);
      return reinterpret_cast<void*>(buffer.attr("data").attr("ptr").cast<uintptr_t>());
    };
    return ctx;
  }
};

static void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("ember CUDA ") + what + ": " + cudaGetErrorString(err));
}

}  // namespace ember::bind

PYBIND11_MODULE(_C_cuda, m) {
  using namespace ember::bind;
  m.doc() =
      "Ember CUDA kernels. Arrays are CuPy (any __cuda_array_interface__ object); outputs are allocated by "
      "the caller; kernels run asynchronously on CuPy's current stream.";
  m.def(
      "device_count",
      []() {
        int n = 0;
        // No driver or no device reads as zero devices rather than an error.
        if (cudaGetDeviceCount(&n) != cudaSuccess) {
          cudaGetLastError();  // clear it, so that a later launch check does not report it
          return 0;
        }
        return n;
      },
      "Number of visible CUDA devices (0 without a driver).");
  m.def(
      "synchronize", []() { check_cuda(cudaDeviceSynchronize(), "synchronize"); },
      "Wait for all work on the current device; raises RuntimeError if a kernel failed.");

  bind_kernel_families<CudaBackend>(m);
  // TF32 tensor-core GEMM (CUDA only): the same arguments and checks as gemm; float32 only.
  def_gemm(
      m, "gemm_tf32",
      [](py::handle a, py::handle b, py::handle c, bool trans_a, bool trans_b, double alpha, double beta,
         py::handle bias, bool bias_per_row, const std::string& activation) {
        checked_gemm<CudaBackend>(
            [](const auto& ctx, bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, auto alpha_t,
               auto A, int64_t lda, int64_t sa, auto B, int64_t ldb, int64_t sb, auto beta_t, auto C,
               int64_t ldc, int64_t sc, const auto& ep) {
              if constexpr (std::is_same_v<decltype(alpha_t), float>)
                ember::cuda::gemm_tf32(ctx, ta, tb, batch, M, N, K, alpha_t, A, lda, sa, B, ldb, sb, beta_t, C,
                                       ldc, sc, ep);
              else
                throw py::type_error("gemm_tf32: arguments must be float32 (TF32 has no float64 form)");
            },
            a, b, c, trans_a, trans_b, alpha, beta, bias, bias_per_row, activation);
      },
      "gemm on tensor cores with operands rounded to TF32 (float32 only; ~1e-3 relative error).");
}
