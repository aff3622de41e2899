"""The learning-rate lab: phase diagrams of any optimizer, and where theory draws them.

A *phase diagram* runs one optimizer from one start at every pair (learning rate γ, a second
hyper-parameter v) of a grid — all pairs in one batched :func:`engine.descent.run` — and
records per cell the final loss, whether the run diverged, and the first step whose loss is
within ``tol`` of the surface's lowest minimum (:func:`phase_diagram`).  The second axis is
any float hyper-parameter of the optimizer other than γ (momentum μ, β₁, β₂, ρ, ε, weight
decay, …): :func:`second_axes`.

On a quadratic  f(θ) = ½ (θ − θ*)ᵀ H (θ − θ*) + c  theory gives the stable region exactly.
Along an eigenvector of H with eigenvalue λ (so ∇f = λ x in that coordinate, plus the coupled
weight decay wd of torch, which adds wd·x: write λ' = λ + wd and h = γ·λ'):

**Gradient descent** ``x ← x − γ g``:  x_{t+1} = (1 − h) x_t, so |x_t| → 0 iff |1 − h| < 1,
i.e.  0 < γ λ' < 2.  On a surface with largest eigenvalue L:  **γ < 2 / (L + wd)**.

**Heavy-ball momentum** in torch's form ``b ← μ b + g,  x ← x − γ b``:  with the state
(x_t, b_t),

    b_{t+1} = μ b_t + λ' x_t
    x_{t+1} = x_t − γ b_{t+1} = (1 − h) x_t − γ μ b_t

so (x, b) is multiplied by  M = [[1 − h, −γ μ], [λ', μ]]  each step, whose characteristic
polynomial is  z² − (1 + μ − h) z + μ  (trace 1 − h + μ, determinant (1 − h) μ + γ μ λ' = μ).
Both roots lie strictly inside the unit circle iff (Jury's test for z² + a₁z + a₀:
|a₀| < 1 and |a₁| < 1 + a₀)  |μ| < 1  and  |1 + μ − h| < 1 + μ,  i.e. for torch's μ ∈ [0, 1):
**0 < γ λ' < 2 (1 + μ)**, so γ < 2 (1 + μ) / (L + wd).  μ = 0 is gradient descent.

**Nesterov (NAG)**, torch's ``nesterov=True``: ``b ← μ b + g,  x ← x − γ (g + μ b)``:

    x_{t+1} = (1 − h (1 + μ)) x_t − γ μ² b_t,      b_{t+1} = μ b_t + λ' x_t

M = [[1 − h(1 + μ), −γ μ²], [λ', μ]], characteristic polynomial
z² − (1 + μ − h (1 + μ)) z + μ (1 − h).  Jury's test: |μ (1 − h)| < 1 and
(1 + μ) |1 − h| < 1 + μ − μ h.  For h ≤ 1 the second reads h > 0; for h > 1 it reads
h (1 + 2μ) < 2 (1 + μ); the first then holds.  So **0 < γ λ' < 2 (1 + μ) / (1 + 2μ)**.

:func:`iteration_matrix` returns M (tests check it against the optimizers' own steps and its
spectral radius against these inequalities); :func:`stability_limit` the largest stable γ;
:func:`quadratic_hessian` tells whether a surface is such a quadratic (any typed f too).
Adaptive rules (Adam, RMSProp, …) have no such closed form: their step size depends on the
gradients seen, which is why the lab *measures* the diagram.
"""

from __future__ import annotations

import math

import numpy as np

from engine import descent, optimizers

__all__ = [
    "MAX_AXIS",
    "MAX_PHASE_WORK",
    "MAX_PHASE_STEPS",
    "CLOSED_FORM_KEYS",
    "axis_values",
    "iteration_matrix",
    "lr_values",
    "phase_diagram",
    "quadratic_hessian",
    "second_axes",
    "stability_limit",
    "target_loss",
]

MAX_AXIS = 80  # values per axis of a phase diagram
MAX_PHASE_STEPS = 2000
MAX_PHASE_WORK = 8_000_000  # cells × steps of one diagram (≈ 2 s on one core)
CLOSED_FORM_KEYS = ("gd", "momentum", "nag")
_PREFERRED_SECOND = ("momentum", "beta1", "rho")


def second_axes(key: str) -> tuple[str, ...]:
    """Float hyper-parameters of optimizer ``key`` other than lr, the momentum-like one first
    (momentum, β₁ or ρ), then the others in registry order."""
    names = [h.name for h in optimizers.OPTIMIZERS[key].hyper
             if h.kind == "float" and h.name != "lr"]
    first = [n for n in _PREFERRED_SECOND if n in names]
    return tuple(first + [n for n in names if n not in first])


def lr_values(low: float, high: float, n: int) -> np.ndarray:
    """n learning rates evenly spaced on a log axis from low to high (both > 0)."""
    low, high, n = float(low), float(high), int(n)
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"learning-rate range must satisfy 0 < low < high, got {low}, {high}")
    if not 2 <= n <= MAX_AXIS:
        raise ValueError(f"number of learning rates must be in [2, {MAX_AXIS}], got {n}")
    return np.geomspace(low, high, n)


def axis_values(key: str, name: str, low: float, high: float, n: int) -> np.ndarray:
    """n values of hyper-parameter ``name`` from low to high: log-spaced for a log-scale
    parameter (ε), evenly spaced otherwise.  Must lie in the parameter's valid range."""
    spec = optimizers.OPTIMIZERS[key].hyper_spec(name)
    low, high, n = float(low), float(high), int(n)
    if not 1 <= n <= MAX_AXIS:
        raise ValueError(f"number of {name} values must be in [1, {MAX_AXIS}], got {n}")
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name} range must satisfy low <= high, got {low}, {high}")
    for value in (low, high):
        ok_low = value >= spec.min if spec.min_inclusive else value > spec.min
        ok_high = value <= spec.max if spec.max_inclusive else value < spec.max
        if not (ok_low and ok_high):
            raise ValueError(f"{name} must be {spec.range_text()}, got {value:g}")
    if n == 1:
        return np.array([low])
    if spec.log_scale and low > 0:
        return np.geomspace(low, high, n)
    return np.linspace(low, high, n)


def target_loss(surface) -> float:
    """The loss a run must come within ``tol`` of: the lowest listed global minimum (else
    local minimum) of the surface; 0 when it lists none (the same rule as
    ``engine.descent.sweep_lr_momentum``)."""
    points = list(surface.minima or ())
    best = [p.f for p in points if p.kind == "global"] or [
        p.f for p in points if p.kind == "local"]
    return float(min(best)) if best else 0.0


def phase_diagram(surface, key: str, lrs, name: str, values, start, steps: int, *,
                  tol: float = 1e-3, fixed: dict | None = None) -> descent.SweepResult:
    """Run optimizer ``key`` at every (lr, ``name``) pair of the grid: one batched run.

    Batch index b = i·len(lrs) + j holds lr = lrs[j] and ``name`` = values[i]; the result's
    arrays are (len(values), len(lrs)) and ``momentum_name`` is ``name``.  ``fixed`` sets the
    other hyper-parameters (registry defaults otherwise).  Bounds: each axis ≤ 80 values,
    steps ≤ 2000, cells × steps ≤ 8,000,000; otherwise ``ValueError``.
    """
    if name not in second_axes(key):
        raise ValueError(f"{key} has no float hyper-parameter {name!r} to sweep; "
                         f"choose one of {', '.join(second_axes(key))}")
    lrs = np.asarray(lrs, dtype=np.float64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if not (1 <= lrs.size <= MAX_AXIS and 1 <= values.size <= MAX_AXIS):
        raise ValueError(f"each axis holds 1 to {MAX_AXIS} values, "
                         f"got {lrs.size} x {values.size}")
    if isinstance(steps, bool) or int(steps) != steps or not 1 <= steps <= MAX_PHASE_STEPS:
        raise ValueError(f"steps must be an integer in [1, {MAX_PHASE_STEPS}], got {steps!r}")
    cells = lrs.size * values.size
    if cells * int(steps) > MAX_PHASE_WORK:
        raise ValueError(f"too much work: {cells} cells x {steps} steps = "
                         f"{cells * int(steps):,} > {MAX_PHASE_WORK:,}")
    lr_grid, value_grid = np.meshgrid(lrs, values)  # (len(values), len(lrs))
    hyper = {**(fixed or {}), "lr": lr_grid.reshape(-1, 1), name: value_grid.reshape(-1, 1)}
    opt = optimizers.make(key, **hyper)
    starts = np.repeat(np.asarray(start, dtype=np.float64).reshape(1, 2), cells, axis=0)
    result = descent.run(surface, [descent.Run(opt, starts, key)], int(steps), record="final")
    target = target_loss(surface)
    shape = lr_grid.shape
    return descent.SweepResult(
        final_loss=result.final_loss.reshape(shape).copy(),
        diverged=result.diverged.reshape(shape).copy(),
        steps_to_tol=result.steps_to_tolerance(tol, target).reshape(shape),
        lrs=lrs, momenta=values, momentum_name=name, target_f=target, tol=float(tol))


# ---------------------------------------------------------------------------------------
# Closed forms on a quadratic


def iteration_matrix(key: str, lr, momentum, curvature) -> np.ndarray:
    """The matrix M with (x_{t+1}, b_{t+1}) = M (x_t, b_t) for optimizer ``key`` on
    f = ½ λ x² (``curvature`` λ, weight decay already added), shape (..., 2, 2).

    gd: M = [[1 − γλ, 0], [λ, 0]] (the buffer row is unused: eigenvalues 1 − γλ and 0);
    momentum: [[1 − γλ, −γμ], [λ, μ]]; nag: [[1 − γλ(1 + μ), −γμ²], [λ, μ]].
    See the module docstring for the derivation.
    """
    lr, mu, lam = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                        for v in (lr, momentum, curvature)))
    h = lr * lam
    out = np.empty(lr.shape + (2, 2))
    if key == "gd":
        out[..., 0, 0], out[..., 0, 1] = 1.0 - h, 0.0
        out[..., 1, 0], out[..., 1, 1] = lam, 0.0
    elif key == "momentum":
        out[..., 0, 0], out[..., 0, 1] = 1.0 - h, -lr * mu
        out[..., 1, 0], out[..., 1, 1] = lam, mu
    elif key == "nag":
        out[..., 0, 0], out[..., 0, 1] = 1.0 - h * (1.0 + mu), -lr * mu * mu
        out[..., 1, 0], out[..., 1, 1] = lam, mu
    else:
        raise ValueError(f"no closed form for {key!r}; only {', '.join(CLOSED_FORM_KEYS)}")
    return out


def stability_limit(key: str, curvature: float, momentum=0.0, weight_decay=0.0):
    """The largest stable learning rate on a quadratic whose Hessian's largest eigenvalue is
    ``curvature`` (L): runs with lr below it converge, above it diverge.

        gd        2 / (L + wd)
        momentum  2 (1 + μ) / (L + wd)
        nag       2 (1 + μ) / ((1 + 2μ) (L + wd))

    ``momentum`` and ``weight_decay`` may be arrays (broadcast); μ must be in [0, 1).
    Returns +inf where L + wd ≤ 0 (no direction curves up: nothing to overshoot).
    """
    if key not in CLOSED_FORM_KEYS:
        raise ValueError(f"no closed form for {key!r}; only {', '.join(CLOSED_FORM_KEYS)}")
    mu = np.asarray(momentum, dtype=np.float64) if key != "gd" else np.zeros(())
    if np.any((mu < 0) | (mu >= 1)):
        raise ValueError("momentum must be in [0, 1)")
    lam = float(curvature) + np.asarray(weight_decay, dtype=np.float64)
    numerator = {"gd": 2.0 + 0.0 * mu, "momentum": 2.0 * (1.0 + mu),
                 "nag": 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)}[key]
    with np.errstate(divide="ignore"):
        limit = np.where(lam > 0, numerator / np.where(lam > 0, lam, 1.0), np.inf)
    return float(limit) if np.ndim(limit) == 0 else limit


def quadratic_hessian(surface, samples: int = 16, rtol: float = 1e-8) -> np.ndarray | None:
    """The Hessian H (2, 2) when ``surface`` is a quadratic, else None.

    f is quadratic iff its gradient is affine: ∇f(θ) = H θ + c.  H and c are fitted by least
    squares to the gradient at ``samples`` points spread over the domain (seeded, so the
    answer never changes) and the fit must reproduce every gradient to ``rtol`` of the
    gradients' scale, with H symmetric.  Works for the registry and for typed formulas.
    """
    (xmin, xmax), (ymin, ymax) = surface.domain
    rng = np.random.default_rng(12345)
    points = np.column_stack([rng.uniform(xmin, xmax, samples), rng.uniform(ymin, ymax, samples)])
    with np.errstate(all="ignore"):
        grads = np.asarray(surface.grad(points), dtype=np.float64)
    if grads.shape != (samples, 2) or not np.isfinite(grads).all():
        return None
    design = np.column_stack([points, np.ones(samples)])
    coef, *_ = np.linalg.lstsq(design, grads, rcond=None)
    scale = max(float(np.abs(grads).max()), 1.0)
    if np.abs(design @ coef - grads).max() > rtol * scale:
        return None
    hessian = coef[:2].T
    if abs(hessian[0, 1] - hessian[1, 0]) > rtol * scale:
        return None
    return 0.5 * (hessian + hessian.T)
