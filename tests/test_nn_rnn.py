"""RNN / LSTM / GRU and their cells against a NumPy float64 step-by-step reference that runs each
sequence on its own (so it is also the oracle for packed sequences), plus packing utilities,
parameter layout, initialisation, reprs and errors."""
import math

import ember
import numpy as np
import pytest
from ember import backend, nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from ember.ops.table import sigmoid_ref as sigmoid
from helpers import DEVICE as _DEVICE
from helpers import each_device_fixture, host, tensor
from nn_checks import check_module_grads

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


def t64(a, requires_grad=False):
    return tensor(np.asarray(a, dtype=np.float64), _DEVICE[0], requires_grad)


npy = host


def cell_ref(mode, x, h, c, w):
    """One step for one sequence: x (I,), h (H_out,), c (H,); w = [w_ih, w_hh, b_ih?, b_hh?, w_hr?]."""
    w_ih, w_hh = w[0], w[1]
    has_bias = len(w) >= 4
    gi = w_ih @ x + (w[2] if has_bias else 0)
    gh = w_hh @ h + (w[3] if has_bias else 0)
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        if len(w) in (3, 5):  # projection
            h = w[-1] @ h
        return h, c
    if mode == "GRU":
        ir, iz, in_ = np.split(gi, 3)
        hr, hz, hn = np.split(gh, 3)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = np.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, None
    pre = gi + gh
    return (np.maximum(pre, 0) if mode == "RNN_RELU" else np.tanh(pre)), None


def rnn_ref(module, x, lengths, h0, c0=None):
    """x (T, N, I) time-major, lengths (N,): outputs (T, N, D*H_out) zero-padded, h_n, c_n."""
    dirs = 2 if module.bidirectional else 1
    weights = [[npy(p) for p in ws] for ws in module.all_weights]
    steps, batch = x.shape[:2]
    h_out = h0.shape[-1]
    h_n, c_n = np.zeros_like(h0), (np.zeros_like(c0) if c0 is not None else None)
    layer_in = x
    for layer in range(module.num_layers):
        out = np.zeros((steps, batch, dirs * h_out))
        for d in range(dirs):
            k = layer * dirs + d
            for b in range(batch):
                h, c = h0[k, b], (c0[k, b] if c0 is not None else None)
                order = range(lengths[b] - 1, -1, -1) if d == 1 else range(lengths[b])
                for t in order:
                    h, c = cell_ref(module.mode, layer_in[t, b], h, c, weights[k])
                    out[t, b, d * h_out:(d + 1) * h_out] = h
                h_n[k, b] = h
                if c0 is not None:
                    c_n[k, b] = c
        layer_in = out
    return layer_in, h_n, c_n


def make(cls, *args, **kwargs):
    ember.manual_seed(0)
    return cls(*args, **kwargs).double().to(_DEVICE[0])


# ---- the notes' example and the parameter layout ------------------------------------------------
def test_notes_rnn_example(device):
    rnn = nn.RNN(10, 20, 2).to(device)
    inp, h0 = ember.randn(5, 10, device=device), ember.randn(2, 20, device=device)
    assert [w.data.size() for weights in rnn.all_weights for w in weights] == [
        (20, 10), (20, 20), (20,), (20,), (20, 20), (20, 20), (20,), (20,)]
    output, hn = rnn(inp, h0)
    assert output.size() == (5, 20) and hn.size() == (2, 20)
    ref, ref_h, _ = rnn_ref(rnn, npy(inp).astype(np.float64)[:, None], [5], npy(h0)[:, None])
    np.testing.assert_allclose(npy(output), ref[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(hn), ref_h[:, 0], rtol=1e-5, atol=1e-6)
    assert repr(rnn) == "RNN(10, 20, num_layers=2)"


def test_parameter_names_shapes_and_init(device):
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True).to(device)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
                         "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert list(lstm.state_dict()) == names and len(names) == 16
    assert lstm.weight_ih_l1.shape == (80, 40) and lstm.weight_hh_l1_reverse.shape == (80, 20)
    assert sum(p.numel() for p in lstm.parameters()) == 2 * (80 * 10 + 80 * 20 + 160) + 2 * (80 * 40 + 80 * 20 + 160)
    bound = 1 / math.sqrt(20)
    allv = np.concatenate([npy(p).ravel() for p in lstm.parameters()])
    assert np.abs(allv).max() <= bound and np.abs(allv).max() > 0.99 * bound
    assert allv.var() == pytest.approx(bound ** 2 / 3, rel=0.05)
    gru = nn.GRU(3, 4, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert gru.weight_ih_l0.shape == (12, 3)
    proj = nn.LSTM(3, 6, proj_size=2)
    assert proj.weight_hh_l0.shape == (24, 2) and proj.weight_hr_l0.shape == (2, 6)
    assert repr(proj) == "LSTM(3, 6, proj_size=2)"
    assert repr(nn.GRU(3, 4, bias=False, batch_first=True, dropout=0.5, num_layers=2)) == \
        "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5)"
    lstm.flatten_parameters()  # accepted, nothing to do
    assert lstm._flat_weights[0] is lstm.weight_ih_l0


# ---- forward against the reference ---------------------------------------------------------------
@pytest.mark.parametrize("cls,kw", [
    (nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (nn.GRU, {"num_layers": 2, "bidirectional": True}),
    (nn.RNN, {"nonlinearity": "relu", "num_layers": 2}),
    (nn.LSTM, {"proj_size": 3, "bidirectional": True}),
    (nn.GRU, {"bias": False, "batch_first": True}),
])
def test_padded_forward_matches_reference(cls, kw):
    m = make(cls, 4, 5, **kw)
    rng = np.random.default_rng(1)
    steps, batch, dirs = 6, 3, 1 + m.bidirectional
    h_size = m.proj_size or 5
    x = rng.standard_normal((steps, batch, 4))
    h0 = rng.standard_normal((m.num_layers * dirs, batch, h_size))
    c0 = rng.standard_normal((m.num_layers * dirs, batch, 5)) if cls is nn.LSTM else None
    xin = t64(x.transpose(1, 0, 2)) if m.batch_first else t64(x)
    hx = (t64(h0), t64(c0)) if cls is nn.LSTM else t64(h0)
    out, state = m(xin, hx)
    ref, ref_h, ref_c = rnn_ref(m, x, [steps] * batch, h0, c0)
    if m.batch_first:
        ref = ref.transpose(1, 0, 2)
    np.testing.assert_allclose(npy(out), ref, rtol=1e-10, atol=1e-12)
    h_n = state[0] if cls is nn.LSTM else state
    np.testing.assert_allclose(npy(h_n), ref_h, rtol=1e-10, atol=1e-12)
    if cls is nn.LSTM:
        np.testing.assert_allclose(npy(state[1]), ref_c, rtol=1e-10, atol=1e-12)
    # zero initial states by default
    out0, _ = m(xin)
    ref0, _, _ = rnn_ref(m, x, [steps] * batch, np.zeros_like(h0), np.zeros_like(c0) if c0 is not None else None)
    np.testing.assert_allclose(npy(out0), ref0.transpose(1, 0, 2) if m.batch_first else ref0, rtol=1e-10,
                               atol=1e-12)


def test_unbatched_and_float32(device):
    lstm = make(nn.LSTM, 3, 4, num_layers=2)
    x = np.random.default_rng(2).standard_normal((5, 3))
    out, (h, c) = lstm(t64(x))
    assert out.shape == (5, 4) and h.shape == (2, 4) and c.shape == (2, 4)
    batched, (hb, _) = lstm(t64(x[:, None]))
    np.testing.assert_allclose(npy(out), npy(batched)[:, 0], rtol=1e-12)
    np.testing.assert_allclose(npy(h), npy(hb)[:, 0], rtol=1e-12)
    gru = nn.GRU(3, 4).to(device)
    out32, h32 = gru(ember.tensor(x, dtype=ember.float32, device=device)[:, None])
    assert out32.dtype == ember.float32
    ref, ref_h, _ = rnn_ref(gru, x[:, None], [5], np.zeros((1, 1, 4)))
    np.testing.assert_allclose(npy(out32), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(h32), ref_h, rtol=1e-5, atol=1e-6)


# ---- packed sequences ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_packed_bidirectional_two_layers_match_reference(cls):
    m = make(cls, 3, 4, num_layers=2, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(3)
    lengths = [3, 5, 1, 5]  # unsorted, with ties
    x = rng.standard_normal((4, 5, 3))  # batch first, padded
    h0 = rng.standard_normal((4, 4, 4))
    c0 = rng.standard_normal((4, 4, 4))
    packed = pack_padded_sequence(t64(x), lengths, batch_first=True, enforce_sorted=False)
    assert isinstance(packed, PackedSequence) and packed.batch_sizes.tolist() == [4, 3, 3, 2, 2]
    hx = (t64(h0), t64(c0)) if cls is nn.LSTM else t64(h0)
    out, state = m(packed, hx)
    assert isinstance(out, PackedSequence)
    padded, out_lengths = pad_packed_sequence(out, batch_first=True, padding_value=-1.0)
    assert out_lengths.tolist() == lengths and padded.shape == (4, 5, 8)
    ref, ref_h, ref_c = rnn_ref(m, x.transpose(1, 0, 2), lengths, h0, c0 if cls is nn.LSTM else None)
    ref = ref.transpose(1, 0, 2)
    valid = np.arange(5)[None, :] < np.array(lengths)[:, None]
    np.testing.assert_allclose(npy(padded)[valid], ref[valid], rtol=1e-10, atol=1e-12)
    assert np.all(npy(padded)[~valid] == -1.0)
    h_n = state[0] if cls is nn.LSTM else state
    np.testing.assert_allclose(npy(h_n), ref_h, rtol=1e-10, atol=1e-12)
    if cls is nn.LSTM:
        np.testing.assert_allclose(npy(state[1]), ref_c, rtol=1e-10, atol=1e-12)


def test_gradients_through_recurrent_modules(device):
    rng = np.random.default_rng(4)
    check_module_grads(nn.LSTM(2, 3, num_layers=2, bidirectional=True).to(device),
                       t64(rng.standard_normal((3, 2, 2))), output=lambda o: o[0])
    check_module_grads(nn.GRU(2, 3, batch_first=True).to(device), t64(rng.standard_normal((2, 3, 2))),
                       output=lambda o: o[1])
    check_module_grads(nn.LSTM(2, 4, proj_size=2).to(device), t64(rng.standard_normal((3, 1, 2))),
                       output=lambda o: o[1][1])
    m = make(nn.LSTM, 2, 3, bidirectional=True)
    x = t64(rng.standard_normal((4, 3, 2)), True)

    def run(inp):
        packed = pack_padded_sequence(inp, [2, 4, 1], enforce_sorted=False)
        out, (h, c) = m(packed)
        return pad_packed_sequence(out)[0], h, c

    assert gradcheck(run, (x,))


class _PackedRun(nn.Module):
    """Packs a padded (T, N, I) input with ``lengths`` (unsorted), runs ``rnn`` and returns the padded
    output, h_n (and c_n) flattened into one vector (check_module_grads wants one tensor)."""

    def __init__(self, rnn, lengths):
        super().__init__()
        self.rnn, self.lengths = rnn, lengths

    def forward(self, x, h0, c0=None):
        packed = pack_padded_sequence(x, self.lengths, enforce_sorted=False)
        out, state = self.rnn(packed, h0 if c0 is None else (h0, c0))
        parts = [pad_packed_sequence(out)[0]] + list(state if c0 is not None else [state])
        return ember.cat([p.reshape(-1) for p in parts])


@pytest.mark.parametrize("cls,kw", [
    (nn.LSTM, {}),
    (nn.LSTM, {"proj_size": 2}),
    (nn.GRU, {}),
    (nn.RNN, {"nonlinearity": "relu"}),
    (nn.RNN, {"bias": False}),
])
def test_packed_unequal_lengths_gradients(cls, kw):
    """Input, initial-state and parameter gradients (float64 central differences) through two
    bidirectional layers with sequences that end (forward) and start (reverse) at different steps;
    then second derivatives w.r.t. the input and the initial state (the create_graph path)."""
    rnn = make(cls, 2, 3, num_layers=2, bidirectional=True, **kw)
    run = _PackedRun(rnn, [2, 4, 1, 4])
    rng = np.random.default_rng(9)
    x = t64(rng.standard_normal((4, 4, 2)))
    h0 = t64(rng.standard_normal((4, 4, kw.get("proj_size", 3))))
    states = (h0, t64(rng.standard_normal((4, 4, 3)))) if cls is nn.LSTM else (h0,)
    check_module_grads(run, x, *states)
    ins = tuple(t.detach().requires_grad_() for t in (x, *states))
    assert gradgradcheck(run, ins)


def test_dropout_between_layers_and_warning():
    m = make(nn.GRU, 3, 4, num_layers=2, dropout=0.5)
    x = t64(np.random.default_rng(5).standard_normal((4, 2, 3)))
    ember.manual_seed(1)
    a = npy(m(x)[0])
    ember.manual_seed(2)
    b = npy(m(x)[0])
    assert not np.allclose(a, b)  # training: the first layer's output is dropped at random
    m.eval()
    np.testing.assert_array_equal(npy(m(x)[0]), npy(m(x)[0]))
    ref, _, _ = rnn_ref(m, npy(x), [4, 4], np.zeros((2, 2, 4)))
    np.testing.assert_allclose(npy(m(x)[0]), ref, rtol=1e-10)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


def test_errors(device):
    def randn(*shape):
        return ember.randn(*shape, device=device)

    def zeros(*shape):
        return ember.zeros(*shape, device=device)

    lstm = nn.LSTM(3, 4, num_layers=2).to(device)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D tensor instead"):
        lstm(randn(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 5"):
        lstm(randn(2, 1, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 1, 4\), got \[2, 2, 4\]"):
        lstm(randn(2, 1, 3), (zeros(2, 2, 4), zeros(2, 1, 4)))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx and cx should also be 3-D"):
        lstm(randn(2, 1, 3), (zeros(2, 4), zeros(2, 4)))
    gru = nn.GRU(3, 4).to(device)
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"):
        gru(randn(2, 3), zeros(1, 1, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        gru(randn(5, 2, 3), zeros(1, 3, 4))
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNN(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(3, 0)


def _graph_names(out):
    names, seen, todo = [], set(), [out.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name())
        todo.extend(nxt for nxt, _ in node.next_functions)
    return names


def test_layer_graph_has_one_input_gemm_and_no_per_step_slices(device):
    """The layers' speed contract: one input projection (and one Split of its rows) per layer and
    direction, one recurrent Linear per step, and no per-step slicing (whose backward would write
    a zero gradient of the whole sequence for every step). An LSTM over sequences of one length
    is one op per layer and direction."""
    steps = 5
    gru = nn.GRU(3, 4, num_layers=2).to(device)
    names = _graph_names(gru(ember.randn(steps, 2, 3, requires_grad=True, device=device))[0])
    assert names.count("SplitBackward0") == 2 and names.count("GRUCellBackward0") == 2 * steps
    assert names.count("LinearBackward0") == 2 * (steps + 1)
    assert not {"GetItemBackward0", "IndexBackward0"} & set(names)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True).to(device)
    names = _graph_names(lstm(ember.randn(steps, 2, 3, requires_grad=True, device=device))[0])
    assert names.count("LSTMLayerBackward0") == 4 and names.count("LinearBackward0") == 4
    assert "LSTMCellBackward0" not in names


def test_whole_layer_lstm_second_derivatives_and_parameter_gradients():
    """The whole-layer LSTM op (equal lengths): parameter gradients against the per-step cells
    (packed sequences of one length still take the layer op, so the reference is LSTMCell), and
    second derivatives (its create_graph backward recomputes the layer with per-step ops)."""
    rng = np.random.default_rng(11)
    m = make(nn.LSTM, 3, 4, num_layers=1, bidirectional=True)
    x = t64(rng.standard_normal((5, 2, 3)), True)
    out, (h, c) = m(x)
    (out.sum() + 2 * h.sum() + 3 * c.sum()).backward()
    for direction, suffix in ((0, ""), (1, "_reverse")):
        cell = nn.LSTMCell(3, 4).double().to(_DEVICE[0])
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).data.copy_(getattr(m, f"{name}_l0{suffix}").data)
        hc, total = None, 0
        order = range(4, -1, -1) if direction else range(5)
        for t in order:
            hc = cell(x[t].detach(), hc)
            total = total + hc[0].sum()
        (total + 2 * hc[0].sum() + 3 * hc[1].sum()).backward()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            np.testing.assert_allclose(npy(getattr(m, f"{name}_l0{suffix}").grad), npy(getattr(cell, name).grad),
                                       rtol=1e-10, atol=1e-12)
    h0, c0 = (t64(rng.standard_normal((2, 2, 4)), True) for _ in range(2))
    assert gradgradcheck(lambda x, h0, c0: m(x, (h0, c0))[0], (x.detach().requires_grad_(), h0, c0))


def test_float16_runs_in_float32(device):
    """Half-precision layers compute in float32 (the cell kernels are float32/float64) and return
    half tensors and gradients."""
    ember.manual_seed(0)
    m32 = nn.LSTM(3, 4, num_layers=2, bidirectional=True).to(device)
    m16 = nn.LSTM(3, 4, num_layers=2, bidirectional=True).to(ember.float16).to(device)
    m16.load_state_dict({k: v.to(ember.float16) for k, v in m32.state_dict().items()})
    x = np.random.default_rng(10).standard_normal((5, 2, 3))
    x16 = ember.tensor(x, dtype=ember.float16, requires_grad=True, device=device)
    out16, (h16, c16) = m16(x16)
    assert out16.dtype == h16.dtype == c16.dtype == ember.float16
    out32, _ = m32(ember.tensor(npy(x16).astype(np.float32), device=device))
    np.testing.assert_allclose(npy(out16).astype(np.float32), npy(out32), atol=1e-2)
    out16.sum().backward()
    assert x16.grad.dtype == ember.float16 and m16.weight_hh_l1.grad.dtype == ember.float16


# ---- the split op the layers cut the per-step rows with ---------------------------------------------
@pytest.mark.parametrize("shape,sizes,dim", [
    ((7, 3), [2, 0, 4, 1], 0),
    ((2, 9, 2), 4, 1),  # equal pieces, the last smaller
    ((3, 5), [5], -1),
    ((1, 6), 1, 1),
])
def test_split_values_views_and_joined_gradient(shape, sizes, dim):
    rng = np.random.default_rng(11)
    a = rng.standard_normal(shape)
    x = t64(a, requires_grad=True)
    parts = x.split(sizes, dim)
    n = shape[dim]
    cuts = np.cumsum(sizes)[:-1] if isinstance(sizes, list) else np.arange(sizes, n, sizes)
    ref = np.split(a, cuts, axis=dim)
    assert len(parts) == len(ref)
    for p, r in zip(parts, ref):
        np.testing.assert_array_equal(npy(p), r)
        assert r.size == 0 or backend.xp_of(x._data).shares_memory(p._data, x._data)  # views, as in PyTorch
    # one op for all pieces; pieces without a gradient contribute zeros to the joined gradient
    assert all(p.grad_fn is parts[0].grad_fn for p in parts) and parts[0].grad_fn.name() == "SplitBackward0"
    weights = [rng.standard_normal(r.shape) for r in ref]
    used = range(0, len(parts), 2)
    sum((parts[i] * t64(weights[i])).sum() for i in used).backward()
    expect = np.concatenate([weights[i] if i in used else np.zeros(r.shape) for i, r in enumerate(ref)], axis=dim)
    np.testing.assert_array_equal(npy(x.grad), expect)
    y = t64(a, requires_grad=True)
    assert gradcheck(lambda v: [p * p for p in v.split(sizes, dim)], (y,))
    assert gradgradcheck(lambda v: [p * p for p in v.split(sizes, dim)], (y,))


# ---- cells -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,mode", [(nn.LSTMCell, "LSTM"), (nn.GRUCell, "GRU"), (nn.RNNCell, "RNN_TANH")])
def test_cells_match_reference(cls, mode, device):
    ember.manual_seed(0)
    cell = cls(3, 4).double().to(device)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert all(np.abs(npy(p)).max() <= 0.5 for p in cell.parameters())
    rng = np.random.default_rng(6)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    w = [npy(p) for p in cell.parameters()]
    refs = [cell_ref(mode, x[b], h[b], c[b], w) for b in range(2)]
    if mode == "LSTM":
        out_h, out_c = cell(t64(x), (t64(h), t64(c)))
        np.testing.assert_allclose(npy(out_c), np.stack([r[1] for r in refs]), rtol=1e-12)
        uh, uc = cell(t64(x[0]))  # unbatched, zero state
        assert uh.shape == (4,) and uc.shape == (4,)
    else:
        out_h = cell(t64(x), t64(h))
        assert cell(t64(x[0])).shape == (4,)
    np.testing.assert_allclose(npy(out_h), np.stack([r[0] for r in refs]), rtol=1e-12)
    check_module_grads(cls(3, 2).to(device), t64(x), output=(lambda o: o[1]) if mode == "LSTM" else (lambda o: o))
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D instead"):
        cell(ember.randn(1, 2, 3, device=device))


def test_cell_reprs(device):
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu", bias=False)) == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    relu = nn.RNNCell(2, 3, nonlinearity="relu").double().to(device)
    x = np.random.default_rng(7).standard_normal((4, 2))
    np.testing.assert_allclose(npy(relu(t64(x))),
                               np.maximum(x @ npy(relu.weight_ih).T + npy(relu.bias_ih) + npy(relu.bias_hh), 0),
                               rtol=1e-12)


# ---- packing utilities ---------------------------------------------------------------------------
def test_pad_pack_round_trips(device):
    seqs = [ember.tensor(v, device=device) for v in ([[1.0], [2.0], [3.0]], [[4.0]], [[5.0], [6.0]])]
    padded = pad_sequence(seqs, batch_first=True, padding_value=-1)
    assert padded.shape == (3, 3, 1) and padded[:, :, 0].tolist() == [[1, 2, 3], [4, -1, -1], [5, 6, -1]]
    assert pad_sequence(seqs, padding_side="left")[:, 1, 0].tolist() == [0, 0, 4]
    assert pad_sequence(seqs).shape == (3, 3, 1)
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert packed.data[:, 0].tolist() == [1, 5, 4, 2, 6, 3] and packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [0, 2, 1] and packed.unsorted_indices.tolist() == [0, 2, 1]
    assert [s[:, 0].tolist() for s in unpack_sequence(packed)] == [[1, 2, 3], [4], [5, 6]]
    lengths = ember.tensor([3, 1, 2], device="cpu")  # lengths live on the host, as in PyTorch
    assert [s.shape[0] for s in unpad_sequence(padded, lengths, batch_first=True)] == [3, 1, 2]
    out, lengths = pad_packed_sequence(packed, total_length=4)
    assert out.shape == (4, 3, 1) and lengths.tolist() == [3, 1, 2] and lengths.dtype == ember.int64
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_sequence(seqs)
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(ember.zeros(3, 2, 1, device=device), [3, 0])
    assert packed.to(ember.float64).data.dtype == ember.float64 and packed.double().is_cuda is (device == "cuda")
    grad_in = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True, device=device)
    assert gradcheck(lambda v: pad_packed_sequence(pack_padded_sequence(v, [3, 2]))[0], (grad_in,))
