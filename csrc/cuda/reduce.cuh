// Reductions across the threads of a warp or a block, for any small trivially-copyable value
// with a merge function (a sum, a Welford triple, a running max and sum of exponentials), and
// the row-kernel pattern built on them: each row of a (rows, len) problem goes to one warp when
// it is short and to one whole block when it is long.
// Every reduction is a fixed tree (lane i merges lane i + offset, then the warps' results in
// order), so results are deterministic, and lane 0's result is broadcast so that every thread
// continues with the same bits.
#pragma once
#include <type_traits>

#include "cuda/check.cuh"

namespace ember::cuda {

constexpr unsigned kFullMask = 0xffffffffu;

// Shuffles a value of any trivially copyable type, 32 bits at a time: shuffle(word) is the
// warp shuffle applied to each word.
template <class V, class Shuffle>
__device__ __forceinline__ V shfl_words(const V& v, Shuffle&& shuffle) {
  static_assert(sizeof(V) % 4 == 0 && std::is_trivially_copyable_v<V>, "shuffle needs whole 32-bit words");
  V r;
  const int* src = reinterpret_cast<const int*>(&v);
  int* dst = reinterpret_cast<int*>(&r);
#pragma unroll
  for (int i = 0; i < int(sizeof(V) / 4); ++i) dst[i] = shuffle(src[i]);
  return r;
}

template <class V>
__device__ __forceinline__ V shfl_down_any(const V& v, int offset) {
  return shfl_words(v, [offset](int word) { return __shfl_down_sync(kFullMask, word, offset); });
}

template <class V>
__device__ __forceinline__ V shfl_any(const V& v, int lane) {
  return shfl_words(v, [lane](int word) { return __shfl_sync(kFullMask, word, lane); });
}

// merge(a, b) over the 32 lanes of the warp; every lane gets the result.
template <class V, class Merge>
__device__ __forceinline__ V warp_reduce(V v, Merge&& merge) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = merge(v, shfl_down_any(v, offset));
  return shfl_any(v, 0);
}

// merge over the whole block (blockDim.x a multiple of 32); `scratch` is 32 values of shared
// memory, free again when the function returns. `identity` fills the unused warp slots.
template <class V, class Merge>
__device__ V block_reduce(V v, Merge&& merge, V identity, V* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_reduce(v, merge);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    V w = lane < warps ? scratch[lane] : identity;
    w = warp_reduce(w, merge);
    if (lane == 0) scratch[0] = w;
  }
  __syncthreads();
  const V result = scratch[0];
  __syncthreads();
  return result;
}

struct Plus {
  template <class V>
  __device__ V operator()(V a, V b) const { return a + b; }
};

template <class V>
__device__ __forceinline__ V block_sum(V v, V* scratch) { return block_reduce(v, Plus{}, V(0), scratch); }

// ---- row kernels -------------------------------------------------------------------------------

// A row kernel runs kBlock1d threads per block and gives each row kRowThreads of them: 32 (a
// warp per row, kBlock1d / 32 rows per block) or kBlock1d (a block per row).
template <int kRowThreads, class V, class Merge>
__device__ __forceinline__ V row_reduce(V v, Merge&& merge, V identity, V* scratch) {
  if constexpr (kRowThreads == 32) return warp_reduce(v, merge);
  else return block_reduce(v, merge, identity, scratch);
}

template <int kRowThreads, class V>
__device__ __forceinline__ V row_sum(V v, V* scratch) { return row_reduce<kRowThreads>(v, Plus{}, V(0), scratch); }

// Grid-stride loop over the rows, calling f(row, lane) with lane in [0, kRowThreads). With a
// block per row every thread of a block visits the same rows, so f may use block barriers.
template <int kRowThreads, class F>
__device__ __forceinline__ void for_each_row(int64_t rows, F&& f) {
  constexpr int kRowsPerBlock = kBlock1d / kRowThreads;
  const int lane = threadIdx.x % kRowThreads;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kRowThreads; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock)
    f(row, lane);
}

// Rows up to this length go to a warp, longer ones to a block.
constexpr int64_t kWarpRowMax = 1024;

// Calls launch(integral_constant<int, kRowThreads>, grid) for `rows` rows of `len` values.
template <class Launch>
void launch_rows(int64_t rows, int64_t len, Launch&& launch) {
  if (rows == 0) return;
  if (len <= kWarpRowMax) launch(std::integral_constant<int, 32>{}, grid_for(rows, kBlock1d / 32));
  else launch(std::integral_constant<int, kBlock1d>{}, grid_for(rows, 1));
}

}  // namespace ember::cuda
