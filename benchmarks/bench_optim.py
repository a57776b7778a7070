"""Optimizer steps: ember's one-pass fused updates against the NumPy (CuPy) a user writes with
in-place array operations (one pass over memory per operator), and torch's fused optimizer
kernels when installed (torch._fused_adamw_ / torch._fused_sgd_, i.e. AdamW/SGD(fused=True)).

Shape: one 10M-parameter float32 tensor.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none

N = 10_000_000


def cases(device: str) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    f32 = np.float32
    param = xp.asarray(rng.standard_normal(N, f32))
    grad = xp.asarray(rng.standard_normal(N, f32))
    m, v, buf = xp.zeros(N, f32), xp.zeros(N, f32), xp.zeros(N, f32)
    p_ref, m_ref, v_ref, buf_ref = param.copy(), m.copy(), v.copy(), buf.copy()
    lr, b1, b2, eps, wd, step = 1e-3, 0.9, 0.999, 1e-8, 0.01, 10

    def adamw_ref():  # in place, as torch's single-tensor loop does
        xp.multiply(p_ref, 1 - lr * wd, out=p_ref)
        xp.multiply(m_ref, b1, out=m_ref)
        xp.add(m_ref, (1 - b1) * grad, out=m_ref)
        xp.multiply(v_ref, b2, out=v_ref)
        xp.add(v_ref, (1 - b2) * grad * grad, out=v_ref)
        denom = xp.sqrt(v_ref)
        denom /= np.sqrt(1 - b2**step)
        denom += eps
        xp.subtract(p_ref, lr / (1 - b1**step) * m_ref / denom, out=p_ref)

    def sgd_ref():
        xp.multiply(buf_ref, 0.9, out=buf_ref)
        xp.add(buf_ref, grad, out=buf_ref)
        xp.subtract(p_ref, lr * buf_ref, out=p_ref)

    name = xp.__name__
    adamw_refs, sgd_refs = {name: adamw_ref}, {name: sgd_ref}
    if torch is not None:
        tp, tg, tm, tv, tb = (torch.as_tensor(a.copy(), device=device)
                              for a in (param, grad, m, v, buf))
        tstep = torch.tensor(float(step), device=device)
        adamw_refs["torch"] = lambda: torch._fused_adamw_(
            [tp], [tg], [tm], [tv], [], [tstep], lr=lr, beta1=b1, beta2=b2, weight_decay=wd,
            eps=eps, amsgrad=False, maximize=False)
        sgd_refs["torch"] = lambda: torch._fused_sgd_(
            [tp], [tg], [tb], weight_decay=0.0, momentum=0.9, lr=lr, dampening=0.0,
            nesterov=False, maximize=False, is_first_step=False)
    return [
        Case("optim", "adamw step 10M",
             ember=lambda: C.adam_step(param, grad, m, v, None, step, lr, b1, b2, eps, wd, False,
                                       False, True),
             references=adamw_refs, flops=16 * N, bytes=4 * 7 * N),
        Case("optim", "sgd momentum step 10M",
             ember=lambda: C.sgd_step(param, grad, buf, lr, 0.9, 0.0, 0.0, False, False, False),
             references=sgd_refs, flops=4 * N, bytes=4 * 5 * N),
    ]
