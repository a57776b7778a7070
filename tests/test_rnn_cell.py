"""LSTM and GRU cell kernels against NumPy float64 references (PyTorch gate order)."""
import numpy as np
import pytest
from ember.ops.table import sigmoid_ref as sigmoid
from kernel_checks import DTYPES, assert_close, check_gradients


# ---- float64 references ------------------------------------------------------------------------
def lstm_ref(gates, c_prev):
    i, f, g, o = np.split(gates, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c, np.concatenate([i, f, g, o], axis=1)


def lstm_backward_ref(grad_h, grad_c, gates, c_prev):
    """Chain rule through h = o * tanh(c), c = f * c_prev + i * g, then the activations."""
    _, c, act = lstm_ref(gates, c_prev)
    i, f, g, o = np.split(act, 4, axis=1)
    dc = grad_c + grad_h * o * (1 - np.tanh(c) ** 2)
    d_pre = [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
             grad_h * np.tanh(c) * o * (1 - o)]
    return np.concatenate(d_pre, axis=1), dc * f


def gru_ref(gi, gh, h_prev):
    ir, iz, in_ = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = sigmoid(ir + hr), sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h_prev, np.concatenate([r, z, n, hn], axis=1)


def gru_backward_ref(grad_h, gi, gh, h_prev):
    _, saved = gru_ref(gi, gh, h_prev)
    r, z, n, hn = np.split(saved, 4, axis=1)
    d_n_pre = grad_h * (1 - z) * (1 - n**2)
    d_r_pre = d_n_pre * hn * r * (1 - r)
    d_z_pre = grad_h * (h_prev - n) * z * (1 - z)
    grad_gi = np.concatenate([d_r_pre, d_z_pre, d_n_pre], axis=1)
    grad_gh = np.concatenate([d_r_pre, d_z_pre, d_n_pre * r], axis=1)
    return grad_gi, grad_gh, grad_h * z


# ---- LSTM ----------------------------------------------------------------------------------------
def run_lstm(kernels, gates, c_prev):
    B, H = c_prev.shape
    h, c, act = (kernels.empty((B, H), gates.dtype), kernels.empty((B, H), gates.dtype),
                 kernels.empty((B, 4 * H), gates.dtype))
    kernels.C.lstm_cell_forward(kernels.asarray(gates), kernels.asarray(c_prev), h, c, act)
    return h, c, act


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("B,H", [(1, 1), (7, 5), (3, 73), (0, 4), (64, 64)])
@pytest.mark.parametrize("grads", ["both", "h", "c", "none"])
def test_lstm_cell(kernels, rng, dtype, B, H, grads):
    gates = (rng.standard_normal((B, 4 * H)) * 3).astype(dtype)
    if gates.size:
        gates.flat[0], gates.flat[-1] = 60, -60  # saturated gates stay finite
    c_prev = rng.standard_normal((B, H)).astype(dtype)
    h, c, act = run_lstm(kernels, gates, c_prev)
    f64 = (lambda a: a.astype(np.float64))
    rh, rc, ract = lstm_ref(f64(gates), f64(c_prev))
    assert_close(kernels.numpy(h), rh, dtype, scale=1)
    assert_close(kernels.numpy(c), rc, dtype, scale=1)
    assert_close(kernels.numpy(act), ract, dtype, scale=1)

    gh = rng.standard_normal((B, H)).astype(dtype) if grads in ("both", "h") else None
    gc = rng.standard_normal((B, H)).astype(dtype) if grads in ("both", "c") else None
    grad_gates, grad_c_prev = kernels.empty((B, 4 * H), dtype), kernels.empty((B, H), dtype)
    kernels.C.lstm_cell_backward(None if gh is None else kernels.asarray(gh),
                                 None if gc is None else kernels.asarray(gc), act,
                                 kernels.asarray(c_prev), c, grad_gates, grad_c_prev)
    zero = np.zeros((B, H))
    rgg, rgc = lstm_backward_ref(zero if gh is None else f64(gh), zero if gc is None else f64(gc),
                                 f64(gates), f64(c_prev))
    scale = float(np.abs(c_prev).max(initial=1)) * 4
    assert_close(kernels.numpy(grad_gates), rgg, dtype, scale=scale)
    assert_close(kernels.numpy(grad_c_prev), rgc, dtype, scale=scale)


def test_lstm_cell_finite_differences(kernels, rng):
    B, H = 2, 3
    gates0, c0 = rng.standard_normal((B, 4 * H)), rng.standard_normal((B, H))
    ph, pc = rng.standard_normal((B, H)), rng.standard_normal((B, H))

    def f(a):
        h, c, _ = run_lstm(kernels, a[0], a[1])
        return float(np.sum(kernels.numpy(h) * ph) + np.sum(kernels.numpy(c) * pc))

    _, c, act = run_lstm(kernels, gates0, c0)
    gg, gc = kernels.empty((B, 4 * H), np.float64), kernels.empty((B, H), np.float64)
    kernels.C.lstm_cell_backward(kernels.asarray(ph), kernels.asarray(pc), act,
                                 kernels.asarray(c0), c, gg, gc)
    check_gradients(f, [gates0, c0], [kernels.numpy(gg), kernels.numpy(gc)], rng)


# ---- GRU -----------------------------------------------------------------------------------------
def run_gru(kernels, gi, gh, h_prev):
    B, H = h_prev.shape
    h, saved = kernels.empty((B, H), gi.dtype), kernels.empty((B, 4 * H), gi.dtype)
    kernels.C.gru_cell_forward(kernels.asarray(gi), kernels.asarray(gh), kernels.asarray(h_prev),
                               h, saved)
    return h, saved


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("B,H", [(1, 1), (7, 5), (3, 73), (0, 4), (64, 64)])
def test_gru_cell(kernels, rng, dtype, B, H):
    gi = (rng.standard_normal((B, 3 * H)) * 3).astype(dtype)
    gh = (rng.standard_normal((B, 3 * H)) * 3).astype(dtype)
    if gi.size:
        gi.flat[0], gi.flat[-1] = 60, -60
    h_prev = rng.standard_normal((B, H)).astype(dtype)
    h, saved = run_gru(kernels, gi, gh, h_prev)
    f64 = (lambda a: a.astype(np.float64))
    rh, rsaved = gru_ref(f64(gi), f64(gh), f64(h_prev))
    assert_close(kernels.numpy(h), rh, dtype, scale=1)
    assert_close(kernels.numpy(saved), rsaved, dtype, scale=1)

    g = rng.standard_normal((B, H)).astype(dtype)
    dgi, dgh, dh = (kernels.empty((B, 3 * H), dtype), kernels.empty((B, 3 * H), dtype),
                    kernels.empty((B, H), dtype))
    kernels.C.gru_cell_backward(kernels.asarray(g), saved, kernels.asarray(h_prev), dgi, dgh, dh)
    rgi, rgh, rdh = gru_backward_ref(f64(g), f64(gi), f64(gh), f64(h_prev))
    scale = float(np.abs(gh).max(initial=1) + np.abs(h_prev).max(initial=1))
    assert_close(kernels.numpy(dgi), rgi, dtype, scale=scale)
    assert_close(kernels.numpy(dgh), rgh, dtype, scale=scale)
    assert_close(kernels.numpy(dh), rdh, dtype, scale=1)


def test_gru_cell_finite_differences(kernels, rng):
    B, H = 2, 3
    gi0, gh0, h0 = (rng.standard_normal((B, 3 * H)), rng.standard_normal((B, 3 * H)),
                    rng.standard_normal((B, H)))
    proj = rng.standard_normal((B, H))

    def f(a):
        h, _ = run_gru(kernels, *a)
        return float(np.sum(kernels.numpy(h) * proj))

    _, saved = run_gru(kernels, gi0, gh0, h0)
    grads = [kernels.empty((B, 3 * H), np.float64), kernels.empty((B, 3 * H), np.float64),
             kernels.empty((B, H), np.float64)]
    kernels.C.gru_cell_backward(kernels.asarray(proj), saved, kernels.asarray(h0), *grads)
    check_gradients(f, [gi0, gh0, h0], [kernels.numpy(g) for g in grads], rng)


def test_rnn_cell_argument_errors(kernels):
    f32 = np.float32
    gates = kernels.asarray(np.zeros((2, 8), f32))
    e = lambda *s: kernels.empty(s, f32)
    with pytest.raises(ValueError, match=r"'gates' must have shape \(B, 4\*H\)"):
        kernels.C.lstm_cell_forward(kernels.asarray(np.zeros((2, 7), f32)), e(2, 2), e(2, 2),
                                    e(2, 2), e(2, 8))
    with pytest.raises(ValueError, match="'c_prev' must have shape"):
        kernels.C.lstm_cell_forward(gates, e(2, 3), e(2, 2), e(2, 2), e(2, 8))
    with pytest.raises(TypeError, match="'c_prev' must have the same dtype"):
        kernels.C.lstm_cell_forward(gates, kernels.empty((2, 2), np.float64), e(2, 2), e(2, 2),
                                    e(2, 8))
    with pytest.raises(ValueError, match="'act' must have shape"):
        kernels.C.lstm_cell_forward(gates, e(2, 2), e(2, 2), e(2, 2), e(2, 4))
    with pytest.raises(ValueError, match="'gi' must have 2 dimensions"):
        kernels.C.gru_cell_forward(kernels.asarray(np.zeros(6, f32)), e(2, 6), e(2, 2), e(2, 2),
                                   e(2, 8))
    with pytest.raises(ValueError, match="'gh' must be C-contiguous"):
        kernels.C.gru_cell_forward(kernels.asarray(np.zeros((2, 6), f32)),
                                   kernels.asarray(np.zeros((2, 12), f32))[:, ::2], e(2, 2),
                                   e(2, 2), e(2, 8))
    with pytest.raises(TypeError, match="'saved' must be float32 or float64"):
        kernels.C.gru_cell_backward(e(2, 2), kernels.asarray(np.zeros((2, 8), np.int64)), e(2, 2),
                                    e(2, 6), e(2, 6), e(2, 2))
