// CPU GEMM in the Goto/BLIS style.
//
// C (M x N) is computed block by block so that each operand is read from the cache level that
// can feed the FMA units fast enough:
//
//   for jc in N step NC:               B panel  (KC x NC)  packed once, lives in L3
//     for pc in K step KC:
//       pack B[pc:pc+KC, jc:jc+NC]
//       for ic in M step MC:           A block  (MC x KC)  packed, lives in L2
//         pack A[ic:ic+MC, pc:pc+KC]
//         for jr in NC step NR:        B micro-panel (KC x NR) stays in L1 across the ir loop
//           for ir in MC step MR:      micro-kernel: MR x NR tile of C held in registers
//
// Packing copies each block into the exact order the micro-kernel reads it (A as MR-row slivers,
// B as NR-column slivers, both zero-padded at the edges), so the micro-kernel sees one layout
// whatever the transposes and leading dimensions were, and streams contiguous memory.
// The micro-kernel keeps an MR x NR tile of C in vector registers and performs MR * NR / W
// FMAs per step of k, loading NR / W vectors of B and broadcasting MR scalars of A.
#include "cpu/gemm.h"
#include "cpu/scratch.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace ember::cpu {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- packing buffers ---------------------------------------------------------------------------

// Thread-local (see scratch.h): the thread that calls gemm owns the packing space of its whole
// team, so nothing is allocated inside a parallel region.
thread_local ScratchBuffer a_scratch;  // one packed A block per thread of the team
thread_local ScratchBuffer b_scratch;  // the packed B panel, shared by the team

// ---- epilogue ------------------------------------------------------------------------------------

template <class T>
T gelu(T v) {
  return T(0.5) * v * (T(1) + std::erf(v * T(0.70710678118654752440)));
}

// Adds the bias and applies the activation to the m x n block of C at global position (i0, j0).
// Called on a tile right after its last update, while it is still in L1.
template <class T>
void apply_epilogue(const Epilogue<T>& ep, T* c, int64_t ldc, int64_t i0, int64_t j0, int64_t m,
                    int64_t n) {
  if (!ep.bias && ep.activation == Activation::none) return;
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (ep.bias && ep.bias_per_row) {
      const T b = ep.bias[i0 + i];
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] += b;
    } else if (ep.bias) {
      const T* b = ep.bias + j0;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] += b[j];
    }
    if (ep.activation == Activation::relu) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] = row[j] < T(0) ? T(0) : row[j];  // keeps NaN
    } else if (ep.activation == Activation::gelu) {
      for (int64_t j = 0; j < n; ++j) row[j] = gelu(row[j]);
    }
  }
}

// ---- operands ------------------------------------------------------------------------------------

// op(X) as a strided matrix: element (i, j) is data[i * rs + j * cs]. A transpose swaps the
// strides, so everything after this point is transpose-agnostic.
template <class T>
struct Strided {
  const T* data;
  int64_t rs, cs;
  T operator()(int64_t i, int64_t j) const { return data[i * rs + j * cs]; }
};

template <class T>
Strided<T> op(const T* x, int64_t ld, bool trans) {
  return trans ? Strided<T>{x, 1, ld} : Strided<T>{x, ld, 1};
}

// ---- micro-kernel --------------------------------------------------------------------------------

// C[0:MR, 0:NV*W] = alpha * Ap @ Bp + beta * C, where Ap is a packed MR x kc sliver (column k at
// Ap + k * MR) and Bp a kc x NR sliver with row k at Bp + k * ldb: packed (ldb = NR) or, for a
// row-major B that few rows of A use, B itself. beta == 0 never reads C.
// Written with GCC vector extensions (W lanes of T); the caller's target attribute decides
// whether they become AVX2 (ymm) or AVX-512 (zmm) instructions, so it must be inlined.
// Registers: MR * NV accumulators + NV vectors of B + one broadcast of A.
// FLOPs: 2 * MR * NR * kc. Bytes read: (MR + NR) * kc * sizeof(T), from L2 (A) and L1 (B).
template <class T, int MR, int NV, int W>
[[gnu::always_inline]] inline void micro_kernel(int64_t kc, const T* __restrict ap,
                                                const T* __restrict bp, int64_t ldb,
                                                T* __restrict c, int64_t ldc, T alpha, T beta) {
  typedef T V __attribute__((vector_size(W * sizeof(T))));
  V acc[MR][NV] = {};
  for (int64_t k = 0; k < kc; ++k) {
    V b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(&b[v], bp + v * W, sizeof(V));  // any alignment
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] += ap[r] * b[v];  // contracted to one FMA
    }
    ap += MR;
    bp += ldb;
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* cp = c + r * ldc + v * W;  // any alignment: memcpy compiles to an unaligned move
      V out = alpha * acc[r][v];
      if (beta != T(0)) {
        V old;
        std::memcpy(&old, cp, sizeof(V));
        out += beta * old;
      }
      std::memcpy(cp, &out, sizeof(V));
    }
  }
}

// A kernel = micro-kernel shape + the cache blocking that feeds it. Blocking rationale (sizes in
// elements; the AVX-512 numbers are for Zen 4/5 and Intel server cores: L1d 32-48 KB,
// L2 1-2 MB per core, shared L3):
//   KC: the B sliver (KC x NR) must stay in L1 while every A sliver of the block passes by, and
//       KC long enough to amortise loading/storing the C tile once per KC steps.
//   MC: the packed A block (MC x KC) fills about half of L2, leaving room for B slivers and C.
//   NC: the packed B panel (KC x NC) sits in L3; a few MB.
// AVX2 fallback (Haswell..Zen 3): L1d 32 KB, L2 256-512 KB, hence the smaller MC.
template <class T>
struct Avx2Kernel {
  static constexpr int W = 32 / sizeof(T);  // lanes in a ymm register
  static constexpr int MR = 6, NV = 2;      // 12 accumulators + 2 B + 1 A = 15 of 16 ymm
  static constexpr int64_t NR = NV * W;     // 16 floats / 8 doubles
  static constexpr int64_t KC = 256;        // B sliver: 16 KB (float and double)
  static constexpr int64_t MC = MR * (sizeof(T) == 4 ? 24 : 12);  // A block: 144 KB
  static constexpr int64_t NC = (4 << 20) / (KC * sizeof(T));  // B panel: 4 MB
  static void run(int64_t kc, const T* ap, const T* bp, int64_t ldb, T* c, int64_t ldc, T alpha,
                  T beta) {
    micro_kernel<T, MR, NV, W>(kc, ap, bp, ldb, c, ldc, alpha, beta);
  }
};

#if defined(__x86_64__)
// AVX-512 kernels come in several tile shapes, because a tile only pays for the rows and
// columns of C it really covers: 14 x 2W (28 accumulators) is the most efficient for big
// matrices, 6 x 4W (24 accumulators) suits C with few rows (a convolution's 6 or 16 output
// channels, which a 14-row tile would pad to 14 or 28), and 6 x 2W also few columns (a weight
// gradient of 6 x 25). Blocking keeps the B sliver at 32 KB of the 48 KB L1d and the packed A
// block at about 504 KB of L2 whatever the shape.
template <class T, int MR_, int NV_>
struct Avx512Kernel {
  static constexpr int W = 64 / sizeof(T);  // lanes in a zmm register
  static constexpr int MR = MR_, NV = NV_;  // MR * NV accumulators + NV B + 1 A <= 32 zmm
  static constexpr int64_t NR = NV * W;
  static constexpr int64_t KC = (32 << 10) / (NR * sizeof(T));
  static constexpr int64_t MC = MR * ((504 << 10) / (KC * sizeof(T)) / MR);
  static constexpr int64_t NC = (4 << 20) / (KC * sizeof(T));  // B panel: 4 MB
  static_assert(MR * NV + NV + 1 <= 32, "the tile must fit the 32 zmm registers");
  __attribute__((target("avx512f,avx512dq"))) static void run(int64_t kc, const T* ap,
                                                               const T* bp, int64_t ldb, T* c,
                                                               int64_t ldc, T alpha, T beta) {
    micro_kernel<T, MR, NV, W>(kc, ap, bp, ldb, c, ldc, alpha, beta);
  }
};
#endif

// ---- packing -------------------------------------------------------------------------------------

// Rows [i0, i0 + m) x columns [k0, k0 + kc) of op(A) -> MR-row slivers, each stored column by
// column (MR consecutive values per k); the last sliver is zero-padded to MR rows.
template <int64_t MR, class T>
void pack_a(Strided<T> a, int64_t i0, int64_t m, int64_t k0, int64_t kc, T* dst) {
  for (int64_t i = 0; i < m; i += MR, dst += MR * kc) {
    const int64_t mr = std::min(MR, m - i);
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t r = 0; r < mr; ++r) dst[k * MR + r] = a(i0 + i + r, k0 + k);
      for (int64_t r = mr; r < MR; ++r) dst[k * MR + r] = T(0);
    }
  }
}

// Eight columns src + y * ld (y < 8), each contiguous, -> rows dst + k * ldd of eight values:
// 8 x 8 blocks transposed in registers (unpack, then pair and half exchanges), so packing a
// transposed B (Linear's weight, a convolution's columns) is not one scalar store per element.
// Returns how many rows it wrote: kc rounded down to a multiple of 8.
inline int64_t transpose_8_columns(const float* src, int64_t ld, int64_t kc, float* dst,
                                   int64_t ldd) {
  typedef float V __attribute__((vector_size(32)));
  typedef int I __attribute__((vector_size(32)));
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    V r[8], t[8], u[8];
    for (int y = 0; y < 8; ++y) std::memcpy(&r[y], src + y * ld + k, sizeof(V));
    for (int y = 0; y < 8; y += 2) {  // t: pairs of columns interleaved
      t[y] = __builtin_shuffle(r[y], r[y + 1], I{0, 8, 1, 9, 4, 12, 5, 13});
      t[y + 1] = __builtin_shuffle(r[y], r[y + 1], I{2, 10, 3, 11, 6, 14, 7, 15});
    }
    for (int y = 0; y < 8; y += 4) {  // u: quads of columns, rows {0,4}, {1,5}, {2,6}, {3,7}
      u[y] = __builtin_shuffle(t[y], t[y + 2], I{0, 1, 8, 9, 4, 5, 12, 13});
      u[y + 1] = __builtin_shuffle(t[y], t[y + 2], I{2, 3, 10, 11, 6, 7, 14, 15});
      u[y + 2] = __builtin_shuffle(t[y + 1], t[y + 3], I{0, 1, 8, 9, 4, 5, 12, 13});
      u[y + 3] = __builtin_shuffle(t[y + 1], t[y + 3], I{2, 3, 10, 11, 6, 7, 14, 15});
    }
    for (int q = 0; q < 4; ++q) {  // halves of the two quads make rows q and q + 4
      const V low = __builtin_shuffle(u[q], u[q + 4], I{0, 1, 2, 3, 8, 9, 10, 11});
      const V high = __builtin_shuffle(u[q], u[q + 4], I{4, 5, 6, 7, 12, 13, 14, 15});
      std::memcpy(dst + (k + q) * ldd, &low, sizeof(V));
      std::memcpy(dst + (k + q + 4) * ldd, &high, sizeof(V));
    }
  }
  return k;
}

// Rows [k0, k0 + kc) x columns [j0, j0 + n) of op(B) -> NR-column slivers, each stored row by
// row (NR consecutive values per k); the last sliver is zero-padded to NR columns. B is walked
// along its contiguous dimension: a row-major op(B) row by row across all slivers, a transposed
// one column by column.
template <int64_t NR, class T>
void pack_b(Strided<T> b, int64_t k0, int64_t kc, int64_t j0, int64_t n, T* dst) {
  if (b.cs == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = b.data + (k0 + k) * b.rs + j0;
      for (int64_t j = 0; j < n; j += NR) {
        T* d = dst + j * kc + k * NR;  // sliver j / NR, row k
        const int64_t nr = std::min(NR, n - j);
        for (int64_t x = 0; x < nr; ++x) d[x] = src[j + x];
        for (int64_t x = nr; x < NR; ++x) d[x] = T(0);
      }
    }
  } else {  // columns of op(B) are contiguous (b.rs == 1): transpose them into the slivers
    for (int64_t j = 0; j < n; j += NR) {
      T* d = dst + j * kc;
      const int64_t nr = std::min(NR, n - j);
      int64_t x = 0;
      if constexpr (std::is_same_v<T, float>) {
        for (; x + 8 <= nr; x += 8) {
          const int64_t k8 = transpose_8_columns(b.data + (j0 + j + x) * b.cs + k0, b.cs, kc, d + x, NR);
          for (int64_t k = k8; k < kc; ++k)
            for (int64_t y = 0; y < 8; ++y) d[k * NR + x + y] = b(k0 + k, j0 + j + x + y);
        }
      }
      for (; x < NR; ++x)
        for (int64_t k = 0; k < kc; ++k) d[k * NR + x] = x < nr ? b(k0 + k, j0 + j + x) : T(0);
    }
  }
}

// ---- one matrix, packed ---------------------------------------------------------------------------

template <class T>
struct Problem {
  int64_t M, N, K;
  T alpha;
  Strided<T> a, b;
  T beta;
  T* c;
  int64_t ldc;
  const Epilogue<T>* ep;
};

// The Goto loop nest above, run by a team of `threads`. The team packs each B panel together;
// then every thread packs its own A blocks and runs the micro-kernel over its share of the
// panel's tiles. Work split: the rows of C in blocks whose count is a multiple of the team size
// (equal shares), or, when C has too few rows for that, the columns of the panel.
// Bytes of packed B panel per thread that stay in its L2 next to the packed A block.
constexpr int64_t kTeamL2PanelBytes = 256 << 10;

template <class T, class Kernel>
void packed_gemm(const Problem<T>& p, int threads) {
  constexpr int64_t MR = Kernel::MR, NR = Kernel::NR;
  const int64_t M = p.M, N = p.N, K = p.K;
  const int64_t m_slivers = ceil_div(M, MR);
  int64_t m_blocks = ceil_div(m_slivers, Kernel::MC / MR), n_splits = 1;
  if (threads > 1 && m_slivers >= 4 * threads) {
    m_blocks = ceil_div(m_blocks, threads) * threads;
  } else if (threads > 1) {
    n_splits = threads;
  }
  // K is cut into equal blocks of at most KC: 144 becomes 72 + 72 rather than 128 + 16, whose
  // short block would load and store the C tiles for only 16 steps of k.
  const int64_t kc_max = ceil_div(K, ceil_div(K, Kernel::KC));
  // C with few rows (one block of A) uses each B element only ceil(M / MR) times, too few to
  // hide reading it from L3: the panel then shrinks to what the team's L2 caches hold, which
  // only costs packing the small A again per panel.
  const int64_t nc_max =
      m_blocks == 1 ? std::max<int64_t>(NR, kTeamL2PanelBytes * threads / (kc_max * sizeof(T)) / NR * NR)
                    : Kernel::NC;
  // Packing B pays for itself when many slivers of A reuse it. With one block of A and a
  // row-major B (rows contiguous along n), the micro-kernel reads B in place instead: packing
  // would copy every element of B to save a few cache misses.
  const bool direct_b = m_blocks == 1 && p.b.cs == 1;
  // Each thread's slice starts on a 64-byte boundary.
  const int64_t a_block_max = ceil_div(ceil_div(m_slivers, m_blocks) * MR * kc_max, 64) * 64;
  T* const a_packs = a_scratch.get<T>(a_block_max * threads);
  T* const b_pack = b_scratch.get<T>(std::min(nc_max, ceil_div(N, NR) * NR) * kc_max);

#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    T* const a_pack = a_packs + omp_get_thread_num() * a_block_max;
    alignas(64) T edge_tile[MR * NR];

    for (int64_t jc = 0; jc < N; jc += nc_max) {
      const int64_t nc = std::min(nc_max, N - jc);
      const int64_t n_slivers = ceil_div(nc, NR);
      for (int64_t pc = 0; pc < K; pc += kc_max) {
        const int64_t kc = std::min(kc_max, K - pc);
        const bool first = pc == 0, last = pc + kc == K;
        const T beta = first ? p.beta : T(1);  // later K blocks accumulate onto C

        if (direct_b) {  // only a partial last sliver needs its zero padding
          if (omp_get_thread_num() == 0 && nc % NR != 0)
            pack_b<NR>(p.b, pc, kc, jc + (n_slivers - 1) * NR, nc % NR,
                       b_pack + (n_slivers - 1) * NR * kc);
        } else {  // each thread packs a contiguous run of slivers
          const int t = omp_get_thread_num(), team = omp_get_num_threads();
          const int64_t q0 = t * n_slivers / team, q1 = (t + 1) * n_slivers / team;
          if (q1 > q0)
            pack_b<NR>(p.b, pc, kc, jc + q0 * NR, std::min(nc, q1 * NR) - q0 * NR,
                       b_pack + q0 * NR * kc);
        }
#pragma omp barrier  // the panel is complete before anyone reads it

        // Items are ordered column-split-major so that a contiguous static share is either a
        // run of row blocks (n_splits == 1) or one column range (n_splits == threads).
#pragma omp for schedule(static)
        for (int64_t item = 0; item < m_blocks * n_splits; ++item) {
          const int64_t ib = item % m_blocks, js = item / m_blocks;
          const int64_t s0 = ib * m_slivers / m_blocks, s1 = (ib + 1) * m_slivers / m_blocks;
          const int64_t q0 = js * n_slivers / n_splits, q1 = (js + 1) * n_slivers / n_splits;
          if (s0 == s1 || q0 == q1) continue;
          const int64_t i0 = s0 * MR, m = std::min(s1 * MR, M) - i0;
          pack_a<MR>(p.a, i0, m, pc, kc, a_pack);
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t j = jc + q * NR, nr = std::min(NR, N - j);
            const bool packed = !direct_b || nr < NR;
            const T* bp = packed ? b_pack + q * NR * kc : p.b.data + pc * p.b.rs + j;
            const int64_t ldb = packed ? NR : p.b.rs;
            for (int64_t s = s0; s < s1; ++s) {
              const int64_t i = s * MR, mr = std::min(MR, M - i);
              const T* ap = a_pack + (s - s0) * MR * kc;
              T* c = p.c + i * p.ldc + j;
              if (mr == MR && nr == NR) {
                Kernel::run(kc, ap, bp, ldb, c, p.ldc, p.alpha, beta);
              } else {  // edge tile: compute the full tile aside, then merge the valid part
                Kernel::run(kc, ap, bp, ldb, edge_tile, NR, T(1), T(0));
                for (int64_t r = 0; r < mr; ++r)
                  for (int64_t x = 0; x < nr; ++x) {
                    const T v = p.alpha * edge_tile[r * NR + x];
                    c[r * p.ldc + x] = beta == T(0) ? v : v + beta * c[r * p.ldc + x];
                  }
              }
              if (last) apply_epilogue(*p.ep, c, p.ldc, i, j, mr, nr);
            }
          }
        }
        // (implicit barrier: nobody repacks B while another thread still reads it)
      }
    }
  }
}

// ---- one matrix, direct ---------------------------------------------------------------------------

// Small products, matrix-vector-like shapes and the degenerate alpha == 0 / K == 0 cases, where
// packing costs more than it saves: one pass over the block [i0, i1) x [j0, j1) of C with the
// innermost loop running along contiguous memory. Either each element is a dot product along k
// (rows of op(A) and columns of op(B) contiguous), or each row of C receives rank-1 updates
// along j (i, k, j order; vectorised when op(B) has contiguous rows). A and B are not read when
// alpha == 0.
template <class T>
void direct_gemm(const Problem<T>& p, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const bool dot = p.a.cs == 1 && p.b.rs == 1;
  for (int64_t i = i0; i < i1; ++i) {
    T* c = p.c + i * p.ldc;
    if (p.beta == T(0)) {
      std::fill(c + j0, c + j1, T(0));
    } else {
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) c[j] *= p.beta;
    }
    if (p.alpha != T(0) && dot) {
      const T* a = p.a.data + i * p.a.rs;
      for (int64_t j = j0; j < j1; ++j) {
        const T* b = p.b.data + j * p.b.cs;
        T sum = T(0);
#pragma omp simd reduction(+ : sum)
        for (int64_t k = 0; k < p.K; ++k) sum += a[k] * b[k];
        c[j] += p.alpha * sum;
      }
    } else if (p.alpha != T(0)) {
      for (int64_t k = 0; k < p.K; ++k) {
        const T a = p.alpha * p.a(i, k);
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) c[j] += a * p.b(k, j);
      }
    }
    apply_epilogue(*p.ep, c + j0, p.ldc, i, j0, 1, j1 - j0);
  }
}

// direct_gemm on `threads` threads: each takes a band of rows, or of columns when C is wider
// than tall (a row vector times a matrix).
template <class T>
void parallel_direct_gemm(const Problem<T>& p, int threads) {
  const bool by_rows = p.M >= p.N;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const int64_t n = by_rows ? p.M : p.N, lo = t * n / team, hi = (t + 1) * n / team;
    if (by_rows) {
      direct_gemm(p, lo, hi, 0, p.N);
    } else {
      direct_gemm(p, 0, p.M, lo, hi);
    }
  }
}

// ---- one matrix, as blocked dot products ------------------------------------------------------

// C with few elements and a long reduction (a convolution's weight gradient: 16 x 150 outputs,
// each summed over 6400 output positions of the batch), when rows of op(A) and columns of op(B)
// are contiguous along k. Packing B would then cost more than the multiply-adds it feeds (each
// packed element serves only M of them), so each R x R tile of C instead accumulates vectors of
// products straight from A and B and reduces them at the end: 2R loads per R*R FMAs, no copies.
// Rows and columns past the edge of C repeat the last one; their sums are computed and dropped.
template <class T, int W, int R>
[[gnu::always_inline]] inline void dot_tile(const Problem<T>& p, int64_t i0, int64_t mr, int64_t j0,
                                            int64_t nr) {
  typedef T V __attribute__((vector_size(W * sizeof(T))));
  const T* a[R];
  const T* b[R];
  for (int r = 0; r < R; ++r) {
    a[r] = p.a.data + (i0 + std::min<int64_t>(r, mr - 1)) * p.a.rs;
    b[r] = p.b.data + (j0 + std::min<int64_t>(r, nr - 1)) * p.b.cs;
  }
  V acc[R][R] = {};
  int64_t k = 0;
  for (; k + W <= p.K; k += W) {
    V av[R], bv[R];
    for (int r = 0; r < R; ++r) {
      std::memcpy(&av[r], a[r] + k, sizeof(V));  // unaligned loads
      std::memcpy(&bv[r], b[r] + k, sizeof(V));
    }
    for (int r = 0; r < R; ++r)
      for (int x = 0; x < R; ++x) acc[r][x] += av[r] * bv[x];
  }
  for (int64_t r = 0; r < mr; ++r) {
    T* c = p.c + (i0 + r) * p.ldc + j0;
    for (int64_t x = 0; x < nr; ++x) {
      T sum = T(0);
      for (int l = 0; l < W; ++l) sum += acc[r][x][l];
      for (int64_t kk = k; kk < p.K; ++kk) sum += a[r][kk] * b[x][kk];
      c[x] = p.beta == T(0) ? p.alpha * sum : p.alpha * sum + p.beta * c[x];
    }
  }
  apply_epilogue(*p.ep, p.c + i0 * p.ldc + j0, p.ldc, i0, j0, mr, nr);
}

// The tiles [t0, t1) of C, numbered row-major.
template <class T, int W, int R>
[[gnu::always_inline]] inline void dot_tiles(const Problem<T>& p, int64_t t0, int64_t t1) {
  const int64_t tiles_per_row = ceil_div(p.N, R);
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t i = t / tiles_per_row * R, j = t % tiles_per_row * R;
    dot_tile<T, W, R>(p, i, std::min<int64_t>(R, p.M - i), j, std::min<int64_t>(R, p.N - j));
  }
}

// AVX2 (16 ymm): 3 x 3 tiles, 9 accumulators + 6 loads. AVX-512 (32 zmm): 4 x 4, 16 + 8.
template <class T>
void dot_tiles_avx2(const Problem<T>& p, int64_t t0, int64_t t1) {
  dot_tiles<T, 32 / sizeof(T), 3>(p, t0, t1);
}
#if defined(__x86_64__)
template <class T>
__attribute__((target("avx512f,avx512dq"))) void dot_tiles_avx512(const Problem<T>& p, int64_t t0,
                                                                   int64_t t1) {
  dot_tiles<T, 64 / sizeof(T), 4>(p, t0, t1);
}
#endif

// ---- dispatch ------------------------------------------------------------------------------------

#if defined(__x86_64__)
// AVX-512 when the CPU has it, unless EMBER_GEMM_ISA=avx2 asks for the baseline kernel (used by
// the tests to exercise both kernels on one machine). Read once. Other architectures only have
// the baseline kernel, whose vector-extension code compiles for any target.
bool use_avx512() {
  static const bool use = [] {
    const char* forced = std::getenv("EMBER_GEMM_ISA");
    if (forced && std::strcmp(forced, "avx2") == 0) return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  }();
  return use;
}
#endif

// Below this many multiply-adds packing does not pay for itself, nor for C with at most this
// many rows or columns when the direct loops can run along contiguous memory. Measured on Zen 5,
// one thread: at 16^3 both paths take ~1 us, at 32^3 packing is 3x faster; a 1 x 1024 x 1024 or
// 1024 x 1 x 1024 product runs 3-6x faster direct (it streams B or A once, like packing would).
constexpr double kDirectMaxMacs = 16.0 * 16 * 16;
constexpr int64_t kDirectMaxRows = 4;
// Work a thread should have before another one is woken (a parallel region costs ~1 us; the
// second thread starts to pay off around 48^3).
constexpr double kMacsPerThread = 1 << 15;

// A reduction at least this many times longer than C is wide or tall, on a C of at most this
// many elements, goes to dot_gemm (when its operands are contiguous along k).
constexpr int64_t kDotMinDepthRatio = 4;
constexpr int64_t kDotMaxOutputs = 128 * 128;

template <class T>
bool prefers_dot(const Problem<T>& p) {
  return p.a.cs == 1 && p.b.rs == 1 && p.M * p.N <= kDotMaxOutputs &&
         p.K >= kDotMinDepthRatio * std::max(p.M, p.N);
}

template <class T>
void dot_gemm(const Problem<T>& p, int threads) {
#if defined(__x86_64__)
  const int R = use_avx512() ? 4 : 3;
#else
  const int R = 3;
#endif
  const int64_t tiles = ceil_div(p.M, R) * ceil_div(p.N, R);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const int64_t t0 = t * tiles / team, t1 = (t + 1) * tiles / team;
#if defined(__x86_64__)
    if (R == 4) {
      dot_tiles_avx512(p, t0, t1);
    } else {
      dot_tiles_avx2(p, t0, t1);
    }
#else
    dot_tiles_avx2(p, t0, t1);
#endif
  }
}

template <class T>
bool prefers_direct(const Problem<T>& p) {
  if (p.alpha == T(0) || p.K == 0 || double(p.M) * p.N * p.K <= kDirectMaxMacs) return true;
  const bool dot = p.a.cs == 1 && p.b.rs == 1, rows = p.b.cs == 1;
  return (p.M <= kDirectMaxRows && (dot || rows)) || (p.N <= kDirectMaxRows && dot);
}

#if defined(__x86_64__)
// The fraction of the padded tiles' work that lands in C, times what the shape reaches on a
// large product relative to 14 x 2W.
double tile_efficiency(int64_t M, int64_t N, int64_t MR, int64_t NR, double peak) {
  return peak * double(M) / double(ceil_div(M, MR) * MR) * double(N) /
         double(ceil_div(N, NR) * NR);
}

template <class T>
void packed_avx512(const Problem<T>& p, int threads) {
  using Big = Avx512Kernel<T, 14, 2>;
  using FewRows = Avx512Kernel<T, 6, 4>;
  using Narrow = Avx512Kernel<T, 6, 2>;
  const double big = tile_efficiency(p.M, p.N, Big::MR, Big::NR, 1.0);
  const double few_rows = tile_efficiency(p.M, p.N, FewRows::MR, FewRows::NR, 0.97);
  const double narrow = tile_efficiency(p.M, p.N, Narrow::MR, Narrow::NR, 0.85);
  if (big >= few_rows && big >= narrow) {
    packed_gemm<T, Big>(p, threads);
  } else if (few_rows >= narrow) {
    packed_gemm<T, FewRows>(p, threads);
  } else {
    packed_gemm<T, Narrow>(p, threads);
  }
}
#endif

template <class T>
void gemm_one(const Problem<T>& p, int threads) {
  if (prefers_direct(p)) {
    parallel_direct_gemm(p, threads);
  } else if (prefers_dot(p)) {
    dot_gemm(p, threads);
#if defined(__x86_64__)
  } else if (use_avx512()) {
    packed_avx512(p, threads);
#endif
  } else {
    packed_gemm<T, Avx2Kernel<T>>(p, threads);
  }
}

}  // namespace

template <class T>
void gemm(const Context&, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K,
          T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
          int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c, const Epilogue<T>& ep) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const auto problem = [&](int64_t b) {
    return Problem<T>{M,    N,    K,     alpha, op(A + b * stride_a, lda, trans_a),
                      op(B + b * stride_b, ldb, trans_b), beta, C + b * stride_c, ldc, &ep};
  };
  // Inside someone else's parallel region (e.g. a convolution looping over images) stay serial.
  const int max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double macs = double(M) * N * K;
  const int threads = static_cast<int>(
      std::clamp<double>(macs / kMacsPerThread, 1.0, static_cast<double>(max_threads)));
  // Many matrices, each too small to share well: one whole product per thread, no barriers.
  // Otherwise the threads share each product in turn.
  const bool over_batch = max_threads > 1 && batch >= max_threads &&
                          (batch % max_threads == 0 || batch >= 4 * max_threads ||
                           threads < max_threads);
  if (over_batch) {
#pragma omp parallel for schedule(static) num_threads(max_threads)
    for (int64_t b = 0; b < batch; ++b) gemm_one(problem(b), 1);
  } else {
    for (int64_t b = 0; b < batch; ++b) gemm_one(problem(b), threads);
  }
}

template void gemm<float>(const Context&, bool, bool, int64_t, int64_t, int64_t, int64_t, float,
                          const float*, int64_t, int64_t, const float*, int64_t, int64_t, float,
                          float*, int64_t, int64_t, const Epilogue<float>&);
template void gemm<double>(const Context&, bool, bool, int64_t, int64_t, int64_t, int64_t, double,
                           const double*, int64_t, int64_t, const double*, int64_t, int64_t, double,
                           double*, int64_t, int64_t, const Epilogue<double>&);

}  // namespace ember::cpu
