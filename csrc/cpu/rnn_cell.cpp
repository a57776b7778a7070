// LSTM and GRU cell kernels: the elementwise work of one time step. See csrc/common/rnn_cell_contract.h.
// Parallel over the batch; each batch row is a function vectorised along the hidden units
// (sigmoid/tanh from vec_math.h) and compiled for AVX2 and AVX-512 (EMBER_AVX512_CLONES).
#include "cpu/rnn_cell.h"

#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

constexpr int64_t kParallelGrain = 1 << 14;

// One batch row of the LSTM backward. HasH/HasC say whether grad_h/grad_c were given (a missing
// gradient is zero); as template parameters they keep the inner loop free of branches.
template <bool HasH, bool HasC, class T>
EMBER_AVX512_CLONES void lstm_backward_row(int64_t H, const T* grad_h, const T* grad_c,
                                           const T* act, const T* c_prev, const T* c_out,
                                           T* grad_gates, T* grad_c_prev) {
  const T *i = act, *f = act + H, *g = act + 2 * H, *o = act + 3 * H;
  T *di = grad_gates, *df = grad_gates + H, *dg = grad_gates + 2 * H, *dout = grad_gates + 3 * H;
#pragma omp simd
  for (int64_t k = 0; k < H; ++k) {
    const T gh = HasH ? grad_h[k] : T(0);
    const T tc = vtanh(c_out[k]);
    const T dc = (HasC ? grad_c[k] : T(0)) + gh * o[k] * (T(1) - tc * tc);
    di[k] = dc * g[k] * i[k] * (T(1) - i[k]);
    df[k] = dc * c_prev[k] * f[k] * (T(1) - f[k]);
    dg[k] = dc * i[k] * (T(1) - g[k] * g[k]);
    dout[k] = gh * tc * o[k] * (T(1) - o[k]);
    grad_c_prev[k] = dc * f[k];
  }
}

// Unit k's four values into the four H-long blocks of a saved row (LSTM act, GRU saved).
template <class T>
inline void store_four_blocks(T* row, int64_t H, int64_t k, T a, T b, T c, T d) {
  row[k] = a;
  row[H + k] = b;
  row[2 * H + k] = c;
  row[3 * H + k] = d;
}

// One batch row of the LSTM forward: a (4H) pre-activations, s (4H) activations written.
template <class T>
EMBER_AVX512_CLONES void lstm_forward_row(int64_t H, const T* a, const T* cp, T* h, T* c, T* s) {
#pragma omp simd
  for (int64_t k = 0; k < H; ++k) {
    const T i = vsigmoid(a[k]), f = vsigmoid(a[H + k]), g = vtanh(a[2 * H + k]),
            o = vsigmoid(a[3 * H + k]);
    const T cn = f * cp[k] + i * g;
    c[k] = cn;
    h[k] = o * vtanh(cn);
    store_four_blocks(s, H, k, i, f, g, o);
  }
}

// One batch row of the GRU forward: xi, hi (3H) GEMM outputs, s (4H) saved values written.
template <class T>
EMBER_AVX512_CLONES void gru_forward_row(int64_t H, const T* xi, const T* hi, const T* hp, T* h,
                                         T* s) {
#pragma omp simd
  for (int64_t k = 0; k < H; ++k) {
    const T r = vsigmoid(xi[k] + hi[k]);
    const T z = vsigmoid(xi[H + k] + hi[H + k]);
    const T hn = hi[2 * H + k];
    const T n = vtanh(xi[2 * H + k] + r * hn);
    h[k] = (T(1) - z) * n + z * hp[k];
    store_four_blocks(s, H, k, r, z, n, hn);
  }
}

// One batch row of the GRU backward (see gru_cell_backward).
template <class T>
EMBER_AVX512_CLONES void gru_backward_row(int64_t H, const T* g, const T* s, const T* hp, T* dxi,
                                          T* dhi, T* dh) {
#pragma omp simd
  for (int64_t k = 0; k < H; ++k) {
    const T r = s[k], z = s[H + k], n = s[2 * H + k], hn = s[3 * H + k];
    const T dn = g[k] * (T(1) - z) * (T(1) - n * n);  // through tanh, w.r.t. its argument
    const T dr = dn * hn * r * (T(1) - r);
    const T dz = g[k] * (hp[k] - n) * z * (T(1) - z);
    dxi[k] = dr;
    dxi[H + k] = dz;
    dxi[2 * H + k] = dn;
    dhi[k] = dr;
    dhi[H + k] = dz;
    dhi[2 * H + k] = dn * r;
    dh[k] = g[k] * z;
  }
}

}  // namespace

template <class T>
void lstm_cell_forward(const Context&, int64_t B, int64_t H, const T* gates, const T* c_prev,
                       T* h_out, T* c_out, T* act) {
#pragma omp parallel for schedule(static) if (B * H > kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    lstm_forward_row(H, gates + b * 4 * H, c_prev + b * H, h_out + b * H, c_out + b * H,
                     act + b * 4 * H);
}

template <class T>
void lstm_cell_backward(const Context&, int64_t B, int64_t H, const T* grad_h, const T* grad_c,
                        const T* act, const T* c_prev, const T* c_out, T* grad_gates,
                        T* grad_c_prev) {
#pragma omp parallel for schedule(static) if (B * H > kParallelGrain)
  for (int64_t b = 0; b < B; ++b) {
    const T* gh = grad_h ? grad_h + b * H : nullptr;
    const T* gc = grad_c ? grad_c + b * H : nullptr;
    const int64_t r = b * H, r4 = b * 4 * H;
    auto row = [&](auto kernel) {
      kernel(H, gh, gc, act + r4, c_prev + r, c_out + r, grad_gates + r4, grad_c_prev + r);
    };
    if (gh && gc)
      row(lstm_backward_row<true, true, T>);
    else if (gh)
      row(lstm_backward_row<true, false, T>);
    else if (gc)
      row(lstm_backward_row<false, true, T>);
    else
      row(lstm_backward_row<false, false, T>);
  }
}

template <class T>
void gru_cell_forward(const Context&, int64_t B, int64_t H, const T* gi, const T* gh,
                      const T* h_prev, T* h_out, T* saved) {
#pragma omp parallel for schedule(static) if (B * H > kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    gru_forward_row(H, gi + b * 3 * H, gh + b * 3 * H, h_prev + b * H, h_out + b * H,
                    saved + b * 4 * H);
}

template <class T>
void gru_cell_backward(const Context&, int64_t B, int64_t H, const T* grad_h, const T* saved,
                       const T* h_prev, T* grad_gi, T* grad_gh, T* grad_h_prev) {
#pragma omp parallel for schedule(static) if (B * H > kParallelGrain)
  for (int64_t b = 0; b < B; ++b)
    gru_backward_row(H, grad_h + b * H, saved + b * 4 * H, h_prev + b * H, grad_gi + b * 3 * H,
                     grad_gh + b * 3 * H, grad_h_prev + b * H);
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void lstm_cell_forward<T>(const Context&, int64_t, int64_t, const T*, const T*, T*,   \
                                     T*, T*);                                                    \
  template void lstm_cell_backward<T>(const Context&, int64_t, int64_t, const T*, const T*,      \
                                      const T*, const T*, const T*, T*, T*);                     \
  template void gru_cell_forward<T>(const Context&, int64_t, int64_t, const T*, const T*,        \
                                    const T*, T*, T*);                                           \
  template void gru_cell_backward<T>(const Context&, int64_t, int64_t, const T*, const T*,       \
                                     const T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::cpu
