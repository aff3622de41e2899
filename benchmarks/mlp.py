"""Benchmark: 1,000 XOR networks (2-4-1, tanh, sigmoid + BCE, Adam) x 2,000 full-batch epochs.

Run from the repository root: ``python -m benchmarks.mlp``. Target: < 2 s including the
optimizer step. When torch is importable, the same batched problem (one bmm over the 1,000
networks, autograd, torch.optim.Adam, one thread) is timed too and printed as a ratio.
"""

from __future__ import annotations

import time

import numpy as np

from engine import mlp, optimizers

N_NETWORKS = 1000
EPOCHS = 2000
LR = 0.05
TARGET_SECONDS = 2.0
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def run_engine(repeats: int = 3) -> tuple[float, float, float]:
    """Best wall time and best CPU time of ``mlp.train``, and the fraction of networks that
    solved XOR. CPU time shows whether a slow wall time came from a busy machine."""
    net = mlp.Network((2, 4, 1), "tanh", "sigmoid", "bce")
    theta = net.init(N_NETWORKS, scheme="xavier", seed=0)
    best, best_cpu, solved = np.inf, np.inf, 0.0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = mlp.train(net, theta, XOR_X, XOR_Y, optimizers.make("adam", lr=LR), EPOCHS)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
        solved = float(np.mean(mlp.accuracy(net, result.theta, XOR_X, XOR_Y) == 1.0))
    return best, best_cpu, solved


def run_torch(repeats: int = 3) -> tuple[float, float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    net = mlp.Network((2, 4, 1), "tanh", "sigmoid", "bce")
    theta = net.init(N_NETWORKS, scheme="xavier", seed=0)
    (W1, b1), (W2, b2) = net.unpack(theta)
    X = torch.tensor(XOR_X).expand(N_NETWORKS, 4, 2)
    Y = torch.tensor(XOR_Y, dtype=torch.float64).reshape(1, 4, 1).expand(N_NETWORKS, 4, 1)
    best, solved = np.inf, 0.0
    for _ in range(repeats):
        params = [torch.tensor(np.array(a), requires_grad=True) for a in (W1, b1, W2, b2)]
        w1, c1, w2, c2 = params
        opt = torch.optim.Adam(params, lr=LR)
        bce = torch.nn.BCEWithLogitsLoss(reduction="none")
        start = time.perf_counter()
        for _ in range(EPOCHS):
            opt.zero_grad(set_to_none=True)
            hidden = torch.tanh(torch.bmm(X, w1) + c1[:, None, :])
            logits = torch.bmm(hidden, w2) + c2[:, None, :]
            # Sum of the per-network means: each network's gradient is its own loss's.
            loss = bce(logits, Y).mean(dim=(1, 2)).sum()
            loss.backward()
            opt.step()
        best = min(best, time.perf_counter() - start)
        with torch.no_grad():
            hidden = torch.tanh(torch.bmm(X, w1) + c1[:, None, :])
            logits = torch.bmm(hidden, w2) + c2[:, None, :]
            solved = float(((logits > 0) == (Y > 0.5)).all(dim=1).double().mean())
    return best, solved


def main() -> None:
    seconds, cpu_seconds, solved = run_engine()
    verdict = "OK" if seconds < TARGET_SECONDS else "SLOWER THAN TARGET"
    print(f"engine.mlp: {N_NETWORKS} XOR networks x {EPOCHS} epochs (2-4-1 tanh, Adam "
          f"lr={LR}): {seconds:.3f} s wall, {cpu_seconds:.3f} s CPU "
          f"(target < {TARGET_SECONDS:.0f} s: {verdict}); solved {solved:.1%}")
    torch_result = run_torch()
    if torch_result is None:
        print("torch not importable: reference comparison skipped")
        return
    torch_seconds, torch_solved = torch_result
    print(f"torch (bmm, autograd, optim.Adam, 1 thread): {torch_seconds:.3f} s; "
          f"solved {torch_solved:.1%}")
    print(f"ratio torch / engine: {torch_seconds / seconds:.2f}x "
          f"({'engine faster' if seconds < torch_seconds else 'torch faster'})")


if __name__ == "__main__":
    main()
