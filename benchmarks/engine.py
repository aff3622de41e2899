"""Engine throughput: batched Rosenbrock, ours (NumPy) against torch.optim, one thread each.

    python -m benchmarks.engine [--batch 10000] [--steps 1000] [--repeat 3]

For every optimizer: B independent runs of the Rosenbrock function (a=1, b=100) for T
steps. Ours = ``opt.step`` + the analytic gradient in NumPy. torch = what a user would
write: a (B, 2) parameter tensor, loss = sum over the batch, ``loss.backward()``,
``opt.step()``. Prints the best of ``--repeat`` timings and the ratio torch / ours
(target: >= 5). torch is optional; without it only our timings are printed.
"""

from __future__ import annotations

import os

# One thread for everyone, set before NumPy (or torch) is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from engine import optimizers  # noqa: E402

A, B_COEF = 1.0, 100.0
TARGET_RATIO = 5.0

# Learning rates that keep every run finite on this problem (the timing is what matters).
LR = {
    "gd": 1e-4, "momentum": 1e-4, "nag": 1e-4, "adagrad": 1e-2, "rmsprop": 1e-3,
    "adadelta": 1.0, "adam": 1e-3, "adamw": 1e-3, "nadam": 1e-3, "adamax": 1e-3,
}


def start_points(batch: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform((-2.0, -1.0), (2.0, 3.0), size=(batch, 2))


def rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    """grad of (a - x)^2 + b (y - x^2)^2: (2(x - a) - 4 b x (y - x^2), 2 b (y - x^2)).

    Computed on contiguous copies of the two columns (strided arithmetic is slower).
    """
    x, y = p.T.copy()
    g = np.empty_like(p)
    tmp = np.multiply(x, x)
    np.subtract(y, tmp, out=tmp)
    tmp *= 2.0 * B_COEF           # gy = 2 b (y - x^2)
    g[:, 1] = tmp
    np.multiply(x, tmp, out=tmp)  # gx = 2 (x - x gy - a) = 2 (x - a) - 4 b x (y - x^2)
    np.subtract(x, tmp, out=tmp)
    tmp -= A
    tmp *= 2.0
    g[:, 0] = tmp
    return g


def run_ours(key: str, p0: np.ndarray, steps: int) -> tuple[float, np.ndarray]:
    opt = optimizers.make(key, lr=LR[key])
    p, state = p0, opt.init(p0)
    step, grad = opt.step, rosenbrock_grad
    start = time.perf_counter()
    for _ in range(steps):
        p, state = step(p, grad(p), state)
    return time.perf_counter() - start, p


def _time_gradient(p0: np.ndarray, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        rosenbrock_grad(p0)
    return time.perf_counter() - start


def torch_optimizer(torch, key: str, param):
    o, lr = torch.optim, LR[key]
    return {
        "gd": lambda: o.SGD([param], lr=lr),
        "momentum": lambda: o.SGD([param], lr=lr, momentum=0.9),
        "nag": lambda: o.SGD([param], lr=lr, momentum=0.9, nesterov=True),
        "adagrad": lambda: o.Adagrad([param], lr=lr),
        "rmsprop": lambda: o.RMSprop([param], lr=lr, alpha=0.99),
        "adadelta": lambda: o.Adadelta([param], lr=lr),
        "adam": lambda: o.Adam([param], lr=lr),
        "adamw": lambda: o.AdamW([param], lr=lr),
        "nadam": lambda: o.NAdam([param], lr=lr),
        "adamax": lambda: o.Adamax([param], lr=lr),
    }[key]()


def run_torch(torch, key: str, p0: np.ndarray, steps: int) -> tuple[float, np.ndarray]:
    param = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(torch, key, param)
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        x, y = param[:, 0], param[:, 1]
        loss = ((A - x) ** 2 + B_COEF * (y - x**2) ** 2).sum()
        loss.backward()
        opt.step()
    return time.perf_counter() - start, param.detach().numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(optimizers.OPTIMIZERS))
    args = parser.parse_args(argv)

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None

    p0 = start_points(args.batch)
    print(f"batched Rosenbrock (a=1, b=100), B={args.batch}, T={args.steps}, one thread, "
          f"best of {args.repeat}; numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else ", torch not installed"))
    grad_only = min(_time_gradient(p0, args.steps) for _ in range(args.repeat))
    print(f"(of ours, the NumPy Rosenbrock gradient alone takes {grad_only:.4f} s; "
          "max |diff| = ours vs torch after 50 steps)")
    print(f"{'optimizer':<10} {'ours s':>8} {'torch s':>8} {'torch/ours':>10}  max |diff|")
    ratios = []
    for key in args.only:
        if torch is None:
            ours = min(run_ours(key, p0, args.steps)[0] for _ in range(args.repeat))
            print(f"{key:<10} {ours:8.4f} {'-':>8} {'-':>10}")
            continue
        # Interleaved, best of N: both sides see the same machine load.
        ours = theirs = float("inf")
        for _ in range(args.repeat):
            ours = min(ours, run_ours(key, p0, args.steps)[0])
            theirs = min(theirs, run_torch(torch, key, p0, args.steps)[0])
        # Same answer, or the comparison means nothing (float64 both sides).
        diff = np.nanmax(np.abs(run_ours(key, p0, 50)[1] - run_torch(torch, key, p0, 50)[1]))
        ratio = theirs / ours
        ratios.append(ratio)
        flag = "" if ratio >= TARGET_RATIO else "  < target"
        print(f"{key:<10} {ours:8.4f} {theirs:8.4f} {ratio:10.1f}  {diff:.1e}{flag}")
    if ratios:
        print(f"min ratio {min(ratios):.1f} (target >= {TARGET_RATIO:g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
