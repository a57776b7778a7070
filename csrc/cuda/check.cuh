// Helpers every CUDA kernel file uses: the launch check, the stream and workspace of the
// context, grid sizing, grid-stride loops and typed math. Reductions live in reduce.cuh.
// Device code only; no pybind11 here.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "cuda/context.cuh"

namespace ember::cuda {

// Called right after every launch: a bad configuration (too many threads, too much shared
// memory, a grid dimension of 0) is reported here, synchronously, without waiting for the device.
inline void check_launch(const char* kernel_name) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("ember CUDA kernel ") + kernel_name + ": " + cudaGetErrorString(err));
}

inline cudaStream_t stream_of(const Context& ctx) { return static_cast<cudaStream_t>(ctx.stream); }

// Blocks for a grid-stride loop over n items: enough to fill the device, capped so that the
// grid's x dimension stays valid for any n (the kernels loop over the rest).
inline unsigned int grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  const int64_t cap = int64_t(1) << 20;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks < cap ? blocks : cap));
}

// Multiprocessors on the current device (queried on first use and cached per device).
inline int sm_count() {
  static int cached[64] = {};
  int device = 0;
  cudaGetDevice(&device);
  if (device < 0 || device >= 64) return 132;
  if (cached[device] == 0) {
    int n = 0;
    cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
    cached[device] = n > 0 ? n : 132;
  }
  return cached[device];
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// `count` elements of device scratch memory from the context's pool (see context.cuh), valid for
// work queued on ctx.stream during this call.
template <class T>
T* workspace(const Context& ctx, int64_t count) {
  if (!ctx.workspace) throw std::runtime_error("ember CUDA: this kernel needs a workspace allocator in its Context");
  return static_cast<T*>(ctx.workspace(static_cast<size_t>(count) * sizeof(T)));
}

constexpr int kBlock1d = 256;  // threads per block of the one-thread-per-element kernels

// Launches kernel<<<grid_for(n), kBlock1d>>>(args...) on the context's stream, for kernels that
// visit [0, n) with a grid-stride loop; nothing to do when n == 0.
template <class... Params, class... Args>
void launch_1d(const Context& ctx, const char* name, int64_t n, void (*kernel)(Params...), Args&&... args) {
  if (n <= 0) return;
  kernel<<<grid_for(n, kBlock1d), kBlock1d, 0, stream_of(ctx)>>>(std::forward<Args>(args)...);
  check_launch(name);
}

inline void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("ember CUDA ") + what + ": " + cudaGetErrorString(err));
}

// Copies one value from device memory to the host, waiting for ctx.stream to reach it. Used only
// where a binding's contract needs an answer on the host (validating user-supplied indices).
template <class T>
T read_back(const Context& ctx, const T* device_value, const char* what) {
  T host{};
  check_cuda(cudaMemcpyAsync(&host, device_value, sizeof(T), cudaMemcpyDeviceToHost, stream_of(ctx)), what);
  check_cuda(cudaStreamSynchronize(stream_of(ctx)), what);
  return host;
}

// ---- device building blocks ----------------------------------------------------------------

// Grid-stride loop: `for (int64_t i : grid_stride(n))` visits this thread's share of [0, n).
struct GridStride {
  int64_t first, n, step;
  struct Iter {
    int64_t i, step;
    __device__ int64_t operator*() const { return i; }
    __device__ Iter& operator++() {
      i += step;
      return *this;
    }
    __device__ bool operator!=(const Iter& end) const { return i < end.i; }
  };
  __device__ Iter begin() const { return {first, step}; }
  __device__ Iter end() const { return {n, 0}; }
};
__device__ __forceinline__ GridStride grid_stride(int64_t n) {
  return {blockIdx.x * int64_t(blockDim.x) + threadIdx.x, n, int64_t(gridDim.x) * blockDim.x};
}

// Typed math: the float overloads use the single-precision functions.
__device__ __forceinline__ float dev_exp(float x) { return expf(x); }
__device__ __forceinline__ double dev_exp(double x) { return exp(x); }
__device__ __forceinline__ float dev_log(float x) { return logf(x); }
__device__ __forceinline__ double dev_log(double x) { return log(x); }
__device__ __forceinline__ float dev_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double dev_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float dev_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double dev_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float dev_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double dev_tanh(double x) { return tanh(x); }
// Standard normal CDF, within 5 ulp over the whole range (no cancellation or argument
// rounding, unlike erfc(-x / sqrt 2) / 2 evaluated in the same precision).
__device__ __forceinline__ float dev_normcdf(float x) { return normcdff(x); }
__device__ __forceinline__ double dev_normcdf(double x) { return normcdf(x); }
template <class T>
__device__ __forceinline__ T dev_sigmoid(T x) { return T(1) / (T(1) + dev_exp(-x)); }

}  // namespace ember::cuda
