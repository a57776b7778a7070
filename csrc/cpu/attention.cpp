// Fused scaled dot-product attention (FlashAttention-2 on the CPU). See csrc/common/attention_contract.h.
//
// Forward: each task owns (batch b, block of kBlockQ queries) and streams key blocks of
// kBlockK keys. Scores S = Q K^T of one block pair live in a small buffer; an online softmax keeps
// the running row max m and row sum l, rescaling the output accumulator whenever m grows, so
// memory is O(block), not O(Tq * Tk).
//
// Backward: recomputes P = exp(S - lse) block by block. Each task owns a set of key blocks of one
// b, so grad_k and grad_v rows have a single writer; grad_q is accumulated by the task directly
// when it owns all the keys of its b, or in a per-task buffer summed at the end when b alone
// cannot feed all threads (small batch, long sequence).
//
// The block products run on a register-tiled micro-kernel (4 rows x 64 bytes of columns of C in
// registers), ~120 GFLOP/s per core in float32 with the AVX2 baseline; AVX-512 tiles measured
// slower on the development machine, so it is not cloned, while the exp-heavy softmax steps are
// (EMBER_AVX512_CLONES). The micro-kernel wants K^T (and V^T in the backward) as row-major
// operands: both are transposed once per call into a buffer the size of K (resp. V) rather than
// per block pair, where the copies cost 20% of the forward.
#include "cpu/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

constexpr int64_t kBlockQ = 64;
constexpr int64_t kBlockK = 64;
constexpr int kTileRows = 4;
template <class T>
constexpr int kTileCols = 64 / sizeof(T);  // one cache line: two AVX2 vectors

// C (rows x cols) (+)= op(A) (rows x K) @ B (K x cols), row-major with leading dimensions.
// op(A) = A (A[r * lda + k]) or, with TransA, A^T (A[k * lda + r]). Adds to C when Accumulate,
// overwrites it otherwise (both are template parameters: a run-time flag tested in the loops
// would make GCC unswitch them into copies that are not vectorised). Full tiles keep a
// kTileRows x kTileCols block of C in registers; the edges (leftover rows or columns) go one row
// at a time.
template <bool TransA, bool Accumulate, class T>
void block_mma(int64_t rows, int64_t cols, int64_t K, const T* A, int64_t lda, const T* B,
               int64_t ldb, T* C, int64_t ldc) {
  constexpr int R = kTileRows, W = kTileCols<T>;
  auto a_at = [&](int64_t r, int64_t k) { return TransA ? A[k * lda + r] : A[r * lda + k]; };
  // C[r, c_begin:cols] for rows [r_begin, r_end), without register tiling.
  auto edge = [&](int64_t r_begin, int64_t r_end, int64_t c_begin) {
    for (int64_t r = r_begin; r < r_end; ++r) {
      T* crow = C + r * ldc;
      if constexpr (!Accumulate) std::fill(crow + c_begin, crow + cols, T(0));
      for (int64_t k = 0; k < K; ++k) {
        const T a = a_at(r, k);
        const T* b = B + k * ldb;
#pragma omp simd
        for (int64_t c = c_begin; c < cols; ++c) crow[c] += a * b[c];
      }
    }
  };
  int64_t r0 = 0;
  for (; r0 + R <= rows; r0 += R) {
    int64_t c0 = 0;
    for (; c0 + W <= cols; c0 += W) {
      T acc[R][W] = {};
      for (int64_t k = 0; k < K; ++k) {
        const T* b = B + k * ldb + c0;
        for (int r = 0; r < R; ++r) {
          const T a = a_at(r0 + r, k);
#pragma omp simd
          for (int c = 0; c < W; ++c) acc[r][c] += a * b[c];
        }
      }
      for (int r = 0; r < R; ++r) {
        T* crow = C + (r0 + r) * ldc + c0;
#pragma omp simd
        for (int c = 0; c < W; ++c) {
          if constexpr (Accumulate)
            crow[c] += acc[r][c];
          else
            crow[c] = acc[r][c];
        }
      }
    }
    if (c0 < cols) edge(r0, r0 + R, c0);
  }
  edge(r0, rows, 0);
}

// For each of `batch` matrices (rows x cols, contiguous): dst_b (cols x rows) = src_b^T, in
// 16 x 16 tiles so that the strided writes of a tile stay within 16 cache lines.
template <class T>
std::vector<T> transpose_batch(int64_t batch, int64_t rows, int64_t cols, const T* src) {
  constexpr int64_t kTile = 16;
  std::vector<T> dst(size_t(batch * rows * cols));
#pragma omp parallel for schedule(static) if (batch * rows * cols > (1 << 16))
  for (int64_t b = 0; b < batch; ++b) {
    const T* s = src + b * rows * cols;
    T* d = dst.data() + b * rows * cols;
    for (int64_t r0 = 0; r0 < rows; r0 += kTile)
      for (int64_t c0 = 0; c0 < cols; c0 += kTile)
        for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
          for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c)
            d[c * rows + r] = s[r * cols + c];
  }
  return dst;
}

// Number of keys of the block starting at j0 (bk keys) that query i may see.
inline int64_t visible_keys(bool is_causal, int64_t i, int64_t j0, int64_t bk) {
  return is_causal ? std::clamp<int64_t>(i - j0 + 1, 0, bk) : bk;
}

// Turns a row of raw scores q.k into s = scale * (q.k) + mask over the first n entries.
template <class T>
void finish_scores(T* s, int64_t n, T scale, const T* mask_row) {
  if (mask_row) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] = scale * s[j] + mask_row[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] *= scale;
  }
}

template <class T>
struct Problem {
  int64_t B, Tq, Tk, D, Dv;
  const T *q, *k, *v, *mask;
  int64_t mask_stride;
  bool causal;
  T scale;
  const T* kt;  // K^T per b: (B, D, Tk)
  const T* vt;  // V^T per b: (B, Dv, Tk), backward only

  const T* mask_row(int64_t b, int64_t i, int64_t j0) const {
    return mask ? mask + b * mask_stride + i * Tk + j0 : nullptr;
  }
  // Key blocks a query block [i0, i1) may see: all of them, or (causal) up to key i1 - 1.
  int64_t key_blocks(int64_t i1) const {
    const int64_t keys = causal ? std::min(Tk, i1) : Tk;
    return (keys + kBlockK - 1) / kBlockK;
  }
};

// Online-softmax step of the forward for the bq x bk raw scores s of queries [i0, i0 + bq) and
// keys [j0, j0 + bk): turns s into exp(s - m_new) (0 for hidden keys), updates the running row
// max m and sum l, and rescales the output accumulator acc (bq x Dv) by exp(m_old - m_new).
// Compute-bound (one exp per score): compiled for AVX2 and AVX-512.
template <class T>
EMBER_AVX512_CLONES void online_softmax_block(const Problem<T>& p, int64_t b, int64_t i0,
                                              int64_t bq, int64_t j0, int64_t bk, T* s, T* acc,
                                              T* m, T* l) {
  for (int64_t r = 0; r < bq; ++r) {
    T* sr = s + r * bk;
    const int64_t n = visible_keys(p.causal, i0 + r, j0, bk);
    finish_scores(sr, n, p.scale, p.mask_row(b, i0 + r, j0));
    T mx = m[r];
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; ++j) {
      const T v = sr[j];  // a local: max() of a memory reference does not vectorise
      mx = std::max(mx, v);
    }
    std::fill(sr + n, sr + bk, T(0));  // keys hidden by causality get probability 0
    if (mx == -std::numeric_limits<T>::infinity()) {  // nothing visible yet: p = 0
      std::fill(sr, sr + n, T(0));
      continue;
    }
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) {
      sr[j] = vexp(sr[j] - mx);
      sum += sr[j];
    }
    const T alpha = vexp(m[r] - mx);  // rescales what was accumulated under the old max
    m[r] = mx;
    l[r] = l[r] * alpha + sum;
    T* ar = acc + r * p.Dv;
#pragma omp simd
    for (int64_t d = 0; d < p.Dv; ++d) ar[d] *= alpha;
  }
}

// Forward of one (b, query block). Scratch: s (kBlockQ x kBlockK), acc (kBlockQ x Dv),
// m and l (kBlockQ).
template <class T>
void forward_block(const Problem<T>& p, int64_t b, int64_t i0, T* out, T* lse, T* s, T* acc, T* m,
                   T* l) {
  const int64_t bq = std::min(kBlockQ, p.Tq - i0);
  const T* q = p.q + (b * p.Tq + i0) * p.D;
  std::fill(acc, acc + bq * p.Dv, T(0));
  std::fill(m, m + bq, -std::numeric_limits<T>::infinity());
  std::fill(l, l + bq, T(0));
  for (int64_t kb = 0, blocks = p.key_blocks(i0 + bq); kb < blocks; ++kb) {
    const int64_t j0 = kb * kBlockK, bk = std::min(kBlockK, p.Tk - j0);
    const T* v = p.v + (b * p.Tk + j0) * p.Dv;
    block_mma<false, false>(bq, bk, p.D, q, p.D, p.kt + b * p.D * p.Tk + j0, p.Tk, s, bk);
    online_softmax_block(p, b, i0, bq, j0, bk, s, acc, m, l);
    block_mma<false, true>(bq, p.Dv, bk, s, bk, v, p.Dv, acc, p.Dv);
  }
  for (int64_t r = 0; r < bq; ++r) {
    const int64_t i = b * p.Tq + i0 + r;
    const bool seen = l[r] > T(0);  // a row that saw no key outputs 0 with lse = -inf
    const T inv = seen ? T(1) / l[r] : T(0);
    lse[i] = seen ? m[r] + std::log(l[r]) : -std::numeric_limits<T>::infinity();
    T* o = out + i * p.Dv;
    const T* ar = acc + r * p.Dv;
#pragma omp simd
    for (int64_t d = 0; d < p.Dv; ++d) o[d] = ar[d] * inv;
  }
}

}  // namespace

template <class T>
void scaled_dot_product_attention_forward(const Context&, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv,
                  const T* q, const T* k, const T* v, const T* mask, int64_t mask_batch_stride,
                  bool is_causal, double scale, T* out, T* lse) {
  const std::vector<T> kt = transpose_batch(B, Tk, D, k);
  const Problem<T> p{B, Tq, Tk, D, Dv, q, k, v, mask, mask_batch_stride, is_causal, T(scale),
                     kt.data(), nullptr};
  const int64_t qblocks = (Tq + kBlockQ - 1) / kBlockQ;
#pragma omp parallel if (B * Tq * std::max<int64_t>(Tk, 1) > 4096)
  {
    std::vector<T> s(kBlockQ * kBlockK), acc(size_t(kBlockQ) * Dv), m(kBlockQ), l(kBlockQ);
    // Dynamic: with a causal mask later query blocks have more keys to visit.
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t qb = 0; qb < qblocks; ++qb)
        forward_block(p, b, qb * kBlockQ, out, lse, s.data(), acc.data(), m.data(), l.data());
  }
}

namespace {

// Backward for queries [i0, i0 + bq) and keys [j0, j0 + bk): turns the raw scores pb into
// P = exp(s - lse) and dP = dO V^T (in ds) into dS = P * (dP - Delta), both 0 where the key is
// hidden or the row saw no key. Compiled for AVX2 and AVX-512 (one exp per score).
template <class T>
EMBER_AVX512_CLONES void probabilities_and_ds(const Problem<T>& p, int64_t b, int64_t i0,
                                              int64_t bq, int64_t j0, int64_t bk, const T* lse,
                                              const T* delta, T* pb, T* ds) {
  for (int64_t r = 0; r < bq; ++r) {
    const int64_t i = b * p.Tq + i0 + r;
    const int64_t n = lse[i] == -std::numeric_limits<T>::infinity()
                          ? 0  // the row saw no key at all
                          : visible_keys(p.causal, i0 + r, j0, bk);
    T* pr = pb + r * bk;
    T* dr = ds + r * bk;
    finish_scores(pr, n, p.scale, p.mask_row(b, i0 + r, j0));
    const T li = lse[i], di = delta[i];
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) {
      pr[j] = vexp(pr[j] - li);
      dr[j] = pr[j] * (dr[j] - di);
    }
    std::fill(pr + n, pr + bk, T(0));
    std::fill(dr + n, dr + bk, T(0));
  }
}

// Backward over the key blocks [kb_begin, kb_end) of batch b, for every query block that can see
// them. Adds into grad_k/grad_v rows of those keys (zeroed by the caller) and into dq
// (Tq x D, zeroed by the caller). Scratch: pb and ds (kBlockQ x kBlockK). Scaling by `scale` of
// dq and grad_k is left to the caller.
template <class T>
void backward_keys(const Problem<T>& p, int64_t b, int64_t kb_begin, int64_t kb_end,
                   const T* grad_out, const T* lse, const T* delta, T* grad_k, T* grad_v, T* dq,
                   T* pb, T* ds) {
  const int64_t qblocks = (p.Tq + kBlockQ - 1) / kBlockQ;
  for (int64_t kb = kb_begin; kb < kb_end; ++kb) {
    const int64_t j0 = kb * kBlockK, bk = std::min(kBlockK, p.Tk - j0);
    const T* k = p.k + (b * p.Tk + j0) * p.D;
    T* dk = grad_k + (b * p.Tk + j0) * p.D;
    T* dv = grad_v + (b * p.Tk + j0) * p.Dv;
    const T* kt = p.kt + b * p.D * p.Tk + j0;   // rows p.Tk apart
    const T* vt = p.vt + b * p.Dv * p.Tk + j0;
    // Causal: queries before j0 see none of these keys.
    for (int64_t qb = p.causal ? j0 / kBlockQ : 0; qb < qblocks; ++qb) {
      const int64_t i0 = qb * kBlockQ, bq = std::min(kBlockQ, p.Tq - i0);
      const T* q = p.q + (b * p.Tq + i0) * p.D;
      const T* go = grad_out + (b * p.Tq + i0) * p.Dv;
      block_mma<false, false>(bq, bk, p.D, q, p.D, kt, p.Tk, pb, bk);     // raw scores
      block_mma<false, false>(bq, bk, p.Dv, go, p.Dv, vt, p.Tk, ds, bk);  // dP = dO V^T
      probabilities_and_ds(p, b, i0, bq, j0, bk, lse, delta, pb, ds);
      block_mma<true, true>(bk, p.Dv, bq, pb, bk, go, p.Dv, dv, p.Dv);  // dV += P^T dO
      block_mma<true, true>(bk, p.D, bq, ds, bk, q, p.D, dk, p.D);      // dK += dS^T Q
      block_mma<false, true>(bq, p.D, bk, ds, bk, k, p.D, dq + i0 * p.D, p.D);  // dQ += dS K
    }
  }
}

}  // namespace

template <class T>
void scaled_dot_product_attention_backward(const Context&, int64_t B, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv,
                   const T* grad_out, const T* q, const T* k, const T* v, const T* mask,
                   int64_t mask_batch_stride, bool is_causal, double scale, const T* out,
                   const T* lse, T* grad_q, T* grad_k, T* grad_v) {
  const std::vector<T> kt = transpose_batch(B, Tk, D, k), vt = transpose_batch(B, Tk, Dv, v);
  const Problem<T> p{B, Tq, Tk, D, Dv, q, k, v, mask, mask_batch_stride, is_causal, T(scale),
                     kt.data(), vt.data()};
  const bool parallel = B * Tq * std::max<int64_t>(Tk, 1) > 4096;
  const int threads = parallel ? omp_get_max_threads() : 1;
  const int64_t kblocks = (Tk + kBlockK - 1) / kBlockK;
  // Split each b's key blocks over several tasks only when b alone cannot feed every thread.
  const int64_t splits = std::clamp<int64_t>((threads + B - 1) / std::max<int64_t>(B, 1), 1,
                                             std::max<int64_t>(kblocks, 1));
  std::vector<T> delta(size_t(B * Tq));
  std::vector<T> dq_parts(splits > 1 ? size_t(B * splits * Tq * D) : 0);
#pragma omp parallel num_threads(threads) if (parallel)
  {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < B * Tq; ++i) {  // Delta_i = rowsum(dO * O)
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < Dv; ++d) s += grad_out[i * Dv + d] * out[i * Dv + d];
      delta[i] = s;
    }
    std::vector<T> pb(kBlockQ * kBlockK), ds(kBlockQ * kBlockK);
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t part = 0; part < splits; ++part) {
        const int64_t kb0 = kblocks * part / splits, kb1 = kblocks * (part + 1) / splits;
        T* dq = splits > 1 ? dq_parts.data() + (b * splits + part) * Tq * D : grad_q + b * Tq * D;
        std::fill(dq, dq + Tq * D, T(0));
        const int64_t j0 = kb0 * kBlockK, j1 = std::min(Tk, kb1 * kBlockK);
        std::fill(grad_k + (b * Tk + j0) * D, grad_k + (b * Tk + j1) * D, T(0));
        std::fill(grad_v + (b * Tk + j0) * Dv, grad_v + (b * Tk + j1) * Dv, T(0));
        backward_keys(p, b, kb0, kb1, grad_out, lse, delta.data(), grad_k, grad_v, dq, pb.data(),
                      ds.data());
        const T sc = p.scale;
#pragma omp simd
        for (int64_t x = (b * Tk + j0) * D; x < (b * Tk + j1) * D; ++x) grad_k[x] *= sc;
        if (splits == 1) {
#pragma omp simd
          for (int64_t x = 0; x < Tq * D; ++x) dq[x] *= sc;
        }
      }
    if (splits > 1) {
#pragma omp for schedule(static)
      for (int64_t x = 0; x < B * Tq * D; ++x) {
        const int64_t b = x / (Tq * D), off = x % (Tq * D);
        T s = 0;
        for (int64_t part = 0; part < splits; ++part)
          s += dq_parts[(b * splits + part) * Tq * D + off];
        grad_q[x] = p.scale * s;
      }
    }
  }
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void scaled_dot_product_attention_forward<T>(const Context&, int64_t, int64_t, int64_t, int64_t, int64_t,     \
                                const T*, const T*, const T*, const T*, int64_t, bool, double,   \
                                T*, T*);                                                         \
  template void scaled_dot_product_attention_backward<T>(const Context&, int64_t, int64_t, int64_t, int64_t, int64_t,    \
                                 const T*, const T*, const T*, const T*, const T*, int64_t,      \
                                 bool, double, const T*, const T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::cpu
