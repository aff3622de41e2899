"""Step-for-step parity with torch.optim (skipped when torch is not installed).

torch is not a dependency of the app; this file only runs where a developer installed it.
Every registry key is compared on a smooth non-quadratic problem, parameters and state,
to 1e-6 relative, including weight decay, amsgrad, nesterov and a changing learning rate.
"""

import numpy as np
import pytest

from engine import optimizers
from tests.engine.torch_reference import (
    CASES,
    TORCH_STATE,
    gradient,
    lr_scale_at,
)
from tests.engine.torch_reference import torch_optimizer as _torch_optimizer

torch = pytest.importorskip("torch")


def torch_optimizer(key, param, kw):
    return _torch_optimizer(torch, key, param, kw)


STEPS = 60
RTOL = 1e-6
ATOL = 1e-12


def test_cases_cover_every_key():
    assert {key for key, _ in CASES} == set(optimizers.OPTIMIZERS)


@pytest.mark.parametrize(("key", "kw"), CASES, ids=[f"{k}-{i}" for i, (k, _) in
                                                   enumerate(CASES)])
@pytest.mark.parametrize("scheduled", [False, True], ids=["const", "sched"])
def test_matches_torch_step_for_step(key, kw, scheduled):
    rng = np.random.default_rng(7)
    p0 = rng.normal(size=(3, 4)) * 1.5
    opt = optimizers.make(key, **kw)
    ours_p, state = p0, opt.init(p0)

    param = torch.tensor(p0.copy(), dtype=torch.float64, requires_grad=True)
    topt = torch_optimizer(key, param, kw)
    base_lr = topt.param_groups[0]["lr"]

    for step in range(STEPS):
        scale = lr_scale_at(step) if scheduled else 1.0
        g = gradient(ours_p)
        ours_p, state = opt.step(ours_p, g, state, lr_scale=scale)

        topt.param_groups[0]["lr"] = base_lr * scale
        param.grad = torch.tensor(gradient(param.detach().numpy()), dtype=torch.float64)
        topt.step()

        np.testing.assert_allclose(ours_p, param.detach().numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"{key} params at step {step}")
        tstate = topt.state[param]
        for field in state._fields:
            if key == "adam" and field == "max_exp_avg_sq" and not kw.get("amsgrad"):
                continue  # torch keeps no max unless amsgrad
            ours = getattr(state, field)
            theirs = np.broadcast_to(np.asarray(tstate[TORCH_STATE[field]], dtype=float),
                                     ours.shape)
            np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL,
                                       err_msg=f"{key} state {field} at step {step}")


@pytest.mark.parametrize("key", list(optimizers.OPTIMIZERS))
def test_sweep_rows_match_separate_torch_runs(key):
    """One batched call with per-run lr (B, 1) == B separate torch optimizers."""
    lrs = np.array([[0.003], [0.01], [0.03]])
    if key == "adadelta":
        lrs = lrs * 30
    rng = np.random.default_rng(3)
    p0 = rng.normal(size=(3, 2))
    opt = optimizers.make(key, lr=lrs)
    ours_p, state = p0, opt.init(p0)
    params = [torch.tensor(p0[i:i + 1].copy(), dtype=torch.float64, requires_grad=True)
              for i in range(3)]
    topts = [torch_optimizer(key, params[i], {"lr": float(lrs[i, 0])}) for i in range(3)]
    for _ in range(25):
        ours_p, state = opt.step(ours_p, gradient(ours_p), state)
        for param, topt in zip(params, topts, strict=True):
            param.grad = torch.tensor(gradient(param.detach().numpy()), dtype=torch.float64)
            topt.step()
    theirs = np.concatenate([param.detach().numpy() for param in params])
    np.testing.assert_allclose(ours_p, theirs, rtol=RTOL, atol=ATOL)


def test_nag_lookahead_is_params_minus_lr_momentum_buffer():
    p0 = np.array([[1.0, -2.0]])
    opt = optimizers.make("nag", lr=0.1, momentum=0.9)
    p1, s1 = opt.step(p0, gradient(p0), opt.init(p0))
    param = torch.tensor(p0.copy(), requires_grad=True)
    topt = torch_optimizer("nag", param, {"lr": 0.1, "momentum": 0.9})
    param.grad = torch.tensor(gradient(p0))
    topt.step()
    buf = topt.state[param]["momentum_buffer"].numpy()
    np.testing.assert_allclose(opt.lookahead(p1, s1), param.detach().numpy() - 0.1 * 0.9 * buf,
                               rtol=1e-12)


SCHEDULE_CASES = [
    ("step", {"step_size": 3, "gamma": 0.5},
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    ("exponential", {"gamma": 0.9},
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("inverse_time", {"decay": 0.3},
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.3 * t))),
    ("cosine", {"t_max": 8, "eta_min_ratio": 0.1},
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.1 * 0.5)),
    ("cosine", {"t_max": 8, "eta_min_ratio": 0.1, "warmup": 4},
     lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
         torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3),
         torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.1 * 0.5)],
         milestones=[4])),
]


@pytest.mark.parametrize(("kind", "kw", "build"), SCHEDULE_CASES,
                         ids=[c[0] + ("-warmup" if "warmup" in c[1] else "")
                              for c in SCHEDULE_CASES])
def test_schedules_match_torch_lr_scheduler(kind, kw, build):
    from engine import schedules

    param = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([param], lr=0.5)
    scheduler = build(topt)
    theirs = []
    for _ in range(30):
        theirs.append(topt.param_groups[0]["lr"] / 0.5)
        topt.step()
        scheduler.step()
    ours = schedules.make(kind, **kw)(np.arange(30))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
