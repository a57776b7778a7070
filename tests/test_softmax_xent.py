"""Softmax, log-softmax, cross-entropy and BCE-with-logits kernels against NumPy float64
references."""
import numpy as np
import pytest
from ember.ops.table import log_softmax_ref, softmax_ref
from kernel_checks import DTYPES, assert_close, check_gradients


# ---- float64 references (softmax and log-softmax: the op table's) -------------------------------
def softmax_backward_ref(g, y, axis, log):
    if log:
        return g - np.exp(y) * g.sum(axis=axis, keepdims=True)
    return y * (g - (g * y).sum(axis=axis, keepdims=True))


def cross_entropy_ref(x, target, w, ignore_index, ls):
    """Per-row loss and lse, written with a plain loop over rows (PyTorch's definition)."""
    M, C = x.shape
    w = np.ones(C) if w is None else w
    loss, lse = np.zeros(M), np.zeros(M)
    for m in range(M):
        lse[m] = x[m].max() + np.log(np.exp(x[m] - x[m].max()).sum())
        t = target[m]
        if t == ignore_index:
            continue
        nll = -(x[m] - lse[m])  # -log p_c for every class c
        loss[m] = (1 - ls) * w[t] * nll[t] + ls / C * np.sum(w * nll)
    return loss, lse


def cross_entropy_grad_ref(x, target, w, ignore_index, ls, grad_loss):
    """d loss_m / d x_m scaled by grad_loss, from -log p_c's gradient (p - onehot(c))."""
    M, C = x.shape
    w = np.ones(C) if w is None else w
    grad = np.zeros_like(x)
    for m in range(M):
        t = target[m]
        if t == ignore_index:
            continue
        p = softmax_ref(x[m], 0)
        onehot = np.eye(C)
        row = (1 - ls) * w[t] * (p - onehot[t])
        for c in range(C):
            row += ls / C * w[c] * (p - onehot[c])
        grad[m] = grad_loss[m] * row
    return grad


def bce_ref(x, y, w, pw):
    pw = 1.0 if pw is None else (pw if x.ndim else pw[0])  # pos_weight runs along the last dim
    w = np.ones_like(x) if w is None else w
    log_sig, log_one_minus_sig = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    loss = -w * (pw * y * log_sig + (1 - y) * log_one_minus_sig)
    sig = 1 / (1 + np.exp(-x))
    grad_x = w * (-pw * y * (1 - sig) + (1 - y) * sig)
    grad_y = w * (-pw * log_sig + log_one_minus_sig)
    return loss, grad_x, grad_y


# ---- softmax -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((1,), 0), ((7,), -1), ((73, 74), 1), ((73, 74), 0),
                                        ((4, 1, 5), 1), ((3, 130, 2, 5), 1), ((2, 3, 67), -2),
                                        ((0, 5), 1), ((5, 1000), -1), ((), 0)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(kernels, rng, dtype, shape, axis, log):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    out = kernels.empty(shape, dtype)
    kernels.C.softmax_forward(kernels.asarray(x), out, axis, log)
    ref = (log_softmax_ref if log else softmax_ref)(x.astype(np.float64), axis)
    k = shape[axis] if shape else 1
    assert_close(kernels.numpy(out), ref, dtype, k=k)

    grad_x = kernels.empty(shape, dtype)
    kernels.C.softmax_backward(kernels.asarray(g), out, grad_x, axis, log)
    y = kernels.numpy(out).astype(np.float64)
    gref = softmax_backward_ref(g.astype(np.float64), y, axis, log)
    assert_close(kernels.numpy(grad_x), gref, dtype, k=k, scale=float(np.abs(g).max(initial=0)))


@pytest.mark.parametrize("log", [False, True])
def test_softmax_extreme_values_and_in_place(kernels, log):
    x = np.array([[1e4, 1e4 - 1, -np.inf, 0.0], [-1e4, -1e4, -1e4, -1e4]], np.float32)
    d = kernels.asarray(x.copy())
    kernels.C.softmax_forward(d, d, -1, log)  # out may alias x
    ref = (log_softmax_ref if log else softmax_ref)(x.astype(np.float64), -1)
    got = kernels.numpy(d)
    if log:
        assert got[0, 2] == -np.inf
        mask = np.isfinite(ref)
        assert_close(got[mask], ref[mask], np.float32, k=4)
    else:
        assert_close(got, ref, np.float32, k=4)


def test_softmax_finite_differences(kernels, rng):
    for axis, log in [(1, False), (0, True), (2, False)]:
        x0, proj = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))

        def forward(a, axis=axis, log=log):
            out = kernels.empty(a[0].shape, np.float64)
            kernels.C.softmax_forward(kernels.asarray(a[0]), out, axis, log)
            return kernels.numpy(out)

        out = kernels.asarray(forward([x0]))
        gx = kernels.empty(x0.shape, np.float64)
        kernels.C.softmax_backward(kernels.asarray(proj), out, gx, axis, log)
        check_gradients(lambda a, p=proj: float(np.sum(forward(a) * p)), [x0], [kernels.numpy(gx)],
                        rng)


# ---- cross-entropy -------------------------------------------------------------------------------
def run_cross_entropy(kernels, x, target, w, ignore_index, ls):
    M = x.shape[0]
    loss, lse = kernels.empty((M,), x.dtype), kernels.empty((M,), x.dtype)
    kernels.C.cross_entropy_forward(kernels.asarray(x), kernels.asarray(target),
                                    None if w is None else kernels.asarray(w), ignore_index, ls,
                                    loss, lse)
    return loss, lse


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,C", [(1, 1), (7, 3), (73, 74), (0, 5), (16, 1000)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ls", [0.0, 0.1, 1.0])
def test_cross_entropy(kernels, rng, dtype, M, C, weighted, ls):
    x = (rng.standard_normal((M, C)) * 3).astype(dtype)
    target = rng.integers(0, C, M).astype(np.int64)
    ignore_index = -100
    target[::3] = ignore_index  # every third row ignored
    w = rng.uniform(0.1, 2, C).astype(dtype) if weighted else None
    loss, lse = run_cross_entropy(kernels, x, target, w, ignore_index, ls)
    w64 = None if w is None else w.astype(np.float64)
    rloss, rlse = cross_entropy_ref(x.astype(np.float64), target, w64, ignore_index, ls)
    assert_close(kernels.numpy(loss), rloss, dtype, k=C)
    assert_close(kernels.numpy(lse), rlse, dtype, k=C)
    assert np.all(kernels.numpy(loss)[target == ignore_index] == 0)

    grad_loss = rng.standard_normal(M).astype(dtype)
    grad = kernels.empty((M, C), dtype)
    kernels.C.cross_entropy_backward(kernels.asarray(x), kernels.asarray(target),
                                     None if w is None else kernels.asarray(w), ignore_index, ls,
                                     lse, kernels.asarray(grad_loss), grad)
    rgrad = cross_entropy_grad_ref(x.astype(np.float64), target, w64, ignore_index, ls,
                                   grad_loss.astype(np.float64))
    scale = float(np.abs(grad_loss).max(initial=0)) * (1 if w is None else float(w.max()))
    assert_close(kernels.numpy(grad), rgrad, dtype, k=C, scale=scale)


def test_cross_entropy_ignore_index_inside_class_range(kernels, rng):
    x = rng.standard_normal((6, 4))
    target = np.array([0, 1, 2, 3, 2, 1], np.int64)
    loss, _ = run_cross_entropy(kernels, x, target, None, 2, 0.2)
    rloss, _ = cross_entropy_ref(x, target, None, 2, 0.2)
    assert_close(kernels.numpy(loss), rloss, np.float64, k=4)
    assert kernels.numpy(loss)[2] == 0 and kernels.numpy(loss)[4] == 0


def test_cross_entropy_finite_differences(kernels, rng):
    M, C = 4, 5
    x0 = rng.standard_normal((M, C))
    target = np.array([1, 4, -1, 0], np.int64)
    w = rng.uniform(0.5, 2, C)
    grad_loss = rng.standard_normal(M)

    def f(a):
        loss, _ = run_cross_entropy(kernels, a[0], target, w, -1, 0.3)
        return float(np.sum(kernels.numpy(loss) * grad_loss))

    _, lse = run_cross_entropy(kernels, x0, target, w, -1, 0.3)
    grad = kernels.empty((M, C), np.float64)
    kernels.C.cross_entropy_backward(kernels.asarray(x0), kernels.asarray(target),
                                     kernels.asarray(w), -1, 0.3, lse, kernels.asarray(grad_loss),
                                     grad)
    check_gradients(f, [x0], [kernels.numpy(grad)], rng)


@pytest.mark.parametrize("bad", [5, -1, 1 << 40])
def test_cross_entropy_bad_target(kernels, bad):
    x = kernels.asarray(np.zeros((3, 5), np.float32))
    target = kernels.asarray(np.array([0, bad, 1], np.int64))
    out = kernels.empty((3,), np.float32), kernels.empty((3,), np.float32)
    with pytest.raises(ValueError, match=f"'target' has value {bad} at index 1"):
        kernels.C.cross_entropy_forward(x, target, None, -100, 0.0, *out)
    with pytest.raises(ValueError, match=f"'target' has value {bad} at index 1"):
        kernels.C.cross_entropy_backward(x, target, None, -100, 0.0, out[1],
                                         kernels.asarray(np.ones(3, np.float32)),
                                         kernels.empty((3, 5), np.float32))


def test_cross_entropy_argument_errors(kernels):
    x = kernels.asarray(np.zeros((3, 5), np.float32))
    out = kernels.empty((3,), np.float32), kernels.empty((3,), np.float32)
    with pytest.raises(TypeError, match="'target' must be int64"):
        kernels.C.cross_entropy_forward(x, kernels.asarray(np.zeros(3, np.int32)), None, -100,
                                        0.0, *out)
    with pytest.raises(ValueError, match="'target' must have shape"):
        kernels.C.cross_entropy_forward(x, kernels.asarray(np.zeros(4, np.int64)), None, -100,
                                        0.0, *out)
    with pytest.raises(ValueError, match="'weight' must have shape"):
        kernels.C.cross_entropy_forward(x, kernels.asarray(np.zeros(3, np.int64)),
                                        kernels.asarray(np.ones(4, np.float32)), -100, 0.0, *out)
    with pytest.raises(ValueError, match="'label_smoothing' must be in"):
        kernels.C.cross_entropy_forward(x, kernels.asarray(np.zeros(3, np.int64)), None, -100,
                                        1.5, *out)
    with pytest.raises(ValueError, match="'logits' must have 2 dimensions"):
        kernels.C.cross_entropy_forward(kernels.asarray(np.zeros(3, np.float32)),
                                        kernels.asarray(np.zeros(3, np.int64)), None, -100, 0.0,
                                        *out)


# ---- binary cross-entropy with logits ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (7, 3), (73, 74), (0, 4), (2, 3, 5)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits(kernels, rng, dtype, shape, weighted, with_pos_weight):
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    if x.size:
        x.flat[0] = 60  # saturated logits stay finite
    y = rng.uniform(0, 1, shape).astype(dtype)
    C = shape[-1] if shape else 1
    w = rng.uniform(0.1, 2, shape).astype(dtype) if weighted else None
    pw = rng.uniform(0.1, 3, C).astype(dtype) if with_pos_weight else None
    dw = None if w is None else kernels.asarray(w)
    dpw = None if pw is None else kernels.asarray(pw)
    loss = kernels.empty(shape, dtype)
    kernels.C.binary_cross_entropy_with_logits_forward(kernels.asarray(x), kernels.asarray(y), dw, dpw, loss)
    f64 = (lambda a: None if a is None else a.astype(np.float64))
    rloss, rgx, rgy = bce_ref(f64(x), f64(y), f64(w), f64(pw))
    # loss = sum of terms of size ~|x|: its error is relative to |x|, not to the loss
    scale = float(np.abs(x).max(initial=0)) * 3 * 2
    assert_close(kernels.numpy(loss), rloss, dtype, scale=scale)

    g = rng.standard_normal(shape).astype(dtype)
    gx, gy = kernels.empty(shape, dtype), kernels.empty(shape, dtype)
    kernels.C.binary_cross_entropy_with_logits_backward(kernels.asarray(g), kernels.asarray(x), kernels.asarray(y),
                                       dw, dpw, gx, gy)
    assert_close(kernels.numpy(gx), f64(g) * rgx, dtype, scale=12)
    assert_close(kernels.numpy(gy), f64(g) * rgy, dtype, scale=scale * 12)
    gx2 = kernels.empty(shape, dtype)
    kernels.C.binary_cross_entropy_with_logits_backward(kernels.asarray(g), kernels.asarray(x), kernels.asarray(y),
                                       dw, dpw, gx2, None)
    np.testing.assert_array_equal(kernels.numpy(gx2), kernels.numpy(gx))


def test_bce_with_logits_finite_differences(kernels, rng):
    shape = (3, 4)
    x0, y0 = rng.standard_normal(shape), rng.uniform(0, 1, shape)
    w, pw, g = rng.uniform(0.5, 2, shape), rng.uniform(0.5, 2, 4), rng.standard_normal(shape)

    def f(a):
        loss = kernels.empty(shape, np.float64)
        kernels.C.binary_cross_entropy_with_logits_forward(*(kernels.asarray(v) for v in (a[0], a[1], w, pw)), loss)
        return float(np.sum(kernels.numpy(loss) * g))

    gx, gy = kernels.empty(shape, np.float64), kernels.empty(shape, np.float64)
    kernels.C.binary_cross_entropy_with_logits_backward(*(kernels.asarray(v) for v in (g, x0, y0, w, pw)), gx, gy)
    check_gradients(f, [x0, y0], [kernels.numpy(gx), kernels.numpy(gy)], rng)


def test_softmax_and_bce_argument_errors(kernels):
    x = kernels.asarray(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="'dim' is out of range"):
        kernels.C.softmax_forward(x, kernels.empty((3, 4), np.float32), 2)
    with pytest.raises(ValueError, match="'out' must have shape"):
        kernels.C.softmax_forward(x, kernels.empty((4, 3), np.float32), 1)
    with pytest.raises(TypeError, match="'out' must have the same dtype"):
        kernels.C.softmax_forward(x, kernels.empty((3, 4), np.float64), 1)
    with pytest.raises(ValueError, match="'x' must be C-contiguous"):
        kernels.C.softmax_forward(kernels.asarray(np.zeros((4, 3), np.float32)).T,
                                  kernels.empty((3, 4), np.float32), 1)
    with pytest.raises(ValueError, match="'pos_weight' must have shape"):
        kernels.C.binary_cross_entropy_with_logits_forward(x, x, None, kernels.asarray(np.ones(3, np.float32)),
                                          kernels.empty((3, 4), np.float32))
    with pytest.raises(TypeError, match="'target' must have the same dtype"):
        kernels.C.binary_cross_entropy_with_logits_forward(x, kernels.asarray(np.zeros((3, 4))), None, None,
                                          kernels.empty((3, 4), np.float32))
