// Fused attention kernels; see attention.cuh for the algorithm.
#include <algorithm>
#include <type_traits>

#include "cuda/attention.cuh"
#include "cuda/check.cuh"
#include "cuda/reduce.cuh"

namespace ember::cuda {
namespace {

template <class T>
struct AttnArgs {
  int64_t B, Tq, Tk, D, Dv;
  const T* q;
  const T* k;
  const T* v;
  const T* mask;
  int64_t mask_stride;
  bool causal;
  T scale;
};

// ---- tiles -----------------------------------------------------------------------------------

// A kB x kB tile computed by (kB/4)^2 threads: thread (ty, tx) owns rows ty + (kB/4) i and
// columns tx + (kB/4) j, i, j < 4. The kB/4 threads sharing a row (a "row group") are
// consecutive lanes of one warp, so row reductions are warp shuffles.
template <int kB>
struct Tile {
  static constexpr int kLanes = kB / 4;
  static constexpr int kThreads = kLanes * kLanes;
  static_assert(32 % kLanes == 0, "a row group must fit in a warp");
  int ty, tx;
  __device__ Tile() : ty(threadIdx.x / kLanes), tx(threadIdx.x % kLanes) {}
  __device__ int row(int i) const { return ty + kLanes * i; }
  __device__ int col(int j) const { return tx + kLanes * j; }
};

template <int kLanes, class T>
__device__ __forceinline__ T group_max(T v) {
#pragma unroll
  for (int offset = kLanes / 2; offset > 0; offset >>= 1) v = fmax(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

template <int kLanes, class T>
__device__ __forceinline__ T group_sum(T v) {
#pragma unroll
  for (int offset = kLanes / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// acc[i][j] = sum_{k < K} a(t.row(i), k) * b(k, t.col(j)): a 4 x 4 register tile of a product of
// shared-memory operands, read through accessors (which encode layouts and transposes).
template <class T, int kB, class A, class Bop>
__device__ __forceinline__ void tile_product(T (&acc)[4][4], const Tile<kB>& t, int64_t K, A&& a, Bop&& b) {
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = T(0);
  for (int64_t k = 0; k < K; ++k) {
    T av[4], bv[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) av[i] = a(t.row(i), k);
#pragma unroll
    for (int j = 0; j < 4; ++j) bv[j] = b(k, t.col(j));
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
  }
}

// Row stride of a shared tile holding `d` features: d rounded up to whole kB-column chunks
// (zero padded, so column-chunk loops need no bounds) plus one, an odd stride that keeps
// column walks (b(k, j) = tile[j][k]) free of bank conflicts.
inline __host__ __device__ int tile_ld(int64_t d, int kB) { return int((d + kB - 1) / kB * kB + 1); }

// Copies `rows` rows of `cols` values (row-major, row stride `cols`) into a kB-row shared tile
// with row stride ld, zero-filling the other rows and the padding columns.
template <class T>
__device__ void load_tile(T* s, int ld, int kB, const T* g, int64_t rows, int64_t cols) {
  const int width = ld - 1;
  for (int e = threadIdx.x; e < kB * width; e += blockDim.x) {
    const int r = e / width, c = e % width;
    s[r * ld + c] = (r < rows && c < cols) ? g[r * cols + c] : T(0);
  }
}

template <class T>
__device__ void zero_tile(T* s, int ld, int kB) {
  for (int e = threadIdx.x; e < kB * ld; e += blockDim.x) s[e] = T(0);
}

// For each kB-column chunk c0 of a shared tile `dst` (row stride ld, ld - 1 padded columns):
// update(dst[row(i)][c0 + col(j)], i, v) with v the 4 x 4 product over K of a(r, k) and
// b(k, c0 + c). Each thread updates only the elements of its own patch.
template <class T, int kB, class A, class Bop, class Update>
__device__ __forceinline__ void update_tile_products(T* dst, int ld, const Tile<kB>& t, int64_t K, A&& a, Bop&& b,
                                                     Update&& update) {
  for (int c0 = 0; c0 < ld - 1; c0 += kB) {
    T acc[4][4];
    tile_product(acc, t, K, a, [&](int64_t k, int c) { return b(k, c0 + c); });
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) update(dst[t.row(i) * ld + c0 + t.col(j)], i, acc[i][j]);
  }
}

// The same, adding the products to dst (the backward's dK, dV and dQ accumulators).
template <class T, int kB, class A, class Bop>
__device__ __forceinline__ void add_tile_products(T* dst, int ld, const Tile<kB>& t, int64_t K, A&& a, Bop&& b) {
  update_tile_products(dst, ld, t, K, a, b, [](T& d, int, T v) { d += v; });
}

// Copies the first `rows` rows of `cols` values of a shared tile (row stride ld) to global
// memory (row stride cols), times `factor`.
template <class T>
__device__ void store_tile(T* g, const T* s, int ld, int64_t rows, int64_t cols, T factor) {
  for (int64_t e = threadIdx.x; e < rows * cols; e += blockDim.x) g[e] = factor * s[(e / cols) * ld + e % cols];
}

// s = scale * (q_i . k_j) + mask_ij for a key the query may see, -inf otherwise.
template <class T>
__device__ __forceinline__ T score(const AttnArgs<T>& p, int64_t b, int64_t i, int64_t j, T dot) {
  if (i >= p.Tq || j >= p.Tk || (p.causal && j > i)) return T(-INFINITY);
  const T s = p.scale * dot;
  return p.mask ? s + p.mask[b * p.mask_stride + i * p.Tk + j] : s;
}

// Key tile j0 of batch b: its K and V rows into Ks and Vs.
template <class T>
__device__ void load_key_tiles(const AttnArgs<T>& p, int kB, int64_t b, int64_t j0, T* Ks, int ldq, T* Vs, int ldv) {
  const int64_t rows = min(int64_t(kB), p.Tk - j0);
  load_tile(Ks, ldq, kB, p.k + (b * p.Tk + j0) * p.D, rows, p.D);
  load_tile(Vs, ldv, kB, p.v + (b * p.Tk + j0) * p.Dv, rows, p.Dv);
}

// Query tile i0 of batch b for the backward: its Q and grad_out rows into Qs and dOs.
template <class T>
__device__ void load_query_tiles(const AttnArgs<T>& p, const T* grad_out, int kB, int64_t b, int64_t i0, T* Qs,
                                 int ldq, T* dOs, int ldv) {
  const int64_t rows = min(int64_t(kB), p.Tq - i0);
  load_tile(Qs, ldq, kB, p.q + (b * p.Tq + i0) * p.D, rows, p.D);
  load_tile(dOs, ldv, kB, grad_out + (b * p.Tq + i0) * p.Dv, rows, p.Dv);
}

// Shared memory of a kernel: consecutive kB-row tiles of the given row strides.
template <class T, int kN>
struct SharedTiles {
  T* tile[kN];
  __device__ SharedTiles(unsigned char* raw, int kB, const int (&ld)[kN]) {
    T* p = reinterpret_cast<T*>(raw);
    for (int n = 0; n < kN; ++n) {
      tile[n] = p;
      p += kB * ld[n];
    }
  }
};

template <int kN>
size_t shared_bytes(size_t elem, int kB, const int (&ld)[kN]) {
  size_t total = 0;
  for (int n = 0; n < kN; ++n) total += size_t(kB) * ld[n] * elem;
  return total;
}

// ---- forward ---------------------------------------------------------------------------------

template <class T, int kB>
__global__ void __launch_bounds__(Tile<kB>::kThreads) scaled_dot_product_attention_forward_kernel(AttnArgs<T> p, T* __restrict__ out,
                                                                        T* __restrict__ lse) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int ldq = tile_ld(p.D, kB), ldv = tile_ld(p.Dv, kB), ldp = kB + 1;
  const SharedTiles<T, 5> sh(smem, kB, {ldq, ldq, ldv, ldp, ldv});
  T *Qs = sh.tile[0], *Ks = sh.tile[1], *Vs = sh.tile[2], *Ps = sh.tile[3], *Os = sh.tile[4];
  const Tile<kB> t;
  const int64_t q_tiles = (p.Tq + kB - 1) / kB;

  for (int64_t task = blockIdx.x; task < p.B * q_tiles; task += gridDim.x) {
    const int64_t b = task / q_tiles, i0 = (task % q_tiles) * kB;
    __syncthreads();  // the previous task is done with every tile
    load_tile(Qs, ldq, kB, p.q + (b * p.Tq + i0) * p.D, min(int64_t(kB), p.Tq - i0), p.D);
    zero_tile(Os, ldv, kB);
    T m[4], l[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      m[i] = T(-INFINITY);
      l[i] = T(0);
    }
    const int64_t keys = p.causal ? min(p.Tk, i0 + kB) : p.Tk;  // causal: later key tiles are all hidden
    for (int64_t j0 = 0; j0 < keys; j0 += kB) {
      __syncthreads();  // Ks, Vs, Ps free again
      load_key_tiles(p, kB, b, j0, Ks, ldq, Vs, ldv);
      __syncthreads();
      T s[4][4];
      tile_product(s, t, p.D, [&](int r, int64_t d) { return Qs[r * ldq + d]; },
                   [&](int64_t d, int c) { return Ks[c * ldq + d]; });
      T alpha[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        T mx = m[i];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          s[i][j] = score(p, b, i0 + t.row(i), j0 + t.col(j), s[i][j]);
          mx = fmax(mx, s[i][j]);
        }
        mx = group_max<Tile<kB>::kLanes>(mx);
        // A row with nothing visible so far keeps p = 0 and its accumulator as is.
        const bool seen = mx != T(-INFINITY);
        alpha[i] = seen ? dev_exp(m[i] - mx) : T(1);
        T sum = T(0);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const T e = seen ? dev_exp(s[i][j] - mx) : T(0);
          Ps[t.row(i) * ldp + t.col(j)] = e;
          sum += e;
        }
        l[i] = l[i] * alpha[i] + group_sum<Tile<kB>::kLanes>(sum);
        if (seen) m[i] = mx;
      }
      __syncthreads();
      // O = alpha * O + P V
      update_tile_products(
          Os, ldv, t, kB, [&](int r, int64_t j) { return Ps[r * ldp + j]; },
          [&](int64_t j, int c) { return Vs[j * ldv + c]; },
          [&](T& acc, int i, T pv) { acc = acc * alpha[i] + pv; });
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t row = i0 + t.row(i);
      if (row >= p.Tq) continue;
      const bool seen = l[i] > T(0);  // a row that saw no key outputs 0 with lse = -inf
      const T inv = seen ? T(1) / l[i] : T(0);
      if (t.tx == 0) lse[b * p.Tq + row] = seen ? m[i] + dev_log(l[i]) : T(-INFINITY);
      for (int c0 = 0; c0 < ldv - 1; c0 += kB)
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const int c = c0 + t.col(j);
          if (c < p.Dv) out[(b * p.Tq + row) * p.Dv + c] = Os[t.row(i) * ldv + c] * inv;
        }
    }
  }
}

// ---- backward --------------------------------------------------------------------------------

// Delta_i = sum_d grad_out_id * out_id, one warp per row.
template <class T>
__global__ void scaled_dot_product_attention_delta_kernel(int64_t rows, int64_t Dv, const T* __restrict__ grad_out, const T* __restrict__ out,
                                  T* __restrict__ delta) {
  for_each_row<32>(rows, [&](int64_t row, int lane) {
    T s = T(0);
    for (int64_t d = lane; d < Dv; d += 32) s += grad_out[row * Dv + d] * out[row * Dv + d];
    s = row_sum<32>(s, static_cast<T*>(nullptr));
    if (lane == 0) delta[row] = s;
  });
}

// P and dS of the (query tile i0, key tile j0) pair from the tiles in shared memory:
// p_ij = exp(s_ij - lse_i) (0 where hidden or for a row that saw no key), dS = P * (dP - Delta).
template <class T, int kB>
__device__ __forceinline__ void probabilities(const AttnArgs<T>& p, const Tile<kB>& t, int64_t b, int64_t i0,
                                              int64_t j0, const T* Qs, const T* dOs, const T* Ks, const T* Vs,
                                              int ldq, int ldv, const T* lse, const T* delta, T (&P)[4][4],
                                              T (&dS)[4][4]) {
  T dP[4][4];
  tile_product(P, t, p.D, [&](int r, int64_t d) { return Qs[r * ldq + d]; },
               [&](int64_t d, int c) { return Ks[c * ldq + d]; });
  tile_product(dP, t, p.Dv, [&](int r, int64_t d) { return dOs[r * ldv + d]; },
               [&](int64_t d, int c) { return Vs[c * ldv + d]; });
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t row = i0 + t.row(i);
    const T l = row < p.Tq ? lse[b * p.Tq + row] : T(-INFINITY);
    const T di = row < p.Tq ? delta[b * p.Tq + row] : T(0);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const T s = score(p, b, row, j0 + t.col(j), P[i][j]);
      P[i][j] = (l == T(-INFINITY) || s == T(-INFINITY)) ? T(0) : dev_exp(s - l);
      dS[i][j] = P[i][j] * (dP[i][j] - di);
    }
  }
}

// grad_k, grad_v of key tile j0 of batch b: dV = sum over query tiles of P^T dO, dK = scale * dS^T Q.
template <class T, int kB>
__global__ void __launch_bounds__(Tile<kB>::kThreads)
    scaled_dot_product_attention_backward_kv_kernel(AttnArgs<T> p, const T* __restrict__ grad_out, const T* __restrict__ lse,
                            const T* __restrict__ delta, T* __restrict__ grad_k, T* __restrict__ grad_v) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int ldq = tile_ld(p.D, kB), ldv = tile_ld(p.Dv, kB), ldp = kB + 1;
  const SharedTiles<T, 8> sh(smem, kB, {ldq, ldv, ldq, ldv, ldp, ldp, ldq, ldv});
  T *Ks = sh.tile[0], *Vs = sh.tile[1], *Qs = sh.tile[2], *dOs = sh.tile[3], *Ps = sh.tile[4], *dSs = sh.tile[5],
    *dK = sh.tile[6], *dV = sh.tile[7];
  const Tile<kB> t;
  const int64_t k_tiles = (p.Tk + kB - 1) / kB;

  for (int64_t task = blockIdx.x; task < p.B * k_tiles; task += gridDim.x) {
    const int64_t b = task / k_tiles, j0 = (task % k_tiles) * kB, nk = min(int64_t(kB), p.Tk - j0);
    __syncthreads();
    load_key_tiles(p, kB, b, j0, Ks, ldq, Vs, ldv);
    zero_tile(dK, ldq, kB);
    zero_tile(dV, ldv, kB);
    // Causal: queries before j0 see none of these keys.
    for (int64_t i0 = p.causal ? j0 : 0; i0 < p.Tq; i0 += kB) {
      __syncthreads();
      load_query_tiles(p, grad_out, kB, b, i0, Qs, ldq, dOs, ldv);
      __syncthreads();
      T P[4][4], dS[4][4];
      probabilities(p, t, b, i0, j0, Qs, dOs, Ks, Vs, ldq, ldv, lse, delta, P, dS);
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          Ps[t.row(i) * ldp + t.col(j)] = P[i][j];
          dSs[t.row(i) * ldp + t.col(j)] = dS[i][j];
        }
      __syncthreads();
      // Output rows are keys here: row(i) indexes the key tile, k runs over the query tile.
      add_tile_products(
          dV, ldv, t, kB, [&](int key, int64_t r) { return Ps[r * ldp + key]; },
          [&](int64_t r, int c) { return dOs[r * ldv + c]; });
      add_tile_products(
          dK, ldq, t, kB, [&](int key, int64_t r) { return dSs[r * ldp + key]; },
          [&](int64_t r, int c) { return Qs[r * ldq + c]; });
    }
    __syncthreads();  // written by their owners, read below by any thread
    store_tile(grad_k + (b * p.Tk + j0) * p.D, dK, ldq, nk, p.D, p.scale);
    store_tile(grad_v + (b * p.Tk + j0) * p.Dv, dV, ldv, nk, p.Dv, T(1));
  }
}

// grad_q of query tile i0 of batch b: scale * sum over key tiles of dS K.
template <class T, int kB>
__global__ void __launch_bounds__(Tile<kB>::kThreads)
    scaled_dot_product_attention_backward_q_kernel(AttnArgs<T> p, const T* __restrict__ grad_out, const T* __restrict__ lse,
                           const T* __restrict__ delta, T* __restrict__ grad_q) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int ldq = tile_ld(p.D, kB), ldv = tile_ld(p.Dv, kB), ldp = kB + 1;
  const SharedTiles<T, 6> sh(smem, kB, {ldq, ldv, ldq, ldv, ldp, ldq});
  T *Qs = sh.tile[0], *dOs = sh.tile[1], *Ks = sh.tile[2], *Vs = sh.tile[3], *dSs = sh.tile[4], *dQ = sh.tile[5];
  const Tile<kB> t;
  const int64_t q_tiles = (p.Tq + kB - 1) / kB;

  for (int64_t task = blockIdx.x; task < p.B * q_tiles; task += gridDim.x) {
    const int64_t b = task / q_tiles, i0 = (task % q_tiles) * kB, nq = min(int64_t(kB), p.Tq - i0);
    __syncthreads();
    load_query_tiles(p, grad_out, kB, b, i0, Qs, ldq, dOs, ldv);
    zero_tile(dQ, ldq, kB);
    const int64_t keys = p.causal ? min(p.Tk, i0 + kB) : p.Tk;
    for (int64_t j0 = 0; j0 < keys; j0 += kB) {
      __syncthreads();
      load_key_tiles(p, kB, b, j0, Ks, ldq, Vs, ldv);
      __syncthreads();
      T P[4][4], dS[4][4];
      probabilities(p, t, b, i0, j0, Qs, dOs, Ks, Vs, ldq, ldv, lse, delta, P, dS);
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) dSs[t.row(i) * ldp + t.col(j)] = dS[i][j];
      __syncthreads();
      add_tile_products(
          dQ, ldq, t, kB, [&](int r, int64_t j) { return dSs[r * ldp + j]; },
          [&](int64_t j, int c) { return Ks[j * ldq + c]; });
    }
    __syncthreads();
    store_tile(grad_q + (b * p.Tq + i0) * p.D, dQ, ldq, nq, p.D, p.scale);
  }
}

// ---- host side ------------------------------------------------------------------------------

// Largest dynamic shared memory per block on the current device (cached per device).
int max_shared_bytes() {
  static int cached[64] = {};
  int device = 0;
  cudaGetDevice(&device);
  if (device < 0 || device >= 64) return 48 << 10;
  if (cached[device] == 0) {
    int n = 0;
    cudaDeviceGetAttribute(&n, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    cached[device] = n > 0 ? n : 48 << 10;
  }
  return cached[device];
}

// Shared bytes of each kernel for tile size kB: forward (Q, K, V, P, O), backward dK/dV
// (K, V, Q, dO, P, dS, dK, dV), backward dQ (Q, dO, K, V, dS, dQ).
template <class T>
size_t forward_bytes(int kB, int64_t D, int64_t Dv) {
  const int ldq = tile_ld(D, kB), ldv = tile_ld(Dv, kB);
  return shared_bytes<5>(sizeof(T), kB, {ldq, ldq, ldv, kB + 1, ldv});
}
template <class T>
size_t backward_kv_bytes(int kB, int64_t D, int64_t Dv) {
  const int ldq = tile_ld(D, kB), ldv = tile_ld(Dv, kB);
  return shared_bytes<8>(sizeof(T), kB, {ldq, ldv, ldq, ldv, kB + 1, kB + 1, ldq, ldv});
}
template <class T>
size_t backward_q_bytes(int kB, int64_t D, int64_t Dv) {
  const int ldq = tile_ld(D, kB), ldv = tile_ld(Dv, kB);
  return shared_bytes<6>(sizeof(T), kB, {ldq, ldv, ldq, ldv, kB + 1, ldq});
}

// kB = 64 unless its tiles do not fit in shared memory or the query side is short; 0 if even
// kB = 32 does not fit.
int choose_tile(int64_t T_short, size_t bytes64, size_t bytes32) {
  const size_t limit = size_t(max_shared_bytes());
  if (bytes64 <= limit && T_short > 32) return 64;
  return bytes32 <= limit ? 32 : 0;
}

// Launches `kernel` with `bytes` of dynamic shared memory over `tasks` tiles.
template <class Kernel, class... Args>
void launch_tiles(const Context& ctx, const char* name, Kernel kernel, int threads, size_t bytes, int64_t tasks,
                  Args... args) {
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)), name);
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(tasks, int64_t(1) << 20));
  kernel<<<grid, threads, bytes, stream_of(ctx)>>>(args...);
  check_launch(name);
}

[[noreturn]] void head_dim_too_large(const char* name, int64_t D, int64_t Dv) {
  throw std::runtime_error(std::string("ember CUDA ") + name + ": head dimensions D=" + std::to_string(D) +
                           ", Dv=" + std::to_string(Dv) + " need more shared memory than the device has");
}

// Launches the kB = 64 or the kB = 32 instance of a tile kernel, as choose_tile picks from
// bytes(kB), its shared memory, over B * ceil(rows / kB) tiles, rows being the side the kernel
// tiles (Tq or Tk); kernel_of(integral_constant<int, kB>) names the instance. Raises (naming
// `op`) when neither fits.
template <class Bytes, class KernelOf, class... Args>
void launch_attention_tiles(const Context& ctx, const char* op, const char* name, int64_t B, int64_t rows,
                            int64_t D, int64_t Dv, Bytes bytes, KernelOf kernel_of, Args... args) {
  const size_t bytes64 = bytes(64), bytes32 = bytes(32);
  switch (choose_tile(rows, bytes64, bytes32)) {
    case 64:
      launch_tiles(ctx, name, kernel_of(std::integral_constant<int, 64>{}), Tile<64>::kThreads, bytes64,
                   B * ((rows + 63) / 64), args...);
      break;
    case 32:
      launch_tiles(ctx, name, kernel_of(std::integral_constant<int, 32>{}), Tile<32>::kThreads, bytes32,
                   B * ((rows + 31) / 32), args...);
      break;
    default: head_dim_too_large(op, D, Dv);
  }
}

}  // namespace

template <class T>
void scaled_dot_product_attention_forward(const Context& ctx, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv, const T* q, const T* k,
                  const T* v, const T* mask, int64_t mask_batch_stride, bool is_causal, double scale, T* out, T* lse) {
  if (B * Tq == 0) return;
  const AttnArgs<T> p{B, Tq, Tk, D, Dv, q, k, v, mask, mask_batch_stride, is_causal, T(scale)};
  launch_attention_tiles(
      ctx, "scaled_dot_product_attention_forward", "scaled_dot_product_attention_forward", B, Tq, D, Dv,
      [&](int kB) { return forward_bytes<T>(kB, D, Dv); },
      [](auto kB) { return scaled_dot_product_attention_forward_kernel<T, decltype(kB)::value>; }, p, out, lse);
}

template <class T>
void scaled_dot_product_attention_backward(const Context& ctx, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv, const T* grad_out,
                   const T* q, const T* k, const T* v, const T* mask, int64_t mask_batch_stride, bool is_causal,
                   double scale, const T* out, const T* lse, T* grad_q, T* grad_k, T* grad_v) {
  const AttnArgs<T> p{B, Tq, Tk, D, Dv, q, k, v, mask, mask_batch_stride, is_causal, T(scale)};
  T* delta = workspace<T>(ctx, std::max<int64_t>(B * Tq, 1));
  if (B * Tq > 0) {
    scaled_dot_product_attention_delta_kernel<<<grid_for(B * Tq, kBlock1d / 32), kBlock1d, 0, stream_of(ctx)>>>(B * Tq, Dv, grad_out, out,
                                                                                       delta);
    check_launch("scaled_dot_product_attention_backward (delta)");
  }
  if (B * Tk > 0)
    launch_attention_tiles(
        ctx, "scaled_dot_product_attention_backward", "scaled_dot_product_attention_backward (grad_k, grad_v)", B,
        Tk, D, Dv, [&](int kB) { return backward_kv_bytes<T>(kB, D, Dv); },
        [](auto kB) { return scaled_dot_product_attention_backward_kv_kernel<T, decltype(kB)::value>; }, p,
        grad_out, lse, delta, grad_k, grad_v);
  if (B * Tq > 0)
    launch_attention_tiles(
        ctx, "scaled_dot_product_attention_backward", "scaled_dot_product_attention_backward (grad_q)", B, Tq, D,
        Dv, [&](int kB) { return backward_q_bytes<T>(kB, D, Dv); },
        [](auto kB) { return scaled_dot_product_attention_backward_q_kernel<T, decltype(kB)::value>; }, p,
        grad_out, lse, delta, grad_q);
}

#define EMBER_CUDA_INSTANTIATE_ATTENTION(T)                                                                       \
  template void scaled_dot_product_attention_forward<T>(const Context&, int64_t, int64_t, int64_t, int64_t, int64_t, const T*, const T*,  \
                                const T*, const T*, int64_t, bool, double, T*, T*);                               \
  template void scaled_dot_product_attention_backward<T>(const Context&, int64_t, int64_t, int64_t, int64_t, int64_t, const T*, const T*, \
                                 const T*, const T*, const T*, int64_t, bool, double, const T*, const T*, T*, T*, \
                                 T*);

EMBER_CUDA_INSTANTIATE_ATTENTION(float)
EMBER_CUDA_INSTANTIATE_ATTENTION(double)
#undef EMBER_CUDA_INSTANTIATE_ATTENTION

}  // namespace ember::cuda
