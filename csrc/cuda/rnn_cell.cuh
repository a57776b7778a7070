// Recurrent cells (CUDA): the declarations of csrc/cpu/rnn_cell.h with the CUDA context and the
// same contracts: the elementwise part of one LSTM (gates i, f, g, o) or GRU (r, z, n) step,
// between the GEMMs the caller runs. Row b of a (B, k*H) array holds k gate blocks of length H.
// One thread per (b, h) unit computes all of that unit's gates, so each thread reads and writes
// every gate value of its unit once (neighbouring threads take neighbouring h: coalesced).
#pragma once
#include <cstdint>

#include "cuda/context.cuh"

namespace ember::cuda {

// LSTM step: reads gates (B,4H) (pre-activations), c_prev (B,H); writes h_out, c_out (B,H) and
// act (B,4H) = [i, f, g, o]. FLOPs ~ 10*B*H + 5 transcendentals per unit; bytes 11*B*H*sizeof(T).
template <class T>
void lstm_cell_forward(const Context& ctx, int64_t B, int64_t H, const T* gates, const T* c_prev, T* h_out, T* c_out,
                       T* act);

// LSTM backward: grad_h, grad_c (B,H) may each be nullptr (zero). Reads act, c_prev, c_out;
// writes grad_gates (B,4H) and grad_c_prev (B,H). FLOPs ~ 20*B*H; bytes 13*B*H*sizeof(T).
template <class T>
void lstm_cell_backward(const Context& ctx, int64_t B, int64_t H, const T* grad_h, const T* grad_c, const T* act,
                        const T* c_prev, const T* c_out, T* grad_gates, T* grad_c_prev);

// GRU step: reads gi, gh (B,3H), h_prev (B,H); writes h_out (B,H) and saved (B,4H) = [r, z, n, gh_n].
// FLOPs ~ 10*B*H + 3 transcendentals per unit; bytes 12*B*H*sizeof(T).
template <class T>
void gru_cell_forward(const Context& ctx, int64_t B, int64_t H, const T* gi, const T* gh, const T* h_prev, T* h_out,
                      T* saved);

// GRU backward: reads grad_h (B,H), saved (B,4H), h_prev (B,H); writes grad_gi, grad_gh (B,3H)
// and grad_h_prev (B,H) = grad_h * z (the direct path). FLOPs ~ 20*B*H; bytes 14*B*H*sizeof(T).
template <class T>
void gru_cell_backward(const Context& ctx, int64_t B, int64_t H, const T* grad_h, const T* saved, const T* h_prev,
                       T* grad_gi, T* grad_gh, T* grad_h_prev);

}  // namespace ember::cuda
