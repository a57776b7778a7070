"""nn.functional: activations and losses written in Ember ops, against NumPy float64 references,
with gradcheck (and gradgradcheck where the backward is itself written in tensor ops)."""
import math

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from helpers import DEVICE as _DEVICE
from helpers import each_device_fixture, host, tensor

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


def t64(a, requires_grad=False):
    return tensor(np.asarray(a, dtype=np.float64), _DEVICE[0], requires_grad)


npy = host


@pytest.fixture
def x():
    # odd size, values away from the kinks (0, +-1, +-3, +-0.5) so that finite differences are clean
    v = np.random.default_rng(0).uniform(-5, 5, (3, 7))
    for kink in (0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0):
        v[np.abs(v - kink) < 0.05] += 0.1
    return v


def softplus_ref(v, beta=1.0, threshold=20.0):
    return np.where(v * beta > threshold, v, np.log1p(np.exp(np.minimum(v * beta, threshold))) / beta)


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

ACTIVATIONS = [
    ("relu", lambda t: F.relu(t), lambda v: np.maximum(v, 0)),
    ("relu6", lambda t: F.relu6(t), lambda v: np.clip(v, 0, 6)),
    ("hardtanh", lambda t: F.hardtanh(t, -2.0, 1.5), lambda v: np.clip(v, -2, 1.5)),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.2), lambda v: np.where(v > 0, v, 0.2 * v)),
    ("elu", lambda t: F.elu(t, 0.7), lambda v: np.where(v > 0, v, 0.7 * np.expm1(v))),
    ("selu", lambda t: F.selu(t), lambda v: SELU_S * np.where(v > 0, v, SELU_A * np.expm1(v))),
    ("celu", lambda t: F.celu(t, 2.0), lambda v: np.maximum(v, 0) + np.minimum(0, 2 * np.expm1(v / 2))),
    ("softplus", lambda t: F.softplus(t, 2.0, 5.0), lambda v: softplus_ref(v, 2.0, 5.0)),
    ("logsigmoid", lambda t: F.logsigmoid(t), lambda v: -np.log1p(np.exp(-v))),
    ("softsign", lambda t: F.softsign(t), lambda v: v / (1 + np.abs(v))),
    ("softshrink", lambda t: F.softshrink(t, 0.5),
     lambda v: np.where(v > 0.5, v - 0.5, np.where(v < -0.5, v + 0.5, 0))),
    ("hardshrink", lambda t: F.hardshrink(t, 0.5), lambda v: np.where(np.abs(v) > 0.5, v, 0)),
    ("tanhshrink", lambda t: F.tanhshrink(t), lambda v: v - np.tanh(v)),
    ("hardsigmoid", lambda t: F.hardsigmoid(t), lambda v: np.clip(v / 6 + 0.5, 0, 1)),
    ("hardswish", lambda t: F.hardswish(t), lambda v: v * np.clip(v + 3, 0, 6) / 6),
    ("mish", lambda t: F.mish(t), lambda v: v * np.tanh(np.log1p(np.exp(v)))),
    ("threshold", lambda t: F.threshold(t, 1.0, -7.0), lambda v: np.where(v > 1, v, -7.0)),
    ("sigmoid", lambda t: F.sigmoid(t), lambda v: 1 / (1 + np.exp(-v))),
    ("tanh", lambda t: F.tanh(t), np.tanh),
    ("silu", lambda t: F.silu(t), lambda v: v / (1 + np.exp(-v))),
    ("gelu", lambda t: F.gelu(t), lambda v: 0.5 * v * (1 + np.vectorize(math.erf)(v / math.sqrt(2)))),
    ("rrelu_eval", lambda t: F.rrelu(t, 0.1, 0.3), lambda v: np.where(v > 0, v, 0.2 * v)),
    ("glu", lambda t: F.glu(t[:, :6], 1), lambda v: v[:, :3] / (1 + np.exp(-v[:, 3:6]))),
]


@pytest.mark.parametrize("name,fn,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_forward_and_gradients(name, fn, ref, x):
    out = fn(t64(x))
    np.testing.assert_allclose(npy(out), ref(x), rtol=1e-10, atol=1e-12)
    assert out.dtype == ember.float64
    assert gradcheck(fn, (t64(x, True),))
    # piecewise-linear functions have no second derivative to check; gelu/silu are the kernel ops'
    if name not in ("relu", "relu6", "hardtanh", "leaky_relu", "softshrink", "hardshrink", "hardsigmoid",
                    "threshold", "rrelu_eval", "gelu", "silu"):
        assert gradgradcheck(fn, (t64(x, True),))
    out32 = fn(ember.tensor(x, dtype=ember.float32))
    assert out32.dtype == ember.float32
    np.testing.assert_allclose(npy(out32), ref(x), rtol=1e-5, atol=1e-5)


def test_activation_extremes_stay_finite():
    big = t64([-1000.0, -50.0, 0.0, 50.0, 1000.0], True)
    for fn in (F.softplus, F.logsigmoid, F.elu, F.selu, F.celu, F.mish):
        out = fn(big)
        out.sum().backward()
        assert np.isfinite(npy(out)).all() and np.isfinite(big.grad.numpy()).all(), fn.__name__
        big.grad = None
    np.testing.assert_allclose(npy(F.softplus(big)), [0, softplus_ref(-50.0), math.log(2), 50, 1000], rtol=1e-12)


def test_inplace_variants_and_modules():
    for fn, inplace_fn in ((F.relu, F.relu_), (F.elu, F.elu_), (F.leaky_relu, F.leaky_relu_),
                           (F.hardtanh, F.hardtanh_), (F.selu, F.selu_), (F.celu, F.celu_)):
        v = ember.randn(10)
        expected = npy(fn(v))
        assert inplace_fn(v) is v
        np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6)
    v = ember.randn(6)
    expected = npy(F.threshold(v, 0.1, 2.0))
    F.threshold_(v, 0.1, 2.0)
    np.testing.assert_allclose(v.numpy(), expected)
    # inplace inside a graph: gradients still flow
    a = ember.randn(5, dtype=ember.float64, requires_grad=True)
    y = a * 2
    nn.ReLU(inplace=True)(y)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), 2.0 * (a.detach().numpy() > 0))


def test_rrelu_training_prelu_and_errors():
    v = ember.tensor([-1.0, -2.0, 3.0] * 100)
    out = npy(F.rrelu(v, 0.1, 0.3, training=True))
    slopes = out[v.numpy() < 0] / v.numpy()[v.numpy() < 0]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.01
    np.testing.assert_array_equal(out[v.numpy() > 0], 3.0)
    w = t64([0.1, 0.2, 0.3], True)
    inp = t64(np.random.default_rng(1).standard_normal((2, 3, 4)), True)
    assert gradcheck(lambda a, b: F.prelu(a, b), (inp, w))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        F.prelu(inp, t64([0.1, 0.2]))
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(ember.randn(2, 3))
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(ember.randn(2), -1.0)


# ---- losses --------------------------------------------------------------------------------------
def reduce_ref(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.fixture
def pair():
    rng = np.random.default_rng(2)
    return rng.standard_normal((4, 5)), rng.standard_normal((4, 5))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_regression_losses(pair, reduction):
    a, b = pair
    d = a - b
    cases = [
        (F.mse_loss, {}, d ** 2),
        (F.l1_loss, {}, np.abs(d)),
        (F.smooth_l1_loss, {"beta": 0.7}, np.where(np.abs(d) < 0.7, 0.5 * d ** 2 / 0.7, np.abs(d) - 0.35)),
        (F.huber_loss, {"delta": 0.7}, np.where(np.abs(d) < 0.7, 0.5 * d ** 2, 0.7 * (np.abs(d) - 0.35))),
        (F.soft_margin_loss, {}, np.log1p(np.exp(-np.sign(b) * a))),
    ]
    for fn, kw, ref in cases:
        target = t64(np.sign(b)) if fn is F.soft_margin_loss else t64(b)
        out = fn(t64(a), target, reduction=reduction, **kw)
        np.testing.assert_allclose(npy(out), reduce_ref(ref, reduction), rtol=1e-10, err_msg=fn.__name__)
        assert gradcheck(lambda p, q, fn=fn, kw=kw: fn(p, q, reduction=reduction, **kw),
                         (t64(a, True), t64(target.numpy(), fn is not F.soft_margin_loss)))
    np.testing.assert_allclose(npy(F.smooth_l1_loss(t64(a), t64(b), beta=0.0, reduction=reduction)),
                               reduce_ref(np.abs(d), reduction), rtol=1e-12)


def test_loss_modules_and_legacy_flags(pair):
    a, b = pair
    np.testing.assert_allclose(npy(nn.MSELoss()(t64(a), t64(b))), ((a - b) ** 2).mean(), rtol=1e-12)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        loss = nn.L1Loss(size_average=False)
    assert loss.reduction == "sum"
    np.testing.assert_allclose(npy(loss(t64(a), t64(b))), np.abs(a - b).sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        F.mse_loss(t64(a), t64(b), reduction="bogus")
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(t64(a), t64(b[:1]))
    ce = nn.CrossEntropyLoss(weight=ember.ones(5))
    assert [n for n, _ in ce.named_buffers()] == ["weight"]


def test_classification_losses_through_modules():
    rng = np.random.default_rng(3)
    logits, target = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    np.testing.assert_allclose(npy(nn.CrossEntropyLoss()(t64(logits), ember.tensor(target))),
                               -logp[np.arange(6), target].mean(), rtol=1e-10)
    np.testing.assert_allclose(npy(nn.NLLLoss(reduction="sum")(t64(logp), ember.tensor(target))),
                               -logp[np.arange(6), target].sum(), rtol=1e-10)
    p, y = 1 / (1 + np.exp(-logits)), rng.uniform(0, 1, (6, 4))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(npy(nn.BCELoss()(t64(p), t64(y))), bce.mean(), rtol=1e-10)
    np.testing.assert_allclose(npy(nn.BCEWithLogitsLoss()(t64(logits), t64(y))), bce.mean(), rtol=1e-10)
    pw = rng.uniform(0.5, 2, 4)
    ref = -(pw * y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(npy(nn.BCEWithLogitsLoss(pos_weight=t64(pw))(t64(logits), t64(y))), ref.mean(),
                               rtol=1e-10)
    ml = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(1)
    np.testing.assert_allclose(npy(nn.MultiLabelSoftMarginLoss()(t64(logits), t64(y))), ml.mean(), rtol=1e-10)
    margins = np.maximum(0, 1 - logits[np.arange(6), target][:, None] + logits) ** 2
    margins[np.arange(6), target] = 0
    np.testing.assert_allclose(npy(nn.MultiMarginLoss(p=2)(t64(logits), ember.tensor(target))),
                               (margins.sum(1) / 4).mean(), rtol=1e-10)
    assert gradcheck(lambda z: F.multi_margin_loss(z, ember.tensor(target)), (t64(logits, True),))


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    rng = np.random.default_rng(4)
    inp = np.log(rng.dirichlet(np.ones(5), 3))
    tgt = rng.dirichlet(np.ones(5), 3)
    tgt[0, 0] = 0.0  # 0 * log 0 = 0
    t = np.log(tgt + 1e-300) if log_target else tgt
    loss = np.exp(t) * (t - inp) if log_target else np.where(tgt > 0, tgt * (np.log(tgt + 1e-300) - inp), 0)
    ref = loss.sum() / 3 if reduction == "batchmean" else reduce_ref(loss, reduction)
    out = F.kl_div(t64(inp), t64(t), reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(npy(out), ref, rtol=1e-10, atol=1e-300)
    assert gradcheck(lambda z: F.kl_div(z, t64(t), reduction=reduction, log_target=log_target),
                     (t64(inp, True),))


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        nn.KLDivLoss()(t64(np.zeros((2, 2))), t64(np.full((2, 2), 0.5)))


def test_margin_and_embedding_losses():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(8), rng.standard_normal(8)
    y = np.where(rng.random(8) > 0.5, 1.0, -1.0)
    np.testing.assert_allclose(npy(F.margin_ranking_loss(t64(a), t64(b), t64(y), margin=0.3)),
                               np.maximum(0, -y * (a - b) + 0.3).mean(), rtol=1e-12)
    np.testing.assert_allclose(npy(F.hinge_embedding_loss(t64(a), t64(y), margin=0.5, reduction="none")),
                               np.where(y == 1, a, np.maximum(0, 0.5 - a)), rtol=1e-12)
    x1, x2 = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    cos = (x1 * x2).sum(1) / np.sqrt(((x1 ** 2).sum(1) + 1e-12) * ((x2 ** 2).sum(1) + 1e-12))
    np.testing.assert_allclose(npy(F.cosine_embedding_loss(t64(x1), t64(x2), t64(y), margin=0.1)),
                               np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1)).mean(), rtol=1e-10)
    assert gradcheck(lambda p, q: F.cosine_embedding_loss(p, q, t64(y)), (t64(x1, True), t64(x2, True)))
    anc, pos, neg = (rng.standard_normal((8, 3)) for _ in range(3))
    dist = (lambda u, v: np.linalg.norm(u - v + 1e-6, axis=1))
    ref = np.maximum(dist(anc, pos) - np.minimum(dist(anc, neg), dist(pos, neg)) + 1.0, 0).mean()
    np.testing.assert_allclose(npy(nn.TripletMarginLoss(swap=True)(t64(anc), t64(pos), t64(neg))), ref, rtol=1e-10)
    assert gradcheck(lambda p, q, r: F.triplet_margin_loss(p, q, r, p=3), (t64(anc, True), t64(pos, True),
                                                                        t64(neg, True)))
    with pytest.raises(RuntimeError, match="expected to have the same number of dimensions"):
        F.triplet_margin_loss(t64(anc), t64(pos), t64(neg[0]))
    custom = nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: 1 - F.cosine_similarity(u, v))
    cs = (lambda u, v: 1 - (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1))
    np.testing.assert_allclose(npy(custom(t64(anc), t64(pos), t64(neg))),
                               np.maximum(cs(anc, pos) - cs(anc, neg) + 1, 0).mean(), rtol=1e-10)


def test_poisson_and_gaussian_nll():
    rng = np.random.default_rng(6)
    rate, target = rng.standard_normal((4, 3)), rng.poisson(2.0, (4, 3)).astype(np.float64)
    stirling = np.where(target > 1, target * np.log(np.maximum(target, 1)) - target
                        + 0.5 * np.log(2 * np.pi * np.maximum(target, 1)), 0)
    np.testing.assert_allclose(npy(F.poisson_nll_loss(t64(rate), t64(target), full=True)),
                               (np.exp(rate) - target * rate + stirling).mean(), rtol=1e-10)
    lam = np.exp(rate)
    np.testing.assert_allclose(npy(nn.PoissonNLLLoss(log_input=False, reduction="sum")(t64(lam), t64(target))),
                               (lam - target * np.log(lam + 1e-8)).sum(), rtol=1e-10)
    mu, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    var = rng.uniform(0.1, 2, (4, 3))
    ref = 0.5 * (np.log(var) + (mu - y) ** 2 / var)
    np.testing.assert_allclose(npy(F.gaussian_nll_loss(t64(mu), t64(y), t64(var))), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(npy(nn.GaussianNLLLoss(full=True, reduction="sum")(t64(mu), t64(y), t64(var))),
                               (ref + 0.5 * np.log(2 * np.pi)).sum(), rtol=1e-10)
    v1 = var[:, :1]
    np.testing.assert_allclose(npy(F.gaussian_nll_loss(t64(mu), t64(y), t64(v1[:, 0]), reduction="none")),
                               0.5 * (np.log(v1) + (mu - y) ** 2 / v1), rtol=1e-10)
    assert gradcheck(lambda m, v: F.gaussian_nll_loss(m, t64(y), v), (t64(mu, True), t64(var, True)))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(t64(mu), t64(y), t64(-var))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(t64(mu), t64(y), t64(var[:2]))


# ---- distances, normalisation, misc ---------------------------------------------------------------
def test_normalize_cosine_pairwise():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(npy(F.normalize(t64(a))), a / np.linalg.norm(a, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(npy(F.normalize(t64(a), p=1, dim=0)), a / np.abs(a).sum(0), rtol=1e-12)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(npy(F.cosine_similarity(t64(a), t64(b))), cos, rtol=1e-12)
    np.testing.assert_allclose(npy(nn.CosineSimilarity(dim=0)(t64(a), t64(b))),
                               (a * b).sum(0) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0), rtol=1e-12)
    for p in (1, 2, 3, math.inf):
        ref = np.linalg.norm(a - b + 1e-6, ord=p, axis=1)
        np.testing.assert_allclose(npy(F.pairwise_distance(t64(a), t64(b), p=p)), ref, rtol=1e-12)
        assert gradcheck(lambda u, v, p=p: F.pairwise_distance(u, v, p=p), (t64(a, True), t64(b, True)))
    assert F.pairwise_distance(t64(a), t64(b), keepdim=True).shape == (4, 1)
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v), (t64(a, True), t64(b, True)))
    assert gradcheck(lambda u: F.normalize(u, dim=-1), (t64(a, True),))
    zero = t64(np.zeros((1, 3)), True)
    F.normalize(zero).sum().backward()
    np.testing.assert_array_equal(zero.grad.numpy(), np.full((1, 3), 1e12))  # eps clamp, not NaN
    iu = np.triu_indices(4, 1)
    np.testing.assert_allclose(npy(F.pdist(t64(a))), np.linalg.norm(a[iu[0]] - a[iu[1]], axis=1), rtol=1e-12)


def test_one_hot_pad_embedding_functional():
    assert F.one_hot(ember.tensor([0, 2]), 4).tolist() == [[1, 0, 0, 0], [0, 0, 1, 0]]
    assert F.pad(ember.ones(1, 2), (1, 2), value=5.0).tolist() == [[5, 1, 1, 5, 5]]
    w = t64(np.arange(12.0).reshape(4, 3), True)
    out = F.embedding(ember.tensor([[3, 0], [0, 0]]), w, padding_idx=0)
    np.testing.assert_array_equal(npy(out)[0, 0], [9, 10, 11])
    out.sum().backward()
    assert w.grad.numpy().tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1]]
    assert gradgradcheck(lambda v: F.embedding(ember.tensor([1, 1, 2]), v) ** 2, (t64(np.ones((3, 2)), True),))
    bag = F.embedding_bag(ember.tensor([[0, 1], [2, 3]]), t64(np.arange(8.0).reshape(4, 2)))
    assert bag.tolist() == [[1, 2], [5, 6]]


def test_dropout_functional_defaults():
    v = ember.ones(1000)
    out = npy(F.dropout(v))  # F.dropout trains by default (unlike the module in eval mode)
    assert set(np.unique(out)) == {0.0, 2.0}
    assert F.dropout(v, training=False) is v
    assert F.dropout(v, p=0.0) is v
    assert F.alpha_dropout(v) is v  # alpha_dropout defaults to training=False
    a = ember.ones(50, dtype=ember.float64, requires_grad=True)
    out = F.dropout(a, 0.4)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), npy(out))  # the gradient carries the same mask and scale
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(v, -0.1)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ember.ones(2, 3, 4))
