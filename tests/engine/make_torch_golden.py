"""Regenerate the golden torch.optim trajectories that CI checks without torch.

    python -m tests.engine.make_torch_golden

Runs every case of tests/engine/torch_reference.py (every optimizer; weight decay, amsgrad,
nesterov; with and without a changing learning rate) in torch, float64, and writes the
parameters after every step and the final optimizer state to
tests/engine/golden/torch_trajectories.json. Where torch is not installed it says so and
leaves the file as it is (exit status 0).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tests.engine.torch_reference import (
    CASES,
    TORCH_STATE,
    gradient,
    lr_scale_at,
    torch_optimizer,
)

GOLDEN = Path(__file__).resolve().parent / "golden" / "torch_trajectories.json"
STEPS = 30
SHAPE = (2, 3)  # two runs of three parameters
SEED = 7


def start_point() -> np.ndarray:
    return np.random.default_rng(SEED).normal(size=SHAPE) * 1.5


def trajectory(torch, key: str, kw: dict, scheduled: bool) -> dict:
    """torch's parameters after each of STEPS steps and its final state, as lists."""
    param = torch.tensor(start_point(), dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(torch, key, param, kw)
    base_lr = opt.param_groups[0]["lr"]
    params = []
    for step in range(STEPS):
        opt.param_groups[0]["lr"] = base_lr * (lr_scale_at(step) if scheduled else 1.0)
        param.grad = torch.tensor(gradient(param.detach().numpy()), dtype=torch.float64)
        opt.step()
        params.append(param.detach().numpy().tolist())
    state = {ours: np.broadcast_to(np.asarray(opt.state[param][theirs], dtype=float),
                                   SHAPE).tolist()
             for ours, theirs in TORCH_STATE.items() if theirs in opt.state[param]}
    return {"key": key, "hyper": {k: float(v) for k, v in kw.items()}, "scheduled": scheduled,
            "params": params, "state": state}


def main() -> int:
    try:
        import torch
    except ImportError:
        print(f"torch is not installed: {GOLDEN.name} is left as it is "
              "(install torch to regenerate it)")
        return 0
    torch.set_default_dtype(torch.float64)
    cases = [trajectory(torch, key, dict(kw), scheduled)
             for key, kw in CASES for scheduled in (False, True)]
    data = {"torch": torch.__version__, "steps": STEPS, "seed": SEED,
            "start": start_point().tolist(),
            "problem": "f(p) = sum(0.5 c p^2 + 0.3 sin(3 p)), c = 1..D; "
                       "schedule: tests/engine/torch_reference.lr_scale_at",
            "cases": cases}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} trajectories ({GOLDEN.stat().st_size:,} bytes) with torch "
          f"{torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
