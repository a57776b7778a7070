"""Rows of the losses of nn.functional."""
from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ...nn import functional as F
from ..softmax import _BinaryCrossEntropy
from ._base import OpInfo, Sample, _listed, _t

_REDUCTIONS = ("mean", "sum", "none")
_FILES = ("tests/test_nn_functional.py",)


def _reductions(build, reductions=_REDUCTIONS):
    """sample_inputs: every (args, kwargs, desc) that build(mk, ints) yields, once per reduction."""
    @_listed()
    def gen(mk, ints):
        for args, kwargs, desc in build(mk, ints):
            for r in reductions:
                yield Sample(args, dict(kwargs, reduction=r), f"{desc}, {r}")
    return gen


def _mean(total, count):
    """total / count, NaN for an empty loss (as PyTorch) without NumPy's warning."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.float64(total) / count


def _reduced(loss, reduction="mean"):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else _mean(loss.sum(), loss.size)


def _ref(elementwise):
    """A loss reference from its elementwise (unreduced) form."""
    def ref(*args, reduction="mean", **kwargs):
        return _reduced(elementwise(*args, **kwargs), reduction)
    return ref


def _errors(make_good, make_bad, exc=RuntimeError):
    """A bad reduction string (ValueError) and mismatched shapes (exc); make_* take zeros(*shape)."""
    def gen(device):
        def z(*s, dtype=_dtype.float64):
            return _t(np.zeros(s), device, dtype)
        yield make_good(z), {"reduction": "bad"}, ValueError
        yield make_bad(z), {}, exc
    return gen


def _signs(mk, *s):
    """A float ±1 target (the losses that multiply by it)."""
    return mk(*s, domain="nonzero").sign()


def _bits(mk, *s):
    """A float 0/1 target of the samples' dtype."""
    return mk(*s).sign().relu()


def _int_signs(ints, *s):
    """An int64 ±1 target (the losses that compare it with 1 and -1: a float target's numerical
    gradient would jump)."""
    return ints(2, *s) * 2 - 1


# ---- regression losses (input, target of one shape) --------------------------------------------
def _pairs(mk, ints):
    yield (mk(3, 4), mk(3, 4)), {}, "(3, 4)"
    yield (mk(7), mk(7)), {}, "(7,)"
    yield (mk(4, 3, transposed=True), mk(4, 3)), {}, "transposed"
    yield (mk(1, 2, 1), mk(1, 2, 1)), {}, "size-1 dims"
    yield (mk(0, 3), mk(0, 3)), {}, "empty"


def _beta_pairs(name):
    def build(mk, ints):
        yield from _pairs(mk, ints)
        yield (mk(2, 5), mk(2, 5)), {name: 0.3}, f"{name} 0.3"
        yield (mk(6), mk(6)), {name: 2.5}, f"{name} 2.5"
    return build


def _smooth_l1(x, y, beta=1.0):
    d = np.abs(x - y)
    return d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _huber(x, y, delta=1.0):
    d = np.abs(x - y)
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _pair_errors():
    return _errors(lambda z: (z(3, 4), z(3, 4)), lambda z: (z(3, 4), z(5)))


def _regression_rows() -> list[OpInfo]:
    common = dict(k=12, errors=_pair_errors(), files=_FILES)
    return [
        OpInfo("l1_loss", F.l1_loss, _reductions(_pairs), reference=_ref(lambda x, y: np.abs(x - y)), **common),
        OpInfo("mse_loss", F.mse_loss, _reductions(_pairs), reference=_ref(lambda x, y: (x - y) ** 2), **common),
        OpInfo("smooth_l1_loss", F.smooth_l1_loss, _reductions(_beta_pairs("beta")), reference=_ref(_smooth_l1),
               **common),
        OpInfo("huber_loss", F.huber_loss, _reductions(_beta_pairs("delta")), reference=_ref(_huber), **common),
    ]


# ---- classification losses ----------------------------------------------------------------------
def _bce(x, y, weight=None):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
    return loss * (1 if weight is None else weight)


def _bce_samples(mk, ints):
    yield (mk(3, 4).sigmoid(), mk(3, 4).sigmoid()), {}, "(3, 4)"
    yield (mk(5).sigmoid(), mk(5).sigmoid(), mk(5, domain="positive")), {}, "(5,) weighted"
    yield (mk(3, 4).sigmoid().transpose(0, 1), mk(4, 3).sigmoid(), mk(3)), {}, "transposed, broadcast weight"
    yield (mk(0, 2).sigmoid(), mk(0, 2)), {}, "empty"


def _soft_margin(x, y):
    return np.logaddexp(0, -y * x)


def _soft_margin_samples(mk, ints):
    yield (mk(3, 4), _signs(mk, 3, 4)), {}, "(3, 4)"
    yield (mk(6), _signs(mk, 6)), {}, "(6,)"
    yield (mk(4, 3, transposed=True), _signs(mk, 4, 3)), {}, "transposed"
    yield (mk(0, 3), mk(0, 3)), {}, "empty"


def _multilabel(x, y, weight=None):
    loss = -(y * -np.logaddexp(0, -x) + (1 - y) * -np.logaddexp(0, x)) * (1 if weight is None else weight)
    return loss.mean(-1)


def _multilabel_samples(mk, ints):
    yield (mk(3, 4), _bits(mk, 3, 4)), {}, "(3, 4)"
    yield (mk(2, 5), mk(2, 5, domain="unit").abs(), mk(5, domain="positive")), {}, "soft targets, weighted"
    yield (mk(4, 3, transposed=True), _bits(mk, 4, 3)), {}, "transposed"
    yield (mk(1, 1), _bits(mk, 1, 1)), {}, "one label"


def _nll(x, target, weight=None, ignore_index=-100):
    """Elementwise -w[t] x[t] and the weights w[t] (0 where ignored), over dim 1 (dim 0 unbatched)."""
    if x.ndim == 1:
        x, target = x[None], target[None]
    w = np.ones(x.shape[1]) if weight is None else weight
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(x, safe[:, None], 1)[:, 0]
    return -picked * w[safe] * keep, w[safe] * keep


def _nll_ref(x, target, weight=None, ignore_index=-100, reduction="mean"):
    loss, w = _nll(x, target, weight, ignore_index)
    if reduction == "mean":
        return _mean(loss.sum(), w.sum())
    return _reduced(loss.reshape(target.shape), reduction)


def _nll_samples(mk, ints):
    yield (mk(4, 5), ints(5, 4)), {}, "(4, 5)"
    yield (mk(3, 4, 2), ints(4, 3, 2)), {}, "(3, 4, 2)"
    yield (mk(5), ints(5)), {}, "unbatched"
    yield (mk(6, 3, transposed=True), ints(3, 6)), {}, "transposed"
    # the class weights get no gradient (as in PyTorch), so the weighted cases come after the gradchecked ones
    yield (mk(4, 3), ints(3, 4), mk(3, domain="positive")), {}, "weighted"
    target = ints(3, 5)
    target[1] = 2
    yield (mk(5, 3), target, mk(3, domain="positive")), {"ignore_index": 2}, "weighted, ignore_index"
    yield (mk(0, 3), ints(3, 0)), {}, "empty"


def _multi_margin(x, y, p=1, margin=1.0, weight=None):
    x2 = x if x.ndim == 2 else x[None]
    y2 = y.reshape(-1)
    picked = np.take_along_axis(x2, y2[:, None], 1)
    hinge = np.maximum(margin - picked + x2, 0) ** p
    hinge = hinge * (1 if weight is None else weight[y2][:, None])
    hinge[np.arange(len(y2)), y2] = 0
    loss = hinge.sum(1) / x2.shape[1]
    return loss if x.ndim == 2 else loss[0]


def _multi_margin_samples(mk, ints):
    yield (mk(3, 4), ints(4, 3)), {}, "(3, 4)"
    yield (mk(2, 5), ints(5, 2), 2, 0.5), {}, "p 2, margin 0.5"
    yield (mk(5), ints(5)), {}, "unbatched"
    yield (mk(4, 3, transposed=True), ints(3, 4), 1, 1.0, mk(3, domain="positive")), {}, "transposed, weighted"


def _classification_rows() -> list[OpInfo]:
    return [
        OpInfo("binary_cross_entropy", F.binary_cross_entropy, _reductions(_bce_samples),
               op=(_BinaryCrossEntropy,), reference=_ref(_bce), k=12,
               errors=_errors(lambda z: (z(3, 4), z(3, 4)), lambda z: (z(3, 4), z(5)), ValueError),
               files=("tests/test_functional_softmax.py", "tests/test_softmax_xent.py")),
        OpInfo("soft_margin_loss", F.soft_margin_loss, _reductions(_soft_margin_samples),
               reference=_ref(_soft_margin), k=12, errors=_pair_errors(), files=_FILES),
        OpInfo("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss, _reductions(_multilabel_samples),
               reference=_ref(_multilabel), k=12, errors=_pair_errors(), files=_FILES),
        OpInfo("nll_loss", F.nll_loss, _reductions(_nll_samples), reference=_nll_ref, k=6,
               errors=_errors(lambda z: (z(3, 4), z(3, dtype=_dtype.int64)),
                              lambda z: (z(3, 4), z(2, dtype=_dtype.int64)), ValueError),
               files=("tests/test_functional_softmax.py",)),
        OpInfo("multi_margin_loss", F.multi_margin_loss, _reductions(_multi_margin_samples),
               reference=_ref(_multi_margin), k=12,
               errors=_errors(lambda z: (z(3, 4), z(3, dtype=_dtype.int64)),
                              lambda z: (z(3, 4), z(2, dtype=_dtype.int64))),
               files=_FILES),
    ]


# ---- distribution losses ------------------------------------------------------------------------
def _kl(x, y, log_target=False):
    if log_target:
        return np.exp(y) * (y - x)
    return np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y * x


def _kl_ref(x, y, reduction="mean", log_target=False):
    loss = _kl(x, y, log_target)
    return _mean(loss.sum(), x.shape[0]) if reduction == "batchmean" else _reduced(loss, reduction)


def _kl_samples(mk, ints):
    yield (mk(3, 4).log_softmax(1), mk(3, 4).softmax(1)), {}, "(3, 4)"
    yield (mk(2, 5).log_softmax(1), mk(2, 5).log_softmax(1)), {"log_target": True}, "log_target"
    yield (mk(4, 3, transposed=True), mk(4, 3, domain="positive")), {}, "transposed"
    yield (mk(6), mk(6).relu()), {}, "zeros in the target"
    yield (mk(0, 3), mk(0, 3)), {}, "empty"


def _poisson(x, y, log_input=True, full=False, eps=1e-8):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
    if full:
        t = np.where(y > 1, y, 1)
        loss = loss + np.where(y > 1, t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t), 0)
    return loss


def _poisson_samples(mk, ints):
    yield (mk(3, 4), mk(3, 4, domain="positive")), {}, "(3, 4)"
    yield (mk(5, domain="positive"), mk(5, domain="positive")), {"log_input": False}, "log_input False"
    yield (mk(4, 3, transposed=True), mk(4, 3, domain="positive")), {"full": True}, "transposed, full"
    yield (mk(6, domain="positive"), mk(6, domain="positive")), {"log_input": False, "eps": 0.1}, "eps 0.1"
    yield (mk(0, 2), mk(0, 2)), {}, "empty"


def _gaussian_nll(x, y, var, full=False, eps=1e-6):
    var = np.full(x.shape, var) if np.isscalar(var) else var
    if var.shape != x.shape:
        var = var.reshape(var.shape + (1,)) if var.shape == x.shape[:-1] else var
    var = np.maximum(var, eps)
    return 0.5 * (np.log(var) + (x - y) ** 2 / var) + (0.5 * math.log(2 * math.pi) if full else 0)


def _gaussian_samples(mk, ints):
    yield (mk(3, 4), mk(3, 4), mk(3, 4, domain="positive")), {}, "(3, 4)"
    yield (mk(2, 5), mk(2, 5), mk(2, domain="positive")), {"full": True}, "one variance per row, full"
    yield (mk(4, 3, transposed=True), mk(4, 3), mk(4, 1, domain="positive")), {}, "transposed, (4, 1) var"
    yield (mk(6), mk(6), 0.7), {}, "float var"
    # clamping var at eps keeps its gradient (as PyTorch), which is then not the clamped loss's: not gradchecked
    yield (mk(2, 3), mk(2, 3), mk(2, 3, domain="positive")), {"eps": 1.0}, "var clamped at eps 1"
    yield (mk(0, 3), mk(0, 3), mk(0, 3)), {}, "empty"


def _distribution_rows() -> list[OpInfo]:
    return [
        OpInfo("kl_div", F.kl_div, _reductions(_kl_samples, _REDUCTIONS + ("batchmean",)), reference=_kl_ref,
               k=12, errors=_pair_errors(), files=_FILES),
        OpInfo("poisson_nll_loss", F.poisson_nll_loss, _reductions(_poisson_samples), reference=_ref(_poisson),
               k=12, errors=_pair_errors(), files=_FILES),
        OpInfo("gaussian_nll_loss", F.gaussian_nll_loss, _reductions(_gaussian_samples),
               reference=_ref(_gaussian_nll), k=12,
               errors=_errors(lambda z: (z(3, 4), z(3, 4), z(3, 4)), lambda z: (z(3, 4), z(3, 4), z(3, 3)),
                              ValueError),
               files=_FILES),
    ]


# ---- embedding and ranking losses ----------------------------------------------------------------
def _margin_ranking(x1, x2, y, margin=0.0):
    return np.maximum(-y * (x1 - x2) + margin, 0)


def _hinge_embedding(x, y, margin=1.0):
    return np.maximum(margin - x, 0) * (y != 1) + x * (y != -1)


def _cosine_embedding(x1, x2, y, margin=0.0):
    eps = 1e-12
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + eps) * ((x2 * x2).sum(-1) + eps))
    return np.where(y == 1, 1 - cos, 0) + np.where(y == -1, np.maximum(cos - margin, 0), 0)


def _distance(x1, x2, p=2.0, eps=1e-6):
    return (np.abs(x1 - x2 + eps) ** p).sum(-1) ** (1 / p)


def _triplet(a, pos, neg, margin=1.0, p=2.0, eps=1e-6, swap=False):
    d_neg = _distance(a, neg, p, eps)
    if swap:
        d_neg = np.minimum(d_neg, _distance(pos, neg, p, eps))
    return np.maximum(margin + _distance(a, pos, p, eps) - d_neg, 0)


def _l1_distance(x1, x2):
    """A distance_function for both Tensors and NumPy arrays."""
    return abs(x1 - x2).sum(-1)


def _triplet_with_distance(a, pos, neg, distance_function=None, margin=1.0, swap=False):
    dist = distance_function or _distance
    d_neg = dist(a, neg)
    if swap:
        d_neg = np.minimum(d_neg, dist(pos, neg))
    return np.maximum(margin + dist(a, pos) - d_neg, 0)


def _ranking_samples(mk, ints):
    yield (mk(5), mk(5), _signs(mk, 5)), {}, "(5,)"
    yield (mk(2, 3), mk(2, 3), _signs(mk, 2, 3)), {"margin": 0.5}, "(2, 3), margin 0.5"
    yield (mk(4, 3, transposed=True), mk(4, 3), _signs(mk, 4, 3)), {}, "transposed"
    yield (mk(0), mk(0), mk(0)), {}, "empty"


def _hinge_samples(mk, ints):
    yield (mk(3, 4), _int_signs(ints, 3, 4)), {}, "(3, 4)"
    yield (mk(6), _int_signs(ints, 6)), {"margin": 0.5}, "margin 0.5"
    yield (mk(4, 3, transposed=True), _int_signs(ints, 1, 3)), {}, "transposed, broadcast target"
    yield (mk(0, 2), _int_signs(ints, 0, 2)), {}, "empty"


def _cosine_embedding_samples(mk, ints):
    yield (mk(3, 4), mk(3, 4), _int_signs(ints, 3)), {}, "(3, 4)"
    yield (mk(5), mk(5), _int_signs(ints)), {"margin": -0.5}, "unbatched, margin -0.5"
    yield (mk(4, 3, transposed=True), mk(4, 3), _int_signs(ints, 4)), {"margin": 0.2}, "transposed"
    yield (mk(0, 3), mk(0, 3), _int_signs(ints, 0)), {}, "empty"


def _triplets(extra):
    def build(mk, ints):
        yield (mk(3, 4), mk(3, 4), mk(3, 4)), {}, "(3, 4)"
        yield (mk(5), mk(5), mk(5)), dict(extra[0]), f"unbatched {extra[0]}"
        yield (mk(4, 3, transposed=True), mk(4, 3), mk(4, 3)), dict(extra[1]), f"transposed {extra[1]}"
        yield (mk(0, 3), mk(0, 3), mk(0, 3)), {}, "empty"
    return build


def _ranking_rows() -> list[OpInfo]:
    triple = _errors(lambda z: (z(3, 4), z(3, 4), z(3, 4)), lambda z: (z(3, 4), z(3, 4), z(3)))
    return [
        OpInfo("margin_ranking_loss", F.margin_ranking_loss, _reductions(_ranking_samples),
               reference=_ref(_margin_ranking), k=12,
               errors=_errors(lambda z: (z(5), z(5), z(5)), lambda z: (z(5), z(4), z(5))), files=_FILES),
        OpInfo("hinge_embedding_loss", F.hinge_embedding_loss, _reductions(_hinge_samples),
               reference=_ref(_hinge_embedding), k=12, errors=_pair_errors(), files=_FILES),
        OpInfo("cosine_embedding_loss", F.cosine_embedding_loss, _reductions(_cosine_embedding_samples),
               reference=_ref(_cosine_embedding), k=12,
               errors=_errors(lambda z: (z(3, 4), z(3, 4), z(3)), lambda z: (z(3, 4), z(3, 5), z(3))), files=_FILES),
        OpInfo("triplet_margin_loss", F.triplet_margin_loss,
               _reductions(_triplets(({"p": 1.0, "swap": True}, {"margin": 0.5, "p": 3.0, "eps": 0.1}))),
               reference=_ref(_triplet), k=12, errors=triple, files=_FILES),
        OpInfo("triplet_margin_with_distance_loss", F.triplet_margin_with_distance_loss,
               _reductions(_triplets(({"distance_function": _l1_distance}, {"swap": True, "margin": 0.5}))),
               reference=_ref(_triplet_with_distance), k=12,
               errors=_errors(lambda z: (z(3, 4), z(3, 4), z(3, 4)), lambda z: (z(3, 4), z(3, 4), z(3, 5))),
               files=_FILES),
    ]


def rows() -> list[OpInfo]:
    return _regression_rows() + _classification_rows() + _distribution_rows() + _ranking_rows()
