// The CUDA backend's context: the stream to launch on (CuPy's current stream, as an opaque handle
// so that host-only translation units need no CUDA headers) and where scratch memory comes from.
// See csrc/cpu/context.h.
#pragma once
#include <cstddef>
#include <functional>

namespace ember::cuda {
struct Context {
  void* stream = nullptr;  // cudaStream_t
  // Device scratch memory for kernels that need a workspace (im2col columns, split-K partial
  // sums): `bytes` from the caller's pool (CuPy), held until this Context is destroyed at the end
  // of the binding call. Safe without synchronising because the pool is stream-ordered: memory
  // returned to it is only handed out again to work queued later on the same stream.
  // Empty when no pool is available: kernels then take a path that needs no workspace or fail.
  std::function<void*(size_t bytes)> workspace;
};
}  // namespace ember::cuda
