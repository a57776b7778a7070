// GEMM family: C = alpha * op(A) @ op(B) + beta * C, then an optional fused epilogue. The
// contract of the family, written once for both backends: csrc/cpu/gemm.h and
// csrc/cuda/gemm.cuh include this file inside their own namespace after declaring their Context
// (and common/epilogue.h), so it has no include guard and includes nothing itself; each of those
// headers adds its implementation notes.

// Strided-batched, row-major GEMM.
// For b in [0, batch): C_b (M x N, leading dim ldc) = alpha * op(A_b) @ op(B_b) + beta * C_b,
// then C_b += bias (per column or per row) and the activation is applied.
// op(A_b) is M x K: A_b is M x K (lda >= K) or, with trans_a, K x M (lda >= M); likewise B.
// A_b = A + b * stride_a (stride 0 broadcasts one matrix over the batch); same for B and C.
// When beta == 0, C is not read (it may hold NaN). batch, M or N == 0 writes nothing.
// FLOPs: 2 * batch * M * N * K. Minimum bytes: sizeof(T) * batch * (M*K + K*N + M*N (+M*N if beta)).
template <class T>
void gemm(const Context& ctx, bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N,
          int64_t K, T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
          int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c,
          const Epilogue<T>& epilogue = {});
