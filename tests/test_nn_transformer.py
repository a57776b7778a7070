"""MultiheadAttention and the Transformer layers against NumPy float64 references written per
(batch, head), in eval mode (no dropout); parameter layout as PyTorch's; masks; gradients."""
import math

import ember
import numpy as np
import pytest
from ember import nn
from helpers import DEVICE as _DEVICE
from ember.ops.table import layer_norm_ref, softmax_ref
from helpers import each_device_fixture, gelu_ref, host, tensor
from nn_checks import check_module_grads

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


def t64(a, requires_grad=False):
    return tensor(np.asarray(a, dtype=np.float64), _DEVICE[0], requires_grad)


npy = host


def mha_ref(m, q, k, v, attn_mask=None, key_padding_mask=None):
    """q (L, N, E), k (S, N, kdim), v (S, N, vdim) -> out (L, N, E), weights (N, H, L, S).
    attn_mask: float (L, S) or (N*H, L, S) added to the scores; key_padding_mask: bool (N, S)."""
    E, H = m.embed_dim, m.num_heads
    D = E // H
    if m._qkv_same_embed_dim:
        wq, wk, wv = np.split(npy(m.in_proj_weight), 3)
    else:
        wq, wk, wv = npy(m.q_proj_weight), npy(m.k_proj_weight), npy(m.v_proj_weight)
    bq, bk, bv = np.split(npy(m.in_proj_bias), 3) if m.in_proj_bias is not None else (0, 0, 0)
    Q, K, V = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    L, N = q.shape[:2]
    if m.bias_k is not None:
        K = np.concatenate([K, np.repeat(npy(m.bias_k), N, 1)])
        V = np.concatenate([V, np.repeat(npy(m.bias_v), N, 1)])
    if m.add_zero_attn:
        K = np.concatenate([K, np.zeros((1, N, E))])
        V = np.concatenate([V, np.zeros((1, N, E))])
    S = K.shape[0]
    out = np.zeros((L, N, E))
    weights = np.zeros((N, H, L, S))
    for n in range(N):
        for h in range(H):
            sl = slice(h * D, (h + 1) * D)
            scores = Q[:, n, sl] @ K[:, n, sl].T / math.sqrt(D)
            if attn_mask is not None:
                am = attn_mask if attn_mask.ndim == 2 else attn_mask[n * H + h]
                scores[:, :am.shape[1]] += am
            if key_padding_mask is not None:
                scores[:, :key_padding_mask.shape[1]][:, key_padding_mask[n]] = -np.inf
            p = softmax_ref(scores, -1)
            weights[n, h] = p
            out[:, n, sl] = p @ V[:, n, sl]
    out = out @ npy(m.out_proj.weight).T + (npy(m.out_proj.bias) if m.out_proj.bias is not None else 0)
    return out, weights


def make(cls, *args, **kwargs):
    ember.manual_seed(0)
    m = cls(*args, **kwargs).double().to(_DEVICE[0])
    m.eval()
    with ember.no_grad():  # non-zero biases so that they are checked too
        for p in m.parameters():
            if p.ndim == 1 and not npy(p).any():
                p.copy_(ember.randn(p.shape[0], dtype=ember.float64, device=_DEVICE[0]) * 0.1)
    return m


# ---- MultiheadAttention ---------------------------------------------------------------------------
def test_mha_parameters_and_repr(device):
    m = nn.MultiheadAttention(8, 2).to(device)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                    "out_proj.bias"]
    assert m.in_proj_weight.shape == (24, 8) and not npy(m.in_proj_bias).any() and not npy(m.out_proj.bias).any()
    bound = math.sqrt(6 / (24 + 8))  # xavier_uniform_ on the (3E, E) matrix
    assert np.abs(npy(m.in_proj_weight)).max() <= bound
    assert repr(m) == ("MultiheadAttention(\n"
                       "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
                       ")")
    sep = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, bias=False).to(device)
    assert [n for n, _ in sep.named_parameters()] == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k",
                                                      "bias_v", "out_proj.weight"]
    assert sep.k_proj_weight.shape == (8, 3) and sep.v_proj_weight.shape == (8, 5) and sep.bias_k.shape == (1, 1, 8)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_with_masks(need_weights, device):
    m = make(nn.MultiheadAttention, 8, 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 8))
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    kpm = np.zeros((3, 5), dtype=bool)
    kpm[1, 3:] = True
    xt, kpm_t = t64(x), ember.tensor(kpm, device=device)
    out, w = m(xt, xt, xt, attn_mask=t64(causal), key_padding_mask=kpm_t, need_weights=need_weights)
    ref, ref_w = mha_ref(m, x, x, x, causal, kpm)
    np.testing.assert_allclose(npy(out), ref, rtol=1e-9, atol=1e-12)
    if need_weights:
        np.testing.assert_allclose(npy(w), ref_w.mean(1), rtol=1e-9, atol=1e-12)
    else:
        assert w is None
    bool_mask = ember.tensor(np.isinf(causal), device=device)  # True = not allowed, as PyTorch's MHA
    out_b, _ = m(xt, xt, xt, attn_mask=bool_mask, key_padding_mask=kpm_t, need_weights=need_weights)
    np.testing.assert_allclose(npy(out_b), ref, rtol=1e-9, atol=1e-12)


def test_mha_cross_attention_variants():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((4, 2, 8)), rng.standard_normal((6, 2, 3)), rng.standard_normal((6, 2, 5))
    m = make(nn.MultiheadAttention, 8, 4, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True)
    mask3 = rng.standard_normal((2 * 4, 4, 6))
    out, w = m(t64(q), t64(k), t64(v), attn_mask=t64(mask3), average_attn_weights=False)
    ref, ref_w = mha_ref(m, q, k, v, mask3)
    assert w.shape == (2, 4, 4, 8)
    np.testing.assert_allclose(npy(out), ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(npy(w), ref_w, rtol=1e-9, atol=1e-12)
    bf = make(nn.MultiheadAttention, 8, 2, batch_first=True)
    qb, kb = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 6, 8))
    out_b, w_b = bf(t64(qb), t64(kb), t64(kb))
    ref_b, ref_wb = mha_ref(bf, qb.transpose(1, 0, 2), kb.transpose(1, 0, 2), kb.transpose(1, 0, 2))
    np.testing.assert_allclose(npy(out_b), ref_b.transpose(1, 0, 2), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(npy(w_b), ref_wb.mean(1), rtol=1e-9, atol=1e-12)
    unb, unb_w = bf(t64(qb[0]), t64(kb[0]), t64(kb[0]))  # unbatched (L, E)
    assert unb.shape == (4, 8) and unb_w.shape == (4, 6)
    np.testing.assert_allclose(npy(unb), ref_b[:, 0], rtol=1e-9, atol=1e-12)


def test_mha_gradients_and_errors(device):
    rng = np.random.default_rng(2)
    x = t64(rng.standard_normal((3, 2, 4)))
    check_module_grads(nn.MultiheadAttention(4, 2).to(device), x, x, x, output=lambda o: o[0])
    check_module_grads(nn.MultiheadAttention(4, 2).to(device), x, x, x, output=lambda o: o[1])
    m = nn.MultiheadAttention(4, 2).to(device)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        m(x.float(), x.float(), x.float(), attn_mask=ember.zeros(2, 2, device=device))


def test_mha_training_dropout_changes_weights(device):
    m = nn.MultiheadAttention(8, 2, dropout=0.5).to(device)
    x = ember.randn(4, 1, 8, device=device)
    _, w = m(x, x, x)
    assert (npy(w) == 0).any()
    m.eval()
    _, w = m(x, x, x)
    np.testing.assert_allclose(npy(w).sum(-1), 1, rtol=1e-5)


# ---- Transformer layers --------------------------------------------------------------------------
def norm_ref(x, ln):
    return layer_norm_ref(x, ln.normalized_shape, npy(ln.weight), npy(ln.bias), ln.eps)


def linear_ref(x, lin):
    return x @ npy(lin.weight).T + npy(lin.bias)


def encoder_layer_ref(layer, x, mask=None, act=lambda v: np.maximum(v, 0)):
    def sa(v):
        return mha_ref(layer.self_attn, v, v, v, mask)[0]

    def ff(v):
        return linear_ref(act(linear_ref(v, layer.linear1)), layer.linear2)

    if layer.norm_first:
        x = x + sa(norm_ref(x, layer.norm1))
        return x + ff(norm_ref(x, layer.norm2))
    x = norm_ref(x + sa(x), layer.norm1)
    return norm_ref(x + ff(x), layer.norm2)


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu"), (False, nn.GELU())])
def test_encoder_layer_matches_reference(norm_first, activation):
    layer = make(nn.TransformerEncoderLayer, 8, 2, dim_feedforward=16, norm_first=norm_first, activation=activation)
    x = np.random.default_rng(3).standard_normal((5, 2, 8))
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    act = (lambda v: np.maximum(v, 0)) if activation == "relu" else gelu_ref
    out = layer(t64(x), src_mask=t64(mask))
    np.testing.assert_allclose(npy(out), encoder_layer_ref(layer, x, mask, act), rtol=1e-9, atol=1e-11)
    names = [n for n, _ in layer.named_parameters()]
    assert names[:4] == ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                         "self_attn.out_proj.bias"]
    assert names[4:] == ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight",
                         "norm1.bias", "norm2.weight", "norm2.bias"]


def test_decoder_layer_and_stacks_match_reference():
    dec = make(nn.TransformerDecoderLayer, 8, 2, dim_feedforward=12, batch_first=True)
    rng = np.random.default_rng(4)
    tgt, mem = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8))
    t_, m_ = tgt.transpose(1, 0, 2), mem.transpose(1, 0, 2)
    x = norm_ref(t_ + mha_ref(dec.self_attn, t_, t_, t_)[0], dec.norm1)
    x = norm_ref(x + mha_ref(dec.multihead_attn, x, m_, m_)[0], dec.norm2)
    x = norm_ref(x + linear_ref(np.maximum(linear_ref(x, dec.linear1), 0), dec.linear2), dec.norm3)
    np.testing.assert_allclose(npy(dec(t64(tgt), t64(mem))), x.transpose(1, 0, 2), rtol=1e-9, atol=1e-11)
    enc_layer = make(nn.TransformerEncoderLayer, 8, 2, dim_feedforward=12)
    enc = nn.TransformerEncoder(enc_layer, num_layers=2, norm=nn.LayerNorm(8)).double().to(_DEVICE[0]).eval()
    assert enc.layers[0] is not enc.layers[1] and enc.layers[0].linear1.weight is not enc_layer.linear1.weight
    src = rng.standard_normal((4, 2, 8))
    ref = src
    for layer in enc.layers:
        ref = encoder_layer_ref(layer, ref)
    np.testing.assert_allclose(npy(enc(t64(src))), norm_ref(ref, enc.norm), rtol=1e-9, atol=1e-11)
    assert next(iter(enc.state_dict())) == "layers.0.self_attn.in_proj_weight"


def test_transformer_model(device):
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16,
                           dropout=0.0).to(device)
    src, tgt = ember.randn(6, 3, 8, device=device), ember.randn(4, 3, 8, device=device)
    mask = nn.Transformer.generate_square_subsequent_mask(4, device=device)
    assert mask.device == src.device
    np.testing.assert_array_equal(npy(mask), np.triu(np.full((4, 4), -np.inf), 1))
    out = model(src, tgt, tgt_mask=mask)
    assert out.shape == (4, 3, 8)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    encoder_params = sum(p.numel() for p in model.encoder.parameters())
    assert encoder_params == 2 * (3 * 64 + 24 + 64 + 8 + 8 * 16 + 16 + 16 * 8 + 8 + 4 * 8) + 16
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(src, ember.randn(4, 2, 8, device=device))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(ember.randn(6, 3, 4, device=device), ember.randn(4, 3, 4, device=device))


@pytest.mark.parametrize("device", ["cpu"])  # CPU-only: counts 44M parameters, nothing device-specific
def test_default_transformer_parameter_count(device):
    # PyTorch's nn.Transformer() (d_model=512, 6+6 layers, feed-forward 2048) has 44,140,544 parameters
    model = nn.Transformer()
    assert sum(p.numel() for p in model.parameters()) == 44140544
    assert len(model.state_dict()) == 2 + 6 * 12 + 2 + 6 * 18


def test_encoder_layer_gradients(device):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0).to(device)
    x = t64(np.random.default_rng(5).standard_normal((3, 2, 4)))
    check_module_grads(layer, x)
