"""A classroom on one server: N simulated students over Streamlit's own websocket protocol,
and one real Chromium next to them.

Each simulated student is a :class:`benchmarks.protocol.Session` (no browser: the
protobuf messages of the installed ``streamlit`` package over its websocket) and follows
a script at human pace:

1. opens the race (``/race``) and for ``--race`` seconds, every 2–5 s, changes a learning
   rate under the map (the canvas's ``lr`` event), clicks the map (``click``), changes the
   optimizers in the race, or presses a scenario;
2. opens the network page and presses Play: live training at the page's default speed
   (20 epochs/s), the client driving the fragment's timer as the browser does, for
   ``--live`` seconds; then Pause, and the tab closes.

Students join one by one over ``--ramp`` seconds (a class does not press Enter at the same
instant), so the race of the late ones meets the live training of the early ones, and in
the last part every student trains at once.

Reported per N (students), from a fresh server each time:

* interaction: seconds from a student's change to the last message of its answer (the
  run's ``script_finished``), p50 / p95 / max over every change (page opens apart);
* epochs per second of each live training, over the window in which every student
  trains (the slowest student, and the median); the target is ≥ 10 at 20 epochs/s;
* the server's CPU (% of one core, user + system from /proc) and resident memory (before,
  peak), and the load generator's own CPU (it shares the machine);
* errors: exceptions shown to a student, timeouts, dropped connections;
* the one real Chromium: key press on the race page's learning-rate slider → page still
  (as ``benchmarks.latency``), p50 / p95, sampled through the whole run.

Then, on a fresh server: memory per idle session (tabs that opened the race and the
network page and sit there) and how much comes back after the tabs close (Streamlit keeps
a closed tab's session for ``server.disconnectedSessionTTL`` seconds so a reconnecting
tab finds it: the run uses 10 s instead of the default 120 s to see the end of it).

Bounded: at most ``--max-students`` students, every wait has a timeout, the run stops by
itself (about ramp + race + live + 30 s per N).

    python -m benchmarks.load                       # N = 1, 10, 30, 60
    python -m benchmarks.load --students 30 --no-browser
    python -m benchmarks.load --students 30,60 --url http://127.0.0.1:8080 --pids 11,12
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.protocol import Session
from benchmarks.serve import free_port, start_streamlit, stop

ROOT = Path(__file__).resolve().parents[1]
EPOCH = re.compile(r"^Epoch \*\*(\d+)\*\*")
MAX_STUDENTS = 100
ANSWER_TIMEOUT = 60.0     # a change without an answer this long is an error
IDLE_TTL = 10             # server.disconnectedSessionTTL for the idle-memory measure


# ----------------------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Peak resident memory of the server processes, sampled every 0.25 s."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = sum(rss_mb(p) for p in pids)
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.25):
            self.peak = max(self.peak, sum(rss_mb(p) for p in self.pids))

    def finish(self) -> float:
        self._done.set()
        self.join()
        return self.peak


# ----------------------------------------------------------------------------- students


@dataclass
class Outcome:
    """What one student measured."""

    changes: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds)
    opens: list[float] = field(default_factory=list)
    epochs: list[tuple[float, int]] = field(default_factory=list)   # (time, epoch)
    ticks_sent: int = 0
    ticks_answered: int = 0
    errors: list[str] = field(default_factory=list)


def latest_epoch(session: Session) -> int | None:
    for body in reversed(session.markdown):
        match = EPOCH.match(body)
        if match:
            return int(match.group(1))
    return None


async def race_action(s: Session, rng: random.Random, out: Outcome) -> None:
    """One change a student makes on the race page."""
    fragment = s.fragment_of.get("x0", "")
    kind = rng.choices(["lr", "click", "optimizers", "scenario"], [45, 15, 20, 20])[0]
    if kind == "lr":
        chosen = dict(p.split("=", 1) for p in s.query.split("&") if "=" in p).get("o", "gd")
        key = rng.choice(chosen.replace("%2C", ",").split(","))
        value = float(f"{10 ** rng.uniform(-4, -0.5):.2g}")
        elapsed = await s.rerun([s.event("race_map", "lr", {"key": key, "value": value})],
                                fragment_id=fragment, timeout=ANSWER_TIMEOUT)
    elif kind == "click":
        elapsed = await s.rerun([s.event("race_map", "click", {"x": rng.uniform(-1.5, 1.5),
                                                               "y": rng.uniform(-0.5, 2.0)})],
                                fragment_id=fragment, timeout=ANSWER_TIMEOUT)
    elif kind == "optimizers":
        options = list(s.widgets["opts"].options)
        picked = rng.sample(options, rng.randint(2, 4))
        elapsed = await s.rerun([s.widget("opts", string_array_value=sorted(
            picked, key=options.index))], timeout=ANSWER_TIMEOUT)
    else:
        options = [o.content for o in s.widgets["sc"].options]
        elapsed = await s.rerun([s.widget("sc", string_array_value=[rng.choice(options)])],
                                timeout=ANSWER_TIMEOUT)
    out.changes.append((kind, elapsed))


async def student(index: int, url: str, start: float, join: float, race_s: float,
                  live_s: float, out: Outcome) -> None:
    rng = random.Random(index)
    await asyncio.sleep(max(0.0, start + join - time.monotonic()))
    s = Session(url, "race")
    try:
        out.opens.append(await s.open(timeout=ANSWER_TIMEOUT))
        race_end = time.monotonic() + race_s
        while True:
            think = rng.uniform(2.0, 5.0)
            if time.monotonic() + think > race_end:
                break
            await asyncio.sleep(think)
            await race_action(s, rng, out)
        await asyncio.sleep(max(0.0, race_end - time.monotonic()))

        out.opens.append(await s.goto("network", "ep=20000", timeout=ANSWER_TIMEOUT))
        await asyncio.sleep(rng.uniform(1.0, 2.0))
        out.changes.append(("play", await s.rerun([s.button("nn_play")],
                                                  fragment_id=s.fragment_of["nn_play"],
                                                  full=True, timeout=ANSWER_TIMEOUT)))
        live_end = time.monotonic() + live_s
        while time.monotonic() < live_end:
            await asyncio.sleep(0.5)
            epoch = latest_epoch(s)
            if epoch is not None:
                out.epochs.append((time.monotonic(), epoch))
        out.changes.append(("pause", await s.rerun([s.button("nn_pause")],
                                                   fragment_id=s.fragment_of["nn_pause"],
                                                   full=True, timeout=ANSWER_TIMEOUT)))
    except Exception as exc:  # noqa: BLE001 - every failure is a figure of the report
        out.errors.append(f"student {index}: {exc!r}")
    finally:
        out.ticks_sent = s.auto_reruns_sent
        out.ticks_answered = len(s.auto_rerun_times)
        out.errors.extend(f"student {index}: {e}" for e in s.stats.exceptions)
        await s.close()


def rate_in(epochs: list[tuple[float, int]], t0: float, t1: float) -> float | None:
    """Epochs per second of one student between t0 and t1 (from its samples)."""
    inside = [(t, e) for t, e in epochs if t0 <= t <= t1]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] < 0.5 * (t1 - t0):
        return None
    (ta, ea), (tb, eb) = inside[0], inside[-1]
    return (eb - ea) / (tb - ta)


# ----------------------------------------------------------------------------- Chromium


class Browser(threading.Thread):
    """One real Chromium on the race page: key press → page still, again and again."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ready = threading.Event()
        self.stop_now = threading.Event()
        self.still_ms: list[float] = []
        self.error: str | None = None

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        from benchmarks.latency import CHROMIUM_ARGS, RACE_SLIDER, press, wait_idle
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"{self.url}/race")
                wait_idle(page, ".dl-race-map .main-svg")
                for i in range(2):  # warm the caches this browser's changes hit
                    press(page, RACE_SLIDER, i)
                self.ready.set()
                i = 0
                while not self.stop_now.is_set():
                    ms, _ = press(page, RACE_SLIDER, i)
                    if ms >= 0:
                        self.still_ms.append(ms)
                    i += 1
                    self.stop_now.wait(1.0)
                browser.close()
        except Exception as exc:  # noqa: BLE001
            self.error = repr(exc)
        finally:
            self.ready.set()


# ----------------------------------------------------------------------------- one run


def quantile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


@dataclass
class Figures:
    n: int
    changes: list[float]
    by_kind: dict[str, list[float]]
    opens: list[float]
    slowest_rate: float | None
    median_rate: float | None
    rates_counted: int
    ticks: tuple[int, int]
    cpu_percent: float
    load_cpu_percent: float
    rss_before: float
    rss_peak: float
    errors: list[str]
    browser_ms: list[float]
    browser_error: str | None
    seconds: float


async def crowd(url: str, n: int, ramp: float, race_s: float, live_s: float
                ) -> tuple[list[Outcome], tuple[float, float]]:
    start = time.monotonic() + 0.5
    outcomes = [Outcome() for _ in range(n)]
    joins = [ramp * i / max(n - 1, 1) for i in range(n)]
    await asyncio.gather(*(student(i, url, start, joins[i], race_s, live_s, outcomes[i])
                           for i in range(n)))
    # every student trains between the last one's Play and the first one's Pause
    all_live = (start + joins[-1] + race_s + 4.0, start + joins[0] + race_s + live_s)
    return outcomes, all_live


def measure(url: str, pids: list[int], n: int, ramp: float, race_s: float, live_s: float,
            browser: bool) -> Figures:
    chromium = None
    if browser:
        chromium = Browser(url)
        chromium.start()
        chromium.ready.wait(180)
    sampler = Sampler(pids)
    sampler.start()
    rss_before = sum(rss_mb(p) for p in pids)
    cpu0 = sum(cpu_seconds(p) for p in pids)
    me0 = cpu_seconds(os.getpid())
    t0 = time.monotonic()
    outcomes, (live0, live1) = asyncio.run(crowd(url, n, ramp, race_s, live_s))
    seconds = time.monotonic() - t0
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    me = cpu_seconds(os.getpid()) - me0
    peak = sampler.finish()
    browser_ms, browser_error = [], None
    if chromium is not None:
        chromium.stop_now.set()
        chromium.join(60)
        browser_ms, browser_error = chromium.still_ms, chromium.error
    rates = [r for o in outcomes if (r := rate_in(o.epochs, live0, live1)) is not None]
    if live1 - live0 < 5:  # no common window (a short run): each student's whole training
        rates = [r for o in outcomes if o.epochs and
                 (r := rate_in(o.epochs, o.epochs[0][0], o.epochs[-1][0])) is not None]
    return Figures(
        n=n, changes=[s for o in outcomes for _, s in o.changes],
        by_kind={k: [s for o in outcomes for kind, s in o.changes if kind == k]
                 for k in ("lr", "click", "optimizers", "scenario", "play", "pause")},
        opens=[s for o in outcomes for s in o.opens],
        slowest_rate=min(rates) if rates else None,
        median_rate=statistics.median(rates) if rates else None, rates_counted=len(rates),
        ticks=(sum(o.ticks_answered for o in outcomes), sum(o.ticks_sent for o in outcomes)),
        cpu_percent=100 * cpu / seconds, load_cpu_percent=100 * me / seconds,
        rss_before=rss_before, rss_peak=peak,
        errors=[e for o in outcomes for e in o.errors],
        browser_ms=browser_ms, browser_error=browser_error, seconds=seconds)


def warm_up(url: str) -> None:
    """One student visits both pages first: imports, caches and plotly.js are ready."""
    async def visit() -> None:
        s = Session(url, "race")
        await s.open(timeout=180)
        await s.goto("network", timeout=180)
        await s.close()
    asyncio.run(visit())
    time.sleep(1.0)


# ----------------------------------------------------------------------------- idle tabs


def idle_memory(n: int) -> dict[str, float]:
    """RSS per idle session, and after the sessions are closed and expired."""
    port = free_port()
    app = start_streamlit(ROOT / "app.py", port, cwd=ROOT,
                          options=("--server.disconnectedSessionTTL", str(IDLE_TTL)))
    url = f"http://127.0.0.1:{port}"
    try:
        warm_up(url)
        time.sleep(IDLE_TTL + 2)
        asyncio.run(_touch(url))  # expires the warm-up session
        time.sleep(1)
        before = rss_mb(app.pid)

        async def open_idle() -> list[Session]:
            sessions = []
            for _ in range(n):
                s = Session(url, "race")
                await s.open(timeout=120)
                await s.goto("network", timeout=120)
                sessions.append(s)
            return sessions

        async def run() -> tuple[float, float]:
            sessions = await open_idle()
            await asyncio.sleep(3)
            opened = rss_mb(app.pid)
            for s in sessions:
                await s.close()
            await asyncio.sleep(IDLE_TTL + 3)
            await _touch(url)  # a new tab: Streamlit drops the expired sessions
            await asyncio.sleep(2)
            return opened, rss_mb(app.pid)

        opened, closed = asyncio.run(run())
    finally:
        stop(app)
    return {"before": before, "opened": opened, "closed": closed, "n": n}


async def _touch(url: str) -> None:
    s = Session(url, "")
    await s.open(timeout=120)
    await s.close()


# ----------------------------------------------------------------------------- report


def print_table(rows: list[Figures], where: str) -> None:
    print(f"\n{where}")
    head = (f"{'N':>3} {'changes':>7} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'open p95':>8} "
            f"{'epochs/s slowest·median':>23} {'ticks answered':>15} {'server CPU':>10} "
            f"{'load gen CPU':>12} {'RSS before→peak MB':>19} {'errors':>6} "
            f"{'Chromium p50·p95 ms':>20}")
    print(head)
    for f in rows:
        rate = ("—" if f.slowest_rate is None
                else f"{f.slowest_rate:5.1f} · {f.median_rate:5.1f} ({f.rates_counted})")
        chromium = ("—" if not f.browser_ms else
                    f"{quantile(f.browser_ms, .5):.0f} · {quantile(f.browser_ms, .95):.0f} "
                    f"({len(f.browser_ms)})")
        print(f"{f.n:>3} {len(f.changes):>7} {quantile(f.changes, .5):>6.2f} "
              f"{quantile(f.changes, .95):>6.2f} {max(f.changes, default=float('nan')):>6.2f} "
              f"{quantile(f.opens, .95):>8.2f} {rate:>23} "
              f"{f.ticks[0]:>7}/{f.ticks[1]:<7} {f.cpu_percent:>9.0f}% "
              f"{f.load_cpu_percent:>11.0f}% {f.rss_before:>8.0f} → {f.rss_peak:<7.0f} "
              f"{len(f.errors):>6} {chromium:>20}")
    print("per kind of change, p50 / p95 s (count):")
    for f in rows:
        print(f"  N={f.n:<3} " + "  ".join(
            f"{k} {quantile(v, .5):.2f}/{quantile(v, .95):.2f} ({len(v)})"
            for k, v in f.by_kind.items() if v))
    for f in rows:
        for e in f.errors[:5]:
            print(f"  N={f.n} error: {e}")
        if f.browser_error:
            print(f"  N={f.n} Chromium: {f.browser_error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,10,30,60",
                        help="comma-separated class sizes, one run each")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which they join")
    parser.add_argument("--race", type=float, default=20.0, help="seconds on the race page")
    parser.add_argument("--live", type=float, default=40.0, help="seconds of live training")
    parser.add_argument("--no-browser", action="store_true", help="no real Chromium")
    parser.add_argument("--idle", type=int, default=30,
                        help="idle tabs for the memory measure (0: skip it)")
    parser.add_argument("--url", help="an app already running (e.g. behind a proxy); "
                                      "then --pids names its server processes")
    parser.add_argument("--pids", default="", help="comma-separated server process ids")
    args = parser.parse_args()
    sizes = [min(int(n), MAX_STUDENTS) for n in args.students.split(",") if n.strip()]

    print(f"{os.cpu_count()} cores; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    for n in sizes:
        if args.url:
            pids = [int(p) for p in args.pids.split(",") if p.strip()]
            warm_up(args.url)
            rows.append(measure(args.url, pids, n, args.ramp, args.race, args.live,
                                not args.no_browser))
            continue
        port = free_port()
        app = start_streamlit(ROOT / "app.py", port, cwd=ROOT)
        try:
            url = f"http://127.0.0.1:{port}"
            warm_up(url)
            rows.append(measure(url, [app.pid], n, args.ramp, args.race, args.live,
                                not args.no_browser))
        finally:
            stop(app)
        print(f"  N={n} done in {rows[-1].seconds:.0f} s")
    print_table(rows, f"one app at {args.url}" if args.url else "one server process")

    if args.idle and not args.url:
        m = idle_memory(min(args.idle, MAX_STUDENTS))
        per = (m["opened"] - m["before"]) / m["n"]
        back = (m["opened"] - m["closed"]) / max(m["opened"] - m["before"], 1e-9)
        print(f"\nidle tabs (race, then the network page): {m['n']} of them "
              f"{m['before']:.0f} → {m['opened']:.0f} MB RSS = {per:.1f} MB per session; "
              f"{IDLE_TTL + 5} s after the tabs closed: {m['closed']:.0f} MB "
              f"({100 * back:.0f} % of their memory returned)")
    print(f"(measured {time.strftime('%Y-%m-%d %H:%M')}; load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
