"""NumPy float64 references of PyTorch's optimizer update rules, shared by the optimizer tests
(tests/test_optimizers.py: ember.optim; tests/test_optim.py: the fused step kernels).

Each reference is one step of the algorithm box of the corresponding torch.optim class written
plainly, with PyTorch's argument names and defaults: ``ref(p, g, state, **options)`` returns the
new parameter and keeps the rule's running values in the dict ``state`` (``b`` momentum buffer,
``m``/``v``/``vmax`` moments, ``s`` Adagrad's sum, ``t`` the step count)."""
import numpy as np


def _weight_decay(p, g, lr, weight_decay, maximize, decoupled):
    """The (maximize-negated) gradient with L2 weight decay added, or, decoupled (AdamW's and
    NAdam's option), the parameter shrunk by ``lr * weight_decay`` instead."""
    g = -g if maximize else g
    if decoupled:
        return p * (1 - lr * weight_decay), g
    return p, g + weight_decay * p


def sgd_ref(p, g, st, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    g = (-g if maximize else g) + weight_decay * p
    if momentum != 0:
        st["b"] = g if "b" not in st else momentum * st["b"] + (1 - dampening) * g
        g = g + momentum * st["b"] if nesterov else st["b"]
    return p - lr * g


def adam_ref(p, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    p, g = _weight_decay(p, g, lr, weight_decay, maximize, decoupled)
    m = st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    v = st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
    if amsgrad:
        v = st["vmax"] = np.maximum(st.get("vmax", 0.0), v)
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def rmsprop_ref(p, g, st, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    g = (-g if maximize else g) + weight_decay * p
    v = st["v"] = alpha * st.get("v", 0.0) + (1 - alpha) * g * g
    if centered:
        a = st["a"] = alpha * st.get("a", 0.0) + (1 - alpha) * g
        v = v - a * a
    if momentum > 0:
        b = st["b"] = momentum * st.get("b", 0.0) + g / (np.sqrt(v) + eps)
        return p - lr * b
    return p - lr * g / (np.sqrt(v) + eps)


def adagrad_ref(p, g, st, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    t = st["t"] = st.get("t", 0) + 1
    g = (-g if maximize else g) + weight_decay * p
    s = st["s"] = st.get("s", initial_accumulator_value) + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)


def adadelta_ref(p, g, st, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    g = (-g if maximize else g) + weight_decay * p
    v = st["v"] = rho * st.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(st.get("u", 0.0) + eps) / np.sqrt(v + eps) * g
    st["u"] = rho * st.get("u", 0.0) + (1 - rho) * delta * delta
    return p - lr * delta


def adamax_ref(p, g, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    g = (-g if maximize else g) + weight_decay * p
    m = st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    u = st["u"] = np.maximum(b2 * st.get("u", 0.0), np.abs(g) + eps)
    return p - lr / (1 - b1 ** t) * m / u


def nadam_ref(p, g, st, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    t = st["t"] = st.get("t", 0) + 1
    p, g = _weight_decay(p, g, lr, weight_decay, maximize, decoupled_weight_decay)
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    # PyTorch keeps the running product of the mu's in a float32 scalar tensor
    prod = st["prod"] = np.float32(st.get("prod", np.float32(1.0))) * np.float32(mu)
    prod = float(prod)
    m = st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    v = st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
    denom = np.sqrt(v / (1 - b2 ** t)) + eps
    return (p - lr * (1 - mu) / (1 - prod) * g / denom
            - lr * mu_next / (1 - prod * mu_next) * m / denom)


def run_reference(ref, kwargs, p0, grads, state=None):
    """The parameter after each step of ``ref`` from ``p0`` over ``grads``; the rule's running
    values are left in ``state`` when a dict is given."""
    p, st, out = p0.copy(), {} if state is None else state, []
    for g in grads:
        p = ref(p, g, st, **kwargs)
        out.append(p)
    return out
