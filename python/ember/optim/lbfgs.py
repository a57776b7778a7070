"""``optim.LBFGS``: limited-memory BFGS on the flattened parameters, with a fixed step or a
strong-Wolfe line search (cubic interpolation), following ``torch.optim.LBFGS``'s algorithm and
state. Written on NumPy/CuPy arrays."""
from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, _check_options, _evaluate_closure, _mark_updated


class LBFGS(Optimizer):
    """PyTorch's L-BFGS. All parameters form one flat vector; each ``step(closure)`` runs up to
    ``max_iter`` quasi-Newton iterations (``max_eval`` closure evaluations), keeping the last
    ``history_size`` curvature pairs across calls.

    Args:
        lr: step length (the first iteration of a run scales it by ``min(1, 1/|g|_1)``).
        max_iter: iterations per ``step``.
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when ``max|g| <= tolerance_grad``.
        tolerance_change: stop when the step or the loss changes by less than this.
        history_size: curvature pairs kept.
        line_search_fn: ``None`` (fixed step ``lr``) or ``'strong_wolfe'``.
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        _check_options(lr=lr)
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ---- the parameters as one flat vector -------------------------------------------------------
    def _flat_grad(self):
        xp = backend.xp_of(self._params[0]._data)
        return xp.concatenate([p.grad._data.ravel() if p.grad is not None
                               else xp.zeros(p.numel(), dtype=p._data.dtype) for p in self._params])

    def _move(self, t: float, d) -> None:
        """p += t * d, d split over the parameters."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p._data += (t * d[offset:offset + n]).reshape(p._data.shape).astype(p._data.dtype,
                                                                                 copy=False)
            offset += n
            _mark_updated(p)

    def _evaluate_along(self, closure: Callable, x0: list, t: float, d):
        """Loss and flat gradient at ``x0 + t * d``; the parameters are restored to ``x0``."""
        self._move(t, d)
        loss = float(closure())
        g = self._flat_grad()
        for p, x in zip(self._params, x0):
            p._data[...] = x
            _mark_updated(p)
        return loss, g

    def step(self, closure: Callable):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first evaluation."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model and returns "
                               "the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        def evaluate():
            return _evaluate_closure(closure)

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if float(abs(g).max()) <= tolerance_grad:
            return orig_loss

        # The search direction, step and curvature memory carry over from the previous call.
        d, prev_g = _array(state.get("d")), _array(state.get("prev_flat_grad"))
        t, prev_loss = state.get("t"), state.get("prev_loss")
        old_dirs = [_array(y) for y in state.get("old_dirs", [])]
        old_stps = [_array(s) for s in state.get("old_stps", [])]
        ro, h_diag = list(state.get("ro", [])), state.get("H_diag", 1.0)

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, h_diag = -g, [], [], [], 1.0
            else:
                y, s = g - prev_g, d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only if it keeps the approximation positive definite
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                d = _inverse_hessian_times(-g, old_dirs, old_stps, ro, h_diag)
            prev_g, prev_loss = g, loss

            t = min(1.0, 1.0 / float(abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            opt_cond = False
            if group["line_search_fn"] == "strong_wolfe":
                x0 = [p._data.copy() for p in self._params]
                along_d = functools.partial(self._evaluate_along, evaluate, x0, d=d)
                loss, g, t, ls_evals = _strong_wolfe(along_d, t, d, loss, g, gtd)
                self._move(t, d)
                opt_cond = float(abs(g).max()) <= tolerance_grad
            else:
                self._move(t, d)
                ls_evals = 0
                if n_iter != max_iter:  # the last iteration's loss is never looked at
                    loss = float(evaluate())
                    g = self._flat_grad()
                    opt_cond = float(abs(g).max()) <= tolerance_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if float(abs(d * t).max()) <= tolerance_change:  # the step no longer moves x
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=Tensor._make(d), t=t, old_dirs=[Tensor._make(y) for y in old_dirs],
                     old_stps=[Tensor._make(s) for s in old_stps], ro=ro, H_diag=h_diag,
                     prev_flat_grad=Tensor._make(prev_g), prev_loss=prev_loss)
        return orig_loss


def _array(t):
    return None if t is None else t._data


def _inverse_hessian_times(q, ys: list, ss: list, rhos: list, h_diag: float):
    """The L-BFGS two-loop recursion: ``H q`` for the inverse-Hessian approximation built from the
    pairs (s_i, y_i) on top of ``h_diag * I`` (Nocedal & Wright, Algorithm 7.4)."""
    alphas = [0.0] * len(ys)
    for i in reversed(range(len(ys))):
        alphas[i] = float(ss[i] @ q) * rhos[i]
        q = q - alphas[i] * ys[i]
    r = q * h_diag
    for i in range(len(ys)):
        beta = float(ys[i] @ r) * rhos[i]
        r += (alphas[i] - beta) * ss[i]
    return r


class _Trial(NamedTuple):
    """A point of the line search: step t, loss f, flat gradient g and slope gtd = g·d."""

    t: float
    f: float
    g: object
    gtd: float


def _cubic_minimizer(a: _Trial, b: _Trial, bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic matching the loss and slope at ``a`` and ``b`` (Nocedal & Wright,
    eq. 3.59), clipped to ``bounds`` (default: between a.t and b.t); the middle of the bounds when
    the cubic has no minimiser."""
    lo, hi = bounds if bounds is not None else (min(a.t, b.t), max(a.t, b.t))
    d1 = a.gtd + b.gtd - 3 * (a.f - b.f) / (a.t - b.t)
    disc = d1 * d1 - a.gtd * b.gtd
    if disc < 0:
        return (lo + hi) / 2
    d2 = math.copysign(math.sqrt(disc), b.t - a.t)
    denom = b.gtd - a.gtd + 2 * d2
    if denom == 0:
        return (lo + hi) / 2
    t = b.t - (b.t - a.t) * (b.gtd + d2 - d1) / denom
    return min(max(t, lo), hi)


def _strong_wolfe(evaluate: Callable, t: float, d, f: float, g, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """Find a step t along d satisfying the strong Wolfe conditions

        f(t) <= f(0) + c1 * t * f'(0)    and    |f'(t)| <= c2 * |f'(0)|

    (Nocedal & Wright, Algorithms 3.5 and 3.6): extrapolate until a step brackets an acceptable
    one, then shrink the bracket by safeguarded cubic interpolation. ``evaluate(t)`` returns
    ``(loss, flat_grad)``. Returns ``(loss, flat_grad, t, evaluations)`` at the accepted step."""
    d_norm = float(abs(d).max())
    start = _Trial(0.0, f, g, gtd)

    def trial(step: float) -> _Trial:
        f_new, g_new = evaluate(step)
        return _Trial(step, f_new, g_new, float(g_new @ d))

    def sufficient_decrease(p: _Trial) -> bool:
        return p.f <= f + c1 * p.t * gtd

    def curvature(p: _Trial) -> bool:
        return abs(p.gtd) <= -c2 * gtd

    # Bracketing: lengthen the step until [prev, cur] is known to contain an acceptable step.
    prev, cur = start, trial(t)
    evals, bracket = 1, None
    for ls_iter in range(max_ls):
        if not sufficient_decrease(cur) or (ls_iter > 1 and cur.f >= prev.f):
            bracket = (prev, cur)
            break
        if curvature(cur):
            return cur.f, cur.g, cur.t, evals
        if cur.gtd >= 0:
            bracket = (prev, cur)
            break
        step = _cubic_minimizer(prev, cur, bounds=(cur.t + 0.01 * (cur.t - prev.t), cur.t * 10))
        prev, cur = cur, trial(step)
        evals += 1
    if bracket is None:  # evaluation budget spent while extrapolating
        bracket = (start, cur)
        ls_iter = max_ls

    # Zoom: `lo` is the best point satisfying sufficient decrease; the acceptable step lies
    # between lo and hi.
    lo, hi = bracket if bracket[0].f <= bracket[1].f else bracket[::-1]
    insufficient_progress = False
    while ls_iter < max_ls:
        if abs(hi.t - lo.t) * d_norm < tolerance_change:
            break
        step = _cubic_minimizer(lo, hi)
        # Keep trial steps away from the bracket's ends, or the bracket may stop shrinking.
        left, right = min(lo.t, hi.t), max(lo.t, hi.t)
        margin = 0.1 * (right - left)
        if min(right - step, step - left) < margin:
            if insufficient_progress or step >= right or step <= left:
                step = right - margin if abs(step - right) < abs(step - left) else left + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        cur = trial(step)
        evals += 1
        ls_iter += 1
        if not sufficient_decrease(cur) or cur.f >= lo.f:
            hi = cur
        else:
            if curvature(cur):
                lo = cur
                break
            if cur.gtd * (hi.t - lo.t) >= 0:
                hi = lo
            lo = cur
    return lo.f, lo.g, lo.t, evals
