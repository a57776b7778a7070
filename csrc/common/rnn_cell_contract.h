// Recurrent cells: the elementwise part of one LSTM or GRU step. The matrix products (x @ W_ih^T, h
// @ W_hh^T and their gradients) are GEMMs done by the caller; these kernels fuse everything between
// them. This is the contract of the family, written once for both backends. csrc/cpu/rnn_cell.h and
// csrc/cuda/rnn_cell.cuh include this file inside their own namespace after declaring their
// Context, so it has no include guard and includes nothing itself; each adds its implementation
// notes.
//
// Gate order is PyTorch's: LSTM i, f, g, o; GRU r, z, n. All arrays C-contiguous, row b of a
// (B, k*H) array holds the k gate blocks of length H. B*H == 0 writes nothing.

// LSTM step. gates (B,4H) are the pre-activations x W_ih^T + b_ih + h W_hh^T + b_hh (read).
//   i = sigmoid(gates_i), f = sigmoid(gates_f), g = tanh(gates_g), o = sigmoid(gates_o)
//   c_out = f * c_prev + i * g,  h_out = o * tanh(c_out)
// Reads gates (B,4H), c_prev (B,H); writes h_out, c_out (B,H) and act (B,4H) = [i, f, g, o]
// (the activated gates, saved for the backward). FLOPs ~ 10*B*H + 5 transcendentals per unit;
// bytes 11*B*H*sizeof(T).
template <class T>
void lstm_cell_forward(const Context& ctx, int64_t B, int64_t H, const T* gates, const T* c_prev,
                       T* h_out, T* c_out, T* act);

// LSTM step backward. grad_h, grad_c (B,H) are the gradients reaching h_out and c_out (either may
// be nullptr, meaning zero). Reads act (B,4H), c_prev, c_out (B,H); writes grad_gates (B,4H)
// (gradient w.r.t. the pre-activation gates) and grad_c_prev (B,H).
// FLOPs ~ 20*B*H + 1 tanh per unit; bytes 13*B*H*sizeof(T).
template <class T>
void lstm_cell_backward(const Context& ctx, int64_t B, int64_t H, const T* grad_h,
                        const T* grad_c, const T* act, const T* c_prev, const T* c_out,
                        T* grad_gates, T* grad_c_prev);

// GRU step. gi (B,3H) = x W_ih^T + b_ih, gh (B,3H) = h_prev W_hh^T + b_hh (read):
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n)
//   h_out = (1 - z) * n + z * h_prev
// Reads gi, gh (B,3H), h_prev (B,H); writes h_out (B,H) and saved (B,4H) = [r, z, n, gh_n].
// FLOPs ~ 10*B*H + 3 transcendentals per unit; bytes 12*B*H*sizeof(T).
template <class T>
void gru_cell_forward(const Context& ctx, int64_t B, int64_t H, const T* gi, const T* gh,
                      const T* h_prev, T* h_out, T* saved);

// GRU step backward. Reads grad_h (B,H) (gradient reaching h_out), saved (B,4H), h_prev (B,H);
// writes grad_gi (B,3H), grad_gh (B,3H) (gradients w.r.t. the two GEMM outputs) and grad_h_prev
// (B,H) = grad_h * z, the direct path only: the caller adds grad_gh @ W_hh.
// FLOPs ~ 20*B*H; bytes 14*B*H*sizeof(T).
template <class T>
void gru_cell_backward(const Context& ctx, int64_t B, int64_t H, const T* grad_h, const T* saved,
                       const T* h_prev, T* grad_gi, T* grad_gh, T* grad_h_prev);
