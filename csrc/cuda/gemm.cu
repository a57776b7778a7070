// GEMM kernels. Two kernels share one main loop:
//   gemm_simt_kernel: CUDA cores, float (128x128 or 64x64 block tiles, 8x8 per thread) and
//                     double (64x64 block tiles, 4x4 per thread);
//   gemm_tf32_kernel: tensor cores, mma.sync m16n8k8 TF32 with float32 accumulation.
// The main loop stages tiles of op(A) and op(B) in shared memory k-major ([k][m] and [k][n]),
// double-buffered: the next tile is read from global memory into registers while the current
// one is multiplied, then stored to the other buffer, with one barrier per k-step.
#include <algorithm>
#include <type_traits>

#include "cuda/check.cuh"
#include "cuda/gemm.cuh"

namespace ember::cuda {
namespace {

template <class T> struct Vec16;  // the 16-byte vector of T
template <> struct Vec16<float> { using type = float4; };
template <> struct Vec16<double> { using type = double2; };

template <class T>
struct GemmArgs {
  int64_t batch, M, N, K;
  T alpha, beta;
  const T* A; int64_t lda, stride_a;
  const T* B; int64_t ldb, stride_b;
  T* C; int64_t ldc, stride_c;
  Epilogue<T> ep;
  bool vec_a, vec_b, vec_c;  // 16-byte accesses are legal (aligned base, ld and stride)
  // Split-K: grid z-slice s reduces k in [s * k_chunk, (s + 1) * k_chunk) into C + s * slice_stride.
  int64_t k_chunk, slice_stride;
};

// One output tile: the batch item's matrices, the tile's corner and its range of k.
template <class T>
struct TileJob {
  const T* A;
  const T* B;
  T* C;
  int64_t m0, n0, k_begin, k_end;
};

template <class T>
__device__ __forceinline__ T activate(T v, Activation act) {
  if (act == Activation::relu) return v > T(0) ? v : T(0);
  if (act == Activation::gelu) return v * dev_normcdf(v);  // exact GELU, no cancellation for v < 0
  return v;
}

// The value stored at C[i, j] for the accumulated dot product `acc`; C is read only if beta != 0.
template <class T>
__device__ __forceinline__ T epilogue_value(const GemmArgs<T>& g, T acc, const T* c, int64_t i, int64_t j) {
  T v = g.alpha * acc;
  if (g.beta != T(0)) v += g.beta * *c;
  if (g.ep.bias) v += g.ep.bias[g.ep.bias_per_row ? i : j];
  return activate(v, g.ep.activation);
}

// ---- global -> registers -> shared memory ---------------------------------------------------

// A ROWS x COLS tile of a row-major matrix (rows contiguous), read by THREADS threads in
// 16-byte chunks. A chunk wholly inside the matrix is one vector load when `vec` allows it;
// chunks crossing the matrix edge (or unaligned matrices) use scalar loads, zero outside.
template <class T, int ROWS, int COLS, int THREADS>
struct TileLoader {
  using V = typename Vec16<T>::type;
  static constexpr int kVec = 16 / sizeof(T);
  static constexpr int kChunksPerRow = COLS / kVec;
  static constexpr int kPerThread = ROWS * kChunksPerRow / THREADS;
  static_assert(COLS % kVec == 0 && (ROWS * kChunksPerRow) % THREADS == 0, "tile must split evenly");
  V v[kPerThread];

  __device__ __forceinline__ void load(const T* tile, int64_t ld, int64_t rows_left, int64_t cols_left,
                                       bool vec) {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int chunk = threadIdx.x + i * THREADS;
      const int r = chunk / kChunksPerRow, c = (chunk % kChunksPerRow) * kVec;
      const T* p = tile + r * ld + c;
      if (vec && r < rows_left && c + kVec <= cols_left) {
        v[i] = __ldg(reinterpret_cast<const V*>(p));
      } else {
        T* e = reinterpret_cast<T*>(&v[i]);
#pragma unroll
        for (int q = 0; q < kVec; ++q) e[q] = (r < rows_left && c + q < cols_left) ? __ldg(p + q) : T(0);
      }
    }
  }

  // Into shared memory holding the tile as [ROWS][lds], or transposed as [COLS][lds].
  template <bool kTranspose>
  __device__ __forceinline__ void store(T* s, int lds) const {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int chunk = threadIdx.x + i * THREADS;
      const int r = chunk / kChunksPerRow, c = (chunk % kChunksPerRow) * kVec;
      if constexpr (kTranspose) {
        const T* e = reinterpret_cast<const T*>(&v[i]);
#pragma unroll
        for (int q = 0; q < kVec; ++q) s[(c + q) * lds + r] = e[q];
      } else {
        *reinterpret_cast<V*>(s + r * lds + c) = v[i];
      }
    }
  }
};

// A BMN x BK tile of op(A) (MN = M) or of op(B)^T (MN = N), kept k-major in shared memory so
// that a thread reads consecutive m (or n) values in one vector load. The operand X is stored
// MN x K (kKRows = false: transposed on its way into shared memory) or K x MN (kKRows = true).
template <class T, int BMN, int BK, int THREADS, bool kKRows>
struct OperandTile {
  TileLoader<T, kKRows ? BK : BMN, kKRows ? BMN : BK, THREADS> regs;

  __device__ __forceinline__ void load(const T* X, int64_t ld, int64_t MN, int64_t K, int64_t mn0, int64_t k0,
                                       bool vec) {
    if constexpr (kKRows) regs.load(X + k0 * ld + mn0, ld, K - k0, MN - mn0, vec);
    else regs.load(X + mn0 * ld + k0, ld, MN - mn0, K - k0, vec);
  }
  __device__ __forceinline__ void store(T* s, int lds) const { regs.template store<!kKRows>(s, lds); }
};

// Shared-memory staging for one block: two buffers of op(A) and op(B) tiles, k-major. kPad
// extra columns per row keep the transposing stores and the fragment reads free of bank conflicts.
template <class T, int BM, int BN, int BK, int kPad>
struct GemmSmem {
  static constexpr int kLdA = BM + kPad, kLdB = BN + kPad;
  alignas(16) T a[2][BK][kLdA];
  alignas(16) T b[2][BK][kLdB];
};

// The main loop for one output tile: for each k-step, calls compute(a_tile, b_tile) on the
// shared-memory tiles ([BK][kLdA] and [BK][kLdB]).
template <class T, int BM, int BN, int BK, int kPad, int THREADS, bool kTransA, bool kTransB, class Compute>
__device__ __forceinline__ void k_loop(const GemmArgs<T>& g, const TileJob<T>& job,
                                       GemmSmem<T, BM, BN, BK, kPad>& sm, Compute&& compute) {
  using Smem = GemmSmem<T, BM, BN, BK, kPad>;
  OperandTile<T, BM, BK, THREADS, kTransA> a;    // A is K x M when transposed
  OperandTile<T, BN, BK, THREADS, !kTransB> b;   // B is K x N unless transposed
  const int64_t k_tiles = (job.k_end - job.k_begin + BK - 1) / BK;
  a.load(job.A, g.lda, g.M, job.k_end, job.m0, job.k_begin, g.vec_a);
  b.load(job.B, g.ldb, g.N, job.k_end, job.n0, job.k_begin, g.vec_b);
  a.store(&sm.a[0][0][0], Smem::kLdA);
  b.store(&sm.b[0][0][0], Smem::kLdB);
  __syncthreads();
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < k_tiles;
    if (more) {  // issue the next tile's global loads before computing on this one
      const int64_t k0 = job.k_begin + (kt + 1) * BK;
      a.load(job.A, g.lda, g.M, job.k_end, job.m0, k0, g.vec_a);
      b.load(job.B, g.ldb, g.N, job.k_end, job.n0, k0, g.vec_b);
    }
    compute(&sm.a[cur][0][0], &sm.b[cur][0][0]);
    if (more) {
      a.store(&sm.a[cur ^ 1][0][0], Smem::kLdA);
      b.store(&sm.b[cur ^ 1][0][0], Smem::kLdB);
    }
    __syncthreads();
  }
}

// Output tiles in groups of 8 tile-rows, so that blocks running together share A and B tiles in L2.
__device__ __forceinline__ void tile_coords(int64_t t, int64_t tiles_m, int64_t tiles_n, int64_t& tm, int64_t& tn) {
  constexpr int64_t kGroup = 8;
  const int64_t per_group = kGroup * tiles_n;
  const int64_t first_m = (t / per_group) * kGroup;
  const int64_t rows = min(tiles_m - first_m, kGroup);
  const int64_t in_group = t % per_group;
  tm = first_m + in_group % rows;
  tn = in_group / rows;
}

// Grid: x walks the output tiles, y the batch (both loop when the problem exceeds the grid),
// z the slices of k.
template <class T, int BM, int BN, class Tile>
__device__ __forceinline__ void for_each_tile(const GemmArgs<T>& g, Tile&& tile) {
  const int64_t tiles_m = (g.M + BM - 1) / BM, tiles_n = (g.N + BN - 1) / BN;
  const int64_t k_begin = blockIdx.z * g.k_chunk, k_end = min(g.K, k_begin + g.k_chunk);
  T* C = g.C + blockIdx.z * g.slice_stride;
  for (int64_t b = blockIdx.y; b < g.batch; b += gridDim.y) {
    for (int64_t t = blockIdx.x; t < tiles_m * tiles_n; t += gridDim.x) {
      int64_t tm, tn;
      tile_coords(t, tiles_m, tiles_n, tm, tn);
      tile(TileJob<T>{g.A + b * g.stride_a, g.B + b * g.stride_b, C + b * g.stride_c, tm * BM, tn * BN, k_begin,
                      k_end});
    }
  }
}

// ---- SIMT kernel ----------------------------------------------------------------------------

// Thread layout: each warp is 4 x 8 lanes; a lane owns GM x GN sub-tiles of 4 x 4 outputs,
// spaced 16 rows and 32 columns apart, so a warp tile is (16 GM) x (32 GN) and the lanes of a
// warp read 8 consecutive 16-byte chunks of a B row (no bank conflicts) and broadcast A values.
template <int BM, int BN, int GM, int GN>
struct SimtShape {
  static constexpr int kWarpM = 16 * GM, kWarpN = 32 * GN;
  static constexpr int kWarpsM = BM / kWarpM, kWarpsN = BN / kWarpN;
  static constexpr int kThreads = 32 * kWarpsM * kWarpsN;
  // Two resident blocks per SM for the 256-thread tiles: one block's barrier wait is covered by
  // the other's math (caps registers at 128 per thread).
  static constexpr int kMinBlocks = kThreads >= 256 ? 2 : 1;
  static_assert(BM % kWarpM == 0 && BN % kWarpN == 0, "block tile must be whole warp tiles");
};

// Copies 4 consecutive values with 16-byte accesses (both pointers 16-byte aligned).
template <class T>
__device__ __forceinline__ void copy4(const T* src, T* dst) {
  using V = typename Vec16<T>::type;
  constexpr int kVec = 16 / sizeof(T);
#pragma unroll
  for (int h = 0; h < 4; h += kVec) *reinterpret_cast<V*>(dst + h) = *reinterpret_cast<const V*>(src + h);
}

// Stores 4 consecutive outputs of row i starting at column j (a multiple of 4).
template <class T>
__device__ __forceinline__ void store_row4(const GemmArgs<T>& g, T* Cb, int64_t i, int64_t j, const T* acc) {
  if (i >= g.M) return;
  T* c = Cb + i * g.ldc + j;
  if (g.vec_c && j + 4 <= g.N) {
    alignas(16) T out[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) out[q] = epilogue_value(g, acc[q], c + q, i, j + q);
    copy4(out, c);
  } else {
#pragma unroll
    for (int q = 0; q < 4; ++q)
      if (j + q < g.N) c[q] = epilogue_value(g, acc[q], c + q, i, j + q);
  }
}

// FLOPs 2*M*N*K per batch item; each block reads (BM + BN) * K elements per output tile.
template <class T, int BM, int BN, int BK, int GM, int GN, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(SimtShape<BM, BN, GM, GN>::kThreads, SimtShape<BM, BN, GM, GN>::kMinBlocks)
    gemm_simt_kernel(GemmArgs<T> g) {
  using Shape = SimtShape<BM, BN, GM, GN>;
  constexpr int kPad = 16 / sizeof(T);
  using Smem = GemmSmem<T, BM, BN, BK, kPad>;
  __shared__ Smem sm;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row0 = (warp / Shape::kWarpsN) * Shape::kWarpM + (lane / 8) * 4;
  const int col0 = (warp % Shape::kWarpsN) * Shape::kWarpN + (lane % 8) * 4;

  for_each_tile<T, BM, BN>(g, [&](const TileJob<T>& job) {
    T acc[4 * GM][4 * GN] = {};
    k_loop<T, BM, BN, BK, kPad, Shape::kThreads, kTransA, kTransB>(g, job, sm, [&](const T* As, const T* Bs) {
#pragma unroll
          for (int k = 0; k < BK; ++k) {
            alignas(16) T a[4 * GM], b[4 * GN];
#pragma unroll
            for (int i = 0; i < GM; ++i) copy4(As + k * Smem::kLdA + row0 + 16 * i, a + 4 * i);
#pragma unroll
            for (int j = 0; j < GN; ++j) copy4(Bs + k * Smem::kLdB + col0 + 32 * j, b + 4 * j);
#pragma unroll
            for (int i = 0; i < 4 * GM; ++i)
#pragma unroll
              for (int j = 0; j < 4 * GN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
          }
        });
#pragma unroll
    for (int i = 0; i < 4 * GM; ++i)
#pragma unroll
      for (int j = 0; j < GN; ++j)
        store_row4(g, job.C, job.m0 + row0 + 16 * (i / 4) + i % 4, job.n0 + col0 + 32 * j, &acc[i][4 * j]);
  });
}

// ---- TF32 tensor-core kernel -----------------------------------------------------------------

__device__ __forceinline__ uint32_t to_tf32(float x) {  // round to nearest, ties away from zero
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

// d += a (16x8, row-major fragment) * b (8x8, column-major fragment), per PTX's m16n8k8 layout:
// lane = 4*g + t holds a[g][t], a[g+8][t], a[g][t+4], a[g+8][t+4]; b[t][g], b[t+4][g];
// d[g][2t], d[g][2t+1], d[g+8][2t], d[g+8][2t+1].
__device__ __forceinline__ void mma_tf32(float* d, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();  // tensor-core TF32 needs sm_80 or newer; the host side never launches it there
#endif
}

// 128x128x8 block tile, 8 warps as 2 (m) x 4 (n), warp tile 64x32 = 4 x 4 mma tiles.
constexpr int kTf32BM = 128, kTf32BN = 128, kTf32BK = 8, kTf32Threads = 256;

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kTf32Threads, 2) gemm_tf32_kernel(GemmArgs<float> g) {
  constexpr int kPad = 8;  // row stride = 8 mod 32 banks: fragment reads hit 32 distinct banks
  using Smem = GemmSmem<float, kTf32BM, kTf32BN, kTf32BK, kPad>;
  __shared__ Smem sm;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int gq = lane / 4, tq = lane % 4;
  const int wm0 = (warp / 4) * 64, wn0 = (warp % 4) * 32;

  for_each_tile<float, kTf32BM, kTf32BN>(g, [&](const TileJob<float>& job) {
    float acc[4][4][4] = {};
    k_loop<float, kTf32BM, kTf32BN, kTf32BK, kPad, kTf32Threads, kTransA, kTransB>(
        g, job, sm, [&](const float* As, const float* Bs) {
#pragma unroll
          for (int ks = 0; ks < kTf32BK; ks += 8) {
            const float* a_lo = As + (ks + tq) * Smem::kLdA + wm0 + gq;
            const float* a_hi = a_lo + 4 * Smem::kLdA;
            const float* b_lo = Bs + (ks + tq) * Smem::kLdB + wn0 + gq;
            const float* b_hi = b_lo + 4 * Smem::kLdB;
            uint32_t bf[4][2];  // all B fragments, then one A fragment at a time (saves registers)
#pragma unroll
            for (int nt = 0; nt < 4; ++nt) {
              bf[nt][0] = to_tf32(b_lo[8 * nt]);
              bf[nt][1] = to_tf32(b_hi[8 * nt]);
            }
#pragma unroll
            for (int mt = 0; mt < 4; ++mt) {
              const uint32_t af[4] = {to_tf32(a_lo[16 * mt]), to_tf32(a_lo[16 * mt + 8]), to_tf32(a_hi[16 * mt]),
                                      to_tf32(a_hi[16 * mt + 8])};
#pragma unroll
              for (int nt = 0; nt < 4; ++nt) mma_tf32(acc[mt][nt], af, bf[nt]);
            }
          }
        });
#pragma unroll
    for (int mt = 0; mt < 4; ++mt)
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          const int64_t i = job.m0 + wm0 + 16 * mt + gq + 8 * (q / 2);
          const int64_t j = job.n0 + wn0 + 8 * nt + 2 * tq + q % 2;
          if (i < g.M && j < g.N) {
            float* c = job.C + i * g.ldc + j;
            *c = epilogue_value(g, acc[mt][nt][q], c, i, j);
          }
        }
  });
}

// ---- split-K reduction -----------------------------------------------------------------------

// C = epilogue(sum over the slices of the partial products), summed in slice order (deterministic).
// partial is (slices, batch, M, N). FLOPs slices * batch*M*N; bytes (slices + 1 (+1 if beta)) * that.
template <class T>
__global__ void gemm_reduce_slices_kernel(GemmArgs<T> g, const T* partial, int64_t slices) {
  const int64_t MN = g.M * g.N, total = g.batch * MN;
  for (int64_t e : grid_stride(total)) {
    T acc = T(0);
    for (int64_t s = 0; s < slices; ++s) acc += partial[s * total + e];
    const int64_t b = e / MN, i = (e % MN) / g.N, j = e % g.N;
    T* c = g.C + b * g.stride_c + i * g.ldc + j;
    *c = epilogue_value(g, acc, c, i, j);
  }
}

// ---- host side ------------------------------------------------------------------------------

template <class T>
bool vec_ok(const void* p, int64_t ld, int64_t stride) {
  constexpr int64_t kVec = 16 / sizeof(T);
  return aligned16(p) && ld % kVec == 0 && stride % kVec == 0;
}

template <class T>
GemmArgs<T> make_args(int64_t batch, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                      int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C, int64_t ldc,
                      int64_t stride_c, const Epilogue<T>& ep) {
  return GemmArgs<T>{batch, M, N, K, alpha, beta, A, lda, stride_a, B, ldb, stride_b, C, ldc, stride_c, ep,
                     vec_ok<T>(A, lda, stride_a), vec_ok<T>(B, ldb, stride_b), vec_ok<T>(C, ldc, stride_c),
                     /*k_chunk=*/K, /*slice_stride=*/0};
}

inline int64_t tile_count(int64_t M, int64_t N, int BM, int BN) { return ((M + BM - 1) / BM) * ((N + BN - 1) / BN); }

// Calls fn(integral_constant<bool, trans_a>, integral_constant<bool, trans_b>).
template <class Fn>
void with_transposes(bool trans_a, bool trans_b, Fn&& fn) {
  using F = std::false_type;
  using Tr = std::true_type;
  if (!trans_a && !trans_b) fn(F{}, F{});
  else if (!trans_a) fn(F{}, Tr{});
  else if (!trans_b) fn(Tr{}, F{});
  else fn(Tr{}, Tr{});
}

// Launches a tiled kernel through launch(args, grid). When its BM x BN output tiles cannot fill
// the GPU but K is long (a weight gradient: small output, reduction over the batch), K is split
// into slices that separate blocks reduce into workspace partial sums, and a second kernel adds
// the slices and applies the epilogue.
template <class T, class Launch>
void run_tiled(const Context& ctx, const GemmArgs<T>& g, int BM, int BN, int BK, const char* name,
               Launch&& launch) {
  constexpr int64_t kMinSliceK = 512, kMaxSlices = 32;
  const int64_t tiles = tile_count(g.M, g.N, BM, BN) * g.batch;
  const int64_t sms = sm_count();
  int64_t slices = 1;
  if (ctx.workspace && tiles < sms && g.K >= 2 * kMinSliceK)
    slices = std::min({(2 * sms + tiles - 1) / tiles, g.K / kMinSliceK, kMaxSlices});
  const unsigned grid_x = static_cast<unsigned>(std::min<int64_t>(tile_count(g.M, g.N, BM, BN), INT32_MAX));
  const unsigned grid_y = static_cast<unsigned>(std::min<int64_t>(g.batch, 65535));
  if (slices <= 1) {
    launch(g, dim3(grid_x, grid_y, 1));
    check_launch(name);
    return;
  }
  const int64_t k_chunk = ((g.K + slices - 1) / slices + BK - 1) / BK * BK;  // whole k-steps per slice
  slices = (g.K + k_chunk - 1) / k_chunk;
  const int64_t slice_stride = g.batch * g.M * g.N;
  T* partial = workspace<T>(ctx, slices * slice_stride);
  GemmArgs<T> part = g;  // raw sums into the workspace, laid out (slice, batch, M, N)
  part.C = partial;
  part.ldc = g.N;
  part.stride_c = g.M * g.N;
  part.alpha = T(1);
  part.beta = T(0);
  part.ep = Epilogue<T>{};
  part.vec_c = vec_ok<T>(partial, g.N, g.M * g.N);
  part.k_chunk = k_chunk;
  part.slice_stride = slice_stride;
  launch(part, dim3(grid_x, grid_y, static_cast<unsigned>(slices)));
  check_launch(name);
  launch_1d(ctx, "gemm (split-K reduction)", slice_stride, gemm_reduce_slices_kernel<T>, g, partial, slices);
}

template <class T, int BM, int BN, int GM, int GN>
void run_simt(const Context& ctx, const GemmArgs<T>& g, bool trans_a, bool trans_b) {
  constexpr int kBK = 8;
  run_tiled(ctx, g, BM, BN, kBK, "gemm", [&](const GemmArgs<T>& args, dim3 grid) {
    with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
      gemm_simt_kernel<T, BM, BN, kBK, GM, GN, decltype(ta)::value, decltype(tb)::value>
          <<<grid, SimtShape<BM, BN, GM, GN>::kThreads, 0, stream_of(ctx)>>>(args);
    });
  });
}

}  // namespace

template <class T>
void gemm(const Context& ctx, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K,
          T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b,
          T beta, T* C, int64_t ldc, int64_t stride_c, const Epilogue<T>& ep) {
  if (batch == 0 || M == 0 || N == 0) return;
  const GemmArgs<T> g =
      make_args(batch, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, ep);
  if constexpr (std::is_same_v<T, float>) {
    // 128x128 tiles reuse each loaded value twice as often as 64x64 tiles, but leave SMs idle
    // when there are fewer of them than SMs.
    if (tile_count(M, N, 128, 128) * batch >= sm_count()) run_simt<float, 128, 128, 2, 2>(ctx, g, trans_a, trans_b);
    else run_simt<float, 64, 64, 2, 2>(ctx, g, trans_a, trans_b);
  } else {
    run_simt<double, 64, 64, 1, 1>(ctx, g, trans_a, trans_b);
  }
}

void gemm_tf32(const Context& ctx, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K,
               float alpha, const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb,
               int64_t stride_b, float beta, float* C, int64_t ldc, int64_t stride_c, const Epilogue<float>& ep) {
  if (batch == 0 || M == 0 || N == 0) return;
  const GemmArgs<float> g =
      make_args(batch, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, ep);
  run_tiled(ctx, g, kTf32BM, kTf32BN, kTf32BK, "gemm_tf32", [&](const GemmArgs<float>& args, dim3 grid) {
    with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
      gemm_tf32_kernel<decltype(ta)::value, decltype(tb)::value><<<grid, kTf32Threads, 0, stream_of(ctx)>>>(args);
    });
  });
}

template void gemm<float>(const Context&, bool, bool, int64_t, int64_t, int64_t, int64_t, float, const float*,
                          int64_t, int64_t, const float*, int64_t, int64_t, float, float*, int64_t, int64_t,
                          const Epilogue<float>&);
template void gemm<double>(const Context&, bool, bool, int64_t, int64_t, int64_t, int64_t, double,
                           const double*, int64_t, int64_t, const double*, int64_t, int64_t, double, double*,
                           int64_t, int64_t, const Epilogue<double>&);

}  // namespace ember::cuda
