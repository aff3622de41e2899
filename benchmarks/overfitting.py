"""Benchmark: the "Overfitting and its cures" scenario's run (engine.overfitting.run: four
2-32-32-1 networks, batched, 2,000 full-batch epochs, three losses recorded every 10).

Run from the repository root: ``python -m benchmarks.overfitting``. The network page caches
it once per server (st.cache_data) and shows a spinner while it trains; this prints how long
that first visit waits (wall and CPU time, best of ``repeats``).
"""

from __future__ import annotations

import time

from engine import overfitting


def main(repeats: int = 3) -> None:
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        overfitting.run(overfitting.SCENARIO)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    sc = overfitting.SCENARIO
    print(f"overfitting.run: {len(sc.cures)} networks {'-'.join(map(str, sc.sizes))} x "
          f"{sc.epochs} epochs: {best:.2f} s wall, {best_cpu:.2f} s CPU (best of {repeats})")


if __name__ == "__main__":
    main()
