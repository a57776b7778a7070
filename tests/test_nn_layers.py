"""Layers: parameter names/shapes/counts, PyTorch's default initialisation, forward against NumPy
float64 references, gradients through the module (inputs and parameters), train/eval behaviour,
reprs and argument errors."""
import math

import ember
import numpy as np
import pytest
from ember import nn
from ember.examples.lenet import LeNet5
from ember.ops.table import conv2d_ref
from helpers import DEVICE as _DEVICE
from helpers import each_device_fixture, host, normalized_ref, tensor
from nn_checks import assert_uniform, check_module_grads

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


def t64(a, requires_grad=False):
    return tensor(np.asarray(a, dtype=np.float64), _DEVICE[0], requires_grad)


npy = host


# ---- NumPy references ----------------------------------------------------------------------------
def conv_transpose2d_ref(x, w, b, stride, padding, output_padding, groups, dilation):
    n, cin, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = cin // groups
    (s0, s1), (p0, p1), (q0, q1), (d0, d1) = stride, padding, output_padding, dilation
    hf, wf = (h - 1) * s0 + d0 * (kh - 1) + 1 + q0, (wd - 1) * s1 + d1 * (kw - 1) + 1 + q1
    full = np.zeros((n, og * groups, hf, wf))
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,co->nohw", x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg, :, i, j])
                full[:, g * og:(g + 1) * og, i * d0:i * d0 + s0 * (h - 1) + 1:s0,
                     j * d1:j * d1 + s1 * (wd - 1) + 1:s1] += contrib
    out = full[:, :, p0:hf - p0, p1:wf - p1]
    return out + (b[None, :, None, None] if b is not None else 0)


def pool2d_ref(x, k, s, p, reduce, fill):
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    ho, wo = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    out = np.empty(x.shape[:2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


# ---- Linear, Bilinear, Identity -------------------------------------------------------------------
def test_linear_shapes_init_forward_and_grads(device):
    lin = nn.Linear(300, 20).to(device)
    assert lin.weight.shape == (20, 300) and lin.bias.shape == (20,)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(300)
    assert_uniform(lin.weight, bound)
    assert np.all(np.abs(npy(lin.bias)) <= bound)
    assert repr(lin) == "Linear(in_features=300, out_features=20, bias=True)"
    assert repr(nn.Linear(3, 1, bias=False)) == "Linear(in_features=3, out_features=1, bias=False)"
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 300)).astype(np.float32)
    np.testing.assert_allclose(npy(lin(ember.tensor(x, device=device))), x @ npy(lin.weight).T + npy(lin.bias),
                               rtol=1e-4, atol=1e-5)
    assert lin(ember.zeros(0, 300, device=device)).shape == (0, 20)
    check_module_grads(nn.Linear(5, 3).to(device), t64(rng.standard_normal((4, 5))))
    check_module_grads(nn.Linear(5, 1, bias=False).to(device), t64(rng.standard_normal(5)))


def test_linear_on_batched_inputs_contiguous_or_not(device):
    lin = nn.Linear(5, 3).double().to(device)
    rng = np.random.default_rng(2)
    x = t64(rng.standard_normal((4, 2, 5)), requires_grad=True)
    for inp in (x, x.transpose(0, 1)):  # (the second is not contiguous: linear copies it once)
        y = lin(inp)
        ref = npy(inp) @ npy(lin.weight).T + npy(lin.bias)
        np.testing.assert_allclose(npy(y), ref, rtol=1e-12)
        assert ember.autograd.gradcheck(nn.functional.linear, (inp, lin.weight, lin.bias))


def test_bilinear_and_identity(device):
    bl = nn.Bilinear(4, 3, 2).to(device)
    assert bl.weight.shape == (2, 4, 3) and bl.bias.shape == (2,)
    assert_uniform(ember.cat([bl.weight.reshape(-1), bl.bias]), 1 / math.sqrt(4), rel=0.3)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    bl.double()
    ref = np.einsum("ni,oij,nj->no", a, npy(bl.weight), b) + npy(bl.bias)
    np.testing.assert_allclose(npy(bl(t64(a), t64(b))), ref, rtol=1e-10)
    check_module_grads(bl, t64(a), t64(b))
    assert repr(bl) == "Bilinear(in1_features=4, in2_features=3, out_features=2, bias=True)"
    ident = nn.Identity(54, unused="x")
    x = ember.randn(2, device=device)
    assert ident(x) is x and repr(ident) == "Identity()"


# ---- convolutions ---------------------------------------------------------------------------------
def test_conv2d_parameters_init_and_repr():
    conv = nn.Conv2d(4, 6, 3, groups=2)
    assert conv.weight.shape == (6, 2, 3, 3) and conv.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 9)
    assert np.all(np.abs(npy(conv.weight)) <= bound) and np.all(np.abs(npy(conv.bias)) <= bound)
    assert_uniform(nn.Conv2d(16, 64, 3).weight, 1 / math.sqrt(16 * 9))
    assert repr(conv) == "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1), groups=2)"
    full = nn.Conv2d(3, 8, (3, 5), stride=2, padding=1, dilation=2, bias=False, padding_mode="reflect")
    assert repr(full) == ("Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
                          "bias=False, padding_mode=reflect)")
    assert repr(nn.Conv1d(2, 4, 3, padding="same")) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)"
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(4, 4, 3, padding="full")
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="edge")


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": (2, 1), "groups": 2},
                                {"padding": "same", "kernel_size": 4}, {"padding": "valid"}])
def test_conv2d_forward_matches_numpy(kw, device):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    conv = nn.Conv2d(4, 6, k, **kw).double().to(device)
    x = np.random.default_rng(3).standard_normal((2, 4, 7, 6))
    w, b = npy(conv.weight), npy(conv.bias)
    padding = kw.get("padding", 0)
    if padding == "same":  # total k-1, the extra one on the right/bottom
        xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)))
        ref = conv2d_ref(xp, w, b)
    else:
        p = (0, 0) if padding == "valid" else conv.padding
        ref = conv2d_ref(x, w, b, conv.stride, p, conv.dilation, conv.groups)
    out = conv(t64(x))
    assert out.shape == ref.shape
    np.testing.assert_allclose(npy(out), ref, rtol=1e-10, atol=1e-12)


def test_conv_padding_modes_and_unbatched(device):
    x = np.random.default_rng(4).standard_normal((1, 2, 5, 5))
    for mode, np_mode in (("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")):
        conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double().to(device)
        ref = conv2d_ref(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode=np_mode), npy(conv.weight), npy(conv.bias))
        np.testing.assert_allclose(npy(conv(t64(x))), ref, rtol=1e-10)
    same = nn.Conv2d(2, 3, 4, padding="same", padding_mode="reflect").double().to(device)  # pads 1 before, 2 after
    ref = conv2d_ref(np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)), mode="reflect"), npy(same.weight), npy(same.bias))
    np.testing.assert_allclose(npy(same(t64(x))), ref, rtol=1e-10)
    conv = nn.Conv2d(2, 3, 3).double().to(device)
    np.testing.assert_allclose(npy(conv(t64(x[0]))), npy(conv(t64(x)))[0], rtol=1e-12)
    c1 = nn.Conv1d(2, 4, 3, stride=2).double().to(device)
    x1 = np.random.default_rng(5).standard_normal((3, 2, 9))
    ref = conv2d_ref(x1[:, :, None], npy(c1.weight)[:, :, None], npy(c1.bias), (1, 2))[:, :, 0]
    np.testing.assert_allclose(npy(c1(t64(x1))), ref, rtol=1e-10)


def test_conv_gradients_through_modules(device):
    rng = np.random.default_rng(6)
    check_module_grads(nn.Conv2d(2, 4, 3, padding=1, groups=2).to(device), t64(rng.standard_normal((2, 2, 5, 4))))
    check_module_grads(nn.Conv1d(3, 2, 2, padding_mode="circular", padding=1).to(device),
                       t64(rng.standard_normal((2, 3, 6))))
    check_module_grads(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1).to(device),
                       t64(rng.standard_normal((1, 2, 3, 3))))


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1, "output_padding": 1},
                                {"stride": 3, "dilation": 2, "groups": 2}])
def test_conv_transpose2d_matches_numpy(kw, device):
    ct = nn.ConvTranspose2d(4, 6, 3, **kw).double().to(device)
    assert ct.weight.shape == (4, 6 // ct.groups, 3, 3)
    assert np.all(np.abs(npy(ct.weight)) <= 1 / math.sqrt(ct.weight.shape[1] * 9))  # fan_in = size(1) * k
    x = np.random.default_rng(7).standard_normal((2, 4, 4, 3))
    ref = conv_transpose2d_ref(x, npy(ct.weight), npy(ct.bias), ct.stride, ct.padding, ct.output_padding,
                               ct.groups, ct.dilation)
    np.testing.assert_allclose(npy(ct(t64(x))), ref, rtol=1e-10, atol=1e-12)


def test_conv_transpose_output_size_and_inverts_conv_shape(device):
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1).to(device)
    up = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1).to(device)
    x = ember.randn(1, 3, 10, 9, device=device)
    y = conv(x)
    assert up(y, output_size=x.shape).shape == x.shape
    assert up(y).shape == (1, 3, 9, 9)
    with pytest.raises(ValueError, match="requested an output size"):
        up(y, output_size=(20, 20))
    assert repr(up) == "ConvTranspose2d(8, 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    ct1 = nn.ConvTranspose1d(2, 4, 3, stride=2).to(device)
    assert ct1(ember.randn(1, 2, 5, device=device)).shape == (1, 4, 11)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


# ---- pooling --------------------------------------------------------------------------------------
def test_pooling_modules():  # the pooling modules hold no parameters: t64 puts the input on the device
    x = np.random.default_rng(8).standard_normal((2, 3, 7, 7))
    mp = nn.MaxPool2d(3, stride=2, padding=1)
    assert repr(mp) == "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    np.testing.assert_allclose(npy(mp(t64(x))), pool2d_ref(x, 3, 2, 1, np.max, -np.inf))
    ap = nn.AvgPool2d(2)
    assert repr(ap) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    np.testing.assert_allclose(npy(ap(t64(x))), pool2d_ref(x, 2, 2, 0, np.mean, 0.0), rtol=1e-12)
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.MaxPool1d(2)) == "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    gap = nn.AdaptiveAvgPool2d(1)
    assert repr(gap) == "AdaptiveAvgPool2d(output_size=1)"
    np.testing.assert_allclose(npy(gap(t64(x))), x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(npy(nn.AdaptiveMaxPool2d((1, 1))(t64(x))), x.max(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(npy(nn.AdaptiveAvgPool1d(1)(t64(x[:, :, 0]))), x[:, :, 0].mean(-1, keepdims=True),
                               rtol=1e-12)
    pooled, idx = nn.MaxPool2d(2, return_indices=True)(t64(x[:, :, :6, :6]))
    unpool = nn.MaxUnpool2d(2)
    assert repr(unpool) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    restored = npy(unpool(pooled, idx))
    assert restored.shape == (2, 3, 6, 6)
    flat_idx = host(idx).reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(restored.reshape(2, 3, -1), flat_idx, 2),
                                  npy(pooled).reshape(2, 3, -1))
    assert np.count_nonzero(restored) == pooled.numel()
    check_module_grads(nn.AvgPool2d(2, padding=1), t64(x[:1, :1, :4, :4]))


# ---- normalisation --------------------------------------------------------------------------------
def test_batchnorm_train_eval_and_running_stats(device):
    bn = nn.BatchNorm2d(3, momentum=0.3).double().to(device)
    assert repr(nn.BatchNorm2d(3)) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert np.all(npy(bn.weight) == 1) and np.all(npy(bn.bias) == 0)
    rng = np.random.default_rng(9)
    with ember.no_grad():
        bn.weight.copy_(t64(rng.uniform(0.5, 2, 3)))
        bn.bias.copy_(t64(rng.standard_normal(3)))
    w, b = npy(bn.weight).reshape(1, 3, 1, 1), npy(bn.bias).reshape(1, 3, 1, 1)
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(2):
        x = rng.standard_normal((4, 3, 2, 5)) * 3 + 1
        out = bn(t64(x))
        np.testing.assert_allclose(npy(out), normalized_ref(x, (0, 2, 3), 1e-5) * w + b, rtol=1e-9, atol=1e-12)
        rm = 0.7 * rm + 0.3 * x.mean(axis=(0, 2, 3))
        rv = 0.7 * rv + 0.3 * x.var(axis=(0, 2, 3), ddof=1)  # running variance is unbiased
        np.testing.assert_allclose(npy(bn.running_mean), rm, rtol=1e-10)
        np.testing.assert_allclose(npy(bn.running_var), rv, rtol=1e-10)
        assert bn.num_batches_tracked.item() == step + 1
    bn.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    ref = (x - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5) * w + b
    np.testing.assert_allclose(npy(bn(t64(x))), ref, rtol=1e-9)
    assert bn.num_batches_tracked.item() == 2  # eval does not count
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        bn(ember.randn(2, 3, 4, device=device))


def test_batchnorm_variants(device):
    rng = np.random.default_rng(10)
    cumulative = nn.BatchNorm1d(2, momentum=None).double().to(device)
    xs = [rng.standard_normal((5, 2)) for _ in range(3)]
    for x in xs:
        cumulative(t64(x))
    np.testing.assert_allclose(npy(cumulative.running_mean), np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-10)
    plain = nn.BatchNorm1d(2, affine=False, track_running_stats=False).double().to(device)
    assert list(plain.parameters()) == [] and plain.running_mean is None
    x = rng.standard_normal((6, 2, 3))
    plain.eval()  # no running statistics: batch statistics even in eval
    np.testing.assert_allclose(npy(plain(t64(x))), normalized_ref(x, (0, 2), 1e-5), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        plain(ember.randn(1, 2, 3, 4, device=device))
    check_module_grads(nn.BatchNorm1d(3).to(device), t64(rng.standard_normal((4, 3))))


def test_layer_group_instance_norm(device):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 5))
    ln = nn.LayerNorm(5).double().to(device)
    assert repr(ln) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True)"
    assert ln.weight.shape == (5,) and np.all(npy(ln.weight) == 1)
    np.testing.assert_allclose(npy(ln(t64(x))), normalized_ref(x, (-1,), 1e-5), rtol=1e-9, atol=1e-12)
    ln2 = nn.LayerNorm([4, 5], eps=1e-3, bias=False).double().to(device)
    assert ln2.bias is None and ln2.weight.shape == (4, 5)
    np.testing.assert_allclose(npy(ln2(t64(x))), normalized_ref(x, (1, 2), 1e-3), rtol=1e-9, atol=1e-12)
    check_module_grads(nn.LayerNorm(5).to(device), t64(x))
    gn = nn.GroupNorm(2, 4).double().to(device)
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    ref = normalized_ref(x.reshape(3, 2, 10), (2,), 1e-5).reshape(x.shape)
    np.testing.assert_allclose(npy(gn(t64(x))), ref, rtol=1e-9, atol=1e-12)
    check_module_grads(nn.GroupNorm(2, 4).to(device), t64(x))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    inorm = nn.InstanceNorm2d(4)
    assert repr(inorm) == "InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"
    x4 = rng.standard_normal((2, 4, 3, 3))
    np.testing.assert_allclose(npy(inorm.double()(t64(x4))), normalized_ref(x4, (2, 3), 1e-5), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(npy(inorm(t64(x4[0]))), normalized_ref(x4[:1], (2, 3), 1e-5)[0], rtol=1e-9,
                               atol=1e-12)


# ---- dropout --------------------------------------------------------------------------------------
def test_dropout_notes_demo_and_eval(device):
    drop = nn.Dropout(p=0.5, inplace=False)
    assert repr(drop) == "Dropout(p=0.5, inplace=False)"
    X = ember.rand(1000, device=device)
    before = host(X).copy()
    out = npy(drop(X))
    np.testing.assert_array_equal(host(X), before)  # input unchanged
    kept = out != 0
    np.testing.assert_allclose(out[kept], 2 * before[kept], rtol=1e-6)  # survivors doubled
    assert 400 < kept.sum() < 600
    drop.eval()
    assert drop(X) is X
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert not npy(nn.Dropout(1.0)(ember.ones(10, device=device))).any()
    inplace = ember.ones(100, device=device)
    nn.Dropout(0.3, inplace=True)(inplace)
    values = host(inplace)
    assert np.all(np.isclose(values, 0) | np.isclose(values, 1 / 0.7))


def test_channel_dropout_and_alpha_dropout(device):
    x = ember.ones(8, 16, 3, 3, device=device)
    out = npy(nn.Dropout2d(0.5)(x))
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))  # whole maps dropped
    assert np.all(np.isin(npy(nn.Dropout1d(0.5)(ember.ones(4, 5, 6, device=device))).reshape(4, 5, 6).std(-1),
                          [0.0]))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        nn.Dropout1d()(ember.ones(2, 3, 4, 5, device=device))
    z = ember.randn(200000, device=device)
    y = npy(nn.AlphaDropout(0.2)(z))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02  # keeps a unit Gaussian's moments
    assert nn.AlphaDropout(0.2).eval()(z) is z


# ---- embeddings -----------------------------------------------------------------------------------
def test_embedding_init_padding_and_grads(device):
    emb = nn.Embedding(100, 30, padding_idx=-1).to(device)
    assert emb.padding_idx == 99 and repr(emb) == "Embedding(100, 30, padding_idx=99)"
    w = npy(emb.weight)
    assert np.all(w[99] == 0)
    assert abs(w[:99].mean()) < 0.05 and abs(w[:99].std() - 1) < 0.05  # N(0, 1)
    idx = ember.tensor([[1, 99, 1], [5, 0, 99]], device=device)
    out = emb(idx)
    np.testing.assert_array_equal(npy(out), w[host(idx)])
    out.sum().backward()
    g = host(emb.weight.grad)
    assert g[1].tolist() == [2.0] * 30 and g[5].tolist() == [1.0] * 30 and not g[99].any() and not g[2].any()
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(ember.tensor([100], device=device))
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        emb(ember.tensor([1.0], device=device))


def test_embedding_from_pretrained_max_norm_and_gradcheck(device):
    vectors = ember.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]], device=device)
    emb = nn.Embedding.from_pretrained(vectors)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(npy(emb(ember.tensor([1], device=device))), npy(vectors)[1:])
    assert nn.Embedding.from_pretrained(vectors, freeze=False).weight.requires_grad
    renorm = nn.Embedding(4, 3, max_norm=1.0).to(device)
    renorm(ember.tensor([0, 2], device=device))
    norms = np.linalg.norm(npy(renorm.weight), axis=1)
    assert np.all(norms[[0, 2]] <= 1.0 + 1e-5)
    assert repr(renorm) == "Embedding(4, 3, max_norm=1.0)"
    freq = nn.Embedding(5, 2, scale_grad_by_freq=True).to(device)
    freq(ember.tensor([3, 3, 3, 1], device=device)).sum().backward()
    np.testing.assert_allclose(host(freq.weight.grad)[[1, 3]], np.ones((2, 2)))
    check_module_grads(nn.Embedding(6, 3).to(device), ember.tensor([[0, 2, 5], [5, 5, 1]], device=device))


def test_embedding_bag_modes_match_numpy(device):
    bag = nn.EmbeddingBag(10, 3, mode="sum").double().to(device)
    assert repr(bag) == "EmbeddingBag(10, 3, mode='sum')"
    w = npy(bag.weight)
    inp = ember.tensor([1, 2, 4, 5, 4, 3, 2, 9], device=device)
    offsets = ember.tensor([0, 4, 4], device=device)  # the middle bag is empty
    np.testing.assert_allclose(npy(bag(inp, offsets)), np.stack([w[[1, 2, 4, 5]].sum(0), np.zeros(3),
                                                                 w[[4, 3, 2, 9]].sum(0)]), rtol=1e-12)
    bag.mode = "mean"
    np.testing.assert_allclose(npy(bag(inp, offsets)), np.stack([w[[1, 2, 4, 5]].mean(0), np.zeros(3),
                                                                 w[[4, 3, 2, 9]].mean(0)]), rtol=1e-12)
    bag.mode = "max"
    np.testing.assert_allclose(npy(bag(ember.tensor([[1, 2], [7, 7]], device=device))),
                               np.stack([w[[1, 2]].max(0), w[7]]))
    weighted = nn.EmbeddingBag(10, 3, mode="sum").double().to(device)
    psw = t64([0.5, 2.0, 1.0])
    out = weighted(ember.tensor([[1, 2, 3]], device=device), per_sample_weights=psw.reshape(1, 3))
    wt = npy(weighted.weight)
    np.testing.assert_allclose(npy(out), (0.5 * wt[1] + 2 * wt[2] + wt[3])[None], rtol=1e-12)
    padded = nn.EmbeddingBag(10, 3, padding_idx=0).double().to(device)
    wp = npy(padded.weight)
    np.testing.assert_allclose(npy(padded(ember.tensor([[0, 4, 6]], device=device))), ((wp[4] + wp[6]) / 2)[None],
                               rtol=1e-12)
    check_module_grads(nn.EmbeddingBag(8, 2).to(device), ember.tensor([0, 3, 3, 7, 1], device=device),
                       ember.tensor([0, 2], device=device))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        bag(inp)
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        nn.EmbeddingBag(3, 2).to(device)(ember.tensor([[0, 1]], device=device),
                                         per_sample_weights=ember.ones(1, 2, device=device))


# ---- shape modules --------------------------------------------------------------------------------
def test_flatten_unflatten_pixelshuffle_upsample_padding(device):
    x = ember.randn(2, 3, 4, 5, device=device)
    assert nn.Flatten()(x).shape == (2, 60) and repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    un = nn.Unflatten(1, (2, 30))
    assert un(nn.Flatten()(x)).shape == (2, 2, 30) and repr(un) == "Unflatten(dim=1, unflattened_size=(2, 30))"
    ps = nn.PixelShuffle(2)
    y = ember.arange(16.0, device=device).reshape(1, 4, 2, 2)
    assert ps(y).shape == (1, 1, 4, 4) and repr(ps) == "PixelShuffle(upscale_factor=2)"
    np.testing.assert_array_equal(npy(ps(y))[0, 0], np.arange(16).reshape(4, 2, 2).transpose(1, 2, 0)
                                  .reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4))
    np.testing.assert_array_equal(npy(nn.PixelUnshuffle(2)(ps(y))), npy(y))
    up = nn.Upsample(scale_factor=2)
    assert repr(up) == "Upsample(scale_factor=2.0, mode='nearest')"
    np.testing.assert_array_equal(npy(up(y))[0, 0], np.repeat(np.repeat(npy(y)[0, 0], 2, 0), 2, 1))
    assert repr(nn.Upsample(size=(3, 3), mode="bilinear")) == "Upsample(size=(3, 3), mode='bilinear')"
    assert nn.UpsamplingBilinear2d(scale_factor=2)(y).shape == (1, 4, 4, 4)
    zp = nn.ZeroPad2d((1, 0, 2, 0))
    assert repr(zp) == "ZeroPad2d((1, 0, 2, 0))" and zp(y).shape == (1, 4, 4, 3)
    cp = nn.ConstantPad1d(2, 3.5)
    assert repr(cp) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert npy(cp(ember.zeros(1, 1, device=device)))[0].tolist() == [3.5, 3.5, 0.0, 3.5, 3.5]
    r = nn.ReflectionPad1d(2)(ember.arange(4.0, device=device).reshape(1, 1, 4))
    assert npy(r)[0, 0].tolist() == [2, 1, 0, 1, 2, 3, 2, 1]
    assert npy(nn.ReplicationPad2d(1)(ember.ones(1, 1, 2, 2, device=device))).shape == (1, 1, 4, 4)


def test_activation_module_reprs(device):
    cases = {
        nn.ReLU(): "ReLU()", nn.ReLU(inplace=True): "ReLU(inplace=True)", nn.ReLU6(): "ReLU6()",
        nn.LeakyReLU(): "LeakyReLU(negative_slope=0.01)", nn.ELU(): "ELU(alpha=1.0)",
        nn.GELU(): "GELU(approximate='none')", nn.GELU("tanh"): "GELU(approximate='tanh')",
        nn.Softmax(dim=1): "Softmax(dim=1)", nn.LogSoftmax(dim=-1): "LogSoftmax(dim=-1)",
        nn.Softplus(): "Softplus(beta=1.0, threshold=20.0)", nn.Hardtanh(): "Hardtanh(min_val=-1.0, max_val=1.0)",
        nn.PReLU(): "PReLU(num_parameters=1)", nn.Threshold(0.1, 20): "Threshold(threshold=0.1, value=20)",
        nn.Softshrink(): "Softshrink(0.5)", nn.Sigmoid(): "Sigmoid()", nn.SiLU(): "SiLU()",
        nn.RReLU(): f"RReLU(lower={1 / 8}, upper={1 / 3})", nn.Hardswish(): "Hardswish()",
        nn.CrossEntropyLoss(): "CrossEntropyLoss()", nn.MSELoss(): "MSELoss()",
    }
    for module, text in cases.items():
        assert repr(module) == text
    prelu = nn.PReLU(3).to(device)
    assert prelu.weight.shape == (3,) and np.all(npy(prelu.weight) == np.float32(0.25))
    x = ember.tensor([[-1.0, 2.0], [-4.0, -2.0], [1.0, -1.0]], device=device).reshape(1, 3, 2)
    np.testing.assert_allclose(npy(prelu(x)), np.where(npy(x) > 0, npy(x), 0.25 * npy(x)))


def test_notes_lenet5_parameter_count(device):
    """The notes' LeNet-5, as ember.examples.lenet writes it (OrderedDict Sequential, 32x32 input)."""
    net = LeNet5().to(device)
    assert sum(p.numel() for p in net.parameters()) == 61706
    assert list(net.state_dict())[:2] == ["convnet.c1.weight", "convnet.c1.bias"]
    out = net(ember.randn(3, 1, 32, 32, device=device))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(np.exp(npy(out)).sum(1), 1, rtol=1e-5)


# ---- every remaining module: gradients in float64, and empty batches -------------------------------
MODULES = [
    (lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), (2, 2, 4)),
    (lambda: nn.MaxPool1d(2), (2, 3, 6)),
    (lambda: nn.MaxPool2d(2, stride=1), (1, 2, 3, 3)),
    (lambda: nn.AvgPool1d(3, stride=2, padding=1), (2, 2, 5)),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 2, 5, 7)),
    (lambda: nn.AdaptiveMaxPool2d(2), (1, 2, 4, 5)),
    (lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 3, 4)),
    (lambda: nn.BatchNorm2d(3), (2, 3, 2, 3)),
    (lambda: nn.PReLU(3), (2, 3, 4)),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 3, 3)),
    (lambda: nn.PixelShuffle(2), (1, 8, 2, 3)),
    (lambda: nn.Flatten(), (2, 3, 4)),
    (lambda: nn.Unflatten(1, (2, 3)), (2, 6)),
    (lambda: nn.ReflectionPad2d((1, 2, 0, 1)), (1, 2, 3, 4)),
    (lambda: nn.Softmax(dim=1), (3, 5)),
    (lambda: nn.LogSoftmax(dim=-1), (3, 5)),
    (lambda: nn.Softmin(dim=0), (3, 5)),
    (lambda: nn.GELU("tanh"), (3, 5)),
    (lambda: nn.Mish(), (3, 5)),
    (lambda: nn.GLU(), (3, 4)),
    (lambda: nn.Dropout(0.5).eval(), (3, 4)),
]


@pytest.mark.parametrize("factory,shape", MODULES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_module_gradients(factory, shape, device):
    module = factory().to(device)
    check_module_grads(module, t64(np.random.default_rng(12).standard_normal(shape)))


@pytest.mark.parametrize("module,shape,out_shape", [
    (nn.Linear(3, 2), (0, 3), (0, 2)),
    (nn.Conv2d(2, 4, 3, padding=1), (0, 2, 5, 5), (0, 4, 5, 5)),
    (nn.LayerNorm(4), (0, 4), (0, 4)),
    (nn.GroupNorm(2, 4), (0, 4, 3), (0, 4, 3)),
    (nn.MaxPool2d(2), (0, 1, 4, 4), (0, 1, 2, 2)),
    (nn.Embedding(5, 3), None, (0, 3)),
    (nn.LSTM(3, 4, batch_first=True), (0, 2, 3), (0, 2, 4)),
    (nn.MultiheadAttention(4, 2, batch_first=True), (0, 3, 4), (0, 3, 4)),
])
def test_empty_batches(module, shape, out_shape, device):
    module.to(device)  # (the parametrize list's one instance, moved to the running test's device)
    x = ember.zeros(0, dtype=ember.int64, device=device) if shape is None else ember.randn(*shape, device=device)
    args = (x, x, x) if isinstance(module, nn.MultiheadAttention) else (x,)
    out = module(*args)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape == out_shape
