// Scaled dot-product attention, fused and memory-efficient (FlashAttention-2 style): the (Tq, Tk)
// score matrix is never stored; key blocks are streamed with an online softmax, and the backward
// recomputes probabilities from the saved log-sum-exp. This is the contract of the family, written
// once for both backends. csrc/cpu/attention.h and csrc/cuda/attention.cuh include this file inside
// their own namespace after declaring their Context, so it has no include guard and includes
// nothing itself; each adds its implementation notes.
//
// Layouts (C-contiguous): q (B,Tq,D), k (B,Tk,D), v (B,Tk,Dv), out (B,Tq,Dv), lse (B,Tq).
// B is batch * heads, flattened by the caller. mask is an optional additive float mask of shape
// (B,Tq,Tk), or (1,Tq,Tk) broadcast over B: mask_batch_stride is Tq*Tk or 0 (nullptr: no mask);
// -inf entries mask a key out. is_causal masks keys j > i for query i (top-left aligned, as
// PyTorch); it combines with mask.
//   s_ij = scale * q_i . k_j + mask_ij,  p_ij = exp(s_ij - lse_i),  out_i = sum_j p_ij v_j
// A query row that sees no key (every s_ij = -inf, or Tk == 0) gets out_i = 0 and lse_i = -inf,
// and contributes no gradient (PyTorch returns NaN there). Empty sizes: B*Tq == 0 writes nothing
// in the forward; in the backward Tq == 0 gives grad_k = grad_v = 0 and Tk == 0 gives grad_q = 0;
// D == 0 makes every score 0 (plus the mask).

// Reads q, k, v, mask; writes out and lse.
// FLOPs 2*B*Tq*Tk*(D + Dv) (halved by is_causal) + B*Tq*Tk exp;
// minimum bytes (B*(Tq*D + Tk*D + Tk*Dv + Tq*Dv + Tq) + mask) * sizeof(T).
template <class T>
void scaled_dot_product_attention_forward(const Context& ctx, int64_t B, int64_t Tq, int64_t Tk,
                                          int64_t D, int64_t Dv, const T* q, const T* k,
                                          const T* v, const T* mask, int64_t mask_batch_stride,
                                          bool is_causal, double scale, T* out, T* lse);

// Reads grad_out (B,Tq,Dv), q, k, v, mask, out, lse; writes grad_q (B,Tq,D), grad_k (B,Tk,D),
// grad_v (B,Tk,Dv). With Delta_i = sum_d grad_out_id * out_id:
//   dp_ij = grad_out_i . v_j,  ds_ij = p_ij * (dp_ij - Delta_i)
//   grad_v_j = sum_i p_ij grad_out_i,  grad_q_i = scale * sum_j ds_ij k_j,
//   grad_k_j = scale * sum_i ds_ij q_i.
// FLOPs 4*B*Tq*Tk*(D + Dv) (halved by is_causal) + B*Tq*Tk exp (the CUDA backward computes S
// and dP twice, ~5*B*Tq*Tk*(D + Dv)).
template <class T>
void scaled_dot_product_attention_backward(const Context& ctx, int64_t B, int64_t Tq, int64_t Tk,
                                           int64_t D, int64_t Dv, const T* grad_out, const T* q,
                                           const T* k, const T* v, const T* mask,
                                           int64_t mask_batch_stride, bool is_causal, double scale,
                                           const T* out, const T* lse, T* grad_q, T* grad_k,
                                           T* grad_v);
