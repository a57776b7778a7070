// The CUDA backend's context: the stream to launch on (CuPy's current stream, as an opaque handle
// so that host-only translation units need no CUDA headers). See csrc/cpu/context.h.
#pragma once

namespace ember::cuda {
struct Context {
  void* stream = nullptr;  // cudaStream_t
};
}  // namespace ember::cuda
