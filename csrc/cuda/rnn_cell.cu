// LSTM and GRU cell kernels; see rnn_cell.cuh. Thread e handles unit (b, k) = (e / H, e % H).
#include "cuda/check.cuh"
#include "cuda/rnn_cell.cuh"

namespace ember::cuda {
namespace {

// Unit k's four values into the four H-long blocks of its saved row; `unit` points at the unit
// in the first block (LSTM act, GRU saved).
template <class T>
__device__ __forceinline__ void store_four_blocks(T* unit, int64_t H, T a, T b, T c, T d) {
  unit[0] = a;
  unit[H] = b;
  unit[2 * H] = c;
  unit[3 * H] = d;
}

template <class T>
__global__ void lstm_forward_kernel(int64_t B, int64_t H, const T* __restrict__ gates, const T* __restrict__ c_prev,
                                    T* __restrict__ h_out, T* __restrict__ c_out, T* __restrict__ act) {
  for (int64_t e : grid_stride(B * H)) {
    const int64_t b = e / H, k = e % H;
    const T* a = gates + b * 4 * H + k;
    T* s = act + b * 4 * H + k;
    const T i = dev_sigmoid(a[0]), f = dev_sigmoid(a[H]), g = dev_tanh(a[2 * H]), o = dev_sigmoid(a[3 * H]);
    const T c = f * c_prev[e] + i * g;
    c_out[e] = c;
    h_out[e] = o * dev_tanh(c);
    store_four_blocks(s, H, i, f, g, o);
  }
}

template <class T>
__global__ void lstm_backward_kernel(int64_t B, int64_t H, const T* __restrict__ grad_h, const T* __restrict__ grad_c,
                                     const T* __restrict__ act, const T* __restrict__ c_prev,
                                     const T* __restrict__ c_out, T* __restrict__ grad_gates,
                                     T* __restrict__ grad_c_prev) {
  for (int64_t e : grid_stride(B * H)) {
    const int64_t b = e / H, k = e % H;
    const T* s = act + b * 4 * H + k;
    T* d = grad_gates + b * 4 * H + k;
    const T i = s[0], f = s[H], g = s[2 * H], o = s[3 * H];
    const T gh = grad_h ? grad_h[e] : T(0);
    const T tc = dev_tanh(c_out[e]);
    const T dc = (grad_c ? grad_c[e] : T(0)) + gh * o * (T(1) - tc * tc);
    d[0] = dc * g * i * (T(1) - i);
    d[H] = dc * c_prev[e] * f * (T(1) - f);
    d[2 * H] = dc * i * (T(1) - g * g);
    d[3 * H] = gh * tc * o * (T(1) - o);
    grad_c_prev[e] = dc * f;
  }
}

template <class T>
__global__ void gru_forward_kernel(int64_t B, int64_t H, const T* __restrict__ gi, const T* __restrict__ gh,
                                   const T* __restrict__ h_prev, T* __restrict__ h_out, T* __restrict__ saved) {
  for (int64_t e : grid_stride(B * H)) {
    const int64_t b = e / H, k = e % H;
    const T* xi = gi + b * 3 * H + k;
    const T* hi = gh + b * 3 * H + k;
    T* s = saved + b * 4 * H + k;
    const T r = dev_sigmoid(xi[0] + hi[0]);
    const T z = dev_sigmoid(xi[H] + hi[H]);
    const T hn = hi[2 * H];
    const T n = dev_tanh(xi[2 * H] + r * hn);
    h_out[e] = (T(1) - z) * n + z * h_prev[e];
    store_four_blocks(s, H, r, z, n, hn);
  }
}

template <class T>
__global__ void gru_backward_kernel(int64_t B, int64_t H, const T* __restrict__ grad_h, const T* __restrict__ saved,
                                    const T* __restrict__ h_prev, T* __restrict__ grad_gi, T* __restrict__ grad_gh,
                                    T* __restrict__ grad_h_prev) {
  for (int64_t e : grid_stride(B * H)) {
    const int64_t b = e / H, k = e % H;
    const T* s = saved + b * 4 * H + k;
    T* dxi = grad_gi + b * 3 * H + k;
    T* dhi = grad_gh + b * 3 * H + k;
    const T r = s[0], z = s[H], n = s[2 * H], hn = s[3 * H], g = grad_h[e];
    const T dn = g * (T(1) - z) * (T(1) - n * n);  // through tanh, w.r.t. its argument
    const T dr = dn * hn * r * (T(1) - r);
    const T dz = g * (h_prev[e] - n) * z * (T(1) - z);
    dxi[0] = dr;
    dxi[H] = dz;
    dxi[2 * H] = dn;
    dhi[0] = dr;
    dhi[H] = dz;
    dhi[2 * H] = dn * r;
    grad_h_prev[e] = g * z;
  }
}

}  // namespace

template <class T>
void lstm_cell_forward(const Context& ctx, int64_t B, int64_t H, const T* gates, const T* c_prev, T* h_out, T* c_out,
                       T* act) {
  launch_1d(ctx, "lstm_cell_forward", B * H, lstm_forward_kernel<T>, B, H, gates, c_prev, h_out, c_out, act);
}

template <class T>
void lstm_cell_backward(const Context& ctx, int64_t B, int64_t H, const T* grad_h, const T* grad_c, const T* act,
                        const T* c_prev, const T* c_out, T* grad_gates, T* grad_c_prev) {
  launch_1d(ctx, "lstm_cell_backward", B * H, lstm_backward_kernel<T>, B, H, grad_h, grad_c, act, c_prev, c_out,
            grad_gates, grad_c_prev);
}

template <class T>
void gru_cell_forward(const Context& ctx, int64_t B, int64_t H, const T* gi, const T* gh, const T* h_prev, T* h_out,
                      T* saved) {
  launch_1d(ctx, "gru_cell_forward", B * H, gru_forward_kernel<T>, B, H, gi, gh, h_prev, h_out, saved);
}

template <class T>
void gru_cell_backward(const Context& ctx, int64_t B, int64_t H, const T* grad_h, const T* saved, const T* h_prev,
                       T* grad_gi, T* grad_gh, T* grad_h_prev) {
  launch_1d(ctx, "gru_cell_backward", B * H, gru_backward_kernel<T>, B, H, grad_h, saved, h_prev, grad_gi, grad_gh,
            grad_h_prev);
}

#define EMBER_CUDA_INSTANTIATE_RNN_CELL(T)                                                                        \
  template void lstm_cell_forward<T>(const Context&, int64_t, int64_t, const T*, const T*, T*, T*, T*);           \
  template void lstm_cell_backward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*, const T*,   \
                                      const T*, T*, T*);                                                          \
  template void gru_cell_forward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*, T*, T*);      \
  template void gru_cell_backward<T>(const Context&, int64_t, int64_t, const T*, const T*, const T*, T*, T*, T*);

EMBER_CUDA_INSTANTIATE_RNN_CELL(float)
EMBER_CUDA_INSTANTIATE_RNN_CELL(double)
#undef EMBER_CUDA_INSTANTIATE_RNN_CELL

}  // namespace ember::cuda
