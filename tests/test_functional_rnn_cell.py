"""Tensor-level recurrent cells (ember/ops/rnn_cell.py): lstm_cell, gru_cell, rnn_tanh_cell,
rnn_relu_cell, and the activations on the elementwise kernels (ember/ops/activation.py).

References are NumPy float64 versions of PyTorch's documented cell equations (gate order LSTM
i, f, g, o and GRU r, z, n) and of GELU / SiLU.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.activation import _gelu_composite, gelu, silu
from ember.ops.rnn_cell import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from ember.ops.table import gru_cell_ref as ref_gru
from ember.ops.table import lstm_cell_ref as ref_lstm
from ember.ops.table import sigmoid_ref as sigmoid
from helpers import gelu_ref, host, tensor


def params(rng, gates, i, h):
    return [rng.standard_normal(s) * 0.5 for s in ((gates * h, i), (gates * h, h), (gates * h,), (gates * h,))]


@pytest.mark.parametrize("batch,i,h", [(3, 4, 5), (1, 1, 1), (0, 3, 2), (4, 7, 3)])
def test_lstm_cell_matches_reference(batch, i, h, device, rng):
    x, hx, cx = rng.standard_normal((batch, i)), rng.standard_normal((batch, h)), rng.standard_normal((batch, h))
    p = params(rng, 4, i, h)
    h1, c1 = lstm_cell(tensor(x, device), tensor(hx, device), tensor(cx, device), *(tensor(a, device) for a in p))
    rh, rc = ref_lstm(x, hx, cx, *p)
    np.testing.assert_allclose(host(h1), rh, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(c1), rc, rtol=1e-12, atol=1e-14)


def test_lstm_cell_gradients_unbatched_and_no_bias(device, rng):
    x, hx, cx = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    p = params(rng, 4, 4, 5)
    args = tuple(tensor(a, device, True) for a in [x, hx, cx] + p)
    assert gradcheck(lstm_cell, args)
    assert gradgradcheck(lstm_cell, args)
    # only h used downstream: the kernel's backward gets a zero gradient for c
    assert gradcheck(lambda *a: lstm_cell(*a)[0], args)
    h1, _ = lstm_cell(tensor(x[0], device), tensor(hx[0], device), tensor(cx[0], device),
                      tensor(p[0], device), tensor(p[1], device))
    rh, _ = ref_lstm(x[0], hx[0], cx[0], p[0], p[1], 0, 0)
    assert h1.shape == (5,)
    np.testing.assert_allclose(host(h1), rh, rtol=1e-12)
    h0, _ = lstm_cell(tensor(x, device), None, None, *(tensor(a, device) for a in p))
    np.testing.assert_allclose(host(h0), ref_lstm(x, 0 * hx, 0 * cx, *p)[0], rtol=1e-12)


def test_lstm_cell_with_projected_hidden_state(device, rng):
    """nn.LSTM(proj_size=P): w_hh is (4H, P) and h is (B, P) while c stays (B, H)."""
    x, hx, cx = rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 5))
    w_ih, w_hh = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    h1, c1 = lstm_cell(*(tensor(a, device) for a in (x, hx, cx, w_ih, w_hh)))
    rh, rc = ref_lstm(x, hx, cx, w_ih, w_hh, 0, 0)
    assert h1.shape == (2, 5) and c1.shape == (2, 5)
    np.testing.assert_allclose(host(h1), rh, rtol=1e-12)
    np.testing.assert_allclose(host(c1), rc, rtol=1e-12)


@pytest.mark.parametrize("batch,i,h", [(3, 4, 5), (1, 1, 1), (0, 3, 2)])
def test_gru_cell_matches_reference(batch, i, h, device, rng):
    x, hx = rng.standard_normal((batch, i)), rng.standard_normal((batch, h))
    p = params(rng, 3, i, h)
    out = gru_cell(tensor(x, device), tensor(hx, device), *(tensor(a, device) for a in p))
    np.testing.assert_allclose(host(out), ref_gru(x, hx, *p), rtol=1e-12, atol=1e-14)


def test_gru_cell_gradients(device, rng):
    args = tuple(tensor(a, device, True) for a in [rng.standard_normal((3, 4)), rng.standard_normal((3, 5))]
                 + params(rng, 3, 4, 5))
    assert gradcheck(gru_cell, args)
    assert gradgradcheck(gru_cell, args)


@pytest.mark.parametrize("fn,act", [(rnn_tanh_cell, np.tanh), (rnn_relu_cell, lambda a: np.maximum(a, 0))])
def test_elman_cells(fn, act, device, rng):
    x, hx = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    p = params(rng, 1, 4, 5)
    out = fn(tensor(x, device), tensor(hx, device), *(tensor(a, device) for a in p))
    np.testing.assert_allclose(host(out), act(x @ p[0].T + p[2] + hx @ p[1].T + p[3]), rtol=1e-12)
    args = tuple(tensor(a, device, True) for a in [x, hx] + p)
    assert gradcheck(fn, args)


def test_cell_float32_and_float16(device, rng):
    x, hx, cx = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3))
    p = [a.astype(np.float32) for a in params(rng, 4, 3, 3)]
    h1, _ = lstm_cell(*(ember.tensor(a, device=device) for a in [x, hx, cx] + p))
    assert h1.dtype == ember.float32
    rh, _ = ref_lstm(*(a.astype(np.float64) for a in [x, hx, cx] + p))
    np.testing.assert_allclose(host(h1), rh, rtol=1e-5, atol=1e-6)
    p3 = [a.astype(np.float32) for a in params(rng, 3, 3, 3)]
    h16 = gru_cell(*(ember.tensor(a, device=device).half() for a in [x, hx] + p3))
    assert h16.dtype == ember.float16


def test_cell_errors(device):
    w_ih, w_hh = ember.zeros(20, 4, device=device), ember.zeros(20, 5, device=device)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 3 expected 4"):
        lstm_cell(ember.zeros(2, 3, device=device), None, None, w_ih, w_hh)
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        lstm_cell(ember.zeros(2, 4, device=device), ember.zeros(3, 5, device=device), None, w_ih, w_hh)
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 4, expected 5"):
        lstm_cell(ember.zeros(2, 4, device=device), ember.zeros(2, 4, device=device), None, w_ih, w_hh)
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D instead"):
        gru_cell(ember.zeros(1, 2, 4, device=device), None, ember.zeros(15, 4, device=device),
                 ember.zeros(15, 5, device=device))


# ---- activations -------------------------------------------------------------------------------
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_reference(approximate, device, rng):
    x = rng.standard_normal((4, 7)) * 3
    np.testing.assert_allclose(host(gelu(tensor(x, device), approximate)), gelu_ref(x, approximate),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(host(_gelu_composite(tensor(x, device), approximate)), gelu_ref(x, approximate),
                               rtol=1e-12, atol=1e-15)
    xt = tensor(x[:2], device, True)
    assert gradcheck(lambda x: gelu(x, approximate), (xt,))
    assert gradgradcheck(lambda x: gelu(x, approximate), (xt,))
    assert gelu(ember.zeros(0, 3, device=device)).shape == (0, 3)
    assert gelu(ember.tensor(x, device=device).half()).dtype == ember.float16


def test_silu_matches_reference_and_inplace(device, rng):
    x = rng.standard_normal((3, 5)) * 4
    np.testing.assert_allclose(host(silu(tensor(x, device))), x * sigmoid(x), rtol=1e-12)
    xt = tensor(x, device, True)
    assert gradcheck(silu, (xt,)) and gradgradcheck(silu, (xt,))
    y = tensor(x, device)
    assert silu(y, inplace=True) is y
    np.testing.assert_allclose(host(y), x * sigmoid(x), rtol=1e-12)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        gelu(y, "fast")
